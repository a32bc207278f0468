"""SQL tasks from the command line against the emulator over loopback, waits on fake time.

This module runs its own emulator: results in chunks of 1,000 rows, every statement RUNNING for 2 s
of the emulator's clock (so each one is polled), warehouses that take 1 s per lifecycle step. The
CLI's fake time drags that clock along, so nothing sleeps for real.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tests.conftest
from tests.conftest import CliResult, run_cli
from tests.emulator.harness import ADMIN_TOKEN, Emu, serving
from tests.fakes import FakeTime

STATEMENTS = "/api/2.0/sql/statements"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def emu() -> Iterator[Emu]:
    with serving(statement_chunk_rows=1000, statement_hold_seconds=2) as running:
        yield running


@pytest.fixture
def env(emu: Emu, isolated_env: pytest.MonkeyPatch) -> Emu:
    """DATABRICKS_HOST/TOKEN point at this module's emulator; CLI waits on fake time that moves its clock."""
    emu.control("POST", "reset")
    isolated_env.setenv("DATABRICKS_HOST", emu.url)
    isolated_env.setenv("DATABRICKS_TOKEN", ADMIN_TOKEN)
    fake = FakeTime(follow=emu.clock)
    isolated_env.setitem(tests.conftest._runtime, "clock", fake.clock)
    isolated_env.setitem(tests.conftest._runtime, "sleep", fake.sleep)
    return emu


def ok(*args: str) -> Any:
    result = run_cli(*args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def warehouse(*, running: bool = True) -> str:
    spec = json.dumps({"name": f"wh-{os.urandom(4).hex()}", "cluster_size": "2X-Small", "auto_stop_mins": 0})
    created = ok("sql.create", "--json", spec, *(["--wait"] if running else []))
    if not running:
        ok("sql.stop", created["id"], "--wait")
    return str(created["id"])


def execute(*args: str) -> CliResult:
    return run_cli("sql.execute", *args)


def test_warehouse_lifecycle(env: Emu):
    """create --wait, list, get, stop --wait, start --wait, edit and delete, each reporting the state."""
    wid = warehouse()
    assert wid in [w["id"] for w in ok("sql.warehouses")]
    assert ok("sql.warehouse-get", wid)["state"] == "RUNNING"
    assert ok("sql.stop", wid, "--wait")["state"] == "STOPPED"
    again = ok("sql.stop", wid)
    assert again["action"] == "already stopped"
    assert ok("sql.start", wid, "--wait")["state"] == "RUNNING"
    ok("sql.edit", wid, "--json", json.dumps({"auto_stop_mins": 30}))
    assert ok("sql.warehouse-get", wid)["auto_stop_mins"] == 30
    assert ok("sql.delete", wid)["deleted"] == wid
    assert run_cli("sql.warehouse-get", wid).exit_code == 4


def test_execute_prints_csv_with_a_header(env: Emu):
    """Rows go to stdout as CSV (not a terminal: the default), the header first, across chunks."""
    wid = warehouse()
    result = execute("SELECT id, id * 2 AS twice FROM range(1500)", "--warehouse-id", wid)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "id,twice"
    assert lines[1:] == [f"{i},{i * 2}" for i in range(1500)]


def test_execute_json_lines(env: Emu):
    """-o json prints one JSON object per row."""
    wid = warehouse()
    result = execute("SELECT id, 'x' AS tag FROM range(2)", "--warehouse-id", wid, "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"id": "0", "tag": "x"},
        {"id": "1", "tag": "x"},
    ]


def test_execute_table(env: Emu):
    """-o table prints an aligned table with the column names as its header."""
    wid = warehouse()
    result = execute("SELECT id, 'north' AS region FROM range(2)", "--warehouse-id", wid, "-o", "table")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["ID  REGION", "0   north", "1   north"]


def test_execute_file_with_params_to_out(env: Emu, tmp_path: Path):
    """--file with --param writes --out as CSV (the default) and prints a summary; the parameter is bound."""
    wid = warehouse()
    query = tmp_path / "q.sql"
    query.write_text("SELECT id FROM range(10) WHERE id >= CAST(:low AS INT)\n")
    out = tmp_path / "rows.csv"
    args = ["--file", str(query), "--param", "low=7", "--warehouse-id", wid, "--out", str(out)]
    summary = execute(*args)
    assert summary.exit_code == 0, summary.stderr
    assert "rows:" in summary.stdout and " 3" in summary.stdout
    assert out.read_text() == "id\n7\n8\n9\n"


def test_out_as_json_lines(env: Emu, tmp_path: Path):
    """-o json with --out writes JSON lines to the file and prints the summary as JSON."""
    wid = warehouse()
    out = tmp_path / "rows.jsonl"
    summary = ok("sql.execute", "SELECT id FROM range(2)", "--warehouse-id", wid, "--out", str(out))
    assert summary["rows"] == 2 and summary["out"] == str(out)
    assert out.read_text() == '{"id":"0"}\n{"id":"1"}\n'


def test_warehouse_from_the_environment(env: Emu, isolated_env: pytest.MonkeyPatch):
    """Without --warehouse-id the statement goes to DATABRICKS_WAREHOUSE_ID."""
    wid = warehouse()
    isolated_env.setenv("DATABRICKS_WAREHOUSE_ID", wid)
    result = execute("SELECT 42 AS answer")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "answer\n42\n"


def test_failed_statement_is_exit_7_with_the_engine_message(env: Emu):
    """A statement the engine rejects is exit 7 and the error line carries the engine's message."""
    wid = warehouse()
    result = execute("SELECT * FROM main.default.missing_table", "--warehouse-id", wid)
    assert result.exit_code == 7, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith("error: statement ") and "missing_table does not exist" in line


def test_deadline_is_exit_8_and_cancels(env: Emu):
    """--timeout shorter than the statement: exit 8, and the statement is CANCELED remotely."""
    wid = warehouse()
    env.control("DELETE", "requests")
    result = execute("SELECT 1", "--warehouse-id", wid, "--timeout", "1s")
    assert result.exit_code == 8, result.stderr
    assert "cancelled" in result.stderr
    cancels = [e for e in env.journal() if str(e["path"]).endswith("/cancel")]
    assert len(cancels) == 1
    statement_id = str(cancels[0]["path"]).split("/")[-2]
    state = env.get(f"{STATEMENTS}/{statement_id}").json()["status"]["state"]
    assert state == "CANCELED"


def test_stopped_warehouse_says_to_start_it(env: Emu):
    """A stopped warehouse is exit 5 naming --start; with --start the statement runs."""
    wid = warehouse(running=False)
    refused = execute("SELECT 1 AS one", "--warehouse-id", wid)
    assert refused.exit_code == 5
    assert "--start" in refused.stderr and "sql.start" in refused.stderr
    started = execute("SELECT 1 AS one", "--warehouse-id", wid, "--start")
    assert started.exit_code == 0, started.stderr
    assert started.stdout == "one\n1\n"


def test_history_lists_statements_with_filters(env: Emu):
    """sql.history lists what ran; --status FAILED keeps only the failures."""
    wid = warehouse()
    assert execute("SELECT 1", "--warehouse-id", wid).exit_code == 0
    assert execute("SELECT * FROM nowhere", "--warehouse-id", wid).exit_code == 7
    everything = ok("sql.history", "--warehouse-id", wid)
    assert len(everything) == 2
    failed = ok("sql.history", "--status", "FAILED", "--since", "1h")
    assert [q["status"] for q in failed] == ["FAILED"]
    assert "nowhere" in failed[0]["query_text"]


@pytest.mark.slow
def test_a_million_rows_stream_to_csv_in_bounded_memory(isolated_env: pytest.MonkeyPatch, tmp_path: Path):
    """1,000,000 rows across 50 chunks land in a CSV file while the command's peak RSS stays bounded."""
    with serving(statement_chunk_rows=20_000) as big:
        spec = {"name": "big", "cluster_size": "2X-Small", "enable_serverless_compute": True}
        wid = big.post("/api/2.0/sql/warehouses", json=spec).json()["id"]
        out = tmp_path / "big.csv"
        # VmHWM is this process's own peak (ru_maxrss may carry the parent's across the exec).
        script = (
            "import re, sys\n"
            "from brickbook.cli import main\n"
            "try:\n    main()\n"
            "finally:\n"
            "    status = open('/proc/self/status').read()\n"
            "    print('peak_kb', re.search(r'VmHWM:\\s+(\\d+)', status)[1], file=sys.stderr)\n"
        )
        text = (
            "SELECT id, concat('customer-', CAST(id AS STRING), '-', repeat('x', 20)) AS label "
            "FROM range(1000000)"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "BRICKBOOK_"))}
        env.update(DATABRICKS_HOST=big.url, DATABRICKS_TOKEN=ADMIN_TOKEN, BRICKBOOK_LOG_FORMAT="json")
        argv = [sys.executable, "-c", script, "sql.execute", text, "--warehouse-id", wid, "--out", str(out)]
        done = subprocess.run(argv, env=env, capture_output=True, timeout=280, check=False)
        stderr = done.stderr.decode()
        assert done.returncode == 0, stderr[-2000:]
        peak_mb = int(stderr.rsplit("peak_kb", 1)[1].split()[0]) / 1024
        with out.open() as rows:
            assert next(rows) == "id,label\n"
            count = sum(1 for _ in rows)
        assert count == 1_000_000
        assert out.stat().st_size > 40 * MB  # all of it would not fit in the budget below as Python rows
        assert peak_mb < 120, f"peak RSS {peak_mb:.0f} MB"
        print(f"1,000,000 rows to CSV: peak RSS {peak_mb:.0f} MB, {out.stat().st_size / MB:.0f} MB written")
