"""Opaque page tokens and list pages, one form for every area.

A token is URL-safe base64 (no padding) of a small JSON object: ``{"o": offset}`` for offset paging
(jobs, runs, clusters, warehouses), ``{"k": key}`` for keyset paging (repos, after a path). Clients
treat tokens as opaque; one that the emulator did not issue is 400 INVALID_PARAMETER_VALUE.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from brickbook.emulator.errors import invalid
from brickbook.emulator.state.numbers import whole_number

__all__ = ["Page", "decode_after", "decode_offset", "encode_after", "encode_offset", "page_of", "page_size"]

T = TypeVar("T")


def _encode(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _decode(token: str, field: str) -> Any:
    padded = token + "=" * (-len(token) % 4)
    try:
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise invalid(f"Invalid page token: {token!r}.") from exc
    if not isinstance(data, dict) or field not in data:
        raise invalid(f"Invalid page token: {token!r}.")
    return data[field]


def encode_offset(offset: int) -> str:
    """The token of the page that starts at ``offset``."""
    return _encode({"o": offset})


def decode_offset(token: str) -> int:
    """The offset inside a token from ``encode_offset``; anything else is INVALID_PARAMETER_VALUE."""
    offset = _decode(token, "o")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise invalid(f"Invalid page token: {token!r}.")
    return offset


def encode_after(key: str) -> str:
    """The token of the page that starts after ``key`` (keyset paging)."""
    return _encode({"k": key})


def decode_after(token: object) -> str:
    """The key inside a token from ``encode_after``; no token (None or empty) is ``""``."""
    if token is None or token == "":
        return ""
    key = _decode(str(token), "k")
    if not isinstance(key, str):
        raise invalid(f"Invalid page token: {token!r}.")
    return key


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, with the tokens of its neighbours (None at either end)."""

    items: list[T]
    next_token: str | None
    prev_token: str | None


def page_of(items: Sequence[T], offset: int, size: int) -> Page[T]:
    """The ``size`` items from ``offset``, and the tokens of the next and the previous page."""
    chosen = list(items[offset : offset + size])
    after = encode_offset(offset + size) if offset + size < len(items) else None
    before = encode_offset(max(0, offset - size)) if offset > 0 else None
    return Page(chosen, after, before)


def page_size(text: str | None, maximum: int) -> int:
    """A ``page_size`` query value: absent, empty or 0 means ``maximum``, and more is cut to it."""
    if text is None or text == "":
        return maximum
    size = whole_number(text)
    if size is None:
        raise invalid(f"page_size must be a non-negative integer: {text[:40]!r}")
    return min(size, maximum) or maximum
