"""Clusters API primitives (``/api/2.1/clusters/*``, the SDK's version): one function per endpoint.

Clusters API 2.1: create, start, restart and resize are asynchronous (the cluster is PENDING, RESTARTING or
RESIZING when the call returns); there is no ``stop``: ``delete`` terminates and keeps the config, and
``permanent_delete`` removes the cluster. ``start`` works only from TERMINATED and ``restart``/``resize``
only from RUNNING, otherwise the service answers 400 INVALID_STATE (raised as InvalidState). A missing
cluster is 400 INVALID_PARAMETER_VALUE "Cluster <id> does not exist" (raised as ResourceDoesNotExist).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from brickbook.api.model import ApiObject, OpenEnum
from brickbook.client import Client

__all__ = [
    "ClusterDetails",
    "ClusterSource",
    "State",
    "create",
    "delete",
    "edit",
    "events",
    "get",
    "list_",
    "list_node_types",
    "permanent_delete",
    "resize",
    "restart",
    "spark_versions",
    "start",
]

BASE = "/api/2.1/clusters"


class State(OpenEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    RESTARTING = "RESTARTING"
    RESIZING = "RESIZING"
    TERMINATING = "TERMINATING"
    TERMINATED = "TERMINATED"
    ERROR = "ERROR"  # documented as no longer used; failures show as TERMINATED
    UNKNOWN = "UNKNOWN"


class ClusterSource(OpenEnum):
    API = "API"
    UI = "UI"
    JOB = "JOB"
    MODELS = "MODELS"
    PIPELINE = "PIPELINE"
    PIPELINE_MAINTENANCE = "PIPELINE_MAINTENANCE"
    SQL = "SQL"


@dataclass(frozen=True)
class ClusterDetails(ApiObject):
    """A cluster as ``clusters/get`` and ``clusters/list`` describe it."""

    cluster_id: str = ""
    cluster_name: str | None = None
    state: State | None = None
    state_message: str | None = None
    spark_version: str | None = None
    node_type_id: str | None = None
    driver_node_type_id: str | None = None
    num_workers: int | None = None
    autoscale: dict[str, Any] | None = None
    autotermination_minutes: int | None = None
    creator_user_name: str | None = None
    cluster_source: ClusterSource | None = None
    start_time: int | None = None  # epoch ms, like every time below
    terminated_time: int | None = None
    last_restarted_time: int | None = None
    last_activity_time: int | None = None  # the last command that ran on it (not always sent)
    last_state_loss_time: int | None = None  # when the driver last lost its state (a restart)
    termination_reason: dict[str, Any] = field(default_factory=dict)
    custom_tags: dict[str, str] = field(default_factory=dict)
    default_tags: dict[str, str] = field(default_factory=dict)  # Vendor, Creator, ClusterName, ClusterId

    @property
    def tags(self) -> dict[str, str]:
        """Return the tags on its resources: ``default_tags`` overlaid with ``custom_tags``."""
        return {**(self.default_tags or {}), **(self.custom_tags or {})}

    @property
    def size(self) -> str:
        """Return the workers as people read them: ``2`` or ``1-4`` (autoscale)."""
        if self.autoscale:
            return f"{self.autoscale.get('min_workers')}-{self.autoscale.get('max_workers')}"
        return "" if self.num_workers is None else str(self.num_workers)

    @property
    def termination(self) -> str:
        """Return why it terminated, in one phrase (``INACTIVITY (SUCCESS): ...``), or ``""``."""
        reason = self.termination_reason or {}
        if not reason.get("code"):
            return ""
        text = str(reason["code"]) + (f" ({reason['type']})" if reason.get("type") else "")
        params = reason.get("parameters") or {}
        detail = params.get("databricks_error_message") or params.get("inactivity_duration_min")
        if detail and "inactivity_duration_min" not in params:
            text += f": {detail}"
        elif detail:
            text += f": inactive for {detail} minutes"
        return text


def create(client: Client, spec: Mapping[str, Any]) -> str:
    """Create a cluster from a spec: ``POST clusters/create``; return its id (it starts PENDING).

    Not retried on transient failures: a second copy would create a second cluster.
    """
    return str(client.post(f"{BASE}/create", dict(spec))["cluster_id"])


def edit(client: Client, cluster_id: str, spec: Mapping[str, Any]) -> None:
    """Replace a cluster's whole spec: ``POST clusters/edit`` (RUNNING restarts; TERMINATED stays so)."""
    client.post(f"{BASE}/edit", {**spec, "cluster_id": cluster_id})


def start(client: Client, cluster_id: str) -> None:
    """Start a TERMINATED cluster: ``POST clusters/start`` (any other state is InvalidState)."""
    client.post(f"{BASE}/start", {"cluster_id": cluster_id})


def restart(client: Client, cluster_id: str) -> None:
    """Restart a RUNNING cluster: ``POST clusters/restart``."""
    client.post(f"{BASE}/restart", {"cluster_id": cluster_id})


def resize(
    client: Client,
    cluster_id: str,
    *,
    num_workers: int | None = None,
    autoscale: Mapping[str, int] | None = None,
) -> None:
    """Resize a RUNNING cluster: ``POST clusters/resize`` with a worker count or autoscale bounds."""
    if (num_workers is None) == (autoscale is None):
        raise ValueError("give exactly one of num_workers or autoscale")
    body: dict[str, Any] = {"cluster_id": cluster_id}
    body.update({"num_workers": num_workers} if autoscale is None else {"autoscale": dict(autoscale)})
    client.post(f"{BASE}/resize", body)


def delete(client: Client, cluster_id: str) -> None:
    """Terminate a cluster, keeping its config: ``POST clusters/delete`` (a no-op once terminating).

    This is what "stop" means for clusters; it is idempotent and retried on transient failures.
    """
    client.post(f"{BASE}/delete", {"cluster_id": cluster_id})


def permanent_delete(client: Client, cluster_id: str) -> None:
    """Terminate and remove a cluster for good: ``POST clusters/permanent-delete``."""
    client.post(f"{BASE}/permanent-delete", {"cluster_id": cluster_id})


def get(client: Client, cluster_id: str) -> ClusterDetails:
    """Describe a cluster: ``GET clusters/get`` (works up to 60 days after termination)."""
    return ClusterDetails.from_api(client.get(f"{BASE}/get", {"cluster_id": cluster_id}))


def list_(client: Client, *, states: Iterable[str] = (), page_size: int = 100) -> Iterator[ClusterDetails]:
    """Yield every cluster, page by page: ``GET clusters/list`` (active, pinned, terminated < 30 days)."""
    query: dict[str, Any] = {"page_size": page_size}
    # A bare string is an Iterable[str] too: take it as one state, not as its letters.
    wanted = [states] if isinstance(states, str) else [str(s) for s in states]
    if wanted:
        query["filter_by"] = {"cluster_states": wanted}
    for item in client.paginate(f"{BASE}/list", items_key="clusters", query=query):
        yield ClusterDetails.from_api(item)


def events(
    client: Client,
    cluster_id: str,
    *,
    event_types: Iterable[str] = (),
    start_time: int | None = None,
    page_limit: int = 500,
) -> Iterator[dict[str, Any]]:
    """Yield a cluster's events, newest first, every page: ``POST clusters/events``.

    Each answer's ``next_page`` is the request for the next page (offset paging, at most 500 a page);
    ``start_time`` is epoch ms.
    """
    body: dict[str, Any] = {"cluster_id": cluster_id, "order": "DESC", "limit": page_limit}
    wanted = [event_types] if isinstance(event_types, str) else [str(t) for t in event_types]
    if wanted:
        body["event_types"] = wanted
    if start_time is not None:
        body["start_time"] = start_time
    while True:
        answer = client.post(f"{BASE}/events", body)
        yield from answer.get("events") or []
        following = answer.get("next_page")
        if not following or not answer.get("events"):
            return
        body = dict(following)


def list_node_types(client: Client) -> list[dict[str, Any]]:
    """List the node types clusters can use: ``GET clusters/list-node-types``."""
    return list(client.get(f"{BASE}/list-node-types").get("node_types") or [])


def spark_versions(client: Client) -> list[dict[str, Any]]:
    """List runtime versions: ``GET clusters/spark-versions`` (``key`` is what ``spark_version`` takes)."""
    return list(client.get(f"{BASE}/spark-versions").get("versions") or [])
