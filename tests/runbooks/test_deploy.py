"""runbook.deploy against the emulator over loopback: apply, unchanged, dry-run, prune, bad files."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from brickbook.deployment import DEPLOYMENT_TAG
from tests.conftest import run_cli
from tests.emulator.gitrepo import GitRepo, make_git_repo
from tests.hostile.table import mutations
from tests.runbooks.conftest import api

HEADER = "# Databricks notebook source\n"
PASSWORD = "pw-from-the-env-8f7e6d5c"
API_KEY = b"api-key-from-a-file-1a2b3c"
NIGHTLY = """\
tasks:
  - task_key: main
    notebook_task: {notebook_path: /Shared/etl/main}
"""
DEPLOY = """\
name: etl
workspace:
  source: notebooks
  dest: /Shared/etl
dbfs:
  - {source: conf/etl.json, dest: "dbfs:/etl/conf/etl.json"}
secrets:
  - scope: etl
    keys:
      db-password: {env: ETL_DB_PASSWORD}
      api-key: {file: secrets/api-key.txt}
repos:
  - {path: /Repos/ci/etl, branch: main}
jobs:
  - {name: etl-nightly, file: jobs/nightly.yaml}
  - name: etl-hourly
    max_concurrent_runs: 1
    tasks:
      - task_key: load
        notebook_task: {notebook_path: /Shared/etl/load}
"""
NIGHTLY_ENTRY = "{name: etl-nightly, file: jobs/nightly.yaml}"
WITHOUT_HOURLY = DEPLOY.split("  - name: etl-hourly", maxsplit=1)[0]


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.stdout)
        return data


def run(*args: str) -> Result:
    """Run ``brickbook ARGS`` in-process (the session's CLI runner: its output joins the redaction scan)."""
    done = run_cli(*args)
    return Result(done.exit_code, done.stdout, done.stderr)


@dataclass
class Project:
    """A deployment's local folder, its file, and the state dir its runs share."""

    root: Path
    file: Path
    state: Path
    repo: GitRepo

    def deploy(self, *extra: str) -> Result:
        return run(
            "runbook.deploy", "--file", str(self.file), "--state-dir", str(self.state), "-o", "json", *extra
        )


@pytest.fixture
def project(workspace_env: Any, isolated_env: pytest.MonkeyPatch, tmp_path: Path) -> Project:
    """A full deployment: two notebooks and a plain file, a DBFS file, two secrets, a repo, two jobs."""
    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    (root / "notebooks" / "main.py").write_text(HEADER + "print('main')\n")
    (root / "notebooks" / "load.py").write_text(HEADER + "print('load')\n")
    (root / "notebooks" / "README.md").write_text("# etl\n")
    (root / "conf").mkdir()
    (root / "conf" / "etl.json").write_text('{"rows": 10}')
    (root / "secrets").mkdir()
    (root / "secrets" / "api-key.txt").write_bytes(API_KEY)
    (root / "jobs").mkdir()
    (root / "jobs" / "nightly.yaml").write_text(NIGHTLY)
    (root / "deploy.yaml").write_text(DEPLOY)
    isolated_env.setenv("ETL_DB_PASSWORD", PASSWORD)
    repo = make_git_repo(tmp_path, "git-etl")
    api(workspace_env, "POST", "/api/2.0/workspace/mkdirs", {"path": "/Repos/ci"})
    body = {"url": str(repo.path), "provider": "gitHub", "path": "/Repos/ci/etl"}
    info = api(workspace_env, "POST", "/api/2.0/repos", body)
    api(workspace_env, "PATCH", f"/api/2.0/repos/{info['id']}", {"branch": "feature"})
    return Project(root=root, file=root / "deploy.yaml", state=tmp_path / "state", repo=repo)


def outcomes(result: Result) -> dict[str, str]:
    return {step["name"]: step["outcome"] for step in result.report["steps"]}


def actions(result: Result) -> dict[str, list[str]]:
    """Each step's changes as ``action target`` lines."""
    return {
        step["name"]: [f"{c['action']} {c['target']}" for c in step["changes"]]
        for step in result.report["steps"]
    }


STEPS = [
    "notebooks in /Shared/etl match notebooks",
    "dbfs:/etl/conf/etl.json matches conf/etl.json",
    "secret scope 'etl' holds its keys",
    "repo /Repos/ci/etl is on main",
    "job 'etl-nightly' matches its spec",
    "job 'etl-hourly' matches its spec",
]


def jobs_by_name(emulator: Any) -> dict[str, dict[str, Any]]:
    listed = api(emulator, "GET", "/api/2.2/jobs/list", {"limit": 100}).get("jobs") or []
    return {job["settings"]["name"]: job for job in listed}


def workspace_paths(emulator: Any, folder: str) -> set[str]:
    listed = api(emulator, "GET", "/api/2.0/workspace/list", {"path": folder}).get("objects") or []
    return {item["path"] for item in listed}


# -- apply --------------------------------------------------------------------------------------------


def test_first_deploy_makes_the_workspace_match(project: Project, workspace_env: Any):
    """Every step changes something, and the workspace then holds what the file lists."""
    result = project.deploy()
    assert result.exit_code == 0, result.stderr
    assert result.report["status"] == "succeeded"
    assert outcomes(result) == dict.fromkeys(STEPS, "changed")
    assert workspace_paths(workspace_env, "/Shared/etl") == {
        "/Shared/etl/main",
        "/Shared/etl/load",
        "/Shared/etl/README.md",
    }
    read = api(workspace_env, "GET", "/api/2.0/dbfs/read", {"path": "/etl/conf/etl.json"})
    assert base64.b64decode(read["data"]) == b'{"rows": 10}'
    keys = api(workspace_env, "GET", "/api/2.0/secrets/list", {"scope": "etl"})["secrets"]
    assert sorted(k["key"] for k in keys) == ["api-key", "db-password"]
    repo = api(workspace_env, "GET", "/api/2.0/repos", {"path_prefix": "/Repos/ci/etl"})["repos"][0]
    assert repo["branch"] == "main"
    jobs = jobs_by_name(workspace_env)
    assert set(jobs) == {"etl-nightly", "etl-hourly"}
    assert all(job["settings"]["tags"] == {DEPLOYMENT_TAG: "etl"} for job in jobs.values())


def test_second_deploy_reports_everything_unchanged_and_writes_nothing(project: Project, workspace_env: Any):
    """Deploying the same file again plans only `unchanged` and sends no write."""
    assert project.deploy().exit_code == 0
    workspace_env.control("DELETE", "requests")
    result = project.deploy()
    assert result.exit_code == 0, result.stderr
    assert outcomes(result) == dict.fromkeys(STEPS, "unchanged")
    assert mutations(workspace_env) == []


def test_a_changed_notebook_and_job_are_the_only_updates(project: Project, workspace_env: Any):
    """After editing one notebook and one job, only those two steps change."""
    assert project.deploy().exit_code == 0
    (project.root / "notebooks" / "main.py").write_text(HEADER + "print('main v2')\n")
    (project.root / "jobs" / "nightly.yaml").write_text(NIGHTLY + "timeout_seconds: 600\n")
    result = project.deploy("--key", "second")
    assert result.exit_code == 0, result.stderr
    changed = {name for name, outcome in outcomes(result).items() if outcome == "changed"}
    assert changed == {"notebooks in /Shared/etl match notebooks", "job 'etl-nightly' matches its spec"}
    assert jobs_by_name(workspace_env)["etl-nightly"]["settings"]["timeout_seconds"] == 600


def test_a_changed_secret_value_is_put_again(
    project: Project, workspace_env: Any, isolated_env: pytest.MonkeyPatch
):
    """A new value in the environment is written again; the other key stays unchanged."""
    assert project.deploy().exit_code == 0
    isolated_env.setenv("ETL_DB_PASSWORD", PASSWORD + "-rotated")
    workspace_env.control("DELETE", "requests")
    result = project.deploy("--key", "rotate")
    assert result.exit_code == 0, result.stderr
    assert outcomes(result)["secret scope 'etl' holds its keys"] == "changed"
    assert len(workspace_env.requests("/api/2.0/secrets/put")) == 1  # db-password only


def test_secret_values_never_reach_the_output(project: Project):
    """Neither secret value appears in the report, the logs or the debug output."""
    result = project.deploy("--debug")
    assert result.exit_code == 0, result.stderr
    for text in (result.stdout, result.stderr):
        assert PASSWORD not in text and API_KEY.decode() not in text


def test_secret_records_survive_in_the_state_dir_privately(project: Project):
    """The secrets' records are kept in one private file beside the journals, not in a key's journal."""
    assert project.deploy().exit_code == 0
    (records,) = (project.state / "deploy").glob("secrets-etl-*.json")
    assert records.stat().st_mode & 0o777 == 0o600
    data = json.loads(records.read_text())
    assert sorted(data["records"]) == ["etl/api-key", "etl/db-password"]
    assert PASSWORD not in records.read_text()


# -- dry-run ------------------------------------------------------------------------------------------


def test_dry_run_prints_the_plan_and_sends_no_write(project: Project, workspace_env: Any):
    """--dry-run plans every step (create for what is missing), writes nothing remote or local."""
    workspace_env.control("DELETE", "requests")
    result = project.deploy("--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.report["status"] == "planned" and result.report["dry_run"] is True
    assert outcomes(result) == dict.fromkeys(STEPS, "planned")
    planned = actions(result)
    assert "create secret etl/db-password" in " ".join(planned["secret scope 'etl' holds its keys"])
    assert [a.split()[0] for a in planned["job 'etl-nightly' matches its spec"]] == ["create"]
    assert mutations(workspace_env) == []
    assert not project.state.exists()


def test_dry_run_text_output_lists_the_changes(project: Project):
    """The text report names each planned change."""
    result = run(
        "runbook.deploy", "--file", str(project.file), "--state-dir", str(project.state), "--dry-run"
    )
    assert result.exit_code == 0, result.stderr
    assert "job 'etl-hourly'" in result.stdout and "create" in result.stdout


def test_dry_run_after_a_deploy_plans_nothing(project: Project, workspace_env: Any):
    """A dry run of a deployed file says every step is unchanged."""
    assert project.deploy().exit_code == 0
    workspace_env.control("DELETE", "requests")
    result = project.deploy("--dry-run", "--key", "check")
    assert outcomes(result) == dict.fromkeys(STEPS, "unchanged")
    assert mutations(workspace_env) == []


# -- prune --------------------------------------------------------------------------------------------


def test_prune_removes_only_what_this_deployment_manages(project: Project, workspace_env: Any):
    """--prune deletes stale notebooks in the managed folder and dropped jobs tagged with this deployment."""
    assert project.deploy().exit_code == 0
    notebook = {"format": "SOURCE", "language": "PYTHON", "overwrite": True}
    content = base64.b64encode(HEADER.encode()).decode()
    for path in ("/Shared/etl/stale", "/Shared/other/keep"):
        api(workspace_env, "POST", "/api/2.0/workspace/mkdirs", {"path": path.rsplit("/", 1)[0]})
        api(
            workspace_env, "POST", "/api/2.0/workspace/import", {**notebook, "path": path, "content": content}
        )
    task = [{"task_key": "t", "notebook_task": {"notebook_path": "/Shared/other/keep"}}]
    for name, tags in (("other-deploy", {DEPLOYMENT_TAG: "other"}), ("untagged", {})):
        api(workspace_env, "POST", "/api/2.2/jobs/create", {"name": name, "tasks": task, "tags": tags})
    (project.root / "notebooks" / "load.py").unlink()  # and load leaves the folder
    project.file.write_text(WITHOUT_HOURLY)  # etl-hourly leaves the file

    result = project.deploy("--prune", "--key", "prune")
    assert result.exit_code == 0, result.stderr
    assert outcomes(result)["nothing unlisted remains"] == "changed"
    deleted = {
        c.split(" ", 1)[1] for c in actions(result)["nothing unlisted remains"] if c.startswith("delete")
    }
    assert any("etl-hourly" in target for target in deleted)
    assert workspace_paths(workspace_env, "/Shared/etl") == {"/Shared/etl/main", "/Shared/etl/README.md"}
    assert workspace_paths(workspace_env, "/Shared/other") == {"/Shared/other/keep"}
    assert set(jobs_by_name(workspace_env)) == {"etl-nightly", "other-deploy", "untagged"}


def test_without_prune_nothing_is_deleted(project: Project, workspace_env: Any):
    """A job dropped from the file stays, and so does a notebook dropped from the folder, without --prune."""
    assert project.deploy().exit_code == 0
    (project.root / "notebooks" / "load.py").unlink()
    project.file.write_text(WITHOUT_HOURLY)
    result = project.deploy("--key", "no-prune")
    assert result.exit_code == 0, result.stderr
    assert "nothing unlisted remains" not in outcomes(result)
    assert "/Shared/etl/load" in workspace_paths(workspace_env, "/Shared/etl")
    assert "etl-hourly" in jobs_by_name(workspace_env)


def test_prune_dry_run_names_what_would_go(project: Project, workspace_env: Any):
    """--prune --dry-run lists the deletions and deletes nothing."""
    assert project.deploy().exit_code == 0
    project.file.write_text(WITHOUT_HOURLY)
    workspace_env.control("DELETE", "requests")
    result = project.deploy("--prune", "--dry-run", "--key", "prune-plan")
    assert outcomes(result)["nothing unlisted remains"] == "planned"
    assert any("etl-hourly" in a for a in actions(result)["nothing unlisted remains"])
    assert mutations(workspace_env) == []
    assert "etl-hourly" in jobs_by_name(workspace_env)


# -- a bad deployment file: exit 2 naming the field, before any request --------------------------------


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("name: etl\n", "name: etl/prod\n", 1), r"deploy.yaml: name: 'etl/prod' must be"),
        (lambda t: t + "extra: 1\n", r"deploy.yaml: extra: unknown key"),
        (lambda t: t.replace("dest: /Shared/etl", "dest: Shared/etl"), r"workspace.dest: .*must be absolute"),
        (lambda t: t.replace("source: notebooks", "source: ../"), r"workspace.source: '../' leads outside"),
        (lambda t: t.replace("dbfs:/etl/conf/etl.json", "/etl/conf/etl.json"), r"dbfs\[0\].dest: .*dbfs:/"),
        (
            lambda t: t.replace("{env: ETL_DB_PASSWORD}", "hunter2-inline"),
            r"keys.db-password: secret values may not",
        ),
        (
            lambda t: t.replace("ETL_DB_PASSWORD", "ETL_UNSET"),
            r"keys.db-password.env: .*ETL_UNSET is not set",
        ),
        (
            lambda t: t.replace("api-key.txt", "missing.txt"),
            r"keys.api-key.file: 'secrets/missing.txt' is missing",
        ),
        (
            lambda t: t.replace("branch: main", "branch: main, tag: v1"),
            r"repos\[0\]: give exactly one of branch",
        ),
        (lambda t: t.replace("etl-hourly", "etl-nightly"), r"jobs\[1\].name: the job name 'etl-nightly'"),
        (
            lambda t: t.replace("task_key: load", "task_kee: load"),
            r"jobs\[1\] 'etl-hourly': tasks\[0\].task_key",
        ),
        (lambda t: t.replace("name: etl\n", "name: &n etl\n", 1) + "x: *n\n", r"YAML aliases"),
        (
            lambda t: t.replace(
                NIGHTLY_ENTRY,
                NIGHTLY_ENTRY[:-1] + ", permissions: [{group_name: users, permission_level: CAN_USE}]}",
            ),
            r"jobs\[0\]\.permissions\[0\]: LEVEL 'CAN_USE' is not a permission level of a job",
        ),
        (
            lambda t: t.replace(
                NIGHTLY_ENTRY, NIGHTLY_ENTRY[:-1] + ", permissions: [{group_name: users, level: CAN_VIEW}]}"
            ),
            r"jobs\[0\]\.permissions\[0\]\.level: unknown key",
        ),
        (
            lambda t: t.replace("    max_concurrent_runs: 1\n", "    permissions: CAN_VIEW\n"),
            r"jobs\[1\]\.permissions must be a list",
        ),
    ],
    ids=[
        "name",
        "unknown-key",
        "workspace-dest",
        "local-path-escapes",
        "dbfs-scheme",
        "inline-secret",
        "missing-env",
        "missing-file",
        "repo-ref",
        "duplicate-job",
        "job-spec",
        "yaml-alias",
        "permission-level",
        "permission-key",
        "permissions-not-a-list",
    ],
)
def test_a_bad_deployment_file_exits_2_before_any_request(
    project: Project, workspace_env: Any, edit: Any, message: str
):
    """Each validation rule stops the deploy with exit 2, one line naming the field, and no request at all."""
    import re

    project.file.write_text(edit(DEPLOY))
    workspace_env.control("DELETE", "requests")
    result = project.deploy()
    assert result.exit_code == 2, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert re.search(message, line), line
    assert "hunter2" not in result.stdout + result.stderr
    assert workspace_env.requests("/api/") == []
    assert not project.state.exists()


def test_deploy_needs_a_file(workspace_env: Any, tmp_path: Path):
    """Without --file the deploy is a usage error."""
    result = run("runbook.deploy", "--state-dir", str(tmp_path / "state"))
    assert result.exit_code == 2
    assert "--file is required" in result.stderr


def test_corrupt_secret_records_stop_the_deploy_naming_the_file(project: Project, workspace_env: Any):
    """A damaged records file is an error naming it (exit 2), never silently ignored."""
    assert project.deploy().exit_code == 0
    (records,) = (project.state / "deploy").glob("secrets-etl-*.json")
    records.write_text("{not json")
    workspace_env.control("DELETE", "requests")
    result = project.deploy("--key", "after-damage")
    assert result.exit_code == 2
    assert f"the secret records {records} are corrupt" in result.stderr
    assert result.report["steps"] == [] and mutations(workspace_env) == []


def test_a_repo_pinned_to_a_tag_is_unchanged_once_there(project: Project, workspace_env: Any):
    """A tag is checked out again on each deploy (the API does not report tags); the step stays unchanged."""
    project.file.write_text(DEPLOY.replace("branch: main", "tag: v1"))
    first = project.deploy()
    assert first.exit_code == 0, first.stderr
    assert outcomes(first)["repo /Repos/ci/etl is on tag v1"] == "changed"
    repo = api(workspace_env, "GET", "/api/2.0/repos", {"path_prefix": "/Repos/ci/etl"})["repos"][0]
    assert repo["head_commit_id"] == project.repo.v1
    again = project.deploy("--key", "again")
    assert outcomes(again)["repo /Repos/ci/etl is on tag v1"] == "unchanged"


# -- job permissions ----------------------------------------------------------------------------------

ALICE = "alice@example.com"
HOURLY_PERMISSIONS = """\
    permissions:
      - {user_name: alice@example.com, permission_level: CAN_MANAGE_RUN}
      - {group_name: users, permission_level: CAN_VIEW}
"""
WITH_PERMISSIONS = DEPLOY.replace(
    "    max_concurrent_runs: 1\n", "    max_concurrent_runs: 1\n" + HOURLY_PERMISSIONS
)
HOURLY = "job 'etl-hourly' matches its spec"


def job_acl(emulator: Any, name: str) -> dict[str, str]:
    """The job's grants as ``principal -> level`` (direct and inherited alike)."""
    job_id = jobs_by_name(emulator)[name]["job_id"]
    acl = api(emulator, "GET", f"/api/2.0/permissions/jobs/{job_id}")["access_control_list"]
    return {
        str(e.get("user_name") or e.get("group_name") or e.get("service_principal_name")): e[
            "all_permissions"
        ][0]["permission_level"]
        for e in acl
    }


def test_job_permissions_are_set_and_a_rerun_writes_nothing(project: Project, workspace_env: Any):
    """A job's permissions are PUT with the owner kept; deploying again plans unchanged and writes nothing."""
    project.file.write_text(WITH_PERMISSIONS)
    result = project.deploy()
    assert result.exit_code == 0, result.stderr
    hourly = actions(result)[HOURLY]
    assert hourly[0] == "create job 'etl-hourly'"
    assert sorted(a.split(" on ")[0] for a in hourly[1:]) == ["create group:users", f"create user:{ALICE}"]
    assert job_acl(workspace_env, "etl-hourly") == {
        "admin@example.com": "IS_OWNER",
        ALICE: "CAN_MANAGE_RUN",
        "users": "CAN_VIEW",
        "admins": "CAN_MANAGE",
    }
    workspace_env.control("DELETE", "requests")
    again = project.deploy("--key", "again")
    assert again.exit_code == 0, again.stderr
    assert outcomes(again)[HOURLY] == "unchanged"
    assert mutations(workspace_env) == []


def test_job_permissions_in_a_dry_run_of_a_new_job(project: Project, workspace_env: Any):
    """A dry run of a job not created yet plans its permissions as one create, and writes nothing."""
    project.file.write_text(WITH_PERMISSIONS)
    workspace_env.control("DELETE", "requests")
    result = project.deploy("--dry-run")
    assert result.exit_code == 0, result.stderr
    assert actions(result)[HOURLY] == ["create job 'etl-hourly'", "create permissions on job 'etl-hourly'"]
    assert mutations(workspace_env) == []


def test_changed_permissions_are_planned_then_applied(project: Project, workspace_env: Any):
    """Dropping a grant from the file is a planned delete in a dry run, then one PUT."""
    project.file.write_text(WITH_PERMISSIONS)
    assert project.deploy().exit_code == 0
    project.file.write_text(
        WITH_PERMISSIONS.replace("      - {group_name: users, permission_level: CAN_VIEW}\n", "")
    )
    workspace_env.control("DELETE", "requests")
    planned = project.deploy("--dry-run", "--key", "plan")
    assert [a.split(" on ")[0] for a in actions(planned)[HOURLY]] == [
        "unchanged job 'etl-hourly'",
        "delete group:users",
    ]
    assert mutations(workspace_env) == []
    applied = project.deploy("--key", "apply")
    assert applied.exit_code == 0, applied.stderr
    assert [m.split()[0] for m in mutations(workspace_env)] == ["PUT"]
    assert "users" not in job_acl(workspace_env, "etl-hourly")


def test_a_job_without_permissions_keeps_its_acl(project: Project, workspace_env: Any):
    """A job given no permissions keeps a grant made outside the deploy; its ACL is not even read."""
    assert project.deploy().exit_code == 0
    job_id = jobs_by_name(workspace_env)["etl-nightly"]["job_id"]
    grant = {"access_control_list": [{"user_name": ALICE, "permission_level": "CAN_VIEW"}]}
    api(workspace_env, "PATCH", f"/api/2.0/permissions/jobs/{job_id}", grant)
    workspace_env.control("DELETE", "requests")
    result = project.deploy("--key", "again")
    assert result.exit_code == 0, result.stderr
    assert workspace_env.requests("/api/2.0/permissions") == []
    assert job_acl(workspace_env, "etl-nightly")[ALICE] == "CAN_VIEW"
