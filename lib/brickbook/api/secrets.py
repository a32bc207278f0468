"""Secrets API 2.0 primitives (``/api/2.0/secrets/*``): one function per endpoint.

From the Secrets API reference: values are at most 128 KB; ``list`` returns metadata only (the key and
``last_updated_timestamp``, never a value); ``acls/list`` answers ``items``; scope names are letters,
digits, ``-_.@``, at most 128 characters. Secret values are registered with the redactor before they are
sent, so no log line, error or output can show them.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from brickbook.api.model import ApiObject, OpenEnum
from brickbook.client import Client
from brickbook.errors import UsageError
from brickbook.redaction import register_secret

__all__ = [
    "MAX_VALUE_BYTES",
    "AclItem",
    "AclPermission",
    "SecretMetadata",
    "SecretScope",
    "create_scope",
    "delete_acl",
    "delete_scope",
    "delete_secret",
    "get_acl",
    "list_acls",
    "list_scopes",
    "list_secrets",
    "put_acl",
    "put_secret",
    "register_value",
    "validate_key",
    "validate_principal",
    "validate_scope",
]

BASE = "/api/2.0/secrets"
MAX_VALUE_BYTES = 128 * 1024
# Matched with fullmatch: '$' would also accept a trailing newline ("etl\n").
_SCOPE = re.compile(r"[A-Za-z0-9_.@-]{1,128}")
_KEY = re.compile(r"[A-Za-z0-9_.-]{1,128}")
MAX_PRINCIPAL_LENGTH = 256  # user names are e-mail addresses (at most 254 characters)


class AclPermission(OpenEnum):
    READ = "READ"
    WRITE = "WRITE"
    MANAGE = "MANAGE"


@dataclass(frozen=True)
class SecretScope(ApiObject):
    """A secret scope."""

    name: str = ""
    backend_type: str | None = None


@dataclass(frozen=True)
class SecretMetadata(ApiObject):
    """A secret's key and last update time (never its value)."""

    key: str = ""
    last_updated_timestamp: int | None = None


@dataclass(frozen=True)
class AclItem(ApiObject):
    """A principal's permission on a scope."""

    principal: str = ""
    permission: AclPermission | None = None


def validate_scope(scope: str) -> str:
    """Return the scope name, or raise UsageError if the API would refuse it."""
    if not _SCOPE.fullmatch(scope):
        raise UsageError(f"invalid scope name {scope!r}: use 1-128 letters, digits, '-', '_', '.' or '@'")
    return scope


def validate_key(key: str) -> str:
    """Return the secret key, or raise UsageError if the API would refuse it."""
    if not _KEY.fullmatch(key):
        raise UsageError(f"invalid secret key {key!r}: use 1-128 letters, digits, '-', '_' or '.'")
    return key


def validate_principal(principal: str) -> str:
    """Return the principal, or raise UsageError for an empty one or one holding control characters."""
    if not principal.strip() or not principal.isprintable() or len(principal) > MAX_PRINCIPAL_LENGTH:
        raise UsageError(
            f"invalid principal {principal[:MAX_PRINCIPAL_LENGTH]!r}: give a user name, group name or "
            "service principal application id"
        )
    return principal


def create_scope(client: Client, scope: str, *, initial_manage_principal: str | None = None) -> None:
    """Create a Databricks-backed scope: ``POST /api/2.0/secrets/scopes/create``."""
    body: dict[str, Any] = {"scope": validate_scope(scope)}
    if initial_manage_principal:
        body["initial_manage_principal"] = initial_manage_principal
    client.post(f"{BASE}/scopes/create", body)


def delete_scope(client: Client, scope: str) -> None:
    """Delete a scope and its secrets: ``POST /api/2.0/secrets/scopes/delete``."""
    client.post(f"{BASE}/scopes/delete", {"scope": scope})


def list_scopes(client: Client) -> list[SecretScope]:
    """List scopes: ``GET /api/2.0/secrets/scopes/list``."""
    return [SecretScope.from_api(s) for s in client.get(f"{BASE}/scopes/list").get("scopes") or []]


def put_secret(client: Client, scope: str, key: str, value: str | bytes) -> None:
    """Create or overwrite a secret: ``POST /api/2.0/secrets/put`` (``str`` as string_value, else bytes).

    The value is registered with the redactor before anything can fail, and it is checked against the
    128 KB limit before the request, so an oversized value never leaves the machine.
    """
    register_value(value)
    raw = value.encode() if isinstance(value, str) else value
    if len(raw) > MAX_VALUE_BYTES:
        raise UsageError(f"the secret value is {len(raw)} bytes, over the 128 KB ({MAX_VALUE_BYTES}) limit")
    body: dict[str, Any] = {"scope": validate_scope(scope), "key": validate_key(key)}
    if isinstance(value, str):
        body["string_value"] = value
    else:
        body["bytes_value"] = base64.b64encode(value).decode("ascii")
    client.post(f"{BASE}/put", body)


def register_value(value: str | bytes) -> None:
    """Mask the value in every form it could be printed in: as text, and as the base64 sent on the wire."""
    if isinstance(value, str):
        register_secret(value)
        return
    register_secret(base64.b64encode(value).decode("ascii"))
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return
    register_secret(text)
    # A file's value usually ends with a newline the value is quoted without.
    register_secret(text.rstrip("\r\n"))


def delete_secret(client: Client, scope: str, key: str) -> None:
    """Delete a secret: ``POST /api/2.0/secrets/delete``."""
    client.post(f"{BASE}/delete", {"scope": scope, "key": key})


def list_secrets(client: Client, scope: str) -> list[SecretMetadata]:
    """List a scope's secret keys (metadata only): ``GET /api/2.0/secrets/list``."""
    return [
        SecretMetadata.from_api(s) for s in client.get(f"{BASE}/list", {"scope": scope}).get("secrets") or []
    ]


def put_acl(client: Client, scope: str, principal: str, permission: AclPermission) -> None:
    """Grant a principal READ, WRITE or MANAGE on a scope: ``POST /api/2.0/secrets/acls/put``."""
    client.post(f"{BASE}/acls/put", {"scope": scope, "principal": principal, "permission": str(permission)})


def get_acl(client: Client, scope: str, principal: str) -> AclItem:
    """Show one principal's permission: ``GET /api/2.0/secrets/acls/get``."""
    return AclItem.from_api(client.get(f"{BASE}/acls/get", {"scope": scope, "principal": principal}))


def list_acls(client: Client, scope: str) -> list[AclItem]:
    """List a scope's ACLs: ``GET /api/2.0/secrets/acls/list`` (the key is ``items``)."""
    return [AclItem.from_api(a) for a in client.get(f"{BASE}/acls/list", {"scope": scope}).get("items") or []]


def delete_acl(client: Client, scope: str, principal: str) -> None:
    """Remove a principal's permission: ``POST /api/2.0/secrets/acls/delete``."""
    client.post(f"{BASE}/acls/delete", {"scope": scope, "principal": principal})
