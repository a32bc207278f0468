"""The secret registry: every secret the invocation knows is masked wherever it would be printed.

Tokens, client secrets, OAuth access tokens and secret values are registered as soon as they are known;
log events, error messages and output all pass through ``redact``. Kept apart from logging so that
cheap modules (output rendering) can use it without loading structlog.
"""

from __future__ import annotations

import threading

__all__ = ["MASK", "SENSITIVE_KEYS", "redact", "register_secret"]

MASK = "***"
# Keys whose values are secrets whatever they contain.
SENSITIVE_KEYS = frozenset(
    {"token", "access_token", "client_secret", "authorization", "password", "string_value", "bytes_value"}
)
# Shorter strings would mask innocent text; real tokens and secrets are far longer.
_MIN_SECRET_LENGTH = 4

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret so that it is masked wherever it would be printed."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret replaced by ``***``."""
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text
