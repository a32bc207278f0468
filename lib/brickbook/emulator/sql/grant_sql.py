"""``GRANT`` and ``REVOKE`` written in SQL, applied to the Unity Catalog grants as the permissions API does.

``GRANT SELECT, MODIFY ON TABLE main.default.t TO `alice@example.com``` and ``REVOKE ... FROM ...``
on a CATALOG, SCHEMA (or DATABASE), TABLE (the default) or VOLUME. Privileges are written as SQL
writes them (``USE CATALOG``, ``ALL PRIVILEGES``) and stored as the API names them (``USE_CATALOG``).
A name with fewer parts takes the statement's catalog and schema. The caller must own the securable
(or hold MANAGE on it), as for ``PATCH permissions``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.sql.catalog import Catalogs
from brickbook.emulator.state.identity import Principal

__all__ = ["GrantStatement", "parse_grant"]

_NAME = r"(?:`[^`]+`|[\w-]+)"
_GRANT = re.compile(
    rf"(?is)\s*(GRANT|REVOKE)\s+(?P<privileges>.+?)\s+ON\s+(?:(?P<kind>CATALOG|SCHEMA|DATABASE|TABLE|VOLUME)\s+)?"
    rf"(?P<name>{_NAME}(?:\.{_NAME}){{0,2}})\s+(?:TO|FROM)\s+(?P<principals>{_NAME}(?:\s*,\s*{_NAME})*)\s*;?\s*"
)
_PARTS = {"CATALOG": 1, "SCHEMA": 2, "TABLE": 3, "VOLUME": 3}


def _unquote(name: str) -> str:
    return name[1:-1] if name.startswith("`") else name


@dataclass(frozen=True)
class GrantStatement:
    """One parsed GRANT or REVOKE."""

    add: bool
    securable_type: str
    name_parts: tuple[str, ...]
    privileges: tuple[str, ...]
    principals: tuple[str, ...]

    def full_name(self, catalog: str, schema: str) -> str:
        parts = [p.lower() for p in self.name_parts]
        wanted = _PARTS[self.securable_type]
        if len(parts) > wanted:
            raise invalid(f"Invalid {self.securable_type.lower()} name {'.'.join(self.name_parts)!r}.")
        return ".".join([catalog, schema][: wanted - len(parts)] + parts)

    def apply(self, catalogs: Catalogs, principal: Principal, *, catalog: str, schema: str) -> None:
        """Change the grants, or raise the ApiError the permissions API would answer."""
        full = str(catalogs.exists(self.securable_type, self.full_name(catalog, schema))["full_name"])
        privileges = catalogs.privileges
        if not (
            privileges.owns(principal, self.securable_type, full)
            or privileges.holds(principal, self.securable_type, full, "MANAGE")
        ):
            kind = self.securable_type.capitalize()
            raise ApiError("PERMISSION_DENIED", f"User does not have MANAGE on {kind} '{full}'.")
        key = "add" if self.add else "remove"
        privileges.update(
            self.securable_type,
            full,
            [{"principal": who, key: list(self.privileges)} for who in self.principals],
        )


def parse_grant(text: str) -> GrantStatement | None:
    """The GRANT or REVOKE in ``text``, or None when it is another statement."""
    match = _GRANT.fullmatch(text)
    if match is None:
        return None
    kind = (match["kind"] or "TABLE").upper()
    return GrantStatement(
        add=match[1].upper() == "GRANT",
        securable_type="SCHEMA" if kind == "DATABASE" else kind,
        name_parts=tuple(_unquote(p) for p in re.findall(_NAME, match["name"])),
        privileges=tuple("_".join(p.split()).upper() for p in match["privileges"].split(",")),
        principals=tuple(_unquote(p.strip()) for p in re.findall(_NAME, match["principals"])),
    )
