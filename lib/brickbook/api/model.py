"""Typed API results that tolerate what the API adds later: unknown fields and unknown enum values.

The API adds fields and enum values without changing its version (the SDK maps an enum value it does not
know to ``None`` for that reason). A result class names the fields brickbook reads, keeps the whole
object in ``raw`` (what ``-o json`` prints), and an ``OpenEnum`` turns a value it has never seen into a
new member instead of failing.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import typing
from typing import Any, Self

__all__ = ["ApiObject", "OpenEnum"]


class OpenEnum(enum.StrEnum):
    """A string enum that accepts values it does not list (they become ad-hoc members)."""

    @classmethod
    def _missing_(cls, value: object) -> Self:
        member = str.__new__(cls, str(value))
        member._name_ = str(value)
        member._value_ = str(value)
        return member


@functools.cache
def _enum_fields(cls: type[ApiObject]) -> dict[str, type[OpenEnum]]:
    hints = typing.get_type_hints(cls)
    found: dict[str, type[OpenEnum]] = {}
    for name, hint in hints.items():
        candidates = typing.get_args(hint) or (hint,)
        for candidate in candidates:
            if isinstance(candidate, type) and issubclass(candidate, OpenEnum):
                found[name] = candidate
    return found


@dataclasses.dataclass(frozen=True)
class ApiObject:
    """Base of typed results: named fields plus the full API object in ``raw``."""

    raw: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False, compare=False, kw_only=True)

    @classmethod
    def from_api(cls, data: dict[str, Any] | None) -> Self:
        """Build from an API object: known fields by name, enums opened, everything kept in ``raw``."""
        data = data or {}
        enums = _enum_fields(cls)  # type: ignore[arg-type]  # classes are hashable; mypy cannot see it for type[Self]
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name == "raw" or f.name not in data:
                continue
            value = data[f.name]
            if f.name in enums and value is not None:
                value = enums[f.name](value)
            values[f.name] = value
        return cls(**values, raw=data)
