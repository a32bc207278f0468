"""Clusters tasks: list, get, start, stop/delete (terminate), permanent-delete, restart, create, catalogs.

There is no ``clusters/stop`` endpoint: ``clusters.stop`` and ``clusters.delete`` both terminate the
cluster (``POST clusters/delete``) and keep its configuration; ``clusters.permanent-delete`` removes it.
Waits have no hidden cap: ``--timeout`` sets one (exit 8); a cluster that fails to come up is exit 7.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brickbook.command import Invocation, command
from brickbook.errors import UsageError
from brickbook.output import render_table, render_text

if TYPE_CHECKING:
    from brickbook.ops.clusters import Outcome, Waiting

__all__ = [
    "create",
    "delete",
    "get",
    "list_",
    "list_node_types",
    "permanent_delete",
    "restart",
    "spark_versions",
    "start",
    "stop",
]

ID_HELP = {"cluster_id": "The cluster's id, e.g. 1126-183000-abcd1234."}
TIMEOUT_HELP = (
    "Give up waiting after this long: 90, 90s, 20m or 2h (exit 8; the cluster keeps going). "
    "Default: no limit."
)
SPEC_HELP = {
    "json": "The cluster spec as inline JSON, or @path to a JSON file (the body of clusters/create).",
    "file": "The cluster spec as a .json, .yaml or .yml file.",
}


def _waiting(inv: Invocation, timeout: str | None) -> Waiting:
    """Build the wait settings from --timeout, with the invocation's clock and sleep."""
    from brickbook.ops.clusters import Waiting
    from brickbook.output import ProgressLine
    from brickbook.waiting import PollSettings, parse_duration

    return Waiting(
        timeout=parse_duration(timeout),
        clock=inv.clock,
        sleep=inv.sleep,
        progress=ProgressLine(),
        poll=PollSettings(cap_seconds=inv.config.poll_max_seconds),
    )


def _result(outcome: Outcome) -> dict[str, Any]:
    """What start/stop/restart/create print: the cluster's id, state and what this call did."""
    info = outcome.cluster
    result: dict[str, Any] = {
        "cluster_id": info.cluster_id,
        "cluster_name": info.cluster_name,
        "action": outcome.action,
        "state": str(info.state or ""),
        "state_message": info.state_message or "",
    }
    if info.termination:
        result["termination_reason"] = info.termination
    return result


def _clusters_table(rows: list[dict[str, Any]]) -> str:
    from brickbook.api.clusters import ClusterDetails

    flat = []
    for row in rows:
        info = ClusterDetails.from_api(row)
        flat.append(
            {
                "cluster_id": info.cluster_id,
                "state": info.state,
                "cluster_name": info.cluster_name,
                "spark_version": info.spark_version,
                "node_type_id": info.node_type_id,
                "workers": info.size,
                "creator": info.creator_user_name,
            }
        )
    return render_table(flat)


def _cluster_text(raw: dict[str, Any]) -> str:
    from brickbook.api.clusters import ClusterDetails

    info = ClusterDetails.from_api(raw)
    return render_text(
        {
            "cluster_id": info.cluster_id,
            "cluster_name": info.cluster_name,
            "state": info.state,
            "state_message": info.state_message,
            "spark_version": info.spark_version,
            "node_type_id": info.node_type_id,
            "workers": info.size,
            "autotermination_minutes": info.autotermination_minutes,
            "creator_user_name": info.creator_user_name,
            "cluster_source": info.cluster_source,
            "termination_reason": info.termination,
        }
    )


@command(
    help={"state": "Only clusters in this state (repeatable): PENDING, RUNNING, TERMINATED, ..."},
    text=_clusters_table,
    name="list",
    iterable=["state"],
)
def list_(inv: Invocation, *, state: list[str] | None = None) -> list[Any]:
    """List the workspace's clusters: active, pinned, and terminated within the last 30 days."""
    from brickbook.api import clusters

    states = [s.upper() for s in state or []]
    return [c.raw for c in clusters.list_(inv.client, states=states)]


@command(help=ID_HELP, text=_cluster_text)
def get(inv: Invocation, cluster_id: str) -> Any:
    """Show one cluster: state, size, runtime, and why it terminated (-o json: everything)."""
    from brickbook.api import clusters

    return clusters.get(inv.client, cluster_id).raw


@command(
    help={
        **ID_HELP,
        "wait": "Wait until the cluster is RUNNING (default); --no-wait returns once it is starting.",
        "timeout": TIMEOUT_HELP,
    }
)
def start(inv: Invocation, cluster_id: str, *, wait: bool = True, timeout: str | None = None) -> Any:
    """Start a cluster and wait until it runs; already running is fine, a failed start is exit 7."""
    from brickbook.ops.clusters import ensure_running

    waiting = _waiting(inv, timeout)
    outcome = ensure_running(inv.client, cluster_id, wait=wait, waiting=waiting)
    inv.log.info("cluster.start", cluster_id=cluster_id, action=outcome.action)
    return _result(outcome)


def _terminate(inv: Invocation, cluster_id: str, wait: bool, timeout: str | None) -> dict[str, Any]:
    from brickbook.ops.clusters import ensure_terminated

    outcome = ensure_terminated(inv.client, cluster_id, wait=wait, waiting=_waiting(inv, timeout))
    inv.log.info("cluster.terminate", cluster_id=cluster_id, action=outcome.action)
    return _result(outcome)


TERMINATE_HELP = {
    **ID_HELP,
    "wait": "Wait until the cluster is TERMINATED (default: return once it is terminating).",
    "timeout": TIMEOUT_HELP,
}


@command(help=TERMINATE_HELP)
def stop(inv: Invocation, cluster_id: str, *, wait: bool = False, timeout: str | None = None) -> Any:
    """Stop (terminate) a cluster, keeping its configuration; already terminated is fine."""
    return _terminate(inv, cluster_id, wait, timeout)


@command(help=TERMINATE_HELP)
def delete(inv: Invocation, cluster_id: str, *, wait: bool = False, timeout: str | None = None) -> Any:
    """Terminate a cluster like clusters.stop: the API's delete keeps the config (see permanent-delete)."""
    return _terminate(inv, cluster_id, wait, timeout)


@command(help=ID_HELP)
def permanent_delete(inv: Invocation, cluster_id: str) -> Any:
    """Terminate a cluster and remove it for good: it disappears from lists and cannot be started."""
    from brickbook.api import clusters

    clusters.permanent_delete(inv.client, cluster_id)
    inv.log.info("cluster.permanently_deleted", cluster_id=cluster_id)
    return {"cluster_id": cluster_id, "action": "permanently deleted"}


@command(
    help={
        **ID_HELP,
        "wait": "Wait until the cluster is RUNNING again (default: return once it is restarting).",
        "timeout": TIMEOUT_HELP,
    }
)
def restart(inv: Invocation, cluster_id: str, *, wait: bool = False, timeout: str | None = None) -> Any:
    """Restart a RUNNING cluster (a terminated one needs clusters.start instead: exit 5)."""
    from brickbook.api import clusters
    from brickbook.errors import InvalidState
    from brickbook.ops.clusters import Outcome, wait_for_state

    waiting = _waiting(inv, timeout)
    try:
        clusters.restart(inv.client, cluster_id)
    except InvalidState as error:
        error.args = (f"{error.message}: only a RUNNING cluster restarts; use clusters.start to start it",)
        raise
    if wait:
        info = wait_for_state(inv.client, cluster_id, clusters.State.RUNNING, waiting)
    else:
        info = clusters.get(inv.client, cluster_id)
    return _result(Outcome(info, "restarted" if wait else "restarting"))


def check_cluster_spec(spec: dict[str, Any]) -> None:
    """Check the fields clusters/create needs before sending it; raise UsageError naming the field."""
    from brickbook.specs import BOOLEAN, OBJECT, STRING, Kind, integer, optional, require, require_one_of

    require(spec, "spark_version", STRING)
    if not optional(spec, "is_single_node", BOOLEAN):
        require_one_of(spec, "num_workers", "autoscale", exclusive=False)
    optional(spec, "num_workers", integer(minimum=0))
    if optional(spec, "autoscale", OBJECT) is not None:
        low = require(spec, "autoscale.min_workers", integer(minimum=0))
        require(spec, "autoscale.max_workers", integer(minimum=max(1, low)))
    for field in ("node_type_id", "driver_node_type_id", "cluster_name", "instance_pool_id", "policy_id"):
        optional(spec, field, STRING)
    minutes = Kind(
        "0 (never) or an integer from 10 to 10000",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and (v == 0 or 10 <= v <= 10000),
    )
    optional(spec, "autotermination_minutes", minutes)
    for field in ("spark_conf", "spark_env_vars", "custom_tags"):
        optional(spec, field, OBJECT)


@command(
    help={
        **SPEC_HELP,
        "wait": "Wait until the new cluster is RUNNING (default: return once it is created, PENDING).",
        "timeout": TIMEOUT_HELP,
    }
)
def create(
    inv: Invocation,
    *,
    json: str | None = None,
    file: str | None = None,
    wait: bool = False,
    timeout: str | None = None,
) -> Any:
    """Create a cluster from a JSON or YAML spec; the spec is checked before anything is sent."""
    from brickbook.api import clusters
    from brickbook.ops.clusters import Outcome, wait_for_state
    from brickbook.specs import load_spec

    spec = load_spec(json, file)
    check_cluster_spec(spec)
    if "cluster_id" in spec:
        raise UsageError("spec: cluster_id must not be set when creating a cluster (it is assigned)")
    waiting = _waiting(inv, timeout)
    cluster_id = clusters.create(inv.client, spec)
    inv.log.info("cluster.created", cluster_id=cluster_id)
    if wait:
        info = wait_for_state(inv.client, cluster_id, clusters.State.RUNNING, waiting)
        return _result(Outcome(info, "created and running"))
    return _result(Outcome(clusters.get(inv.client, cluster_id), "created"))


def _node_types_table(rows: list[dict[str, Any]]) -> str:
    flat = [
        {
            "node_type_id": r.get("node_type_id"),
            "cores": r.get("num_cores"),
            "memory_gb": round((r.get("memory_mb") or 0) / 1024, 1),
            "gpus": r.get("num_gpus"),
            "category": r.get("category"),
        }
        for r in rows
    ]
    return render_table(flat)


@command(text=_node_types_table)
def list_node_types(inv: Invocation) -> list[Any]:
    """List the node types clusters can use (node_type_id, cores, memory, GPUs)."""
    from brickbook.api import clusters

    return clusters.list_node_types(inv.client)


@command(text=lambda rows: render_table(rows, ["key", "name"]))
def spark_versions(inv: Invocation) -> list[Any]:
    """List the Databricks Runtime versions; KEY is the value a spec's spark_version takes."""
    from brickbook.api import clusters

    return clusters.spark_versions(inv.client)
