"""The cluster janitor's plan: which running clusters to terminate because they ran or idled too long.

Re-exported by ``brickbook.ops.clusters``. Candidates are all-purpose clusters (``cluster_source`` UI or
API; a job's or a pipeline's cluster belongs to its run) that are RUNNING or RESIZING, whose tags
(``default_tags`` overlaid with ``custom_tags``) hold every ``tags`` pair asked for, and whose name
matches ``name_pattern`` (a shell-style glob such as ``etl-*``, case-sensitive). Each candidate gets one
``Change`` whose payload is its cluster id:

- tagged ``keep_tag`` (any value): unchanged, "tagged keep";
- running longer than ``max_running`` (now minus ``start_time``): delete, "running 4h12m > 3h";
- idle longer than ``max_idle``: delete, "idle 2h > 1h";
- otherwise unchanged, with how long it has run and idled.

Delete is what the Clusters API calls terminating (``clusters/delete`` keeps the configuration). Idle
time counts from the latest of ``last_activity_time`` (the last command; the service does not always
send it), ``last_restarted_time``, ``last_state_loss_time`` and ``start_time``: a cluster that was
restarted, or never ran a command, has been idle since it came up.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from brickbook.api import clusters
from brickbook.api.clusters import ClusterDetails, ClusterSource, State
from brickbook.change import Action, Change
from brickbook.errors import ResourceDoesNotExist

if TYPE_CHECKING:
    from brickbook.context import Context

__all__ = ["ALL_PURPOSE", "CANDIDATE_STATES", "apply_janitor", "format_span", "plan_janitor"]

CANDIDATE_STATES = (State.RUNNING, State.RESIZING)
ALL_PURPOSE = frozenset({ClusterSource.UI, ClusterSource.API})


def format_span(seconds: float) -> str:
    """Return a duration as people write it: ``4h12m``, ``3h``, ``45m``, ``1m30s``, ``20s``."""
    whole = max(0, int(seconds))
    if whole >= 3600:
        hours, minutes = divmod(whole // 60, 60)
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    if whole >= 60:
        minutes, rest = divmod(whole, 60)
        return f"{minutes}m{rest:02d}s" if rest else f"{minutes}m"
    return f"{whole}s"


def _idle_since(info: ClusterDetails) -> int | None:
    stamps = [
        info.last_activity_time,
        info.last_restarted_time,
        info.last_state_loss_time,
        info.start_time,
    ]
    known = [int(stamp) for stamp in stamps if isinstance(stamp, int) and stamp > 0]
    return max(known, default=None)


def _matches(info: ClusterDetails, tags: Mapping[str, str], name_pattern: str | None) -> bool:
    if info.state not in CANDIDATE_STATES or info.cluster_source not in ALL_PURPOSE:
        return False
    found = info.tags
    if any(found.get(key) != value for key, value in tags.items()):
        return False
    return name_pattern is None or fnmatch.fnmatchcase(info.cluster_name or "", name_pattern)


def _judge(
    info: ClusterDetails,
    *,
    max_running: float | None,
    max_idle: float | None,
    keep_tag: str,
    now: float,
) -> Change:
    target = f"cluster {info.cluster_name or ''!r} ({info.cluster_id})"
    if keep_tag in info.tags:
        return Change(Action.UNCHANGED, target, reason=f"tagged {keep_tag}", payload=info.cluster_id)
    running = now - info.start_time / 1000 if info.start_time else None
    since = _idle_since(info)
    idle = now - since / 1000 if since is not None else None
    if max_running is not None and running is not None and running > max_running:
        reason = f"running {format_span(running)} > {format_span(max_running)}"
        return Change(Action.DELETE, target, reason=reason, payload=info.cluster_id)
    if max_idle is not None and idle is not None and idle > max_idle:
        reason = f"idle {format_span(idle)} > {format_span(max_idle)}"
        return Change(Action.DELETE, target, reason=reason, payload=info.cluster_id)
    seen = [f"{label} {format_span(span)}" for label, span in (("running", running), ("idle", idle)) if span]
    return Change(
        Action.UNCHANGED,
        target,
        reason=f"within limits ({', '.join(seen) or 'no times known'})",
        payload=info.cluster_id,
    )


def plan_janitor(
    ctx: Context,
    *,
    max_running: float | None,
    max_idle: float | None,
    tags: Mapping[str, str],
    name_pattern: str | None,
    keep_tag: str,
    now: float,
) -> list[Change]:
    """Plan terminating the matching clusters that ran or idled too long; one Change per match.

    ``max_running`` and ``max_idle`` are seconds (at least one must be given); ``now`` is epoch seconds,
    ``ctx.wall()`` in a runbook. Reads only (``clusters/list`` of RUNNING and RESIZING clusters).
    """
    if max_running is None and max_idle is None:
        raise ValueError("plan_janitor needs max_running, max_idle or both")
    found = clusters.list_(ctx.client, states=[s.value for s in CANDIDATE_STATES])
    changes = [
        _judge(info, max_running=max_running, max_idle=max_idle, keep_tag=keep_tag, now=now)
        for info in found
        if _matches(info, tags, name_pattern)
    ]
    return sorted(changes, key=lambda change: change.target)


def apply_janitor(ctx: Context, changes: Iterable[Change]) -> list[Change]:
    """Terminate the clusters the plan deletes; return what was done, one Change per planned one.

    Each cluster is read again first: one that is already terminating or terminated, or gone, is
    reported unchanged instead of terminated.
    """
    done: list[Change] = []
    for change in changes:
        if change.action is not Action.DELETE:
            done.append(change)
            continue
        cluster_id = str(change.payload)
        try:
            state = clusters.get(ctx.client, cluster_id).state
            if state in (State.TERMINATING, State.TERMINATED):
                reason = f"already {state.value.lower()}"
                done.append(Change(Action.UNCHANGED, change.target, reason=reason, payload=cluster_id))
                continue
            clusters.delete(ctx.client, cluster_id)
        except ResourceDoesNotExist:
            done.append(Change(Action.UNCHANGED, change.target, reason="gone", payload=cluster_id))
            continue
        ctx.log.info("cluster.terminated_by_janitor", cluster_id=cluster_id, reason=change.reason)
        done.append(change)
    return done
