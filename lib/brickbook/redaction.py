"""The secret registry: every secret the invocation knows is masked wherever it would be printed.

Tokens, client secrets, OAuth access tokens and secret values are registered as soon as they are known;
log events, error messages and output all pass through ``redact``. Registering a value also registers
every form a code path could print it in: the Python ``repr`` escapes of the text and of its UTF-8 bytes
(``Illegal header value b'Bearer ...'``), JSON string escapes, URL encoding, base64, HTML escapes and
whitespace collapsed to single spaces (one-line error messages). The escapes work character by
character, so a derived form of the secret is also a substring of the derived form of any text that
contains the secret (``Bearer <token>``). Kept apart from logging so that cheap modules (output
rendering) can use it without loading structlog.
"""

from __future__ import annotations

import base64
import contextlib
import html
import json
import threading
import urllib.parse

__all__ = [
    "MASK",
    "SENSITIVE_KEYS",
    "derived_forms",
    "printable",
    "redact",
    "register_basic_auth",
    "register_secret",
]

MASK = "***"
# Keys whose values are secrets whatever they contain.
SENSITIVE_KEYS = frozenset(
    {"token", "access_token", "client_secret", "authorization", "password", "string_value", "bytes_value"}
)
# Shorter strings would mask innocent text; real tokens and secrets are far longer.
_MIN_SECRET_LENGTH = 4

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def _text_forms(text: str) -> set[str]:
    inner = repr(text)[1:-1]
    json_ascii = json.dumps(text)[1:-1]
    forms = {
        text,
        inner,
        # repr switches quote characters when the text holds a quote; inside a longer string the
        # other quote may be the escaped one.
        inner.replace("'", "\\'"),
        inner.replace('"', '\\"'),
        json_ascii,
        json.dumps(text, ensure_ascii=False)[1:-1],
        json_ascii.replace("/", "\\/"),  # JSON encoders that escape the solidus
        html.escape(text),
        " ".join(text.split()),
    }
    with contextlib.suppress(UnicodeEncodeError):  # lone surrogates have no URL encoding
        forms |= {
            urllib.parse.quote(text, safe=""),
            urllib.parse.quote(text),
            urllib.parse.quote_plus(text),
        }
    return forms


def _bytes_forms(raw: bytes) -> set[str]:
    inner = repr(raw)[2:-1]
    encoded = base64.b64encode(raw).decode("ascii")
    return {
        inner,
        inner.replace("'", "\\'"),
        encoded,
        base64.urlsafe_b64encode(raw).decode("ascii"),
        encoded.rstrip("="),
    }


def derived_forms(value: str | bytes) -> set[str]:
    """Return ``value`` and every printable form derived from it that is long enough to mask safely."""
    forms: set[str] = set()
    if isinstance(value, bytes):
        raw = value
        with contextlib.suppress(UnicodeDecodeError):  # binary: printed only as bytes repr or base64
            forms |= _text_forms(value.decode("utf-8"))
    else:
        raw = _utf8(value)
        forms |= _text_forms(value)
    forms |= _bytes_forms(raw)
    return {form for form in forms if len(form) >= _MIN_SECRET_LENGTH}


def _utf8(text: str) -> bytes:
    # surrogateescape: values read from the environment or argv may hold undecodable bytes.
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # lone surrogates that are not escaped bytes
        return text.encode("utf-8", "backslashreplace")


def register_secret(value: str | bytes | None) -> None:
    """Remember a secret so that it, and every form derived from it, is masked wherever it would be printed.

    Values shorter than 4 characters are not registered: masking them would garble innocent text.
    """
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    forms = derived_forms(value)
    with _secrets_lock:
        _secrets.update(forms)


def register_basic_auth(user: str, password: str) -> None:
    """Register a password and the HTTP Basic credential built from it (base64 of ``user:password``)."""
    register_secret(password)
    if password:
        pair = f"{user}:{password}".encode("utf-8", "surrogateescape")
        register_secret(base64.b64encode(pair).decode("ascii"))


def redact(text: str) -> str:
    """Return ``text`` with every registered secret (in any of its derived forms) replaced by ``***``."""
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def printable(text: str, limit: int = 80) -> str:
    """Return ``text`` safe to echo on one line: unprintable characters escaped, shortened to ``limit``.

    For values the user gave that are not secrets (hosts, profile names, paths) and that end up in an
    error message: a line break or a terminal escape must not break or forge the line.
    """
    escaped = "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
    return escaped if len(escaped) <= limit else escaped[: limit - 3] + "..."
