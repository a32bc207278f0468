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

from tests.emulator.harness import ADMIN, ALICE, ALICE_TOKEN, CLIENT_ID, Emu, serving

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
