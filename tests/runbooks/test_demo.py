"""`brickbook demo` as users run it: the installed command, its own emulator, exit 0, a real report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def test_demo_runs_the_runbook_three_times_and_exits_0(tmp_path: Path):
    """The demo deploys and runs the example notebook, shows nothing done twice, and cleans up."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "BRICKBOOK_"))}
    env.update(HOME=str(tmp_path), TMPDIR=str(tmp_path))
    done = subprocess.run(
        [str(BIN / "brickbook"), "demo", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    decoder = json.JSONDecoder()
    reports, text = [], done.stdout.strip()
    while text:
        value, end = decoder.raw_decode(text)
        reports.append(value)
        text = text[end:].strip()
    first, again, second, summary = reports
    assert [s["outcome"] for s in first["steps"]][:2] == ["changed", "changed"]
    assert json.loads(first["outputs"]["main"])["orders"] == 500
    assert {s["outcome"] for s in again["steps"] if "state before" not in s["name"]} == {"skipped"}
    assert again["runs"] == first["runs"]
    assert [s["outcome"] for s in second["steps"]][:2] == ["unchanged", "unchanged"]
    assert second["runs"][0]["run_id"] != first["runs"][0]["run_id"]
    assert summary == {"demo": "passed", "first run": 0, "same key again": 0, "new key": 0, "sql.execute": 0}
    assert "REGION  ORDERS  REVENUE" in done.stderr  # the notebook's table, through sql.execute
    assert list(tmp_path.glob("brickbook-demo-*")) == []  # the throwaway workspace is gone
