"""MLflow tracking primitives (``/api/2.0/mlflow/*``): one function per endpoint.

From the MLflow REST reference and the Databricks Experiments API: experiment ids are strings; on
Databricks an experiment name is an absolute workspace path (``/Users/<user>/<name>``); deleting is a
soft delete. ``experiments/search`` and ``runs/search`` are POSTs that only read, so they are sent as
idempotent (safe to retry), and they page with ``page_token`` in the body and ``next_page_token`` in
the answer; a missing list key is an empty page. ``experiments/list`` is deprecated: search instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from brickbook.api.model import ApiObject, OpenEnum
from brickbook.client import Client
from brickbook.errors import UsageError

__all__ = [
    "MAX_EXPERIMENT_PAGE",
    "MAX_FILTER_LENGTH",
    "MAX_RUN_PAGE",
    "Experiment",
    "LifecycleStage",
    "create_experiment",
    "delete_experiment",
    "get_experiment",
    "get_experiment_by_name",
    "search_experiments",
    "search_runs",
    "validate_experiment_id",
    "validate_experiment_name",
    "validate_filter",
    "validate_order_by",
]

BASE = "/api/2.0/mlflow"
MAX_EXPERIMENT_PAGE = 3000  # experiments/search max_results
MAX_RUN_PAGE = 1000  # a runs/search page we ask for (the service allows up to 50,000)
MAX_NAME_LENGTH = 1024
MAX_FILTER_LENGTH = 4096
MAX_ORDER_BY = 20
MAX_CLAUSE_LENGTH = 500


class LifecycleStage(OpenEnum):
    ACTIVE = "active"
    DELETED = "deleted"


@dataclass(frozen=True)
class Experiment(ApiObject):
    """An MLflow experiment."""

    experiment_id: str = ""
    name: str = ""
    lifecycle_stage: LifecycleStage | None = None
    artifact_location: str | None = None
    creation_time: int | None = None
    last_update_time: int | None = None


def validate_experiment_name(name: str) -> str:
    """Return the name, or raise UsageError unless it is an absolute workspace path."""
    if (
        not name.startswith("/")
        or name.endswith("/")
        or "//" in name
        or not name.isprintable()
        or len(name) > MAX_NAME_LENGTH
    ):
        raise UsageError(
            f"invalid experiment name {name[:MAX_NAME_LENGTH]!r}: give an absolute workspace path, "
            "e.g. /Users/me@example.com/churn"
        )
    return name


def validate_experiment_id(experiment_id: str) -> str:
    """Return the id, or raise UsageError unless it is a string of digits."""
    if not experiment_id.isdigit() or not experiment_id.isascii() or len(experiment_id) > 32:
        raise UsageError(f"invalid experiment id {experiment_id[:40]!r}: experiment ids are digits")
    return experiment_id


def validate_filter(text: str | None) -> str | None:
    """Return the filter (None for none), or raise UsageError for one the service could never take."""
    if text is not None and (len(text) > MAX_FILTER_LENGTH or not text.isprintable()):
        raise UsageError(f"the filter must be printable text of at most {MAX_FILTER_LENGTH} characters")
    return text or None


def validate_order_by(order_by: Sequence[str]) -> list[str]:
    """Return the order_by clauses, or raise UsageError: at most 20, each printable, 1-500 characters."""
    if len(order_by) > MAX_ORDER_BY:
        raise UsageError(f"give at most {MAX_ORDER_BY} order-by clauses, not {len(order_by)}")
    for clause in order_by:
        if not clause.strip() or not clause.isprintable() or len(clause) > MAX_CLAUSE_LENGTH:
            raise UsageError(f"invalid order-by clause {clause[:80]!r}: e.g. 'metrics.rmse DESC'")
    return list(order_by)


def create_experiment(client: Client, name: str, *, artifact_location: str | None = None) -> str:
    """Create an experiment and return its id: ``POST /api/2.0/mlflow/experiments/create``."""
    body: dict[str, Any] = {"name": validate_experiment_name(name)}
    if artifact_location:
        body["artifact_location"] = artifact_location
    return str(client.post(f"{BASE}/experiments/create", body)["experiment_id"])


def get_experiment(client: Client, experiment_id: str) -> Experiment:
    """Show an experiment (deleted ones too): ``GET /api/2.0/mlflow/experiments/get``."""
    answer = client.get(f"{BASE}/experiments/get", {"experiment_id": validate_experiment_id(experiment_id)})
    return Experiment.from_api(answer.get("experiment"))


def get_experiment_by_name(client: Client, name: str) -> Experiment:
    """Show an experiment by its path: ``GET /api/2.0/mlflow/experiments/get-by-name``."""
    query = {"experiment_name": validate_experiment_name(name)}
    return Experiment.from_api(client.get(f"{BASE}/experiments/get-by-name", query).get("experiment"))


def delete_experiment(client: Client, experiment_id: str) -> None:
    """Soft-delete an experiment: ``POST /api/2.0/mlflow/experiments/delete``."""
    client.post(f"{BASE}/experiments/delete", {"experiment_id": validate_experiment_id(experiment_id)})


def _search(client: Client, path: str, items_key: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    seen: set[str] = set()
    while True:
        page = client.post(path, body, idempotent=True)  # a search only reads
        yield from page.get(items_key) or []
        token = page.get("next_page_token")
        if not token or token in seen:
            return
        seen.add(token)
        body = {**body, "page_token": token}


def search_experiments(
    client: Client, *, filter: str | None = None, order_by: Sequence[str] = ()
) -> Iterator[Experiment]:
    """Yield every experiment matching ``filter``: ``POST /api/2.0/mlflow/experiments/search``, all pages."""
    body: dict[str, Any] = {"max_results": MAX_EXPERIMENT_PAGE}
    if (checked := validate_filter(filter)) is not None:
        body["filter"] = checked
    if order_by:
        body["order_by"] = validate_order_by(order_by)
    for raw in _search(client, f"{BASE}/experiments/search", "experiments", body):
        yield Experiment.from_api(raw)


def search_runs(
    client: Client,
    experiment_ids: Sequence[str],
    *,
    filter: str | None = None,
    order_by: Sequence[str] = (),
    page_size: int = MAX_RUN_PAGE,
) -> Iterator[dict[str, Any]]:
    """Yield every matching run (``{info, data}``): ``POST /api/2.0/mlflow/runs/search``, all pages."""
    body: dict[str, Any] = {
        "experiment_ids": [validate_experiment_id(i) for i in experiment_ids],
        "max_results": page_size,
    }
    if (checked := validate_filter(filter)) is not None:
        body["filter"] = checked
    if order_by:
        body["order_by"] = validate_order_by(order_by)
    yield from _search(client, f"{BASE}/runs/search", "runs", body)
