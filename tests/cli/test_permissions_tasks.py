"""Object permission tasks from the command line against the emulator: get, set, grant, revoke.

SQL warehouses serve ``/api/2.0/permissions/warehouses/{id}``; the warehouse's creator (the admin)
holds IS_OWNER, which the service keeps by itself on a PUT.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, USER_TOKEN, Emulator, run_cli

ADMIN = "admin@example.com"
ALICE = "alice@example.com"
PERMS = "/api/2.0/permissions"


def api(emulator: Emulator, method: str, path: str, body: object = None) -> Any:
    response = httpx.request(
        method, f"{emulator.url}{path}", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert response.status_code < 300, response.text
    return response.json()


def warehouse(emulator: Emulator) -> str:
    spec = {"name": "analytics", "cluster_size": "2X-Small", "auto_stop_mins": 10}
    return str(api(emulator, "POST", "/api/2.0/sql/warehouses", spec)["id"])


def ok_json(*args: str) -> Any:
    result = run_cli(*args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def levels(emulator: Emulator, path: str) -> dict[str, str]:
    acl = api(emulator, "GET", f"{PERMS}/{path}")["access_control_list"]
    return {
        str(e.get("user_name") or e.get("group_name") or e.get("service_principal_name")): e[
            "all_permissions"
        ][0]["permission_level"]
        for e in acl
    }


def writes(emulator: Emulator) -> list[dict[str, object]]:
    return [r for r in emulator.requests(PERMS) if r.get("method") in ("PUT", "PATCH")]


def test_get_shows_one_line_per_principal(workspace_env: Emulator):
    """permissions.get prints each principal with its level; -o json is the service's answer."""
    wid = warehouse(workspace_env)
    text = run_cli("permissions.get", "warehouse", wid)
    assert text.exit_code == 0, text.stderr
    assert f"user:{ADMIN}" in text.stdout and "IS_OWNER" in text.stdout
    data = ok_json("permissions.get", "warehouses", wid)
    assert data["object_type"] == "warehouses"


def test_grant_patches_once_and_is_idempotent(workspace_env: Emulator):
    """Granting alice CAN_USE sends one PATCH; granting it again sends nothing and says unchanged."""
    wid = warehouse(workspace_env)
    first = ok_json("permissions.grant", "warehouses", wid, ALICE, "can_use")
    assert [(r["action"], r["target"]) for r in first] == [
        ("granted", f"user:{ALICE} on SQL warehouse {wid}")
    ]
    again = ok_json("permissions.grant", "warehouses", wid, ALICE, "CAN_USE")
    assert [r["action"] for r in again] == ["unchanged"]
    assert [r["method"] for r in writes(workspace_env)] == ["PATCH"]
    assert levels(workspace_env, f"warehouses/{wid}")[ALICE] == "CAN_USE"


def test_grant_dry_run_sends_only_gets(workspace_env: Emulator):
    """--dry-run prints the planned grant and sends nothing but GETs."""
    wid = warehouse(workspace_env)
    planned = run_cli("permissions.grant", "warehouses", wid, "group:users", "CAN_VIEW", "--dry-run")
    assert planned.exit_code == 0, planned.stderr
    assert "create" in planned.stdout and "group:users" in planned.stdout and "dry run" in planned.stdout
    assert writes(workspace_env) == []
    assert "users" not in levels(workspace_env, f"warehouses/{wid}")


def test_revoke_keeps_the_rest_and_the_owner(workspace_env: Emulator):
    """Revoking alice PUTs the other direct grants; the owner and the users group stay."""
    wid = warehouse(workspace_env)
    ok_json("permissions.grant", "warehouses", wid, ALICE, "CAN_MANAGE")
    ok_json("permissions.grant", "warehouses", wid, "users", "CAN_VIEW")
    revoked = ok_json("permissions.revoke", "warehouses", wid, f"user:{ALICE}")
    assert [(r["action"], r["reason"]) for r in revoked] == [("revoked", "drop CAN_MANAGE")]
    assert levels(workspace_env, f"warehouses/{wid}") == {ADMIN: "IS_OWNER", "users": "CAN_VIEW"}
    assert writes(workspace_env)[-1]["method"] == "PUT"


def test_revoke_without_a_grant_sends_nothing(workspace_env: Emulator):
    """Revoking a principal with no direct grant is an honest no-op."""
    wid = warehouse(workspace_env)
    result = ok_json("permissions.revoke", "warehouses", wid, "group:data-eng")
    assert [(r["action"], r["reason"]) for r in result] == [("unchanged", "holds no grant here")]
    assert writes(workspace_env) == []


def test_revoke_the_owner_is_refused(workspace_env: Emulator):
    """The owner's IS_OWNER cannot be revoked: exit 2, one line, nothing sent."""
    wid = warehouse(workspace_env)
    result = run_cli("permissions.revoke", "warehouses", wid, ADMIN)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: user:{ADMIN} owns SQL warehouse {wid}")
    assert writes(workspace_env) == []


def test_set_replaces_direct_grants_from_a_file(workspace_env: Emulator, tmp_path: Path):
    """permissions.set --file PUTs the list once; the same set again plans unchanged and sends nothing."""
    wid = warehouse(workspace_env)
    ok_json("permissions.grant", "warehouses", wid, ALICE, "CAN_MANAGE")
    spec = tmp_path / "acl.yaml"
    spec.write_text("access_control_list:\n  - group_name: users\n    permission_level: CAN_USE\n")
    changed = ok_json("permissions.set", "warehouses", wid, "--file", str(spec))
    assert sorted((r["action"], r["target"].split(" on ")[0]) for r in changed) == [
        ("granted", "group:users"),
        ("revoked", f"user:{ALICE}"),
    ]
    assert levels(workspace_env, f"warehouses/{wid}") == {ADMIN: "IS_OWNER", "users": "CAN_USE"}
    again = ok_json("permissions.set", "warehouses", wid, "--file", str(spec))
    assert [r["action"] for r in again] == ["unchanged"]
    assert [r["method"] for r in writes(workspace_env)] == ["PATCH", "PUT"]


def test_set_validates_before_any_request(workspace_env: Emulator):
    """A bad level in --json is exit 2 naming the entry; nothing is sent at all."""
    wid = warehouse(workspace_env)
    before = len(workspace_env.requests(PERMS))
    acl = {"access_control_list": [{"user_name": ALICE, "permission_level": "CAN_RESTART"}]}
    result = run_cli("permissions.set", "warehouses", wid, "--json", json.dumps(acl))
    assert result.exit_code == 2
    assert "access_control_list[0]: LEVEL 'CAN_RESTART' is not a permission level" in result.stderr
    assert len(workspace_env.requests(PERMS)) == before


def test_bad_level_for_the_type_is_refused(workspace_env: Emulator):
    """A level the type does not have is exit 2 listing the type's levels, before any request."""
    result = run_cli("permissions.grant", "clusters", "0101-abc", ALICE, "CAN_VIEW")
    assert result.exit_code == 2
    assert "use one of CAN_ATTACH_TO, CAN_RESTART, CAN_MANAGE" in result.stderr
    assert workspace_env.requests(PERMS) == []


def test_unknown_object_is_not_found(workspace_env: Emulator):
    """A warehouse that does not exist is exit 4."""
    result = run_cli("permissions.get", "warehouses", "0123456789abcdef")
    assert result.exit_code == 4, result.stderr


def test_non_admin_is_refused(workspace_env: Emulator, isolated_env: pytest.MonkeyPatch):
    """Alice may not read the admin's warehouse permissions: exit 3."""
    wid = warehouse(workspace_env)
    isolated_env.setenv("DATABRICKS_TOKEN", USER_TOKEN)
    result = run_cli("permissions.get", "warehouses", wid)
    assert result.exit_code == 3, result.stderr


def test_an_unknown_principal_is_not_granted(workspace_env: Emulator):
    """Granting to a user the workspace does not know is exit 4 naming it; nothing is written."""
    wid = warehouse(workspace_env)
    result = run_cli("permissions.grant", "warehouses", wid, "nobody@example.com", "CAN_USE")
    assert result.exit_code == 4, result.stderr
    assert (
        "no user named 'nobody@example.com' exists in this workspace; list them with iam.users"
        in result.stderr
    )
    assert writes(workspace_env) == []


def test_a_workspace_id_must_be_a_number_or_a_path(workspace_env: Emulator):
    """A notebook named neither by object id nor by absolute path is exit 2 before any request."""
    result = run_cli("permissions.get", "notebooks", "etl/main")
    assert result.exit_code == 2
    assert "ID of a notebook (or its absolute workspace path) must be a number" in result.stderr
    assert workspace_env.requests("/api/") == []


def job(emulator: Emulator) -> str:
    task = {"task_key": "main", "notebook_task": {"notebook_path": "/Shared/etl/main"}}
    return str(api(emulator, "POST", "/api/2.2/jobs/create", {"name": "nightly", "tasks": [task]})["job_id"])


def test_job_set_keeps_the_owner_and_converges(workspace_env: Emulator):
    """A set naming no owner keeps the job's IS_OWNER; the same set again sends nothing."""
    jid = job(workspace_env)
    acl = {
        "access_control_list": [
            {"user_name": ALICE, "permission_level": "CAN_MANAGE_RUN"},
            {"group_name": "users", "permission_level": "CAN_VIEW"},
        ]
    }
    first = ok_json("permissions.set", "job", jid, "--json", json.dumps(acl))
    assert sorted(r["action"] for r in first) == ["granted", "granted"]
    assert levels(workspace_env, f"jobs/{jid}") == {
        ADMIN: "IS_OWNER",
        ALICE: "CAN_MANAGE_RUN",
        "users": "CAN_VIEW",
        "admins": "CAN_MANAGE",  # inherited from /jobs/
    }
    again = ok_json("permissions.set", "jobs", jid, "--json", json.dumps(acl))
    assert [r["action"] for r in again] == ["unchanged"]
    assert [r["method"] for r in writes(workspace_env)] == ["PUT"]


def test_job_ownership_moves_only_by_naming_a_new_owner(workspace_env: Emulator):
    """A set naming alice IS_OWNER transfers the job; revoking the owner is refused."""
    jid = job(workspace_env)
    acl = {"access_control_list": [{"user_name": ALICE, "permission_level": "IS_OWNER"}]}
    ok_json("permissions.set", "jobs", jid, "--json", json.dumps(acl))
    assert levels(workspace_env, f"jobs/{jid}")[ALICE] == "IS_OWNER"
    assert ADMIN not in levels(workspace_env, f"jobs/{jid}")
    refused = run_cli("permissions.revoke", "jobs", jid, ALICE)
    assert refused.exit_code == 2
    assert "the owner cannot be revoked" in refused.stderr


def test_job_set_dry_run_sends_only_gets(workspace_env: Emulator):
    """permissions.set --dry-run on a job lists the changes and writes nothing."""
    jid = job(workspace_env)
    acl = {"access_control_list": [{"group_name": "users", "permission_level": "CAN_VIEW"}]}
    result = ok_json("permissions.set", "jobs", jid, "--json", json.dumps(acl), "--dry-run")
    assert [(r["action"], r["dry_run"]) for r in result] == [("create", True)]
    assert writes(workspace_env) == []


def test_a_folder_by_path_and_its_inherited_grants(workspace_env: Emulator):
    """A grant on a folder named by path reaches the folder below; revoking it there is a clear no-op."""
    api(workspace_env, "POST", "/api/2.0/workspace/mkdirs", {"path": "/Shared/etl/sub"})
    ok_json("permissions.grant", "directories", "/Shared/etl", ALICE, "CAN_EDIT")
    text = run_cli("permissions.get", "directory", "/Shared/etl/sub")
    assert text.exit_code == 0, text.stderr
    (line,) = [line for line in text.stdout.splitlines() if ALICE in line]
    assert "CAN_EDIT" in line and "inherited from /directories/" in line
    noop = ok_json("permissions.revoke", "directories", "/Shared/etl/sub", ALICE)
    assert noop[0]["action"] == "unchanged"
    assert noop[0]["reason"].startswith("holds only inherited grants (CAN_EDIT from /directories/")
    assert [r["method"] for r in writes(workspace_env)] == ["PATCH"]


def test_a_path_of_the_wrong_kind_is_refused(workspace_env: Emulator):
    """A folder path given as a notebook is exit 2 saying what the path is."""
    api(workspace_env, "POST", "/api/2.0/workspace/mkdirs", {"path": "/Shared/etl"})
    result = run_cli("permissions.get", "notebooks", "/Shared/etl")
    assert result.exit_code == 2
    assert "error: /Shared/etl is a directory, not a notebook" in result.stderr


def test_a_non_admin_gets_access_once_granted(workspace_env: Emulator, isolated_env: pytest.MonkeyPatch):
    """Alice cannot read the job's permissions until the admin grants her CAN_MANAGE."""
    jid = job(workspace_env)
    isolated_env.setenv("DATABRICKS_TOKEN", USER_TOKEN)
    assert run_cli("permissions.get", "jobs", jid).exit_code == 3
    isolated_env.setenv("DATABRICKS_TOKEN", ADMIN_TOKEN)
    ok_json("permissions.grant", "jobs", jid, ALICE, "CAN_MANAGE")
    isolated_env.setenv("DATABRICKS_TOKEN", USER_TOKEN)
    assert ok_json("permissions.get", "jobs", jid)["object_id"] == f"/jobs/{jid}"


def test_a_cluster_set_keeps_the_callers_manage_and_converges(workspace_env: Emulator):
    """The creator's own CAN_MANAGE is not planned away; the same set again is unchanged."""
    spec = {
        "cluster_name": "c",
        "spark_version": "15.4.x-scala2.12",
        "node_type_id": "i3.xlarge",
        "num_workers": 1,
    }
    cid = str(api(workspace_env, "POST", "/api/2.1/clusters/create", spec)["cluster_id"])
    acl = json.dumps({"access_control_list": [{"user_name": ALICE, "permission_level": "CAN_ATTACH_TO"}]})
    first = ok_json("permissions.set", "clusters", cid, "--json", acl)
    assert [(r["action"], r["target"]) for r in first] == [("granted", f"user:{ALICE} on cluster {cid}")]
    assert [r["action"] for r in ok_json("permissions.set", "clusters", cid, "--json", acl)] == ["unchanged"]
    assert levels(workspace_env, f"clusters/{cid}")[ADMIN] == "CAN_MANAGE"
    assert [r["method"] for r in writes(workspace_env)] == ["PUT"]


def test_a_revoke_the_service_refuses_is_reported_unchanged(workspace_env: Emulator):
    """Revoking a cluster creator's CAN_MANAGE, which the service keeps, says so instead of "revoked"."""
    spec = {
        "cluster_name": "c",
        "spark_version": "15.4.x-scala2.12",
        "node_type_id": "i3.xlarge",
        "num_workers": 1,
    }
    cid = str(api(workspace_env, "POST", "/api/2.1/clusters/create", spec)["cluster_id"])
    result = ok_json("permissions.revoke", "clusters", cid, ADMIN)
    assert [(r["action"], r["reason"]) for r in result] == [
        ("unchanged", "the service keeps this grant (the object's creator)")
    ]
    assert levels(workspace_env, f"clusters/{cid}")[ADMIN] == "CAN_MANAGE"
