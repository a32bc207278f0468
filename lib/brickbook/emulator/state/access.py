"""Object permissions: may principal P do action A on object O. One rule for every area.

An object is a ``Resource``: its type (which fixes the permission levels, weakest first: a
``grants.Levels``), its name and its grants, ``{user name or group: level}``. A principal holds the
strongest level granted to its user name or to one of its groups (``users``; see state/grants.py,
the grants model every area shares); workspace admins hold every level on everything.
An action needs a level; holding that level or a stronger one allows it.

Grants come from ownership and a few fixed rules, and from the explicit access control lists the
Permissions API (``/api/2.0/permissions``, state/permissions.py) sets, merged into the same mapping:

- jobs: the creator is IS_OWNER; a runs/submit run belongs to its submitter the same way;
- clusters: the creator has CAN_MANAGE;
- workspace objects (folders, notebooks, files, Git folders): see ``workspace_object``; ``/Users/<name>``
  and ``/Repos/<name>`` with everything below belong to <name> alone, every user manages what is under
  ``/Shared``, and elsewhere every user reads while the creator of an object or of a folder above it
  manages it;
- secret scopes: their ACLs (READ, WRITE, MANAGE), the creator holding MANAGE.

Levels, and what they allow here:

- job: CAN_VIEW (get, list, runs/get, runs/get-output) < CAN_MANAGE_RUN (run-now, runs/cancel,
  runs/cancel-all, runs/repair, runs/delete) < CAN_MANAGE (update, reset, delete) < IS_OWNER;
- cluster: CAN_ATTACH_TO (a job task on it) < CAN_RESTART (start, restart, delete = terminate)
  < CAN_MANAGE (edit, resize, permanent-delete, pin, unpin);
- instance pool: CAN_ATTACH_TO (a cluster spec naming it) < CAN_MANAGE (edit, delete);
- cluster policy: CAN_USE (a cluster spec naming it);
- MLflow experiment: CAN_READ (get, search, runs, history) < CAN_EDIT (runs, logging, tags)
  < CAN_MANAGE (rename, delete, restore);
- workspace object: CAN_READ (list, get-status, export) < CAN_RUN < CAN_EDIT (import, mkdirs)
  < CAN_MANAGE (delete);
- SQL warehouse: CAN_VIEW < CAN_USE (start, run statements) < CAN_MONITOR < CAN_MANAGE (edit,
  stop, delete) < IS_OWNER (see state/warehouses.py);
- secret scope: READ < WRITE < MANAGE (see state/secrets.py).

A refusal is HTTP 403 ``PERMISSION_DENIED`` worded as the real service words it: "User
alice@example.com does not have Admin or Manage or Owner permissions on job 12." (the levels that would
do, with Admin, in alphabetical order).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from brickbook.emulator.errors import ApiError
from brickbook.emulator.state.grants import USERS, Levels, memberships
from brickbook.emulator.state.identity import Principal

__all__ = [
    "CLUSTER",
    "CLUSTER_POLICY",
    "EXPERIMENT",
    "INSTANCE_POOL",
    "JOB",
    "SECRET_SCOPE",
    "SQL_WAREHOUSE",
    "USERS",
    "WORKSPACE",
    "ObjectType",
    "Resource",
    "home_owner",
    "may",
    "owned",
    "require",
    "with_grants",
    "workspace_object",
]

HOME_ROOTS = ("Users", "Repos")


def _display(level: str) -> str:
    """``CAN_MANAGE_RUN`` -> ``Manage Run``, ``IS_OWNER`` -> ``Owner`` (the words in real messages)."""
    return level.removeprefix("CAN_").removeprefix("IS_").replace("_", " ").title()


@dataclass(frozen=True)
class ObjectType:
    """A kind of object: its permission levels, weakest first, and how a refusal names it."""

    label: str  # "job" in "... permissions on job 12"; empty for workspace paths
    levels: Levels
    template: str = "User {user} does not have {levels} permissions on {object}."

    def rank(self, level: str | None) -> int:
        """The position of ``level`` among this type's levels; -1 for none or an unknown level."""
        return self.levels.rank(level)

    def denied(self, user: str, needed: str, name: str) -> str:
        enough = sorted(["Admin", *(_display(level) for level in self.levels.at_least(needed))])
        target = f"{self.label} {name}" if self.label else name
        return self.template.format(user=user, levels=" or ".join(enough), needed=needed, object=target)


JOB = ObjectType("job", Levels(("CAN_VIEW", "CAN_MANAGE_RUN", "CAN_MANAGE", "IS_OWNER")))
CLUSTER = ObjectType("cluster", Levels(("CAN_ATTACH_TO", "CAN_RESTART", "CAN_MANAGE")))
INSTANCE_POOL = ObjectType("instance pool", Levels(("CAN_ATTACH_TO", "CAN_MANAGE")))
CLUSTER_POLICY = ObjectType("cluster policy", Levels(("CAN_USE",)))
EXPERIMENT = ObjectType("experiment", Levels(("CAN_READ", "CAN_EDIT", "CAN_MANAGE")))
WORKSPACE = ObjectType("", Levels(("CAN_READ", "CAN_RUN", "CAN_EDIT", "CAN_MANAGE")))
SQL_WAREHOUSE = ObjectType(
    "warehouse", Levels(("CAN_VIEW", "CAN_USE", "CAN_MONITOR", "CAN_MANAGE", "IS_OWNER"))
)
SECRET_SCOPE = ObjectType(
    "scope",
    Levels(("READ", "WRITE", "MANAGE")),
    "User {user} does not have {needed} permission on {object} to perform this action.",
)


@dataclass(frozen=True)
class Resource:
    """One object as the permission rule sees it."""

    type: ObjectType
    name: str
    grants: Mapping[str, str]  # user name or group -> level


def with_grants(resource: Resource, *more: Mapping[str, str]) -> Resource:
    """``resource`` with more grants merged in: each principal keeps its strongest level."""
    levels = resource.type.levels
    grants = dict(resource.grants)
    for extra in more:
        for who, level in extra.items():
            if levels.rank(level) > levels.rank(grants.get(who)):
                grants[who] = level
    return Resource(resource.type, resource.name, grants)


def _held(principal: Principal, resource: Resource) -> int:
    if principal.is_admin:
        return len(resource.type.levels) - 1
    return resource.type.levels.strongest(resource.grants.get(who) for who in memberships(principal))


def may(principal: Principal, resource: Resource, needed: str) -> bool:
    """Whether ``principal`` holds ``needed`` (or a stronger level) on ``resource``."""
    rank = resource.type.rank(needed)
    assert rank >= 0, f"{needed} is not a {resource.type.label or 'workspace'} permission level"
    return _held(principal, resource) >= rank


def require(principal: Principal, resource: Resource, needed: str) -> None:
    """Raise 403 PERMISSION_DENIED unless ``principal`` holds ``needed`` on ``resource``."""
    if not may(principal, resource, needed):
        raise ApiError("PERMISSION_DENIED", resource.type.denied(principal.user_name, needed, resource.name))


def owned(type: ObjectType, name: object, owner: str | None, level: str) -> Resource:
    """An object whose only grant is its owner's (or none, for records from before owners were kept)."""
    return Resource(type, str(name), {owner: level} if owner else {})


def home_owner(path: str) -> str | None:
    """The user whose home holds ``path`` (``/Users/<name>/...``, ``/Repos/<name>/...``), else None."""
    parts = path.split("/")
    return parts[2] if len(parts) >= 3 and parts[1] in HOME_ROOTS and parts[2] else None


def workspace_object(path: str, owners: Iterable[str] = ()) -> Resource:
    """The grants on a canonical workspace path (which need not exist yet).

    In a home folder, its user manages everything and no other user sees anything (real workspaces
    hide other users' home folders). Every user manages what is under ``/Shared`` and may add to
    ``/Shared`` itself. Anywhere else every user reads, and ``owners`` (the creators of the object
    and of the folders above it, which it inherits from) manage.
    """
    home = home_owner(path)
    grants: dict[str, str] = {}
    if home is not None:
        grants[home] = "CAN_MANAGE"
    elif path.startswith("/Shared/"):
        grants[USERS] = "CAN_MANAGE"
    elif path == "/Shared":
        grants[USERS] = "CAN_EDIT"
    else:
        grants[USERS] = "CAN_READ"
    if home is None:
        for owner in owners:
            grants[owner] = "CAN_MANAGE"
    return Resource(WORKSPACE, path, grants)
