"""Object permission tasks: show an object's access control list; set, grant or revoke direct grants.

TYPE is one of jobs, clusters, instance-pools, cluster-policies, directories, notebooks, repos,
experiments, warehouses (the singular works too); ID is the object's id, or for directories,
notebooks and repos its workspace path. PRINCIPAL is ``user:NAME``, ``group:NAME`` or ``sp:APP_ID``;
without a prefix a name with ``@`` is a user, a UUID a service principal, anything else a group.
Everything typed is checked before the first request (exit 2). ``--dry-run`` reads the list, prints
the plan and changes nothing.
"""

from __future__ import annotations

from typing import Any

from brickbook.command import Invocation, command
from brickbook.output import render_table

__all__ = ["get", "grant", "revoke", "set_"]

TYPE_HELP = (
    "jobs, clusters, instance-pools, cluster-policies, directories, notebooks, repos, experiments or "
    "warehouses (singular accepted)."
)
ID_HELP = "The object's id; for directories, notebooks and repos also a workspace path."
PRINCIPAL_HELP = (
    "user:NAME, group:NAME or sp:APP_ID; unprefixed, a name with @ is a user, a UUID a service "
    "principal, anything else a group."
)
DRY_RUN_HELP = "Read the permissions and print what would change; change nothing."
DONE = {"create": "granted", "update": "changed", "delete": "revoked", "unchanged": "unchanged"}


def _acl_text(data: dict[str, Any]) -> str:
    """One line per principal and level; an inherited grant names where it comes from."""
    from brickbook.api.permissions import ObjectPermissions

    rows = []
    for grant in ObjectPermissions.from_api(data).grants:
        origin = ", ".join(grant.inherited_from) or "a parent"
        rows.append(
            {
                "principal": str(grant.principal),
                "level": grant.level,
                "inherited": f"inherited from {origin}" if grant.inherited else "",
            }
        )
    return render_table(rows, ["principal", "level", "inherited"])


def _changes_text(rows: list[dict[str, Any]]) -> str:
    dry = any(row.get("dry_run") for row in rows)
    table = render_table(rows, ["action", "target", "reason"])
    return table + ("\n(dry run: nothing changed)" if dry else "")


def _rows(changes: list[Any], *, dry_run: bool) -> list[dict[str, Any]]:
    rows = []
    for change in changes:
        row: dict[str, Any] = {
            "action": change.action.value if dry_run else DONE[change.action.value],
            "target": change.target,
            "reason": change.reason,
        }
        if dry_run:
            row["dry_run"] = True
        rows.append(row)
    return rows


def _apply(inv: Invocation, changes: list[Any], *, dry_run: bool) -> list[dict[str, Any]]:
    from brickbook.ops.permissions import apply_permissions

    return _rows(changes if dry_run else apply_permissions(inv.context, changes), dry_run=dry_run)


@command(help={"type": TYPE_HELP, "id": ID_HELP}, text=_acl_text)
def get(inv: Invocation, type: str, id: str) -> Any:
    """Show an object's access control list: every principal's levels, inherited ones marked."""
    from brickbook.api import permissions
    from brickbook.ops.permissions import resolve_target

    target = resolve_target(inv.context, type, id)
    return permissions.get(inv.client, target.kind, target.object_id).raw


@command(
    name="set",
    help={
        "type": TYPE_HELP,
        "id": ID_HELP,
        "json": "The permissions as inline JSON, or @path to a JSON file: "
        '{"access_control_list": [{"user_name": "a@b.com", "permission_level": "CAN_VIEW"}]}.',
        "file": "The permissions as a .json, .yaml or .yml file (the same object).",
        "dry_run": DRY_RUN_HELP,
    },
    text=_changes_text,
)
def set_(
    inv: Invocation,
    type: str,
    id: str,
    *,
    json: str | None = None,
    file: str | None = None,
    dry_run: bool = False,
) -> Any:
    """Replace an object's direct grants with the given list (the owner stays; inherited ones are kept)."""
    from brickbook.api.permissions import grants_from_list, object_kind
    from brickbook.errors import UsageError
    from brickbook.ops.permissions import plan_set, resolve_target
    from brickbook.specs import load_spec

    kind = object_kind(type)
    spec = load_spec(json, file)
    unknown = [str(key) for key in spec if key != "access_control_list"]
    if unknown:
        raise UsageError(f"the permissions give {unknown[0][:60]!r}; only access_control_list is expected")
    if "access_control_list" not in spec:
        raise UsageError("the permissions need access_control_list: a list of grants (it may be empty)")
    grants = grants_from_list(kind, spec["access_control_list"], "access_control_list")
    target = resolve_target(inv.context, type, id)
    return _apply(inv, plan_set(inv.context, target, grants), dry_run=dry_run)


@command(
    help={
        "type": TYPE_HELP,
        "id": ID_HELP,
        "principal": PRINCIPAL_HELP,
        "level": "The permission level, one the type has (CAN_VIEW, CAN_MANAGE_RUN, CAN_MANAGE for jobs...).",
        "dry_run": DRY_RUN_HELP,
    },
    text=_changes_text,
)
def grant(inv: Invocation, type: str, id: str, principal: str, level: str, *, dry_run: bool = False) -> Any:
    """Grant a principal a level on an object (PATCH; nothing sent when it already holds it)."""
    from brickbook.api.permissions import check_level, object_kind, parse_principal
    from brickbook.ops.permissions import plan_grant, resolve_target

    checked_level = check_level(object_kind(type), level)
    who = parse_principal(principal)
    target = resolve_target(inv.context, type, id)
    return _apply(inv, plan_grant(inv.context, target, who, checked_level), dry_run=dry_run)


@command(
    help={"type": TYPE_HELP, "id": ID_HELP, "principal": PRINCIPAL_HELP, "dry_run": DRY_RUN_HELP},
    text=_changes_text,
)
def revoke(inv: Invocation, type: str, id: str, principal: str, *, dry_run: bool = False) -> Any:
    """Drop a principal's direct grants on an object (inherited ones stay; nothing sent if none)."""
    from brickbook.api.permissions import object_kind, parse_principal
    from brickbook.ops.permissions import plan_revoke, resolve_target

    object_kind(type)
    who = parse_principal(principal)
    target = resolve_target(inv.context, type, id)
    return _apply(inv, plan_revoke(inv.context, target, who), dry_run=dry_run)
