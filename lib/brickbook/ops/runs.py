"""Runs: wait for one to settle (failing loudly), gather every task's output, and cancel on interrupt.

- ``wait_for_run`` polls ``runs/get`` through the shared waiter: FAILED, TIMEDOUT, CANCELED, SKIPPED,
  INTERNAL_ERROR and UPSTREAM_FAILED raise RunFailed (exit 7) naming the failed tasks and their errors;
  the local deadline raises WaitTimeout (exit 8).
- ``task_outputs`` returns the output of every task run of a multi-task run (``runs/get-output`` only
  answers for task runs), or the run's own output when it is a task run.
- ``watch`` wraps a wait for a run this invocation started: on Ctrl-C or SIGTERM it cancels the run
  (or leaves it, with ``detach``), says which, and raises Interrupted (exit 130).
- ``repair`` re-runs tasks of a finished run, naming the latest repair as the API requires from the
  second repair on; ``cancel`` cancels a run and, if asked, waits until it has stopped.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, Literal

from brickbook.api import jobs
from brickbook.api.jobs import LifeCycleState, ResultState, Run
from brickbook.client import Client
from brickbook.errors import ApiError, Interrupted, RunFailed, WaitTimeout
from brickbook.log import get_logger
from brickbook.output import ProgressLine
from brickbook.waiting import Observation, PollSettings, wait_for

__all__ = [
    "OnInterrupt",
    "cancel",
    "latest_repair_id",
    "observe_run",
    "repair",
    "summarize",
    "task_outputs",
    "wait_for_run",
    "watch",
]

OnInterrupt = Literal["cancel", "detach"]
SUCCESSFUL_RESULTS = frozenset({ResultState.SUCCESS, ResultState.SUCCESS_WITH_FAILURES})


def _task_counts(run: Run) -> str:
    if not run.tasks:
        return ""
    done = sum(
        1 for t in run.tasks if (t.get("state") or {}).get("life_cycle_state") in ("TERMINATED", "SKIPPED")
    )
    return f"tasks {done}/{len(run.tasks)}"


def observe_run(client: Client, run_id: int) -> Observation[Run]:
    """Look at a run once: its state, whether it settled, and whether it settled badly."""
    run = jobs.get_run(client, run_id)
    life, result = run.life_cycle_state, run.result_state
    state = f"{life} {result}" if result else str(life)
    failure = None
    if run.is_terminal and (life != LifeCycleState.TERMINATED or result not in SUCCESSFUL_RESULTS):
        failure = f"ended {state}" + (f": {run.state_message}" if run.state_message else "")
    return Observation(
        value=run, state=state, done=run.is_terminal, failure=failure, progress=_task_counts(run)
    )


def task_outputs(client: Client, run: Run) -> list[dict[str, Any]]:
    """Return every task run's output (state, exit value with its truncated flag, logs, error, URL)."""
    task_runs = run.tasks or [run.raw]
    outputs = []
    for task in task_runs:
        task_run_id = int(task.get("run_id") or run.run_id)
        state = task.get("state") or {}
        entry: dict[str, Any] = {
            "task_key": task.get("task_key"),
            "run_id": task_run_id,
            "life_cycle_state": state.get("life_cycle_state"),
            "result_state": state.get("result_state"),
            "run_page_url": task.get("run_page_url"),
        }
        try:
            output = jobs.get_run_output(client, task_run_id)
        except ApiError as error:  # e.g. a task that never started has no output to show
            entry["output_error"] = error.message
        else:
            notebook = output.notebook_output
            entry.update(
                result=notebook.get("result"),
                truncated=bool(notebook.get("truncated", False)),
                logs=output.logs,
                logs_truncated=output.logs_truncated,
                error=output.error,
                error_trace=output.error_trace,
            )
        outputs.append(entry)
    return outputs


def summarize(run: Run, outputs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return the run as users want it after a wait: ids, URL, final state and per-task outputs."""
    summary: dict[str, Any] = {
        "run_id": run.run_id,
        "job_id": run.job_id,
        "run_page_url": run.run_page_url,
        "life_cycle_state": str(run.life_cycle_state or ""),
        "result_state": str(run.result_state or ""),
        "state_message": run.state_message,
    }
    if outputs is not None:
        summary["tasks"] = outputs
    return summary


def wait_for_run(
    client: Client,
    run_id: int,
    *,
    timeout: float | None,
    poll: PollSettings | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    progress: ProgressLine | None = None,
) -> Run:
    """Wait until the run settles; return it, or raise RunFailed with every task's output attached."""
    try:
        return wait_for(
            lambda: observe_run(client, run_id),
            what=f"run {run_id}",
            timeout=timeout,
            poll=poll,
            clock=clock,
            sleep=sleep,
            rng=random.random,
            progress=progress,
            context={"run_id": run_id},
        )
    except WaitTimeout as waiting:
        run = waiting.result
        assert isinstance(run, Run)
        raise WaitTimeout(waiting.message, result=summarize(run)) from None
    except RunFailed as failed:
        run = failed.result
        assert isinstance(run, Run)
        outputs = task_outputs(client, run)
        errors = [f"{o['task_key']}: {o['error']}" for o in outputs if o.get("error")]
        detail = f" ({'; '.join(errors)})" if errors else ""
        raise RunFailed(f"{failed.message}{detail}", result=summarize(run, outputs)) from None


def watch(
    client: Client,
    run_id: int,
    wait: Callable[[], Run],
    *,
    on_interrupt: OnInterrupt,
) -> Run:
    """Run ``wait``; on Ctrl-C or SIGTERM cancel (or detach from) the run this invocation started."""
    log = get_logger(run_id=run_id)
    try:
        return wait()
    except KeyboardInterrupt:
        if on_interrupt == "detach":
            log.warning("run.detached")
            raise Interrupted(f"interrupted: run {run_id} left running") from None
        try:
            jobs.cancel_run(client, run_id)
        except ApiError as error:
            raise Interrupted(f"interrupted: could not cancel run {run_id}: {error.message}") from None
        log.warning("run.cancelled_on_interrupt")
        raise Interrupted(f"interrupted: cancelled run {run_id}") from None


def latest_repair_id(run: Run) -> int | None:
    """Return the id of the run's latest repair (from a run read with ``include_history``), if any."""
    history = run.raw.get("repair_history") or []
    ids = [int(h["id"]) for h in history if h.get("type") == "REPAIR" and h.get("id") is not None]
    return max(ids, default=None)


def repair(
    client: Client, run_id: int, *, rerun_tasks: list[str] | None = None, rerun_all_failed: bool = False
) -> int:
    """Re-run the chosen (or all failed) tasks of a finished run; return the repair id.

    From the second repair on the API wants ``latest_repair_id``: it is read from the run's
    ``repair_history``, which ``runs/get`` fills only with ``include_history=true``.
    """
    run = jobs.get_run(client, run_id, include_history=True)
    return jobs.repair_run(
        client,
        run_id,
        rerun_tasks=rerun_tasks,
        rerun_all_failed_tasks=rerun_all_failed,
        latest_repair_id=latest_repair_id(run),
    )


def cancel(
    client: Client,
    run_id: int,
    *,
    wait: bool,
    timeout: float | None = None,
    poll: PollSettings | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any] | None:
    """Cancel a run; with ``wait``, return its summary once it has stopped (None without ``wait``).

    Cancelling is asynchronous. A run that ends CANCELED after the request is what was asked for, so
    it is returned, not raised; the deadline still raises WaitTimeout.
    """
    jobs.cancel_run(client, run_id)
    if not wait:
        return None
    try:
        run = wait_for_run(client, run_id, timeout=timeout, poll=poll, clock=clock, sleep=sleep)
    except RunFailed as ended:
        assert isinstance(ended.result, dict)  # wait_for_run attaches the summary
        return ended.result
    return summarize(run)
