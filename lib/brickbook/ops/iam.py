"""Group membership that holds: a principal in a group, or not, changed only when it differs."""

from __future__ import annotations

from brickbook.api import iam
from brickbook.change import Action, Change
from brickbook.context import Context

__all__ = ["apply_membership", "plan_membership"]

_NOUN = {"Users": "user", "ServicePrincipals": "service principal", "Groups": "group"}


def plan_membership(ctx: Context, group: str, principal: str, *, member: bool) -> list[Change]:
    """Plan ``principal`` being (``member=True``) or not being a direct member of ``group``."""
    found_group = iam.find_group(ctx.client, group)
    found = iam.find_principal(ctx.client, principal)
    target = f"{_NOUN[found.kind]} {principal!r} in group {group!r}"
    present = found.id in found_group.member_ids
    if present == member:
        reason = "already a member" if member else "not a member"
        return [Change(Action.UNCHANGED, target, reason=reason)]
    action = Action.CREATE if member else Action.DELETE
    return [Change(action, target, reason="membership differs", payload=(found_group.id, found.id))]


def apply_membership(ctx: Context, changes: list[Change]) -> None:
    """Add or remove the members the plan says; unchanged entries send nothing."""
    for change in changes:
        if not change.changed:
            ctx.log.info("iam.membership.unchanged", target=change.target, reason=change.reason)
            continue
        group_id, member_id = change.payload
        if change.action is Action.CREATE:
            iam.add_member(ctx.client, group_id, member_id)
        else:
            iam.remove_member(ctx.client, group_id, member_id)
        ctx.log.info("iam.membership.changed", action=change.action.value, target=change.target)
