"""The official databricks-sdk's Users, Groups and ServicePrincipals APIs against the emulator, unchanged."""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, PermissionDenied, ResourceConflict
from databricks.sdk.service.iam import ComplexValue, Patch, PatchOp, PatchSchema
from databricks.sdk.service.workspace import AclPermission

from tests.emulator.harness import ADMIN, ADMIN_TOKEN, ALICE, ALICE_TOKEN, CLIENT_ID, Emu


@pytest.fixture
def w(sdk_env: Emu) -> WorkspaceClient:
    return WorkspaceClient(host=sdk_env.url, token=ADMIN_TOKEN)


def alice_id(w: WorkspaceClient) -> str:
    found = list(w.users.list(filter=f'userName eq "{ALICE}"'))
    assert len(found) == 1 and found[0].id is not None
    return found[0].id


def test_users_list_with_filter(w: WorkspaceClient):
    """users.list answers every user, and only the matching ones with a filter."""
    assert sorted(u.user_name or "" for u in w.users.list()) == [ADMIN, ALICE]
    assert [u.user_name for u in w.users.list(filter='userName sw "ali"')] == [ALICE]
    assert [u.display_name for u in w.users.list(filter='displayName co "dmi"')] == ["admin"]


def test_groups_list_pages_through_small_counts(w: WorkspaceClient):
    """groups.list follows startIndex with a small count until every group is read, none twice."""
    for index in range(5):
        w.groups.create(display_name=f"team-{index}")
    listed = [g.display_name for g in w.groups.list(count=2)]
    assert sorted(listed) == ["admins", *[f"team-{i}" for i in range(5)], "users"]
    assert [g.display_name for g in w.groups.list(filter='displayName sw "team-"', count=2)] == [
        f"team-{i}" for i in range(5)
    ]


def test_service_principals_list_with_filter(w: WorkspaceClient):
    """service_principals.list filters on applicationId; create adds one."""
    w.service_principals.create(application_id="ci-app", display_name="ci")
    assert [
        sp.application_id for sp in w.service_principals.list(filter=f'applicationId eq "{CLIENT_ID}"')
    ] == [CLIENT_ID]
    assert sorted(sp.display_name or "" for sp in w.service_principals.list()) == ["ci", CLIENT_ID]


def test_groups_patch_adds_and_removes_members(w: WorkspaceClient):
    """groups.patch with a PatchOp adds a member, and removes it by a members[value eq ...] path."""
    group = w.groups.create(display_name="etl")
    assert group.id is not None
    member = alice_id(w)
    add = Patch(op=PatchOp.ADD, path="members", value=[{"value": member}])
    w.groups.patch(
        group.id, operations=[add], schemas=[PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP]
    )
    assert [m.value for m in w.groups.get(group.id).members or []] == [member]
    remove = Patch(op=PatchOp.REMOVE, path=f'members[value eq "{member}"]')
    w.groups.patch(group.id, operations=[remove])
    assert not w.groups.get(group.id).members
    w.groups.delete(group.id)
    with pytest.raises(NotFound, match="not found"):
        w.groups.get(group.id)


def test_scim_errors_map_to_sdk_errors(w: WorkspaceClient, sdk_env: Emu):
    """A duplicate group is ResourceConflict and a non-admin create PermissionDenied, with SCIM's detail."""
    w.groups.create(display_name="etl")
    with pytest.raises(ResourceConflict, match="already exists"):
        w.groups.create(display_name="etl")
    alice = WorkspaceClient(host=sdk_env.url, token=ALICE_TOKEN)
    with pytest.raises(PermissionDenied, match="not a workspace admin"):
        alice.groups.create(display_name="mine", members=[ComplexValue(value="1")])


def test_group_secret_acl_gives_a_member_access(w: WorkspaceClient, sdk_env: Emu):
    """A secret scope ACL granted to a group lets a member of the group list the scope's secrets."""
    w.secrets.create_scope("etl")
    w.secrets.put_secret("etl", "pw", string_value="sdk-group-secret-1")
    group = w.groups.create(display_name="etl-readers", members=[ComplexValue(value=alice_id(w))])
    assert group.display_name == "etl-readers"
    w.secrets.put_acl("etl", "etl-readers", AclPermission.READ)
    alice = WorkspaceClient(host=sdk_env.url, token=ALICE_TOKEN)
    assert [s.key for s in alice.secrets.list_secrets("etl")] == ["pw"]
    assert ADMIN in [a.principal for a in w.secrets.list_acls("etl")]
