"""Jobs API under both ``/api/2.1/jobs/`` and ``/api/2.2/jobs/``, with real execution.

The version matters in three places: a job created through 2.2 queues by default; 2.2 pages
``jobs/get`` and ``runs/get`` arrays at 100 (``next_page_token`` -> ``page_token``); 2.2 cuts the
arrays in ``list``/``runs/list`` with ``expand_tasks`` at 100 and sets ``has_more``. A missing job or
run is the real HTTP 400 INVALID_PARAMETER_VALUE "... does not exist"; ``runs/get-output`` on a run
with several tasks is the real 400. Runs execute in child processes driven by runtime/scheduler.py;
the base URL the caller used is recorded so the child can call back (notebook source, DBFS, secrets).
Every call on a saved job or a run first asks state/job_access.py whether the caller may.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.errors import invalid
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.job_access import JobAccess
from brickbook.emulator.state.jobs import (
    JobsState,
    public_job,
    queue_enabled,
    validate_tasks,
)
from brickbook.emulator.state.numbers import whole_number
from brickbook.emulator.state.paging import decode_offset, page_of
from brickbook.emulator.state.permissions import TYPES, Entry, PermissionsState, parse_acl
from brickbook.emulator.state.run_views import (
    every_task_run,
    public_run,
    public_task_run_detail,
)
from brickbook.emulator.state.runs import NewRun
from brickbook.emulator.wire import base_url, caller, json_response, read_json

__all__ = ["Handler", "JobsArea", "required_id"]

VERSIONS = ("2.1", "2.2")
RUN_TYPES = ("JOB_RUN", "WORKFLOW_RUN", "SUBMIT_RUN")
Handler = Callable[[Request], Awaitable[Response]]


def _version(request: Request) -> str:
    return request.url.path.split("/")[2]


def _int(query: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise invalid(f"{name} must be an integer, got {raw!r}.") from exc


def _flag(query: Mapping[str, str], name: str) -> bool:
    return query.get(name, "false").lower() == "true"


def required_id(value: Any, name: str) -> int:
    number = whole_number(value)
    if number is None:
        raise invalid(f"{name} is required and must be an integer.")
    return number


def _page(query: Mapping[str, str], version: str) -> int | None:
    """The 2.2 page of a job's or run's arrays (None under 2.1: everything at once)."""
    if version != "2.2":
        return None
    token = query.get("page_token")
    return decode_offset(token) if token else 0


def _offset_and_limit(query: Mapping[str, str], *, default: int, maximum: int) -> tuple[int, int]:
    limit = _int(query, "limit", default) or maximum
    if not 1 <= limit <= maximum:
        raise invalid(f"limit must be between 1 and {maximum}, got {limit}.")
    token = query.get("page_token")
    offset = decode_offset(token) if token else _int(query, "offset", 0) or 0
    if offset < 0:
        raise invalid("offset must not be negative.")
    return offset, limit


def _paged(key: str, items: list[dict[str, Any]], offset: int, limit: int) -> dict[str, Any]:
    """A list answer: the key left out when empty, as the real service does."""
    page = page_of(items, offset, limit)
    answer: dict[str, Any] = {key: page.items} if page.items else {}
    answer["has_more"] = page.next_token is not None
    if page.next_token is not None:
        answer["next_page_token"] = page.next_token
    if page.prev_token is not None:
        answer["prev_page_token"] = page.prev_token
    return answer


class JobsArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        self.jobs = JobsState(context.store, context.clock)
        self.runs = context.services.runs
        self.access = JobAccess(context.store, self.jobs, self.runs, context.services.clusters)
        self.identity = context.identity
        self.scheduler = context.services.scheduler
        self.permissions = PermissionsState(context.store, context.services.scim)

    def routes(self) -> Sequence[BaseRoute]:
        table: list[tuple[str, Handler, str]] = [
            ("create", self.create, "POST"),
            ("reset", self.reset_job, "POST"),
            ("update", self.update, "POST"),
            ("get", self.get, "GET"),
            ("list", self.list, "GET"),
            ("delete", self.delete, "POST"),
            ("run-now", self.run_now, "POST"),
            ("runs/submit", self.submit, "POST"),
            ("runs/get", self.get_run, "GET"),
            ("runs/get-output", self.get_output, "GET"),
            ("runs/list", self.list_runs, "GET"),
            ("runs/cancel", self.cancel, "POST"),
            ("runs/cancel-all", self.cancel_all, "POST"),
            ("runs/repair", self.repair, "POST"),
            ("runs/delete", self.delete_run, "POST"),
        ]
        return [
            Route(f"/api/{version}/jobs/{name}", handler, methods=[method])
            for version in VERSIONS
            for name, handler, method in table
        ]

    # -- jobs -----------------------------------------------------------------------------------

    async def create(self, request: Request) -> Response:
        """``POST create`` -> ``{job_id}``."""
        body = await read_json(request)
        acl = self._initial_acl(caller(request), body)
        job_id = self.jobs.create(body, creator=caller(request), api_version=_version(request))
        if acl is not None:
            self.access.acls.save("job", job_id, acl)
        return json_response({"job_id": job_id})

    def _initial_acl(self, who: Principal, body: dict[str, Any]) -> list[Entry] | None:
        """The ``access_control_list`` a create or submit names, checked before anything is made."""
        if not body.get("access_control_list"):
            return None
        return self.permissions.initial(TYPES["jobs"], who, parse_acl(body))

    async def reset_job(self, request: Request) -> Response:
        body = await read_json(request)
        job = self.access.job(caller(request), required_id(body.get("job_id"), "job_id"), "CAN_MANAGE")
        self.jobs.reset(job["job_id"], body.get("new_settings"))
        return json_response({})

    async def update(self, request: Request) -> Response:
        body = await read_json(request)
        job = self.access.job(caller(request), required_id(body.get("job_id"), "job_id"), "CAN_MANAGE")
        self.jobs.update(job["job_id"], body.get("new_settings"), body.get("fields_to_remove"))
        return json_response({})

    async def get(self, request: Request) -> Response:
        """``GET get?job_id&page_token``; 2.2 pages the arrays at 100."""
        job_id = required_id(request.query_params.get("job_id"), "job_id")
        record = self.access.job(caller(request), job_id, "CAN_VIEW")
        return json_response(public_job(record, page=_page(request.query_params, _version(request))))

    async def list(self, request: Request) -> Response:
        """``GET list``: the jobs the caller may view, newest first; ``name`` matches exactly, any case."""
        query = request.query_params
        offset, limit = _offset_and_limit(query, default=20, maximum=100)
        name = query.get("name")
        records = [
            r
            for r in self.access.visible_jobs(caller(request), self.jobs.all())
            if name is None or r["settings"]["name"].lower() == name.lower()
        ]
        expand = _flag(query, "expand_tasks")
        page = 0 if _version(request) == "2.2" else None
        jobs = []
        for record in records:
            job = public_job(record, page=page, expand=expand)
            job.pop("next_page_token", None)
            jobs.append(job)
        return json_response(_paged("jobs", jobs, offset, limit))

    async def delete(self, request: Request) -> Response:
        body = await read_json(request)
        job = self.access.job(caller(request), required_id(body.get("job_id"), "job_id"), "CAN_MANAGE")
        self.jobs.delete(job["job_id"])
        self.access.acls.drop("job", job["job_id"])
        return json_response({})

    # -- starting runs ------------------------------------------------------------------------------

    async def run_now(self, request: Request) -> Response:
        """``POST run-now`` -> ``{run_id, number_in_job}``; a repeated idempotency_token finds its run."""
        body = await read_json(request)
        job = self.access.job(caller(request), required_id(body.get("job_id"), "job_id"), "CAN_MANAGE_RUN")
        settings = job["settings"]
        tasks = _only(settings.get("tasks", []), body.get("only"))
        self.access.check_clusters(self.identity.principal(job["run_as_user_name"]), tasks)
        queue = (body.get("queue") or {}).get("enabled")
        run, _ = self.runs.start(
            NewRun(
                tasks=tasks,
                run_name=settings["name"],
                run_type="JOB_RUN",
                creator=job["run_as_user_name"],
                base_url=base_url(request),
                job=job,
                job_clusters=settings.get("job_clusters"),
                timeout_seconds=settings.get("timeout_seconds", 0),
                body=body,
                queue=queue_enabled(job) if queue is None else bool(queue),
                max_concurrent_runs=settings.get("max_concurrent_runs", 1),
            )
        )
        self.scheduler.wake()
        return json_response({"run_id": run["run_id"], "number_in_job": run["number_in_job"]})

    async def submit(self, request: Request) -> Response:
        """``POST runs/submit`` -> ``{run_id}``: a one-time run (run_type SUBMIT_RUN), no saved job."""
        return await self.start_submit(request, await read_json(request))

    async def start_submit(self, request: Request, body: dict[str, Any]) -> Response:
        """Start a one-time run from a (multi-task) submit body."""
        tasks = body.get("tasks")
        if not tasks:
            raise invalid("tasks is required.")
        validate_tasks(tasks, body.get("job_clusters"))
        self.access.check_clusters(caller(request), tasks)
        acl = self._initial_acl(caller(request), body)
        timeout = body.get("timeout_seconds", 0)
        if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout < 0:
            raise invalid("timeout_seconds must be a non-negative integer.")
        run, _ = self.runs.start(
            NewRun(
                tasks=tasks,
                run_name=str(body.get("run_name") or "Untitled"),
                run_type="SUBMIT_RUN",
                creator=caller(request).user_name,
                base_url=base_url(request),
                job_clusters=body.get("job_clusters"),
                timeout_seconds=timeout,
                body={"idempotency_token": body.get("idempotency_token"), "format": body.get("format")},
            )
        )
        if acl is not None:
            self.access.acls.save("job", run["job_id"], acl)
        self.scheduler.wake()
        return json_response({"run_id": run["run_id"]})

    # -- reading runs -------------------------------------------------------------------------------

    async def get_run(self, request: Request) -> Response:
        """``GET runs/get?run_id``: a job run, or a task run when given a task run's id."""
        query = request.query_params
        run_id = required_id(query.get("run_id"), "run_id")
        record = self.access.run(caller(request), run_id, "CAN_VIEW")
        if run_id != record["run_id"]:
            task = next(t for t in every_task_run(record) if t["run_id"] == run_id)
            return json_response(public_task_run_detail(record, task))
        page = _page(query, _version(request))
        return json_response(public_run(record, page=page, include_history=_flag(query, "include_history")))

    async def get_output(self, request: Request) -> Response:
        """``GET runs/get-output?run_id``: a task run's exit value, logs and error."""
        run_id = required_id(request.query_params.get("run_id"), "run_id")
        self.access.run(caller(request), run_id, "CAN_VIEW")
        return json_response(self.runs.output(run_id))

    async def list_runs(self, request: Request) -> Response:
        """``GET runs/list``: the runs the caller may view, newest started first; ``limit`` 1-25 (0: 25)."""
        return json_response(self.listed_runs(request))

    def listed_runs(self, request: Request) -> dict[str, Any]:
        """The answer of ``runs/list`` (a page of runs and ``has_more``), before it is serialised."""
        query = request.query_params
        if _flag(query, "active_only") and _flag(query, "completed_only"):
            raise invalid("active_only and completed_only cannot both be true.")
        run_type = query.get("run_type")
        if run_type is not None and run_type not in RUN_TYPES:
            raise invalid(f"run_type must be one of {', '.join(RUN_TYPES)}.")
        offset, limit = _offset_and_limit(query, default=20, maximum=25)
        records = self.runs.list_runs(
            job_id=_int(query, "job_id"),
            active_only=_flag(query, "active_only"),
            completed_only=_flag(query, "completed_only"),
            run_type=run_type,
            start_time_from=_int(query, "start_time_from"),
            start_time_to=_int(query, "start_time_to"),
        )
        records = self.access.runs_where(caller(request), "CAN_VIEW", records)
        expand = _flag(query, "expand_tasks")
        page = 0 if _version(request) == "2.2" else None
        runs = []
        for record in records:
            run = public_run(record, page=page, expand=expand)
            run.pop("next_page_token", None)
            runs.append(run)
        return _paged("runs", runs, offset, limit)

    # -- changing runs -------------------------------------------------------------------------------

    async def cancel(self, request: Request) -> Response:
        """``POST runs/cancel {run_id}``: asynchronous; a job run or one task run."""
        run_id = required_id((await read_json(request)).get("run_id"), "run_id")
        self.access.run(caller(request), run_id, "CAN_MANAGE_RUN")
        self.runs.cancel(run_id)
        self.scheduler.wake()
        return json_response({})

    async def cancel_all(self, request: Request) -> Response:
        body = await read_json(request)
        all_queued = body.get("all_queued_runs") is True
        job_id = body.get("job_id")
        if job_id is None and not all_queued:
            raise invalid("Set job_id, or all_queued_runs to cancel every queued run.")
        principal = caller(request)
        if job_id is not None:
            job_id = self.access.job(principal, required_id(job_id, "job_id"), "CAN_MANAGE_RUN")["job_id"]
        self.runs.cancel_all(
            job_id,
            all_queued_runs=all_queued,
            only=lambda run: self.access.may_run(principal, run, "CAN_MANAGE_RUN"),
        )
        self.scheduler.wake()
        return json_response({})

    async def repair(self, request: Request) -> Response:
        """``POST runs/repair`` -> ``{repair_id}``; the run must have finished."""
        body = await read_json(request)
        run_id = required_id(body.get("run_id"), "run_id")
        self.access.run(caller(request), run_id, "CAN_MANAGE_RUN")
        repair_id = self.runs.repair(run_id, body)
        self.scheduler.wake()
        return json_response({"repair_id": repair_id})

    async def delete_run(self, request: Request) -> Response:
        run_id = required_id((await read_json(request)).get("run_id"), "run_id")
        self.access.run(caller(request), run_id, "CAN_MANAGE_RUN")
        self.runs.delete(run_id)
        return json_response({})


def _only(tasks: list[dict[str, Any]], only: Any) -> list[dict[str, Any]]:
    """run-now ``only``: run just these tasks (dependencies on tasks left out are dropped)."""
    if only is None:
        return tasks
    if not isinstance(only, list) or not all(isinstance(k, str) for k in only):
        raise invalid("only must be a list of task keys.")
    unknown = sorted(set(only) - {t["task_key"] for t in tasks})
    if unknown:
        raise invalid(f"Task(s) {', '.join(unknown)} are not part of the job.")
    chosen = [dict(t) for t in tasks if t["task_key"] in only]
    for task in chosen:
        task["depends_on"] = [d for d in task.get("depends_on", []) if d["task_key"] in only]
    return chosen
