"""Secrets tasks: scopes, secrets (values never printed) and ACLs."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

from brickbook.command import Invocation, command
from brickbook.errors import UsageError
from brickbook.output import render_table

__all__ = [
    "create_scope",
    "delete",
    "delete_acl",
    "delete_scope",
    "list_",
    "list_acls",
    "list_scopes",
    "put",
    "put_acl",
]

SCOPE_HELP = "Secret scope name."


@command(text=lambda rows: render_table(rows, ["name", "backend_type"]))
def list_scopes(inv: Invocation) -> list[Any]:
    """List secret scopes."""
    from brickbook.api import secrets

    return [s.raw for s in secrets.list_scopes(inv.client)]


@command(
    help={
        "scope": SCOPE_HELP,
        "initial_manage_principal": "Set to 'users' to let all users manage it (needed on standard tier).",
    }
)
def create_scope(inv: Invocation, scope: str, *, initial_manage_principal: str | None = None) -> None:
    """Create a Databricks-backed secret scope."""
    from brickbook.api import secrets

    secrets.create_scope(inv.client, scope, initial_manage_principal=initial_manage_principal)


@command(help={"scope": SCOPE_HELP})
def delete_scope(inv: Invocation, scope: str) -> None:
    """Delete a secret scope and every secret in it."""
    from brickbook.api import secrets

    secrets.delete_scope(inv.client, secrets.validate_scope(scope))


def _read_value(file: str | None, string_value: str | None) -> str | bytes:
    """Return the secret from --string-value, --file, piped stdin or a hidden prompt."""
    if file is not None and string_value is not None:
        raise UsageError("pass at most one of --file and --string-value")
    if string_value is not None:
        return string_value
    if file is not None:
        try:
            return Path(file).read_bytes()
        except OSError as error:
            raise UsageError(f"cannot read {file}: {error.strerror}") from None
    if not sys.stdin.isatty():
        data = sys.stdin.buffer.read()
        # `echo value | brickbook secrets.put` must store "value", not "value\n".
        data = data.removesuffix(b"\n")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data
    value = getpass.getpass("Secret value (input hidden): ")
    if not value:
        raise UsageError("no secret value given")
    return value


@command(
    help={
        "scope": SCOPE_HELP,
        "key": "Secret key.",
        "file": "Read the value (as bytes) from this file.",
        "string_value": "The value itself. WARNING: it lands in your shell history; prefer stdin or --file.",
    }
)
def put(
    inv: Invocation, scope: str, key: str, *, file: str | None = None, string_value: str | None = None
) -> dict[str, Any]:
    """Create or overwrite a secret; the value comes from stdin, a file or a hidden prompt."""
    from brickbook.api import secrets
    from brickbook.redaction import register_secret

    if string_value:
        register_secret(string_value)
    value = _read_value(file, string_value)
    secrets.put_secret(inv.client, secrets.validate_scope(scope), key, value)
    return {"scope": scope, "key": key, "bytes": len(value.encode() if isinstance(value, str) else value)}


@command(
    help={"scope": SCOPE_HELP},
    text=lambda rows: render_table(rows, ["key", "last_updated_timestamp"]),
    name="list",
)
def list_(inv: Invocation, scope: str) -> list[Any]:
    """List the keys in a scope (never the values)."""
    from brickbook.api import secrets

    return [s.raw for s in secrets.list_secrets(inv.client, secrets.validate_scope(scope))]


@command(help={"scope": SCOPE_HELP, "key": "Secret key."})
def delete(inv: Invocation, scope: str, key: str) -> None:
    """Delete a secret."""
    from brickbook.api import secrets

    secrets.delete_secret(inv.client, secrets.validate_scope(scope), secrets.validate_key(key))


@command(
    help={
        "scope": SCOPE_HELP,
        "principal": "User, group or service principal.",
        "permission": "READ, WRITE or MANAGE.",
    }
)
def put_acl(inv: Invocation, scope: str, principal: str, permission: str) -> None:
    """Grant a principal READ, WRITE or MANAGE on a scope."""
    from brickbook.api import secrets
    from brickbook.api.secrets import AclPermission

    if permission.upper() not in ("READ", "WRITE", "MANAGE"):
        raise UsageError(f"permission must be READ, WRITE or MANAGE, not {permission!r}")
    secrets.put_acl(inv.client, secrets.validate_scope(scope), principal, AclPermission(permission.upper()))


@command(help={"scope": SCOPE_HELP}, text=lambda rows: render_table(rows, ["principal", "permission"]))
def list_acls(inv: Invocation, scope: str) -> list[Any]:
    """List who may read, write or manage a scope."""
    from brickbook.api import secrets

    return [a.raw for a in secrets.list_acls(inv.client, secrets.validate_scope(scope))]


@command(help={"scope": SCOPE_HELP, "principal": "User, group or service principal."})
def delete_acl(inv: Invocation, scope: str, principal: str) -> None:
    """Remove a principal's permission on a scope."""
    from brickbook.api import secrets

    secrets.delete_acl(inv.client, secrets.validate_scope(scope), principal)
