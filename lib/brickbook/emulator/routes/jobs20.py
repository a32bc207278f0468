"""Jobs API 2.0 (``/api/2.0/jobs/*``): the single-task format over the same jobs and runs as 2.1/2.2.

The legacy ``databricks`` CLI (0.18) and older scripts default to it. ``create``, ``reset``,
``runs/submit``, ``get``, ``list``, ``runs/get`` and ``runs/list`` translate through state/jobs20.py;
run-now, cancel, get-output and runs/delete are the 2.1 handlers (2.0 has no array paging and no queueing by
default, as 2.1). Access checks are the same as for 2.1.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.routes.jobs import Handler, JobsArea, required_id
from brickbook.emulator.state.jobs import public_job
from brickbook.emulator.state.jobs20 import job_in_single_task_form, run_in_single_task_form, to_multi_task
from brickbook.emulator.state.run_views import public_run
from brickbook.emulator.wire import caller, json_response, read_json

__all__ = ["Jobs20Area"]

PREFIX = "/api/2.0/jobs"


class Jobs20Area(JobsArea):
    """The 2.0 routes; state and access are shared with 2.1/2.2 through the store and services."""

    def routes(self) -> Sequence[BaseRoute]:
        table: list[tuple[str, Handler, str]] = [
            ("create", self.create20, "POST"),
            ("reset", self.reset20, "POST"),
            ("get", self.get20, "GET"),
            ("list", self.list20, "GET"),
            ("delete", self.delete, "POST"),
            ("run-now", self.run_now, "POST"),
            ("runs/submit", self.submit20, "POST"),
            ("runs/get", self.get_run20, "GET"),
            ("runs/get-output", self.get_output, "GET"),
            ("runs/list", self.list_runs20, "GET"),
            ("runs/cancel", self.cancel, "POST"),
            ("runs/delete", self.delete_run, "POST"),
        ]
        return [Route(f"{PREFIX}/{name}", handler, methods=[method]) for name, handler, method in table]

    async def create20(self, request: Request) -> Response:
        """``POST create`` with single-task settings at the top level -> ``{job_id}``."""
        settings = to_multi_task(await read_json(request))
        job_id = self.jobs.create(settings, creator=caller(request), api_version="2.0")
        return json_response({"job_id": job_id})

    async def reset20(self, request: Request) -> Response:
        body = await read_json(request)
        job = self.access.job(caller(request), required_id(body.get("job_id"), "job_id"), "CAN_MANAGE")
        self.jobs.reset(job["job_id"], to_multi_task(body.get("new_settings")))
        return json_response({})

    async def get20(self, request: Request) -> Response:
        job_id = required_id(request.query_params.get("job_id"), "job_id")
        record = self.access.job(caller(request), job_id, "CAN_VIEW")
        return json_response(job_in_single_task_form(public_job(record, page=None)))

    async def list20(self, request: Request) -> Response:
        """``GET list``: every job the caller may view, in the 2.0 form (2.0 lists all, unpaged)."""
        records = self.access.visible_jobs(caller(request), self.jobs.all())
        jobs = [job_in_single_task_form(public_job(r, page=None)) for r in records]
        return json_response({"jobs": jobs} if jobs else {})

    async def submit20(self, request: Request) -> Response:
        """``POST runs/submit`` in the single-task form -> ``{run_id}``."""
        body = to_multi_task(await read_json(request))
        return await self.start_submit(request, body)

    async def get_run20(self, request: Request) -> Response:
        run_id = required_id(request.query_params.get("run_id"), "run_id")
        record = self.access.run(caller(request), run_id, "CAN_VIEW")
        if run_id != record["run_id"]:
            return await self.get_run(request)
        return json_response(run_in_single_task_form(public_run(record, page=None)))

    async def list_runs20(self, request: Request) -> Response:
        """``GET runs/list``: as 2.1, with a one-task run's ``task`` and cluster on top, as 2.0 shows them."""
        answer = self.listed_runs(request)
        for listed in answer.get("runs", []):
            record = self.runs.get(listed["run_id"])
            if record is not None:
                shown = run_in_single_task_form(public_run(record, page=None))
                listed.update(
                    {k: shown[k] for k in ("task", "cluster_spec", "cluster_instance") if k in shown}
                )
        return json_response(answer)
