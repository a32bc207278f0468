"""What the task rules need from the engine (``TaskHost``), and the steps every task kind shares.

``end_task`` puts a task run in a terminal state; ``maybe_retry`` adds the next attempt when the task's
retry policy asks for one; ``latest`` is the current attempt of each task. Kept apart from
task_runs.py so the kinds in task_kinds.py and for_each.py use them without an import cycle.
"""

from __future__ import annotations

from typing import Any, Protocol

from brickbook.emulator.runtime.launcher import Child, Launcher
from brickbook.emulator.state.clusters import ClustersState
from brickbook.emulator.state.dag import make_state, termination_for
from brickbook.emulator.state.identity import Identity
from brickbook.emulator.state.runs import RunsState

__all__ = ["TaskHost", "end_task", "latest", "maybe_retry"]


class TaskHost(Protocol):
    """What the task rules need from the engine that drives them (runtime/scheduler.py provides it)."""

    runs: RunsState
    clusters: ClustersState
    launcher: Launcher
    identity: Identity

    def token_for(self, run: dict[str, Any]) -> str:
        """The context token the run's code acts with."""

    def libraries_ready(self, run: dict[str, Any], task: dict[str, Any]) -> tuple[bool, str | None]:
        """Install the task's ``libraries`` on its cluster: (done, failure or None); asked every tick."""

    def start_child(self, run: dict[str, Any], task: dict[str, Any], spec: dict[str, Any]) -> None:
        """Launch the task's process (in its cluster's environment) and keep it under the task run's id."""

    def child(self, run: dict[str, Any], task_run_id: int) -> Child | None:
        """The task run's live process, if any."""

    def drop_child(self, run: dict[str, Any], task_run_id: int) -> None:
        """Forget the task run's process (it ended or was killed)."""

    def start_sql_task(self, run: dict[str, Any], task: dict[str, Any]) -> None:
        """Start the task's ``sql_task`` (as the run's principal) off the scheduler's thread."""

    def sql_task_outcome(self, task_run_id: int) -> tuple[bool, str | None] | None:
        """(done, failure message or None) of a started sql_task; None when it is unknown (lost)."""

    def start_for_each(self, run: dict[str, Any], task: dict[str, Any], now: int) -> None:
        """Make a ``for_each_task``'s iterations (runtime/for_each.py)."""

    def advance_for_each(self, run: dict[str, Any], task: dict[str, Any], now: int) -> None:
        """Move a running ``for_each_task``'s iterations on."""


def latest(run: dict[str, Any]) -> list[dict[str, Any]]:
    """The current attempt of each task (earlier attempts stay in ``tasks``, superseded)."""
    return [t for t in run["tasks"] if not t.get("_superseded")]


def end_task(
    run: dict[str, Any],
    task: dict[str, Any],
    now: int,
    result: str,
    message: str,
    *,
    life: str = "TERMINATED",
    code: str | None = None,
    by_user: bool = False,
) -> None:
    """Put a task run in a terminal state."""
    task["state"] = make_state(life, result=result, message=message, by_user=by_user)
    task["_termination"] = termination_for(result, message, code=code)
    task["end_time"] = now
    if not task["start_time"]:
        task["start_time"] = now
    if task.get("_running_at"):
        task["execution_duration"] = now - task["_running_at"]


def maybe_retry(scheduler: TaskHost, run: dict[str, Any], task: dict[str, Any]) -> None:
    result = task["state"].get("result_state")
    limit = task.get("max_retries", 0)
    retryable = result == "FAILED" or (result == "TIMEDOUT" and task.get("retry_on_timeout"))
    if not retryable or run["_cancel"] is not None or not (limit == -1 or task["attempt_number"] < limit):
        return
    retry = scheduler.runs.new_task_entry(run, task, "WAITING_FOR_RETRY")
    retry["attempt_number"] = task["attempt_number"] + 1
    retry["original_attempt_run_id"] = task.get("original_attempt_run_id", task["run_id"])
    retry["_retry_at"] = task["start_time"] + task.get("min_retry_interval_millis", 0)
    task["_superseded"] = True
    run["tasks"].append(retry)
