"""The Jobs API 2.0 single-task format, mapped onto the multi-task jobs and runs of 2.1/2.2.

A 2.0 job's settings carry one task's fields at the top level (``notebook_task``, ``spark_jar_task``,
``spark_python_task``, ``spark_submit_task``, ..., ``existing_cluster_id`` or ``new_cluster``,
``libraries``, ``max_retries``, ...). As the real service does, such a job is stored as a job with one
task (``format`` SINGLE_TASK; the task's key is the job's name made into a valid key) and 2.0 reads
hoist that task back to the top. A job with several tasks reads the same through 2.0 as through 2.1.
A 2.0 ``runs/get`` of a one-task run also shows that task's fields as ``task``, ``cluster_spec`` and
``cluster_instance`` at the top, as the legacy CLI expects.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from brickbook.emulator.errors import invalid

__all__ = ["SINGLE_TASK_FIELDS", "job_in_single_task_form", "run_in_single_task_form", "to_multi_task"]

# Fields of a 2.0 job (or runs/submit) that belong to its one task.
SINGLE_TASK_FIELDS = (
    "existing_cluster_id",
    "new_cluster",
    "libraries",
    "max_retries",
    "min_retry_interval_millis",
    "retry_on_timeout",
)
_CLUSTER_FIELDS = ("existing_cluster_id", "new_cluster")
_BAD_KEY_CHARS = re.compile(r"[^\w\-]")


def _task_key(name: object) -> str:
    key = _BAD_KEY_CHARS.sub("_", str(name or ""))[:100]
    return key or "Untitled"


def to_multi_task(settings: Any) -> dict[str, Any]:
    """2.0 settings -> 2.1 settings with one task (unchanged when they already use ``tasks``)."""
    if not isinstance(settings, dict):
        raise invalid("The job settings must be an object.")
    if "tasks" in settings:
        return copy.deepcopy(settings)
    converted = {k: copy.deepcopy(v) for k, v in settings.items()}
    task: dict[str, Any] = {}
    for name in list(converted):
        if name in SINGLE_TASK_FIELDS or name.endswith("_task"):
            task[name] = converted.pop(name)
    if task:
        task["task_key"] = _task_key(converted.get("name") or converted.get("run_name"))
        converted["tasks"] = [task]
    converted["format"] = "SINGLE_TASK"
    return converted


def job_in_single_task_form(job: Mapping[str, Any]) -> dict[str, Any]:
    """A job as 2.0 shows it: a SINGLE_TASK job's task hoisted into ``settings``."""
    shown = copy.deepcopy(dict(job))
    settings = shown["settings"]
    tasks = settings.get("tasks") or []
    if settings.get("format") == "SINGLE_TASK" and len(tasks) == 1:
        task = settings.pop("tasks")[0]
        task.pop("task_key", None)
        for name in ("depends_on", "run_if"):
            task.pop(name, None)
        settings.update(task)
    return shown


def run_in_single_task_form(run: Mapping[str, Any]) -> dict[str, Any]:
    """A run as 2.0 ``runs/get`` shows it: a one-task run's task kind, cluster spec and instance on top."""
    shown = copy.deepcopy(dict(run))
    tasks = shown.get("tasks") or []
    if len(tasks) != 1:
        return shown
    task = tasks[0]
    shown["task"] = {k: v for k, v in task.items() if k.endswith("_task")}
    spec = {k: task[k] for k in (*_CLUSTER_FIELDS, "libraries") if k in task}
    if spec:
        shown["cluster_spec"] = spec
    if "cluster_instance" in task:
        shown["cluster_instance"] = task["cluster_instance"]
    return shown
