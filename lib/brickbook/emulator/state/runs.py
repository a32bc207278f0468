"""Job runs and task runs: creation (queue, skip, idempotency), queries, cancel, repair, delete, restart.

One record per job run (kind ``job_run``) holds its task runs in ``tasks``, so every state change of
a run is one atomic write. Task run ids share the run id space; ``task_run`` maps each to its job run.
A task run's captured output lives apart (kind ``run_output``). Keys starting with ``_`` are internal
and never leave the emulator. The scheduler (runtime/scheduler.py) drives the life cycle; this module
only creates runs, answers queries and records requests (cancel, repair) for the scheduler to act on.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.state.dag import ACTIVE, SUCCESS_LIKE, TERMINAL, make_state
from brickbook.emulator.state.jobs import JOB_KIND
from brickbook.emulator.state.numbers import whole_number
from brickbook.emulator.state.permissions import ObjectAcls
from brickbook.emulator.state.run_rules import check_legacy_params, history_entry, rerun_keys
from brickbook.emulator.state.run_views import every_task_run, public_task_run
from brickbook.emulator.state.store import Store

__all__ = ["RESTART_MESSAGE", "NewRun", "RunsState", "run_does_not_exist"]

RUN_KIND = "job_run"
TASK_INDEX_KIND = "task_run"
OUTPUT_KIND = "run_output"
TOKEN_KIND = "run_token"
RUN_ID_KIND = "run"
RESTART_MESSAGE = "The brickbook emulator restarted while this run was in progress"
MAX_TOKEN_CHARS = 64
_TASK_SPEC_FIELDS = (
    "task_key", "description", "depends_on", "run_if", "notebook_task", "spark_python_task", "sql_task",
    "existing_cluster_id", "new_cluster", "job_cluster_key", "environment_key", "libraries",
    "timeout_seconds", "max_retries", "min_retry_interval_millis", "retry_on_timeout",
)  # fmt: skip


def run_does_not_exist(run_id: object) -> ApiError:
    """The real answer for an unknown run: HTTP 400, which the SDK maps to ResourceDoesNotExist."""
    return invalid(f"Run {run_id} does not exist.")


class NewRun:
    """What starting a run needs, from run-now (a saved job) or runs/submit."""

    def __init__(
        self,
        *,
        tasks: list[dict[str, Any]],
        run_name: str,
        run_type: str,
        creator: str,
        base_url: str,
        job: Mapping[str, Any] | None = None,
        job_clusters: list[dict[str, Any]] | None = None,
        timeout_seconds: int = 0,
        body: Mapping[str, Any] | None = None,
        queue: bool = False,
        max_concurrent_runs: int = 1000,
    ) -> None:
        self.tasks, self.run_name, self.run_type, self.creator = tasks, run_name, run_type, creator
        self.base_url, self.job, self.job_clusters = base_url, job, job_clusters or []
        self.timeout_seconds, self.body = timeout_seconds, dict(body or {})
        self.queue, self.max_concurrent_runs = queue, max_concurrent_runs


def _run_format(new: NewRun) -> str:
    """A run has its job's format: SINGLE_TASK for a job (or one-time run) made through Jobs API 2.0."""
    given = new.job["settings"].get("format") if new.job is not None else new.body.get("format")
    return "SINGLE_TASK" if given == "SINGLE_TASK" else "MULTI_TASK"


class RunsState:
    """Runs in the store; every mutation is one transaction on the run's record."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    def now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- records ------------------------------------------------------------------------------

    def record(self, run_id: Any) -> dict[str, Any]:
        """The job run record for a job run id or one of its task run ids (internal fields included)."""
        key = self._key(run_id)
        found = self._store.get(RUN_KIND, key)
        if found is None:
            index = self._store.get(TASK_INDEX_KIND, key)
            found = None if index is None else self._store.get(RUN_KIND, str(index["parent"]))
        if found is None:
            raise run_does_not_exist(run_id)
        return found

    @staticmethod
    def _key(run_id: Any) -> str:
        number = whole_number(run_id)
        if number is None:
            raise invalid("run_id is required and must be an integer.")
        return str(number)

    def get(self, run_id: int) -> dict[str, Any] | None:
        return self._store.get(RUN_KIND, str(run_id))

    def saved_job(self, job_id: int) -> dict[str, Any] | None:
        """The saved job a ``run_job_task`` triggers (None when it was deleted)."""
        return self._store.get(JOB_KIND, str(job_id))

    def job_acl(self, job_id: int) -> dict[str, str]:
        """The job's explicit grants (the Permissions API), for a ``run_job_task``'s permission check."""
        return ObjectAcls(self._store).levels("job", job_id)

    def put(self, record: dict[str, Any]) -> None:
        self._store.put(RUN_KIND, str(record["run_id"]), record)

    @contextmanager
    def editing(self, run_id: int) -> Iterator[dict[str, Any] | None]:
        """Yield the live record to change in place (None if it was deleted or reset away); save it."""
        with self._store.transaction():
            record = self._store.get(RUN_KIND, str(run_id))
            if record is None:
                yield None
                return
            before = json.dumps(record, sort_keys=True)
            yield record
            if json.dumps(record, sort_keys=True) != before:
                self.put(record)

    def active_ids(self) -> list[int]:
        """The id of every run the scheduler still has to drive, oldest first."""
        return [
            r["run_id"]
            for _, r in self._store.items(RUN_KIND)
            if r["state"]["life_cycle_state"] not in TERMINAL
        ]

    def siblings(self, job_id: int) -> list[dict[str, Any]]:
        """Every unfinished run of a job (for concurrency limits and the queue)."""
        return [
            r
            for _, r in self._store.items(RUN_KIND)
            if r["job_id"] == job_id and r["state"]["life_cycle_state"] in ACTIVE
        ]

    def save_output(self, task_run_id: int, output: dict[str, Any]) -> None:
        self._store.put(OUTPUT_KIND, str(task_run_id), output)

    def new_task_entry(self, run: Mapping[str, Any], spec: Mapping[str, Any], life: str) -> dict[str, Any]:
        """A fresh task run (new run id) for ``spec`` inside ``run``; also indexes it."""
        task_run_id = self._store.next_id(RUN_ID_KIND)
        self._store.put(TASK_INDEX_KIND, str(task_run_id), {"parent": run["run_id"]})
        # Every kind is kept as given (``*_task``), including kinds the emulator cannot run.
        entry = {
            k: copy.deepcopy(v) for k, v in spec.items() if k in _TASK_SPEC_FIELDS or k.endswith("_task")
        }
        entry.update(
            run_id=task_run_id,
            job_run_id=run["run_id"],
            attempt_number=0,
            state=make_state(life),
            start_time=0,
            end_time=0,
            setup_duration=0,
            execution_duration=0,
            cleanup_duration=0,
            run_page_url=f"{run['_base_url']}/#job/{run['job_id']}/run/{task_run_id}",
        )
        entry.setdefault("run_if", "ALL_SUCCESS")
        return entry

    # -- creation -----------------------------------------------------------------------------

    def start(self, new: NewRun) -> tuple[dict[str, Any], bool]:
        """Create a run (or find the one its idempotency token made); return (record, created)."""
        token = new.body.get("idempotency_token")
        if token is not None and (not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS):
            raise invalid(f"idempotency_token must be a string of at most {MAX_TOKEN_CHARS} characters.")
        overriding = check_legacy_params(new.body)
        scope = str(new.job["job_id"]) if new.job is not None else "submit"
        with self._store.transaction():
            if token is not None:
                seen = self._store.get(TOKEN_KIND, f"{scope}:{token}")
                if seen is not None:
                    existing = self.get(seen["run_id"])
                    if existing is None:
                        raise invalid(
                            f"The run {seen['run_id']} started with this idempotency_token was deleted."
                        )
                    return existing, False
            record = self._new_record(new, overriding)
            if token is not None:
                self._store.put(TOKEN_KIND, f"{scope}:{token}", {"run_id": record["run_id"]})
            self.put(record)
        return record, True

    def _new_record(self, new: NewRun, overriding: dict[str, Any]) -> dict[str, Any]:
        now = self.now_ms()
        run_id = self._store.next_id(RUN_ID_KIND)
        # A one-time run gets a job id nobody can fetch, as on the real service.
        job_id = new.job["job_id"] if new.job is not None else self._store.next_id(JOB_KIND)
        defined = new.job["settings"].get("parameters", []) if new.job is not None else []
        values = dict(new.body.get("job_parameters") or {})
        job_parameters = [
            {"name": p["name"], "default": p["default"], "value": values.pop(p["name"], p["default"])}
            for p in defined
        ] + [{"name": name, "value": value} for name, value in values.items()]
        record: dict[str, Any] = {
            "run_id": run_id,
            "job_id": job_id,
            "number_in_job": run_id,
            "original_attempt_run_id": run_id,
            "run_name": new.run_name,
            "run_type": new.run_type,
            "creator_user_name": new.creator,
            "run_as": new.creator,
            "trigger": "ONE_TIME",
            # A run has its job's format (SINGLE_TASK for a job or one-time run made through 2.0).
            "format": _run_format(new),
            "state": make_state("PENDING"),
            "start_time": now,
            "end_time": 0,
            "setup_duration": 0,
            "execution_duration": 0,
            "cleanup_duration": 0,
            "run_duration": 0,
            "queue_duration": 0,
            "run_page_url": f"{new.base_url}/#job/{job_id}/run/{run_id}",
            "tasks": [],
            "job_clusters": copy.deepcopy(new.job_clusters),
            "job_parameters": job_parameters,
            "repair_history": [],
            "_base_url": new.base_url,
            "_timeout_seconds": new.timeout_seconds,
            "_max_concurrent": new.max_concurrent_runs,
            "_task_values": {},
            "_clusters": {},
            "_cancel": None,
        }
        if overriding:
            record["overriding_parameters"] = overriding
        life = self._admission(new, record)
        record["tasks"] = [self.new_task_entry(record, spec, life) for spec in new.tasks]
        if life == "PENDING":
            for task in record["tasks"]:
                if task.get("depends_on"):
                    task["state"] = make_state("BLOCKED")
        return record

    def _admission(self, new: NewRun, record: dict[str, Any]) -> str:
        """Apply max_concurrent_runs: PENDING, QUEUED (queue on) or SKIPPED (queue off, or limit 0)."""
        if new.job is None:
            return "PENDING"
        limit = new.max_concurrent_runs
        siblings = [r["state"]["life_cycle_state"] for r in self.siblings(new.job["job_id"])]
        running = sum(life != "QUEUED" for life in siblings)
        queued = len(siblings) - running
        if limit > 0 and running < limit and not queued:
            return "PENDING"
        if new.queue and limit > 0:
            reason = f"Queued due to reaching maximum concurrent runs of {limit}."
            record["state"] = {**make_state("QUEUED"), "queue_reason": reason}
            record["_queued_at"] = record["start_time"]
            return "QUEUED"
        message = f"Skipping this run because the limit of {limit} maximum concurrent runs has been reached."
        record["state"] = make_state("SKIPPED", result="MAXIMUM_CONCURRENT_RUNS_REACHED", message=message)
        record["_termination"] = {
            "code": "MAX_CONCURRENT_RUNS_EXCEEDED",
            "type": "CLIENT_ERROR",
            "message": message,
        }
        record["end_time"] = record["start_time"]
        return "SKIPPED"

    # -- queries ------------------------------------------------------------------------------

    def list_runs(
        self,
        *,
        job_id: int | None,
        active_only: bool,
        completed_only: bool,
        run_type: str | None,
        start_time_from: int | None,
        start_time_to: int | None,
    ) -> list[dict[str, Any]]:
        """Matching job runs, newest started first."""
        found = []
        for _, record in self._store.items(RUN_KIND):
            life = record["state"]["life_cycle_state"]
            if (job_id is not None and record["job_id"] != job_id) or (
                run_type is not None and record["run_type"] != run_type
            ):
                continue
            if (active_only and life in TERMINAL) or (completed_only and life not in TERMINAL):
                continue
            if (start_time_from is not None and record["start_time"] < start_time_from) or (
                start_time_to is not None and record["start_time"] > start_time_to
            ):
                continue
            found.append(record)
        found.sort(key=lambda r: (r["start_time"], r["run_id"]), reverse=True)
        return found

    def output(self, run_id: Any) -> dict[str, Any]:
        """``runs/get-output``: only for a task run (or a job run with exactly one task)."""
        record = self.record(run_id)
        key = int(self._key(run_id))
        if key == record["run_id"]:
            if len(record["tasks"]) != 1:
                raise invalid(
                    "Retrieving the output of runs with multiple tasks is not supported. "
                    "Please retrieve the output of each individual task run instead."
                )
            key = record["tasks"][0]["run_id"]
        # current, replaced by a repair, or a for-each iteration
        task = next(t for t in every_task_run(record) if t["run_id"] == key)
        stored = self._store.get(OUTPUT_KIND, str(key)) or {}
        return {"metadata": public_task_run(record, task), **stored}

    # -- requests -----------------------------------------------------------------------------

    def cancel(self, run_id: Any) -> None:
        """Ask for a job run or one task run to be canceled; a finished run is left as it is."""
        with self._store.transaction():
            record = self.record(run_id)
            key = int(self._key(run_id))
            if record["state"]["life_cycle_state"] in TERMINAL:
                return
            if key == record["run_id"]:
                record["_cancel"] = "user"
            else:
                for task in record["tasks"]:
                    if task["run_id"] == key and task["state"]["life_cycle_state"] not in TERMINAL:
                        task["_cancel"] = True
            self.put(record)

    def cancel_all(
        self,
        job_id: int | None,
        *,
        all_queued_runs: bool,
        only: Callable[[dict[str, Any]], bool] = lambda run: True,
    ) -> None:
        """Cancel every active run of a job, or (no job) every queued run in the workspace (of ``only``)."""
        for _, record in self._store.items(RUN_KIND):
            life = record["state"]["life_cycle_state"]
            mine = job_id is not None and record["job_id"] == job_id and life in ACTIVE
            queued = job_id is None and all_queued_runs and life == "QUEUED"
            if (mine or queued) and only(record):
                self.cancel(record["run_id"])

    def repair(self, run_id: Any, body: Mapping[str, Any]) -> int:
        """Re-run some tasks of a finished job run as a new repair; return the repair id."""
        overriding = check_legacy_params(body)
        with self._store.transaction():
            record = self.record(run_id)
            if int(self._key(run_id)) != record["run_id"]:
                raise invalid("Repair a job run, not a task run.")
            if record["state"]["life_cycle_state"] not in TERMINAL:
                raise ApiError("INVALID_STATE", f"Run {run_id} is still active and cannot be repaired.")
            repairs = [h["id"] for h in record["repair_history"] if h["type"] == "REPAIR"]
            if repairs and body.get("latest_repair_id") != repairs[-1]:
                raise invalid(
                    f"latest_repair_id must be the id of the latest repair of this run ({repairs[-1]})."
                )
            keys = rerun_keys(record, body)
            now = self.now_ms()
            if not record["repair_history"]:
                record["repair_history"].append(history_entry(record, "ORIGINAL", record["run_id"]))
            repair_id = self._store.next_id(RUN_ID_KIND)
            current = [t for t in record["tasks"] if not t.get("_superseded")]
            kept = [t for t in current if t["task_key"] not in keys]
            replaced = [t for t in record["tasks"] if t not in kept]
            record.setdefault("_replaced", []).extend(replaced)
            fresh = []
            for old in (t for t in current if t["task_key"] in keys):
                deps = {d["task_key"] for d in old.get("depends_on", [])}
                fresh.append(self.new_task_entry(record, old, "BLOCKED" if deps & keys else "PENDING"))
                record["_task_values"].pop(old["task_key"], None)
            record["tasks"] = kept + fresh
            if overriding:
                record["overriding_parameters"] = {**record.get("overriding_parameters", {}), **overriding}
            for param in record["job_parameters"]:
                param["value"] = (body.get("job_parameters") or {}).get(param["name"], param["value"])
            record.update(state=make_state("PENDING"), end_time=0, _cancel=None, _clusters={})
            record.pop("_termination", None)
            entry = history_entry(record, "REPAIR", repair_id)
            entry.update(start_time=now, task_run_ids=[t["run_id"] for t in fresh])
            record["repair_history"].append(entry)
            self.put(record)
        return repair_id

    def delete(self, run_id: Any) -> None:
        """Delete a finished run and its task runs' outputs; an active run is INVALID_STATE."""
        with self._store.transaction():
            record = self.record(run_id)
            if record["state"]["life_cycle_state"] not in TERMINAL:
                raise ApiError("INVALID_STATE", f"Run {run_id} is active and cannot be deleted.")
            for task in every_task_run(record):
                self._store.delete(TASK_INDEX_KIND, str(task["run_id"]))
                self._store.delete(OUTPUT_KIND, str(task["run_id"]))
            self._store.delete(RUN_KIND, str(record["run_id"]))

    def recover(self) -> list[dict[str, Any]]:
        """Mark every run the last emulator process left unfinished as ended; return those runs."""
        ended = []
        now = self.now_ms()
        message = RESTART_MESSAGE
        termination = {"code": "INTERNAL_ERROR", "type": "INTERNAL_ERROR", "message": message}
        with self._store.transaction():
            for _, record in self._store.items(RUN_KIND):
                if record["state"]["life_cycle_state"] in TERMINAL:
                    continue
                for task in every_task_run(record):  # for-each iterations included
                    if task["state"]["life_cycle_state"] not in TERMINAL:
                        task["state"] = make_state("INTERNAL_ERROR", result="FAILED", message=message)
                        task["_termination"] = termination
                        task["end_time"] = now
                record["state"] = make_state("INTERNAL_ERROR", result="FAILED", message=message)
                record["_termination"] = termination
                record["end_time"] = now
                self.put(record)
                ended.append(record)
        return ended


def succeeded(task: Mapping[str, Any]) -> bool:
    return task["state"].get("result_state") in SUCCESS_LIKE


__all__ += ["succeeded"]
