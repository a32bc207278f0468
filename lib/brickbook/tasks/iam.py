"""Workspace identity tasks: list users, groups and service principals; add or remove group members.

Lists read every page (SCIM ``startIndex``/``count``) and take a SCIM ``--filter`` such as
``'userName sw "a"'``. Membership changes are idempotent: when the principal already is (or is not) a
member, nothing is sent and the answer says ``unchanged``.
"""

from __future__ import annotations

from typing import Any

from brickbook.command import Invocation, command
from brickbook.output import render_table

__all__ = ["group_add_member", "group_remove_member", "groups", "service_principals", "users"]

FILTER_HELP = "SCIM filter, e.g. 'displayName sw \"etl\"' (eq, ne, co, sw; and/or)."
MEMBER_HELP = {
    "group": "The group's display name.",
    "principal": "A user name, a service principal's application id, or a group name.",
}


def _groups_text(rows: list[Any]) -> str:
    counted = [{**row, "members": len(row.get("members") or [])} for row in rows]
    return render_table(counted, ["id", "displayName", "members"])


@command(
    help={"filter": FILTER_HELP}, text=lambda rows: render_table(rows, ["id", "userName", "displayName"])
)
def users(inv: Invocation, *, filter: str | None = None) -> list[Any]:
    """List the workspace's users (all pages)."""
    from brickbook.api import iam

    return [u.raw for u in iam.list_users(inv.client, expression=filter)]


@command(help={"filter": FILTER_HELP}, text=_groups_text)
def groups(inv: Invocation, *, filter: str | None = None) -> list[Any]:
    """List the workspace's groups (all pages), with their member counts in text output."""
    from brickbook.api import iam

    return [g.raw for g in iam.list_groups(inv.client, expression=filter)]


@command(
    help={"filter": FILTER_HELP}, text=lambda rows: render_table(rows, ["id", "applicationId", "displayName"])
)
def service_principals(inv: Invocation, *, filter: str | None = None) -> list[Any]:
    """List the workspace's service principals (all pages)."""
    from brickbook.api import iam

    return [sp.raw for sp in iam.list_service_principals(inv.client, expression=filter)]


def _membership(inv: Invocation, group: str, principal: str, *, member: bool) -> dict[str, Any]:
    from brickbook.ops.iam import apply_membership, plan_membership

    changes = plan_membership(inv.context, group, principal, member=member)
    apply_membership(inv.context, changes)
    change = changes[0]
    return {"group": group, "principal": principal, "action": change.action.value, "reason": change.reason}


@command(help=MEMBER_HELP)
def group_add_member(inv: Invocation, group: str, principal: str) -> dict[str, Any]:
    """Make a user, service principal or group a member of a group (nothing sent when it already is)."""
    return _membership(inv, group, principal, member=True)


@command(help=MEMBER_HELP)
def group_remove_member(inv: Invocation, group: str, principal: str) -> dict[str, Any]:
    """Take a principal out of a group (nothing sent when it is not a member)."""
    return _membership(inv, group, principal, member=False)
