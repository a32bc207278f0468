"""runbook.deploy-notebook-job against the emulator over loopback: deploy, run, put the cluster back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Emulator, run_cli
from tests.fakes import FakeTime
from tests.runbooks.conftest import CLUSTER, HEADER, api, runs_of

NOTEBOOK = (
    HEADER + 'dbutils.widgets.text("day", "")\ndbutils.notebook.exit("ok " + dbutils.widgets.get("day"))\n'
)


@pytest.fixture
def env(workspace_env: Emulator, shared_time: FakeTime) -> Emulator:
    return workspace_env


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    path = tmp_path / "etl.py"
    path.write_text(NOTEBOOK)
    return path


def deploy(state: Path, *args: str, key: str = "k1") -> tuple[int, dict[str, Any] | None, str]:
    result = run_cli(
        "runbook.deploy-notebook-job", *args, "--key", key, "--state-dir", str(state), "-o", "json"
    )
    report = json.loads(result.stdout) if result.stdout.strip() else None
    return result.exit_code, report, result.stderr


def jobs_named(emulator: Emulator, name: str) -> list[dict[str, Any]]:
    return api(emulator, "GET", "/api/2.2/jobs/list", {"name": name}).get("jobs") or []


def outcomes(report: dict[str, Any]) -> list[str]:
    return [s["outcome"] for s in report["steps"]]


def test_first_deploy_creates_imports_runs_and_reports(env: Emulator, notebook: Path, tmp_path: Path):
    """The first invocation imports the notebook, creates the job, runs it once and reports its output."""
    code, report, stderr = deploy(tmp_path / "s", str(notebook), "/Shared/etl/main", "--param", "day=mon")
    assert code == 0, stderr
    assert report is not None and outcomes(report) == ["changed", "changed", "changed"]
    assert report["outputs"] == {"main": "ok mon"}
    [job] = jobs_named(env, "main")
    job = api(env, "GET", "/api/2.2/jobs/get", {"job_id": job["job_id"]})
    assert job["settings"]["tasks"][0]["notebook_task"]["notebook_path"] == "/Shared/etl/main"
    assert len(runs_of(env, job["job_id"])) == 1


def test_second_deploy_with_a_new_key_finds_everything_unchanged(
    env: Emulator, notebook: Path, tmp_path: Path
):
    """A second apply reports the notebook and the job unchanged (no import, no reset) and runs once more."""
    assert deploy(tmp_path / "s", str(notebook), "/Shared/etl/main", key="a")[0] == 0
    env.control("DELETE", "requests")
    code, report, stderr = deploy(tmp_path / "s", str(notebook), "/Shared/etl/main", key="b")
    assert code == 0, stderr
    assert report is not None and outcomes(report)[:2] == ["unchanged", "unchanged"]
    assert env.requests("/api/2.0/workspace/import") == [] and env.requests("/api/2.2/jobs/reset") == []
    [job] = jobs_named(env, "main")
    assert len(runs_of(env, job["job_id"])) == 2


def test_a_changed_notebook_is_reimported(env: Emulator, notebook: Path, tmp_path: Path):
    """Editing the local notebook makes the next deploy update it."""
    assert deploy(tmp_path / "s", str(notebook), "/Shared/etl/main", key="a")[0] == 0
    notebook.write_text(NOTEBOOK + "# a change\n")
    code, report, stderr = deploy(tmp_path / "s", str(notebook), "/Shared/etl/main", key="b")
    assert code == 0, stderr
    assert report is not None and outcomes(report)[0] == "changed"


def test_dry_run_plans_without_writing(env: Emulator, notebook: Path, tmp_path: Path):
    """--dry-run prints the plan (notebook create, job create) and sends no write request."""
    code, report, stderr = deploy(tmp_path / "s", str(notebook), "/Shared/etl/main", "--dry-run")
    assert code == 0, stderr
    assert report is not None and report["status"] == "planned"
    actions = [c["action"] for s in report["steps"] for c in s.get("changes", [])]
    assert actions == ["create", "create"]
    assert [e for e in env.requests("/api/") if e["method"] != "GET"] == []


def test_a_cluster_found_stopped_is_stopped_again(env: Emulator, notebook: Path, tmp_path: Path):
    """With --cluster-id of a terminated cluster, the run starts it and the runbook terminates it again."""
    cluster_id = api(env, "POST", "/api/2.1/clusters/create", {**CLUSTER, "cluster_name": "c"})["cluster_id"]
    api(env, "POST", "/api/2.1/clusters/delete", {"cluster_id": cluster_id})
    env.clock.advance(60)
    code, report, stderr = deploy(
        tmp_path / "s", str(notebook), "/Shared/etl/main", "--cluster-id", cluster_id
    )
    assert code == 0, stderr
    assert report is not None and report["steps"][-1]["outcome"] == "changed"
    assert len(env.requests("/api/2.1/clusters/delete")) >= 1
    env.clock.advance(60)
    state = api(env, "GET", "/api/2.1/clusters/get", {"cluster_id": cluster_id})["state"]
    assert state in ("TERMINATING", "TERMINATED")


def test_a_running_cluster_is_left_running(env: Emulator, notebook: Path, tmp_path: Path):
    """A cluster that was running before the run is left running."""
    cluster_id = api(env, "POST", "/api/2.1/clusters/create", {**CLUSTER, "cluster_name": "r"})["cluster_id"]
    env.clock.advance(60)
    code, report, stderr = deploy(
        tmp_path / "s", str(notebook), "/Shared/etl/main", "--cluster-id", cluster_id
    )
    assert code == 0, stderr
    assert report is not None and report["steps"][-1]["outcome"] == "unchanged"
    assert env.requests("/api/2.1/clusters/delete") == []


def test_a_failing_notebook_exits_7_and_still_restores_the_cluster(env: Emulator, tmp_path: Path):
    """The run fails (exit 7) and the cluster it started is terminated all the same."""
    bad = tmp_path / "bad.py"
    bad.write_text(HEADER + "raise AssertionError('no rows loaded')\n")
    cluster_id = api(env, "POST", "/api/2.1/clusters/create", {**CLUSTER, "cluster_name": "f"})["cluster_id"]
    api(env, "POST", "/api/2.1/clusters/delete", {"cluster_id": cluster_id})
    env.clock.advance(60)
    code, report, stderr = deploy(tmp_path / "s", str(bad), "/Shared/etl/bad", "--cluster-id", cluster_id)
    assert code == 7 and "no rows loaded" in stderr
    assert report is not None and report["steps"][-1]["name"].startswith(f"cluster {cluster_id} is as")
    assert len(env.requests("/api/2.1/clusters/delete")) >= 1


def test_options_are_checked_before_any_request(env: Emulator, notebook: Path, tmp_path: Path):
    """--cluster-id with --new-cluster exits 2 before the first request."""
    env.control("DELETE", "requests")
    code, _, stderr = deploy(
        tmp_path / "s", str(notebook), "/Shared/x", "--cluster-id", "c1", "--new-cluster", "{}"
    )
    assert code == 2 and "not both" in stderr
    assert env.requests("/api/") == []
