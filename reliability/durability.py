"""Emulator durability: writes acknowledged to concurrent clients survive ``kill -9`` and a restart on
the same ``--data-dir``, and a run in progress at the kill is reported as the real service would.

Eight client threads write across the areas (workspace import, DBFS put, secrets put, jobs create,
MLflow create-run + log-metric, Unity Catalog create schema), each recording a write only once its 2xx
answer was read. At a seeded random moment the emulator gets SIGKILL; it is started again on the same
data directory and every acknowledged write so far is looked up (0 lost required, ``durability_kills``
rounds). Before the first kill a job run is left waiting for its job cluster; after the restart it must
read ``INTERNAL_ERROR`` / ``FAILED`` with the restart message, as a run does whose host went away.
"""

from __future__ import annotations

import threading
import time

from reliability.harness import Figure, Harness, SuiteResult, count_figure
from reliability.workload import (
    KINDS,
    SECRET_VALUE,
    Down,
    EmulatorProcess,
    Http,
    ServerError,
    Write,
    prepare,
    write,
)

__all__ = ["NAME", "TITLE", "run"]

NAME = "durability"
TITLE = "6a. Emulator durability under kill -9"
CLIENTS = 8
LONG_START = "600"  # seconds a cluster takes to start: the run is surely still waiting at the kill


def run(h: Harness) -> SuiteResult:
    """Kill and restart the emulator ``durability_kills`` times under concurrent writers."""
    h.secrets.register(SECRET_VALUE, "durability: secret value")
    rng = h.rng(NAME)
    data_dir = h.work / NAME / "data"
    data_dir.mkdir(parents=True)
    log_path = h.work / NAME / "emulator.log"
    acknowledged: list[Write] = []
    errors: list[str] = []
    lost: list[str] = []
    kills = h.size.count("durability_kills")
    with log_path.open("w") as log:
        h.capture.add_file("durability: emulator log", log_path)
        emulator = EmulatorProcess(data_dir, log, ("--cluster-start-seconds", LONG_START))
        try:
            http = Http(emulator.start())
            prepare(http)
            run_id = _start_long_run(http)
            before_kill = _run_state(http, run_id)[0]
            for round_no in range(kills):
                before = len(acknowledged)
                stop = threading.Event()
                threads = [
                    threading.Thread(
                        target=_writer, args=(http, f"r{round_no}c{c}", stop, acknowledged, errors)
                    )
                    for c in range(CLIENTS)
                ]
                for thread in threads:
                    thread.start()
                time.sleep(rng.uniform(0.3, 1.5))  # a random moment: writes are in flight
                emulator.kill()
                stop.set()
                for thread in threads:
                    thread.join(60)
                http = Http(emulator.start())
                lost += _missing(http, acknowledged[before:])
            lost += _missing(http, acknowledged)  # and everything still there after the last restart
            run_state = _run_state(http, run_id)
        finally:
            emulator.stop()
    expected_state = ("INTERNAL_ERROR", "FAILED", True)
    return SuiteResult(
        name=NAME,
        title=TITLE,
        description=(__doc__ or "").strip().split("\n\n", 1)[0].replace("\n", " "),
        command=h.command(NAME),
        figures=[
            count_figure("kills (SIGKILL) and restarts", kills, h.size.count("durability_kills")),
            Figure("writers", CLIENTS),
            Figure("writes acknowledged", len(acknowledged), "> 0", len(acknowledged) > 0),
            count_figure("acknowledged writes lost", len(set(lost)), 0),
            count_figure("unexpected 5xx answers", len(errors), 0),
            Figure(
                "run in progress at the kill, after restart",
                f"{before_kill} before, {run_state[0]} / {run_state[1]} after",
                "in progress before; INTERNAL_ERROR / FAILED, restart message after",
                before_kill in ("PENDING", "RUNNING") and run_state == expected_state,
            ),
        ],
        notes=[
            f"writes across {', '.join(KINDS)}; each verified by reading it back",
            *(f"lost: {entry}" for entry in sorted(set(lost))[:20]),
            *(f"5xx: {error}" for error in errors[:10]),
        ],
    )


def _writer(http: Http, prefix: str, stop: threading.Event, acked: list[Write], errors: list[str]) -> None:
    """Write until the emulator goes away; keep each acknowledged write (list.append is atomic)."""
    count = 0
    while not stop.is_set():
        kind = KINDS[count % len(KINDS)]
        count += 1
        try:
            done = write(http, kind, f"{prefix}w{count}")
        except Down:
            return
        except ServerError as failed:
            errors.append(str(failed))
            continue
        if done is not None:
            acked.append(done)


def _missing(http: Http, writes: list[Write]) -> list[str]:
    return [f"{w.what}: {problem}" for w in writes if (problem := w.verify(http)) is not None]


def _start_long_run(http: Http) -> int:
    """A job run waiting for its job cluster (which takes ``LONG_START`` seconds): in progress at the kill."""
    task = {
        "task_key": "t",
        "notebook_task": {"notebook_path": "/Shared/durability/nb"},
        "new_cluster": {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 0},
    }
    job = http.call("POST", "/api/2.2/jobs/create", {"name": "in-progress", "tasks": [task]})
    answer = http.call("POST", "/api/2.2/jobs/run-now", {"job_id": job.body["job_id"]})
    return int(answer.body["run_id"])


def _run_state(http: Http, run_id: int) -> tuple[str, str, bool]:
    """The run's life-cycle and result state, and whether its message says the emulator restarted."""
    state = http.call("GET", f"/api/2.2/jobs/runs/get?run_id={run_id}").body.get("state", {})
    message = str(state.get("state_message", ""))
    return (str(state.get("life_cycle_state")), str(state.get("result_state")), "restarted" in message)
