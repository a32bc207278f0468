"""Check a job spec (Jobs API 2.2 ``create`` / ``reset`` settings) or a one-time run spec (``runs/submit``).

The service would refuse most bad specs too, but only after a round trip and often with a message about
the whole request; here each problem is one line such as ``spec: tasks[1].depends_on[0].task_key 'load'
is not a task of this job``, before any request.

Task kinds are an open set, as they are in the API: any ``*_task`` field of a task (``notebook_task``,
``dashboard_task``, ``power_bi_task``, ``dbt_cloud_task``, the kinds added next year) names its kind, and
a task has exactly one. What is checked is what brickbook relies on: task keys (present, unique),
``depends_on`` (naming tasks of the job, without cycles), cluster references (at most one compute source
per task, ``job_cluster_key`` defined in ``job_clusters``), and the required fields of the kinds brickbook
runs (``KNOWN_TASK_FIELDS``). Everything else is left to the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from brickbook.errors import UsageError
from brickbook.specs.fields import LIST, OBJECT, STRING, integer, optional, require

__all__ = ["COMPUTE_FIELDS", "KNOWN_TASK_FIELDS", "task_kinds", "validate_job_spec"]

# The task kinds brickbook runs (and its emulator executes), with the fields each one needs.
KNOWN_TASK_FIELDS: Mapping[str, tuple[str, ...]] = {
    "notebook_task": ("notebook_path",),
    "spark_python_task": ("python_file",),
}
# Where a task's compute comes from; none means serverless.
COMPUTE_FIELDS = ("existing_cluster_id", "new_cluster", "job_cluster_key", "environment_key")


def task_kinds(task: Mapping[str, Any]) -> list[str]:
    """Return the task kinds a task names: its ``*_task`` fields that are set (the API wants one)."""
    return [name for name, value in task.items() if name.endswith("_task") and value is not None]


def _validate_task(spec: Mapping[str, Any], index: int, cluster_keys: set[str]) -> str:
    at = f"tasks[{index}]"
    task = require(spec, at, OBJECT)
    key = str(require(spec, f"{at}.task_key", STRING))
    kinds = task_kinds(task)
    if not kinds:
        raise UsageError(
            f"spec: {at} needs a task kind: one *_task field such as {at}.notebook_task "
            f"or {at}.spark_python_task"
        )
    if len(kinds) > 1:
        raise UsageError(f"spec: give only one task kind in {at}, not {' and '.join(kinds)}")
    kind = kinds[0]
    if kind in KNOWN_TASK_FIELDS:
        require(spec, f"{at}.{kind}", OBJECT)
        for field in KNOWN_TASK_FIELDS[kind]:
            require(spec, f"{at}.{kind}.{field}", STRING)
    compute = [f"{at}.{name}" for name in COMPUTE_FIELDS if task.get(name) is not None]
    if len(compute) > 1:
        raise UsageError(f"spec: give at most one compute source in {at}, not {' and '.join(compute)}")
    optional(spec, f"{at}.existing_cluster_id", STRING)
    optional(spec, f"{at}.new_cluster", OBJECT)
    cluster_key = optional(spec, f"{at}.job_cluster_key", STRING)
    if cluster_key is not None and cluster_key not in cluster_keys:
        raise UsageError(f"spec: {at}.job_cluster_key {cluster_key!r} is not in job_clusters")
    optional(spec, f"{at}.max_retries", integer(minimum=-1))
    optional(spec, f"{at}.timeout_seconds", integer(minimum=0))
    for position in range(len(optional(spec, f"{at}.depends_on", LIST) or [])):
        require(spec, f"{at}.depends_on[{position}]", OBJECT)
        require(spec, f"{at}.depends_on[{position}].task_key", STRING)
    return key


def _validate_clusters(spec: Mapping[str, Any]) -> set[str]:
    keys: set[str] = set()
    for index in range(len(optional(spec, "job_clusters", LIST) or [])):
        require(spec, f"job_clusters[{index}]", OBJECT)
        key = str(require(spec, f"job_clusters[{index}].job_cluster_key", STRING))
        if key in keys:
            raise UsageError(f"spec: job_clusters[{index}].job_cluster_key {key!r} is used twice")
        keys.add(key)
        require(spec, f"job_clusters[{index}].new_cluster", OBJECT)
    return keys


def _find_cycle(graph: Mapping[str, list[str]]) -> list[str]:
    """Return one dependency cycle as ``[a, b, a]``, or ``[]`` (Kahn's algorithm, then a walk)."""
    waiting = {key: len(deps) for key, deps in graph.items()}
    dependents: dict[str, list[str]] = {key: [] for key in graph}
    for key, deps in graph.items():
        for dep in deps:
            dependents[dep].append(key)
    ready = [key for key, count in waiting.items() if count == 0]
    while ready:
        for dependent in dependents[ready.pop()]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    stuck = {key for key, count in waiting.items() if count > 0}
    if not stuck:
        return []
    walk = [min(stuck)]
    while True:  # every stuck task waits on a stuck task: walking upstream must come back round
        upstream = min(dep for dep in graph[walk[-1]] if dep in stuck)
        if upstream in walk:
            return [*walk[walk.index(upstream) :], upstream]
        walk.append(upstream)


def validate_job_spec(spec: Mapping[str, Any]) -> None:
    """Raise UsageError naming the first field of a job (or one-time run) spec that cannot be right."""
    optional(spec, "name", STRING)
    optional(spec, "run_name", STRING)
    optional(spec, "max_concurrent_runs", integer(minimum=0, maximum=1000))
    optional(spec, "timeout_seconds", integer(minimum=0))
    cluster_keys = _validate_clusters(spec)
    tasks = optional(spec, "tasks", LIST) or []
    keys: list[str] = []
    for index in range(len(tasks)):
        key = _validate_task(spec, index, cluster_keys)
        if key in keys:
            raise UsageError(f"spec: tasks[{index}].task_key {key!r} is used twice")
        keys.append(key)
    graph: dict[str, list[str]] = {}
    for index, task in enumerate(tasks):
        upstream = [str(d["task_key"]) for d in task.get("depends_on") or []]
        for position, dep in enumerate(upstream):
            if dep not in keys:
                at = f"tasks[{index}].depends_on[{position}].task_key"
                raise UsageError(f"spec: {at} {dep!r} is not a task of this job")
        graph[keys[index]] = upstream
    cycle = _find_cycle(graph)
    if cycle:
        raise UsageError(f"spec: the tasks depend on each other in a cycle: {' -> '.join(cycle)}")
