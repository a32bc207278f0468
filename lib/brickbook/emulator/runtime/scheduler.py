"""The engine that drives runs: one background thread, alive only while some run is unfinished.

Every tick (20 ms, or at once when a run is started or canceled) it takes each unfinished run's record
in one store transaction and moves it on: QUEUED -> PENDING when the job has a free slot; tasks from
BLOCKED (upstream not done; then ``run_if`` decides) -> PENDING (cluster coming up) -> RUNNING (child
process started) -> a terminal state when the process ends, is canceled or times out, with a retry
attempt (new task run id, attempt_number + 1) when the task's policy asks for one; the job run
RUNNING -> TERMINATING (its job clusters are terminated, its context token revoked) -> TERMINATED.
Durations, timeouts and retry intervals are measured on the injected clock, so tests move time.

A run whose record vanished (``runs/delete`` of an unfinished run) has its processes killed; a
control-API reset calls ``reset()``, which kills every child and forgets the context tokens. When the
store is closed (app shutdown) the thread kills every child and ends; an ``atexit`` hook does the same
at interpreter exit, and each child also exits by itself when the emulator process is gone.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import sqlite3
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from brickbook.emulator.errors import ApiError
from brickbook.emulator.runtime import for_each
from brickbook.emulator.runtime import task_runs as task_rules
from brickbook.emulator.runtime.envs import ClusterEnvs
from brickbook.emulator.runtime.launcher import Child, Launcher
from brickbook.emulator.state.clusters import ClustersState
from brickbook.emulator.state.dag import TERMINAL, leaf_keys, make_state, parent_result, termination_for
from brickbook.emulator.state.identity import Identity
from brickbook.emulator.state.runs import RunsState

__all__ = ["Scheduler"]

_log = logging.getLogger("brickbook.emulator.jobs")
_TICK_SECONDS = 0.02
_LIVE: weakref.WeakSet[Scheduler] = weakref.WeakSet()


@atexit.register
def _kill_everything() -> None:
    for scheduler in list(_LIVE):
        scheduler.kill_children()


@dataclass
class _SqlOutcome:
    done: bool = False
    failure: str | None = None


class Scheduler:
    """Moves runs through their life cycle and owns their child processes."""

    def __init__(
        self,
        runs: RunsState,
        clusters: ClustersState,
        identity: Identity,
        clock: Callable[[], float],
        launcher: Launcher | None = None,
    ) -> None:
        self.runs = runs
        self.clusters = clusters
        self.identity = identity
        self.clock = clock
        self.launcher = launcher or Launcher()
        # task run id -> (child, job run id); reset() empties it, since ids restart after a reset.
        self._children: dict[int, tuple[Child, int]] = {}
        self._tokens: dict[int, str] = {}  # job run id -> context token, in memory only
        self._sql: dict[int, _SqlOutcome] = {}  # task run id -> its sql_task's statements
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Runs a job's sql_task (user name, task body) -> None or the failure; set where the SQL
        # service is built (services.py), which is built after the scheduler.
        self.sql_tasks: Callable[[str, dict[str, Any]], str | None] | None = None
        # Each cluster's environment and libraries (runtime/envs.py); set in services.py likewise.
        self.envs: ClusterEnvs | None = None
        _LIVE.add(self)

    # -- thread ---------------------------------------------------------------------------------

    def wake(self) -> None:
        """Tick now; start the thread if it is not running."""
        with self._lock:
            if self._stop.is_set():
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="brickbook-jobs-scheduler", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def recover(self) -> None:
        """End the runs a previous process left unfinished (``kill -9``): their tokens and job clusters."""
        for run in self.runs.recover():
            self.identity.revoke_context_tokens(run["run_id"])
            for cluster_id in run.get("_clusters", {}).values():
                with contextlib.suppress(ApiError):  # deleted meanwhile: nothing to tear down
                    self.clusters.terminate(cluster_id, "JOB_FINISHED")

    def reset(self) -> None:
        """Kill every child and forget every context token: the control API's reset cleared the runs."""
        with self._lock:
            self._tokens.clear()  # the tokens' records went with the store
            self.kill_children()

    def shutdown(self) -> None:
        """Stop the thread and kill every child process (the app is stopping)."""
        self.close()

    def close(self) -> None:
        """Stop the thread and kill every child process."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(10)
        self.kill_children()

    def kill_children(self) -> None:
        for child, _ in list(self._children.values()):
            self.launcher.kill(child)
            self.launcher.discard(child)
        self._children.clear()
        self._sql.clear()

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                self._wake.clear()
                with self._lock:
                    active = self.runs.active_ids()
                    if not active and not self._children:
                        self._thread = None
                        return
                for run_id in active:
                    self.tick(run_id)
                with self._lock:
                    self._reap_orphans(set(active))
                self._wake.wait(_TICK_SECONDS)
        except sqlite3.ProgrammingError:  # the store was closed: the app is shutting down for good
            self._stop.set()
        finally:
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None
            if self._stop.is_set():
                self.kill_children()

    def _reap_orphans(self, active: set[int]) -> None:
        for key, (child, run_id) in list(self._children.items()):
            if run_id not in active:
                self.launcher.kill(child)
                self.launcher.discard(child)
                self._children.pop(key, None)
        for run_id in [r for r in self._tokens if r not in active]:
            self._revoke(run_id)

    def tick(self, run_id: int) -> None:
        """Advance one run as far as it can go now."""
        try:
            with self.runs.editing(run_id) as run:
                if run is not None:
                    self._advance(run, self.runs.now_ms())
        except sqlite3.ProgrammingError:
            raise
        except Exception as exc:  # a bug must not leave a run RUNNING forever
            _log.exception("jobs scheduler failed on run %s", run_id)
            with self.runs.editing(run_id) as run:
                if run is not None:
                    message = f"brickbook emulator error: {exc}"
                    run["state"] = make_state("INTERNAL_ERROR", result="FAILED", message=message)
                    run["_termination"] = termination_for("FAILED", message, code="INTERNAL_ERROR")
                    run["end_time"] = self.runs.now_ms()

    # -- the job run ------------------------------------------------------------------------------

    def _advance(self, run: dict[str, Any], now: int) -> None:
        life = run["state"]["life_cycle_state"]
        if life == "QUEUED":
            self._advance_queued(run, now)
            return
        if life == "TERMINATING":
            self._finish(run, now)
            return
        timeout = run.get("_timeout_seconds") or 0
        if (
            run["_cancel"] is None
            and timeout
            and now - run["start_time"] - run["queue_duration"] >= timeout * 1000
        ):
            run["_cancel"] = "timeout"
        for task in task_rules.latest(run):
            task_rules.advance_task(self, run, task, now)
        latest = task_rules.latest(run)
        if all(t["state"]["life_cycle_state"] in TERMINAL for t in latest):
            run["state"] = make_state("TERMINATING")
            for cluster_id in run["_clusters"].values():
                with contextlib.suppress(ApiError):  # deleted meanwhile: nothing to tear down
                    self.clusters.terminate(cluster_id, "JOB_FINISHED")
            self._revoke(run["run_id"])
        elif life == "PENDING" and any(
            t["state"]["life_cycle_state"] not in ("PENDING", "BLOCKED") for t in latest
        ):
            run["state"] = make_state("RUNNING")

    def _advance_queued(self, run: dict[str, Any], now: int) -> None:
        if run["_cancel"] is not None:
            for task in run["tasks"]:
                task_rules.end_task(
                    run, task, now, "CANCELED", "Run was canceled while queued.", by_user=True
                )
            run["state"] = make_state("TERMINATING")
            return
        siblings = [r for r in self.runs.siblings(run["job_id"]) if r["run_id"] != run["run_id"]]
        running = sum(r["state"]["life_cycle_state"] != "QUEUED" for r in siblings)
        earlier = any(
            r["state"]["life_cycle_state"] == "QUEUED"
            and (r["start_time"], r["run_id"]) < (run["start_time"], run["run_id"])
            for r in siblings
        )
        if running >= run["_max_concurrent"] or earlier:
            return
        run["state"] = make_state("PENDING")
        run["queue_duration"] = now - run["start_time"]
        for task in run["tasks"]:
            task["state"] = make_state("BLOCKED" if task.get("depends_on") else "PENDING")

    def _finish(self, run: dict[str, Any], now: int) -> None:
        latest = task_rules.latest(run)
        results = {t["task_key"]: t["state"].get("result_state", "FAILED") for t in latest}
        cancel = run["_cancel"]
        if cancel == "user":
            result, message = "CANCELED", "Run was canceled by the user."
        elif cancel == "timeout":
            result, message = "TIMEDOUT", f"Run timed out after {run['_timeout_seconds']} seconds."
        else:
            result = parent_result(results, leaf_keys(latest)) if latest else "SUCCESS"
            message = task_rules.parent_message(latest, result)
        run["state"] = make_state("TERMINATED", result=result, message=message, by_user=cancel is not None)
        run["_termination"] = termination_for(result, message)
        run["end_time"] = now
        run["run_duration"] = now - run["start_time"]
        if len(run["tasks"]) == 1:
            for name in ("setup_duration", "execution_duration", "cleanup_duration"):
                run[name] = run["tasks"][0][name]
        if run["repair_history"]:
            entry = run["repair_history"][-1]
            entry.update(end_time=now, state=dict(run["state"]), status={"state": "TERMINATED"})

    # -- task_rules.TaskHost -------------------------------------------------------------------

    def token_for(self, run: dict[str, Any]) -> str:
        """The context token the run's code acts with (minted once per job run, revoked at its end)."""
        run_id = run["run_id"]
        if run_id not in self._tokens:
            self._tokens[run_id] = self.identity.issue_context_token(run["run_as"], run_id=run_id)
        return self._tokens[run_id]

    def _revoke(self, run_id: int) -> None:
        if self._tokens.pop(run_id, None) is not None:
            self.identity.revoke_context_tokens(run_id)

    def libraries_ready(self, run: dict[str, Any], task: dict[str, Any]) -> tuple[bool, str | None]:
        cluster_id = task.get("_cluster_id")
        if not task.get("libraries") or not cluster_id or self.envs is None:
            return True, None
        return self.envs.task_libraries(cluster_id, task["libraries"], run["run_as"])

    def start_child(self, run: dict[str, Any], task: dict[str, Any], spec: dict[str, Any]) -> None:
        python = self.envs.python_for(task.get("_cluster_id")) if self.envs is not None else None
        child = self.launcher.launch(task["run_id"], spec, python=python)
        self._children[task["run_id"]] = (child, run["run_id"])

    def child(self, run: dict[str, Any], task_run_id: int) -> Child | None:
        entry = self._children.get(task_run_id)
        return None if entry is None else entry[0]

    def drop_child(self, run: dict[str, Any], task_run_id: int) -> None:
        self._children.pop(task_run_id, None)

    def start_sql_task(self, run: dict[str, Any], task: dict[str, Any]) -> None:
        body = dict(task["sql_task"])
        overriding = run.get("overriding_parameters", {}).get("sql_params") or {}
        body["parameters"] = {**body.get("parameters", {}), **overriding}
        user_name, outcome = run["run_as"], _SqlOutcome()
        self._sql[task["run_id"]] = outcome

        def work() -> None:
            try:
                if self.sql_tasks is None:
                    outcome.failure = "sql_task needs the SQL service, which this emulator lacks."
                else:
                    outcome.failure = self.sql_tasks(user_name, body)
            except Exception as exc:  # any crash is the task's failure, never the scheduler's
                outcome.failure = f"The statements failed: {exc}"
            outcome.done = True
            self.wake()

        threading.Thread(target=work, name=f"sql-task-{task['run_id']}", daemon=True).start()

    def start_for_each(self, run: dict[str, Any], task: dict[str, Any], now: int) -> None:
        for_each.start_for_each(self, run, task, now)

    def advance_for_each(self, run: dict[str, Any], task: dict[str, Any], now: int) -> None:
        for_each.advance_for_each(self, run, task, now)

    def sql_task_outcome(self, task_run_id: int) -> tuple[bool, str | None] | None:
        outcome = self._sql.get(task_run_id)
        if outcome is None:
            return None
        if outcome.done:
            del self._sql[task_run_id]
        return outcome.done, outcome.failure
