"""Cluster operations composed from the primitives: wait for a state, make sure a cluster runs, stop it.

Unlike the SDK's ``ensure_cluster_is_running`` (a hidden 20-minute cap) there is one explicit deadline
for the whole operation, ``None`` for none. Waiting for RUNNING fails loudly (RunFailed, exit 7) when
the cluster ends TERMINATED or ERROR instead, naming the termination reason; the deadline raises
WaitTimeout (exit 8) and leaves the cluster going. Each function returns the cluster as last seen and
what it did (``started``, ``already running``, ...), so tasks can say so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from brickbook.api import clusters
from brickbook.api.clusters import ClusterDetails, State
from brickbook.client import Client
from brickbook.errors import InvalidState, RunFailed
from brickbook.log import get_logger
from brickbook.output import ProgressLine
from brickbook.waiting import Observation, PollSettings, wait_for

__all__ = [
    "Outcome",
    "Waiting",
    "create",
    "ensure_running",
    "ensure_terminated",
    "observe",
    "restart",
    "wait_for_state",
]

STARTING = frozenset({State.PENDING, State.RESTARTING, State.RESIZING})
# How often to re-read after a start that lost a race (someone else started it meanwhile).
MAX_START_RACES = 3


@dataclass(frozen=True)
class Waiting:
    """How to wait: the deadline for the whole operation, and the injected clock, sleep and progress."""

    timeout: float | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    progress: ProgressLine | None = None
    poll: PollSettings | None = None


@dataclass(frozen=True)
class Outcome:
    """The cluster as last seen, and what the operation did about it."""

    cluster: ClusterDetails
    action: str


def observe(client: Client, cluster_id: str, target: State) -> Observation[ClusterDetails]:
    """Look at a cluster once against ``target`` (RUNNING fails on TERMINATED/ERROR, TERMINATED on ERROR)."""
    info = clusters.get(client, cluster_id)
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


def wait_for_state(
    client: Client, cluster_id: str, target: State, waiting: Waiting, *, timeout: float | None = None
) -> ClusterDetails:
    """Poll until the cluster reaches ``target``; raise RunFailed or WaitTimeout otherwise."""
    return wait_for(
        lambda: observe(client, cluster_id, target),
        what=f"cluster {cluster_id}",
        timeout=timeout if timeout is not None else waiting.timeout,
        poll=waiting.poll,
        clock=waiting.clock,
        sleep=waiting.sleep,
        progress=waiting.progress,
        context={"cluster_id": cluster_id},
    )


def ensure_running(client: Client, cluster_id: str, *, wait: bool, waiting: Waiting) -> Outcome:
    """Start the cluster unless it is running or coming up; with ``wait``, return once it is RUNNING.

    TERMINATED: start. TERMINATING: wait until TERMINATED, then start. PENDING/RESTARTING/RESIZING:
    nothing to start. A start that loses a race (INVALID_STATE) re-reads the cluster, as the SDK does.
    """
    started = waiting.clock()

    def remaining() -> float | None:
        if waiting.timeout is None:
            return None
        return max(0.0, waiting.timeout - (waiting.clock() - started))

    races = 0
    while True:
        info = clusters.get(client, cluster_id)
        state = info.state
        if state == State.RUNNING:
            return Outcome(info, "already running")
        if state in STARTING:
            action = "already starting"
            break
        if state == State.TERMINATING:
            wait_for_state(client, cluster_id, State.TERMINATED, waiting, timeout=remaining())
            continue
        if state != State.TERMINATED:
            raise RunFailed(
                f"cluster {cluster_id} is {state}: {info.state_message or 'no message'}", result=info
            )
        try:
            clusters.start(client, cluster_id)
        except InvalidState:
            races += 1
            if races > MAX_START_RACES:
                raise
            continue
        action = "started"
        break
    if not wait:
        return Outcome(clusters.get(client, cluster_id), action)
    return Outcome(wait_for_state(client, cluster_id, State.RUNNING, waiting, timeout=remaining()), action)


def ensure_terminated(client: Client, cluster_id: str, *, wait: bool, waiting: Waiting) -> Outcome:
    """Terminate the cluster (``clusters/delete``) unless it already is; with ``wait``, until TERMINATED."""
    info = clusters.get(client, cluster_id)
    if info.state == State.TERMINATED:
        return Outcome(info, "already terminated")
    action = "already terminating" if info.state == State.TERMINATING else "terminating"
    if action == "terminating":
        clusters.delete(client, cluster_id)
    if wait:
        return Outcome(wait_for_state(client, cluster_id, State.TERMINATED, waiting), "terminated")
    return Outcome(clusters.get(client, cluster_id), action)


def restart(client: Client, cluster_id: str, *, wait: bool, waiting: Waiting) -> Outcome:
    """Restart a RUNNING cluster; with ``wait``, return once it is RUNNING again.

    The service refuses a cluster in any other state with INVALID_STATE: a terminated cluster needs a
    start, which is what the hint says.
    """
    try:
        clusters.restart(client, cluster_id)
    except InvalidState as exc:
        refused = InvalidState(
            exc.message,
            http_status=exc.http_status or 400,
            error_code=exc.error_code,
            method=exc.method,
            path=exc.path,
            request_id=exc.request_id,
        )
        refused.attempts = exc.attempts
        raise refused.with_hint("only a RUNNING cluster restarts; use clusters.start to start it") from exc
    if wait:
        return Outcome(wait_for_state(client, cluster_id, State.RUNNING, waiting), "restarted")
    return Outcome(clusters.get(client, cluster_id), "restarting")


def create(client: Client, spec: Mapping[str, Any], *, wait: bool, waiting: Waiting) -> Outcome:
    """Create a cluster from a checked spec; with ``wait``, return once it is RUNNING."""
    cluster_id = clusters.create(client, spec)
    get_logger(cluster_id=cluster_id).info("cluster.created")
    if wait:
        return Outcome(wait_for_state(client, cluster_id, State.RUNNING, waiting), "created and running")
    return Outcome(clusters.get(client, cluster_id), "created")
