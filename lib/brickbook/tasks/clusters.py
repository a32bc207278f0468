"""Clusters tasks: list, get, start, stop/delete (terminate), permanent-delete, restart, create, exec, etc.

There is no ``clusters/stop`` endpoint: ``clusters.stop`` and ``clusters.delete`` both terminate the
cluster (``POST clusters/delete``) and keep its configuration; ``clusters.permanent-delete`` removes it.
Waits have no hidden cap: ``--timeout`` sets one (exit 8); a cluster that fails to come up is exit 7.
``clusters.exec`` runs code on a running cluster (Command Execution API 1.2, ``brickbook.ops.commands``).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from brickbook.command import Invocation, command
from brickbook.errors import UsageError
from brickbook.options import shown
from brickbook.output import render_table, render_text
from brickbook.redaction import redact

if TYPE_CHECKING:
    from brickbook.api.clusters import ClusterDetails

__all__ = [
    "create",
    "delete",
    "events",
    "exec_",
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


def _cluster_id(value: str) -> str:
    """Check a cluster id before any request: not blank, no spaces or control characters."""
    if not value.strip() or not value.isprintable() or any(c.isspace() for c in value) or len(value) > 100:
        shown = repr(value) if len(value) <= 60 else repr(value[:57]) + "…"
        raise UsageError(f"CLUSTER_ID must be a cluster id such as 1126-183000-abcd1234, not {shown}")
    return value


def _states(given: list[str] | None) -> list[str]:
    """Check --state values against the API's cluster states (a typo must not just list nothing)."""
    from brickbook.api.clusters import State

    valid = [s.value for s in State]
    states = [s.strip().upper() for s in given or []]
    for state, raw in zip(states, given or [], strict=True):
        if state not in valid:
            shown = repr(raw) if len(raw) <= 40 else repr(raw[:37]) + "…"
            raise UsageError(f"--state must be one of {', '.join(valid)}, not {shown}")
    return states


def _timeout(timeout: str | None) -> float | None:
    """Read --timeout (``brickbook.waiting.parse_duration``: blank, zero or junk is a usage error)."""
    from brickbook.waiting import parse_duration

    return parse_duration(timeout)


def _result(done: str, cluster: ClusterDetails, action: str) -> dict[str, Any]:
    """What start/stop/restart/create print: ``{done: id}``, then the state and what this call did.

    ``done`` names the command's change in the past tense (``started``, ``terminated``, ...);
    ``action`` says what this call found and did (``already running``, ``terminating``, ...).
    """
    result: dict[str, Any] = {
        done: cluster.cluster_id,
        "cluster_id": cluster.cluster_id,
        "cluster_name": cluster.cluster_name,
        "action": action,
        "state": str(cluster.state or ""),
        "state_message": cluster.state_message or "",
    }
    if cluster.termination:
        result["termination_reason"] = cluster.termination
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

    return [c.raw for c in clusters.list_(inv.client, states=_states(state))]


@command(help=ID_HELP, text=_cluster_text)
def get(inv: Invocation, cluster_id: str) -> Any:
    """Show one cluster: state, size, runtime, and why it terminated (-o json: everything)."""
    from brickbook.api import clusters

    return clusters.get(inv.client, _cluster_id(cluster_id)).raw


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

    checked = _cluster_id(cluster_id)
    seconds = _timeout(timeout)
    settled = ensure_running(inv.context, checked, wait=wait, timeout=seconds)
    action = "started" if settled.change.changed else settled.change.reason
    return _result("started", settled.cluster, action)


def _terminate(inv: Invocation, cluster_id: str, wait: bool, timeout: str | None) -> dict[str, Any]:
    from brickbook.ops.clusters import ensure_terminated

    checked = _cluster_id(cluster_id)
    seconds = _timeout(timeout)
    settled = ensure_terminated(inv.context, checked, wait=wait, timeout=seconds)
    done = "terminated" if wait else "terminating"
    action = done if settled.change.changed else settled.change.reason
    return _result("terminated", settled.cluster, action)


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

    checked = _cluster_id(cluster_id)
    clusters.permanent_delete(inv.client, checked)
    inv.log.info("cluster.permanently_deleted", cluster_id=checked)
    return {"permanently_deleted": checked, "cluster_id": checked, "action": "permanently deleted"}


@command(
    help={
        **ID_HELP,
        "wait": "Wait until the cluster is RUNNING again (default: return once it is restarting).",
        "timeout": TIMEOUT_HELP,
    }
)
def restart(inv: Invocation, cluster_id: str, *, wait: bool = False, timeout: str | None = None) -> Any:
    """Restart a RUNNING cluster (a terminated one needs clusters.start instead: exit 5)."""
    from brickbook.ops.clusters import restart as restart_cluster

    checked = _cluster_id(cluster_id)
    seconds = _timeout(timeout)
    cluster = restart_cluster(inv.context, checked, wait=wait, timeout=seconds)
    return _result("restarted", cluster, "restarted" if wait else "restarting")


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
    from brickbook.ops.clusters import create as create_cluster
    from brickbook.specs import check_cluster_spec, load_spec

    spec = load_spec(json, file)
    check_cluster_spec(spec)
    seconds = _timeout(timeout)
    cluster = create_cluster(inv.context, spec, wait=wait, timeout=seconds)
    return _result("created", cluster, "created and running" if wait else "created")


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


def _event_types(given: list[str] | None) -> list[str]:
    """Check --type values: event type names (the API adds types, so any upper-case name is taken)."""
    types = [t.strip().upper() for t in given or []]
    for kind, raw in zip(types, given or [], strict=True):
        if not kind or len(kind) > 64 or not kind.replace("_", "").isalnum() or not kind.isascii():
            raise UsageError(f"--type must be an event type such as RUNNING or TERMINATING, not {shown(raw)}")
    return types


def _limit(value: str | None) -> int | None:
    """Read --limit: a whole number from 1 to 1,000,000 (None: no limit)."""
    if value is None:
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 7 and 1 <= int(text) <= 1_000_000):
        raise UsageError(f"--limit must be between 1 and 1000000, not {shown(value)}")
    return int(text)


def _event_row(event: dict[str, Any]) -> dict[str, Any]:
    import datetime

    details = event.get("details") or {}
    reason = (details.get("reason") or {}).get("code")
    workers = details.get("target_num_workers", details.get("current_num_workers"))
    stamp = datetime.datetime.fromtimestamp(int(event.get("timestamp") or 0) / 1000, datetime.UTC)
    return {
        "time": stamp.strftime("%Y-%m-%d %H:%M:%S"),
        "type": event.get("type"),
        "user": details.get("user"),
        "workers": workers,
        "reason": reason,
    }


@command(
    help={
        **ID_HELP,
        "type": "Only events of this type (repeatable): CREATING, STARTING, RUNNING, RESTARTING, "
        "RESIZING, EDITED, TERMINATING, ...",
        "since": "Only events since: a duration back from now (90m, 2h) or a date/time (2026-11-30).",
        "limit": "Stop after this many events (default: all).",
    },
    iterable=["type"],
)
def events(
    inv: Invocation,
    cluster_id: str,
    *,
    type: list[str] | None = None,
    since: str | None = None,
    limit: str | None = None,
) -> Any:
    """List a cluster's events, newest first, every page (streamed: rows print as pages arrive)."""
    import json
    from itertools import islice

    from brickbook.api import clusters
    from brickbook.tasks.sql import since_ms, stream_table

    cid = _cluster_id(cluster_id)
    types = _event_types(type)
    most = _limit(limit)
    start_ms = since_ms(since, inv.context.wall())
    found = islice(clusters.events(inv.client, cid, event_types=types, start_time=start_ms), most)
    if inv.output == "json":
        sys.stdout.write("[")
        for index, event in enumerate(found):
            sys.stdout.write(("," if index else "") + "\n  " + redact(json.dumps(event)))
        sys.stdout.write("\n]\n")
    else:
        stream_table(_event_row(e) for e in found)
    sys.stdout.flush()
    return None


MAX_CAUSE_CHARS = 8000  # an error's traceback on stderr: its last lines, where the error is


def _exec_text(result: dict[str, Any]) -> str:
    data = result.get("data")
    if result.get("result_type") == "table" and isinstance(data, list):
        columns = [str(c) for c in result.get("columns") or []]
        return render_table([dict(zip(columns, row, strict=False)) for row in data], columns)
    return "" if data is None else str(data)


@command(
    help={
        **ID_HELP,
        "command": 'The code to run, e.g. "print(spark.version)".',
        "file": "Read the code to run from this file instead.",
        "language": "python (default) or sql; scala and r where the cluster runs them.",
        "timeout": "Give up after this long: 90, 90s, 20m or 2h (exit 8; the command is cancelled). "
        "Default: no limit.",
    },
    text=_exec_text,
    name="exec",
)
def exec_(
    inv: Invocation,
    cluster_id: str,
    *,
    command: str | None = None,
    file: str | None = None,
    language: str = "python",
    timeout: str | None = None,
) -> Any:
    """Run code on a running cluster in a fresh context and print what it shows; an error is exit 7."""
    from brickbook.errors import RunFailed
    from brickbook.ops.commands import CommandResult, check_language, read_code, run_command

    checked = _cluster_id(cluster_id)
    code, lang, seconds = read_code(command, file), check_language(language), _timeout(timeout)
    try:
        return run_command(inv.context, checked, code, language=lang, timeout=seconds).as_dict()
    except RunFailed as failed:
        if isinstance(failed.result, CommandResult) and failed.result.cause:
            cause = failed.result.cause.rstrip("\n")
            cut = len(cause) > MAX_CAUSE_CHARS
            sys.stderr.write(("…" if cut else "") + redact(cause[-MAX_CAUSE_CHARS:]) + "\n")
        raise
