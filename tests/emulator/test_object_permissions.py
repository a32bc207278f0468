"""The Permissions API in the emulator: ``/api/2.0/permissions/{type}/{id}`` and its enforcement.

Explicit grants (PUT replaces, PATCH adds or raises) merge into the rule every area applies: a grant
on a folder reaches everything below it, a grant to a group reaches its members (and leaves with
them). The emulator here has the admin and two users, alice and bob.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.emulator.harness import ADMIN, ALICE, ALICE_TOKEN, CLIENT_ID, CLIENT_SECRET, Emu, serving
from tests.emulator.jobs_harness import nb_task, result, task, upload, wait_run
from tests.emulator.jobs_harness import notebook as notebook_source

BOB = "bob@example.com"
BOB_TOKEN = "emu-bob-token-7c6d5e4f"
PERMS = "/api/2.0/permissions"
JOBS = "/api/2.2/jobs"
WS = "/api/2.0/workspace"
SCIM = "/api/2.0/preview/scim/v2"
JOB = {"name": "nightly", "tasks": [{"task_key": "t", "notebook_task": {"notebook_path": "/Shared/nb"}}]}


@pytest.fixture(scope="module")
def three() -> Iterator[Emu]:
    with serving(users={ALICE: ALICE_TOKEN, BOB: BOB_TOKEN}) as emu:
        yield emu


@pytest.fixture
def emu(three: Emu) -> Emu:
    """The module's emulator (admin, alice, bob), reset."""
    assert three.control("POST", "reset").status_code == 200
    return three


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def refused(response: httpx.Response, code: str, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code
    assert words in response.json()["message"]


def acl(principal: str, level: str, key: str = "user_name") -> dict[str, Any]:
    return {"access_control_list": [{key: principal, "permission_level": level}]}


def levels_of(answer: dict[str, Any], name: str) -> list[tuple[str, bool]]:
    """The (level, inherited) pairs ``name`` holds in an ObjectPermissions answer."""
    for entry in answer["access_control_list"]:
        if name in (entry.get("user_name"), entry.get("group_name"), entry.get("service_principal_name")):
            return [(p["permission_level"], p["inherited"]) for p in entry["all_permissions"]]
    return []


def new_job(emu: Emu, token: str | None = None, **extra: Any) -> int:
    kwargs = {} if token is None else {"token": token}
    return int(ok(emu.post(f"{JOBS}/create", json={**JOB, **extra}, **kwargs))["job_id"])


def folder(emu: Emu, path: str) -> int:
    ok(emu.post(f"{WS}/mkdirs", json={"path": path}))
    return int(ok(emu.get(f"{WS}/get-status", params={"path": path}))["object_id"])


def notebook(emu: Emu, path: str) -> int:
    body = {"path": path, "format": "SOURCE", "language": "PYTHON", "content": "cHJpbnQoMSk="}
    ok(emu.post(f"{WS}/import", json=body))
    return int(ok(emu.get(f"{WS}/get-status", params={"path": path}))["object_id"])


def new_group(emu: Emu, name: str, *members: str) -> str:
    users = ok(emu.get(f"{SCIM}/Users"))["Resources"]
    ids = [{"value": u["id"]} for u in users if u["userName"] in members]
    response = emu.post(f"{SCIM}/Groups", json={"displayName": name, "members": ids})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


# -- the answer's shape ---------------------------------------------------------------------------


def test_a_job_shows_its_owner_and_the_admins_inherited_from_the_root(emu: Emu) -> None:
    """A new job's ACL names its creator IS_OWNER (direct) and admins CAN_MANAGE inherited from /jobs/."""
    job_id = new_job(emu)
    answer = ok(emu.get(f"{PERMS}/jobs/{job_id}"))
    assert answer["object_id"] == f"/jobs/{job_id}"
    assert answer["object_type"] == "job"
    assert levels_of(answer, ADMIN) == [("IS_OWNER", False)]
    admins = next(e for e in answer["access_control_list"] if e.get("group_name") == "admins")
    assert admins["all_permissions"] == [
        {"permission_level": "CAN_MANAGE", "inherited": True, "inherited_from_object": ["/jobs/"]}
    ]


def test_permission_levels_are_each_types_own(emu: Emu) -> None:
    """permissionLevels lists the type's levels, weakest first."""
    job_id = new_job(emu)
    answer = ok(emu.get(f"{PERMS}/jobs/{job_id}/permissionLevels"))
    assert [p["permission_level"] for p in answer["permission_levels"]] == [
        "CAN_VIEW",
        "CAN_MANAGE_RUN",
        "CAN_MANAGE",
        "IS_OWNER",
    ]
    dir_id = folder(emu, "/Shared/team")
    answer = ok(emu.get(f"{PERMS}/directories/{dir_id}/permissionLevels"))
    assert [p["permission_level"] for p in answer["permission_levels"]] == [
        "CAN_READ",
        "CAN_RUN",
        "CAN_EDIT",
        "CAN_MANAGE",
    ]


# -- PUT and PATCH --------------------------------------------------------------------------------


def test_patch_adds_a_grant_and_keeps_the_rest(emu: Emu) -> None:
    """PATCH adds alice's CAN_VIEW next to the owner."""
    job_id = new_job(emu)
    answer = ok(emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=acl(ALICE, "CAN_VIEW")))
    assert levels_of(answer, ALICE) == [("CAN_VIEW", False)]
    assert levels_of(answer, ADMIN) == [("IS_OWNER", False)]


def test_patch_raises_but_never_lowers(emu: Emu) -> None:
    """A PATCH naming a weaker level than the one held leaves the stronger one."""
    job_id = new_job(emu)
    ok(emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=acl(ALICE, "CAN_MANAGE")))
    answer = ok(emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=acl(ALICE, "CAN_VIEW")))
    assert levels_of(answer, ALICE) == [("CAN_MANAGE", False)]


def test_put_replaces_the_direct_grants(emu: Emu) -> None:
    """PUT with the owner and bob drops alice's earlier grant."""
    job_id = new_job(emu)
    ok(emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=acl(ALICE, "CAN_VIEW")))
    body = {
        "access_control_list": [
            {"user_name": ADMIN, "permission_level": "IS_OWNER"},
            {"user_name": BOB, "permission_level": "CAN_MANAGE_RUN"},
        ]
    }
    answer = ok(emu.request("PUT", f"{PERMS}/jobs/{job_id}", json=body))
    assert levels_of(answer, ALICE) == []
    assert levels_of(answer, BOB) == [("CAN_MANAGE_RUN", False)]


def test_put_may_hand_the_job_to_another_owner(emu: Emu) -> None:
    """PUT naming alice IS_OWNER makes the job hers: she may delete it."""
    job_id = new_job(emu)
    ok(emu.request("PUT", f"{PERMS}/jobs/{job_id}", json=acl(ALICE, "IS_OWNER")))
    ok(emu.post(f"{JOBS}/delete", json={"job_id": job_id}, token=ALICE_TOKEN))


@pytest.mark.parametrize(
    "entries",
    [
        [{"user_name": ALICE, "permission_level": "CAN_VIEW"}],
        [
            {"user_name": ADMIN, "permission_level": "IS_OWNER"},
            {"user_name": ALICE, "permission_level": "IS_OWNER"},
        ],
    ],
    ids=["no-owner", "two-owners"],
)
def test_a_job_keeps_exactly_one_owner(emu: Emu, entries: list[dict[str, str]]) -> None:
    """A PUT leaving a job with no owner or two is the real 400, and changes nothing."""
    job_id = new_job(emu)
    response = emu.request("PUT", f"{PERMS}/jobs/{job_id}", json={"access_control_list": entries})
    refused(response, "INVALID_PARAMETER_VALUE", 400, "The job must have exactly one owner.")
    assert levels_of(ok(emu.get(f"{PERMS}/jobs/{job_id}")), ALICE) == []


def test_a_patch_naming_a_second_owner_is_refused(emu: Emu) -> None:
    """PATCH cannot add a second IS_OWNER either."""
    job_id = new_job(emu)
    response = emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=acl(ALICE, "IS_OWNER"))
    refused(response, "INVALID_PARAMETER_VALUE", 400, "exactly one owner")


# -- errors ---------------------------------------------------------------------------------------


def test_an_unknown_type_is_invalid(emu: Emu) -> None:
    """A type the Permissions API does not have is 400 INVALID_PARAMETER_VALUE."""
    refused(emu.get(f"{PERMS}/gizmos/1"), "INVALID_PARAMETER_VALUE", 400, "gizmos")


@pytest.mark.parametrize("kind", ["jobs", "directories", "notebooks", "clusters", "experiments", "repos"])
def test_an_unknown_id_does_not_exist(emu: Emu, kind: str) -> None:
    """An id with no object behind it is 404 RESOURCE_DOES_NOT_EXIST."""
    refused(emu.get(f"{PERMS}/{kind}/424242"), "RESOURCE_DOES_NOT_EXIST", 404, "424242 does not exist")


def test_a_folder_is_not_a_notebook(emu: Emu) -> None:
    """A directory's id under notebooks/ is not found."""
    dir_id = folder(emu, "/Shared/team")
    refused(emu.get(f"{PERMS}/notebooks/{dir_id}"), "RESOURCE_DOES_NOT_EXIST", 404, "does not exist")


def test_an_unknown_principal_is_invalid_and_changes_nothing(emu: Emu) -> None:
    """A user SCIM does not know is the real 400 naming it."""
    job_id = new_job(emu)
    response = emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=acl("ghost@example.com", "CAN_VIEW"))
    refused(response, "INVALID_PARAMETER_VALUE", 400, "Principal: UserName(ghost@example.com) does not exist")
    response = emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=acl("ghosts", "CAN_VIEW", "group_name"))
    refused(response, "INVALID_PARAMETER_VALUE", 400, "GroupName(ghosts)")
    assert len(ok(emu.get(f"{PERMS}/jobs/{job_id}"))["access_control_list"]) == 2


def test_a_level_of_another_type_is_invalid(emu: Emu) -> None:
    """CAN_RESTART is a cluster's level, not a job's: 400."""
    job_id = new_job(emu)
    response = emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=acl(ALICE, "CAN_RESTART"))
    refused(response, "INVALID_PARAMETER_VALUE", 400, "CAN_RESTART")


def test_an_entry_naming_two_principals_is_invalid(emu: Emu) -> None:
    """Each entry names exactly one principal."""
    job_id = new_job(emu)
    body = {
        "access_control_list": [{"user_name": ALICE, "group_name": "users", "permission_level": "CAN_VIEW"}]
    }
    refused(emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=body), "INVALID_PARAMETER_VALUE", 400, "one")


def test_service_principals_and_groups_are_principals(emu: Emu) -> None:
    """A service principal by application id and the users group can be granted."""
    job_id = new_job(emu)
    body = {
        "access_control_list": [
            {"service_principal_name": CLIENT_ID, "permission_level": "CAN_MANAGE_RUN"},
            {"group_name": "users", "permission_level": "CAN_VIEW"},
        ]
    }
    answer = ok(emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=body))
    assert levels_of(answer, CLIENT_ID) == [("CAN_MANAGE_RUN", False)]
    assert levels_of(answer, "users") == [("CAN_VIEW", False)]


# -- enforcement: jobs ----------------------------------------------------------------------------


def test_a_user_may_not_see_a_job_until_granted(emu: Emu) -> None:
    """alice is refused the admin's job, sees it after CAN_VIEW, and may run it after CAN_MANAGE_RUN."""
    job_id = new_job(emu)
    refused(
        emu.get(f"{JOBS}/get", params={"job_id": job_id}, token=ALICE_TOKEN), "PERMISSION_DENIED", 403, "job"
    )
    ok(emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=acl(ALICE, "CAN_VIEW")))
    ok(emu.get(f"{JOBS}/get", params={"job_id": job_id}, token=ALICE_TOKEN))
    assert [j["job_id"] for j in ok(emu.get(f"{JOBS}/list", token=ALICE_TOKEN))["jobs"]] == [job_id]
    response = emu.post(f"{JOBS}/run-now", json={"job_id": job_id}, token=ALICE_TOKEN)
    refused(response, "PERMISSION_DENIED", 403, "Manage Run")
    ok(emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=acl(ALICE, "CAN_MANAGE_RUN")))
    ok(emu.post(f"{JOBS}/run-now", json={"job_id": job_id}, token=ALICE_TOKEN))


def test_reading_an_acl_needs_the_lowest_level_and_changing_it_manage(emu: Emu) -> None:
    """alice may not read the job's ACL without a grant; with CAN_VIEW she reads but may not change it."""
    job_id = new_job(emu)
    refused(emu.get(f"{PERMS}/jobs/{job_id}", token=ALICE_TOKEN), "PERMISSION_DENIED", 403, "job")
    ok(emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=acl(ALICE, "CAN_VIEW")))
    ok(emu.get(f"{PERMS}/jobs/{job_id}", token=ALICE_TOKEN))
    response = emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=acl(BOB, "CAN_VIEW"), token=ALICE_TOKEN)
    refused(response, "PERMISSION_DENIED", 403, "Manage")


def test_a_group_grant_reaches_its_members_and_leaves_with_them(emu: Emu) -> None:
    """A CAN_VIEW to group 'etl' lets its member alice see the job; taking her out of it takes it away."""
    job_id = new_job(emu)
    group_id = new_group(emu, "etl", ALICE)
    ok(emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=acl("etl", "CAN_VIEW", "group_name")))
    ok(emu.get(f"{JOBS}/get", params={"job_id": job_id}, token=ALICE_TOKEN))
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "members", "value": []}],
    }
    assert emu.request("PATCH", f"{SCIM}/Groups/{group_id}", json=patch).status_code == 200
    refused(
        emu.get(f"{JOBS}/get", params={"job_id": job_id}, token=ALICE_TOKEN), "PERMISSION_DENIED", 403, "job"
    )


def test_reset_and_update_keep_explicit_grants(emu: Emu) -> None:
    """jobs/reset and jobs/update leave the job's ACL as it was."""
    job_id = new_job(emu)
    ok(emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=acl(ALICE, "CAN_VIEW")))
    ok(emu.post(f"{JOBS}/reset", json={"job_id": job_id, "new_settings": {**JOB, "name": "renamed"}}))
    ok(emu.post(f"{JOBS}/update", json={"job_id": job_id, "new_settings": {"max_concurrent_runs": 2}}))
    assert (
        ok(emu.get(f"{JOBS}/get", params={"job_id": job_id}, token=ALICE_TOKEN))["settings"]["name"]
        == "renamed"
    )


def test_deleting_a_job_drops_its_acl(emu: Emu) -> None:
    """After jobs/delete the job's permissions do not exist."""
    job_id = new_job(emu)
    ok(emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=acl(ALICE, "CAN_VIEW")))
    ok(emu.post(f"{JOBS}/delete", json={"job_id": job_id}))
    refused(emu.get(f"{PERMS}/jobs/{job_id}"), "RESOURCE_DOES_NOT_EXIST", 404, "does not exist")


# -- enforcement: workspace objects ---------------------------------------------------------------


def test_a_grant_on_a_folder_reaches_everything_below_it(emu: Emu) -> None:
    """CAN_EDIT on /team lets alice import under /team/etl; the notebook's ACL shows it inherited."""
    dir_id = folder(emu, "/team")
    folder(emu, "/team/etl")
    body = {"path": "/team/etl/nb", "format": "SOURCE", "language": "PYTHON", "content": "cHJpbnQoMSk="}
    refused(emu.post(f"{WS}/import", json=body, token=ALICE_TOKEN), "PERMISSION_DENIED", 403, "")
    ok(emu.request("PATCH", f"{PERMS}/directories/{dir_id}", json=acl(ALICE, "CAN_EDIT")))
    ok(emu.post(f"{WS}/import", json=body, token=ALICE_TOKEN))
    nb_id = int(ok(emu.get(f"{WS}/get-status", params={"path": "/team/etl/nb"}))["object_id"])
    answer = ok(emu.get(f"{PERMS}/notebooks/{nb_id}"))
    assert answer["object_id"] == f"/notebooks/{nb_id}"
    entry = next(e for e in answer["access_control_list"] if e.get("user_name") == ALICE)
    assert {
        "permission_level": "CAN_EDIT",
        "inherited": True,
        "inherited_from_object": [f"/directories/{dir_id}"],
    } in entry["all_permissions"]


def test_a_users_grant_on_a_notebook_alone_does_not_reach_its_folder(emu: Emu) -> None:
    """CAN_MANAGE on one notebook lets alice delete it, but not its sibling."""
    folder(emu, "/team")
    nb_id = notebook(emu, "/team/a")
    notebook(emu, "/team/b")
    ok(emu.request("PATCH", f"{PERMS}/notebooks/{nb_id}", json=acl(ALICE, "CAN_MANAGE")))
    ok(emu.post(f"{WS}/delete", json={"path": "/team/a"}, token=ALICE_TOKEN))
    refused(
        emu.post(f"{WS}/delete", json={"path": "/team/b"}, token=ALICE_TOKEN), "PERMISSION_DENIED", 403, ""
    )


def test_a_home_folder_opens_to_a_granted_user(emu: Emu) -> None:
    """bob cannot list alice's home until alice grants him CAN_READ on it."""
    home = f"/Users/{ALICE}"
    home_id = int(ok(emu.get(f"{WS}/get-status", params={"path": home}, token=ALICE_TOKEN))["object_id"])
    refused(emu.get(f"{WS}/list", params={"path": home}, token=BOB_TOKEN), "PERMISSION_DENIED", 403, "")
    ok(emu.request("PATCH", f"{PERMS}/directories/{home_id}", json=acl(BOB, "CAN_READ"), token=ALICE_TOKEN))
    ok(emu.get(f"{WS}/list", params={"path": home}, token=BOB_TOKEN))


def test_deleting_a_folder_drops_its_acl(emu: Emu) -> None:
    """A folder made again at the same path does not inherit the deleted one's grants."""
    dir_id = folder(emu, "/team")
    ok(emu.request("PATCH", f"{PERMS}/directories/{dir_id}", json=acl(ALICE, "CAN_MANAGE")))
    ok(emu.post(f"{WS}/delete", json={"path": "/team", "recursive": True}))
    new_id = folder(emu, "/team")
    assert levels_of(ok(emu.get(f"{PERMS}/directories/{new_id}")), ALICE) == []


# -- access_control_list on jobs/create and runs/submit --------------------------------------------


def test_jobs_create_applies_its_access_control_list(emu: Emu) -> None:
    """A create naming alice CAN_VIEW shows her grant and keeps the creator the owner."""
    job_id = new_job(emu, access_control_list=[{"user_name": ALICE, "permission_level": "CAN_VIEW"}])
    answer = ok(emu.get(f"{PERMS}/jobs/{job_id}"))
    assert levels_of(answer, ALICE) == [("CAN_VIEW", False)]
    assert levels_of(answer, ADMIN) == [("IS_OWNER", False)]
    ok(emu.get(f"{JOBS}/get", params={"job_id": job_id}, token=ALICE_TOKEN))


def test_a_create_with_a_bad_access_control_list_makes_no_job(emu: Emu) -> None:
    """An unknown principal in a create's ACL is 400 and no job is saved."""
    bad = [{"user_name": "ghost@example.com", "permission_level": "CAN_VIEW"}]
    response = emu.post(f"{JOBS}/create", json={**JOB, "access_control_list": bad})
    refused(response, "INVALID_PARAMETER_VALUE", 400, "ghost@example.com")
    assert "jobs" not in ok(emu.get(f"{JOBS}/list"))


def test_runs_submit_applies_its_access_control_list(emu: Emu) -> None:
    """alice sees the admin's one-time run once its submit grants her CAN_VIEW; bob does not."""
    body = {
        "run_name": "once",
        "tasks": JOB["tasks"],
        "access_control_list": [{"user_name": ALICE, "permission_level": "CAN_VIEW"}],
    }
    run_id = ok(emu.post(f"{JOBS}/runs/submit", json=body))["run_id"]
    ok(emu.get(f"{JOBS}/runs/get", params={"run_id": run_id}, token=ALICE_TOKEN))
    response = emu.get(f"{JOBS}/runs/get", params={"run_id": run_id}, token=BOB_TOKEN)
    refused(response, "PERMISSION_DENIED", 403, "")


# -- clusters, pools, policies --------------------------------------------------------------------

CLUSTERS = "/api/2.1/clusters"
POOLS = "/api/2.0/instance-pools"
POLICIES = "/api/2.0/policies/clusters"
SPEC = {
    "cluster_name": "etl",
    "spark_version": "15.4.x-scala2.12",
    "node_type_id": "i3.xlarge",
    "num_workers": 1,
}


def test_a_cluster_is_restartable_once_granted(emu: Emu) -> None:
    """alice may not restart the admin's cluster until CAN_RESTART, nor edit it with only that."""
    cluster_id = ok(emu.post(f"{CLUSTERS}/create", json=SPEC))["cluster_id"]
    refused(
        emu.post(f"{CLUSTERS}/start", json={"cluster_id": cluster_id}, token=ALICE_TOKEN),
        "PERMISSION_DENIED",
        403,
        "cluster",
    )
    answer = ok(emu.request("PATCH", f"{PERMS}/clusters/{cluster_id}", json=acl(ALICE, "CAN_RESTART")))
    assert answer["object_id"] == f"/clusters/{cluster_id}"
    assert levels_of(answer, ADMIN) == [("CAN_MANAGE", False)]
    ok(emu.post(f"{CLUSTERS}/delete", json={"cluster_id": cluster_id}, token=ALICE_TOKEN))
    response = emu.post(f"{CLUSTERS}/pin", json={"cluster_id": cluster_id}, token=ALICE_TOKEN)
    refused(response, "PERMISSION_DENIED", 403, "Manage")


def test_a_cluster_put_keeps_its_creators_grant(emu: Emu) -> None:
    """PUT with only alice leaves the creator's CAN_MANAGE shown and in force."""
    cluster_id = ok(emu.post(f"{CLUSTERS}/create", json=SPEC, token=ALICE_TOKEN))["cluster_id"]
    answer = ok(emu.request("PUT", f"{PERMS}/clusters/{cluster_id}", json=acl(BOB, "CAN_ATTACH_TO")))
    assert levels_of(answer, ALICE) == [("CAN_MANAGE", False)]
    ok(emu.post(f"{CLUSTERS}/pin", json={"cluster_id": cluster_id}, token=ALICE_TOKEN))


def test_a_pool_needs_attach_to_in_a_cluster_spec_and_manage_to_delete(emu: Emu) -> None:
    """alice may not build a cluster on the pool until CAN_ATTACH_TO, nor delete it until CAN_MANAGE."""
    pool = {"instance_pool_name": "warm", "node_type_id": "i3.xlarge"}
    pool_id = ok(emu.post(f"{POOLS}/create", json=pool))["instance_pool_id"]
    spec = {**{k: v for k, v in SPEC.items() if k != "node_type_id"}, "instance_pool_id": pool_id}
    refused(
        emu.post(f"{CLUSTERS}/create", json=spec, token=ALICE_TOKEN), "PERMISSION_DENIED", 403, "Attach To"
    )
    ok(emu.request("PATCH", f"{PERMS}/instance-pools/{pool_id}", json=acl(ALICE, "CAN_ATTACH_TO")))
    ok(emu.post(f"{CLUSTERS}/create", json=spec, token=ALICE_TOKEN))
    refused(
        emu.post(f"{POOLS}/delete", json={"instance_pool_id": pool_id}, token=ALICE_TOKEN),
        "PERMISSION_DENIED",
        403,
        "not authorized",
    )
    ok(emu.request("PATCH", f"{PERMS}/instance-pools/{pool_id}", json=acl(ALICE, "CAN_MANAGE")))
    ok(emu.post(f"{POOLS}/delete", json={"instance_pool_id": pool_id}, token=ALICE_TOKEN))
    refused(emu.get(f"{PERMS}/instance-pools/{pool_id}"), "RESOURCE_DOES_NOT_EXIST", 404, "does not exist")


def test_a_policy_needs_can_use_through_a_group(emu: Emu) -> None:
    """alice may create a cluster with the policy once her group 'etl' holds CAN_USE on it."""
    policy_id = ok(emu.post(f"{POLICIES}/create", json={"name": "small"}))["policy_id"]
    spec = {**SPEC, "policy_id": policy_id}
    refused(emu.post(f"{CLUSTERS}/create", json=spec, token=ALICE_TOKEN), "PERMISSION_DENIED", 403, "Use")
    new_group(emu, "etl", ALICE)
    answer = ok(
        emu.request(
            "PATCH", f"{PERMS}/cluster-policies/{policy_id}", json=acl("etl", "CAN_USE", "group_name")
        )
    )
    assert answer["object_type"] == "cluster-policy"
    ok(emu.post(f"{CLUSTERS}/create", json=spec, token=ALICE_TOKEN))
    response = emu.request(
        "PATCH", f"{PERMS}/cluster-policies/{policy_id}", json=acl(BOB, "CAN_USE"), token=ALICE_TOKEN
    )
    refused(response, "PERMISSION_DENIED", 403, "admins")


# -- notebooks, files, repos, experiments ---------------------------------------------------------


def test_a_notebook_opens_to_a_granted_user(emu: Emu) -> None:
    """bob may not export the admin's notebook until CAN_READ on it."""
    nb_id = notebook(emu, f"/Users/{ADMIN}/nb")
    params = {"path": f"/Users/{ADMIN}/nb", "format": "SOURCE"}
    refused(emu.get(f"{WS}/export", params=params, token=BOB_TOKEN), "PERMISSION_DENIED", 403, "")
    ok(emu.request("PATCH", f"{PERMS}/notebooks/{nb_id}", json=acl(BOB, "CAN_READ")))
    ok(emu.get(f"{WS}/export", params=params, token=BOB_TOKEN))


def test_a_file_has_permissions_too(emu: Emu) -> None:
    """A workspace file answers under files/ with workspace levels."""
    body = {"path": f"/Users/{ADMIN}/data.txt", "format": "AUTO", "content": "aGk="}
    ok(emu.post(f"{WS}/import", json=body))
    file_id = ok(emu.get(f"{WS}/get-status", params={"path": body["path"]}))["object_id"]
    answer = ok(emu.request("PATCH", f"{PERMS}/files/{file_id}", json=acl(ALICE, "CAN_RUN")))
    assert answer["object_type"] == "file"
    assert levels_of(answer, ALICE) == [("CAN_RUN", False)]


def test_a_repo_opens_to_a_granted_user(emu: Emu, tmp_path: Any) -> None:
    """alice may not get the admin's Git folder until CAN_READ on repos/{id}."""
    from tests.emulator.gitrepo import make_git_repo

    source = make_git_repo(tmp_path)
    repo = ok(emu.post("/api/2.0/repos", json={"url": str(source.path), "provider": "gitHub"}))
    refused(emu.get(f"/api/2.0/repos/{repo['id']}", token=ALICE_TOKEN), "PERMISSION_DENIED", 403, "")
    answer = ok(emu.request("PATCH", f"{PERMS}/repos/{repo['id']}", json=acl(ALICE, "CAN_READ")))
    assert answer["object_id"] == f"/repos/{repo['id']}"
    ok(emu.get(f"/api/2.0/repos/{repo['id']}", token=ALICE_TOKEN))


def test_an_experiment_opens_level_by_level(emu: Emu) -> None:
    """alice reads with CAN_READ, logs runs with CAN_EDIT, deletes with CAN_MANAGE."""
    mlflow = "/api/2.0/mlflow"
    exp_id = ok(emu.post(f"{mlflow}/experiments/create", json={"name": f"/Users/{ADMIN}/exp"}))[
        "experiment_id"
    ]
    get = {"experiment_id": exp_id}
    refused(
        emu.get(f"{mlflow}/experiments/get", params=get, token=ALICE_TOKEN),
        "PERMISSION_DENIED",
        403,
        "experiment",
    )
    assert "experiments" not in ok(emu.post(f"{mlflow}/experiments/search", json={}, token=ALICE_TOKEN))
    ok(emu.request("PATCH", f"{PERMS}/experiments/{exp_id}", json=acl(ALICE, "CAN_READ")))
    ok(emu.get(f"{mlflow}/experiments/get", params=get, token=ALICE_TOKEN))
    refused(emu.post(f"{mlflow}/runs/create", json=get, token=ALICE_TOKEN), "PERMISSION_DENIED", 403, "Edit")
    ok(emu.request("PATCH", f"{PERMS}/experiments/{exp_id}", json=acl(ALICE, "CAN_EDIT")))
    run_id = ok(emu.post(f"{mlflow}/runs/create", json=get, token=ALICE_TOKEN))["run"]["info"]["run_id"]
    metric = {"run_id": run_id, "key": "m", "value": 1, "timestamp": 1}
    ok(emu.post(f"{mlflow}/runs/log-metric", json=metric, token=ALICE_TOKEN))
    refused(
        emu.post(f"{mlflow}/experiments/delete", json=get, token=ALICE_TOKEN),
        "PERMISSION_DENIED",
        403,
        "Manage",
    )
    ok(emu.request("PATCH", f"{PERMS}/experiments/{exp_id}", json=acl(ALICE, "CAN_MANAGE")))
    ok(emu.post(f"{mlflow}/experiments/delete", json=get, token=ALICE_TOKEN))


def test_run_search_shows_a_user_only_the_runs_of_experiments_they_read(emu: Emu) -> None:
    """Two experiments with two runs each; alice may read one: her search lists exactly its runs."""
    mlflow = "/api/2.0/mlflow"
    experiments = []
    for name in ("shown", "hidden"):
        exp_id = ok(emu.post(f"{mlflow}/experiments/create", json={"name": f"/Users/{ADMIN}/{name}"}))
        experiments.append(exp_id["experiment_id"])
        for _ in range(2):
            ok(emu.post(f"{mlflow}/runs/create", json={"experiment_id": exp_id["experiment_id"]}))
    shown, _hidden = experiments
    ok(emu.request("PATCH", f"{PERMS}/experiments/{shown}", json=acl(ALICE, "CAN_READ")))
    found = ok(emu.post(f"{mlflow}/runs/search", json={"experiment_ids": experiments}, token=ALICE_TOKEN))
    assert [run["info"]["experiment_id"] for run in found["runs"]] == [shown, shown]
    assert len(ok(emu.post(f"{mlflow}/runs/search", json={"experiment_ids": experiments}))["runs"]) == 4


def test_an_experiment_inherits_its_folders_grants(emu: Emu) -> None:
    """CAN_EDIT on the admin's folder lets alice log runs in an experiment inside it."""
    mlflow = "/api/2.0/mlflow"
    dir_id = folder(emu, f"/Users/{ADMIN}/ml")
    exp_id = ok(emu.post(f"{mlflow}/experiments/create", json={"name": f"/Users/{ADMIN}/ml/exp"}))[
        "experiment_id"
    ]
    refused(
        emu.post(f"{mlflow}/runs/create", json={"experiment_id": exp_id}, token=ALICE_TOKEN),
        "PERMISSION_DENIED",
        403,
        "",
    )
    ok(emu.request("PATCH", f"{PERMS}/directories/{dir_id}", json=acl(ALICE, "CAN_EDIT")))
    ok(emu.post(f"{mlflow}/runs/create", json={"experiment_id": exp_id}, token=ALICE_TOKEN))


def test_an_experiments_creator_manages_it(emu: Emu) -> None:
    """alice's experiment in /Shared shows her CAN_MANAGE, direct."""
    mlflow = "/api/2.0/mlflow"
    exp_id = ok(emu.post(f"{mlflow}/experiments/create", json={"name": "/Shared/exp"}, token=ALICE_TOKEN))[
        "experiment_id"
    ]
    answer = ok(emu.get(f"{PERMS}/experiments/{exp_id}", token=ALICE_TOKEN))
    assert answer["object_type"] == "experiment"
    assert ("CAN_MANAGE", False) in levels_of(answer, ALICE)


# -- hostile input --------------------------------------------------------------------------------


@pytest.mark.parametrize("object_id", ["²", "1" * 40, "-1", "%20"])
def test_odd_ids_are_simply_not_found(emu: Emu, object_id: str) -> None:
    """Ids that are not plain numbers are 404 for jobs and folders, never a 500."""
    for kind in ("jobs", "directories"):
        response = emu.get(f"{PERMS}/{kind}/{object_id}")
        refused(response, "RESOURCE_DOES_NOT_EXIST", 404, "does not exist")


@pytest.mark.parametrize(
    "body",
    [
        {"access_control_list": "alice"},
        {"access_control_list": [{"user_name": ALICE}]},
        {"access_control_list": [{"user_name": 7, "permission_level": "CAN_VIEW"}]},
        {"access_control_list": [{"user_name": "x" * 5000, "permission_level": "CAN_VIEW"}]},
        {"access_control_list": [{"user_name": ALICE, "permission_level": "CAN_VIEW"}] * 201},
    ],
    ids=["not-a-list", "no-level", "name-not-text", "name-too-long", "too-many"],
)
def test_malformed_access_control_lists_are_invalid_and_change_nothing(
    emu: Emu, body: dict[str, Any]
) -> None:
    """A malformed ACL is one 400 and leaves the job's ACL as it was."""
    job_id = new_job(emu)
    response = emu.request("PATCH", f"{PERMS}/jobs/{job_id}", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert len(ok(emu.get(f"{PERMS}/jobs/{job_id}"))["access_control_list"]) == 2


def test_a_run_job_task_may_trigger_a_job_its_principal_was_granted(emu: Emu) -> None:
    """alice's run_job_task on the admin's job succeeds once she holds CAN_MANAGE_RUN on it."""
    path = upload(emu, "/Shared/child", notebook_source("x = 1"))
    admin_job = new_job(emu, tasks=[nb_task("main", path)])
    ok(emu.request("PATCH", f"{PERMS}/jobs/{admin_job}", json=acl(ALICE, "CAN_MANAGE_RUN")))
    body = {"name": "mine", "tasks": [{"task_key": "call", "run_job_task": {"job_id": admin_job}}]}
    job_id = ok(emu.post(f"{JOBS}/create", json=body, token=ALICE_TOKEN))["job_id"]
    run = wait_run(emu, ok(emu.post(f"{JOBS}/run-now", json={"job_id": job_id}, token=ALICE_TOKEN))["run_id"])
    assert result(run) == "SUCCESS", task(run, "call")["state"]


def test_a_service_principals_job_names_it_as_one(emu: Emu) -> None:
    """A job created by the OAuth client shows its owner as service_principal_name."""
    token = emu.post(
        "/oidc/v1/token",
        data={"grant_type": "client_credentials", "scope": "all-apis"},
        auth=(CLIENT_ID, CLIENT_SECRET),
        token=None,
    ).json()["access_token"]
    job_id = new_job(emu, token)
    owner = next(
        e for e in ok(emu.get(f"{PERMS}/jobs/{job_id}"))["access_control_list"] if "group_name" not in e
    )
    assert owner == {
        "service_principal_name": CLIENT_ID,
        "all_permissions": [{"permission_level": "IS_OWNER", "inherited": False}],
    }
