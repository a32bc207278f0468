"""Object permissions: the explicit access control lists of ``/api/2.0/permissions/{type}/{id}``.

Each object type names its levels (state/access.py) and the family of ids it names: ``directories``,
``notebooks``, ``files`` and ``repos`` all name workspace objects by ``object_id``, so they share one
family. Store schema: kind ``object_acl``, key ``<family>:<id>``, value ``{"acl": [{"kind":
"user_name"|"group_name"|"service_principal_name", "name": ..., "level": ...}]}`` in the order first
granted. The area that deletes an object calls ``ObjectAcls.drop``.

How explicit grants reach the rule every area applies (``access.Resource``): an area builds the grants
it has always had (ownership, fixed rules) and merges the object's ACL, and for workspace objects the
ACLs of every folder above it (a grant on a folder is inherited by everything below it), keeping
each principal's strongest level (``ObjectAcls.merged``). A job is the exception: its ACL, once
written, holds its one IS_OWNER, so it replaces the creator's implicit ownership instead.

The answer is the SDK's ``ObjectPermissions``: ``object_id`` (``/jobs/12``, ``/directories/42``),
``object_type``, and ``access_control_list`` with each principal's ``all_permissions`` (direct ones
``inherited: false``; inherited ones naming ``inherited_from_object``); the ``admins`` group's
CAN_MANAGE is shown inherited from the type's root (``/jobs/``, ``/directories/``), as the real
service answers.

Writing (``set`` = PUT replaces the direct grants, ``update`` = PATCH adds or raises them), the real
errors: a level the type does not have, or a principal SCIM does not know, is 400
INVALID_PARAMETER_VALUE and changes nothing; a job must keep exactly one IS_OWNER ("The job must have
exactly one owner."), and IS_OWNER is only a job's. Other objects keep their creator's grant whatever
a PUT says (as warehouses keep their owner). Reading an ACL or its levels needs the type's lowest
level; changing it needs CAN_MANAGE (or IS_OWNER).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.state.access import (
    CLUSTER,
    CLUSTER_POLICY,
    EXPERIMENT,
    INSTANCE_POOL,
    JOB,
    WORKSPACE,
    ObjectType,
    Resource,
    require,
    with_grants,
)
from brickbook.emulator.state.grants import ADMINS
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.store import Store

__all__ = [
    "ACL_KIND",
    "PRINCIPAL_KEYS",
    "TYPES",
    "AclType",
    "Entry",
    "ObjectAcls",
    "PermissionsState",
    "Target",
    "parse_acl",
]

ACL_KIND = "object_acl"
PRINCIPAL_KEYS = ("user_name", "group_name", "service_principal_name")
MAX_ENTRIES = 200
MAX_NAME = 256


@dataclass(frozen=True)
class AclType:
    """One ``{type}`` of the Permissions API."""

    segment: str  # in the URL and in ``object_id``: "jobs", "directories"
    family: str  # whose ids it names; types naming the same objects share one
    type: ObjectType
    noun: str  # "job" in "The job must have exactly one owner."
    root: str  # where the admins' grant is inherited from

    @property
    def manage(self) -> str:
        """The level that may change the ACL; a type without CAN_MANAGE (policies) leaves it to admins."""
        return "CAN_MANAGE" if "CAN_MANAGE" in self.type.levels else self.type.levels.names[-1]

    def require_manage(self, caller: Principal, resource: Resource) -> None:
        """Refuse (403) a caller who may not change the object's ACL."""
        if "CAN_MANAGE" in self.type.levels:
            require(caller, resource, "CAN_MANAGE")
        elif not caller.is_admin:
            raise ApiError(
                "PERMISSION_DENIED", f"Only admins can change permissions on {self.noun} {resource.name}."
            )


TYPES: dict[str, AclType] = {
    t.segment: t
    for t in (
        AclType("jobs", "job", JOB, "job", "/jobs/"),
        AclType("clusters", "cluster", CLUSTER, "cluster", "/clusters/"),
        AclType("instance-pools", "instance-pool", INSTANCE_POOL, "instance pool", "/instance-pools/"),
        AclType("cluster-policies", "cluster-policy", CLUSTER_POLICY, "cluster policy", "/cluster-policies/"),
        AclType("directories", "workspace", WORKSPACE, "directory", "/directories/"),
        AclType("notebooks", "workspace", WORKSPACE, "notebook", "/directories/"),
        AclType("files", "workspace", WORKSPACE, "file", "/directories/"),
        AclType("repos", "workspace", WORKSPACE, "repo", "/repos/"),
        AclType("experiments", "experiment", EXPERIMENT, "experiment", "/experiments/"),
    )
}


@dataclass(frozen=True)
class Entry:
    """One direct grant: which kind of principal, its name, its level."""

    kind: str  # one of PRINCIPAL_KEYS
    name: str
    level: str


def parse_acl(body: Mapping[str, Any]) -> list[Entry]:
    """``access_control_list[{user_name|group_name|service_principal_name, permission_level}]``."""
    entries = body.get("access_control_list", [])
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise invalid("access_control_list must be a list.")
    if len(entries) > MAX_ENTRIES:
        raise invalid(f"access_control_list has {len(entries)} entries; at most {MAX_ENTRIES}.")
    parsed = []
    for item in entries:
        given = [(k, item[k]) for k in PRINCIPAL_KEYS if isinstance(item, dict) and item.get(k)]
        if len(given) != 1 or not isinstance(given[0][1], str) or len(given[0][1]) > MAX_NAME:
            raise invalid("Each access control entry names exactly one principal.")
        level = item.get("permission_level")
        if not isinstance(level, str) or not level:
            raise invalid("Each access control entry needs a permission_level.")
        parsed.append(Entry(given[0][0], given[0][1], level[:64]))
    return parsed


def _key(family: str, object_id: object) -> str:
    return f"{family}:{object_id}"


class ObjectAcls:
    """The explicit ACLs in the store; every area reads them through this."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def entries(self, family: str, object_id: object) -> list[Entry] | None:
        """The object's direct grants, or None when no ACL was ever written for it."""
        record = self._store.get(ACL_KIND, _key(family, object_id))
        return None if record is None else [Entry(**e) for e in record["acl"]]

    def levels(self, family: str, object_id: object) -> dict[str, str]:
        """Principal name -> level granted explicitly on the object."""
        return {e.name: e.level for e in self.entries(family, object_id) or []}

    def merged(self, resource: Resource, family: str, object_ids: Iterable[object]) -> Resource:
        """``resource`` with the explicit grants on each of ``object_ids`` (it and its ancestors) added."""
        return with_grants(resource, *(self.levels(family, i) for i in object_ids))

    def save(self, family: str, object_id: object, entries: Sequence[Entry]) -> None:
        acl = [{"kind": e.kind, "name": e.name, "level": e.level} for e in entries]
        self._store.put(ACL_KIND, _key(family, object_id), {"acl": acl})

    def drop(self, family: str, object_id: object) -> None:
        """Forget the object's ACL (it was deleted)."""
        self._store.delete(ACL_KIND, _key(family, object_id))


@dataclass(frozen=True)
class Target:
    """One object as the Permissions API sees it, resolved by the area that owns it."""

    acl_type: AclType
    object_id: str  # as in the URL
    resource: Resource  # everything the caller may hold on it: fixed rules, owners and explicit grants
    owners: Mapping[str, str] = field(default_factory=dict)  # implicit direct grants (the creator's)
    parents: Sequence[tuple[str, str]] = ()  # (object path, id) of the folders above, nearest first
    fixed: Mapping[str, str] = field(default_factory=dict)  # grants by fixed rules, shown inherited


def _permission(level: str, source: str | None) -> dict[str, Any]:
    if source is None:
        return {"permission_level": level, "inherited": False}
    return {"permission_level": level, "inherited": True, "inherited_from_object": [source]}


class PermissionsState:
    """Read and write object ACLs; ``principal_kind(name)`` answers which SCIM principal a name is."""

    def __init__(self, store: Store, principal_kind: Callable[[str, str], bool]) -> None:
        self._store = store
        self.acls = ObjectAcls(store)
        self._exists = principal_kind  # (kind, name) -> whether SCIM has it

    def levels(self, caller: Principal, target: Target) -> dict[str, Any]:
        """``GET .../permissionLevels``: the type's levels, weakest first."""
        require(caller, target.resource, target.acl_type.type.levels.names[0])
        levels = [{"permission_level": level, "description": ""} for level in target.acl_type.type.levels]
        return {"permission_levels": levels}

    def get(self, caller: Principal, target: Target) -> dict[str, Any]:
        """``GET``: the ObjectPermissions (needs the type's lowest level)."""
        require(caller, target.resource, target.acl_type.type.levels.names[0])
        return self._view(target)

    def write(
        self, caller: Principal, target: Target, given: Sequence[Entry], *, replace: bool
    ) -> dict[str, Any]:
        """``PUT`` (``replace``) or ``PATCH``; validates everything before it changes anything."""
        kind = target.acl_type
        kind.require_manage(caller, target.resource)
        for entry in given:
            if entry.level not in kind.type.levels:
                valid = ", ".join(kind.type.levels)
                raise invalid(
                    f"Permission level {entry.level} is not valid for {kind.segment}; use one of {valid}."
                )
            if not self._exists(entry.kind, entry.name):
                label = {"user_name": "UserName", "group_name": "GroupName"}.get(
                    entry.kind, "ServicePrincipalName"
                )
                raise invalid(f"Principal: {label}({entry.name}) does not exist")
        with self._store.transaction():
            current = self._direct(target)
            wanted = [] if replace else list(current)
            for entry in given:
                wanted = [e for e in wanted if e.name != entry.name or _rank(kind, e) > _rank(kind, entry)]
                if not any(e.name == entry.name for e in wanted):
                    wanted.append(entry)
            if "IS_OWNER" in kind.type.levels and sum(e.level == "IS_OWNER" for e in wanted) != 1:
                raise invalid(f"The {kind.noun} must have exactly one owner.")
            self.acls.save(kind.family, target.object_id, wanted)
        return self._view(target, replace_direct=wanted)

    def _direct(self, target: Target) -> list[Entry]:
        stored = self.acls.entries(target.acl_type.family, target.object_id)
        if stored is not None:
            return stored
        return [Entry("user_name", who, level) for who, level in target.owners.items()]

    def _view(self, target: Target, *, replace_direct: Sequence[Entry] | None = None) -> dict[str, Any]:
        kind = target.acl_type
        direct = list(self._direct(target) if replace_direct is None else replace_direct)
        if "IS_OWNER" not in kind.type.levels:  # the creator's grant stays whatever was written
            named = {e.name for e in direct}
            direct += [Entry("user_name", w, lvl) for w, lvl in target.owners.items() if w not in named]
        rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for entry in direct:
            rows.setdefault((entry.kind, entry.name), []).append(_permission(entry.level, None))
        for path, parent_id in target.parents:
            for entry in self.acls.entries(kind.family, parent_id) or []:
                rows.setdefault((entry.kind, entry.name), []).append(_permission(entry.level, path))
        for who, level in target.fixed.items():
            if not any(name == who for _, name in rows):
                key = "user_name" if "@" in who else "group_name"
                rows.setdefault((key, who), []).append(_permission(level, kind.root))
        rows.setdefault(("group_name", ADMINS), []).append(_permission(kind.manage, kind.root))
        acl = [{key: name, "all_permissions": perms} for (key, name), perms in rows.items()]
        return {
            "object_id": f"/{kind.segment}/{target.object_id}",
            "object_type": kind.noun.replace(" ", "-"),
            "access_control_list": acl,
        }


def _rank(kind: AclType, entry: Entry) -> int:
    return kind.type.rank(entry.level)
