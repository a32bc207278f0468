"""Principals and their credentials: configured tokens, OAuth M2M access tokens, created PATs.

Each token maps to one principal: the admin (group ``admins``), each configured user and each OAuth
client (a service principal, group ``users``). Issued OAuth tokens and created PATs live in the
store keyed by the SHA-256 of the token, so a data directory never holds a usable credential.

Notebook context tokens are what a run's notebook code calls the API with: they act as an existing
principal (same admin flag and groups) with ``in_notebook=True``, which DBUtils-only endpoints
(``secrets/get``) require. The jobs engine issues one per run and revokes them when the run ends.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from brickbook.emulator.errors import ApiError
from brickbook.emulator.settings import EmulatorSettings
from brickbook.emulator.state.store import Store

__all__ = ["CREDENTIAL_KINDS", "Identity", "IssuedToken", "Principal", "stable_id"]

OAUTH_TOKEN_KIND = "oauth_token"
PAT_KIND = "pat"
CONTEXT_TOKEN_KIND = "context_token"
# Kinds that a control-API reset keeps: OAuth tokens already handed out stay valid (revoke ends them).
CREDENTIAL_KINDS = (OAUTH_TOKEN_KIND,)


def stable_id(name: str) -> str:
    """A numeric id derived from a name, the same across restarts (SCIM ids are numeric strings)."""
    return str(int(hashlib.sha256(name.encode()).hexdigest()[:13], 16))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who a request acts as."""

    user_name: str
    is_admin: bool
    service_principal: bool = False
    # True for notebook context tokens: the caller is code running inside a notebook on a cluster.
    in_notebook: bool = False
    # Workspace groups (SCIM) the principal is in besides the built-in ``admins`` / ``users``.
    member_of: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return stable_id(self.user_name)

    @property
    def display_name(self) -> str:
        return self.user_name if self.service_principal else self.user_name.split("@")[0]

    @property
    def groups(self) -> tuple[str, ...]:
        return ("admins" if self.is_admin else "users", *self.member_of)


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


class Identity:
    """Authenticate tokens and issue or revoke the ones the emulator hands out."""

    def __init__(self, settings: EmulatorSettings, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        self._ttl = settings.token_ttl_seconds
        self._clients = dict(settings.oauth_clients)
        self._by_digest = {_digest(settings.admin_token): Principal(settings.admin_user, is_admin=True)}
        for name, token in settings.users.items():
            self._by_digest[_digest(token)] = Principal(name, is_admin=False)
        self._groups_of: Callable[[str], tuple[str, ...]] | None = None

    def use_groups(self, groups_of: Callable[[str], tuple[str, ...]]) -> None:
        """Take group membership from ``groups_of`` (the SCIM groups): user name -> group names.

        A principal in the ``admins`` group is a workspace admin; other groups join ``member_of``.
        """
        self._groups_of = groups_of

    def _with_groups(self, principal: Principal | None) -> Principal | None:
        if principal is None or self._groups_of is None:
            return principal
        groups = self._groups_of(principal.user_name)
        extra = tuple(g for g in groups if g not in ("admins", "users"))
        is_admin = principal.is_admin or "admins" in groups
        if not extra and is_admin == principal.is_admin:
            return principal
        return replace(principal, is_admin=is_admin, member_of=extra)

    def authenticate(self, token: str) -> Principal | None:
        """The principal behind a bearer token, or None if it is unknown, expired or revoked."""
        return self._with_groups(self._authenticate(token))

    def _authenticate(self, token: str) -> Principal | None:
        digest = _digest(token)
        if digest in self._by_digest:
            return self._by_digest[digest]
        now = self._clock()
        issued = self._store.get(OAUTH_TOKEN_KIND, digest)
        if issued is not None and now < issued["expires_at"]:
            return Principal(issued["client_id"], is_admin=False, service_principal=True)
        pat = self._store.get(PAT_KIND, digest)
        if pat is not None and (pat["expiry_time"] < 0 or now * 1000 < pat["expiry_time"]):
            return self._principal_named(pat["owner"])
        context = self._store.get(CONTEXT_TOKEN_KIND, digest)
        if context is not None:
            principal = self._principal_named(context["user_name"])
            return None if principal is None else replace(principal, in_notebook=True)
        return None

    def principal(self, user_name: str) -> Principal:
        """The principal named ``user_name``; a name no token stands for is a plain user (no admin)."""
        found = self._with_groups(self._principal_named(user_name) or Principal(user_name, is_admin=False))
        assert found is not None
        return found

    def _principal_named(self, user_name: str) -> Principal | None:
        if user_name in self._clients:
            return Principal(user_name, is_admin=False, service_principal=True)
        return next((p for p in self._by_digest.values() if p.user_name == user_name), None)

    def issue_oauth_token(self, client_id: str, client_secret: str) -> IssuedToken | None:
        """Client credentials grant: a fresh access token, or None when the client is not recognised."""
        expected = self._clients.get(client_id)
        if expected is None or not hmac.compare_digest(expected.encode(), client_secret.encode()):
            return None
        token = secrets.token_urlsafe(32)
        record = {"client_id": client_id, "expires_at": self._clock() + self._ttl}
        self._store.put(OAUTH_TOKEN_KIND, _digest(token), record)
        return IssuedToken(access_token=token, expires_in=self._ttl)

    def revoke_oauth_tokens(self) -> int:
        """Invalidate every issued OAuth token; return how many there were."""
        with self._store.transaction():
            keys = [key for key, _ in self._store.items(OAUTH_TOKEN_KIND)]
            for key in keys:
                self._store.delete(OAUTH_TOKEN_KIND, key)
        return len(keys)

    def issue_context_token(self, user_name: str, *, run_id: int | None = None) -> str:
        """Mint a notebook context token acting as ``user_name``; ``run_id`` groups it for revocation.

        Raises ValueError when no such principal is configured (the admin, a ``--user``, an OAuth client).
        The token lives in the store by digest until ``revoke_context_tokens(run_id)`` or a reset.
        """
        if self._principal_named(user_name) is None:
            raise ValueError(f"no principal named {user_name!r} to issue a notebook context token for")
        token = secrets.token_urlsafe(32)
        self._store.put(CONTEXT_TOKEN_KIND, _digest(token), {"user_name": user_name, "run_id": run_id})
        return token

    def revoke_context_tokens(self, run_id: int) -> None:
        """Invalidate every notebook context token issued for ``run_id``."""
        with self._store.transaction():
            for key, record in self._store.items(CONTEXT_TOKEN_KIND):
                if record.get("run_id") == run_id:
                    self._store.delete(CONTEXT_TOKEN_KIND, key)

    def create_pat(
        self, owner: Principal, *, lifetime_seconds: int | None, comment: str | None
    ) -> tuple[str, dict[str, Any]]:
        """Create a personal access token for ``owner``; return its value (shown once) and its info."""
        now_ms = int(self._clock() * 1000)
        info: dict[str, Any] = {
            "token_id": secrets.token_hex(32),
            "creation_time": now_ms,
            "expiry_time": now_ms + lifetime_seconds * 1000
            if lifetime_seconds and lifetime_seconds > 0
            else -1,
        }
        if comment is not None:
            info["comment"] = comment
        value = "dapi" + secrets.token_hex(16)
        self._store.put(PAT_KIND, _digest(value), {**info, "owner": owner.user_name})
        return value, info

    def list_pats(self, owner: Principal) -> list[dict[str, Any]]:
        """The caller's own tokens, oldest first, without their values."""
        return [
            {k: v for k, v in record.items() if k != "owner"}
            for _, record in self._store.items(PAT_KIND)
            if record["owner"] == owner.user_name
        ]

    def delete_pat(self, owner: Principal, token_id: str) -> None:
        """Revoke one of the caller's tokens."""
        with self._store.transaction():
            for key, record in self._store.items(PAT_KIND):
                if record["token_id"] == token_id and record["owner"] == owner.user_name:
                    self._store.delete(PAT_KIND, key)
                    return
        raise ApiError("RESOURCE_DOES_NOT_EXIST", f"Token with ID {token_id} does not exist.")
