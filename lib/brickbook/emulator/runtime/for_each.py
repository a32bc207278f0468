"""``for_each_task``: run the inner task once per input, at most ``concurrency`` at a time.

Jobs API: ``inputs`` is a JSON array, literal or a reference (``{{job.parameters.x}}``,
``{{tasks.X.values.Y}}``); ``{{input}}`` inside the inner task's parameters is the iteration's value
(a string as is, anything else as JSON). Each iteration is a task run of its own (its own run id,
output and process) kept inside the for-each task run, so the job run's ``tasks`` shows only the
for-each task, with ``for_each_task.stats``; ``runs/get`` of the for-each task run's id answers with
that task and its ``iterations``, as the real service does. The for-each task succeeds when every
iteration did and fails (naming how many failed) otherwise. Iterations are not retried one by one.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from brickbook.emulator.runtime import task_runs
from brickbook.emulator.state import conditions
from brickbook.emulator.state.dag import SUCCESS_LIKE, TERMINAL, make_state

__all__ = ["MAX_ITERATIONS", "advance_for_each", "start_for_each"]

MAX_ITERATIONS = 5000  # the real service's limit on a for-each task's inputs
_INPUT = "{{input}}"


def _substitute(value: Any, text: str) -> Any:
    if isinstance(value, str):
        return value.replace(_INPUT, text)
    if isinstance(value, list):
        return [_substitute(v, text) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, text) for k, v in value.items()}
    return value


def _inputs(run: dict[str, Any], raw: str) -> list[Any]:
    try:
        inputs = json.loads(conditions.resolve(raw, run))
    except json.JSONDecodeError as exc:
        raise conditions.ReferenceError_(f"for_each_task.inputs is not a JSON array: {exc.msg}.") from exc
    if not isinstance(inputs, list):
        raise conditions.ReferenceError_("for_each_task.inputs is not a JSON array.")
    if len(inputs) > MAX_ITERATIONS:
        raise conditions.ReferenceError_(f"for_each_task.inputs has more than {MAX_ITERATIONS} items.")
    return inputs


def start_for_each(host: task_runs.TaskHost, run: dict[str, Any], task: dict[str, Any], now: int) -> None:
    """Resolve the inputs and make one (not yet started) iteration per input."""
    body = task["for_each_task"]
    try:
        inputs = _inputs(run, body["inputs"])
    except conditions.ReferenceError_ as exc:
        task_runs.end_task(run, task, now, "FAILED", str(exc))
        return
    inner = {k: v for k, v in body["task"].items() if k not in ("depends_on", "run_if", "max_retries")}
    inner.setdefault("task_key", f"{task['task_key']}_iteration")
    iterations = []
    for value in inputs:
        text = value if isinstance(value, str) else json.dumps(value)
        iterations.append(host.runs.new_task_entry(run, _substitute(copy.deepcopy(inner), text), "BLOCKED"))
    task["_iterations"] = iterations
    task["state"] = make_state("RUNNING", message="In run")
    task["_running_at"] = now
    task["setup_duration"] = now - task["start_time"]
    _record_stats(task)


def _record_stats(task: dict[str, Any]) -> None:
    iterations = task["_iterations"]
    done = [i for i in iterations if i["state"]["life_cycle_state"] in TERMINAL]
    succeeded = sum(i["state"].get("result_state") in SUCCESS_LIKE for i in done)
    active = sum(i["state"]["life_cycle_state"] not in ("BLOCKED", *TERMINAL) for i in iterations)
    task["for_each_task"]["stats"] = {
        "task_run_stats": {
            "total_iterations": len(iterations),
            "scheduled_iterations": active + len(done),
            "active_iterations": active,
            "completed_iterations": len(done),
            "succeeded_iterations": succeeded,
            "failed_iterations": len(done) - succeeded,
        }
    }


def advance_for_each(host: task_runs.TaskHost, run: dict[str, Any], task: dict[str, Any], now: int) -> None:
    """Move the iterations on (at most ``concurrency`` at once); end the task when all have ended."""
    canceled = run["_cancel"] or task.get("_cancel")
    pending = [i for i in task["_iterations"] if i["state"]["life_cycle_state"] not in TERMINAL]
    if canceled:
        for iteration in pending:
            iteration["_cancel"] = True
    limit = len(pending) if canceled else int(task["for_each_task"].get("concurrency") or 1)
    for iteration in pending[:limit]:
        task_runs.advance_task(host, run, iteration, now)
    _record_stats(task)
    stats = task["for_each_task"]["stats"]["task_run_stats"]
    if stats["completed_iterations"] < stats["total_iterations"]:
        return
    if canceled:
        task_runs.end_task(run, task, now, "CANCELED", "Run was canceled by the user.", by_user=True)
    elif stats["failed_iterations"]:
        message = f"{stats['failed_iterations']} of {stats['total_iterations']} iterations failed."
        task_runs.end_task(run, task, now, "FAILED", message)
    else:
        task_runs.end_task(run, task, now, "SUCCESS", "")
