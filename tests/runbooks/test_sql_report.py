"""runbook.sql-report against the emulator: start if stopped, query to CSV, stop what it started."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Emulator, run_cli
from tests.fakes import FakeTime
from tests.runbooks.conftest import api

WAREHOUSES = "/api/2.0/sql/warehouses"
QUERY = "SELECT id, id * CAST(:factor AS INT) AS scaled FROM range(3) ORDER BY id\n"


@pytest.fixture
def env(workspace_env: Emulator, shared_time: FakeTime) -> Emulator:
    return workspace_env


@pytest.fixture
def query(tmp_path: Path) -> Path:
    path = tmp_path / "daily.sql"
    path.write_text(QUERY)
    return path


def warehouse(emulator: Emulator, *, stopped: bool) -> str:
    spec = {"name": "reports", "cluster_size": "2X-Small", "auto_stop_mins": 0}
    wid = str(api(emulator, "POST", WAREHOUSES, spec)["id"])
    emulator.clock.advance(5)
    if stopped:
        api(emulator, "POST", f"{WAREHOUSES}/{wid}/stop", {})
        emulator.clock.advance(5)
    assert state(emulator, wid) == ("STOPPED" if stopped else "RUNNING")
    return wid


def state(emulator: Emulator, wid: str) -> str:
    return str(api(emulator, "GET", f"{WAREHOUSES}/{wid}")["state"])


def report(tmp_path: Path, *args: str, key: str = "k1") -> tuple[int, dict[str, Any] | None, str]:
    state_dir = tmp_path / "state"
    result = run_cli("runbook.sql-report", *args, "--key", key, "--state-dir", str(state_dir), "-o", "json")
    data = json.loads(result.stdout) if result.stdout.strip() else None
    return result.exit_code, data, result.stderr


def outcomes(data: dict[str, Any]) -> list[str]:
    return [s["outcome"] for s in data["steps"]]


def writes(emulator: Emulator) -> list[str]:
    return [
        f"{e['method']} {e['path']}" for e in emulator.requests("/api/") if e["method"] not in ("GET", "HEAD")
    ]


def test_happy_path_starts_queries_writes_and_stops(env: Emulator, query: Path, tmp_path: Path):
    """A stopped warehouse is started, the query's rows land in the CSV, the warehouse stops again."""
    wid = warehouse(env, stopped=True)
    out = tmp_path / "report.csv"
    code, data, stderr = report(tmp_path, str(query), str(out), "--warehouse-id", wid, "--param", "factor=10")
    assert code == 0, stderr
    assert data is not None and outcomes(data) == ["changed", "changed", "changed"]
    assert out.read_text() == "id,scaled\n0,0\n1,10\n2,20\n"
    assert data["outputs"]["rows"] == 3
    assert state(env, wid) in ("STOPPING", "STOPPED")


def test_dry_run_sends_no_write(env: Emulator, query: Path, tmp_path: Path):
    """--dry-run shows the plan (start, query, stop) and sends no write request, not even the query."""
    wid = warehouse(env, stopped=True)
    env.control("DELETE", "requests")
    out = tmp_path / "report.csv"
    code, data, stderr = report(
        tmp_path, str(query), str(out), "--warehouse-id", wid, "--param", "factor=2", "--dry-run"
    )
    assert code == 0, stderr
    assert writes(env) == []
    assert not out.exists()
    assert data is not None and len(data["steps"]) == 3
    assert "would run daily.sql" in json.dumps(data)
    assert state(env, wid) == "STOPPED"


def test_stops_only_what_it_started(env: Emulator, query: Path, tmp_path: Path):
    """A warehouse that was already running is left running: the runbook did not start it."""
    wid = warehouse(env, stopped=False)
    env.control("DELETE", "requests")
    code, data, stderr = report(
        tmp_path, str(query), str(tmp_path / "r.csv"), "--warehouse-id", wid, "--param", "factor=1"
    )
    assert code == 0, stderr
    assert data is not None and outcomes(data) == ["unchanged", "changed"]
    assert not [w for w in writes(env) if w.endswith("/stop")]
    assert state(env, wid) == "RUNNING"


def test_a_failing_query_still_stops_the_warehouse_it_started(env: Emulator, tmp_path: Path):
    """The query fails (exit 7, the engine's message) and the warehouse the runbook started stops again."""
    wid = warehouse(env, stopped=True)
    bad = tmp_path / "bad.sql"
    bad.write_text("SELECT * FROM main.default.no_such_table")
    out = tmp_path / "r.csv"
    code, data, stderr = report(tmp_path, str(bad), str(out), "--warehouse-id", wid)
    assert code == 7
    (line,) = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert "no_such_table" in line
    assert data is not None and outcomes(data) == ["changed", "failed", "changed"]
    assert state(env, wid) in ("STOPPING", "STOPPED")
    assert not out.exists()


def test_same_key_again_does_nothing_twice(env: Emulator, query: Path, tmp_path: Path):
    """Re-invoking a finished key skips every step and sends no write."""
    wid = warehouse(env, stopped=True)
    args = (str(query), str(tmp_path / "r.csv"), "--warehouse-id", wid, "--param", "factor=3")
    assert report(tmp_path, *args)[0] == 0
    env.control("DELETE", "requests")
    code, data, stderr = report(tmp_path, *args)
    assert code == 0, stderr
    assert data is not None and set(outcomes(data)) == {"skipped"}
    assert writes(env) == []
