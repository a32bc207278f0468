"""The API shapes of job runs and task runs (``runs/get``, ``runs/list``, get-output's ``metadata``).

Internal fields (keys starting with ``_``) never leave the emulator; ``status`` is derived from
``state``; 2.2 pages ``tasks``, ``job_clusters``, ``job_parameters`` and ``repair_history`` at 100.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from brickbook.emulator.state.dag import render_status
from brickbook.emulator.state.jobs import PAGE_SIZE
from brickbook.emulator.state.paging import encode_offset

__all__ = ["every_task_run", "public_run", "public_task_run", "public_task_run_detail"]

_RUN_ARRAYS = ("tasks", "job_clusters", "job_parameters", "repair_history")


def _public(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in record.items() if not k.startswith("_")}


def public_task_run(run: Mapping[str, Any], task: Mapping[str, Any]) -> dict[str, Any]:
    """A task run as runs/get lists it, and as get-output's ``metadata``."""
    public = _public(task)
    public["status"] = render_status(task["state"], task.get("_termination"))
    public.setdefault("job_id", run["job_id"])
    public.setdefault("run_name", run["run_name"])
    return public


def every_task_run(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every task run of a job run: current, replaced by a repair, and for-each iterations."""
    tasks = [*record["tasks"], *record.get("_replaced", [])]
    return tasks + [i for t in tasks for i in t.get("_iterations", [])]


def public_task_run_detail(run: Mapping[str, Any], task: Mapping[str, Any]) -> dict[str, Any]:
    """``runs/get`` of a task run's id; a for-each task answers with itself in ``tasks`` and its
    ``iterations``, as the real service (and the SDK's paging of them) expects."""
    public = public_task_run(run, task)
    if "_iterations" in task:
        public["tasks"] = [public_task_run(run, task)]
        public["iterations"] = [public_task_run(run, i) for i in task["_iterations"]]
    return public


def public_run(
    record: Mapping[str, Any], *, page: int | None, include_history: bool = False, expand: bool = True
) -> dict[str, Any]:
    """The API shape of a job run; ``page`` set = 2.2 paging of its arrays at 100."""
    run = _public(record)
    run["status"] = render_status(record["state"], record.get("_termination"))
    run["tasks"] = [public_task_run(record, task) for task in record["tasks"]]
    if not include_history:
        run["repair_history"] = []
    if not expand:
        for name in ("tasks", "job_clusters", "repair_history"):
            run.pop(name, None)
        return run
    more = False
    if page is not None:
        for name in _RUN_ARRAYS:
            items = run.get(name, [])
            run[name] = items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
            more = more or len(items) > (page + 1) * PAGE_SIZE
        if more:
            run["has_more"] = True
            run["next_page_token"] = encode_offset(page + 1)
    if not more and not page:  # while paging the SDK extends every array: keep them all then
        for name in ("job_clusters", "job_parameters", "repair_history"):
            if not run.get(name):
                run.pop(name, None)
    return run
