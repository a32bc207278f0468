"""Helpers for the Jobs tests: upload notebooks and files, create jobs, wait for runs to move.

Runs execute real child processes, so a test waits for a run's state to change the way the CLI tests
wait for a ready line: polling with a deadline, never sleeping to let emulated time pass (that moves
with ``emu.clock.advance``).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

from tests.emulator.harness import Emu

HOME = "/Users/admin@example.com"
JOBS = "/api/2.2/jobs"
JOBS_21 = "/api/2.1/jobs"
WAIT_SECONDS = 30
TERMINAL = {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}
# A notebook cell that blocks until the process is killed (cancel, timeout) or the widget says stop.
BLOCK = "import time\nwhile True:\n    time.sleep(0.02)\n"


def notebook(*cells: str) -> str:
    """A Python SOURCE notebook with these cells."""
    return "# Databricks notebook source\n" + "\n\n# COMMAND ----------\n\n".join(cells) + "\n"


def upload(emu: Emu, path: str, source: str) -> str:
    """Import a Python notebook at ``path`` (overwriting) and return the path."""
    body = {
        "path": path,
        "format": "SOURCE",
        "language": "PYTHON",
        "overwrite": True,
        "content": base64.b64encode(source.encode()).decode(),
    }
    parent = path.rsplit("/", 1)[0]
    emu.post("/api/2.0/workspace/mkdirs", json={"path": parent})
    response = emu.post("/api/2.0/workspace/import", json=body)
    assert response.status_code == 200, response.text
    return path


def put_dbfs(emu: Emu, path: str, data: bytes) -> None:
    body = {"path": path, "contents": base64.b64encode(data).decode(), "overwrite": True}
    response = emu.post("/api/2.0/dbfs/put", json=body)
    assert response.status_code == 200, response.text


def nb_task(key: str, path: str, **extra: Any) -> dict[str, Any]:
    """A notebook task on serverless compute (no cluster to wait for)."""
    params = extra.pop("params", None)
    task: dict[str, Any] = {"task_key": key, "notebook_task": {"notebook_path": path}, **extra}
    if params is not None:
        task["notebook_task"]["base_parameters"] = params
    return task


def create_job(emu: Emu, *tasks: dict[str, Any], prefix: str = JOBS, **settings: Any) -> int:
    response = emu.post(f"{prefix}/create", json={"name": "job", "tasks": list(tasks), **settings})
    assert response.status_code == 200, response.text
    return int(response.json()["job_id"])


def run_now(emu: Emu, job_id: int, prefix: str = JOBS, **body: Any) -> int:
    response = emu.post(f"{prefix}/run-now", json={"job_id": job_id, **body})
    assert response.status_code == 200, response.text
    return int(response.json()["run_id"])


def get_run(emu: Emu, run_id: int, **query: Any) -> dict[str, Any]:
    response = emu.get(f"{JOBS}/runs/get", params={"run_id": run_id, **query})
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    return run


def output(emu: Emu, run_id: int) -> dict[str, Any]:
    response = emu.get(f"{JOBS}/runs/get-output", params={"run_id": run_id})
    assert response.status_code == 200, response.text
    out: dict[str, Any] = response.json()
    return out


def wait_run(
    emu: Emu,
    run_id: int,
    until: Callable[[dict[str, Any]], bool] | None = None,
    *,
    seconds: float = WAIT_SECONDS,
) -> dict[str, Any]:
    """Poll runs/get until ``until(run)`` (default: a terminal life cycle state); fail at the deadline."""
    check = until or (lambda run: run["state"]["life_cycle_state"] in TERMINAL)
    deadline = time.monotonic() + seconds
    while True:
        run = get_run(emu, run_id)
        if check(run):
            return run
        assert time.monotonic() < deadline, f"run {run_id} stuck: {run['state']}"
        time.sleep(0.02)  # waiting for a child process, not for emulated time


def task_running(key: str) -> Callable[[dict[str, Any]], bool]:
    def check(run: dict[str, Any]) -> bool:
        return any(t["task_key"] == key and t["state"]["life_cycle_state"] == "RUNNING" for t in run["tasks"])

    return check


def task(run: dict[str, Any], key: str, attempt: int | None = None) -> dict[str, Any]:
    """The (latest, or given) attempt of task ``key`` in a run."""
    found = [t for t in run["tasks"] if t["task_key"] == key]
    if attempt is not None:
        found = [t for t in found if t["attempt_number"] == attempt]
    return found[-1]


def result(run: dict[str, Any]) -> str | None:
    state: dict[str, Any] = run["state"]
    return state.get("result_state")


def run_notebook(emu: Emu, *cells: str, **task_extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Upload a one-task notebook job, run it to the end, return (job run, task output)."""
    path = upload(emu, f"{HOME}/nb", notebook(*cells))
    run_now_body = task_extra.pop("run_now", {})
    job_id = create_job(emu, nb_task("main", path, **task_extra))
    run = wait_run(emu, run_now(emu, job_id, **run_now_body))
    return run, output(emu, run["tasks"][0]["run_id"])
