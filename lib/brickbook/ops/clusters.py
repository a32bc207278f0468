"""Clusters: wait for a state, make sure a cluster runs or is terminated (plan, then apply), create, restart.

Unlike the SDK's ``ensure_cluster_is_running`` (a hidden 20-minute cap) an apply has one explicit
deadline for all of its waiting, ``None`` for none. Waiting for RUNNING fails loudly (RunFailed, exit 7)
when the cluster ends TERMINATED or ERROR instead, naming the termination reason; the deadline raises
WaitTimeout (exit 8) and leaves the cluster going.

A plan is one ``Change`` whose payload is the cluster id (Clusters API 2.1 ``get`` and ``delete``/``start``):

- ``plan_cluster_running``: RUNNING or coming up (PENDING, RESTARTING, RESIZING) is unchanged; TERMINATED
  is an update of ``state`` (start it); TERMINATING too (start it once it has terminated);
- ``plan_terminated``: TERMINATED or TERMINATING is unchanged; any other state is a delete, which is what
  the API calls terminating (``clusters/delete`` keeps the configuration; the cluster can start again).

The cluster janitor's plan (``plan_janitor`` / ``apply_janitor``) lives in ``brickbook.ops.janitor``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from brickbook.api import clusters
from brickbook.api.clusters import ClusterDetails, State
from brickbook.change import Action, Change
from brickbook.errors import InvalidState, RunFailed
from brickbook.ops.janitor import apply_janitor, plan_janitor
from brickbook.waiting import Observation, wait_for

if TYPE_CHECKING:
    from brickbook.context import Context

__all__ = [
    "STARTING",
    "Settled",
    "apply_cluster_running",
    "apply_janitor",
    "apply_terminated",
    "create",
    "ensure_running",
    "ensure_terminated",
    "get_state",
    "observe",
    "plan_cluster_running",
    "plan_janitor",
    "plan_terminated",
    "restart",
    "wait_for_state",
]

STARTING = frozenset({State.PENDING, State.RESTARTING, State.RESIZING})
# How often to re-read after a start that lost a race (someone else started it meanwhile).
MAX_START_RACES = 3


@dataclass(frozen=True)
class Settled:
    """What an ensure did (its change) and the cluster as last seen."""

    change: Change
    cluster: ClusterDetails


def _target(cluster_id: str) -> str:
    return f"cluster {cluster_id}"


def _cluster_id(change: Change) -> str:
    if not isinstance(change.payload, str):
        raise TypeError(f"not a cluster plan: {change.describe()}")
    return change.payload


def _remaining(ctx: Context, started: float, timeout: float | None) -> float | None:
    return None if timeout is None else max(0.0, timeout - (ctx.clock() - started))


def get_state(ctx: Context, cluster_id: str) -> State:
    """Return the cluster's state (``clusters/get``); UNKNOWN when the service sends none."""
    return clusters.get(ctx.client, cluster_id).state or State.UNKNOWN


def observe(ctx: Context, cluster_id: str, target: State) -> Observation[ClusterDetails]:
    """Look at a cluster once against ``target`` (RUNNING fails on TERMINATED/ERROR, TERMINATED on ERROR)."""
    info = clusters.get(ctx.client, cluster_id)
    state = info.state or State.UNKNOWN
    failures = {State.ERROR} if target == State.TERMINATED else {State.ERROR, State.TERMINATED}
    failure = None
    if state in failures:
        because = info.termination or info.state_message or "no reason given"
        failure = f"ended {state} instead of {target}: {because}"
    return Observation(
        value=info,
        state=str(state),
        done=state == target or failure is not None,
        failure=failure,
        progress=info.state_message or "",
    )


def wait_for_state(ctx: Context, cluster_id: str, target: State, *, timeout: float | None) -> ClusterDetails:
    """Poll until the cluster reaches ``target``; raise RunFailed or WaitTimeout otherwise."""
    return wait_for(
        ctx.bind(cluster_id=cluster_id),
        lambda: observe(ctx, cluster_id, target),
        what=f"cluster {cluster_id}",
        timeout=timeout,
    )


def plan_cluster_running(ctx: Context, cluster_id: str) -> Change:
    """Plan making the cluster run: unchanged when it runs or is coming up, else an update of its state.

    A cluster in a state it cannot start from (ERROR, or one the API added later) raises RunFailed.
    """
    info = clusters.get(ctx.client, cluster_id)
    state = info.state or State.UNKNOWN
    target = _target(cluster_id)
    if state == State.RUNNING:
        return Change(Action.UNCHANGED, target, reason="already running", payload=cluster_id)
    if state in STARTING:
        return Change(Action.UNCHANGED, target, reason="already starting", payload=cluster_id)
    if state == State.TERMINATED:
        return Change(Action.UPDATE, target, ("state",), "TERMINATED: start it", payload=cluster_id)
    if state == State.TERMINATING:
        reason = "TERMINATING: start it once it has terminated"
        return Change(Action.UPDATE, target, ("state",), reason, payload=cluster_id)
    raise RunFailed(f"cluster {cluster_id} is {state}: {info.state_message or 'no message'}", result=info)


def _start(ctx: Context, cluster_id: str, started: float, timeout: float | None) -> None:
    """Start the cluster once it is TERMINATED; nothing when it has come up meanwhile.

    A start that loses a race (INVALID_STATE: someone else started it) re-reads the cluster, as the SDK
    does, a few times.
    """
    races = 0
    while True:
        state = get_state(ctx, cluster_id)
        if state == State.TERMINATING:
            wait_for_state(ctx, cluster_id, State.TERMINATED, timeout=_remaining(ctx, started, timeout))
            continue
        if state != State.TERMINATED:
            return
        try:
            clusters.start(ctx.client, cluster_id)
        except InvalidState:
            races += 1
            if races > MAX_START_RACES:
                raise
            continue
        ctx.log.info("cluster.started", cluster_id=cluster_id)
        return


def apply_cluster_running(ctx: Context, change: Change, *, wait: bool, timeout: float | None) -> None:
    """Start the cluster if the plan says so; with ``wait``, return once it is RUNNING.

    ``timeout`` bounds all the waiting (for a TERMINATING cluster to end, then for RUNNING).
    """
    cluster_id = _cluster_id(change)
    started = ctx.clock()
    if change.changed:
        _start(ctx, cluster_id, started, timeout)
    if wait:
        wait_for_state(ctx, cluster_id, State.RUNNING, timeout=_remaining(ctx, started, timeout))


def ensure_running(ctx: Context, cluster_id: str, *, wait: bool, timeout: float | None) -> Settled:
    """Plan and apply making the cluster run; return the change and the cluster as it is now."""
    change = plan_cluster_running(ctx, cluster_id)
    apply_cluster_running(ctx, change, wait=wait, timeout=timeout)
    return Settled(change, clusters.get(ctx.client, cluster_id))


def plan_terminated(ctx: Context, cluster_id: str) -> Change:
    """Plan terminating the cluster: unchanged when it is TERMINATED or TERMINATING, else a delete."""
    state = get_state(ctx, cluster_id)
    target = _target(cluster_id)
    if state in (State.TERMINATED, State.TERMINATING):
        return Change(Action.UNCHANGED, target, reason=f"already {state.value.lower()}", payload=cluster_id)
    return Change(Action.DELETE, target, reason=f"{state}: terminate it", payload=cluster_id)


def apply_terminated(ctx: Context, change: Change, *, wait: bool, timeout: float | None) -> None:
    """Terminate the cluster if the plan says so (``clusters/delete``); with ``wait``, until TERMINATED."""
    cluster_id = _cluster_id(change)
    if change.changed:
        clusters.delete(ctx.client, cluster_id)
        ctx.log.info("cluster.terminating", cluster_id=cluster_id)
    if wait:
        wait_for_state(ctx, cluster_id, State.TERMINATED, timeout=timeout)


def ensure_terminated(ctx: Context, cluster_id: str, *, wait: bool, timeout: float | None) -> Settled:
    """Plan and apply terminating the cluster; return the change and the cluster as it is now."""
    change = plan_terminated(ctx, cluster_id)
    apply_terminated(ctx, change, wait=wait, timeout=timeout)
    return Settled(change, clusters.get(ctx.client, cluster_id))


def restart(ctx: Context, cluster_id: str, *, wait: bool, timeout: float | None) -> ClusterDetails:
    """Restart a RUNNING cluster; with ``wait``, return once it is RUNNING again.

    The service refuses a cluster in any other state with INVALID_STATE: a terminated cluster needs a
    start, which is what the error's hint says.
    """
    try:
        clusters.restart(ctx.client, cluster_id)
    except InvalidState as refused:
        refused.with_hint("only a RUNNING cluster restarts; use clusters.start to start it")
        raise
    ctx.log.info("cluster.restarting", cluster_id=cluster_id)
    if wait:
        return wait_for_state(ctx, cluster_id, State.RUNNING, timeout=timeout)
    return clusters.get(ctx.client, cluster_id)


def create(ctx: Context, spec: Mapping[str, Any], *, wait: bool, timeout: float | None) -> ClusterDetails:
    """Create a cluster from a checked spec (``clusters/create``); with ``wait``, return it RUNNING."""
    cluster_id = clusters.create(ctx.client, spec)
    ctx.log.info("cluster.created", cluster_id=cluster_id)
    if wait:
        return wait_for_state(ctx, cluster_id, State.RUNNING, timeout=timeout)
    return clusters.get(ctx.client, cluster_id)
