"""Object permissions primitives: ``/api/2.0/permissions/{type}/{id}`` (get, set, update, levels).

The Permissions API (the SDK's ``PermissionsAPI``): ``GET`` returns ``{object_id, object_type,
access_control_list: [{user_name | group_name | service_principal_name, all_permissions: [{permission_level,
inherited, inherited_from_object}]}]}``; ``PUT`` replaces the object's direct grants with the
``access_control_list`` it is sent (``[{<principal key>, permission_level}]``), ``PATCH`` adds to them;
both answer with the new list. ``.../permissionLevels`` lists the levels the object type has.

Inherited grants (a folder's, or the admins group's on every job) are never sent back: only direct
grants are ours to replace. A job's ``PUT`` must name exactly one ``IS_OWNER`` ("The job must have
exactly one owner."), so ``ObjectKind.owner_required`` says where the owner has to travel along.

Everything a user types is checked here before any request: the type (plural or singular), the id
(ASCII letters, digits, ``.``, ``_``, ``-``; a number for jobs, workspace objects and experiments),
the principal and the level, which must be one the type has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from brickbook.client import Client
from brickbook.errors import UsageError
from brickbook.options import parse_id
from brickbook.paths import has_control_characters, is_valid_utf8, printable

__all__ = [
    "KINDS",
    "MAX_ENTRIES",
    "Grant",
    "ObjectKind",
    "ObjectPermissions",
    "Principal",
    "check_id",
    "check_level",
    "get",
    "grants_from_list",
    "object_kind",
    "parse_principal",
    "permission_levels",
    "set_",
    "update",
]

BASE = "/api/2.0/permissions"
MAX_NAME_CHARS = 256
MAX_ID_CHARS = 128
# A bound on what one set may name; the service refuses far longer lists anyway.
MAX_ENTRIES = 1000
PrincipalKey = Literal["user_name", "group_name", "service_principal_name"]
PRINCIPAL_KEYS: tuple[PrincipalKey, ...] = ("user_name", "group_name", "service_principal_name")
_PREFIX: Mapping[str, PrincipalKey] = {
    "user": "user_name",
    "group": "group_name",
    "sp": "service_principal_name",
}
_SHOWN_PREFIX = {key: prefix for prefix, key in _PREFIX.items()}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ID = re.compile(r"^[A-Za-z0-9._-]+$")
_WORKSPACE = ("CAN_READ", "CAN_RUN", "CAN_EDIT", "CAN_MANAGE")


@dataclass(frozen=True)
class ObjectKind:
    """An object type of the Permissions API: its path segment, its levels, and how ids look."""

    name: str  # the path segment: "jobs", "instance-pools", ...
    noun: str  # "job", "instance pool", ... in messages
    levels: tuple[str, ...]  # weakest first
    numeric_id: bool = False
    owner_required: bool = False  # a PUT must name exactly one IS_OWNER
    workspace_type: str | None = None  # the workspace object_type an ID given as a path must have


KINDS: Mapping[str, ObjectKind] = {
    kind.name: kind
    for kind in (
        ObjectKind(
            "jobs",
            "job",
            ("CAN_VIEW", "CAN_MANAGE_RUN", "CAN_MANAGE", "IS_OWNER"),
            numeric_id=True,
            owner_required=True,
        ),
        ObjectKind("clusters", "cluster", ("CAN_ATTACH_TO", "CAN_RESTART", "CAN_MANAGE")),
        ObjectKind("instance-pools", "instance pool", ("CAN_ATTACH_TO", "CAN_MANAGE")),
        ObjectKind("cluster-policies", "cluster policy", ("CAN_USE",)),
        ObjectKind("directories", "directory", _WORKSPACE, numeric_id=True, workspace_type="DIRECTORY"),
        ObjectKind("notebooks", "notebook", _WORKSPACE, numeric_id=True, workspace_type="NOTEBOOK"),
        ObjectKind("repos", "repo", _WORKSPACE, numeric_id=True, workspace_type="REPO"),
        ObjectKind("experiments", "experiment", ("CAN_READ", "CAN_EDIT", "CAN_MANAGE"), numeric_id=True),
        ObjectKind(
            "warehouses", "SQL warehouse", ("CAN_VIEW", "CAN_USE", "CAN_MONITOR", "CAN_MANAGE", "IS_OWNER")
        ),
    )
}
_SINGULAR = {
    "job": "jobs",
    "cluster": "clusters",
    "instance-pool": "instance-pools",
    "cluster-policy": "cluster-policies",
    "directory": "directories",
    "notebook": "notebooks",
    "repo": "repos",
    "experiment": "experiments",
    "warehouse": "warehouses",
}


def object_kind(name: str) -> ObjectKind:
    """Return the object type named ``name`` (plural or singular, any case), or raise UsageError."""
    key = name.strip().lower()
    kind = KINDS.get(_SINGULAR.get(key, key))
    if kind is None:
        raise UsageError(f"TYPE must be one of {', '.join(KINDS)}, not {printable(name, limit=60)}")
    return kind


def check_id(kind: ObjectKind, value: str) -> str:
    """Return ``value`` as an id of ``kind`` that is safe in a URL path, or raise UsageError."""
    if kind.numeric_id:
        what = f"ID of a {kind.noun}" + (" (or its absolute workspace path)" if kind.workspace_type else "")
        return str(parse_id(value, what))
    if not (0 < len(value) <= MAX_ID_CHARS and value.isascii() and _ID.match(value)):
        raise UsageError(
            f"ID of a {kind.noun} must be 1-{MAX_ID_CHARS} ASCII letters, digits, '.', '_' or '-', "
            f"not {printable(value, limit=60)}"
        )
    return value


def check_level(kind: ObjectKind, level: str) -> str:
    """Return ``level`` (upper-cased) if ``kind`` has it, or raise UsageError naming the levels it has."""
    upper = level.strip().upper()
    if upper not in kind.levels:
        raise UsageError(
            f"LEVEL {printable(level, limit=60)} is not a permission level of a {kind.noun}; "
            f"use one of {', '.join(kind.levels)}"
        )
    return upper


@dataclass(frozen=True, order=True)
class Principal:
    """A user (by user name), a group (by display name) or a service principal (by application id)."""

    key: PrincipalKey
    name: str

    def __str__(self) -> str:
        return f"{_SHOWN_PREFIX[self.key]}:{self.name}"


def _checked_name(name: str, what: str) -> str:
    if (
        not name.strip()
        or len(name) > MAX_NAME_CHARS
        or not is_valid_utf8(name)
        or has_control_characters(name)
    ):
        raise UsageError(
            f"{what} must be 1-{MAX_NAME_CHARS} printable characters, not {printable(name, limit=60)}"
        )
    return name


def parse_principal(text: str) -> Principal:
    """Read ``user:NAME``, ``group:NAME`` or ``sp:APP_ID``; unprefixed: ``@`` is a user, a UUID a
    service principal, anything else a group."""
    prefix, sep, rest = text.partition(":")
    if sep and prefix.lower() in _PREFIX:
        return Principal(_PREFIX[prefix.lower()], _checked_name(rest, f"PRINCIPAL after {prefix}:"))
    name = _checked_name(text, "PRINCIPAL")
    if "@" in name:
        return Principal("user_name", name)
    if _UUID.match(name):
        return Principal("service_principal_name", name)
    return Principal("group_name", name)


@dataclass(frozen=True)
class Grant:
    """One principal holding one level; ``inherited_from`` names the objects an inherited one comes from."""

    principal: Principal
    level: str
    inherited: bool = False
    inherited_from: tuple[str, ...] = ()

    def to_request(self) -> dict[str, str]:
        """Return the ``access_control_list`` entry a PUT or PATCH sends."""
        return {self.principal.key: self.principal.name, "permission_level": self.level}


@dataclass(frozen=True)
class ObjectPermissions:
    """An object's access control list as the service answers it."""

    object_id: str
    object_type: str
    grants: tuple[Grant, ...]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ObjectPermissions:
        """Build from a GET/PUT/PATCH answer, tolerating missing and unknown fields."""
        grants: list[Grant] = []
        for entry in data.get("access_control_list") or []:
            if not isinstance(entry, dict):
                continue
            key = next((k for k in PRINCIPAL_KEYS if isinstance(entry.get(k), str)), None)
            if key is None:
                continue
            principal = Principal(key, entry[key])
            for held in entry.get("all_permissions") or []:
                if isinstance(held, dict) and isinstance(held.get("permission_level"), str):
                    origin = tuple(str(o) for o in held.get("inherited_from_object") or [])
                    inherited = bool(held.get("inherited"))
                    grants.append(Grant(principal, held["permission_level"], inherited, origin))
        return cls(
            str(data.get("object_id", "")), str(data.get("object_type", "")), tuple(grants), dict(data)
        )

    def direct(self) -> tuple[Grant, ...]:
        """Return the grants made on this object itself (what a PUT replaces)."""
        return tuple(g for g in self.grants if not g.inherited)


def grants_from_list(kind: ObjectKind, entries: object, where: str) -> list[Grant]:
    """Validate an ``access_control_list`` as a set or a deployment gives it; return its grants.

    Each entry is an object with exactly one of user_name, group_name, service_principal_name and a
    ``permission_level`` the type has; nothing else. Problems are UsageErrors naming ``where[i].field``.
    """
    if not isinstance(entries, list):
        raise UsageError(
            f"{where} must be a list of {{user_name|group_name|service_principal_name, "
            f"permission_level}} objects, not {type(entries).__name__}"
        )
    if len(entries) > MAX_ENTRIES:
        raise UsageError(f"{where} has {len(entries)} entries; at most {MAX_ENTRIES} are accepted")
    grants: list[Grant] = []
    for index, entry in enumerate(entries):
        at = f"{where}[{index}]"
        if not isinstance(entry, dict):
            raise UsageError(f"{at} must be an object, not {type(entry).__name__}")
        allowed = (*PRINCIPAL_KEYS, "permission_level")
        unknown = [str(k) for k in entry if k not in allowed]
        if unknown:
            raise UsageError(
                f"{at}.{printable(unknown[0], quoted=False, limit=60)}: unknown key; "
                f"expected one of {', '.join(allowed)}"
            )
        named = [k for k in PRINCIPAL_KEYS if k in entry]
        if len(named) != 1:
            raise UsageError(f"{at} must name exactly one of {', '.join(PRINCIPAL_KEYS)}")
        key = named[0]
        name = entry[key]
        if not isinstance(name, str):
            raise UsageError(f"{at}.{key} must be a string, not {type(name).__name__}")
        level = entry.get("permission_level")
        if not isinstance(level, str):
            raise UsageError(f"{at}.permission_level is required: one of {', '.join(kind.levels)}")
        try:
            grants.append(Grant(Principal(key, _checked_name(name, key)), check_level(kind, level)))
        except UsageError as exc:
            raise UsageError(f"{at}: {exc.message}") from exc
    return grants


def _path(kind: ObjectKind, object_id: str) -> str:
    return f"{BASE}/{kind.name}/{object_id}"


def get(client: Client, kind: ObjectKind, object_id: str) -> ObjectPermissions:
    """Read an object's access control list: ``GET /api/2.0/permissions/{type}/{id}``."""
    return ObjectPermissions.from_api(client.get(_path(kind, object_id)))


def set_(client: Client, kind: ObjectKind, object_id: str, grants: Sequence[Grant]) -> ObjectPermissions:
    """Replace the object's direct grants: ``PUT /api/2.0/permissions/{type}/{id}`` (idempotent)."""
    body = {"access_control_list": [g.to_request() for g in grants]}
    return ObjectPermissions.from_api(client.request("PUT", _path(kind, object_id), body=body))


def update(client: Client, kind: ObjectKind, object_id: str, grants: Iterable[Grant]) -> ObjectPermissions:
    """Add grants: ``PATCH /api/2.0/permissions/{type}/{id}``.

    Idempotent: sending the same grant twice leaves the same list, so a lost answer may be retried.
    """
    body = {"access_control_list": [g.to_request() for g in grants]}
    answer = client.request("PATCH", _path(kind, object_id), body=body, idempotent=True)
    return ObjectPermissions.from_api(answer)


def permission_levels(client: Client, kind: ObjectKind, object_id: str) -> list[dict[str, Any]]:
    """List the levels the object offers: ``GET /api/2.0/permissions/{type}/{id}/permissionLevels``."""
    answer = client.get(_path(kind, object_id) + "/permissionLevels")
    return [level for level in answer.get("permission_levels") or [] if isinstance(level, dict)]
