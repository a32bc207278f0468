"""The rules of a run's task graph and its states, as pure functions (no store, no processes).

- ``run_if`` (docs "Configure task dependencies"): ALL_SUCCESS (default), AT_LEAST_ONE_SUCCESS and
  NONE_FAILED mark an unmet task UPSTREAM_FAILED (UPSTREAM_CANCELED when an upstream was canceled);
  ALL_FAILED and AT_LEAST_ONE_FAILED mark it EXCLUDED; ALL_DONE always runs. An excluded task counts
  as a success downstream, and a task whose upstreams were all excluded is excluded too.
- The job run's result comes from its leaf tasks (tasks nothing depends on): SUCCESS when every task
  succeeded, SUCCESS_WITH_FAILURES when some failed but every leaf succeeded, FAILED otherwise.
- ``state`` and ``status`` (Jobs API 2.2 ``runs/get``, the SDK's ``RunState`` and ``RunStatus``):
  ``result_state`` only in terminal states; ``status.state`` is TERMINATED for every terminal life
  cycle state and carries ``termination_details``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "ACTIVE",
    "CANCELED_LIKE",
    "FAILED_LIKE",
    "SUCCESS_LIKE",
    "TERMINAL",
    "leaf_keys",
    "make_state",
    "parent_result",
    "render_status",
    "run_if_outcome",
    "termination_for",
]

TERMINAL = frozenset({"TERMINATED", "SKIPPED", "INTERNAL_ERROR"})
ACTIVE = frozenset({"QUEUED", "PENDING", "RUNNING", "TERMINATING", "BLOCKED", "WAITING_FOR_RETRY"})
SUCCESS_LIKE = frozenset({"SUCCESS", "EXCLUDED"})
CANCELED_LIKE = frozenset({"CANCELED", "UPSTREAM_CANCELED"})
FAILED_LIKE = frozenset({"FAILED", "TIMEDOUT", "UPSTREAM_FAILED", "MAXIMUM_CONCURRENT_RUNS_REACHED"})

_STATUS_BY_LIFE = {
    "QUEUED": "QUEUED",
    "PENDING": "PENDING",
    "RUNNING": "RUNNING",
    "TERMINATING": "TERMINATING",
    "BLOCKED": "BLOCKED",
    "WAITING_FOR_RETRY": "WAITING",
}

# result_state -> (termination code, termination type), in the vocabulary of the SDK's
# ``TerminationCodeCode`` and ``TerminationTypeType`` enums.
_TERMINATION: dict[str, tuple[str, str]] = {
    "SUCCESS": ("SUCCESS", "SUCCESS"),
    "SUCCESS_WITH_FAILURES": ("SUCCESS_WITH_FAILURES", "SUCCESS"),
    "EXCLUDED": ("SKIPPED", "SUCCESS"),
    "FAILED": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "TIMEDOUT": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "CANCELED": ("USER_CANCELED", "SUCCESS"),
    "UPSTREAM_FAILED": ("SKIPPED", "CLIENT_ERROR"),
    "UPSTREAM_CANCELED": ("SKIPPED", "SUCCESS"),
    "MAXIMUM_CONCURRENT_RUNS_REACHED": ("MAX_CONCURRENT_RUNS_EXCEEDED", "CLIENT_ERROR"),
}


def run_if_outcome(run_if: str, upstream: Sequence[str]) -> str | None:  # noqa: PLR0911 - one return per rule
    """None when the task should run; else the result state it gets without running."""
    if not upstream:
        return None
    if all(result == "EXCLUDED" for result in upstream):
        return "EXCLUDED"
    succeeded = sum(result in SUCCESS_LIKE for result in upstream)
    failed = sum(result in FAILED_LIKE for result in upstream)
    canceled = sum(result in CANCELED_LIKE for result in upstream)
    unmet = "UPSTREAM_CANCELED" if canceled else "UPSTREAM_FAILED"
    if run_if == "ALL_DONE":
        return None
    if run_if == "AT_LEAST_ONE_SUCCESS":
        return None if succeeded else unmet
    if run_if == "NONE_FAILED":
        ran = any(result != "EXCLUDED" for result in upstream)
        return None if not failed and not canceled and ran else unmet
    if run_if == "AT_LEAST_ONE_FAILED":
        return None if failed else "EXCLUDED"
    if run_if == "ALL_FAILED":
        return None if failed == len(upstream) else "EXCLUDED"
    return None if succeeded == len(upstream) else unmet


def leaf_keys(tasks: Iterable[Mapping[str, Any]]) -> set[str]:
    """Task keys that no other task depends on."""
    tasks = list(tasks)
    needed = {dep["task_key"] for task in tasks for dep in task.get("depends_on", [])}
    return {task["task_key"] for task in tasks} - needed


def parent_result(latest: Mapping[str, str], leaves: set[str]) -> str:
    """The job run's result from each task's latest result state (docs: leaf tasks decide)."""
    results = list(latest.values())
    if all(result in SUCCESS_LIKE for result in results):
        return "SUCCESS"
    if all(latest[key] in SUCCESS_LIKE for key in leaves):
        return "SUCCESS_WITH_FAILURES"
    if any(result in CANCELED_LIKE for result in results):
        return "CANCELED"
    if any(result == "TIMEDOUT" for result in results):
        return "TIMEDOUT"
    return "FAILED"


def make_state(
    life: str, *, result: str | None = None, message: str = "", by_user: bool = False
) -> dict[str, Any]:
    """A ``state`` object; ``result_state`` only for terminal life cycle states."""
    state: dict[str, Any] = {
        "life_cycle_state": life,
        "state_message": message,
        "user_cancelled_or_timedout": by_user,
    }
    if result is not None and life in TERMINAL:
        state["result_state"] = result
    return state


def termination_for(result: str, message: str, *, code: str | None = None) -> dict[str, str]:
    """``termination_details`` for a result state (``code`` overrides, e.g. INTERNAL_ERROR)."""
    default_code, kind = _TERMINATION.get(result, ("INTERNAL_ERROR", "INTERNAL_ERROR"))
    if code == "INTERNAL_ERROR":
        kind = "INTERNAL_ERROR"
    elif code is not None:
        kind = "CLIENT_ERROR"
    return {"code": code or default_code, "type": kind, "message": message}


def render_status(state: Mapping[str, Any], termination: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``status`` object (RunStatus) that goes with a ``state``."""
    life = state["life_cycle_state"]
    status: dict[str, Any] = {"state": _STATUS_BY_LIFE.get(life, "TERMINATED")}
    if status["state"] == "TERMINATED" and termination is not None:
        status["termination_details"] = dict(termination)
    if life == "QUEUED" and state.get("queue_reason"):
        status["queue_details"] = {"code": "MAX_CONCURRENT_RUNS_REACHED", "message": state["queue_reason"]}
    return status
