"""MLflow request values: the limits, the checks every MLflow endpoint applies, and paging.

Limits from the Resource limits page and the log-batch reference: keys 250 characters, param values
500 characters (250 through log-batch), tag values 64 KB, 1,600 params and 1,600 tags per run.
A value that fails a check is 400 INVALID_PARAMETER_VALUE with MLflow's wording.
"""

from __future__ import annotations

from typing import Any

from brickbook.emulator.errors import invalid
from brickbook.emulator.state.numbers import whole_number
from brickbook.emulator.state.paging import decode_offset, page_of

__all__ = [
    "MAX_BATCH_VALUE",
    "MAX_KEY",
    "MAX_PARAMS",
    "MAX_PARAM_VALUE",
    "MAX_TAGS",
    "MAX_TAG_VALUE",
    "ms",
    "page",
    "pairs",
    "size",
    "stages",
    "text",
]

MAX_KEY = 250
MAX_PARAM_VALUE = 500
MAX_BATCH_VALUE = 250
MAX_TAG_VALUE = 64 * 1024
MAX_PARAMS = 1600
MAX_TAGS = 1600
VIEW_TYPES = {"ACTIVE_ONLY": ("active",), "DELETED_ONLY": ("deleted",), "ALL": ("active", "deleted")}


def text(name: str, value: object, limit: int, *, required: bool = True) -> str:
    if value is None or value == "":
        if required:
            raise invalid(f"Missing value for required parameter '{name}'.")
        return ""
    if not isinstance(value, str):
        raise invalid(f"Invalid value {str(value)[:100]!r} for parameter '{name}': it must be a string.")
    if len(value) > limit:
        raise invalid(f"'{name}' exceeds the maximum length of {limit} characters.")
    return value


def ms(name: str, value: object, default: int) -> int:
    if value is None:
        return default
    number = whole_number(value)
    if number is None:
        raise invalid(
            f"Invalid value {str(value)[:40]!r} for parameter '{name}': expected epoch milliseconds."
        )
    return number


def size(value: object, default: int, maximum: int) -> int:
    if value is None or value == "":
        return default
    number = whole_number(value)
    if number is None or number > maximum:
        raise invalid(f"Invalid value {str(value)[:40]!r} for parameter 'max_results': at most {maximum}.")
    return number or default


def stages(view_type: object) -> tuple[str, ...]:
    key = "ACTIVE_ONLY" if view_type in (None, "") else view_type
    if not isinstance(key, str) or key not in VIEW_TYPES:
        raise invalid(f"Invalid view type {str(view_type)[:40]!r}: expected one of {', '.join(VIEW_TYPES)}.")
    return VIEW_TYPES[key]


def pairs(name: str, items: object, value_limit: int) -> list[tuple[str, str]]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise invalid(f"'{name}' must be a list of {{key, value}} objects.")
    pairs = []
    for item in items:
        if not isinstance(item, dict):
            raise invalid(f"'{name}' must be a list of {{key, value}} objects.")
        pairs.append(
            (
                text("key", item.get("key"), MAX_KEY),
                text("value", item.get("value"), value_limit, required=False),
            )
        )
    return pairs


def page(items: list[dict[str, Any]], token: object, size: int) -> tuple[list[dict[str, Any]], str | None]:
    """One page of ``items`` from the offset ``token`` encodes, and the next page's token."""
    offset = decode_offset(str(token)) if token else 0
    found = page_of(items, offset, size)
    return found.items, found.next_token
