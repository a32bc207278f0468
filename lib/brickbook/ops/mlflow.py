"""MLflow operations: find an experiment by id or by path, and stream the runs of one."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice
from typing import Any

from brickbook.api import mlflow
from brickbook.context import Context
from brickbook.errors import UsageError

__all__ = ["MAX_RUNS", "delete_experiment", "find_experiment", "search_runs"]

MAX_RUNS = 1_000_000  # a bound on max_results; an experiment holds at most 500k runs


def find_experiment(ctx: Context, *, experiment_id: str | None, name: str | None) -> mlflow.Experiment:
    """The experiment with this id, or at this workspace path; exactly one of the two is given."""
    if bool(experiment_id) == bool(name):
        raise UsageError("name the experiment by exactly one of its id and its name")
    if experiment_id:
        return mlflow.get_experiment(ctx.client, mlflow.validate_experiment_id(experiment_id))
    assert name is not None
    return mlflow.get_experiment_by_name(ctx.client, mlflow.validate_experiment_name(name))


def search_runs(
    ctx: Context,
    *,
    experiment_id: str | None = None,
    name: str | None = None,
    filter: str | None = None,
    order_by: Sequence[str] = (),
    max_results: int | None = None,
) -> Iterator[dict[str, Any]]:
    """The experiment's runs matching ``filter``, fetched page by page, at most ``max_results``.

    Every input is checked before the first request (the experiment lookup included).
    """
    if max_results is not None and not 1 <= max_results <= MAX_RUNS:
        raise UsageError(f"max results must be between 1 and {MAX_RUNS}, not {max_results}")
    if experiment_id:
        mlflow.validate_experiment_id(experiment_id)
    if name:
        mlflow.validate_experiment_name(name)
    mlflow.validate_filter(filter)
    mlflow.validate_order_by(order_by)
    experiment = find_experiment(ctx, experiment_id=experiment_id, name=name)
    page_size = min(max_results or mlflow.MAX_RUN_PAGE, mlflow.MAX_RUN_PAGE)
    runs = mlflow.search_runs(
        ctx.client, [experiment.experiment_id], filter=filter, order_by=order_by, page_size=page_size
    )
    return islice(runs, max_results) if max_results is not None else runs


def delete_experiment(ctx: Context, *, experiment_id: str | None, name: str | None) -> mlflow.Experiment:
    """Soft-delete the experiment with this id or at this path; return it as it was found."""
    experiment = find_experiment(ctx, experiment_id=experiment_id, name=name)
    mlflow.delete_experiment(ctx.client, experiment.experiment_id)
    return experiment
