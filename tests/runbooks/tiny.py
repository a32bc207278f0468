"""A tiny runbook the engine tests drive in-process (``run_tiny``) or as a process (``python -m``).

``tiny-run JOB_ID`` checks the job exists, then triggers it exactly once per key and waits for the run,
recording its URL and every task's exit value. With ``TINY_HOLD_BEFORE_TRIGGER`` set, the trigger prints
``holding <token>`` and waits for a line on stdin before sending run-now: the moment between the journal
write and the request, where the crash tests kill the process.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Any

from invoke.collection import Collection

from brickbook import __version__
from brickbook.api import jobs
from brickbook.change import Unknown
from brickbook.cli import BrickbookProgram
from brickbook.errors import UsageError
from brickbook.ops.runs import summarize, task_outputs, wait_for_run
from brickbook.runbook import Runbook, runbook

if TYPE_CHECKING:
    from tests.conftest import CliResult

HOLD_ENV = "TINY_HOLD_BEFORE_TRIGGER"


def _hold(token: str) -> None:
    if os.environ.get(HOLD_ENV):
        print(f"holding {token}", flush=True)
        sys.stdin.readline()


def _check(*, job_id: str) -> dict[str, Any]:
    if not job_id.isdigit():
        raise UsageError(f"JOB_ID must be a number, not {job_id!r}")
    return {"job_id": job_id}


@runbook(name="tiny-run", help={"job_id": "The job to run once per key."}, check=_check)
def tiny_run(rb: Runbook, *, job_id: str) -> None:
    """Run a job exactly once per key and wait for it."""
    client = rb.ctx.client
    with rb.step(f"job {job_id} exists") as step:
        if step.todo:
            step.done(jobs.get(client, int(job_id)).name)
    with rb.step(f"job {job_id} has run once for this key") as step:
        if step.todo:

            def trigger(token: str) -> int:
                _hold(token)
                return jobs.run_now(client, int(job_id), idempotency_token=token)

            run_id = step.once("run", trigger=trigger, cancel=lambda run: jobs.cancel_run(client, int(run)))
            if isinstance(run_id, Unknown):
                step.done(None)
                return
            step.run(run_id)
            run = wait_for_run(rb.ctx, int(run_id), timeout=None)
            step.run(run_id, url=run.run_page_url)
            for output in task_outputs(rb.ctx, run):
                step.output(str(output["task_key"]), output.get("result"))
            step.done(summarize(run))


namespace = Collection()
namespace.add_task(tiny_run)


def run_tiny(*args: str) -> CliResult:
    """Run ``tiny ARGS`` in-process, as the console script would, capturing exit code and output."""
    from tests.conftest import run_cli

    return run_cli(*args, namespace=namespace, binary="tiny")


def main() -> None:
    """Run as a process for the crash tests: waits poll every 10 ms instead of backing off to 30 s."""
    # The process under test waits for a real notebook run in the emulator; a short real pause keeps it
    # from spinning on a shared machine (the test itself never sleeps).
    runtime = {"sleep": lambda _seconds: time.sleep(0.01)}
    program = BrickbookProgram(
        name="tiny", binary="tiny", version=__version__, namespace=namespace, runtime=runtime
    )
    program.run()


if __name__ == "__main__":
    main()
