"""Workspace identity as SCIM 2.0 resources: Users, Groups and ServicePrincipals, and group membership.

- Seeded on first use after a fresh start or a reset (a marker record in the store): every principal
  given on the command line is a User (id ``stable_id(userName)``, as ``/Me`` answers), every OAuth
  client a ServicePrincipal (``applicationId`` = the client id); the ``admins`` group holds the admin,
  the ``users`` group holds every user and service principal. Users and service principals created
  later join ``users`` too; deleting a resource takes it out of every group.
- Records: kinds ``scim_user``, ``scim_service_principal``, ``scim_group``, keyed by id; a group keeps
  its members as ids (``[{"value": id}]``) and answers them with ``display`` and ``$ref``.
- ``groups_of(name)`` answers the groups a user name or application id is in, through nested groups
  too; the identity layer (state/identity.py) asks it, so a grant to a group reaches its members.
- Lists are filtered (state/scim_filter.py), sorted, then cut by ``startIndex`` (1-based) and ``count``
  as RFC 7644 section 3.4.2.4 defines them. Errors are ``ScimError`` (routes render SCIM's error shape).

Pure rules over the store; no HTTP. Writes need a workspace admin.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from brickbook.emulator.settings import EmulatorSettings
from brickbook.emulator.state.identity import Principal, stable_id
from brickbook.emulator.state.scim_filter import FilterError, compile_filter
from brickbook.emulator.state.store import Store

__all__ = ["GROUPS", "SERVICE_PRINCIPALS", "USERS", "Kind", "ScimError", "ScimState"]

MAX_COUNT = 10_000  # the page size the SDK asks for, and the most one page holds
MAX_NAME_CHARS = 256
MAX_RESOURCES = 10_000  # of each kind
MAX_OPERATIONS = 100
MAX_MEMBERS_PER_REQUEST = 1_000
_SEED_KIND, _SEED_KEY = "scim_seed", "seeded"
_SELECTOR = re.compile(r'value\s+eq\s+"([^"]{1,80})"\s*\]', re.IGNORECASE)


@dataclass(frozen=True)
class Kind:
    """One SCIM resource type: its path segment, store kind, schema and naming attribute."""

    segment: str  # "Users" in the URL and in "$ref"
    store_kind: str
    schema: str
    name_attribute: str  # what must be unique and names the resource in messages
    noun: str

    def key_of(self, name: str) -> str:
        return stable_id(name) if self.segment != "Groups" else stable_id("group:" + name)


USERS = Kind("Users", "scim_user", "urn:ietf:params:scim:schemas:core:2.0:User", "userName", "User")
GROUPS = Kind("Groups", "scim_group", "urn:ietf:params:scim:schemas:core:2.0:Group", "displayName", "Group")
SERVICE_PRINCIPALS = Kind(
    "ServicePrincipals",
    "scim_service_principal",
    "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal",
    "applicationId",
    "Service principal",
)
_MEMBER_KINDS = (USERS, SERVICE_PRINCIPALS, GROUPS)


class ScimError(Exception):
    """A SCIM error answer: HTTP status, ``detail`` and an optional ``scimType``."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type


def _not_found(kind: Kind, resource_id: str) -> ScimError:
    return ScimError(404, f"{kind.noun} with id {resource_id[:80]} not found.")


def _name(kind: Kind, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScimError(400, f"{kind.name_attribute} is required.", "invalidValue")
    if len(value) > MAX_NAME_CHARS:
        raise ScimError(
            400, f"{kind.name_attribute} is longer than {MAX_NAME_CHARS} characters.", "invalidValue"
        )
    return value


def _whole(text: str | None, name: str, default: int) -> int:
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError as exc:
        raise ScimError(400, f"{name} must be an integer: {text[:40]!r}", "invalidValue") from exc


class ScimState:
    """Users, groups and service principals in the store, and who is in which group."""

    def __init__(self, settings: EmulatorSettings, store: Store) -> None:
        self._store = store
        self._settings = settings
        self._lock = threading.Lock()
        self._memberships: dict[str, tuple[str, ...]] | None = None
        self._generation = 0  # bumped by every write, so a table built meanwhile is not kept

    # -- seeding and the membership cache -------------------------------------------------------

    def forget(self) -> None:
        """Drop cached memberships (the store was reset; it is seeded again on next use)."""
        self._changed()

    def _seed(self) -> None:
        if self._store.get(_SEED_KIND, _SEED_KEY) is not None:
            return
        settings = self._settings
        with self._store.transaction():
            if self._store.get(_SEED_KIND, _SEED_KEY) is not None:
                return
            members: list[str] = []
            for name in (settings.admin_user, *settings.users):
                members.append(self._put_new(USERS, {"userName": name, "displayName": name.split("@")[0]}))
            for client in settings.oauth_clients:
                members.append(
                    self._put_new(SERVICE_PRINCIPALS, {"applicationId": client, "displayName": client})
                )
            self._put_new(GROUPS, {"displayName": "admins", "members": [{"value": members[0]}]})
            self._put_new(GROUPS, {"displayName": "users", "members": [{"value": m} for m in members]})
            self._store.put(_SEED_KIND, _SEED_KEY, {})

    def _put_new(self, kind: Kind, record: dict[str, Any]) -> str:
        resource_id = kind.key_of(record[kind.name_attribute])
        self._store.put(kind.store_kind, resource_id, {"id": resource_id, "active": True, **record})
        return resource_id

    def groups_of(self, name: str) -> tuple[str, ...]:
        """The group names a user name or application id belongs to, directly or through groups."""
        with self._lock:
            cached, generation = self._memberships, self._generation
        if cached is None:  # built outside our lock: the store has its own, never taken the other way
            self._seed()
            cached = self._build_memberships()
            with self._lock:
                if generation == self._generation:
                    self._memberships = cached
        return cached.get(name, ())

    def _build_memberships(self) -> dict[str, tuple[str, ...]]:
        groups = dict(self._store.items(GROUPS.store_kind))
        parents: dict[str, list[str]] = {}
        for key, record in groups.items():
            for member in record.get("members", []):
                parents.setdefault(member["value"], []).append(key)
        names: dict[str, tuple[str, ...]] = {}
        for kind in (USERS, SERVICE_PRINCIPALS):
            for key, record in self._store.items(kind.store_kind):
                seen: list[str] = []
                todo = list(parents.get(key, []))
                while todo:
                    group = todo.pop(0)
                    if group not in seen:
                        seen.append(group)
                        todo += parents.get(group, [])
                names[record[kind.name_attribute]] = tuple(groups[g]["displayName"] for g in seen)
        return names

    def _changed(self) -> None:
        with self._lock:
            self._memberships = None
            self._generation += 1

    # -- reads ----------------------------------------------------------------------------------

    def _records(self, kind: Kind) -> list[dict[str, Any]]:
        self._seed()
        return [record for _, record in self._store.items(kind.store_kind)]

    def _record(self, kind: Kind, resource_id: str) -> dict[str, Any]:
        self._seed()
        record = self._store.get(kind.store_kind, resource_id)
        if record is None:
            raise _not_found(kind, resource_id)
        return record

    def get(self, kind: Kind, resource_id: str) -> dict[str, Any]:
        """One resource as SCIM answers it."""
        return self._render(kind, self._record(kind, resource_id))

    def list_resources(self, kind: Kind, query: Mapping[str, str]) -> dict[str, Any]:
        """A SCIM ListResponse: ``filter``, ``attributes``, ``excludedAttributes``, ``startIndex``, ``count``.

        ``startIndex`` is 1-based (less than 1 counts as 1); ``count`` is cut to 10000.
        """
        try:
            keep = compile_filter(query.get("filter"))
        except FilterError as exc:
            raise ScimError(400, str(exc), "invalidFilter") from exc
        start = max(1, _whole(query.get("startIndex"), "startIndex", 1))
        count = min(max(0, _whole(query.get("count"), "count", MAX_COUNT)), MAX_COUNT)
        rendered = [self._render(kind, record) for record in self._records(kind)]
        chosen = sorted(
            (r for r in rendered if keep(r)), key=lambda r: str(r.get(kind.name_attribute, "")).lower()
        )
        page = [
            _project(r, query.get("attributes"), query.get("excludedAttributes"))
            for r in chosen[start - 1 :][:count]
        ]
        answer: dict[str, Any] = {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": len(chosen),
            "startIndex": start,
            "itemsPerPage": len(page),
        }
        if page:
            answer["Resources"] = page
        return answer

    def _render(self, kind: Kind, record: Mapping[str, Any]) -> dict[str, Any]:
        answer = {"schemas": [kind.schema], **record}
        if kind is GROUPS:
            answer["members"] = [self._reference(m["value"]) for m in record.get("members", [])]
            if not answer["members"]:
                del answer["members"]
            answer["meta"] = {"resourceType": "WorkspaceGroup"}
        else:
            name = record[kind.name_attribute]
            if kind is USERS:
                answer["emails"] = [{"value": name, "type": "work", "primary": True}]
            direct = [
                {"value": key, "display": group["displayName"], "type": "direct", "$ref": f"Groups/{key}"}
                for key, group in self._store.items(GROUPS.store_kind)
                if any(m["value"] == record["id"] for m in group.get("members", []))
            ]
            if direct:
                answer["groups"] = direct
        return answer

    def _reference(self, member_id: str) -> dict[str, Any]:
        for kind in _MEMBER_KINDS:
            record = self._store.get(kind.store_kind, member_id)
            if record is not None:
                display = record.get("displayName") or record[kind.name_attribute]
                return {"value": member_id, "display": display, "$ref": f"{kind.segment}/{member_id}"}
        return {"value": member_id}

    def find(self, kind: Kind, name: str) -> dict[str, Any] | None:
        """The resource whose naming attribute is ``name`` (exactly), or None."""
        return next((r for r in self._records(kind) if r[kind.name_attribute] == name), None)

    # -- writes ---------------------------------------------------------------------------------

    def create(self, caller: Principal, kind: Kind, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create a resource; a taken name is 409 ``uniqueness``."""
        _require_admin(caller)
        name = _name(kind, body.get(kind.name_attribute))
        with self._store.transaction():
            if self.find(kind, name) is not None:
                raise ScimError(
                    409, f"{kind.noun} with {kind.name_attribute} {name} already exists.", "uniqueness"
                )
            if len(self._store.items(kind.store_kind)) >= MAX_RESOURCES:
                raise ScimError(
                    400, f"A workspace holds at most {MAX_RESOURCES} {kind.segment}.", "invalidValue"
                )
            record: dict[str, Any] = {kind.name_attribute: name}
            display = body.get("displayName", name.split("@")[0] if kind is USERS else name)
            record["displayName"] = _name(kind, display) if kind is not GROUPS else name
            if isinstance(body.get("externalId"), str):
                record["externalId"] = body["externalId"][:MAX_NAME_CHARS]
            if kind is GROUPS:
                record["members"] = self._member_ids(body.get("members") or [])
            resource_id = self._put_new(kind, record)
            if kind is not GROUPS:
                users = self.find(GROUPS, "users")
                if users is not None:
                    users["members"] = [*users.get("members", []), {"value": resource_id}]
                    self._store.put(GROUPS.store_kind, users["id"], users)
        self._changed()
        return self.get(kind, resource_id)

    def delete(self, caller: Principal, kind: Kind, resource_id: str) -> None:
        """Delete a resource and take it out of every group; ``admins`` and ``users`` stay."""
        _require_admin(caller)
        with self._store.transaction():
            record = self._record(kind, resource_id)
            if kind is GROUPS and record["displayName"] in ("admins", "users"):
                raise ScimError(400, f"Cannot delete the system group {record['displayName']}.", "mutability")
            self._store.delete(kind.store_kind, resource_id)
            for key, group in self._store.items(GROUPS.store_kind):
                kept = [m for m in group.get("members", []) if m["value"] != resource_id]
                if len(kept) != len(group.get("members", [])):
                    self._store.put(GROUPS.store_kind, key, {**group, "members": kept})
        self._changed()

    def patch(
        self, caller: Principal, kind: Kind, resource_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Apply a SCIM PatchOp: add/remove/replace group ``members``; replace ``displayName``, ``active``."""
        _require_admin(caller)
        operations = body.get("Operations")
        if not isinstance(operations, list) or not operations or len(operations) > MAX_OPERATIONS:
            raise ScimError(
                400, f"Operations must be a list of 1 to {MAX_OPERATIONS} operations.", "invalidSyntax"
            )
        with self._store.transaction():
            record = self._record(kind, resource_id)
            for operation in operations:
                record = self._apply(kind, record, operation)
            self._store.put(kind.store_kind, resource_id, record)
        self._changed()
        return self.get(kind, resource_id)

    def _apply(self, kind: Kind, record: dict[str, Any], operation: object) -> dict[str, Any]:
        if not isinstance(operation, Mapping):
            raise ScimError(400, "Each operation must be an object.", "invalidSyntax")
        op = str(operation.get("op", "")).lower()
        path = operation.get("path")
        value = operation.get("value")
        if path is None and isinstance(value, Mapping):  # {"op": "add", "value": {"members": [...]}}
            for attribute, inner in value.items():
                record = self._apply(kind, record, {"op": op, "path": attribute, "value": inner})
            return record
        if not isinstance(path, str) or op not in ("add", "remove", "replace"):
            raise ScimError(
                400, f"Unsupported patch operation {str(operation.get('op'))[:20]!r}.", "invalidSyntax"
            )
        target, _, selector = path.partition("[")
        if kind is GROUPS and target == "members":
            members: list[dict[str, Any]] = list(record.get("members", []))
            if op == "remove":
                gone = set(self._selected_ids(selector, value))
                members = [m for m in members if m["value"] not in gone]
            else:
                added = self._member_ids(value if isinstance(value, list) else [value])
                members = added if op == "replace" else members + [m for m in added if m not in members]
            return {**record, "members": members}
        if target in ("displayName", "active") and op == "replace":
            if target == "active":
                return {**record, "active": bool(value)}
            return {**record, "displayName": _name(kind, value)}
        raise ScimError(400, f"Unsupported patch path {path[:60]!r}.", "invalidPath")

    def _member_ids(self, values: Iterable[object]) -> list[dict[str, Any]]:
        chosen: list[dict[str, Any]] = []
        for value in list(values)[: MAX_MEMBERS_PER_REQUEST + 1]:
            if len(chosen) >= MAX_MEMBERS_PER_REQUEST:
                raise ScimError(
                    400, f"At most {MAX_MEMBERS_PER_REQUEST} members per request.", "invalidValue"
                )
            member_id = value.get("value") if isinstance(value, Mapping) else None
            if not isinstance(member_id, str) or not any(
                self._store.get(k.store_kind, member_id) is not None for k in _MEMBER_KINDS
            ):
                raise ScimError(404, f"Member with id {str(member_id)[:80]} not found.")
            if {"value": member_id} not in chosen:
                chosen.append({"value": member_id})
        return chosen

    @staticmethod
    def _selected_ids(selector: str, value: object) -> list[str]:
        if selector:  # members[value eq "123"]
            match = _SELECTOR.fullmatch(selector.strip())
            if match is None:
                raise ScimError(400, f"Unsupported member selector {selector[:60]!r}.", "invalidFilter")
            return [match.group(1)]
        items = value if isinstance(value, list) else [value]
        return [str(item["value"]) for item in items if isinstance(item, Mapping) and "value" in item]


def _require_admin(caller: Principal) -> None:
    if not caller.is_admin:
        raise ScimError(403, f"User {caller.user_name} is not a workspace admin.")


def _project(resource: dict[str, Any], attributes: str | None, excluded: str | None) -> dict[str, Any]:
    """Keep only ``attributes`` (and ``id``, which SCIM always returns), minus ``excludedAttributes``."""
    wanted = {a.strip().lower() for a in (attributes or "").split(",") if a.strip()}
    dropped = {a.strip().lower() for a in (excluded or "").split(",") if a.strip()}
    return {
        key: value
        for key, value in resource.items()
        if (key in ("id", "schemas") or not wanted or key.lower() in wanted)
        and (key == "id" or key.lower() not in dropped)
    }
