"""runbook.run-job against the emulator over loopback: once per key, by name, failures, repair, dry-run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Emulator, run_cli
from tests.fakes import FakeTime
from tests.runbooks.conftest import api, create_job, put_notebook, runs_of

RUN_NOW = "/api/2.2/jobs/run-now"
REPAIR = "/api/2.2/jobs/runs/repair"
QUICK = 'dbutils.notebook.exit("loaded 42 rows")'
FAILING = "raise AssertionError('no rows loaded')"


@pytest.fixture
def env(workspace_env: Emulator, shared_time: FakeTime) -> Emulator:
    return workspace_env


def run_job(state: Path, *args: str, key: str = "nightly-1") -> tuple[int, dict[str, Any] | None, str]:
    """Run runbook.run-job with -o json; return the exit code, the report and stderr."""
    result = run_cli("runbook.run-job", *args, "--key", key, "--state-dir", str(state), "-o", "json")
    report = json.loads(result.stdout) if result.stdout.strip() else None
    return result.exit_code, report, result.stderr


def writes(emulator: Emulator) -> list[str]:
    return [f"{e['method']} {e['path']}" for e in emulator.requests("/api/") if e["method"] != "GET"]


def test_runs_a_job_by_name_once_and_reports_its_output(env: Emulator, tmp_path: Path):
    """A job named on the command line runs once; the report carries the run's URL and the exit value."""
    job_id = create_job(env, "nightly", QUICK)
    code, report, stderr = run_job(tmp_path, "nightly")
    assert code == 0, stderr
    assert report is not None and report["status"] == "succeeded"
    run_id = runs_of(env, job_id)[0]["run_id"]
    assert [r["run_id"] for r in report["runs"]] == [run_id]
    assert report["outputs"] == {"main": "loaded 42 rows"}


def test_the_same_key_never_runs_the_job_twice(env: Emulator, tmp_path: Path):
    """Cron firing twice with one key: the second invocation starts nothing and reports the first run."""
    job_id = create_job(env, "twice", QUICK)
    assert run_job(tmp_path, str(job_id))[0] == 0
    code, report, _ = run_job(tmp_path, str(job_id))
    assert code == 0 and report is not None
    assert {s["outcome"] for s in report["steps"]} == {"skipped"}
    assert len(env.requests(RUN_NOW)) == 1 and len(runs_of(env, job_id)) == 1


def test_lost_run_now_answer_still_gives_one_run(env: Emulator, tmp_path: Path):
    """run-now applied but its answer lost: the resend carries the same token, one run in all."""
    job_id = create_job(env, "lost", QUICK)
    env.fault(pattern=f"POST {RUN_NOW}", reset_connection=True, after_handler=True, times=1)
    code, _, stderr = run_job(tmp_path, str(job_id))
    assert code == 0, stderr
    assert len(env.requests(RUN_NOW)) == 2 and len(runs_of(env, job_id)) == 1


def test_failed_run_exits_7_with_the_task_error_and_stays_failed(env: Emulator, tmp_path: Path):
    """A failing notebook exits 7 naming its error; the same key again fails again without a new run."""
    job_id = create_job(env, "failing", FAILING)
    code, report, stderr = run_job(tmp_path, str(job_id))
    assert code == 7 and "no rows loaded" in stderr
    assert report is not None and report["status"] == "failed"
    code, _, stderr = run_job(tmp_path, str(job_id))
    assert code == 7 and "--rerun" in stderr
    assert len(runs_of(env, job_id)) == 1


def test_repair_reruns_only_the_failed_run_once(env: Emulator, tmp_path: Path):
    """--repair reruns the key's failed run (no new run); the same --repair again repairs nothing more."""
    job_id = create_job(env, "repairable", FAILING)
    assert run_job(tmp_path, str(job_id))[0] == 7
    put_notebook(env, "/Shared/repairable", QUICK)  # the fix is deployed
    code, report, stderr = run_job(tmp_path, str(job_id), "--repair")
    assert code == 0, stderr
    assert report is not None and report["outputs"] == {"main": "loaded 42 rows"}
    assert len(runs_of(env, job_id)) == 1 and len(env.requests(REPAIR)) == 1
    code, _, stderr = run_job(tmp_path, str(job_id), "--repair")
    assert code == 0, stderr
    assert len(env.requests(REPAIR)) == 1
    code, _, stderr = run_job(tmp_path, str(job_id))  # cron's next try of the key: repaired, so done
    assert code == 0, stderr
    assert len(env.requests(REPAIR)) == 1 and len(runs_of(env, job_id)) == 1


def test_repair_without_a_failed_run_is_a_usage_error(env: Emulator, tmp_path: Path):
    """--repair on a key with no failed run exits 2 and sends no write."""
    job_id = create_job(env, "nothing-to-repair", QUICK)
    env.control("DELETE", "requests")
    code, _, stderr = run_job(tmp_path, str(job_id), "--repair", key="fresh")
    assert code == 2 and "no failed run" in stderr
    assert writes(env) == []


def test_dry_run_plans_and_writes_nothing(env: Emulator, tmp_path: Path):
    """--dry-run exits 0 with a plan, sends no write and creates no state."""
    job_id = create_job(env, "planned", QUICK)
    env.control("DELETE", "requests")
    code, report, stderr = run_job(tmp_path / "state", str(job_id), "--dry-run")
    assert code == 0, stderr
    assert report is not None and report["status"] == "planned"
    assert writes(env) == [] and not (tmp_path / "state").exists()


def test_missing_job_name_exits_4(env: Emulator, tmp_path: Path):
    """A job name nobody has exits 4 before anything is triggered."""
    env.control("DELETE", "requests")
    code, _, stderr = run_job(tmp_path, "no-such-job")
    assert code == 4 and "no job is named 'no-such-job'" in stderr
    assert writes(env) == []


def test_bad_param_is_refused_before_any_request(env: Emulator, tmp_path: Path):
    """--param without '=' exits 2 before the first request."""
    env.control("DELETE", "requests")
    code, _, stderr = run_job(tmp_path, "nightly", "--param", "day")
    assert code == 2 and "--param must look like key=value" in stderr
    assert env.requests("/api/") == []


def test_params_reach_the_notebook(env: Emulator, tmp_path: Path):
    """--param day=... fills the notebook's widget."""
    source = 'dbutils.widgets.text("day", "")\ndbutils.notebook.exit(dbutils.widgets.get("day"))'
    job_id = create_job(env, "with-params", source)
    code, report, stderr = run_job(tmp_path, str(job_id), "--param", "day=2026-11-30")
    assert code == 0, stderr
    assert report is not None and report["outputs"] == {"main": "2026-11-30"}
    run = api(env, "GET", "/api/2.2/jobs/runs/get", {"run_id": runs_of(env, job_id)[0]["run_id"]})
    assert run["overriding_parameters"]["notebook_params"] == {"day": "2026-11-30"}
