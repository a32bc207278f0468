"""``brickbook demo``: the deploy-notebook-job runbook end to end against a throwaway local workspace.

No account and no network: the emulator starts in this process on a free loopback port with a
temporary data directory, and the runbook deploys the example notebook shipped in
``runbooks/examples/daily_sales.py`` (widgets, a table of orders built and aggregated with
``spark.sql``, a JSON exit value), runs it on a cluster that it finds stopped and stops again, and
prints its report. Then it shows what users adopt brickbook for: the same invocation key again does
nothing twice, and a new key finds the notebook and the job unchanged and runs the job once more.
Last, ``sql.execute`` reads the notebook's table through a (serverless) SQL warehouse and prints it
as a table on stderr, beside the narration. Everything is removed at the end.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brickbook.command import command
from brickbook.errors import RunFailed, UsageError

if TYPE_CHECKING:
    from brickbook.command import Invocation

__all__ = ["NOTEBOOK", "demo"]

NOTEBOOK = Path(__file__).parent / "examples" / "daily_sales.py"
DEST = "/Shared/demo/daily_sales"
JOB = "demo-daily-sales"
DAY = "2026-11-30"
QUERY = (
    "SELECT region, count(*) AS orders, round(sum(amount), 2) AS revenue "
    "FROM main.default.demo_orders GROUP BY region ORDER BY revenue DESC"
)


@contextlib.contextmanager
def _workspace(folder: Path) -> Iterator[tuple[str, str]]:
    """Run an emulator on a free loopback port; yield its URL and admin token."""
    from brickbook.emulator.server import start_in_thread
    from brickbook.emulator.settings import EmulatorSettings
    from brickbook.redaction import register_secret

    token = f"demo-{secrets.token_hex(16)}"
    register_secret(token)
    running = start_in_thread(
        EmulatorSettings(
            host="127.0.0.1", port=0, admin_token=token, data_dir=folder, cluster_start_seconds=1
        )
    )
    try:
        yield running.url, token
    finally:
        running.stop()


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Point configuration at the demo workspace for the runbook invocations, then restore it."""
    names = [n for n in os.environ if n.startswith(("DATABRICKS_", "BRICKBOOK_"))]
    saved = {n: os.environ.pop(n) for n in names}
    os.environ.update(values)
    try:
        yield
    finally:
        for name in values:
            os.environ.pop(name, None)
        os.environ.update(saved)


def _stopped_cluster(url: str, token: str) -> str:
    """Create the demo's cluster and stop it, so that the run has to start it (and the runbook stop it)."""
    from brickbook.api import clusters
    from brickbook.client import Client
    from brickbook.config import Config

    with contextlib.closing(Client(Config(host=url, auth_type="pat", token=token))) as client:
        spec = {"cluster_name": "demo", "spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge"}
        cluster_id = clusters.create(client, {**spec, "num_workers": 1, "autotermination_minutes": 30})
        clusters.delete(client, cluster_id)
    return cluster_id


def _warehouse(url: str, token: str) -> str:
    """Create the demo's SQL warehouse: serverless, so that it starts on demand in no time."""
    from brickbook.api import sql
    from brickbook.client import Client
    from brickbook.config import Config

    with contextlib.closing(Client(Config(host=url, auth_type="pat", token=token))) as client:
        spec = {"name": "demo", "cluster_size": "2X-Small", "enable_serverless_compute": True}
        return sql.create_warehouse(client, {**spec, "warehouse_type": "PRO", "auto_stop_mins": 10})


def _query(inv: Invocation, warehouse_id: str) -> int:
    """Run sql.execute over the notebook's table in this process, its rows on stderr; return its exit code."""
    from invoke.exceptions import Exit

    from brickbook.tasks.sql import execute

    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries the reports (and -o json) only
            execute(inv.ctx, statement=QUERY, warehouse_id=warehouse_id, output="table")
    except Exit as stop:
        if stop.message:
            sys.stderr.write(f"{stop.message}\n")
        return stop.code
    return 0


def _say(text: str) -> None:
    sys.stderr.write(f"\n== {text}\n")
    sys.stderr.flush()


def _runbook(inv: Invocation, **options: Any) -> int:
    """Run the deploy-notebook-job task in this process with the demo's options; return its exit code."""
    from invoke.exceptions import Exit

    from runbooks.deploy_notebook_job import deploy_notebook_job

    try:
        deploy_notebook_job(inv.ctx, output=inv.output, **options)
    except Exit as stop:  # the task's failure: its error line, then its exit code
        if stop.message:
            sys.stderr.write(f"{stop.message}\n")
        return stop.code
    return 0


@command(help={}, name="demo")
def demo(inv: Invocation) -> dict[str, Any]:
    """Run the deploy-notebook-job runbook against a throwaway local workspace (no account needed)."""
    if importlib.util.find_spec("starlette") is None or importlib.util.find_spec("uvicorn") is None:
        raise UsageError("the demo runs the local workspace emulator: pip install 'brickbook[emulator]'")
    with tempfile.TemporaryDirectory(prefix="brickbook-demo-") as scratch:
        root = Path(scratch)
        with _workspace(root / "workspace") as (url, token):
            _say(f"a local workspace is listening on {url} (data in a temporary folder)")
            cluster_id = _stopped_cluster(url, token)
            common: dict[str, Any] = {
                "source": str(NOTEBOOK),
                "dest": DEST,
                "job_name": JOB,
                "cluster_id": cluster_id,
                "param": [f"day={DAY}"],
                "state_dir": str(root / "state"),
            }
            settings = {"DATABRICKS_HOST": url, "DATABRICKS_TOKEN": token}
            with _environment(settings):
                _say("1. deploy the notebook, make sure its job exists, run it once, put the cluster back")
                first = _runbook(inv, **common, key="demo-1")
                _say("2. the same key again (cron fired twice, or a crash): nothing is done twice")
                again = _runbook(inv, **common, key="demo-1")
                _say("3. a new key: the notebook and the job are unchanged; the job runs once more")
                second = _runbook(inv, **common, key="demo-2")
                _say("4. the notebook's table, read through a SQL warehouse: brickbook sql.execute")
                query = _query(inv, _warehouse(url, token))
    codes = {"first run": first, "same key again": again, "new key": second, "sql.execute": query}
    failed = {what: code for what, code in codes.items() if code != 0}
    if failed:
        raise RunFailed(f"the demo's runbook failed: {failed}")
    _say("done: the workspace and its data were removed")
    return {"demo": "passed", **codes}
