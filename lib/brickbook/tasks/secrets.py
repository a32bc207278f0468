"""Secrets tasks: scopes, secrets (values never printed) and ACLs.

Mutations print what they did (``{"created": "etl"}``, ``{"deleted": "etl/db-password", ...}``), so
``-o json`` always gives one JSON value.
"""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
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

SCOPE_HELP = "Secret scope name: 1-128 letters, digits, '-', '_', '.' or '@'."
PRINCIPAL_HELP = "User, group or service principal."
# What a value may come from when there is no terminal to prompt on (also the closed-stdin message).
VALUE_SOURCES = "pipe it in (... | brickbook secrets.put SCOPE KEY) or pass --file PATH"


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
def create_scope(
    inv: Invocation, scope: str, *, initial_manage_principal: str | None = None
) -> dict[str, Any]:
    """Create a Databricks-backed secret scope."""
    from brickbook.api import secrets

    secrets.validate_scope(scope)
    if initial_manage_principal is not None and initial_manage_principal != "users":
        # Secrets API scopes/create accepts only "users" here; anything else would fail after the check.
        raise UsageError(f"--initial-manage-principal can only be 'users', not {initial_manage_principal!r}")
    secrets.create_scope(inv.client, scope, initial_manage_principal=initial_manage_principal)
    done: dict[str, Any] = {"created": scope}
    if initial_manage_principal:
        done["initial_manage_principal"] = initial_manage_principal
    return done


@command(help={"scope": SCOPE_HELP})
def delete_scope(inv: Invocation, scope: str) -> dict[str, Any]:
    """Delete a secret scope and every secret in it."""
    from brickbook.api import secrets

    secrets.delete_scope(inv.client, secrets.validate_scope(scope))
    return {"deleted": scope}


def _read_value(file: str | None, string_value: str | None) -> str | bytes:
    """Return the secret from --string-value, --file, piped stdin or a hidden prompt, in that order.

    Piped text loses one trailing newline (``echo pw | ...`` stores ``pw``) and goes as a string; piped
    bytes that are not UTF-8, and any file, go as bytes. An empty value is refused, and so is a closed
    stdin (``<&-``). A file or pipe is read only up to just past the 128 KB limit, so ``yes |`` or
    ``--file /dev/zero`` cannot exhaust memory.
    """
    from brickbook.api.secrets import MAX_VALUE_BYTES

    if file is not None and string_value is not None:
        raise UsageError("pass at most one of --file and --string-value")
    limit = MAX_VALUE_BYTES + 2  # room for the trailing newline a pipe loses
    value: str | bytes
    if string_value is not None:
        value, source = string_value, "--string-value"
    elif file is not None:
        try:
            with Path(file).open("rb") as stream:
                value, source = stream.read(limit), f"the file {file}"
        except OSError as error:
            raise UsageError(f"cannot read {file}: {error.strerror or error}") from None
    elif sys.stdin is None:
        raise UsageError(f"stdin is closed, so there is no secret value to read: {VALUE_SOURCES}")
    elif not sys.stdin.isatty():
        data = sys.stdin.buffer.read(limit)
        data = data.removesuffix(b"\r\n") if data.endswith(b"\r\n") else data.removesuffix(b"\n")
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError:
            value = data
        source = "stdin"
    else:
        try:
            value, source = getpass.getpass("Secret value (input hidden): "), "the prompt"
        except EOFError:  # Ctrl-D at the prompt
            raise UsageError(f"no secret value was typed; nothing was stored (or {VALUE_SOURCES})") from None
    if not value:
        raise UsageError(f"the secret value from {source} is empty; nothing was stored")
    return value


@command(
    help={
        "scope": SCOPE_HELP,
        "key": "Secret key: 1-128 letters, digits, '-', '_' or '.'.",
        "file": "Read the value (as bytes, stored unchanged) from this file.",
        "string_value": "The value itself. WARNING: it lands in your shell history and the process list; "
        "prefer stdin, --file or the hidden prompt.",
    }
)
def put(
    inv: Invocation, scope: str, key: str, *, file: str | None = None, string_value: str | None = None
) -> dict[str, Any]:
    """Create or overwrite a secret; the value comes from stdin, --file or a hidden prompt (never printed).

    Reads, in order: --string-value, --file, piped stdin (one trailing newline dropped), else a hidden
    prompt on the terminal. The value never appears in output, logs or errors.
    """
    from brickbook.api import secrets
    from brickbook.ops.secrets import put as put_secret
    from brickbook.redaction import register_secret

    register_secret(string_value)
    # Check the names first, so a typo fails before anyone types or pipes the value.
    secrets.validate_scope(scope)
    secrets.validate_key(key)
    return put_secret(inv.context, scope, key, _read_value(file, string_value))


def _secrets_table(rows: list[dict[str, Any]]) -> str:
    """Keys with their last update as a UTC time (the API gives epoch milliseconds)."""
    shown = [{"key": r.get("key"), "last_updated": _utc(r.get("last_updated_timestamp"))} for r in rows]
    return render_table(shown, ["key", "last_updated"])


def _utc(epoch_ms: object) -> str:
    if not isinstance(epoch_ms, int):
        return ""
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@command(help={"scope": SCOPE_HELP}, text=_secrets_table, name="list")
def list_(inv: Invocation, scope: str) -> list[Any]:
    """List the keys in a scope (never the values)."""
    from brickbook.api import secrets

    return [s.raw for s in secrets.list_secrets(inv.client, secrets.validate_scope(scope))]


@command(help={"scope": SCOPE_HELP, "key": "Secret key."})
def delete(inv: Invocation, scope: str, key: str) -> dict[str, Any]:
    """Delete a secret."""
    from brickbook.api import secrets

    secrets.delete_secret(inv.client, secrets.validate_scope(scope), secrets.validate_key(key))
    return {"deleted": f"{scope}/{key}", "scope": scope, "key": key}


@command(
    help={
        "scope": SCOPE_HELP,
        "principal": PRINCIPAL_HELP,
        "permission": "READ, WRITE or MANAGE.",
    }
)
def put_acl(inv: Invocation, scope: str, principal: str, permission: str) -> dict[str, Any]:
    """Grant a principal READ, WRITE or MANAGE on a scope."""
    from brickbook.api import secrets
    from brickbook.api.secrets import AclPermission

    secrets.validate_scope(scope)
    secrets.validate_principal(principal)
    if permission.upper() not in ("READ", "WRITE", "MANAGE"):
        raise UsageError(f"permission must be READ, WRITE or MANAGE, not {permission!r}")
    secrets.put_acl(inv.client, scope, principal, AclPermission(permission.upper()))
    return {"granted": scope, "principal": principal, "permission": permission.upper()}


@command(help={"scope": SCOPE_HELP}, text=lambda rows: render_table(rows, ["principal", "permission"]))
def list_acls(inv: Invocation, scope: str) -> list[Any]:
    """List who may read, write or manage a scope."""
    from brickbook.api import secrets

    return [a.raw for a in secrets.list_acls(inv.client, secrets.validate_scope(scope))]


@command(help={"scope": SCOPE_HELP, "principal": PRINCIPAL_HELP})
def delete_acl(inv: Invocation, scope: str, principal: str) -> dict[str, Any]:
    """Remove a principal's permission on a scope."""
    from brickbook.api import secrets

    secrets.delete_acl(inv.client, secrets.validate_scope(scope), secrets.validate_principal(principal))
    return {"revoked": scope, "principal": principal}
