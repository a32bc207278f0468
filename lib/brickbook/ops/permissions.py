"""Object permissions that hold: plan a grant, a revoke or a whole set of direct grants, then apply it.

Each plan reads the object's access control list (one GET; a workspace path is first resolved to its
object id with get-status) and returns ``Change`` values, one per principal whose direct grants differ,
so a dry run shows the plan and sends nothing but GETs. Applying sends one request per plan: a grant
is a ``PATCH`` of that one grant; a revoke and a set are a ``PUT`` of the direct grants that must
remain (inherited grants are never sent; they belong to the object they come from).

The owner stays. A job's ``PUT`` must name its one ``IS_OWNER``, so a set that names no owner, or a
revoke, sends the current owner along; other types keep their owner by themselves, so their owner's
``IS_OWNER`` is not sent back. Revoking the owner is refused: ownership moves only by naming another
``IS_OWNER``.

The caller keeps its own CAN_MANAGE too: the service refuses to lower "administrative permissions for
the current user", and keeps a creator's grant whatever a PUT says, so a set that leaves the caller
out would otherwise plan the same drop on every run. A set that names the caller decides its level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from brickbook.api import iam, identity, permissions, workspace
from brickbook.api.permissions import Grant, ObjectKind, ObjectPermissions, Principal
from brickbook.change import Action, Change
from brickbook.errors import ResourceDoesNotExist, UsageError
from brickbook.paths import workspace_path

if TYPE_CHECKING:
    from brickbook.context import Context

__all__ = [
    "AclPlan",
    "Step",
    "Target",
    "apply_permissions",
    "check_principal",
    "plan_grant",
    "plan_revoke",
    "plan_set",
    "resolve_target",
]

OWNER = "IS_OWNER"
MANAGE = "CAN_MANAGE"


@dataclass(frozen=True)
class Target:
    """The object a plan is about: its type, its id, and how messages name it."""

    kind: ObjectKind
    object_id: str
    shown: str  # "job 12", "directory /Shared/etl (42)"


@dataclass(frozen=True)
class AclPlan:
    """What ``apply_permissions`` sends: a PUT of the remaining direct grants or a PATCH of new ones."""

    target: Target
    method: Literal["PUT", "PATCH"]
    grants: tuple[Grant, ...]


@dataclass(frozen=True)
class Step:
    """A change's payload: the plan it shares with the other changes of one set, and whose grant it is."""

    plan: AclPlan
    principal: Principal


def resolve_target(ctx: Context, type_name: str, ident: str) -> Target:
    """Check TYPE and ID; a directory, notebook or repo named by workspace path becomes its object id."""
    kind = permissions.object_kind(type_name)
    if not ident.startswith("/"):
        object_id = permissions.check_id(kind, ident)
        return Target(kind, object_id, f"{kind.noun} {object_id}")
    if kind.workspace_type is None:
        raise UsageError(
            f"ID of a {kind.noun} must be its id; only directories, notebooks and repos may be named "
            "by workspace path"
        )
    path = workspace_path(ident)
    info = workspace.get_status(ctx.client, path)
    found = info.object_type.value if info.object_type is not None else "object of unknown type"
    if found != kind.workspace_type or info.object_id is None:
        raise UsageError(f"{path} is a {found.lower()}, not a {kind.noun}")
    return Target(kind, str(info.object_id), f"{kind.noun} {path} ({info.object_id})")


# How to look a principal up in SCIM: its list and the attribute its name is.
_LOOKUP = {
    "user_name": (iam.list_users, "userName", "user", "iam.users"),
    "group_name": (iam.list_groups, "displayName", "group", "iam.groups"),
    "service_principal_name": (
        iam.list_service_principals,
        "applicationId",
        "service principal",
        "iam.service-principals",
    ),
}


def check_principal(ctx: Context, principal: Principal) -> None:
    """Raise ResourceDoesNotExist unless the workspace knows ``principal`` (a SCIM ``eq`` lookup, a GET).

    Checked before a grant is planned, so a typo is one clear line rather than a grant to nobody.
    """
    lister, attribute, noun, listing = _LOOKUP[principal.key]
    expression = f"{attribute} eq {iam.quote(principal.name)}"
    if not any(
        found.name.lower() == principal.name.lower() for found in lister(ctx.client, expression=expression)
    ):
        raise ResourceDoesNotExist(
            f"no {noun} named {principal.name!r} exists in this workspace",
            http_status=404,
            error_code="RESOURCE_DOES_NOT_EXIST",
        ).with_hint(f"list them with {listing}")


def _read(ctx: Context, target: Target) -> ObjectPermissions:
    return permissions.get(ctx.client, target.kind, target.object_id)


def _levels(grants: Sequence[Grant], principal: Principal) -> list[str]:
    return sorted({g.level for g in grants if g.principal == principal})


def plan_grant(ctx: Context, target: Target, principal: Principal, level: str) -> list[Change]:
    """Plan ``principal`` holding ``level`` directly on the object (a PATCH; unchanged if it already does)."""
    level = permissions.check_level(target.kind, level)
    current = _read(ctx, target)
    check_principal(ctx, principal)
    held = _levels(current.direct(), principal)
    what = f"{principal} on {target.shown}"
    plan = Step(AclPlan(target, "PATCH", (Grant(principal, level),)), principal)
    if level in held:
        return [Change(Action.UNCHANGED, what, reason=f"already holds {level}", payload=plan)]
    if held:
        reason = f"grant {level} (holds {', '.join(held)})"
        return [Change(Action.UPDATE, what, ("permission_level",), reason, payload=plan)]
    return [Change(Action.CREATE, what, reason=f"grant {level}", payload=plan)]


def _service_kept(kind: ObjectKind, grant: Grant) -> bool:
    """Whether the service keeps this grant by itself (an owner where the PUT need not name one)."""
    return grant.level == OWNER and not kind.owner_required


def plan_revoke(ctx: Context, target: Target, principal: Principal) -> list[Change]:
    """Plan dropping every direct grant of ``principal`` (a PUT of the rest; unchanged if it has none)."""
    current = _read(ctx, target)
    direct = current.direct()
    mine = _levels(direct, principal)
    what = f"{principal} on {target.shown}"
    if not mine:
        inherited = [g for g in current.grants if g.principal == principal]
        if inherited:
            origin = ", ".join(sorted({o for g in inherited for o in g.inherited_from})) or "a parent"
            reason = (
                f"holds only inherited grants ({', '.join(_levels(inherited, principal))} from {origin}); "
                "revoke them where they are granted"
            )
        else:
            reason = "holds no grant here"
        return [Change(Action.UNCHANGED, what, reason=reason)]
    if OWNER in mine:
        raise UsageError(
            f"{principal} owns {target.shown}; the owner cannot be revoked, only replaced by granting "
            f"{OWNER} to another principal"
        )
    rest = tuple(g for g in direct if g.principal != principal and not _service_kept(target.kind, g))
    plan = Step(AclPlan(target, "PUT", rest), principal)
    return [Change(Action.DELETE, what, reason=f"drop {', '.join(mine)}", payload=plan)]


def plan_set(ctx: Context, target: Target, grants: Sequence[Grant]) -> list[Change]:
    """Plan the object's direct grants being exactly ``grants`` (the owner kept); one PUT if they differ.

    One change per principal whose direct levels differ; none differing is one ``unchanged`` change.
    """
    wanted = list(dict.fromkeys(grants))  # a grant named twice is one grant
    current = _read(ctx, target)
    direct = [g for g in current.direct() if not _service_kept(target.kind, g)]
    for principal in sorted({g.principal for g in wanted} - {g.principal for g in current.grants}):
        check_principal(ctx, principal)
    if target.kind.owner_required and not any(g.level == OWNER for g in wanted):
        wanted += [g for g in direct if g.level == OWNER]  # keep the owner
    named = {g.principal for g in wanted}
    caller = identity.me(ctx.client).user_name
    wanted += [
        g for g in direct if g.principal.name == caller and g.principal not in named and g.level == MANAGE
    ]
    shared = AclPlan(target, "PUT", tuple(wanted))
    changes: list[Change] = []
    for principal in sorted({g.principal for g in [*direct, *wanted]}):
        before, after = _levels(direct, principal), _levels(wanted, principal)
        if before == after:
            continue
        plan = Step(shared, principal)
        what = f"{principal} on {target.shown}"
        if not before:
            changes.append(Change(Action.CREATE, what, reason=f"grant {', '.join(after)}", payload=plan))
        elif not after:
            changes.append(Change(Action.DELETE, what, reason=f"drop {', '.join(before)}", payload=plan))
        else:
            reason = f"{', '.join(before)} -> {', '.join(after)}"
            changes.append(Change(Action.UPDATE, what, ("permission_level",), reason, payload=plan))
    if not changes:
        return [Change(Action.UNCHANGED, f"permissions on {target.shown}", reason="direct grants match")]
    return changes


def apply_permissions(ctx: Context, changes: Sequence[Change]) -> list[Change]:
    """Send what the plan says: one request per plan (the changes of one set share it).

    Return the changes as done: a drop the service did not make (it keeps a creator's grant) comes
    back ``unchanged`` saying so, rather than claiming a revoke that did not happen.
    """
    answers: dict[int, ObjectPermissions] = {}
    done: list[Change] = []
    for change in changes:
        step = change.payload
        if not change.changed or not isinstance(step, Step):
            ctx.log.info("permissions.unchanged", target=change.target, reason=change.reason)
            done.append(change)
            continue
        plan = step.plan
        if id(plan) not in answers:
            kind, object_id = plan.target.kind, plan.target.object_id
            send = permissions.update if plan.method == "PATCH" else permissions.set_
            answers[id(plan)] = send(ctx.client, kind, object_id, plan.grants)
            ctx.log.info(
                "permissions.changed", method=plan.method, target=plan.target.shown, grants=len(plan.grants)
            )
        kept = change.action is Action.DELETE and any(
            g.principal == step.principal for g in answers[id(plan)].direct()
        )
        if kept:
            reason = "the service keeps this grant (the object's creator)"
            ctx.log.warning("permissions.kept", target=change.target, reason=reason)
            done.append(Change(Action.UNCHANGED, change.target, reason=reason))
        else:
            done.append(change)
    return done
