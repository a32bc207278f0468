"""Grants: which principal holds which privileges on which securable. One model for every area.

- Principals are user names and group names. A ``Principal`` (state/identity.py, its groups taken from
  the SCIM groups of state/scim.py) acts as its user name and each of its groups: ``memberships(principal)``.
- A securable is a string key chosen by the area that owns it (``"secret_scope:etl"``,
  ``"catalog:main"``, ``"schema:main.default"``...). ``Grants`` keeps a set of privileges per
  (securable, principal) in the store (kind ``grant``, key the securable, value
  ``{"privileges": {principal: [privilege, ...]}}``, principals in the order first granted).
- ACL-style permissions (one level per principal, weakest first, a stronger level allowing what a
  weaker one does: secret scope READ < WRITE < MANAGE, CAN_VIEW < ... < IS_OWNER) use ``Levels``.
- Privileges are inherited down a parent chain (Unity Catalog: catalog -> schema -> table/volume):
  ``effective(chain, principal)`` answers each privilege held on the first securable of the chain,
  with where it was granted. Which privileges inherit is the caller's rule: pass only the ancestors
  whose grants flow down.

Pure rules over the store; no HTTP. Admins are not special here: each area decides what an admin may.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.store import Store

__all__ = ["ADMINS", "GRANT_KIND", "USERS", "Grants", "Held", "Levels", "memberships"]

GRANT_KIND = "grant"
USERS = "users"  # the group every non-admin principal is in
ADMINS = "admins"  # the workspace admins' group


def memberships(principal: Principal) -> tuple[str, ...]:
    """The names ``principal`` holds grants through: its user name, then its groups."""
    return (principal.user_name, *principal.groups)


@dataclass(frozen=True)
class Levels:
    """Ordered ACL levels, weakest first: holding a level allows everything a weaker one does."""

    names: tuple[str, ...]

    def __contains__(self, level: object) -> bool:
        return level in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def rank(self, level: str | None) -> int:
        """The position of ``level``; -1 for none or a level of another kind."""
        return self.names.index(level) if level in self.names else -1

    def at_least(self, level: str) -> tuple[str, ...]:
        """The levels that allow what ``level`` allows (``level`` and every stronger one)."""
        rank = self.rank(level)
        assert rank >= 0, f"{level} is not one of {self.names}"
        return self.names[rank:]

    def strongest(self, levels: Iterable[str | None]) -> int:
        """The rank of the strongest of ``levels`` (-1 when none is a level of this kind)."""
        return max((self.rank(level) for level in levels), default=-1)


@dataclass(frozen=True)
class Held:
    """One privilege a principal holds on a securable, and where it comes from."""

    privilege: str
    securable: str  # where it was granted (the securable itself or an ancestor)
    principal: str  # to whom: the user name or one of its groups


class Grants:
    """Privileges per (securable, principal), kept in the store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def on(self, securable: str) -> dict[str, list[str]]:
        """Every grant on ``securable``: principal -> privileges (in the order granted)."""
        record = self._store.get(GRANT_KIND, securable)
        return {} if record is None else {k: list(v) for k, v in record["privileges"].items()}

    def of(self, securable: str, principal: str) -> list[str]:
        """The privileges granted to ``principal`` itself on ``securable`` (groups not included)."""
        return self.on(securable).get(principal, [])

    def update(
        self, securable: str, principal: str, *, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> list[str]:
        """Add then remove privileges of one principal; a principal left with none is dropped.

        Returns the principal's privileges afterwards.
        """
        with self._store.transaction():
            grants = self.on(securable)
            held = grants.get(principal, [])
            held += [p for p in dict.fromkeys(add) if p not in held]
            gone = set(remove)
            held = [p for p in held if p not in gone]
            if held:
                grants[principal] = held
            else:
                grants.pop(principal, None)
            self._save(securable, grants)
        return held

    def replace(self, securable: str, principal: str, privileges: Iterable[str]) -> None:
        """Set exactly these privileges for ``principal`` (an ACL put); none removes the principal."""
        with self._store.transaction():
            grants = self.on(securable)
            wanted = list(dict.fromkeys(privileges))
            if wanted:
                grants[principal] = wanted
            else:
                grants.pop(principal, None)
            self._save(securable, grants)

    def drop(self, securable: str) -> None:
        """Forget every grant on ``securable`` (it was deleted)."""
        self._store.delete(GRANT_KIND, securable)

    def effective(self, chain: Sequence[str], principal: Principal) -> list[Held]:
        """What ``principal`` holds on ``chain[0]``, directly or through its groups and ancestors.

        ``chain`` is the securable first, then the ancestors its grants inherit from, nearest first.
        """
        who = memberships(principal)
        found: list[Held] = []
        for securable in chain:
            grants = self.on(securable)
            found += [Held(p, securable, name) for name in who for p in grants.get(name, [])]
        return found

    def holds(
        self, chain: Sequence[str], principal: Principal, privilege: str, *, also: Iterable[str] = ()
    ) -> bool:
        """Whether ``principal`` holds ``privilege`` (or one of ``also``) on ``chain[0]``."""
        accepted = {privilege, *also}
        return any(held.privilege in accepted for held in self.effective(chain, principal))

    def level(self, securable: str, principal: Principal, levels: Levels) -> int:
        """The rank of the strongest ACL level ``principal`` holds on ``securable`` (-1: none)."""
        grants = self.on(securable)
        return levels.strongest(p for name in memberships(principal) for p in grants.get(name, []))

    def levels_on(self, securable: str) -> dict[str, str]:
        """An ACL view of ``securable``: principal -> its one level (the first privilege granted)."""
        return {who: privileges[0] for who, privileges in self.on(securable).items() if privileges}

    def _save(self, securable: str, grants: Mapping[str, list[str]]) -> None:
        if grants:
            self._store.put(GRANT_KIND, securable, {"privileges": dict(grants)})
        else:
            self._store.delete(GRANT_KIND, securable)
