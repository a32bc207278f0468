"""Cluster libraries as desired state: plan and apply installing or uninstalling, and wait for installs.

``plan_installed`` reads the cluster's library statuses and says, per library, ``create`` (the cluster
lacks it, or it is marked for removal) or ``unchanged``; ``apply_installed`` sends one install for the
ones to create. ``wait_installed`` polls ``cluster-status`` through the shared waiter until every
library asked for is INSTALLED; a FAILED one ends the wait with ``RunFailed`` (exit 7) naming the
library and the installer's message. A terminated cluster installs its libraries when it starts, so a
wait on one lasts until then (or its timeout). ``plan_uninstalled`` / ``apply_uninstalled`` mark
libraries for removal at the next restart (the API removes nothing sooner).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from brickbook.api import libraries as api
from brickbook.change import Action, Change
from brickbook.errors import UsageError
from brickbook.waiting import Observation, wait_for

if TYPE_CHECKING:
    from brickbook.context import Context

__all__ = [
    "apply_installed",
    "apply_uninstalled",
    "describe",
    "ensure_installed",
    "ensure_uninstalled",
    "libraries_from",
    "plan_installed",
    "plan_uninstalled",
    "wait_installed",
]

MAX_CHARS = 4096
MAX_LIBRARIES = 100  # the most one request may carry
_REMOVING = "UNINSTALL_ON_RESTART"
_READY = frozenset({"INSTALLED", "SKIPPED", "RESTORED"})


def _checked(value: str, what: str) -> str:
    if not value.strip() or not value.isprintable() or len(value) > MAX_CHARS:
        shown = repr(value) if len(value) <= 60 else repr(value[:57]) + "…"
        raise UsageError(f"{what} must be 1 to {MAX_CHARS} printable characters, not {shown}")
    return value


def libraries_from(
    *, whl: Sequence[str] = (), requirements: Sequence[str] = (), pypi: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The library objects for wheel URIs, requirements-file URIs and PyPI requirement strings."""
    found: list[dict[str, Any]] = [{"whl": _checked(uri, "a wheel URI")} for uri in whl]
    found += [{"requirements": _checked(uri, "a requirements file URI")} for uri in requirements]
    found += [{"pypi": {"package": _checked(spec, "a PyPI package")}} for spec in pypi]
    if not found:
        raise UsageError("no library given").with_hint("name a wheel, a requirements file or a PyPI package")
    if len(found) > MAX_LIBRARIES:
        raise UsageError(f"at most {MAX_LIBRARIES} libraries at a time, not {len(found)}")
    return found


def describe(library: Mapping[str, Any]) -> str:
    """``whl dbfs:/x.whl``, ``pypi simplejson==3.19``, ``maven org.x:y:1``: one library in a few words."""
    for kind, body in library.items():
        if isinstance(body, Mapping):
            name = body.get("package") or body.get("coordinates") or json.dumps(dict(body), sort_keys=True)
            return f"{kind} {name}"
        return f"{kind} {body}"
    return "library {}"


def _key(library: Mapping[str, Any]) -> str:
    return json.dumps(library, sort_keys=True)


def _statuses(ctx: Context, cluster_id: str) -> dict[str, dict[str, Any]]:
    return {_key(s.get("library") or {}): s for s in api.cluster_status(ctx.client, cluster_id)}


def _target(cluster_id: str, library: Mapping[str, Any]) -> str:
    return f"{describe(library)} on cluster {cluster_id}"


def _plan(
    ctx: Context,
    cluster_id: str,
    libraries: Sequence[Mapping[str, Any]],
    by_status: Mapping[str | None, tuple[Action, str]],
    otherwise: Callable[[str], tuple[Action, str]],
) -> list[Change]:
    """One change per library, decided by its status on the cluster (None: not there)."""
    present = _statuses(ctx, cluster_id)
    changes = []
    for library in libraries:
        status = (present.get(_key(library)) or {}).get("status")
        action, reason = by_status[status] if status in by_status else otherwise(str(status))
        changes.append(Change(action, _target(cluster_id, library), reason=reason, payload=library))
    return changes


def _apply(ctx: Context, cluster_id: str, changes: Sequence[Change], *, uninstall: bool) -> None:
    """Send the libraries the plan changes, in one request."""
    wanted = [change.payload for change in changes if change.changed]
    if wanted:
        (api.uninstall if uninstall else api.install)(ctx.client, cluster_id, wanted)
        event = "libraries.uninstall" if uninstall else "libraries.install"
        ctx.log.info(event, cluster_id=cluster_id, libraries=[describe(x) for x in wanted])


def plan_installed(ctx: Context, cluster_id: str, libraries: Sequence[Mapping[str, Any]]) -> list[Change]:
    """Plan installing: ``create`` for each library the cluster lacks (or will drop), else ``unchanged``."""
    by_status = {
        None: (Action.CREATE, "not on the cluster"),
        _REMOVING: (Action.CREATE, "marked for removal"),
    }
    return _plan(
        ctx, cluster_id, libraries, by_status, lambda status: (Action.UNCHANGED, f"already {status}")
    )


def apply_installed(ctx: Context, cluster_id: str, changes: Sequence[Change]) -> None:
    """Install the libraries the plan creates, in one request."""
    _apply(ctx, cluster_id, changes, uninstall=False)


def wait_installed(
    ctx: Context, cluster_id: str, libraries: Sequence[Mapping[str, Any]], *, timeout: float | None
) -> list[dict[str, Any]]:
    """Wait until every library is INSTALLED; a FAILED one raises ``RunFailed`` with its message."""
    keys = [_key(library) for library in libraries]

    def observe() -> Observation[list[dict[str, Any]]]:
        present = _statuses(ctx, cluster_id)
        mine = [present.get(key) or {"library": json.loads(key), "status": "PENDING"} for key in keys]
        failed = [s for s in mine if s.get("status") == "FAILED"]
        if failed:
            first = failed[0]
            message = "; ".join(first.get("messages") or []) or "no message"
            failure = f"failed: {describe(first['library'])}: {message}"
            return Observation(mine, "FAILED", done=True, failure=failure)
        ready = sum(s.get("status") in _READY for s in mine)
        busy = sorted({str(s.get("status")) for s in mine if s.get("status") not in _READY})
        state = "INSTALLED" if ready == len(mine) else "/".join(busy)
        return Observation(mine, state, done=ready == len(mine), progress=f"{ready}/{len(mine)} installed")

    return wait_for(
        ctx.bind(cluster_id=cluster_id), observe, what=f"libraries on cluster {cluster_id}", timeout=timeout
    )


def ensure_installed(
    ctx: Context,
    cluster_id: str,
    libraries: Sequence[Mapping[str, Any]],
    *,
    wait: bool,
    timeout: float | None,
) -> list[Change]:
    """Plan and apply installing the libraries; with ``wait``, until all are INSTALLED."""
    changes = plan_installed(ctx, cluster_id, libraries)
    if ctx.dry_run:
        return changes
    apply_installed(ctx, cluster_id, changes)
    if wait:
        wait_installed(ctx, cluster_id, libraries, timeout=timeout)
    return changes


def plan_uninstalled(ctx: Context, cluster_id: str, libraries: Sequence[Mapping[str, Any]]) -> list[Change]:
    """Plan uninstalling: ``delete`` each library the cluster has, ``unchanged`` for the others."""
    by_status = {
        None: (Action.UNCHANGED, "not on the cluster"),
        _REMOVING: (Action.UNCHANGED, "already marked for removal"),
    }
    return _plan(
        ctx, cluster_id, libraries, by_status, lambda _: (Action.DELETE, "removed at the next restart")
    )


def apply_uninstalled(ctx: Context, cluster_id: str, changes: Sequence[Change]) -> None:
    """Mark the libraries the plan deletes for removal, in one request."""
    _apply(ctx, cluster_id, changes, uninstall=True)


def ensure_uninstalled(ctx: Context, cluster_id: str, libraries: Sequence[Mapping[str, Any]]) -> list[Change]:
    """Plan and apply uninstalling the libraries (they go when the cluster restarts)."""
    changes = plan_uninstalled(ctx, cluster_id, libraries)
    if not ctx.dry_run:
        apply_uninstalled(ctx, cluster_id, changes)
    return changes
