"""MLflow tasks: experiments (search, create, get, delete) and run search.

``mlflow.experiments`` goes through ``experiments/search`` (``experiments/list`` is deprecated).
``mlflow.search-runs`` fetches every page and prints runs as pages arrive: a JSON array with
``-o json``, tables of rows with ``-o text``. Mutations print what they did
(``{"created": NAME, "experiment_id": ID}``, ``{"deleted": NAME, "experiment_id": ID}``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from brickbook.command import Invocation, command
from brickbook.errors import UsageError
from brickbook.options import parse_id
from brickbook.output import render_table
from brickbook.redaction import redact

__all__ = ["create_experiment", "delete_experiment", "experiments", "get_experiment", "search_runs"]

_EXPERIMENT_COLUMNS = ["experiment_id", "name", "lifecycle_stage"]
_WHICH = {
    "id": "Experiment id.",
    "name": "Experiment name (its workspace path, e.g. /Users/me@example.com/churn).",
}


def _experiments_table(rows: list[dict[str, Any]]) -> str:
    return render_table(rows, _EXPERIMENT_COLUMNS)


def _one_of(experiment_id: str | None, name: str | None) -> None:
    if bool(experiment_id) == bool(name):
        raise UsageError("pass exactly one of --id and --name")


@command(
    help={"filter": "MLflow search filter, e.g. \"name LIKE '/Users/me@example.com/%'\"."},
    text=_experiments_table,
)
def experiments(inv: Invocation, *, filter: str | None = None) -> list[Any]:
    """List active experiments, every page (through experiments/search)."""
    from brickbook.api import mlflow

    return [e.raw for e in mlflow.search_experiments(inv.client, filter=filter)]


@command(help={"name": "Workspace path of the new experiment, e.g. /Users/me@example.com/churn."})
def create_experiment(inv: Invocation, name: str) -> dict[str, Any]:
    """Create an MLflow experiment at a workspace path."""
    from brickbook.api import mlflow

    return {"created": name, "experiment_id": mlflow.create_experiment(inv.client, name)}


@command(help=_WHICH)
def get_experiment(inv: Invocation, *, id: str | None = None, name: str | None = None) -> Any:
    """Show an experiment, by --id or by --name."""
    from brickbook.ops.mlflow import find_experiment

    _one_of(id, name)
    return find_experiment(inv.context, experiment_id=id, name=name).raw


@command(help=_WHICH)
def delete_experiment(inv: Invocation, *, id: str | None = None, name: str | None = None) -> dict[str, Any]:
    """Delete an experiment (a soft delete: the service can restore it), by --id or by --name."""
    from brickbook.ops.mlflow import delete_experiment as delete

    _one_of(id, name)
    experiment = delete(inv.context, experiment_id=id, name=name)
    return {"deleted": experiment.name, "experiment_id": experiment.experiment_id}


def _run_row(run: dict[str, Any]) -> dict[str, Any]:
    info = run.get("info") or {}
    return {k: info.get(k) for k in ("run_id", "run_name", "status", "start_time", "user_id")}


def _stream(runs: Iterable[dict[str, Any]], as_json: bool) -> None:
    from brickbook.tasks.sql import stream_table

    if not as_json:
        stream_table(_run_row(r) for r in runs)
        return
    sys.stdout.write("[")
    for index, run in enumerate(runs):
        sys.stdout.write(("," if index else "") + "\n  " + redact(json.dumps(run)))
        sys.stdout.flush()
    sys.stdout.write("\n]\n")


@command(
    help={
        "experiment_id": "Id of the experiment to search.",
        "experiment_name": "Name (workspace path) of the experiment to search.",
        "filter": "MLflow search filter, e.g. \"metrics.rmse < 1 and params.lr = '0.1'\".",
        "order_by": "Sort clause, e.g. 'metrics.rmse DESC' (repeatable).",
        "max_results": "Print at most this many runs (default: all).",
    },
    iterable=["order_by"],
)
def search_runs(
    inv: Invocation,
    *,
    experiment_id: str | None = None,
    experiment_name: str | None = None,
    filter: str | None = None,
    order_by: list[str] | None = None,
    max_results: str | None = None,
) -> None:
    """Search an experiment's runs, every page (streamed: rows print as pages arrive)."""
    from brickbook.ops.mlflow import search_runs as search

    if bool(experiment_id) == bool(experiment_name):
        raise UsageError("pass exactly one of --experiment-id and --experiment-name")
    limit = parse_id(max_results, "--max-results") if max_results is not None else None
    runs = search(
        inv.context,
        experiment_id=experiment_id,
        name=experiment_name,
        filter=filter,
        order_by=order_by or (),
        max_results=limit,
    )
    _stream(runs, inv.output == "json")
    sys.stdout.flush()
