"""Lifecycles on the emulator clock: states that move on by themselves, with no background thread.

A record (a plain dict in the store) keeps ``state``, ``since`` (the clock time it entered that
state) and ``last_activity``. A ``Lifecycle`` says which states are steps (each lasts
``step_seconds``, then moves to its next state) and which state stops when idle (a RUNNING cluster
or warehouse with an idle limit and no activity for that long). Every read applies, in order, each
transition due by the clock's now, at the clock time it was due, so a record read an hour late
has the same history as one polled every second. Areas react to transitions through hooks:
``next_state`` may redirect a step (a start that fails), ``on_transition`` updates the record's own
fields (messages, timestamps, sizes).

Used by state/clusters.py (PENDING/RESTARTING/RESIZING -> RUNNING, TERMINATING -> TERMINATED, idle
RUNNING -> TERMINATING) and state/warehouses.py (STARTING -> RUNNING, STOPPING -> STOPPED, idle
RUNNING -> STOPPING).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Lifecycle", "Transition"]

Record = dict[str, Any]


@dataclass(frozen=True)
class Transition:
    """One state change: from ``source`` to ``target`` at clock time ``at``, for ``cause``."""

    source: str
    target: str
    at: float
    cause: str  # "step": a timed step ended; "idle": the idle limit passed


def _never_idle(record: Record) -> float:
    return 0.0


def _same(record: Record, transition: Transition) -> str:
    return transition.target


def _nothing(record: Record, transition: Transition) -> None:
    return None


@dataclass(frozen=True)
class Lifecycle:
    """Timed steps plus an idle stop, applied lazily to a record by ``advance``."""

    steps: Mapping[str, str]  # state -> the state it moves to once it has lasted step_seconds
    step_seconds: float
    idle_state: str | None = None  # the state that stops when idle (RUNNING)
    idle_target: str | None = None  # what it becomes then (TERMINATING, STOPPING)
    idle_seconds: Callable[[Record], float] = _never_idle  # the idle limit of a record; 0 = never
    next_state: Callable[[Record, Transition], str] = _same  # hook: redirect a due transition
    on_transition: Callable[[Record, Transition], None] = _nothing  # hook: after entering a state

    def enter(self, record: Record, state: str, at: float) -> None:
        """Put the record in ``state`` from ``at`` (entering the idle state counts as activity)."""
        record["state"] = state
        record["since"] = at
        if state == self.idle_state:
            record["last_activity"] = at

    def touch(self, record: Record, at: float) -> None:
        """Record activity at ``at``, which postpones the idle stop."""
        record["last_activity"] = at

    def idle_deadline(self, record: Record) -> float:
        """When the record stops for idleness if nothing touches it (infinity: never)."""
        limit = self.idle_seconds(record)
        if record["state"] != self.idle_state or not limit:
            return float("inf")
        last = record["last_activity"] if "last_activity" in record else record["since"]
        return float(last) + limit

    def due(self, record: Record) -> Transition | None:
        """The next transition the record will make by itself, or None."""
        state = record["state"]
        if state in self.steps:
            return Transition(state, self.steps[state], record["since"] + self.step_seconds, "step")
        if self.idle_target is not None:
            deadline = self.idle_deadline(record)
            if deadline != float("inf"):
                return Transition(state, self.idle_target, deadline, "idle")
        return None

    def advance(self, record: Record, now: float) -> bool:
        """Apply every transition due by ``now``, in order; say whether anything changed."""
        changed = False
        while (transition := self.due(record)) is not None and now >= transition.at:
            target = self.next_state(record, transition)
            if target != transition.target:
                transition = Transition(transition.source, target, transition.at, transition.cause)
            self.enter(record, transition.target, transition.at)
            self.on_transition(record, transition)
            changed = True
        return changed
