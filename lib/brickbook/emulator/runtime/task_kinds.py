"""Task kinds that run without a process of their own: ``condition_task`` and ``run_job_task``.

``condition_task`` resolves its operands (state/conditions.py), evaluates and records ``outcome``
("true"/"false") on the task run, which then succeeds. ``run_job_task`` starts a run of the saved job
it names, with its ``job_parameters`` resolved, as that job's ``run_as``; the run's own principal needs
CAN_MANAGE_RUN on the job. The task ends as the triggered run ends, and its id is the task's output
(``run_job_output``). Nesting stops at ``MAX_TRIGGER_DEPTH`` (a job that triggers itself).
"""

from __future__ import annotations

from typing import Any

from brickbook.emulator.runtime.task_host import TaskHost, end_task, maybe_retry
from brickbook.emulator.state import conditions
from brickbook.emulator.state.access import may
from brickbook.emulator.state.dag import SUCCESS_LIKE, TERMINAL, make_state
from brickbook.emulator.state.job_access import job_resource
from brickbook.emulator.state.jobs import queue_enabled
from brickbook.emulator.state.runs import NewRun

__all__ = ["ADVANCE", "MAX_TRIGGER_DEPTH", "START"]

MAX_TRIGGER_DEPTH = 10  # the emulator's guard against run_job_task cycles


def _start_condition(scheduler: TaskHost, run: dict[str, Any], task: dict[str, Any], now: int) -> None:
    body = task["condition_task"]
    try:
        left = conditions.resolve(body["left"], run)
        right = conditions.resolve(body["right"], run)
        outcome = conditions.evaluate(body["op"], left, right)
    except conditions.ReferenceError_ as exc:
        end_task(run, task, now, "FAILED", str(exc))
        return
    task["condition_task"] = {**body, "left": left, "right": right, "outcome": str(outcome).lower()}
    end_task(run, task, now, "SUCCESS", "")


def _start_run_job(scheduler: TaskHost, run: dict[str, Any], task: dict[str, Any], now: int) -> None:
    body = task["run_job_task"]
    job = scheduler.runs.saved_job(body["job_id"])
    depth = int(run.get("_trigger_depth", 0)) + 1
    if depth > MAX_TRIGGER_DEPTH:  # a job that triggers itself would otherwise never end
        message = (
            f"run_job_task nesting is deeper than {MAX_TRIGGER_DEPTH} levels (a job triggering itself?)."
        )
        end_task(run, task, now, "FAILED", message)
        return
    if job is None:
        end_task(run, task, now, "FAILED", f"Job {body['job_id']} does not exist.")
        return
    if not may(
        scheduler.identity.principal(run["run_as"]),
        job_resource(job, scheduler.runs.job_acl(job["job_id"])),
        "CAN_MANAGE_RUN",
    ):
        message = f"{run['run_as']} does not have Manage Run permissions on job {job['job_id']}."
        end_task(run, task, now, "FAILED", message)
        return
    try:
        params = {
            str(k): conditions.resolve(str(v), run) for k, v in (body.get("job_parameters") or {}).items()
        }
    except conditions.ReferenceError_ as exc:
        end_task(run, task, now, "FAILED", str(exc))
        return
    settings = job["settings"]
    child, _ = scheduler.runs.start(
        NewRun(
            tasks=settings.get("tasks", []),
            run_name=settings["name"],
            run_type="JOB_RUN",
            creator=job["run_as_user_name"],
            base_url=run["_base_url"],
            job=job,
            job_clusters=settings.get("job_clusters"),
            timeout_seconds=settings.get("timeout_seconds", 0),
            body={"job_parameters": params},
            queue=queue_enabled(job),
            max_concurrent_runs=settings.get("max_concurrent_runs", 1),
        )
    )
    child["_trigger_depth"] = depth
    scheduler.runs.put(child)
    task["_child_run_id"] = child["run_id"]
    scheduler.runs.save_output(task["run_id"], {"run_job_output": {"run_id": child["run_id"]}})
    task["state"] = make_state("RUNNING", message="In run")
    task["_running_at"] = now
    task["setup_duration"] = now - task["start_time"]


def _advance_run_job(scheduler: TaskHost, run: dict[str, Any], task: dict[str, Any], now: int) -> None:
    child_id = task["_child_run_id"]
    child = scheduler.runs.get(child_id)
    if run["_cancel"] or task.get("_cancel"):
        if child is not None and child["state"]["life_cycle_state"] not in TERMINAL:
            scheduler.runs.cancel(child_id)
        end_task(run, task, now, "CANCELED", "Run was canceled by the user.", by_user=True)
        return
    if child is None:
        end_task(run, task, now, "FAILED", f"The triggered run {child_id} was deleted.")
    elif child["state"]["life_cycle_state"] not in TERMINAL:
        return
    elif child["state"].get("result_state") in SUCCESS_LIKE | {"SUCCESS_WITH_FAILURES"}:
        end_task(run, task, now, "SUCCESS", "")
    else:
        result = child["state"].get("result_state", "FAILED")
        end_task(run, task, now, "FAILED", f"The triggered run {child_id} ended {result}.")
    maybe_retry(scheduler, run, task)


# kind -> how it starts (from PENDING) and how it moves on while RUNNING
START = {"condition_task": _start_condition, "run_job_task": _start_run_job}
ADVANCE = {"run_job_task": _advance_run_job}
