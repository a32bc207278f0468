"""Saved jobs: create, reset, update, get, list, delete, and the settings rules (Jobs API 2.2).

Settings are validated as the real service does at create time: unique ``task_key``, ``depends_on``
naming existing tasks, no cycles, at most one compute source per task (none means serverless, which
the emulator runs like any other task), ``job_cluster_key`` naming a defined job cluster. Every task
kind is accepted and kept as given, as on the real service (any ``*_task`` object, so kinds the API
adds later are kept too); the kinds the emulator runs have their bodies checked (state/task_specs.py),
and a kind it cannot run ends its task run FAILED with a message naming the kind (runtime/task_runs.py).

Queueing defaults differ by API version: a job created through 2.2 queues unless ``queue.enabled`` is
false; one created through 2.0/2.1 does not queue unless ``queue.enabled`` is true.

Only an admin may create a job that runs as another principal (``run_as``). Who may read or change a
saved job is state/job_access.py's business.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.paging import encode_offset
from brickbook.emulator.state.store import Store
from brickbook.emulator.state.task_specs import (
    SUPPORTED_TASK_KINDS,
    check_task_body,
    check_task_kind,
    task_kind,
)

__all__ = [
    "JOB_KIND",
    "PAGE_SIZE",
    "SUPPORTED_TASK_KINDS",
    "JobsState",
    "job_does_not_exist",
    "task_kind",
    "validate_tasks",
]

JOB_KIND = "job"
PAGE_SIZE = 100  # 2.2 pages a job's and a run's arrays at 100
JOB_ARRAYS = ("tasks", "job_clusters", "parameters", "environments")
COMPUTE_FIELDS = ("existing_cluster_id", "new_cluster", "job_cluster_key", "environment_key")
RUN_IF = (
    "ALL_SUCCESS",
    "ALL_DONE",
    "NONE_FAILED",
    "AT_LEAST_ONE_SUCCESS",
    "ALL_FAILED",
    "AT_LEAST_ONE_FAILED",
)
_TASK_KEY = re.compile(r"^[\w\-]{1,100}$")
MAX_NAME_BYTES = 4096
MAX_DESCRIPTION = 27_700
MAX_TASKS = 1000
MAX_TAGS = 25
MAX_CONCURRENT_RUNS = 1000


def job_does_not_exist(job_id: object) -> ApiError:
    """The real answer for an unknown job: HTTP 400, which the SDK maps to ResourceDoesNotExist."""
    return invalid(f"Job {job_id} does not exist.")


def _check_task(task: Any, job_cluster_keys: set[str]) -> None:
    if not isinstance(task, dict):
        raise invalid("Each task must be an object.")
    key = task.get("task_key")
    if not isinstance(key, str) or not _TASK_KEY.match(key):
        raise invalid(f"Invalid task_key {key!r}: use 1-100 letters, digits, '_' or '-'.")
    check_task_body(task, check_task_kind(task))
    compute = [f for f in COMPUTE_FIELDS if task.get(f) is not None]
    if len(compute) > 1:
        raise invalid(f"Task {key} can set only one of {', '.join(COMPUTE_FIELDS)}; it sets {compute}.")
    cluster_key = task.get("job_cluster_key")
    if cluster_key is not None and cluster_key not in job_cluster_keys:
        raise invalid(f"Task {key} refers to job cluster {cluster_key!r}, which is not defined.")
    run_if = task.get("run_if", "ALL_SUCCESS")
    if run_if not in RUN_IF:
        raise invalid(f"Task {key}: run_if must be one of {', '.join(RUN_IF)}.")
    for name in ("timeout_seconds", "max_retries", "min_retry_interval_millis"):
        value = task.get(name, 0)
        # max_retries -1 means "retry forever" on the real service.
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or value < (-1 if name == "max_retries" else 0)
        ):
            raise invalid(f"Task {key}: {name} must be a non-negative integer.")


def _check_dag(tasks: list[dict[str, Any]]) -> None:
    keys = [t["task_key"] for t in tasks]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise invalid(f"Task keys must be unique: {', '.join(duplicates)} appear more than once.")
    graph: dict[str, list[str]] = {}
    for task in tasks:
        deps = task.get("depends_on", [])
        if not isinstance(deps, list) or not all(isinstance(d, dict) for d in deps):
            raise invalid(f"Task {task['task_key']}: depends_on must be a list of {{task_key}} objects.")
        graph[task["task_key"]] = [d.get("task_key") for d in deps]
        for dep in graph[task["task_key"]]:
            if dep not in graph and dep not in keys:
                raise invalid(f"Task {task['task_key']} depends on {dep}, which is not in the job.")
    _check_acyclic(graph)


def _check_acyclic(graph: Mapping[str, list[str]]) -> None:
    done: set[str] = set()
    for start in graph:
        path: list[str] = []
        stack: list[tuple[str, Iterable[str]]] = [(start, iter(graph[start]))]
        on_path = {start}
        path.append(start)
        while stack:
            node, deps = stack[-1]
            dep = next(iter(deps), None)
            if dep is None:
                stack.pop()
                on_path.discard(node)
                path.pop()
                done.add(node)
                continue
            if dep in on_path:
                cycle = [*path[path.index(dep) :], dep]
                raise invalid(f"The task dependencies form a cycle: {' -> '.join(cycle)}.")
            if dep not in done:
                on_path.add(dep)
                path.append(dep)
                stack.append((dep, iter(graph[dep])))


def validate_tasks(tasks: Any, job_clusters: Any = None) -> None:
    """Check a task list (and the job clusters it may refer to); raise INVALID_PARAMETER_VALUE."""
    if not isinstance(tasks, list):
        raise invalid("tasks must be a list.")
    if len(tasks) > MAX_TASKS:
        raise invalid(f"A job can have at most {MAX_TASKS} tasks.")
    clusters = job_clusters or []
    if not isinstance(clusters, list) or not all(isinstance(c, dict) for c in clusters):
        raise invalid("job_clusters must be a list of objects.")
    cluster_keys = [c.get("job_cluster_key") for c in clusters]
    for cluster in clusters:
        if not isinstance(cluster.get("job_cluster_key"), str) or not isinstance(
            cluster.get("new_cluster"), dict
        ):
            raise invalid("Each job cluster needs a job_cluster_key and a new_cluster.")
    if len(set(cluster_keys)) != len(cluster_keys):
        raise invalid("job_cluster_key values must be unique.")
    for task in tasks:
        _check_task(task, {str(k) for k in cluster_keys})
    _check_dag(tasks)


def _validate_settings(settings: dict[str, Any]) -> None:
    name = settings.get("name", "Untitled")
    if not isinstance(name, str) or len(name.encode()) > MAX_NAME_BYTES:
        raise invalid(f"name must be a string of at most {MAX_NAME_BYTES} bytes.")
    description = settings.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise invalid(f"description must be a string of at most {MAX_DESCRIPTION} characters.")
    limit = settings.get("max_concurrent_runs", 1)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= MAX_CONCURRENT_RUNS:
        raise invalid(f"max_concurrent_runs must be an integer from 0 to {MAX_CONCURRENT_RUNS}.")
    timeout = settings.get("timeout_seconds", 0)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 0:
        raise invalid("timeout_seconds must be a non-negative integer.")
    tags = settings.get("tags", {})
    if not isinstance(tags, dict) or len(tags) > MAX_TAGS:
        raise invalid(f"tags must be an object with at most {MAX_TAGS} entries.")
    parameters = settings.get("parameters", [])
    if not isinstance(parameters, list) or not all(
        isinstance(p, dict) and isinstance(p.get("name"), str) and isinstance(p.get("default"), str)
        for p in parameters
    ):
        raise invalid("parameters must be a list of {name, default} objects with string values.")
    names = [p["name"] for p in parameters]
    if len(set(names)) != len(names):
        raise invalid("Job parameter names must be unique.")
    queue = settings.get("queue", {})
    if not isinstance(queue, dict) or not isinstance(queue.get("enabled", False), bool):
        raise invalid("queue must be an object {enabled: bool}.")
    validate_tasks(settings.get("tasks", []), settings.get("job_clusters"))


def _merge_by_key(current: list[dict[str, Any]], updates: list[Any], key: str) -> list[dict[str, Any]]:
    merged = [dict(item) for item in current]
    index = {item.get(key): i for i, item in enumerate(merged)}
    for item in updates:
        if not isinstance(item, dict):
            raise invalid(f"Each entry must be an object with a {key}.")
        if item.get(key) in index:
            merged[index[item[key]]] = dict(item)
        else:
            index[item.get(key)] = len(merged)
            merged.append(dict(item))
    return merged


def _remove_fields(settings: dict[str, Any], fields: Any) -> None:
    """Apply ``fields_to_remove``: top-level names, ``tasks/<key>`` or ``job_clusters/<key>``."""
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise invalid("fields_to_remove must be a list of strings.")
    for field in fields:
        array, sep, item_key = field.partition("/")
        if sep and array in ("tasks", "job_clusters"):
            key_name = "task_key" if array == "tasks" else "job_cluster_key"
            settings[array] = [i for i in settings.get(array, []) if i.get(key_name) != item_key]
        else:
            settings.pop(field, None)


class JobsState:
    """Jobs in the store under kind ``job``, keyed by their id."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    def create(self, settings: dict[str, Any], *, creator: Principal, api_version: str) -> int:
        """Validate ``settings`` and save a new job; return its id."""
        settings = copy.deepcopy(settings)
        settings.setdefault("name", "Untitled")
        settings.setdefault("max_concurrent_runs", 1)
        settings.setdefault("email_notifications", {})
        settings.setdefault("timeout_seconds", 0)
        settings.setdefault("format", "MULTI_TASK")
        settings.pop("access_control_list", None)  # permissions, not settings
        run_as = settings.pop("run_as", None) or {}
        _validate_settings(settings)
        run_as_name = run_as.get("user_name") or run_as.get("service_principal_name") or creator.user_name
        if run_as_name != creator.user_name and not creator.is_admin:
            raise ApiError(
                "PERMISSION_DENIED",
                f"User {creator.user_name} cannot create a job that runs as {run_as_name}: "
                "only workspace admins can set run_as to another principal.",
            )
        with self._store.transaction():
            job_id = self._store.next_id(JOB_KIND)
            record = {
                "job_id": job_id,
                "creator_user_name": creator.user_name,
                "run_as_user_name": run_as_name,
                "created_time": int(self._clock() * 1000),
                "settings": settings,
                # Kept beside the settings so a later reset/update keeps the version's default.
                "queue_by_default": api_version == "2.2",
            }
            self._store.put(JOB_KIND, str(job_id), record)
        return job_id

    def record(self, job_id: Any) -> dict[str, Any]:
        """The stored job (with its internal fields); unknown -> the real 400 "does not exist"."""
        if isinstance(job_id, bool) or not isinstance(job_id, int | str):
            raise invalid("job_id is required and must be an integer.")
        found = self._store.get(JOB_KIND, str(job_id))
        if found is None:
            raise job_does_not_exist(job_id)
        return found

    def reset(self, job_id: Any, new_settings: Any) -> None:
        """Replace every setting of a job."""
        if not isinstance(new_settings, dict):
            raise invalid("new_settings is required.")
        with self._store.transaction():
            record = self.record(job_id)
            settings = copy.deepcopy(new_settings)
            settings.setdefault("name", "Untitled")
            settings.setdefault("max_concurrent_runs", 1)
            settings.pop("run_as", None)
            _validate_settings(settings)
            record["settings"] = settings
            self._store.put(JOB_KIND, str(record["job_id"]), record)

    def update(self, job_id: Any, new_settings: Any, fields_to_remove: Any) -> None:
        """Replace the given top-level settings; merge tasks and job clusters by key; remove fields."""
        with self._store.transaction():
            record = self.record(job_id)
            settings = copy.deepcopy(record["settings"])
            for name, value in (new_settings or {}).items():
                if name == "tasks" and isinstance(value, list):
                    settings["tasks"] = _merge_by_key(settings.get("tasks", []), value, "task_key")
                elif name == "job_clusters" and isinstance(value, list):
                    settings["job_clusters"] = _merge_by_key(
                        settings.get("job_clusters", []), value, "job_cluster_key"
                    )
                elif name != "run_as":
                    settings[name] = copy.deepcopy(value)
            if fields_to_remove is not None:
                _remove_fields(settings, fields_to_remove)
            _validate_settings(settings)
            record["settings"] = settings
            self._store.put(JOB_KIND, str(record["job_id"]), record)

    def delete(self, job_id: Any) -> None:
        record = self.record(job_id)
        self._store.delete(JOB_KIND, str(record["job_id"]))

    def all(self) -> list[dict[str, Any]]:
        """Every job, newest first (``offset`` counts from the most recently created job)."""
        return [record for _, record in reversed(self._store.items(JOB_KIND))]


def queue_enabled(record: Mapping[str, Any]) -> bool:
    """Whether new runs of this job wait in the queue when it is at its concurrency limit."""
    queue = record["settings"].get("queue") or {}
    enabled = queue.get("enabled")
    return bool(record.get("queue_by_default")) if enabled is None else bool(enabled)


def public_job(record: Mapping[str, Any], *, page: int | None, expand: bool = True) -> dict[str, Any]:
    """The API shape of a job; ``page`` set = 2.2 paging of its arrays (None = everything, as 2.1)."""
    settings = copy.deepcopy(record["settings"])
    job: dict[str, Any] = {
        "job_id": record["job_id"],
        "creator_user_name": record["creator_user_name"],
        "run_as_user_name": record["run_as_user_name"],
        "created_time": record["created_time"],
        "settings": settings,
    }
    if not expand:
        settings.pop("tasks", None)
        settings.pop("job_clusters", None)
        return job
    if page is None:
        return job
    more = False
    for name in JOB_ARRAYS:
        if name in settings or page > 0:
            items = settings.get(name, [])
            settings[name] = items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
            more = more or len(items) > (page + 1) * PAGE_SIZE
    if more:
        job["has_more"] = True
        job["next_page_token"] = encode_offset(page + 1)
        for name in JOB_ARRAYS:  # the SDK extends every array while paging: none may be missing
            settings.setdefault(name, [])
    return job


__all__ += ["public_job", "queue_enabled"]
