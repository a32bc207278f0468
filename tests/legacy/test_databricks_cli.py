"""The legacy ``databricks`` CLI (databricks-cli 0.18) against the emulator, through its own commands.

Each test drives the real console script (see harness.py), checks what it prints (its JSON or table)
and the emulator's state read independently, and, on the way out, that no request met a missing route.
Jobs and runs use the CLI's default Jobs API 2.0 unless ``--version=2.1`` is given.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.harness import ALICE, ALICE_TOKEN, Emu
from tests.legacy.harness import LegacyCli
from tests.wheels import offline_pip, wheel

SPEC = {"spark_version": "13.3.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
NOTEBOOK = "# Databricks notebook source\ndbutils.notebook.exit('hi ' + dbutils.widgets.get('who'))\n"
BLOCK = "# Databricks notebook source\nimport time\nwhile True:\n    time.sleep(0.02)\n"
TERMINAL = {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}
WAIT_SECONDS = 60


def _cluster(emu: Emu, cluster_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = emu.get("/api/2.1/clusters/get", params={"cluster_id": cluster_id}).json()
    return answer


def _settle(emu: Emu) -> None:
    """Let emulated time pass: every cluster lifecycle step (1 s by default) completes."""
    emu.clock.advance(5)


def _wait_run(dbcli: LegacyCli, run_id: int) -> dict[str, Any]:
    """Poll runs/get, moving the emulator's clock so clusters start, until the run has ended."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        run: dict[str, Any] = dbcli.state("GET", "/api/2.2/jobs/runs/get", run_id=run_id)
        if run["state"]["life_cycle_state"] in TERMINAL:
            return run
        assert time.monotonic() < deadline, f"run {run_id} stuck: {run['state']}"
        _settle(dbcli.emu)
        time.sleep(0.05)  # waiting for the notebook's child process, not for emulated time


def _notebook(dbcli: LegacyCli, name: str, source: str = NOTEBOOK) -> str:
    local = dbcli.home / f"{name}.py"
    local.write_text(source)
    dbcli.ok("workspace", "mkdirs", "/Shared/legacy")
    dbcli.ok(
        "workspace", "import", "-l", "PYTHON", "-f", "SOURCE", "-o", str(local), f"/Shared/legacy/{name}"
    )
    return f"/Shared/legacy/{name}"


def test_workspace_import_export_and_dirs(dbcli: LegacyCli, tmp_path: Path):
    """workspace mkdirs/import/export/ls/import_dir/export_dir/rm round-trip notebooks and folders."""
    path = _notebook(dbcli, "nb")
    dbcli.ok("workspace", "export", path, str(tmp_path / "nb.py"))
    assert (tmp_path / "nb.py").read_text() == NOTEBOOK
    listed = dbcli.ok("workspace", "ls", "-l", "--absolute", "/Shared/legacy")
    assert listed.split() == ["NOTEBOOK", path, "PYTHON"]
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "main.py").write_text("# Databricks notebook source\nprint(1)\n")
    (src / "q.sql").write_text("-- Databricks notebook source\nselect 1\n")
    (src / "sub" / "other.py").write_text("x = 2\n")
    dbcli.ok("workspace", "import_dir", str(src), "/Shared/legacy/dir")
    objects = dbcli.state("GET", "/api/2.0/workspace/list", path="/Shared/legacy/dir")["objects"]
    kinds = {o["path"]: (o["object_type"], o.get("language")) for o in objects}
    assert kinds == {
        "/Shared/legacy/dir/main": ("NOTEBOOK", "PYTHON"),
        "/Shared/legacy/dir/q": ("NOTEBOOK", "SQL"),
        "/Shared/legacy/dir/sub": ("DIRECTORY", None),
    }
    out = tmp_path / "out"
    dbcli.ok("workspace", "export_dir", "/Shared/legacy/dir", str(out))
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "main.py",
        "q.sql",
        "sub/other.py",
    ]
    assert "print(1)" in (out / "main.py").read_text()
    assert "x = 2" in (out / "sub" / "other.py").read_text()
    dbcli.ok("workspace", "rm", "-r", "/Shared/legacy/dir")
    assert dbcli.ok("workspace", "ls", "/Shared/legacy").split() == ["nb"]


def test_fs_copies_both_ways_cat_mv_and_rm(dbcli: LegacyCli, tmp_path: Path):
    """fs mkdirs/cp (a 1.5 MB file, up and down)/ls/cat/mv/rm -r, checked against DBFS itself."""
    big = tmp_path / "big.bin"
    big.write_bytes(random.Random(7).randbytes(1_500_000))
    dbcli.ok("fs", "mkdirs", "dbfs:/FileStore/legacy")
    dbcli.ok("fs", "cp", str(big), "dbfs:/FileStore/legacy/big.bin")
    status = dbcli.state("GET", "/api/2.0/dbfs/get-status", path="/FileStore/legacy/big.bin")
    assert status["file_size"] == 1_500_000
    assert dbcli.ok("fs", "ls", "-l", "dbfs:/FileStore/legacy").split()[:3] == ["file", "1500000", "big.bin"]
    back = tmp_path / "back.bin"
    dbcli.ok("fs", "cp", "dbfs:/FileStore/legacy/big.bin", str(back))
    assert back.read_bytes() == big.read_bytes()
    # Over 1 MB (the JSON put's limit): the CLI sends it as one multipart/form-data put, reads 1 MB ranges.
    assert len(dbcli.emu.journal("/api/2.0/dbfs/put")) == 1
    assert len(dbcli.emu.journal("/api/2.0/dbfs/read")) == 2
    (tmp_path / "h.txt").write_text("hello legacy\n")
    dbcli.ok("fs", "cp", str(tmp_path / "h.txt"), "dbfs:/FileStore/legacy/h.txt")
    assert dbcli.ok("fs", "cat", "dbfs:/FileStore/legacy/h.txt") == "hello legacy\n"
    dbcli.ok("fs", "mv", "dbfs:/FileStore/legacy/h.txt", "dbfs:/FileStore/legacy/moved.txt")
    assert sorted(dbcli.ok("fs", "ls", "dbfs:/FileStore/legacy").split()) == ["big.bin", "moved.txt"]
    dbcli.ok("fs", "rm", "-r", "dbfs:/FileStore/legacy")
    names = [f["path"] for f in dbcli.state("GET", "/api/2.0/dbfs/list", path="/FileStore").get("files", [])]
    assert "/FileStore/legacy" not in names


def test_clusters_lifecycle(dbcli: LegacyCli):
    """clusters create/list/get/restart/delete/start/permanent-delete/list-node-types/list-zones/..."""
    node_types = dbcli.json("clusters", "list-node-types")["node_types"]
    assert node_types and all("node_type_id" in n for n in node_types)
    versions = [v["key"] for v in dbcli.json("clusters", "spark-versions")["versions"]]
    assert "15.4.x-scala2.12" in versions
    zones = dbcli.json("clusters", "list-zones")
    assert zones["default_zone"] in zones["zones"]
    cluster_id = dbcli.json("clusters", "create", "--json", json.dumps({"cluster_name": "c1", **SPEC}))[
        "cluster_id"
    ]
    listed = dbcli.json("clusters", "list", "--output", "JSON")["clusters"]
    assert [(c["cluster_id"], c["cluster_name"]) for c in listed] == [(cluster_id, "c1")]
    _settle(dbcli.emu)
    got = dbcli.json("clusters", "get", "--cluster-id", cluster_id)
    assert (got["state"], got["num_workers"]) == ("RUNNING", 1)
    assert dbcli.json("clusters", "get", "--cluster-name", "c1")["cluster_id"] == cluster_id
    dbcli.ok("clusters", "restart", "--cluster-id", cluster_id)
    assert _cluster(dbcli.emu, cluster_id)["state"] == "RESTARTING"
    _settle(dbcli.emu)
    dbcli.ok("clusters", "delete", "--cluster-id", cluster_id)
    _settle(dbcli.emu)
    assert _cluster(dbcli.emu, cluster_id)["state"] == "TERMINATED"
    dbcli.ok("clusters", "start", "--cluster-id", cluster_id)
    assert _cluster(dbcli.emu, cluster_id)["state"] == "PENDING"
    _settle(dbcli.emu)
    assert _cluster(dbcli.emu, cluster_id)["state"] == "RUNNING"
    dbcli.ok("clusters", "permanent-delete", "--cluster-id", cluster_id)
    assert dbcli.state("GET", "/api/2.1/clusters/list").get("clusters", []) == []


def test_jobs_with_the_default_api_20(dbcli: LegacyCli, tmp_path: Path):
    """jobs create/list/get/reset/run-now/delete in the 2.0 single-task form, runs included."""
    path = _notebook(dbcli, "hello")
    spec = {"name": "j20", "new_cluster": SPEC, "notebook_task": {"notebook_path": path}, "max_retries": 1}
    (tmp_path / "job.json").write_text(json.dumps(spec))
    job_id = dbcli.json("jobs", "create", "--json-file", str(tmp_path / "job.json"))["job_id"]
    assert dbcli.ok("jobs", "list").split() == [str(job_id), "j20"]
    settings = dbcli.json("jobs", "get", "--job-id", str(job_id))["settings"]
    assert (settings["notebook_task"], settings["new_cluster"], settings["max_retries"]) == (
        {"notebook_path": path},
        SPEC,
        1,
    )
    assert "tasks" not in settings
    stored = dbcli.state("GET", "/api/2.2/jobs/get", job_id=job_id)["settings"]
    assert [t["notebook_task"]["notebook_path"] for t in stored["tasks"]] == [path]
    new = {"name": "j20b", "new_cluster": SPEC, "notebook_task": {"notebook_path": path}}
    dbcli.ok("jobs", "reset", "--job-id", str(job_id), "--json", json.dumps(new))
    assert dbcli.json("jobs", "get", "--job-id", str(job_id))["settings"]["name"] == "j20b"
    ran = dbcli.json("jobs", "run-now", "--job-id", str(job_id), "--notebook-params", '{"who": "cli"}')
    run = _wait_run(dbcli, ran["run_id"])
    assert run["state"]["result_state"] == "SUCCESS"
    shown = dbcli.json("runs", "get", "--run-id", str(ran["run_id"]))
    assert (shown["job_id"], shown["task"]) == (job_id, {"notebook_task": {"notebook_path": path}})
    assert shown["cluster_spec"] == {"new_cluster": SPEC}
    output = dbcli.json("runs", "get-output", "--run-id", str(ran["run_id"]))
    assert output["notebook_output"]["result"] == "hi cli"
    rows = dbcli.ok("runs", "list", "--job-id", str(job_id)).split()
    assert rows[:5] == [str(ran["run_id"]), "j20b", "TERMINATED", "SUCCESS", rows[4]]
    dbcli.ok("jobs", "delete", "--job-id", str(job_id))
    assert dbcli.state("GET", "/api/2.2/jobs/list").get("jobs", []) == []


def test_jobs_with_api_21(dbcli: LegacyCli):
    """jobs create/list/get/reset/run-now/delete with --version=2.1 (multi-task settings)."""
    path = _notebook(dbcli, "hello")
    task = {"task_key": "main", "notebook_task": {"notebook_path": path, "base_parameters": {"who": "b"}}}
    settings = {"name": "j21", "tasks": [task]}
    job_id = dbcli.json("jobs", "create", "--version=2.1", "--json", json.dumps(settings))["job_id"]
    listed = dbcli.json("jobs", "list", "--version=2.1", "--output", "JSON")["jobs"]
    assert [(j["job_id"], j["settings"]["name"]) for j in listed] == [(job_id, "j21")]
    got = dbcli.json("jobs", "get", "--version=2.1", "--job-id", str(job_id))["settings"]
    assert [t["task_key"] for t in got["tasks"]] == ["main"]
    reset = {"job_id": job_id, "new_settings": {**settings, "name": "j21b"}}
    dbcli.ok("jobs", "reset", "--version=2.1", "--job-id", str(job_id), "--json", json.dumps(reset))
    assert dbcli.state("GET", "/api/2.2/jobs/get", job_id=job_id)["settings"]["name"] == "j21b"
    run_id = dbcli.json("jobs", "run-now", "--version=2.1", "--job-id", str(job_id))["run_id"]
    run = _wait_run(dbcli, run_id)
    assert run["state"]["result_state"] == "SUCCESS"
    runs = dbcli.json("runs", "list", "--version=2.1", "--job-id", str(job_id), "--output", "JSON")["runs"]
    assert [r["run_id"] for r in runs] == [run_id]
    task_run = run["tasks"][0]["run_id"]
    output = dbcli.json("runs", "get-output", "--version=2.1", "--run-id", str(task_run))
    assert output["notebook_output"]["result"] == "hi b"
    dbcli.ok("jobs", "delete", "--version=2.1", "--job-id", str(job_id))
    assert dbcli.json("jobs", "list", "--version=2.1", "--output", "JSON").get("jobs", []) == []


def test_runs_submit_get_list_output_and_cancel(dbcli: LegacyCli):
    """runs submit (2.0 form)/get/list/get-output, and cancel ends a running run CANCELED."""
    path = _notebook(dbcli, "hello")
    body = {
        "run_name": "once",
        "new_cluster": SPEC,
        "notebook_task": {"notebook_path": path, "base_parameters": {"who": "submit"}},
    }
    run_id = dbcli.json("runs", "submit", "--json", json.dumps(body))["run_id"]
    assert _wait_run(dbcli, run_id)["state"]["result_state"] == "SUCCESS"
    got = dbcli.json("runs", "get", "--run-id", str(run_id))
    assert (got["run_name"], got["run_type"], got["state"]["result_state"]) == (
        "once",
        "SUBMIT_RUN",
        "SUCCESS",
    )
    assert (
        dbcli.json("runs", "get-output", "--run-id", str(run_id))["notebook_output"]["result"] == "hi submit"
    )
    listed = dbcli.json("runs", "list", "--output", "JSON")["runs"]
    assert [(r["run_id"], r["format"], r["task"]) for r in listed] == [
        (run_id, "SINGLE_TASK", {"notebook_task": body["notebook_task"]})
    ]
    block = _notebook(dbcli, "block", BLOCK)
    blocked = dbcli.json(
        "runs", "submit", "--json", json.dumps({"run_name": "b", "notebook_task": {"notebook_path": block}})
    )["run_id"]
    dbcli.ok("runs", "cancel", "--run-id", str(blocked))
    assert _wait_run(dbcli, blocked)["state"]["result_state"] == "CANCELED"


def test_secrets_scopes_keys_and_acls(dbcli: LegacyCli, tmp_path: Path):
    """secrets create-scope/list-scopes/put/list/delete/put-acl/list-acls/delete-scope."""
    dbcli.ok("secrets", "create-scope", "--scope", "legacy", "--initial-manage-principal", "users")
    scopes = dbcli.json("secrets", "list-scopes", "--output", "JSON")["scopes"]
    assert scopes == [{"name": "legacy", "backend_type": "DATABRICKS"}]
    dbcli.ok("secrets", "put", "--scope", "legacy", "--key", "text", "--string-value", "s3cr3t-value")
    (tmp_path / "blob").write_bytes(b"bin\x00ary")
    dbcli.ok("secrets", "put", "--scope", "legacy", "--key", "blob", "--binary-file", str(tmp_path / "blob"))
    keys = dbcli.json("secrets", "list", "--scope", "legacy", "--output", "JSON")["secrets"]
    assert sorted(k["key"] for k in keys) == ["blob", "text"]
    dbcli.ok("secrets", "delete", "--scope", "legacy", "--key", "text")
    assert [k["key"] for k in dbcli.state("GET", "/api/2.0/secrets/list", scope="legacy")["secrets"]] == [
        "blob"
    ]
    dbcli.ok("secrets", "put-acl", "--scope", "legacy", "--principal", ALICE, "--permission", "READ")
    acls = dbcli.json("secrets", "list-acls", "--scope", "legacy", "--output", "JSON")["items"]
    assert {"principal": ALICE, "permission": "READ"} in acls
    assert {"principal": "users", "permission": "MANAGE"} in acls
    dbcli.ok("secrets", "delete-scope", "--scope", "legacy")
    assert dbcli.state("GET", "/api/2.0/secrets/scopes/list").get("scopes", []) == []


def test_a_secret_acl_on_a_group_lets_its_members_read(dbcli: LegacyCli):
    """A READ ACL for a group, made with the CLI, lets a member list the scope and still not write it."""
    dbcli.ok("secrets", "create-scope", "--scope", "team")
    dbcli.ok("secrets", "put", "--scope", "team", "--key", "k", "--string-value", "v")
    refused = dbcli.run("secrets", "list", "--scope", "team", token=ALICE_TOKEN)
    assert refused.returncode == 1
    assert "Authorization failed" in refused.stdout + refused.stderr
    dbcli.ok("groups", "create", "--group-name", "readers")
    dbcli.ok("secrets", "put-acl", "--scope", "team", "--principal", "readers", "--permission", "READ")
    dbcli.ok("groups", "add-member", "--parent-name", "readers", "--user-name", ALICE)
    keys = dbcli.json("secrets", "list", "--scope", "team", "--output", "JSON", token=ALICE_TOKEN)["secrets"]
    assert [k["key"] for k in keys] == ["k"]
    write = dbcli.run(
        "secrets", "put", "--scope", "team", "--key", "k2", "--string-value", "v", token=ALICE_TOKEN
    )
    assert write.returncode == 1


def test_groups_members_and_parents(dbcli: LegacyCli):
    """groups create/list/add-member/list-members/list-parents/remove-member/delete over SCIM groups."""
    assert dbcli.json("groups", "create", "--group-name", "eng") == {"group_name": "eng"}
    dbcli.ok("groups", "create", "--group-name", "data")
    assert {"admins", "users", "eng", "data"} <= set(dbcli.json("groups", "list")["group_names"])
    dbcli.ok("groups", "add-member", "--parent-name", "eng", "--user-name", ALICE)
    dbcli.ok("groups", "add-member", "--parent-name", "eng", "--group-name", "data")
    members = dbcli.json("groups", "list-members", "--group-name", "eng")["members"]
    assert sorted(members, key=str) == sorted([{"user_name": ALICE}, {"group_name": "data"}], key=str)
    assert "eng" in dbcli.json("groups", "list-parents", "--user-name", ALICE)["group_names"]
    assert dbcli.json("groups", "list-parents", "--group-name", "data")["group_names"] == ["eng"]
    dbcli.ok("groups", "remove-member", "--parent-name", "eng", "--user-name", ALICE)
    assert dbcli.json("groups", "list-members", "--group-name", "eng")["members"] == [{"group_name": "data"}]
    dbcli.ok("groups", "delete", "--group-name", "eng")
    scim = dbcli.state("GET", "/api/2.0/preview/scim/v2/Groups", filter='displayName eq "eng"')
    assert scim.get("Resources", []) == []


def _library_statuses(dbcli: LegacyCli, cluster_id: str) -> dict[str, str]:
    """Poll cluster-status until no library is PENDING or INSTALLING; map each library to its status."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = dbcli.state("GET", "/api/2.0/libraries/cluster-status", cluster_id=cluster_id)
        statuses = {
            json.dumps(s["library"], sort_keys=True): s["status"] for s in found.get("library_statuses", [])
        }
        if not {"PENDING", "INSTALLING"} & set(statuses.values()):
            return statuses
        assert time.monotonic() < deadline, f"libraries stuck: {statuses}"
        time.sleep(0.05)  # waiting for pip, not for emulated time


def test_libraries_install_list_uninstall(dbcli: LegacyCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """libraries install (a DBFS wheel; a PyPI package with no index)/list/all-cluster-statuses/uninstall."""
    offline_pip(monkeypatch)  # the emulator runs in this process: its pip finds no package index
    name, data = wheel("legacy_greet")
    (tmp_path / name).write_bytes(data)
    uri = f"dbfs:/FileStore/wheels/{name}"
    dbcli.ok("fs", "cp", str(tmp_path / name), uri)
    cluster_id = dbcli.json("clusters", "create", "--json", json.dumps({"cluster_name": "libs", **SPEC}))[
        "cluster_id"
    ]
    _settle(dbcli.emu)
    dbcli.ok("libraries", "install", "--cluster-id", cluster_id, "--whl", uri)
    dbcli.ok("libraries", "install", "--cluster-id", cluster_id, "--pypi-package", "legacy-nowhere==1.0")
    whl, pypi = (
        json.dumps({"whl": uri}),
        json.dumps({"pypi": {"package": "legacy-nowhere==1.0"}}, sort_keys=True),
    )
    assert _library_statuses(dbcli, cluster_id) == {whl: "INSTALLED", pypi: "FAILED"}
    listed = dbcli.json("libraries", "list", "--cluster-id", cluster_id)
    assert listed["cluster_id"] == cluster_id
    assert [s["library"] for s in listed["library_statuses"]] == [
        {"whl": uri},
        {"pypi": {"package": "legacy-nowhere==1.0"}},
    ]
    everything = dbcli.json("libraries", "all-cluster-statuses")["statuses"]
    assert [s["cluster_id"] for s in everything] == [cluster_id]
    dbcli.ok("libraries", "uninstall", "--cluster-id", cluster_id, "--whl", uri)
    dbcli.ok("libraries", "uninstall", "--cluster-id", cluster_id, "--pypi-package", "legacy-nowhere==1.0")
    assert _library_statuses(dbcli, cluster_id) == {whl: "UNINSTALL_ON_RESTART"}


def test_instance_pools(dbcli: LegacyCli):
    """instance-pools create/list/get/edit/delete."""
    spec = {"instance_pool_name": "pool", "node_type_id": "i3.xlarge", "min_idle_instances": 0}
    pool_id = dbcli.json("instance-pools", "create", "--json", json.dumps(spec))["instance_pool_id"]
    listed = dbcli.json("instance-pools", "list", "--output", "JSON")["instance_pools"]
    assert [(p["instance_pool_id"], p["instance_pool_name"]) for p in listed] == [(pool_id, "pool")]
    got = dbcli.json("instance-pools", "get", "--instance-pool-id", pool_id)
    assert (got["node_type_id"], got["state"]) == ("i3.xlarge", "ACTIVE")
    edit = {**spec, "instance_pool_id": pool_id, "instance_pool_name": "pool2", "min_idle_instances": 1}
    dbcli.ok("instance-pools", "edit", "--json", json.dumps(edit))
    stored = dbcli.state("GET", "/api/2.0/instance-pools/get", instance_pool_id=pool_id)
    assert (stored["instance_pool_name"], stored["min_idle_instances"]) == ("pool2", 1)
    dbcli.ok("instance-pools", "delete", "--instance-pool-id", pool_id)
    assert dbcli.json("instance-pools", "list", "--output", "JSON").get("instance_pools", []) == []


def test_cluster_policies(dbcli: LegacyCli):
    """cluster-policies create/list/get/edit/delete."""
    definition = json.dumps({"spark_version": {"type": "fixed", "value": "15.4.x-scala2.12"}})
    policy_id = dbcli.json(
        "cluster-policies", "create", "--json", json.dumps({"name": "pol", "definition": definition})
    )["policy_id"]
    listed = dbcli.json("cluster-policies", "list", "--output", "JSON")["policies"]
    assert [(p["policy_id"], p["name"]) for p in listed] == [(policy_id, "pol")]
    assert json.loads(dbcli.json("cluster-policies", "get", "--policy-id", policy_id)["definition"]) == {
        "spark_version": {"type": "fixed", "value": "15.4.x-scala2.12"}
    }
    edit = {"policy_id": policy_id, "name": "pol2", "definition": "{}"}
    dbcli.ok("cluster-policies", "edit", "--json", json.dumps(edit))
    stored = dbcli.state("GET", "/api/2.0/policies/clusters/get", policy_id=policy_id)
    assert (stored["name"], stored["definition"]) == ("pol2", "{}")
    dbcli.ok("cluster-policies", "delete", "--policy-id", policy_id)
    assert dbcli.state("GET", "/api/2.0/policies/clusters/list").get("policies", []) == []
