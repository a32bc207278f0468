"""Secrets operations: a scope that exists, a secret that holds a value, and ``put`` for the task.

The Secrets API never returns a value (``list`` gives each key's ``last_updated_timestamp`` only), so
whether a secret already holds the wanted value can only be known from what the caller recorded when
it last wrote it. ``apply_secret`` returns that record, an opaque string for the caller to store (a
runbook keeps it in its state directory) and pass back to ``plan_secret`` as ``deployed_digest``. The
secret is ``unchanged`` when it still has the timestamp recorded (nobody wrote it since) and the
record matches the value. The record holds the timestamp and a salted PBKDF2-SHA256 digest of the value,
not a bare hash: a record on disk must not let anyone test guesses of a short password quickly.

A value is never in a change's target, fields or reason, only in its payload, which nothing shows.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass

from brickbook.api import secrets
from brickbook.api.secrets import MAX_VALUE_BYTES, SecretMetadata
from brickbook.change import Action, Change
from brickbook.context import Context
from brickbook.errors import ResourceAlreadyExists, ResourceDoesNotExist, UsageError

__all__ = ["apply_scope", "apply_secret", "digest", "plan_scope", "plan_secret", "put"]

_RECORD_VERSION = "v1"
_ITERATIONS = 100_000  # PBKDF2 rounds: a few tens of milliseconds per secret and plan


def digest(value: bytes) -> str:
    """Return the SHA-256 of a value in hex (a fingerprint; the deploy record stores a salted digest)."""
    return hashlib.sha256(value).hexdigest()


def _stretched(value: bytes, salt: bytes, iterations: int) -> str:
    return hashlib.pbkdf2_hmac("sha256", value, salt, iterations).hex()


def _record(value: bytes, timestamp: int | None) -> str:
    salt = os.urandom(16)
    stamp = "" if timestamp is None else str(timestamp)
    return f"{_RECORD_VERSION}:{_ITERATIONS}:{salt.hex()}:{_stretched(value, salt, _ITERATIONS)}:{stamp}"


@dataclass(frozen=True)
class _Recorded:
    iterations: int
    salt: bytes
    stretched: str
    timestamp: int | None

    def matches(self, value: bytes) -> bool:
        return hmac.compare_digest(_stretched(value, self.salt, self.iterations), self.stretched)


def _parse(record: str) -> _Recorded | None:
    """Read a record made by ``_record``; None when it is not one (then the secret is written again)."""
    parts = record.split(":")
    if len(parts) != 5 or parts[0] != _RECORD_VERSION:
        return None
    _, iterations, salt, stretched, stamp = parts
    try:
        return _Recorded(int(iterations), bytes.fromhex(salt), stretched, int(stamp) if stamp else None)
    except ValueError:
        return None


@dataclass(frozen=True)
class _Secret:
    """What applying a secret change needs (a Change payload: never shown, serialised or compared)."""

    scope: str
    key: str
    value: bytes
    deployed_digest: str | None


def plan_scope(ctx: Context, scope: str) -> Change:
    """Plan a Databricks-backed secret scope that exists: create or unchanged (reads only).

    Scope names are case-insensitive (Secrets API), so ``ETL`` is there when ``etl`` is.
    """
    secrets.validate_scope(scope)
    target = f"secret scope {scope}"
    if any(s.name.lower() == scope.lower() for s in secrets.list_scopes(ctx.client)):
        return Change(Action.UNCHANGED, target, reason="exists", payload=scope)
    return Change(Action.CREATE, target, reason="no such scope", payload=scope)


def apply_scope(ctx: Context, change: Change) -> Change:
    """Create the scope of a change planned by ``plan_scope`` (nothing for ``unchanged``); return it.

    A scope created meanwhile (by an identical run) is no failure: the change comes back ``unchanged``.
    """
    if not change.changed or not isinstance(change.payload, str):
        return change
    try:
        secrets.create_scope(ctx.client, change.payload)
    except ResourceAlreadyExists:
        ctx.log.info("secrets.scope_found_done", scope=change.payload, reason="created meanwhile")
        return Change(Action.UNCHANGED, change.target, reason="created meanwhile", payload=change.payload)
    return change


def _metadata(ctx: Context, scope: str, key: str) -> SecretMetadata | None:
    return next((s for s in secrets.list_secrets(ctx.client, scope) if s.key == key), None)


def plan_secret(ctx: Context, scope: str, key: str, value: bytes, *, deployed_digest: str | None) -> Change:
    """Plan a secret that holds ``value``: create, update (field ``value``) or unchanged (reads only).

    ``deployed_digest`` is the record ``apply_secret`` returned when this secret was last written
    (None when there is none: the secret is then written again). A missing scope plans a create (the
    scope is planned apart, by ``plan_scope``). The value is registered with the redactor at once.
    """
    secrets.register_value(value)
    secrets.validate_scope(scope)
    secrets.validate_key(key)
    if not value:
        raise UsageError(f"the value for secret {scope}/{key} is empty")
    if len(value) > MAX_VALUE_BYTES:
        raise UsageError(f"the value for secret {scope}/{key} is {len(value)} bytes, over the 128 KB limit")
    target = f"secret {scope}/{key}"
    payload = _Secret(scope, key, value, deployed_digest)
    try:
        metadata = _metadata(ctx, scope, key)
    except ResourceDoesNotExist:
        return Change(Action.CREATE, target, reason="the scope does not exist yet", payload=payload)
    if metadata is None:
        return Change(Action.CREATE, target, reason="not in the scope", payload=payload)
    recorded = _parse(deployed_digest) if deployed_digest else None
    if recorded is None:
        reason = (
            "no record of the value deployed" if not deployed_digest else "the deploy record is unreadable"
        )
    elif recorded.timestamp != metadata.last_updated_timestamp:
        reason = "written by someone else since the last deploy"
    elif not recorded.matches(value):
        reason = "the value differs from the last deploy"
    else:
        return Change(Action.UNCHANGED, target, reason="same value as the last deploy", payload=payload)
    return Change(Action.UPDATE, target, ("value",), reason, payload=payload)


def apply_secret(ctx: Context, change: Change) -> tuple[Change, str]:
    """Write the secret of a change planned by ``plan_secret``; return it and the record to store.

    For an ``unchanged`` change nothing is written and the record passed to the plan comes back. The
    new record carries the ``last_updated_timestamp`` the service reports just after the write.
    """
    payload = change.payload
    if not isinstance(payload, _Secret):
        raise UsageError(f"{change.target}: not a change planned by plan_secret")
    if not change.changed and payload.deployed_digest:
        return change, payload.deployed_digest
    put(ctx, payload.scope, payload.key, payload.value)
    metadata = _metadata(ctx, payload.scope, payload.key)
    return change, _record(payload.value, metadata.last_updated_timestamp if metadata else None)


def put(ctx: Context, scope: str, key: str, value: str | bytes) -> dict[str, object]:
    """Create or overwrite a secret (``str`` as string_value, else bytes); return what was put.

    A missing scope is ``ResourceDoesNotExist`` with a hint naming how to create it.
    """
    try:
        secrets.put_secret(ctx.client, scope, key, value)
    except ResourceDoesNotExist as error:
        if error.hint is None:
            error.with_hint(f"create the scope with: brickbook secrets.create-scope {scope}")
        raise
    size = len(value.encode() if isinstance(value, str) else value)
    return {"put": f"{scope}/{key}", "scope": scope, "key": key, "bytes": size}
