"""Unity Catalog privileges: direct grants, effective (inherited) grants and the checks that enforce them.

Grants live in the emulator's one grants model (state/grants.py) under the securable key
``<type>:<full_name>`` (``table:main.default.t``). Privileges flow down: a grant on a catalog
covers its schemas and their tables and volumes. Workspace admins act as metastore admins (everything
is allowed); the owner of a securable holds every privilege on it and on everything inside it. A
grant to ``account users`` (or to a group the caller is in) counts for the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.state.grants import GRANT_KIND, Grants, Held
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.store import Store

__all__ = ["PRIVILEGES", "SECURABLE_TYPES", "Privileges", "ancestors", "display"]

SECURABLE_TYPES = ("CATALOG", "SCHEMA", "TABLE", "VOLUME")
# What may be granted on each securable type (a privilege of a lower level may be granted higher up,
# where it is inherited).
_ON_TABLE = ("SELECT", "MODIFY", "APPLY_TAG", "BROWSE", "MANAGE", "ALL_PRIVILEGES")
_ON_VOLUME = ("READ_VOLUME", "WRITE_VOLUME", "APPLY_TAG", "BROWSE", "MANAGE", "ALL_PRIVILEGES")
_ON_SCHEMA = (
    *_ON_TABLE,
    *_ON_VOLUME,
    "USE_SCHEMA",
    "CREATE_TABLE",
    "CREATE_VOLUME",
    "CREATE_FUNCTION",
    "CREATE_MODEL",
    "CREATE_MATERIALIZED_VIEW",
    "EXECUTE",
    "READ_METADATA",
)
PRIVILEGES: dict[str, frozenset[str]] = {
    "CATALOG": frozenset((*_ON_SCHEMA, "USE_CATALOG", "CREATE_SCHEMA")),
    "SCHEMA": frozenset(_ON_SCHEMA),
    "TABLE": frozenset(_ON_TABLE),
    "VOLUME": frozenset(_ON_VOLUME),
}
_ALL_USERS = "account users"
MAX_CHANGES = 1000


def ancestors(securable_type: str, full_name: str) -> list[tuple[str, str]]:
    """The securable itself, then its schema and catalog: ``[(TYPE, full_name), ...]``."""
    parts = full_name.split(".")
    chain = [(securable_type, full_name)]
    if securable_type in ("TABLE", "VOLUME"):
        chain.append(("SCHEMA", ".".join(parts[:2])))
    if securable_type != "CATALOG":
        chain.append(("CATALOG", parts[0]))
    return chain


def display(securable_type: str) -> str:
    return securable_type.capitalize()


def _key(securable_type: str, full_name: str) -> str:
    return f"{securable_type.lower()}:{full_name}"


class Privileges:
    """UC grants over the shared model; ``owner_of(type, full_name)`` tells who owns a securable."""

    def __init__(self, store: Store, owner_of: Callable[[str, str], str | None]) -> None:
        self._store = store
        self._grants = Grants(store)
        self._owner_of = owner_of

    def direct(self, securable_type: str, full_name: str) -> dict[str, list[str]]:
        return self._grants.on(_key(securable_type, full_name))

    def assignments(self, securable_type: str, full_name: str, principal: str | None) -> list[dict[str, Any]]:
        """``privilege_assignments`` of the direct grants, one entry per principal."""
        return [
            {"principal": who, "privileges": sorted(privs)}
            for who, privs in sorted(self.direct(securable_type, full_name).items())
            if privs and (principal is None or who == principal)
        ]

    def update(self, securable_type: str, full_name: str, changes: Any) -> None:
        """Apply ``changes[{principal, add, remove}]``; adding a held or removing a missing grant is a no-op.

        Every change is checked before any is applied, so a bad one changes nothing.
        """
        if not isinstance(changes, list) or len(changes) > MAX_CHANGES:
            raise invalid(f"changes must be a list of at most {MAX_CHANGES} changes.")
        allowed = PRIVILEGES[securable_type]
        checked: list[tuple[str, list[str], list[str]]] = []
        for change in changes:
            if not isinstance(change, Mapping) or not isinstance(change.get("principal"), str):
                raise invalid("Each change needs a principal.")
            principal = change["principal"].strip()
            if not principal or len(principal) > 255:
                raise invalid("A principal must be 1 to 255 characters.")
            add, remove = change.get("add") or [], change.get("remove") or []
            if not isinstance(add, list) or not isinstance(remove, list):
                raise invalid("add and remove are lists of privileges.")
            for privilege in [*add, *remove]:
                if not isinstance(privilege, str) or privilege.upper() not in allowed:
                    raise invalid(
                        f"Privilege {str(privilege)[:64]} is not applicable to this entity"
                        f" [{securable_type.lower()}:{full_name}].",
                    )
            checked.append((principal, [p.upper() for p in add], [p.upper() for p in remove]))
        key = _key(securable_type, full_name)
        with self._store.transaction():
            for principal, add, remove in checked:
                self._grants.update(key, principal, add=add, remove=remove)

    def effective(self, securable_type: str, full_name: str, principal: str | None) -> list[dict[str, Any]]:
        """``privilege_assignments`` with inherited grants, each marked with where it comes from."""
        merged: dict[str, list[dict[str, str]]] = {}
        for level, (kind, name) in enumerate(ancestors(securable_type, full_name)):
            for who, privs in self.direct(kind, name).items():
                if principal is not None and who != principal:
                    continue
                for privilege in privs:
                    entry = {"privilege": privilege}
                    if level:
                        entry.update(inherited_from_type=kind, inherited_from_name=name)
                    merged.setdefault(who, []).append(entry)
        return [{"principal": who, "privileges": privs} for who, privs in sorted(merged.items())]

    def forget(self, securable_type: str, full_name: str) -> None:
        """Drop the grants of a deleted securable and of everything inside it."""
        self._grants.drop(_key(securable_type, full_name))
        if securable_type in ("CATALOG", "SCHEMA"):
            for key, _ in self._store.items(GRANT_KIND):
                kind, _, name = key.partition(":")
                if kind.upper() in SECURABLE_TYPES and name.startswith(full_name + "."):
                    self._grants.drop(key)

    # -- enforcement ------------------------------------------------------------------------------

    def owns(self, principal: Principal, securable_type: str, full_name: str) -> bool:
        """Admin, or owner of the securable or of a securable that contains it."""
        if principal.is_admin:
            return True
        return any(
            self._owner_of(kind, name) == principal.user_name
            for kind, name in ancestors(securable_type, full_name)
        )

    def holds(self, principal: Principal, securable_type: str, full_name: str, privilege: str) -> bool:
        """Owner (or admin), or ``privilege`` / ALL_PRIVILEGES granted on it or a parent."""
        if self.owns(principal, securable_type, full_name):
            return True
        accepted = (privilege, "ALL_PRIVILEGES")
        return any(h.privilege in accepted for h in self._held(principal, securable_type, full_name))

    def holds_any(self, principal: Principal, securable_type: str, full_name: str) -> bool:
        """Owner (or admin), or any privilege granted on it or a parent."""
        return self.owns(principal, securable_type, full_name) or bool(
            self._held(principal, securable_type, full_name)
        )

    def _held(self, principal: Principal, securable_type: str, full_name: str) -> list[Held]:
        chain = [_key(kind, name) for kind, name in ancestors(securable_type, full_name)]
        held = self._grants.effective(chain, principal)
        everyone = Principal(_ALL_USERS, is_admin=False)  # grants to 'account users' count for all
        return held + [h for h in self._grants.effective(chain, everyone) if h.principal == _ALL_USERS]

    def require(self, principal: Principal, securable_type: str, full_name: str, privilege: str) -> None:
        if not self.holds(principal, securable_type, full_name, privilege):
            raise denied(privilege, securable_type, full_name)

    def require_use(self, principal: Principal, securable_type: str, full_name: str) -> None:
        """USE_CATALOG on the catalog and USE_SCHEMA on the schema that lead to the securable."""
        for kind, name in reversed(ancestors(securable_type, full_name)[1:]):
            self.require(principal, kind, name, "USE_CATALOG" if kind == "CATALOG" else "USE_SCHEMA")

    def require_owner(self, principal: Principal, securable_type: str, full_name: str) -> None:
        if not self.owns(principal, securable_type, full_name):
            raise ApiError(
                "PERMISSION_DENIED",
                f"User is not an owner of {display(securable_type)} '{full_name}'.",
            )


def denied(privilege: str, securable_type: str, full_name: str) -> ApiError:
    words = privilege.replace("_", " ")
    return ApiError(
        "PERMISSION_DENIED", f"User does not have {words} on {display(securable_type)} '{full_name}'."
    )
