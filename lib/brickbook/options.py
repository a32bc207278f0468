"""Command-line values shared by tasks and runbooks: ``--param key=value`` lists and numeric ids.

Parsed before the first request, with one usage error (exit 2) that shows the bad value escaped and
shortened, never a traceback.
"""

from __future__ import annotations

from brickbook.errors import UsageError

__all__ = ["parse_id", "parse_params", "shown"]

MAX_ID = 2**63 - 1  # ids are int64 in the API
MAX_SHOWN = 60


def shown(value: str) -> str:
    """Return a value as a message may quote it: escaped and at most about 60 characters."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def parse_params(params: list[str] | None, option: str = "--param") -> dict[str, str]:
    """Read repeated ``key=value`` options (a key given twice is a mistake, not an override)."""
    result: dict[str, str] = {}
    for item in params or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{option} must look like key=value, not {shown(item)}")
        if key in result:
            raise UsageError(f"{option} {shown(key)} is given twice; give each parameter once")
        result[key] = value
    return result


def parse_id(value: str, what: str) -> int:
    """Read a numeric API id (ASCII digits, int64), or raise UsageError naming ``what``."""
    digits = value.lstrip("0") or "0"  # int() of thousands of digits raises instead of answering
    if not (value.isascii() and value.isdigit() and len(digits) <= 19) or int(digits) > MAX_ID:
        raise UsageError(f"{what} must be a number, not {shown(value)}")
    return int(digits)
