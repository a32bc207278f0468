"""Whole numbers from the wire: ids and counts sent as JSON integers or as query-string digits.

``str.isdigit`` alone lets through digits ``int`` refuses (``"²"``) and strings too long for ``int``
(more than 4300 digits), which would be 500s; ``whole_number`` takes ASCII digits only, at most 19
(every int64 id fits).
"""

from __future__ import annotations

__all__ = ["MAX_DIGITS", "whole_number"]

MAX_DIGITS = 19


def whole_number(value: object) -> int | None:
    """A non-negative integer from an int or a string of ASCII digits; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS:
        return int(value)
    return None
