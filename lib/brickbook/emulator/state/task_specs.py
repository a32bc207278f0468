"""What each task kind's body must hold at create (Jobs API 2.2 ``Task``), and which kind a task is.

Task kinds are an open set, as in the API: any ``*_task`` object is a kind, so a kind newer than the
emulator is kept as given. A task has exactly one kind. The bodies of the kinds the emulator runs are
checked for the fields it uses (``notebook_task.notebook_path``, ``spark_python_task.python_file``,
``sql_task``'s warehouse and file, ``condition_task``'s op and operands, ``run_job_task.job_id``,
``for_each_task``'s inputs, concurrency 1-100 and inner task, which may not be another for-each).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from brickbook.emulator.errors import invalid

__all__ = ["SUPPORTED_TASK_KINDS", "check_task_body", "check_task_kind", "task_kind"]

SUPPORTED_TASK_KINDS = ("notebook_task", "spark_python_task", "sql_task")
OTHER_TASK_KINDS = (
    "python_wheel_task",
    "spark_jar_task",
    "spark_submit_task",
    "run_job_task",
    "condition_task",
    "for_each_task",
    "pipeline_task",
    "dbt_task",
    "dashboard_task",
    "power_bi_task",
    "clean_rooms_notebook_task",
    "gen_ai_compute_task",
    "dbt_cloud_task",
)


def task_kind(task: Mapping[str, Any]) -> str | None:
    """The task's kind: its first ``*_task`` field holding an object (None when it has none)."""
    for name, value in task.items():
        if name.endswith("_task") and isinstance(value, dict):
            return name
    return None


def check_task_kind(task: Mapping[str, Any]) -> str:
    key = task.get("task_key")
    named = [k for k in (*SUPPORTED_TASK_KINDS, *OTHER_TASK_KINDS) if task.get(k) is not None]
    kinds = named + [k for k in task if k.endswith("_task") and k not in named and task[k] is not None]
    if not kinds:
        raise invalid(f"Task {key} must specify one of: {', '.join(SUPPORTED_TASK_KINDS)}.")
    if len(kinds) > 1:
        raise invalid(f"Task {key} specifies more than one task type: {', '.join(kinds)}.")
    if not isinstance(task[kinds[0]], dict):
        raise invalid(f"Task {key}: {kinds[0]} must be an object.")
    return kinds[0]


def check_task_body(task: Mapping[str, Any], kind: str) -> None:
    key = task["task_key"]
    body = task[kind]
    if kind not in SUPPORTED_TASK_KINDS:
        _check_other_task(key, kind, body)
        return
    if kind == "notebook_task":
        path = body.get("notebook_path")
        if not isinstance(path, str) or not path:
            raise invalid(f"Task {key}: notebook_task.notebook_path is required.")
        params = body.get("base_parameters", {})
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            raise invalid(f"Task {key}: notebook_task.base_parameters must map names to strings.")
    elif kind == "sql_task":
        _check_sql_task(key, body)
        return
    else:
        path = body.get("python_file")
        if not isinstance(path, str) or not path:
            raise invalid(f"Task {key}: spark_python_task.python_file is required.")
        params = body.get("parameters", [])
        if not isinstance(params, list) or not all(isinstance(v, str) for v in params):
            raise invalid(f"Task {key}: spark_python_task.parameters must be a list of strings.")
    if body.get("source", "WORKSPACE") != "WORKSPACE":
        raise invalid(f"Task {key}: source {body['source']} is not supported by the brickbook emulator.")


def _check_other_task(key: str, kind: str, body: Mapping[str, Any]) -> None:
    """The fields the emulator uses of ``condition_task``, ``run_job_task``, ``python_wheel_task`` and
    ``for_each_task``."""
    if kind == "condition_task":
        if not isinstance(body.get("op"), str) or not all(
            isinstance(body.get(side), str) for side in ("left", "right")
        ):
            raise invalid(f"Task {key}: condition_task needs op, left and right (strings).")
    elif kind == "run_job_task":
        if isinstance(body.get("job_id"), bool) or not isinstance(body.get("job_id"), int):
            raise invalid(f"Task {key}: run_job_task.job_id is required and must be an integer.")
    elif kind == "python_wheel_task":
        _check_wheel_task(key, body)
    elif kind == "for_each_task":
        inner = body.get("task")
        if not isinstance(body.get("inputs"), str) or not isinstance(inner, dict):
            raise invalid(f"Task {key}: for_each_task needs inputs (a string) and a task.")
        concurrency = body.get("concurrency", 1)
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 100:
            raise invalid(f"Task {key}: for_each_task.concurrency must be an integer from 1 to 100.")
        inner_kind = check_task_kind({"task_key": key, **inner})
        if inner_kind == "for_each_task":
            raise invalid(f"Task {key}: a for_each_task cannot contain another for_each_task.")
        check_task_body({**inner, "task_key": key}, inner_kind)


def _check_wheel_task(key: str, body: Mapping[str, Any]) -> None:
    """``python_wheel_task``: package_name and entry_point; string parameters or named_parameters."""
    if not all(isinstance(body.get(f), str) and body.get(f) for f in ("package_name", "entry_point")):
        raise invalid(f"Task {key}: python_wheel_task needs package_name and entry_point (strings).")
    params, named = body.get("parameters", []), body.get("named_parameters", {})
    if not isinstance(params, list) or not all(isinstance(v, str) for v in params):
        raise invalid(f"Task {key}: python_wheel_task.parameters must be a list of strings.")
    if not isinstance(named, dict) or not all(isinstance(v, str) for v in named.values()):
        raise invalid(f"Task {key}: python_wheel_task.named_parameters must map names to strings.")


def _check_sql_task(key: str, body: Mapping[str, Any]) -> None:
    """Jobs API ``sql_task``: a ``warehouse_id`` and one of ``file``, ``query``, ``alert``, ``dashboard``."""
    warehouse_id = body.get("warehouse_id")
    if not isinstance(warehouse_id, str) or not warehouse_id:
        raise invalid(f"Task {key}: sql_task.warehouse_id is required.")
    kinds = [k for k in ("file", "query", "alert", "dashboard") if body.get(k) is not None]
    if len(kinds) != 1:
        raise invalid(f"Task {key}: sql_task must set exactly one of file, query, alert, dashboard.")
    file = body.get("file")
    if file is not None and (not isinstance(file, dict) or not isinstance(file.get("path"), str)):
        raise invalid(f"Task {key}: sql_task.file.path is required.")
    if file is not None and file.get("source", "WORKSPACE") != "WORKSPACE":
        raise invalid(f"Task {key}: source {file['source']} is not supported by the brickbook emulator.")
    params = body.get("parameters", {})
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        raise invalid(f"Task {key}: sql_task.parameters must map names to strings.")
