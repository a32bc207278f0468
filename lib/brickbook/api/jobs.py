"""Jobs API primitives (``/api/2.2/jobs/*``): one function per endpoint.

Jobs API 2.2 ("Updating from Jobs API 2.1 to 2.2"): 2.2 pages a job's
``tasks``/``job_clusters``/``parameters``/``environments`` and a run's
``tasks``/``job_clusters``/``job_parameters``/``repair_history`` at 100 (``get`` and ``runs/get`` merge
every page here); a missing job or run is HTTP 400 INVALID_PARAMETER_VALUE "... does not exist" (raised
as ResourceDoesNotExist); ``runs/get-output`` answers for task runs only; a repeated
``idempotency_token`` returns the run it first started, which makes run-now and submit safe to retry.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from brickbook.api.model import ApiObject, OpenEnum
from brickbook.client import Client

__all__ = [
    "BaseJob",
    "Job",
    "LifeCycleState",
    "ResultState",
    "Run",
    "RunOutput",
    "cancel_all_runs",
    "cancel_run",
    "create",
    "delete",
    "delete_run",
    "get",
    "get_run",
    "get_run_output",
    "list_",
    "list_runs",
    "repair_run",
    "reset",
    "run_now",
    "submit",
]

BASE = "/api/2.2/jobs"
JOB_PAGED_ARRAYS = ("tasks", "job_clusters", "parameters", "environments")
RUN_PAGED_ARRAYS = ("tasks", "job_clusters", "job_parameters", "repair_history", "iterations")


class LifeCycleState(OpenEnum):
    QUEUED = "QUEUED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    TERMINATING = "TERMINATING"
    TERMINATED = "TERMINATED"
    SKIPPED = "SKIPPED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    BLOCKED = "BLOCKED"
    WAITING_FOR_RETRY = "WAITING_FOR_RETRY"


TERMINAL_LIFE_CYCLE_STATES = frozenset(
    {LifeCycleState.TERMINATED, LifeCycleState.SKIPPED, LifeCycleState.INTERNAL_ERROR}
)


class ResultState(OpenEnum):
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    TIMEDOUT = "TIMEDOUT"
    CANCELED = "CANCELED"
    MAXIMUM_CONCURRENT_RUNS_REACHED = "MAXIMUM_CONCURRENT_RUNS_REACHED"
    EXCLUDED = "EXCLUDED"
    SUCCESS_WITH_FAILURES = "SUCCESS_WITH_FAILURES"
    UPSTREAM_FAILED = "UPSTREAM_FAILED"
    UPSTREAM_CANCELED = "UPSTREAM_CANCELED"
    DISABLED = "DISABLED"


@dataclass(frozen=True)
class BaseJob(ApiObject):
    """A job as listed: id, creator and settings."""

    job_id: int = 0
    creator_user_name: str | None = None
    created_time: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Return the job's name (settings.name)."""
        return str(self.settings.get("name", ""))


@dataclass(frozen=True)
class Job(BaseJob):
    """A job as ``jobs/get`` returns it: all its settings, and who its runs run as."""

    run_as_user_name: str | None = None


@dataclass(frozen=True)
class Run(ApiObject):
    """A job run, a submitted run or a task run."""

    run_id: int = 0
    job_id: int | None = None
    run_name: str | None = None
    run_type: str | None = None
    state: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    start_time: int | None = None
    end_time: int | None = None
    run_page_url: str | None = None
    task_key: str | None = None

    @property
    def life_cycle_state(self) -> LifeCycleState | None:
        """Return ``state.life_cycle_state`` as an (open) enum."""
        value = self.state.get("life_cycle_state")
        return LifeCycleState(value) if value else None

    @property
    def result_state(self) -> ResultState | None:
        """Return ``state.result_state`` (set only in terminal states)."""
        value = self.state.get("result_state")
        return ResultState(value) if value else None

    @property
    def state_message(self) -> str:
        """Return ``state.state_message`` (may be empty)."""
        return str(self.state.get("state_message") or "")

    @property
    def is_terminal(self) -> bool:
        """Tell whether the run has settled (TERMINATED, SKIPPED or INTERNAL_ERROR)."""
        return self.life_cycle_state in TERMINAL_LIFE_CYCLE_STATES


@dataclass(frozen=True)
class RunOutput(ApiObject):
    """The output of one task run: notebook exit value, logs, error and trace."""

    notebook_output: dict[str, Any] = field(default_factory=dict)
    logs: str | None = None
    logs_truncated: bool = False
    error: str | None = None
    error_trace: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def _merge_pages(client: Client, path: str, query: dict[str, Any], arrays: tuple[str, ...]) -> dict[str, Any]:
    """GET an object whose arrays are paged at 100 and return it with every page merged in."""
    first: dict[str, Any] = client.get(path, query)
    holder = first.get("settings", first) if "settings" in first else first
    token = first.get("next_page_token")
    seen: set[str] = set()
    while token and token not in seen:
        seen.add(token)
        page = client.get(path, {**query, "page_token": token})
        source = page.get("settings", page) if "settings" in page else page
        for key in arrays:
            if source.get(key):
                holder.setdefault(key, []).extend(source[key])
        token = page.get("next_page_token")
    first.pop("next_page_token", None)
    first.pop("has_more", None)
    return first


def create(client: Client, settings: Mapping[str, Any]) -> int:
    """Create a job from its settings: ``POST /api/2.2/jobs/create``; return the job id."""
    return int(client.post(f"{BASE}/create", dict(settings))["job_id"])


def reset(client: Client, job_id: int, new_settings: Mapping[str, Any]) -> None:
    """Replace all of a job's settings: ``POST /api/2.2/jobs/reset``."""
    client.post(f"{BASE}/reset", {"job_id": job_id, "new_settings": dict(new_settings)})


def get(client: Client, job_id: int) -> Job:
    """Return a job with all its tasks and clusters: ``GET /api/2.2/jobs/get`` (pages merged)."""
    return Job.from_api(_merge_pages(client, f"{BASE}/get", {"job_id": job_id}, JOB_PAGED_ARRAYS))


def list_(client: Client, *, name: str | None = None, expand_tasks: bool = False) -> Iterator[BaseJob]:
    """Yield every job (optionally with an exact, case-insensitive name): ``GET /api/2.2/jobs/list``."""
    query = {"name": name, "expand_tasks": expand_tasks or None, "limit": 100}
    return (BaseJob.from_api(j) for j in client.paginate(f"{BASE}/list", items_key="jobs", query=query))


def delete(client: Client, job_id: int) -> None:
    """Delete a job: ``POST /api/2.2/jobs/delete``."""
    client.post(f"{BASE}/delete", {"job_id": job_id})


def run_now(
    client: Client,
    job_id: int,
    *,
    idempotency_token: str,
    job_parameters: Mapping[str, str] | None = None,
    notebook_params: Mapping[str, str] | None = None,
) -> int:
    """Trigger a job: ``POST /api/2.2/jobs/run-now``; return the run id.

    The idempotency token is required here: a retried or repeated call with the same token returns the
    run the first one started, so a lost response can never start a second run.
    """
    body: dict[str, Any] = {"job_id": job_id, "idempotency_token": idempotency_token}
    if job_parameters:
        body["job_parameters"] = dict(job_parameters)
    if notebook_params:
        body["notebook_params"] = dict(notebook_params)
    return int(client.post(f"{BASE}/run-now", body)["run_id"])


def submit(client: Client, spec: Mapping[str, Any], *, idempotency_token: str) -> int:
    """Submit a one-time run: ``POST /api/2.2/jobs/runs/submit``; return the run id."""
    return int(client.post(f"{BASE}/runs/submit", {**spec, "idempotency_token": idempotency_token})["run_id"])


def get_run(client: Client, run_id: int, *, include_history: bool = False) -> Run:
    """Return a run with all its task runs: ``GET /api/2.2/jobs/runs/get`` (pages merged).

    ``repair_history`` is filled only with ``include_history``: a second repair needs the latest
    repair id from it.
    """
    query: dict[str, Any] = {"run_id": run_id}
    if include_history:
        query["include_history"] = True
    return Run.from_api(_merge_pages(client, f"{BASE}/runs/get", query, RUN_PAGED_ARRAYS))


def get_run_output(client: Client, run_id: int) -> RunOutput:
    """Return one task run's output: ``GET /api/2.2/jobs/runs/get-output`` (task runs only)."""
    return RunOutput.from_api(client.get(f"{BASE}/runs/get-output", {"run_id": run_id}))


def list_runs(
    client: Client, *, job_id: int | None = None, active_only: bool = False, limit: int = 25
) -> Iterator[Run]:
    """Yield runs, newest first: ``GET /api/2.2/jobs/runs/list``."""
    query = {"job_id": job_id, "active_only": active_only or None, "limit": limit}
    return (Run.from_api(r) for r in client.paginate(f"{BASE}/runs/list", items_key="runs", query=query))


def cancel_run(client: Client, run_id: int) -> None:
    """Ask for a run to be cancelled (asynchronous): ``POST /api/2.2/jobs/runs/cancel``."""
    client.post(f"{BASE}/runs/cancel", {"run_id": run_id})


def cancel_all_runs(client: Client, job_id: int) -> None:
    """Cancel every active run of a job: ``POST /api/2.2/jobs/runs/cancel-all``."""
    client.post(f"{BASE}/runs/cancel-all", {"job_id": job_id})


def repair_run(
    client: Client,
    run_id: int,
    *,
    rerun_tasks: list[str] | None = None,
    rerun_all_failed_tasks: bool = False,
    latest_repair_id: int | None = None,
) -> int:
    """Re-run failed or chosen tasks of a finished run: ``POST /api/2.2/jobs/runs/repair``."""
    body: dict[str, Any] = {"run_id": run_id}
    if rerun_tasks:
        body["rerun_tasks"] = rerun_tasks
    if rerun_all_failed_tasks:
        body["rerun_all_failed_tasks"] = True
    if latest_repair_id is not None:
        body["latest_repair_id"] = latest_repair_id
    return int(client.post(f"{BASE}/runs/repair", body)["repair_id"])


def delete_run(client: Client, run_id: int) -> None:
    """Delete a finished run: ``POST /api/2.2/jobs/runs/delete``."""
    client.post(f"{BASE}/runs/delete", {"run_id": run_id})
