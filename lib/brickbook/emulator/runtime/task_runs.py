"""One task run's life cycle inside a job run: dependencies, compute, the child process, retries.

The rules reach the engine only through ``TaskHost`` (runs, clusters, processes, tokens), so this
module does not import the scheduler that calls it.

Functions over the run record (changed in place inside the scheduler's transaction). Parameters
reach the code as the real service passes them: a notebook's widgets are its ``base_parameters``,
overridden by run-now's ``notebook_params``, overridden by the job parameters (their defaults merged
with run-now's ``job_parameters``), since job parameters win over task parameters of the same name; a
Python file's argv is run-now's ``python_params`` if given, else the task's ``parameters``; a Python
wheel's argv is ``python_params`` / ``parameters``, or its named parameters (run-now's
``python_named_params`` over the task's ``named_parameters``) as ``--key=value``.

The kind decides how a task starts: notebook, Python file and Python wheel tasks in a child process
(in the cluster's environment, once the task's ``libraries`` are installed there: runtime/envs.py; a
FAILED library fails the task with the installer's message), a
``sql_task`` on its warehouse, ``condition_task`` and ``run_job_task`` in task_kinds.py, a
``for_each_task`` in for_each.py (through the host). A dependency naming an ``outcome`` the condition
did not reach counts as EXCLUDED, so ``run_if`` skips that branch as the real service does. Any other
kind (JAR, spark-submit, dbt, pipelines, ...) ends FAILED with a message naming the kind, never
INTERNAL_ERROR.
"""

from __future__ import annotations

from typing import Any

from brickbook.emulator.errors import ApiError
from brickbook.emulator.runtime import task_kinds
from brickbook.emulator.runtime.task_host import TaskHost, end_task, latest, maybe_retry
from brickbook.emulator.state.dag import TERMINAL, make_state, run_if_outcome
from brickbook.emulator.state.jobs import task_kind

__all__ = ["TaskHost", "advance_task", "end_task", "latest", "parent_message"]


_TOUCH_EVERY_MS = 10_000
_SKIP_MESSAGES = {
    "UPSTREAM_FAILED": "Upstream task(s) failed.",
    "UPSTREAM_CANCELED": "Upstream task(s) were canceled.",
    "EXCLUDED": "The task's run_if condition was not met.",
}


def parent_message(tasks: list[dict[str, Any]], result: str) -> str:
    """The job run's ``state_message``: empty on success, else what the first failed task said."""
    if result == "SUCCESS":
        return ""
    for task in tasks:
        if task["state"].get("result_state") in ("FAILED", "TIMEDOUT"):
            reason = task["state"]["state_message"] or "Workload failed"
            return (
                f"Task {task['task_key']} failed with message: {reason}. "
                "This caused all downstream tasks to get skipped."
            )
    return f"The run ended with result {result}."


def _result_of(run: dict[str, Any], key: str, outcome: str | None = None) -> str | None:
    for task in latest(run):
        if task["task_key"] == key:
            life = task["state"]["life_cycle_state"]
            if life not in TERMINAL:
                return None
            result = str(task["state"].get("result_state", "FAILED"))
            reached = (task.get("condition_task") or {}).get("outcome")
            if outcome is not None and result == "SUCCESS" and reached is not None and reached != outcome:
                return "EXCLUDED"  # the branch the condition did not take
            return result
    return "SUCCESS"  # a dependency that is not part of this run (e.g. after a repair) counts as done


def _cluster_ready(scheduler: TaskHost, run: dict[str, Any], task: dict[str, Any]) -> bool:
    """Acquire (start or create) the task's cluster; True once it is RUNNING. Serverless: at once."""
    cluster_id = task.get("_cluster_id")
    if cluster_id is None:
        creator = run["creator_user_name"]
        if task.get("existing_cluster_id"):
            cluster_id = str(task["existing_cluster_id"])
            scheduler.clusters.ensure_running(cluster_id)
        elif task.get("new_cluster"):
            cluster_id = scheduler.clusters.create_job_cluster(
                task["new_cluster"], run["run_name"], creator=creator
            )
            run["_clusters"][f"task:{task['run_id']}"] = cluster_id
        elif task.get("job_cluster_key"):
            key = task["job_cluster_key"]
            cluster_id = run["_clusters"].get(key)
            if cluster_id is None:
                spec = next(c["new_cluster"] for c in run["job_clusters"] if c["job_cluster_key"] == key)
                cluster_id = scheduler.clusters.create_job_cluster(spec, run["run_name"], creator=creator)
                run["_clusters"][key] = cluster_id
        else:
            return True
        task["_cluster_id"] = cluster_id
    details = scheduler.clusters.get(cluster_id)
    if details["state"] == "TERMINATED":
        reason = (details.get("termination_reason") or {}).get("code", "UNKNOWN")
        raise ApiError("INVALID_STATE", f"Cluster {cluster_id} terminated while starting ({reason}).")
    if details["state"] != "RUNNING":
        return False
    task["cluster_instance"] = {
        "cluster_id": cluster_id,
        "spark_context_id": str(details.get("spark_context_id", "")),
    }
    return True


def _child_spec(scheduler: TaskHost, run: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    overriding = run.get("overriding_parameters", {})
    job_params = {p["name"]: p["value"] for p in run.get("job_parameters", [])}
    spec: dict[str, Any] = {
        "base_url": run["_base_url"],
        "token": scheduler.token_for(run),
        "upstream_task_values": run["_task_values"],
        "widgets": {},
        "argv": [],
    }
    if "notebook_task" in task:
        body = task["notebook_task"]
        widgets = {**body.get("base_parameters", {}), **overriding.get("notebook_params", {}), **job_params}
        spec.update(kind="notebook_task", path=body["notebook_path"], widgets=widgets)
    elif "python_wheel_task" in task:
        spec.update(kind="python_wheel_task", **_wheel_call(task["python_wheel_task"], overriding))
    else:
        body = task["spark_python_task"]
        argv = overriding.get("python_params") or body.get("parameters", [])
        spec.update(kind="spark_python_task", path=body["python_file"], argv=argv)
    return spec


def _wheel_call(body: dict[str, Any], overriding: dict[str, Any]) -> dict[str, Any]:
    """``package_name``, ``entry_point`` and argv of a ``python_wheel_task`` (ValueError if malformed)."""
    package, entry_point = body.get("package_name"), body.get("entry_point")
    if not isinstance(package, str) or not package or not isinstance(entry_point, str) or not entry_point:
        raise ValueError("python_wheel_task needs package_name and entry_point.")
    named = {**(body.get("named_parameters") or {}), **(overriding.get("python_named_params") or {})}
    argv = overriding.get("python_params") or body.get("parameters") or []
    if named:
        argv = [f"--{key}={value}" for key, value in named.items()]
    if not isinstance(argv, list) or not all(isinstance(v, str) for v in argv):
        raise ValueError("python_wheel_task parameters must be strings.")
    return {"path": package, "entry_point": entry_point, "argv": argv}


def _advance_sql(scheduler: TaskHost, run: dict[str, Any], task: dict[str, Any], now: int) -> None:
    outcome = scheduler.sql_task_outcome(task["run_id"])
    if run["_cancel"] or task.get("_cancel"):
        end_task(run, task, now, "CANCELED", "Run was canceled by the user.", by_user=True)
    elif outcome is None:
        end_task(run, task, now, "FAILED", "The task lost its statements.", life="INTERNAL_ERROR")
    elif outcome[0]:
        failure = outcome[1]
        end_task(run, task, now, "FAILED" if failure else "SUCCESS", failure or "")
    else:
        return
    maybe_retry(scheduler, run, task)


def _started_without_process(
    scheduler: TaskHost, run: dict[str, Any], task: dict[str, Any], now: int
) -> bool:
    """Start a kind that needs no process, or fail a kind the emulator cannot run; True if handled."""
    kind = task_kind(task)
    if kind == "sql_task":  # runs on a warehouse, not a cluster
        scheduler.start_sql_task(run, task)
        task["state"] = make_state("RUNNING", message="In run")
        task["_running_at"] = now
        task["setup_duration"] = now - task["start_time"]
        return True
    if kind in task_kinds.START:
        task_kinds.START[kind](scheduler, run, task, now)
        return True
    if kind == "for_each_task":
        scheduler.start_for_each(run, task, now)
        return True
    if kind in ("notebook_task", "spark_python_task", "python_wheel_task"):
        return False
    message = (
        f"The brickbook emulator cannot run {kind} tasks "
        "(it runs notebook, Python file, Python wheel, SQL, condition, run-job and for-each tasks)."
    )
    end_task(run, task, now, "FAILED", message)
    return True


def _advance_for_each(scheduler: TaskHost, run: dict[str, Any], task: dict[str, Any], now: int) -> None:
    scheduler.advance_for_each(run, task, now)


_RUNNING_WITHOUT_PROCESS = {
    "sql_task": _advance_sql,
    **task_kinds.ADVANCE,
    "for_each_task": _advance_for_each,
}


def _advance_running(scheduler: TaskHost, run: dict[str, Any], task: dict[str, Any], now: int) -> None:
    advance = _RUNNING_WITHOUT_PROCESS.get(task_kind(task) or "")
    if advance is not None:
        advance(scheduler, run, task, now)
        return
    child = scheduler.child(run, task["run_id"])
    if child is None:
        end_task(
            run,
            task,
            now,
            "FAILED",
            "The task lost its process.",
            life="INTERNAL_ERROR",
            code="INTERNAL_ERROR",
        )
        return
    cancel = run["_cancel"] or ("user" if task.get("_cancel") else None)
    timeout = task.get("timeout_seconds") or 0
    timed_out = bool(timeout) and now - task["_running_at"] >= timeout * 1000
    if child.poll() is None and not cancel and not timed_out:
        if task.get("_cluster_id") and now - task.get("_touched", 0) >= _TOUCH_EVERY_MS:
            scheduler.clusters.touch(task["_cluster_id"])
            task["_touched"] = now
        return
    scheduler.drop_child(run, task["run_id"])
    if child.poll() is None or cancel or timed_out:
        scheduler.launcher.kill(child)
        logs, truncated = scheduler.launcher.discard(child)
        scheduler.runs.save_output(task["run_id"], {"logs": logs, "logs_truncated": truncated})
        if cancel == "user":
            end_task(run, task, now, "CANCELED", "Run was canceled by the user.", by_user=True)
        else:
            seconds = timeout if timed_out else run["_timeout_seconds"]
            end_task(run, task, now, "TIMEDOUT", f"Task timed out after {seconds} seconds.", by_user=True)
    else:
        outcome = scheduler.launcher.collect(child)
        scheduler.runs.save_output(task["run_id"], outcome.output())
        if outcome.task_values:
            run["_task_values"].setdefault(task["task_key"], {}).update(outcome.task_values)
        if outcome.failed:
            end_task(run, task, now, "FAILED", "Workload failed, see run output for details")
        else:
            end_task(run, task, now, "SUCCESS", "")
    maybe_retry(scheduler, run, task)


def _start_process(scheduler: TaskHost, run: dict[str, Any], task: dict[str, Any], now: int) -> None:
    """Once the task's cluster is RUNNING and its libraries are installed, start its child process."""
    try:
        if not _cluster_ready(scheduler, run, task):
            return
    except ApiError as exc:
        end_task(run, task, now, "FAILED", exc.message, life="INTERNAL_ERROR", code="CLUSTER_ERROR")
        return
    done, failure = scheduler.libraries_ready(run, task)
    if failure is not None:
        end_task(run, task, now, "FAILED", failure, life="INTERNAL_ERROR", code="LIBRARY_INSTALLATION_ERROR")
        return
    if not done:
        return
    try:
        spec = _child_spec(scheduler, run, task)
    except (ApiError, ValueError) as exc:
        message = exc.message if isinstance(exc, ApiError) else str(exc)
        end_task(run, task, now, "FAILED", message, life="INTERNAL_ERROR", code="CLUSTER_ERROR")
        return
    scheduler.start_child(run, task, spec)
    task["state"] = make_state("RUNNING", message="In run")
    task["_running_at"] = now
    task["setup_duration"] = now - task["start_time"]


def advance_task(scheduler: TaskHost, run: dict[str, Any], task: dict[str, Any], now: int) -> None:  # noqa: PLR0911
    """Move one task run on as far as it can go now."""
    life = task["state"]["life_cycle_state"]
    if life in TERMINAL:
        return
    cancel = run["_cancel"] or ("user" if task.get("_cancel") else None)
    if cancel and life != "RUNNING":
        result = "CANCELED" if cancel == "user" else "TIMEDOUT"
        end_task(run, task, now, result, "Run was canceled before the task started.", by_user=True)
        return
    if life == "BLOCKED":
        upstream = [
            _result_of(run, dep["task_key"], dep.get("outcome")) for dep in task.get("depends_on", [])
        ]
        if any(result is None for result in upstream):
            return
        outcome = run_if_outcome(task.get("run_if", "ALL_SUCCESS"), [str(r) for r in upstream])
        if outcome is not None:
            end_task(run, task, now, outcome, _SKIP_MESSAGES[outcome], life="SKIPPED")
            return
        task["state"] = make_state("PENDING")
        life = "PENDING"
    if life == "WAITING_FOR_RETRY":
        if now < task["_retry_at"]:
            return
        task["state"] = make_state("PENDING")
        life = "PENDING"
    if life == "PENDING":
        task["start_time"] = task["start_time"] or now
        if _started_without_process(scheduler, run, task, now):
            return
        _start_process(scheduler, run, task, now)
        return
    if life == "RUNNING":
        _advance_running(scheduler, run, task, now)
