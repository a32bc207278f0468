"""Workspace identity primitives: SCIM 2.0 Users, Groups and ServicePrincipals.

Endpoints under ``/api/2.0/preview/scim/v2/``. Lists page as SCIM defines it (RFC 7644 3.4.2.4):
``startIndex`` counts from 1 and moves on by the number of resources a page held, until a page is
empty or ``totalResults`` is reached. Filters are SCIM expressions (``userName eq "a@b.com"``,
``displayName sw "etl"``; the service supports eq, ne, co, sw with and/or). SCIM errors come back as
``{"detail", "status"}``, which the client maps like any other error.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from brickbook.client import Client
from brickbook.errors import ResourceDoesNotExist, UsageError

__all__ = [
    "MAX_FILTER_CHARS",
    "Resource",
    "add_member",
    "find_group",
    "find_principal",
    "list_groups",
    "list_service_principals",
    "list_users",
    "quote",
    "remove_member",
]

BASE = "/api/2.0/preview/scim/v2"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
PAGE_SIZE = 100
MAX_FILTER_CHARS = 2000
MAX_NAME_CHARS = 256
Segment = Literal["Users", "Groups", "ServicePrincipals"]
_NAME_ATTRIBUTE = {"Users": "userName", "Groups": "displayName", "ServicePrincipals": "applicationId"}


@dataclass(frozen=True)
class Resource:
    """A SCIM user, group or service principal: its id, name, display name and direct member ids."""

    kind: Segment
    id: str
    name: str  # userName, the group's displayName, or applicationId
    display_name: str
    member_ids: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, kind: Segment, data: dict[str, Any]) -> Resource:
        """Build from a SCIM resource, tolerating missing and unknown fields."""
        members = tuple(str(m.get("value")) for m in data.get("members") or [] if isinstance(m, dict))
        name = str(data.get(_NAME_ATTRIBUTE[kind]) or "")
        return cls(kind, str(data.get("id", "")), name, str(data.get("displayName") or name), members, data)


def quote(value: str) -> str:
    """``value`` as a SCIM filter string literal (double quotes, ``"`` and ``\\`` escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def validate_filter(expression: str | None) -> str | None:
    """Refuse a filter longer than the service takes before anything is sent."""
    if expression is not None and len(expression) > MAX_FILTER_CHARS:
        raise UsageError(
            f"the filter is {len(expression)} characters; at most {MAX_FILTER_CHARS} are accepted"
        )
    return expression or None


def validate_name(what: str, name: str) -> str:
    """Refuse an empty or over-long principal or group name before anything is sent."""
    if not name.strip() or len(name) > MAX_NAME_CHARS or any(ord(c) < 32 for c in name):
        raise UsageError(f"{what} must be 1-{MAX_NAME_CHARS} printable characters, not {name[:60]!r}")
    return name


def _pages(client: Client, kind: Segment, expression: str | None, page_size: int) -> Iterator[Resource]:
    query: dict[str, Any] = {"startIndex": 1, "count": page_size}
    if expression:
        query["filter"] = expression
    seen: set[str] = set()
    while True:
        page = client.get(f"{BASE}/{kind}", query)
        resources = [r for r in page.get("Resources") or [] if isinstance(r, dict)]
        for data in resources:
            resource = Resource.from_api(kind, data)
            if resource.id not in seen:  # a resource created mid-listing may shift into a later page
                seen.add(resource.id)
                yield resource
        query["startIndex"] += len(resources)
        total = page.get("totalResults")
        if not resources or (isinstance(total, int) and query["startIndex"] > total):
            return


def list_users(
    client: Client, *, expression: str | None = None, page_size: int = PAGE_SIZE
) -> Iterator[Resource]:
    """Yield every user matching ``expression``: ``GET .../Users``, all pages."""
    return _pages(client, "Users", validate_filter(expression), page_size)


def list_groups(
    client: Client, *, expression: str | None = None, page_size: int = PAGE_SIZE
) -> Iterator[Resource]:
    """Yield every group matching ``expression``: ``GET .../Groups``, all pages."""
    return _pages(client, "Groups", validate_filter(expression), page_size)


def list_service_principals(
    client: Client, *, expression: str | None = None, page_size: int = PAGE_SIZE
) -> Iterator[Resource]:
    """Yield every service principal matching ``expression``: ``GET .../ServicePrincipals``, all pages."""
    return _pages(client, "ServicePrincipals", validate_filter(expression), page_size)


def _exact(client: Client, kind: Segment, name: str) -> Resource | None:
    attribute = _NAME_ATTRIBUTE[kind]
    # SCIM eq is case-insensitive for these attributes; keep the exact match when there is one.
    found = list(_pages(client, kind, f"{attribute} eq {quote(name)}", PAGE_SIZE))
    return next((r for r in found if r.name == name), found[0] if found else None)


def find_group(client: Client, name: str) -> Resource:
    """The group named ``name`` (its displayName); ResourceDoesNotExist when there is none."""
    group = _exact(client, "Groups", validate_name("a group name", name))
    if group is None:
        raise ResourceDoesNotExist(
            f"Group {name} does not exist.", http_status=404, error_code="RESOURCE_DOES_NOT_EXIST"
        ).with_hint("list the groups with iam.groups")
    return group


def find_principal(client: Client, name: str) -> Resource:
    """A user (userName), service principal (applicationId) or group (displayName) named ``name``."""
    validate_name("a principal", name)
    for kind in ("Users", "ServicePrincipals", "Groups"):
        found = _exact(client, kind, name)
        if found is not None:
            return found
    raise ResourceDoesNotExist(
        f"No user, service principal or group named {name}.",
        http_status=404,
        error_code="RESOURCE_DOES_NOT_EXIST",
    ).with_hint("list them with iam.users, iam.service-principals or iam.groups")


def _patch(client: Client, group_id: str, operation: dict[str, Any]) -> None:
    body = {"schemas": [PATCH_SCHEMA], "Operations": [operation]}
    # Adding a member twice or removing an absent one leaves the same group: safe to retry.
    client.request("PATCH", f"{BASE}/Groups/{group_id}", body=body, idempotent=True)


def add_member(client: Client, group_id: str, member_id: str) -> None:
    """Add a member to a group: ``PATCH .../Groups/{id}`` with a PatchOp ``add`` on ``members``."""
    _patch(client, group_id, {"op": "add", "path": "members", "value": [{"value": member_id}]})


def remove_member(client: Client, group_id: str, member_id: str) -> None:
    """Remove a member from a group: ``PATCH .../Groups/{id}``, ``remove`` on ``members[value eq ...]``."""
    _patch(client, group_id, {"op": "remove", "path": f"members[value eq {quote(member_id)}]"})
