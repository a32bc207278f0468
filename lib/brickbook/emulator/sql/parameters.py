"""Named statement parameters: ``parameters[{name, value, type}]`` as DuckDB values, never text.

A ``:name`` marker in the statement is bound by the engine to the value converted to its ``type``
(STRING when left out): INT/BIGINT/... to int, DOUBLE/FLOAT to float, DECIMAL to Decimal, BOOLEAN,
DATE and TIMESTAMP to their Python values. A value that is not of its type, a bad name or more than
``MAX_PARAMETERS`` parameters is 400 INVALID_PARAMETER_VALUE before anything runs.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Mapping
from typing import Any

from brickbook.emulator.errors import invalid

__all__ = ["MAX_PARAMETERS", "bind_parameters"]

MAX_PARAMETERS = 256
_PARAMETER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
_INT_TYPES = ("INT", "INTEGER", "BIGINT", "LONG", "SMALLINT", "SHORT", "TINYINT", "BYTE")


def bind_parameters(raw: Any) -> dict[str, Any]:
    """``parameters[{name, value, type}]`` as DuckDB named parameters with Python values."""
    if raw is None:
        return {}
    if not isinstance(raw, list) or len(raw) > MAX_PARAMETERS:
        raise invalid(f"parameters must be a list of at most {MAX_PARAMETERS}.")
    bound: dict[str, Any] = {}
    for item in raw:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise invalid("Each parameter needs a name.")
        name = item["name"]
        if not _PARAMETER_NAME.fullmatch(name):
            raise invalid(f"Invalid parameter name {name[:64]!r}.")
        value, kind = item.get("value"), str(item.get("type") or "STRING").upper()
        if value is not None and not isinstance(value, str):
            raise invalid(f"Parameter {name}: value must be a string.")
        try:
            bound[name] = None if value is None else _convert(value, kind)
        except (ValueError, decimal.InvalidOperation) as exc:
            shown = str(value)[:64]
            raise invalid(f"Parameter {name}: {shown!r} is not a valid {kind[:32]}.") from exc
    return bound


def _convert(value: str, kind: str) -> Any:  # noqa: PLR0911 - one return per parameter type
    base = kind.split("(", maxsplit=1)[0].strip()
    if base in _INT_TYPES:
        return int(value)
    if base in ("DOUBLE", "FLOAT", "REAL"):
        return float(value)
    if base in ("DECIMAL", "DEC", "NUMERIC"):
        return decimal.Decimal(value)
    if base == "BOOLEAN":
        if value.lower() not in ("true", "false"):
            raise ValueError(value)
        return value.lower() == "true"
    if base == "DATE":
        return dt.date.fromisoformat(value)
    if base == "TIMESTAMP":
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value
