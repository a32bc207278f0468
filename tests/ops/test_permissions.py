"""Permissions ops against the emulator: targets by id or workspace path, plans that only read, one write."""

from __future__ import annotations

import pytest

from brickbook.api import permissions, workspace
from brickbook.api.permissions import Grant, Principal, parse_principal
from brickbook.change import Action
from brickbook.context import Context
from brickbook.errors import ResourceDoesNotExist, UsageError
from brickbook.ops.permissions import apply_permissions, plan_grant, plan_revoke, plan_set, resolve_target
from tests.conftest import Emulator

ADMIN = Principal("user_name", "admin@example.com")
ALICE = Principal("user_name", "alice@example.com")
USERS = Principal("group_name", "users")
PERMS = "/api/2.0/permissions"


def warehouse(ctx: Context) -> str:
    spec = {"name": "analytics", "cluster_size": "2X-Small", "auto_stop_mins": 10}
    return str(ctx.client.post("/api/2.0/sql/warehouses", spec)["id"])


def writes(emulator: Emulator) -> list[str]:
    return [str(r["method"]) for r in emulator.requests(PERMS) if r.get("method") in ("PUT", "PATCH")]


def test_principals_follow_their_prefix_or_shape():
    """A prefix decides; unprefixed, @ is a user, a UUID a service principal, else a group."""
    assert parse_principal("user:ci") == Principal("user_name", "ci")
    assert parse_principal("SP:app") == Principal("service_principal_name", "app")
    assert parse_principal("alice@example.com") == ALICE
    uuid = "0d1c2b3a-0000-4000-8000-123456789abc"
    assert parse_principal(uuid) == Principal("service_principal_name", uuid)
    assert parse_principal("data-eng") == Principal("group_name", "data-eng")
    with pytest.raises(UsageError, match="PRINCIPAL must be 1-256 printable characters"):
        parse_principal("a\nb")


def test_types_are_plural_or_singular_and_levels_belong_to_them():
    """TYPE accepts the singular; a level another type has is refused naming this type's levels."""
    assert permissions.object_kind("Instance-Pool").name == "instance-pools"
    with pytest.raises(UsageError, match="TYPE must be one of jobs, clusters"):
        permissions.object_kind("tables")
    with pytest.raises(UsageError, match="use one of CAN_ATTACH_TO, CAN_MANAGE"):
        permissions.check_level(permissions.KINDS["instance-pools"], "CAN_RESTART")


def test_ids_are_checked_before_any_request(ctx: Context, emulator: Emulator):
    """A job id must be a number; a path names only workspace objects; a slash-free id is required."""
    with pytest.raises(UsageError, match="ID of a job must be a number"):
        resolve_target(ctx, "jobs", "12a")
    with pytest.raises(UsageError, match="only directories, notebooks and repos"):
        resolve_target(ctx, "clusters", "/Shared/x")
    with pytest.raises(UsageError, match="ID of a cluster must be 1-128 ASCII letters"):
        resolve_target(ctx, "clusters", "a/../b")
    assert emulator.requests("/api/") == []


def test_a_workspace_path_resolves_to_its_object_id(ctx: Context):
    """A directory path becomes its object id; a notebook path given as a directory is refused."""
    workspace.mkdirs(ctx.client, "/Shared/etl")
    info = workspace.get_status(ctx.client, "/Shared/etl")
    target = resolve_target(ctx, "directory", "/Shared/etl/")
    assert (target.kind.name, target.object_id) == ("directories", str(info.object_id))
    assert target.shown == f"directory /Shared/etl ({info.object_id})"
    with pytest.raises(UsageError, match="/Shared/etl is a directory, not a notebook"):
        resolve_target(ctx, "notebooks", "/Shared/etl")
    with pytest.raises(ResourceDoesNotExist):
        resolve_target(ctx, "directories", "/Shared/nope")


def test_plans_only_read(ctx: Context, emulator: Emulator):
    """Planning a grant, a revoke and a set sends GETs only."""
    target = resolve_target(ctx, "warehouses", warehouse(ctx))
    assert plan_grant(ctx, target, ALICE, "CAN_USE")[0].action is Action.CREATE
    assert plan_revoke(ctx, target, ALICE)[0].action is Action.UNCHANGED
    assert [c.action for c in plan_set(ctx, target, [Grant(USERS, "CAN_VIEW")])] == [Action.CREATE]
    assert writes(emulator) == []


def test_a_set_of_several_changes_is_one_put(ctx: Context, emulator: Emulator):
    """Two principals changing is two changes and one PUT; the owner is neither shown nor sent."""
    target = resolve_target(ctx, "warehouses", warehouse(ctx))
    apply_permissions(ctx, plan_grant(ctx, target, ALICE, "CAN_MANAGE"))
    changes = plan_set(ctx, target, [Grant(ALICE, "CAN_USE"), Grant(USERS, "CAN_VIEW")])
    assert [(c.action, c.reason) for c in changes] == [
        (Action.CREATE, "grant CAN_VIEW"),
        (Action.UPDATE, "CAN_MANAGE -> CAN_USE"),
    ]
    apply_permissions(ctx, changes)
    assert writes(emulator) == ["PATCH", "PUT"]
    after = permissions.get(ctx.client, target.kind, target.object_id)
    assert {(str(g.principal), g.level) for g in after.direct()} == {
        (str(ADMIN), "IS_OWNER"),
        (str(ALICE), "CAN_USE"),
        (str(USERS), "CAN_VIEW"),
    }
    assert plan_set(ctx, target, [Grant(USERS, "CAN_VIEW"), Grant(ALICE, "CAN_USE")])[0].action is (
        Action.UNCHANGED
    )
