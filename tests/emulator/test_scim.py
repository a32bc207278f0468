"""SCIM 2.0 identity in the emulator over HTTP: seeded principals, filters, paging, PatchOp, errors,
the legacy Groups API, and groups as principals for secret ACLs and Unity Catalog grants."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.emulator.harness import ADMIN, ALICE, ALICE_TOKEN, CLIENT_ID, Emu

SCIM = "/api/2.0/preview/scim/v2"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def scim_error(response: httpx.Response, status: int, fragment: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert body["status"] == str(status) and fragment in body["detail"]
    return body


def names(emu: Emu, segment: str, attribute: str, **params: Any) -> list[str]:
    listed = ok(emu.get(f"{SCIM}/{segment}", params=params))
    return [r[attribute] for r in listed.get("Resources", [])]


def make_group(emu: Emu, name: str, *member_ids: str) -> str:
    body = {"displayName": name, "members": [{"value": m} for m in member_ids]}
    return str(ok(emu.post(f"{SCIM}/Groups", json=body), 201)["id"])


def user_id(emu: Emu, user_name: str) -> str:
    found = ok(emu.get(f"{SCIM}/Users", params={"filter": f'userName eq "{user_name}"'}))
    return str(found["Resources"][0]["id"])


def add_member(emu: Emu, group_id: str, member_id: str) -> None:
    operation = {"op": "add", "path": "members", "value": [{"value": member_id}]}
    ok(
        emu.request(
            "PATCH", f"{SCIM}/Groups/{group_id}", json={"schemas": [PATCH_OP], "Operations": [operation]}
        )
    )


def test_command_line_principals_are_seeded(emu: Emu):
    """The admin and users are Users, the OAuth client a ServicePrincipal; admins and users groups exist."""
    assert names(emu, "Users", "userName") == [ADMIN, ALICE]
    assert names(emu, "ServicePrincipals", "applicationId") == [CLIENT_ID]
    groups = ok(emu.get(f"{SCIM}/Groups"))["Resources"]
    by_name = {g["displayName"]: [m["display"] for m in g.get("members", [])] for g in groups}
    assert by_name["admins"] == ["admin"]
    assert sorted(by_name["users"]) == ["admin", "alice", CLIENT_ID]
    me = ok(emu.get(f"{SCIM}/Me"))
    assert ok(emu.get(f"{SCIM}/Users/{me['id']}"))["userName"] == ADMIN


@pytest.mark.parametrize(
    ("segment", "attribute", "expression", "expected"),
    [
        ("Users", "userName", f'userName eq "{ALICE}"', [ALICE]),
        ("Users", "userName", 'userName co "ICE@"', [ALICE]),
        ("Users", "userName", 'displayName sw "adm"', [ADMIN]),
        ("Users", "userName", 'userName sw "a" and displayName ne "admin"', [ALICE]),
        ("Users", "userName", 'userName eq "nobody" or displayName eq "alice"', [ALICE]),
        ("ServicePrincipals", "applicationId", f'applicationId eq "{CLIENT_ID}"', [CLIENT_ID]),
        ("Groups", "displayName", 'displayName eq "admins"', ["admins"]),
        ("Groups", "displayName", 'displayName co "zzz"', []),
    ],
)
def test_filters(emu: Emu, segment: str, attribute: str, expression: str, expected: list[str]):
    """eq, ne, co and sw (case-insensitive), joined by and/or, filter each resource type."""
    assert names(emu, segment, attribute, filter=expression) == expected


def test_pagination_is_one_based(emu: Emu):
    """startIndex counts from 1 and count caps the page; totalResults counts every match."""
    for index in range(5):
        make_group(emu, f"team-{index}")
    page = ok(
        emu.get(f"{SCIM}/Groups", params={"filter": 'displayName sw "team-"', "startIndex": 2, "count": 2})
    )
    assert [g["displayName"] for g in page["Resources"]] == ["team-1", "team-2"]
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (5, 2, 2)
    past = ok(emu.get(f"{SCIM}/Groups", params={"startIndex": 99}))
    assert "Resources" not in past and past["itemsPerPage"] == 0


def test_attributes_limit_the_answer(emu: Emu):
    """attributes keeps only the named attributes, plus id and schemas."""
    listed = ok(emu.get(f"{SCIM}/Users", params={"attributes": "userName"}))
    assert set(listed["Resources"][0]) == {"id", "schemas", "userName"}


def test_group_crud_and_patch_membership(emu: Emu):
    """Create, patch (add then remove by selector), get and delete a group; users list their groups."""
    alice = user_id(emu, ALICE)
    group = make_group(emu, "etl")
    add_member(emu, group, alice)
    assert [m["value"] for m in ok(emu.get(f"{SCIM}/Groups/{group}"))["members"]] == [alice]
    assert "etl" in [g["display"] for g in ok(emu.get(f"{SCIM}/Users/{alice}"))["groups"]]
    remove = {"op": "remove", "path": f'members[value eq "{alice}"]'}
    ok(emu.request("PATCH", f"{SCIM}/Groups/{group}", json={"schemas": [PATCH_OP], "Operations": [remove]}))
    assert "members" not in ok(emu.get(f"{SCIM}/Groups/{group}"))
    assert emu.request("DELETE", f"{SCIM}/Groups/{group}").status_code == 204
    scim_error(emu.get(f"{SCIM}/Groups/{group}"), 404, "not found")


def test_create_user_and_service_principal_join_users(emu: Emu):
    """Created users and service principals are in the users group; deleting takes them out."""
    bob = ok(emu.post(f"{SCIM}/Users", json={"userName": "bob@example.com"}), 201)
    sp = ok(emu.post(f"{SCIM}/ServicePrincipals", json={"applicationId": "app-1", "displayName": "ci"}), 201)
    users = ok(emu.get(f"{SCIM}/Groups", params={"filter": 'displayName eq "users"'}))["Resources"][0]
    assert {bob["id"], sp["id"]} <= {m["value"] for m in users["members"]}
    ok(emu.request("DELETE", f"{SCIM}/Users/{bob['id']}"), 204)
    users = ok(emu.get(f"{SCIM}/Groups", params={"filter": 'displayName eq "users"'}))["Resources"][0]
    assert bob["id"] not in {m["value"] for m in users["members"]}


def test_scim_errors_have_scim_shape(emu: Emu):
    """Duplicates are 409 uniqueness, bad filters 400 invalidFilter, non-admin writes 403, unknown ids 404."""
    make_group(emu, "etl")
    assert (
        scim_error(emu.post(f"{SCIM}/Groups", json={"displayName": "etl"}), 409, "already exists")["scimType"]
        == "uniqueness"
    )
    bad = emu.get(f"{SCIM}/Users", params={"filter": 'userName gt "a"'})
    assert scim_error(bad, 400, "unsupported operator")["scimType"] == "invalidFilter"
    scim_error(
        emu.post(f"{SCIM}/Groups", json={"displayName": "x"}, token=ALICE_TOKEN), 403, "not a workspace admin"
    )
    scim_error(emu.get(f"{SCIM}/Users/123"), 404, "User with id 123 not found")
    missing = {"op": "add", "path": "members", "value": [{"value": "999"}]}
    admins = ok(emu.get(f"{SCIM}/Groups", params={"filter": 'displayName eq "admins"'}))["Resources"][0]["id"]
    patch = emu.request("PATCH", f"{SCIM}/Groups/{admins}", json={"Operations": [missing]})
    scim_error(patch, 404, "Member with id 999 not found")
    scim_error(emu.request("DELETE", f"{SCIM}/Groups/{admins}"), 400, "system group")


def test_legacy_groups_api_maps_onto_scim_groups(emu: Emu):
    """groups/create, add-member, list-members, list-parents, remove-member, delete act on SCIM groups."""
    ok(emu.post("/api/2.0/groups/create", json={"group_name": "etl"}))
    assert "etl" in ok(emu.get("/api/2.0/groups/list"))["group_names"]
    ok(emu.post("/api/2.0/groups/add-member", json={"parent_name": "etl", "user_name": ALICE}))
    assert ok(emu.get("/api/2.0/groups/list-members", params={"group_name": "etl"})) == {
        "members": [{"user_name": ALICE}]
    }
    assert "etl" in ok(emu.get("/api/2.0/groups/list-parents", params={"user_name": ALICE}))["group_names"]
    assert names(emu, "Groups", "displayName", filter='displayName eq "etl"') == ["etl"]
    ok(emu.post("/api/2.0/groups/remove-member", json={"parent_name": "etl", "user_name": ALICE}))
    assert ok(emu.get("/api/2.0/groups/list-members", params={"group_name": "etl"})) == {}
    ok(emu.post("/api/2.0/groups/delete", json={"group_name": "etl"}))
    missing = emu.post("/api/2.0/groups/delete", json={"group_name": "etl"})
    assert (missing.status_code, missing.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    twice = emu.post("/api/2.0/groups/create", json={"group_name": "admins"})
    assert twice.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"


def test_secret_acl_to_a_group_gives_its_members_access(emu: Emu):
    """A READ ACL for a group lets its members list the scope's secrets, and only while they are members."""
    ok(emu.post("/api/2.0/secrets/scopes/create", json={"scope": "etl"}))
    ok(emu.post("/api/2.0/secrets/put", json={"scope": "etl", "key": "pw", "string_value": "s3cret-value"}))
    group = make_group(emu, "etl-readers")
    ok(
        emu.post(
            "/api/2.0/secrets/acls/put",
            json={"scope": "etl", "principal": "etl-readers", "permission": "READ"},
        )
    )
    denied = emu.get("/api/2.0/secrets/list", params={"scope": "etl"}, token=ALICE_TOKEN)
    assert (denied.status_code, denied.json()["error_code"]) == (403, "PERMISSION_DENIED")
    add_member(emu, group, user_id(emu, ALICE))
    listed = ok(emu.get("/api/2.0/secrets/list", params={"scope": "etl"}, token=ALICE_TOKEN))
    assert [s["key"] for s in listed["secrets"]] == ["pw"]


def test_nested_group_membership_counts(emu: Emu):
    """A member of a group inside a granted group holds the grant too."""
    ok(emu.post("/api/2.0/secrets/scopes/create", json={"scope": "etl"}))
    inner = make_group(emu, "inner", user_id(emu, ALICE))
    make_group(emu, "outer", inner)
    ok(
        emu.post(
            "/api/2.0/secrets/acls/put", json={"scope": "etl", "principal": "outer", "permission": "READ"}
        )
    )
    assert emu.get("/api/2.0/secrets/list", params={"scope": "etl"}, token=ALICE_TOKEN).status_code == 200


def test_unity_catalog_grant_to_a_group_reaches_its_members(emu: Emu):
    """USE_CATALOG granted to a group makes the catalog visible to a member."""
    make_group(emu, "analysts", user_id(emu, ALICE))
    change = {"changes": [{"principal": "analysts", "add": ["USE_CATALOG"]}]}
    ok(emu.request("PATCH", "/api/2.1/unity-catalog/permissions/catalog/main", json=change))
    catalogs = ok(emu.get("/api/2.1/unity-catalog/catalogs", token=ALICE_TOKEN))["catalogs"]
    assert [c["name"] for c in catalogs] == ["main"]


def test_adding_to_admins_makes_a_workspace_admin(emu: Emu):
    """A user added to the admins group may do what admins do (create a group)."""
    admins = ok(emu.get(f"{SCIM}/Groups", params={"filter": 'displayName eq "admins"'}))["Resources"][0]["id"]
    add_member(emu, admins, user_id(emu, ALICE))
    ok(emu.post(f"{SCIM}/Groups", json={"displayName": "by-alice"}, token=ALICE_TOKEN), 201)


def test_reset_forgets_groups_and_seeds_again(emu: Emu):
    """After a control-API reset created groups and memberships are gone and the seed is back."""
    ok(emu.post("/api/2.0/secrets/scopes/create", json={"scope": "etl"}))
    make_group(emu, "readers", user_id(emu, ALICE))
    assert emu.control("POST", "reset").status_code == 200
    assert names(emu, "Groups", "displayName") == ["admins", "users"]
    ok(emu.post("/api/2.0/secrets/scopes/create", json={"scope": "etl"}))
    ok(
        emu.post(
            "/api/2.0/secrets/acls/put", json={"scope": "etl", "principal": "readers", "permission": "READ"}
        )
    )
    denied = emu.get("/api/2.0/secrets/list", params={"scope": "etl"}, token=ALICE_TOKEN)
    assert denied.status_code == 403
