"""Check a spec's fields before any request: ``require``, ``optional`` and ``require_one_of`` with a ``Kind``.

Field paths read like the spec (``tasks[1].depends_on[0].task_key``); every problem is one UsageError
line such as ``spec: num_workers must be an integer >= 0, got 'two'``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from brickbook.errors import UsageError
from brickbook.specs.bounds import shown

__all__ = [
    "BOOLEAN",
    "INTEGER",
    "LIST",
    "OBJECT",
    "STRING",
    "Kind",
    "integer",
    "one_of",
    "optional",
    "require",
    "require_one_of",
]

_MISSING = object()


@dataclass(frozen=True)
class Kind:
    """What a field must be: the phrase errors use ("an integer >= 0") and the test."""

    description: str
    accepts: Callable[[object], bool]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is not a count


STRING = Kind("a non-empty string", lambda v: isinstance(v, str) and v != "")
INTEGER = Kind("an integer", _is_int)
BOOLEAN = Kind("true or false", lambda v: isinstance(v, bool))
OBJECT = Kind("an object", lambda v: isinstance(v, dict))
LIST = Kind("a list", lambda v: isinstance(v, list))


def integer(minimum: int | None = None, maximum: int | None = None) -> Kind:
    """An integer within bounds (either may be open)."""
    if minimum is not None and maximum is not None:
        phrase = f"an integer from {minimum} to {maximum}"
    elif minimum is not None:
        phrase = f"an integer >= {minimum}"
    elif maximum is not None:
        phrase = f"an integer <= {maximum}"
    else:
        return INTEGER

    def accepts(value: object) -> bool:
        if not _is_int(value):
            return False
        number = int(value)  # type: ignore[call-overload]  # _is_int checked it
        return (minimum is None or number >= minimum) and (maximum is None or number <= maximum)

    return Kind(phrase, accepts)


def one_of(*values: object) -> Kind:
    """One of a fixed set of values."""
    return Kind("one of " + ", ".join(json.dumps(v) for v in values), lambda v: v in values)


def _lookup(spec: Mapping[str, Any], field_path: str) -> Any:
    """Follow ``a.b[0].c``; return ``_MISSING`` when any step is absent (or null)."""
    current: Any = spec
    for part in field_path.replace("]", "").replace("[", ".").split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return _MISSING if current is None else current


def optional(spec: Mapping[str, Any], field_path: str, kind: Kind) -> Any:
    """Return the field's value, or None when it is absent; a present value must be of ``kind``."""
    value = _lookup(spec, field_path)
    if value is _MISSING:
        return None
    if not kind.accepts(value):
        raise UsageError(f"spec: {field_path} must be {kind.description}, got {shown(value)}")
    return value


def require(spec: Mapping[str, Any], field_path: str, kind: Kind) -> Any:
    """Return the field's value; it must be present and of ``kind``."""
    if _lookup(spec, field_path) is _MISSING:
        raise UsageError(f"spec: {field_path} is required")
    return optional(spec, field_path, kind)


def require_one_of(spec: Mapping[str, Any], *field_paths: str, exclusive: bool = True) -> list[str]:
    """Return which of the fields are present: at least one must be, and only one when ``exclusive``."""
    present = [p for p in field_paths if _lookup(spec, p) is not _MISSING]
    names = " or ".join(field_paths)
    if not present:
        raise UsageError(f"spec: one of {names} is required")
    if exclusive and len(present) > 1:
        raise UsageError(f"spec: give only one of {names}, not {' and '.join(present)}")
    return present
