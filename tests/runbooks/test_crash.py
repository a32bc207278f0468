"""Crash resume and overlapping invocations: the tiny runbook as a process, killed with SIGKILL.

These tests run against their own emulator on the real clock with instant cluster starts: the runbook
process cannot share the suite's fake time, and the test never sleeps (it blocks on the child's
output instead).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN_TOKEN, Emulator
from tests.fakes import FakeClock
from tests.runbooks.conftest import create_job, runs_of

ROOT = Path(__file__).resolve().parents[2]
RUN_NOW = "/api/2.2/jobs/run-now"
QUICK = 'dbutils.notebook.exit("done")'


@pytest.fixture(scope="module")
def live_emulator() -> Iterator[Emulator]:
    """An emulator whose lifecycles follow the real clock, with clusters that start at once."""
    from brickbook.emulator.server import start_in_thread
    from brickbook.emulator.settings import EmulatorSettings

    running = start_in_thread(EmulatorSettings(port=0, admin_token=ADMIN_TOKEN, cluster_start_seconds=0))
    try:
        yield Emulator(url=running.url, clock=FakeClock())
    finally:
        running.stop()


@pytest.fixture
def emu(live_emulator: Emulator) -> Emulator:
    live_emulator.control("POST", "reset")
    return live_emulator


def _env(emu: Emulator, tmp: Path, *, hold: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "BRICKBOOK_", "TINY_"))}
    env.update(
        HOME=str(tmp / "home"),
        DATABRICKS_CONFIG_FILE=str(tmp / "none"),
        DATABRICKS_HOST=emu.url,
        DATABRICKS_TOKEN=ADMIN_TOKEN,
        BRICKBOOK_LOG_FORMAT="json",
        PYTHONPATH=str(ROOT),
    )
    if hold:
        env["TINY_HOLD_BEFORE_TRIGGER"] = "1"
    return env


def _args(job_id: int, state: Path) -> list[str]:
    return [
        sys.executable, "-m", "tests.runbooks.tiny", "tiny-run", str(job_id),
        "--key", "k", "--state-dir", str(state), "-o", "json",
    ]  # fmt: skip


def start(emu: Emulator, tmp: Path, job_id: int, *, hold: bool = False) -> subprocess.Popen[str]:
    """Start the runbook as a process; its logs (JSON lines) are readable on its stderr."""
    return subprocess.Popen(
        _args(job_id, tmp / "state"),
        env=_env(emu, tmp, hold=hold),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(emu: Emulator, tmp: Path, job_id: int) -> tuple[int, dict[str, Any], str]:
    """Run the runbook to its end as a process; return exit code, report and stderr."""
    done = subprocess.run(
        _args(job_id, tmp / "state"),
        env=_env(emu, tmp),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}, done.stderr


def kill(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait()
    for stream in (child.stdin, child.stdout, child.stderr):
        if stream is not None:
            stream.close()
    assert child.returncode == -signal.SIGKILL


def journal(tmp: Path) -> dict[str, Any]:
    return json.loads((tmp / "state" / "tiny-run" / "k.json").read_text())


def run_now_requests(emu: Emulator) -> int:
    return len(emu.requests(RUN_NOW))


def test_killed_between_journal_write_and_trigger_resumes_into_one_run(emu: Emulator, tmp_path: Path):
    """SIGKILL after the token is on disk but before run-now: the re-invocation starts exactly one run."""
    job_id = create_job(emu, "crash-early", QUICK)
    child = start(emu, tmp_path, job_id, hold=True)
    assert child.stdout is not None
    token = child.stdout.readline().split()[1]
    effect = journal(tmp_path)["steps"][f"job {job_id} has run once for this key"]["effects"]["run"]
    assert effect == {"token": token, "remote_id": None, "cancelled": False}
    kill(child)
    assert run_now_requests(emu) == 0
    code, report, stderr = finish(emu, tmp_path, job_id)
    assert code == 0, stderr
    assert '"resent": true' in stderr
    assert report["status"] == "succeeded" and report["outputs"] == {"main": "done"}
    assert run_now_requests(emu) == 1 and len(runs_of(emu, job_id)) == 1


def test_killed_while_waiting_reattaches_to_the_same_run(emu: Emulator, tmp_path: Path):
    """SIGKILL while waiting: the re-invocation reattaches, starts nothing, and reports the run."""
    job_id = create_job(emu, "crash-wait", QUICK)
    child = start(emu, tmp_path, job_id)
    assert child.stderr is not None
    for line in child.stderr:
        if json.loads(line).get("event") == "wait.state":
            break
    kill(child)
    run_id = runs_of(emu, job_id)[0]["run_id"]
    code, report, stderr = finish(emu, tmp_path, job_id)
    assert code == 0, stderr
    assert report["steps"][1]["reason"] == f"reattached to run {run_id}"
    assert [run["run_id"] for run in report["runs"]] == [run_id] and report["outputs"] == {"main": "done"}
    assert run_now_requests(emu) == 1 and len(runs_of(emu, job_id)) == 1


def test_overlapping_invocation_exits_9_and_a_dead_holder_is_taken_over(emu: Emulator, tmp_path: Path):
    """A second invocation of a held key exits 9 naming the holder; once it is killed, the next takes over."""
    job_id = create_job(emu, "overlap", QUICK)
    holder = start(emu, tmp_path, job_id, hold=True)
    assert holder.stdout is not None and holder.stdout.readline().startswith("holding ")
    code, report, stderr = finish(emu, tmp_path, job_id)
    assert code == 9 and f"is locked by pid {holder.pid} on " in stderr
    assert report["status"] == "failed" and report["exit_code"] == 9
    kill(holder)
    code, report, stderr = finish(emu, tmp_path, job_id)
    assert code == 0, stderr
    taken = [json.loads(line) for line in stderr.splitlines() if '"lock.taken_over"' in line]
    assert len(taken) == 1 and taken[0]["previous_pid"] == holder.pid
    assert len(runs_of(emu, job_id)) == 1


def test_sigterm_while_waiting_cancels_the_run_and_exits_130(emu: Emulator, tmp_path: Path):
    """SIGTERM (as from a scheduler) while waiting cancels the run, records it and exits 130."""
    job_id = create_job(emu, "terminated", "import time\ntime.sleep(60)")
    child = start(emu, tmp_path, job_id)
    assert child.stderr is not None and child.stdout is not None
    for line in child.stderr:
        if json.loads(line).get("event") == "wait.state":
            break
    child.send_signal(signal.SIGTERM)
    stdout, stderr = child.communicate(timeout=60)
    run_id = runs_of(emu, job_id)[0]["run_id"]
    assert child.returncode == 130, stderr
    assert f"error: interrupted: cancelled run {run_id}" in stderr
    assert json.loads(stdout)["status"] == "interrupted"
    assert len(emu.requests("/api/2.2/jobs/runs/cancel")) == 1
    assert journal(tmp_path)["steps"][f"job {job_id} has run once for this key"]["status"] == "cancelled"
