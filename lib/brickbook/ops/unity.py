"""Unity Catalog: check names, securable types and privileges before any request; grant and revoke.

Checks (a ``UsageError``, exit 2, before the first request):

- a name has as many levels as its securable needs (``catalog``, ``catalog.schema``,
  ``catalog.schema.table``) and every part is 1-255 characters without a period, a space, a ``/`` or a
  control character (Unity Catalog's own rule for object names);
- a securable type and a privilege are words of letters and underscores; ``use catalog`` is read as
  ``USE_CATALOG`` (SQL writes privileges with spaces, the REST API with underscores). The API grows, so a
  privilege or type brickbook does not know is sent as it is, unless it is one or two edits away from a
  known one (one for words of four letters or fewer): that is a typo, refused with the known spelling.

``plan_grants`` / ``apply_grants`` change one principal's direct grants on one securable: the plan reads
the current grants (``GET permissions/{type}/{name}?principal=``) and is ``unchanged`` when they already
hold, so a second grant sends no PATCH.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from brickbook.api import unity
from brickbook.change import Action, Change
from brickbook.errors import UsageError
from brickbook.options import shown

if TYPE_CHECKING:
    from brickbook.context import Context

__all__ = [
    "LEVELS",
    "PRIVILEGES",
    "GrantChange",
    "apply_grants",
    "check_name",
    "check_principal",
    "check_privileges",
    "check_securable",
    "plan_grants",
    "split_name",
]

# How many dot-separated levels the full name of each securable type has.
LEVELS = {
    "catalog": 1,
    "schema": 2,
    "table": 3,
    "volume": 3,
    "function": 3,
    "model": 3,
    "registered_model": 3,
}
KNOWN_TYPES = (
    *LEVELS,
    "metastore",
    "external_location",
    "storage_credential",
    "connection",
    "share",
    "provider",
    "recipient",
    "credential",
    "pipeline",
)
# The REST privilege enum (Databricks "Unity Catalog privileges" reference); others are sent unchecked.
PRIVILEGES = frozenset(
    [
        "CREATE_CLEAN_ROOM",
        "CREATE_FEATURE",
        "CREATE_FOREIGN_SECURABLE",
        "CREATE_SERVICE_CREDENTIAL",
        "EXECUTE_CLEAN_ROOM_TASK",
        "MANAGE_ALLOWLIST",
        "MODIFY_CLEAN_ROOM",
        "READ_FEATURE",
        "READ_PRIVATE_FILES",
        "SET_SHARE_PERMISSION",
        "USE_MARKETPLACE_ASSETS",
        "WRITE_PRIVATE_FILES",
        "ACCESS",
        "ALL_PRIVILEGES",
        "APPLY_TAG",
        "BROWSE",
        "CREATE",
        "CREATE_CATALOG",
        "CREATE_CONNECTION",
        "CREATE_EXTERNAL_LOCATION",
        "CREATE_EXTERNAL_TABLE",
        "CREATE_EXTERNAL_VOLUME",
        "CREATE_FOREIGN_CATALOG",
        "CREATE_FUNCTION",
        "CREATE_MANAGED_STORAGE",
        "CREATE_MATERIALIZED_VIEW",
        "CREATE_MODEL",
        "CREATE_PROVIDER",
        "CREATE_RECIPIENT",
        "CREATE_SCHEMA",
        "CREATE_SHARE",
        "CREATE_STORAGE_CREDENTIAL",
        "CREATE_TABLE",
        "CREATE_VIEW",
        "CREATE_VOLUME",
        "EXECUTE",
        "EXTERNAL_USE_LOCATION",
        "EXTERNAL_USE_SCHEMA",
        "MANAGE",
        "MODIFY",
        "READ_FILES",
        "READ_METADATA",
        "READ_VOLUME",
        "REFRESH",
        "SELECT",
        "USAGE",
        "USE_CATALOG",
        "USE_CONNECTION",
        "USE_PROVIDER",
        "USE_RECIPIENT",
        "USE_SCHEMA",
        "USE_SHARE",
        "WRITE_FILES",
        "WRITE_VOLUME",
    ]
)
MAX_PART = 255
MAX_PRINCIPAL = 255
MAX_PRIVILEGES = 64
_WORD = re.compile(r"[A-Za-z][A-Za-z_]{0,63}")


def _edits(a: str, b: str) -> int:
    """Return the Levenshtein distance between two short words (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


def _near(value: str, known: Sequence[str] | frozenset[str]) -> str | None:
    """Return the known word ``value`` is a typo of (two edits away at most, one for short words)."""
    if value in known:
        return None
    limit = 1 if len(value) <= 4 else 2
    close = sorted((_edits(value, word), word) for word in known if abs(len(word) - len(value)) <= limit)
    return close[0][1] if close and close[0][0] <= limit else None


def check_securable(value: str) -> str:
    """Return a securable type in the path's lower case (``TABLE`` -> ``table``), or raise UsageError."""
    word = value.strip().lower().replace(" ", "_")
    if not _WORD.fullmatch(word):
        raise UsageError(
            f"TYPE must be a securable type such as catalog, schema, table or volume, not {shown(value)}"
        )
    if typo := _near(word, KNOWN_TYPES):
        raise UsageError(f"TYPE {shown(value)} is not a securable type: did you mean {typo}?")
    return word


def split_name(value: str, levels: int | None, what: str = "NAME") -> tuple[str, ...]:
    """Split a full name into its parts, checking each; ``levels`` (when known) is how many it needs."""
    parts = tuple(value.split("."))
    if levels is not None and len(parts) != levels:
        form = ".".join(("CATALOG", "SCHEMA", "NAME")[:levels]) if levels <= 3 else "NAME"
        raise UsageError(f"{what} must look like {form}, not {shown(value)}")
    for part in parts:
        if (
            not part
            or len(part) > MAX_PART
            or not part.isprintable()
            or any(c.isspace() or c == "/" for c in part)
        ):
            raise UsageError(
                f"{what} {shown(value)} is not a valid name: each part is 1-{MAX_PART} characters "
                "without spaces, periods, slashes or control characters"
            )
    return parts


def check_name(securable_type: str, value: str) -> str:
    """Check a securable's full name against its type's levels; return it unchanged."""
    split_name(value, LEVELS.get(securable_type), what="NAME")
    return value


def check_principal(value: str) -> str:
    """Check a principal (a user name, a group name, a service principal's application id)."""
    if not value.strip() or len(value) > MAX_PRINCIPAL or not value.isprintable():
        raise UsageError(f"PRINCIPAL must be a user, group or service principal name, not {shown(value)}")
    return value


def check_privileges(values: Sequence[str]) -> list[str]:
    """Return privileges in the API's spelling (``use catalog`` -> ``USE_CATALOG``), each once; or raise."""
    if not values:
        raise UsageError("give at least one PRIVILEGE, e.g. SELECT or USE_CATALOG")
    if len(values) > MAX_PRIVILEGES:
        raise UsageError(f"at most {MAX_PRIVILEGES} privileges at once, not {len(values)}")
    found: list[str] = []
    for value in values:
        word = "_".join(value.strip().upper().replace("-", " ").split())
        if not _WORD.fullmatch(word):
            raise UsageError(
                f"PRIVILEGE must be a privilege such as SELECT or USE_CATALOG, not {shown(value)}"
            )
        if typo := _near(word, PRIVILEGES):
            raise UsageError(f"PRIVILEGE {shown(value)} is not a privilege: did you mean {typo}?")
        if word not in found:
            found.append(word)
    return found


@dataclass(frozen=True)
class GrantChange:
    """What ``apply_grants`` sends: one principal's additions and removals on one securable."""

    securable_type: str
    full_name: str
    principal: str
    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


def _direct(ctx: Context, securable_type: str, full_name: str, principal: str) -> set[str]:
    held: set[str] = set()
    for assignment in unity.get_permissions(ctx.client, securable_type, full_name, principal=principal):
        if assignment.get("principal") == principal:
            held.update(str(p) for p in assignment.get("privileges") or [])
    return held


def plan_grants(
    ctx: Context,
    securable_type: str,
    full_name: str,
    principal: str,
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
) -> Change:
    """Plan granting ``add`` and revoking ``remove`` for a principal; unchanged when that already holds."""
    held = _direct(ctx, securable_type, full_name, principal)
    adding = tuple(p for p in add if p not in held)
    removing = tuple(p for p in remove if p in held)
    target = f"{securable_type} {full_name} for {principal}"
    payload = GrantChange(securable_type, full_name, principal, adding, removing)
    if not adding and not removing:
        reason = "already granted" if add else "not granted"
        return Change(Action.UNCHANGED, target, reason=reason, payload=payload)
    words = [f"grant {', '.join(adding)}"] if adding else []
    words += [f"revoke {', '.join(removing)}"] if removing else []
    return Change(Action.UPDATE, target, adding + removing, "; ".join(words), payload=payload)


def apply_grants(ctx: Context, change: Change) -> list[dict[str, Any]]:
    """Send the plan's additions and removals (``PATCH permissions/...``); return the grants after."""
    grant = change.payload
    if not isinstance(grant, GrantChange):
        raise TypeError(f"not a grants plan: {change.describe()}")
    if not change.changed:
        return unity.get_permissions(ctx.client, grant.securable_type, grant.full_name)
    after = unity.update_permissions(
        ctx.client,
        grant.securable_type,
        grant.full_name,
        principal=grant.principal,
        add=grant.add,
        remove=grant.remove,
    )
    ctx.log.info("grants.updated", target=change.target, added=list(grant.add), removed=list(grant.remove))
    return after
