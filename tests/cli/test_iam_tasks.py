"""Identity tasks from the command line against the emulator: users, groups, service principals, members."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.conftest import ADMIN_TOKEN, CLIENT_ID, Emulator, run_cli

SCIM = "/api/2.0/preview/scim/v2"
ADMIN = "admin@example.com"
ALICE = "alice@example.com"


def ok_json(*args: str) -> Any:
    result = run_cli(*args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def create_groups(emulator: Emulator, *names: str) -> None:
    for name in names:
        response = httpx.post(
            f"{emulator.url}{SCIM}/Groups",
            json={"displayName": name},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert response.status_code == 201, response.text


def patches(emulator: Emulator) -> list[dict[str, object]]:
    return [r for r in emulator.requests(f"{SCIM}/Groups/") if r.get("method") == "PATCH"]


def test_users_lists_every_user_and_filters(workspace_env: Emulator):
    """iam.users lists the admin and alice; --filter narrows to the matches."""
    assert sorted(u["userName"] for u in ok_json("iam.users")) == [ADMIN, ALICE]
    assert [u["userName"] for u in ok_json("iam.users", "--filter", 'userName sw "ali"')] == [ALICE]


def test_groups_lists_every_group(workspace_env: Emulator):
    """iam.groups lists the built-in and created groups; text output counts members."""
    create_groups(workspace_env, *(f"team-{i}" for i in range(3)))
    listed = ok_json("iam.groups", "--filter", 'displayName sw "team-"')
    assert [g["displayName"] for g in listed] == [f"team-{i}" for i in range(3)]
    text = run_cli("iam.groups")
    assert text.exit_code == 0 and "admins" in text.stdout and "team-2" in text.stdout


def test_service_principals_lists_the_oauth_client(workspace_env: Emulator):
    """iam.service-principals lists the emulator's OAuth client by application id."""
    listed = ok_json("iam.service-principals", "--filter", f'applicationId eq "{CLIENT_ID}"')
    assert [sp["applicationId"] for sp in listed] == [CLIENT_ID]


def test_group_add_member_is_idempotent(workspace_env: Emulator):
    """Adding alice sends one PATCH; adding her again sends none and says unchanged."""
    create_groups(workspace_env, "etl")
    first = ok_json("iam.group-add-member", "etl", ALICE)
    assert (first["action"], len(patches(workspace_env))) == ("create", 1)
    again = ok_json("iam.group-add-member", "etl", ALICE)
    assert (again["action"], again["reason"], len(patches(workspace_env))) == (
        "unchanged",
        "already a member",
        1,
    )
    group = ok_json("iam.groups", "--filter", 'displayName eq "etl"')[0]
    assert [m["display"] for m in group["members"]] == ["alice"]


def test_group_remove_member_is_idempotent(workspace_env: Emulator):
    """Removing a member sends one PATCH; removing a non-member sends none."""
    create_groups(workspace_env, "etl")
    ok_json("iam.group-add-member", "etl", CLIENT_ID)
    assert ok_json("iam.group-remove-member", "etl", CLIENT_ID)["action"] == "delete"
    assert ok_json("iam.group-remove-member", "etl", CLIENT_ID)["action"] == "unchanged"
    assert len(patches(workspace_env)) == 2
    assert "members" not in ok_json("iam.groups", "--filter", 'displayName eq "etl"')[0]


def test_a_group_can_join_a_group(workspace_env: Emulator):
    """A group name as the principal nests that group."""
    create_groups(workspace_env, "inner", "outer")
    assert ok_json("iam.group-add-member", "outer", "inner")["action"] == "create"


def test_unknown_group_or_principal_exits_4(workspace_env: Emulator):
    """A missing group or principal is exit 4 with one error line, and no PATCH is sent."""
    missing_group = run_cli("iam.group-add-member", "nope", ALICE)
    assert missing_group.exit_code == 4 and "Group nope does not exist" in missing_group.stderr
    create_groups(workspace_env, "etl")
    missing = run_cli("iam.group-add-member", "etl", "ghost@example.com")
    assert missing.exit_code == 4 and "ghost@example.com" in missing.stderr
    assert patches(workspace_env) == []


def test_bad_input_exits_2_before_sending(workspace_env: Emulator):
    """An over-long filter or an empty name is exit 2 and nothing is sent."""
    long_filter = run_cli("iam.users", "--filter", "x" * 3000)
    assert long_filter.exit_code == 2 and "filter" in long_filter.stderr
    empty = run_cli("iam.group-add-member", "", ALICE)
    assert empty.exit_code == 2
    assert workspace_env.requests(SCIM) == []


def test_a_bad_filter_is_the_services_error(workspace_env: Emulator):
    """A filter the service refuses exits 2 with the SCIM detail."""
    result = run_cli("iam.users", "--filter", 'userName gt "a"')
    assert result.exit_code == 2 and "unsupported operator" in result.stderr
