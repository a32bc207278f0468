"""Runs: trigger them exactly once, wait for them to settle (failing loudly), read every task's output.

- ``trigger_job`` (Jobs API 2.2 ``run-now``) and ``submit_run`` (``runs/submit``) always send an
  idempotency token, the caller's or a new one from ``ctx.rng``: the service answers a repeated token
  with the run it first started, so the retry layer may resend them and a lost response never starts a
  second run. ``trigger_job`` decides where ``key=value`` parameters go (``job_parameters`` for a job
  that declares parameters, else the legacy ``notebook_params``, which fill a notebook's widgets).
- ``wait_for_run`` polls ``runs/get`` through the shared waiter: FAILED, TIMEDOUT, CANCELED, SKIPPED,
  INTERNAL_ERROR and UPSTREAM_FAILED raise RunFailed (exit 7) naming the failed tasks and their errors;
  the local deadline raises WaitTimeout (exit 8). ``wait_for_runs`` waits for many runs on one
  schedule: one active-only ``runs/list`` per poll for all of them, ``runs/get`` once each has ended.
- ``task_outputs`` returns the output of every task run (``runs/get-output`` answers for task runs only,
  not for a multi-task run); ``summarize`` shapes a run and its outputs for reports and ``-o json``.
- ``watch`` / ``follow_run`` wait for a run this invocation started: on Ctrl-C or SIGTERM it is cancelled
  (or left running, with ``detach``), and Interrupted (exit 130) says which.
- ``repair`` re-runs the failed (or chosen) tasks of a finished run, naming the latest repair as the API
  requires from the second repair on; ``cancel_run`` cancels; ``latest_run`` finds a job's newest run.
"""

from __future__ import annotations

import functools
import itertools
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from brickbook.api import jobs
from brickbook.api.jobs import LifeCycleState, ResultState, Run
from brickbook.errors import ApiError, Interrupted, RunFailed, TransportError, WaitTimeout
from brickbook.ops.pool import run_bounded
from brickbook.waiting import Observation, wait_for, wait_for_all

if TYPE_CHECKING:
    from brickbook.context import Context

__all__ = [
    "SUCCESSFUL_RESULTS",
    "OnInterrupt",
    "cancel_and_wait",
    "cancel_run",
    "follow_run",
    "latest_repair_id",
    "latest_run",
    "new_idempotency_token",
    "observe_run",
    "observe_runs",
    "repair",
    "submit_run",
    "summarize",
    "summary_of",
    "task_outputs",
    "trigger_job",
    "wait_for_run",
    "wait_for_runs",
    "watch",
]

OnInterrupt = Literal["cancel", "detach"]
SUCCESSFUL_RESULTS = frozenset({ResultState.SUCCESS, ResultState.SUCCESS_WITH_FAILURES})
RUNS_PAGE = 25  # the most runs/list returns per page (Jobs API 2.2)


def new_idempotency_token(ctx: Context) -> str:
    """Return a fresh idempotency token (32 hex digits, within the API's 64) drawn from ``ctx.rng``."""
    return uuid.UUID(int=ctx.rng.getrandbits(128), version=4).hex


def trigger_job(
    ctx: Context, job_id: int, *, params: Mapping[str, str] | None, idempotency_token: str | None
) -> int:
    """Trigger a job exactly once (``run-now``); return the run id.

    ``params`` go as ``job_parameters`` when the job declares parameters (read with ``jobs/get``),
    otherwise as ``notebook_params``, so ``key=value`` works for both kinds of job. ``None`` as the
    token draws a new one; pass the same token again and the service returns the same run.
    """
    token = idempotency_token or new_idempotency_token(ctx)
    # Read even without params: a missing or unreadable job fails here, before anything is triggered.
    declared = bool(jobs.get(ctx.client, job_id).settings.get("parameters"))
    run_id = jobs.run_now(
        ctx.client,
        job_id,
        idempotency_token=token,
        job_parameters=params if declared else None,
        notebook_params=None if declared else params,
    )
    ctx.log.info("run.triggered", job_id=job_id, run_id=run_id)
    return run_id


def submit_run(ctx: Context, spec: Mapping[str, Any], *, idempotency_token: str | None) -> int:
    """Submit a one-time run (``runs/submit``) exactly once; return the run id (``None``: a new token)."""
    run_id = jobs.submit(ctx.client, spec, idempotency_token=idempotency_token or new_idempotency_token(ctx))
    ctx.log.info("run.submitted", run_id=run_id)
    return run_id


def _task_counts(run: Run) -> str:
    if not run.tasks:
        return ""
    done = sum(
        1 for t in run.tasks if (t.get("state") or {}).get("life_cycle_state") in ("TERMINATED", "SKIPPED")
    )
    return f"tasks {done}/{len(run.tasks)}"


def observe_run(ctx: Context, run_id: int) -> Observation[Run]:
    """Look at a run once: its state, whether it settled, and whether it settled badly."""
    return _observation(jobs.get_run(ctx.client, run_id))


def _observation(run: Run) -> Observation[Run]:
    life, result = run.life_cycle_state, run.result_state
    state = f"{life} {result}" if result else str(life)
    failure = None
    if run.is_terminal and (life != LifeCycleState.TERMINATED or result not in SUCCESSFUL_RESULTS):
        failure = f"ended {state}" + (f": {run.state_message}" if run.state_message else "")
    return Observation(
        value=run, state=state, done=run.is_terminal, failure=failure, progress=_task_counts(run)
    )


def task_outputs(ctx: Context, run: Run) -> list[dict[str, Any]]:
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
            output = jobs.get_run_output(ctx.client, task_run_id)
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


def summary_of(ctx: Context, run_id: int) -> dict[str, Any]:
    """Return a run's summary as it is now, without waiting (no task outputs)."""
    return summarize(jobs.get_run(ctx.client, run_id))


def wait_for_run(ctx: Context, run_id: int, *, timeout: float | None) -> Run:
    """Wait until the run settles; return it, or raise RunFailed with every task's output attached."""
    try:
        return wait_for(
            ctx.bind(run_id=run_id), lambda: observe_run(ctx, run_id), what=f"run {run_id}", timeout=timeout
        )
    except WaitTimeout as waiting:
        run = waiting.result
        assert isinstance(run, Run)
        raise WaitTimeout(waiting.message, result=summarize(run)) from None
    except RunFailed as failed:
        run = failed.result
        assert isinstance(run, Run)
        outputs = task_outputs(ctx, run)
        errors = [f"{o['task_key']}: {o['error']}" for o in outputs if o.get("error")]
        detail = f" ({'; '.join(errors)})" if errors else ""
        raise RunFailed(f"{failed.message}{detail}", result=summarize(run, outputs)) from None


def _active_runs(ctx: Context, most: int) -> dict[int, Run] | None:
    """The workspace's active runs by id (``runs/list``, active only); None when there are over ``most``."""
    listed = jobs.list_runs(ctx.client, active_only=True, limit=RUNS_PAGE)
    active = {r.run_id: r for r in itertools.islice(listed, most + 1)}
    return None if len(active) > most else active


def observe_runs(
    ctx: Context, run_ids: list[int], active: Mapping[int, Run] | None
) -> dict[int, Observation[Run]]:
    """Look at many runs: those ``active`` shows going as listed, the others with ``runs/get`` each.

    ``active`` is an active-only ``runs/list`` (``None``: read every run). A run it does not show has
    ended, or is too new to be listed yet; ``runs/get`` (concurrently) tells, with its end state and tasks.
    """
    listed = active or {}
    seen = {i: _observation(listed[i]) for i in run_ids if i in listed and not listed[i].is_terminal}
    unknown = [i for i in run_ids if i not in seen]
    looks = run_bounded(ctx, [functools.partial(observe_run, ctx, i) for i in unknown])
    seen.update(zip(unknown, looks, strict=True))
    return seen


def wait_for_runs(ctx: Context, run_ids: list[int], *, timeout: float | None) -> dict[int, Run]:
    """Wait for many runs on one schedule until all settle; return them by id, or raise.

    Each poll is one active-only ``runs/list`` for all of them (``observe_runs``), and one ``runs/get``
    per run only once it has left the list; in a workspace with so many active runs that the listing
    costs more requests than reading each run, each run is read instead. The pause between polls is a
    tenth of the time waited so far, at least 1 s (``brickbook.waiting.wait_for_all``). One failed
    run does not stop the wait for the others: once all have settled, RunFailed (exit 7) names every
    run that ended badly with its failed tasks' errors, its ``result`` the summaries of all runs; the
    deadline raises WaitTimeout with the summaries as they are.
    """
    busy = False  # the workspace has too many active runs for the listing to be the cheaper way

    def observe(pending: list[int]) -> dict[int, Observation[Run]]:
        nonlocal busy
        active = None
        if not busy and len(run_ids) > 1:
            # Worth it while it takes no more requests than one runs/get per run.
            active = _active_runs(ctx, RUNS_PAGE * len(pending))
            busy = active is None
        return observe_runs(ctx, pending, active)

    try:
        return wait_for_all(ctx, observe, run_ids, what="runs", timeout=timeout)
    except WaitTimeout as waiting:
        assert isinstance(waiting.result, dict)
        raise WaitTimeout(waiting.message, result=[summarize(r) for r in waiting.result.values()]) from None
    except RunFailed as failed:
        assert isinstance(failed.result, dict)
        found: dict[int, Run] = failed.result
        reasons, summaries = [], []
        for run_id, run in found.items():
            failure = _observation(run).failure
            outputs = task_outputs(ctx, run) if failure else None
            summaries.append(summarize(run, outputs))
            if failure:
                errors = [f"{o['task_key']}: {o['error']}" for o in outputs or () if o.get("error")]
                reasons.append(f"run {run_id} {failure}" + (f" ({'; '.join(errors)})" if errors else ""))
        shown = "; ".join(reasons[:3]) + (f"; and {len(reasons) - 3} more" if len(reasons) > 3 else "")
        raise RunFailed(f"{len(reasons)} of {len(found)} runs failed: {shown}", result=summaries) from None


def watch(ctx: Context, run_id: int, wait: Callable[[], Run], *, on_interrupt: OnInterrupt) -> Run:
    """Run ``wait``; on Ctrl-C or SIGTERM cancel (or detach from) the run this invocation started."""
    log = ctx.log.bind(run_id=run_id)
    try:
        return wait()
    except KeyboardInterrupt:
        if on_interrupt == "detach":
            log.warning("run.detached")
            raise Interrupted(f"interrupted: run {run_id} left running") from None
        try:
            jobs.cancel_run(ctx.client, run_id)
        except ApiError as error:
            raise Interrupted(f"interrupted: could not cancel run {run_id}: {error.message}") from None
        log.warning("run.cancelled_on_interrupt")
        raise Interrupted(f"interrupted: cancelled run {run_id}") from None


def follow_run(
    ctx: Context, run_id: int, *, timeout: float | None, on_interrupt: OnInterrupt
) -> dict[str, Any]:
    """Wait for a run this invocation started (``watch``); return its summary with every task's output."""
    run = watch(ctx, run_id, lambda: wait_for_run(ctx, run_id, timeout=timeout), on_interrupt=on_interrupt)
    return summarize(run, task_outputs(ctx, run))


def latest_repair_id(run: Run) -> int | None:
    """Return the id of the run's latest repair (from a run read with ``include_history``), if any."""
    history = run.raw.get("repair_history") or []
    ids = [int(h["id"]) for h in history if h.get("type") == "REPAIR" and h.get("id") is not None]
    return max(ids, default=None)


def _failed_tasks(run: Run) -> list[str]:
    return [
        str(t.get("task_key"))
        for t in run.tasks
        if (t.get("state") or {}).get("result_state") not in (None, *SUCCESSFUL_RESULTS)
    ]


def _already_repaired(run: Run, latest: int | None, tasks: list[str] | None) -> bool:
    """Tell whether the run's latest repair is one an earlier request with the same token made.

    It is while that repair is still under way (the service refuses to repair an active run anyway),
    and, for a rerun of every failed task, once it has left nothing failed.
    """
    if latest is None:
        return False
    return not run.is_terminal or (tasks is None and not _failed_tasks(run))


def repair(
    ctx: Context, run_id: int, *, tasks: list[str] | None = None, idempotency_token: str | None = None
) -> int:
    """Re-run the chosen tasks (``None``: every failed task) of a finished run; return the repair id.

    Jobs API 2.2 ``runs/repair`` wants ``latest_repair_id`` from the second repair on; it is read from
    the run's ``repair_history``, which ``runs/get`` fills only with ``include_history=true``. That id
    also fences the request: a copy sent after the repair was applied is refused by the service, never
    applied twice, so a lost answer is settled by reading the history again.

    The API takes no idempotency token for repairs. A ``idempotency_token`` says the call may repeat one
    that already reached the service (a runbook resuming after a crash): then a repair still under way,
    or one that left nothing failed, is taken as that one and its id returned instead of repairing again.
    """
    if tasks is not None and not tasks:
        raise ValueError("tasks must name at least one task key, or be None for every failed task")
    run = jobs.get_run(ctx.client, run_id, include_history=True)
    latest = latest_repair_id(run)
    log = ctx.log.bind(run_id=run_id)
    if idempotency_token is not None and _already_repaired(run, latest, tasks):
        assert latest is not None  # _already_repaired says so
        log.info("run.repair_found", repair_id=latest)
        return latest
    try:
        repair_id = jobs.repair_run(
            ctx.client,
            run_id,
            rerun_tasks=tasks,
            rerun_all_failed_tasks=tasks is None,
            latest_repair_id=latest,
        )
    except (TransportError, ApiError) as lost:
        if isinstance(lost, ApiError) and (lost.http_status or 0) < 500:
            raise  # refused: nothing was applied
        newer = latest_repair_id(jobs.get_run(ctx.client, run_id, include_history=True))
        if newer is None or newer == latest:
            raise
        log.info("run.repair_answer_lost", repair_id=newer)
        return newer
    log.info("run.repair_started", repair_id=repair_id)
    return repair_id


def latest_run(ctx: Context, job_id: int) -> Run | None:
    """Return the job's most recently started run (``runs/list`` is newest first), or None."""
    for run in jobs.list_runs(ctx.client, job_id=job_id, limit=1):
        return jobs.get_run(ctx.client, run.run_id)
    return None


def cancel_run(ctx: Context, run_id: int) -> None:
    """Ask for a run to be cancelled (``runs/cancel``, asynchronous: it may still be going on return)."""
    jobs.cancel_run(ctx.client, run_id)
    ctx.log.info("run.cancel_requested", run_id=run_id)


def cancel_and_wait(ctx: Context, run_id: int, *, timeout: float | None) -> dict[str, Any]:
    """Cancel a run and return its summary once it has stopped.

    A run that ends CANCELED (or in any other end) after the request is what was asked for, so it is
    returned, not raised; the deadline still raises WaitTimeout.
    """
    cancel_run(ctx, run_id)
    try:
        run = wait_for_run(ctx, run_id, timeout=timeout)
    except RunFailed as ended:
        assert isinstance(ended.result, dict)  # wait_for_run attaches the summary
        return ended.result
    return summarize(run)
