"""Statement results as the Statement Execution API sends them: a manifest and JSON_ARRAY chunks.

Every value is a string or JSON null (``data_array: [[str|null, ...]]``): booleans ``true``/``false``,
dates ``YYYY-MM-DD``, timestamps ISO 8601 with milliseconds and ``Z``, arrays, maps and structs as
JSON text. Types carry Databricks names (``type_name`` LONG for ``type_text`` BIGINT). Rows are split
into chunks of at most ``chunk_rows`` rows; each chunk is kept as compact JSON text, so a result of a
million rows costs megabytes, not Python objects.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from brickbook.emulator.sql.engine import Column

__all__ = [
    "MAX_RESULT_BYTES",
    "Result",
    "ResultTooLarge",
    "collect_result",
    "column_json",
    "databricks_type",
    "describe_result",
]

# What one statement's result may hold (the JSON of every chunk); the service caps INLINE results too.
MAX_RESULT_BYTES = 256 * 1024 * 1024


class ResultTooLarge(Exception):
    """The result outgrew MAX_RESULT_BYTES."""


# DuckDB type -> (Databricks type_name, type_text)
_SIMPLE: dict[str, tuple[str, str]] = {
    "BIGINT": ("LONG", "BIGINT"),
    "HUGEINT": ("DECIMAL", "DECIMAL(38,0)"),
    "UBIGINT": ("DECIMAL", "DECIMAL(20,0)"),
    "INTEGER": ("INT", "INT"),
    "UINTEGER": ("LONG", "BIGINT"),
    "SMALLINT": ("SHORT", "SMALLINT"),
    "USMALLINT": ("INT", "INT"),
    "TINYINT": ("BYTE", "TINYINT"),
    "UTINYINT": ("SHORT", "SMALLINT"),
    "DOUBLE": ("DOUBLE", "DOUBLE"),
    "FLOAT": ("FLOAT", "FLOAT"),
    "REAL": ("FLOAT", "FLOAT"),
    "VARCHAR": ("STRING", "STRING"),
    "BOOLEAN": ("BOOLEAN", "BOOLEAN"),
    "DATE": ("DATE", "DATE"),
    "TIMESTAMP": ("TIMESTAMP", "TIMESTAMP"),
    "TIMESTAMP WITH TIME ZONE": ("TIMESTAMP", "TIMESTAMP"),
    "TIMESTAMP_NS": ("TIMESTAMP", "TIMESTAMP"),
    "BLOB": ("BINARY", "BINARY"),
    "INTERVAL": ("INTERVAL", "INTERVAL"),
    "UUID": ("STRING", "STRING"),
    '"NULL"': ("NULL", "VOID"),
    "NULL": ("NULL", "VOID"),
}


def databricks_type(duckdb_type: str) -> tuple[str, str]:
    """``(type_name, type_text)`` for a DuckDB type."""
    text = duckdb_type.upper()
    if text in _SIMPLE:
        return _SIMPLE[text]
    if text.startswith("DECIMAL"):
        return "DECIMAL", text.replace(" ", "")
    if text.endswith("[]"):
        inner = databricks_type(duckdb_type[:-2])[1]
        return "ARRAY", f"ARRAY<{inner}>"
    if text.startswith("MAP"):
        return "MAP", text
    if text.startswith("STRUCT"):
        return "STRUCT", text
    return "STRING", "STRING"


def column_json(columns: list[Column]) -> list[dict[str, Any]]:
    """The manifest's ``schema.columns``."""
    described = []
    for position, column in enumerate(columns):
        type_name, type_text = databricks_type(column.type_text)
        entry: dict[str, Any] = {
            "name": column.name,
            "type_text": type_text,
            "type_name": type_name,
            "position": position,
        }
        match = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", type_text)
        if match:
            entry.update(type_precision=int(match[1]), type_scale=int(match[2]))
        described.append(entry)
    return described


def _text(value: Any) -> str | None:  # noqa: PLR0911 - one return per value type
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else _special(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return str(value.isoformat(timespec="milliseconds")) + "Z"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dt.timedelta):
        return str(value)
    return json.dumps(value, default=_json_default, separators=(",", ":"))


def _special(value: float) -> str:
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _json_default(value: Any) -> Any:
    return _text(value)


@dataclass
class Result:
    """A finished statement's columns and its rows, chunked."""

    columns: list[Column]
    chunks: list[str] = field(default_factory=list)  # each the JSON text of a data_array
    row_counts: list[int] = field(default_factory=list)
    truncated: bool = False

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts)

    @property
    def total_bytes(self) -> int:
        return sum(len(c) for c in self.chunks)

    def manifest(self) -> dict[str, Any]:
        offsets = self._offsets()
        chunks = [
            {"chunk_index": i, "row_offset": offsets[i], "row_count": n, "byte_count": len(self.chunks[i])}
            for i, n in enumerate(self.row_counts)
        ]
        manifest: dict[str, Any] = {
            "format": "JSON_ARRAY",
            "schema": {"column_count": len(self.columns), "columns": column_json(self.columns)},
            "total_chunk_count": len(self.chunks),
            "total_row_count": self.total_rows,
            "total_byte_count": sum(len(c) for c in self.chunks),
            "truncated": self.truncated,
        }
        if chunks:
            manifest["chunks"] = chunks
        return manifest

    def chunk(self, statement_id: str, index: int) -> dict[str, Any]:
        """``ResultData`` of one chunk: its rows and the link to the next one (absent on the last)."""
        offsets = self._offsets()
        data: dict[str, Any] = {
            "chunk_index": index,
            "row_offset": offsets[index],
            "row_count": self.row_counts[index],
            "byte_count": len(self.chunks[index]),
            "data_array": json.loads(self.chunks[index]),
        }
        if index + 1 < len(self.chunks):
            data["next_chunk_index"] = index + 1
            data["next_chunk_internal_link"] = (
                f"/api/2.0/sql/statements/{statement_id}/result/chunks/{index + 1}"
                f"?row_offset={offsets[index + 1]}"
            )
        return data

    def _offsets(self) -> list[int]:
        offsets, total = [], 0
        for count in self.row_counts:
            offsets.append(total)
            total += count
        return offsets


def describe_result(described: Result) -> Result:
    """DuckDB's DESCRIBE rows as Databricks answers ``DESCRIBE TABLE``: col_name, data_type, comment."""
    rows = [
        [name, databricks_type(str(kind))[1].lower(), None]
        for chunk in described.chunks
        for name, kind, *_ in json.loads(chunk)
    ]
    columns = [Column("col_name", "VARCHAR"), Column("data_type", "VARCHAR"), Column("comment", "VARCHAR")]
    result = Result(columns)
    if rows:
        _flush(result, rows, MAX_RESULT_BYTES)
    return result


def collect_result(
    columns: list[Column],
    batches: Iterator[list[tuple[Any, ...]]],
    *,
    chunk_rows: int,
    row_limit: int | None,
    stop: Callable[[], bool],
    max_bytes: int = MAX_RESULT_BYTES,
) -> Result:
    """Turn DuckDB batches into string chunks of ``chunk_rows``; stop early at ``row_limit`` or ``stop()``.

    Raises ResultTooLarge past ``max_bytes``.
    """
    result = Result(columns)
    pending: list[list[str | None]] = []
    taken = 0
    for batch in batches:
        if stop():
            break
        for row in batch:
            if row_limit is not None and taken >= row_limit:
                result.truncated = True
                break
            pending.append([_text(v) for v in row])
            taken += 1
            if len(pending) == chunk_rows:
                _flush(result, pending, max_bytes)
                pending = []
        if result.truncated:
            break
    if pending:
        _flush(result, pending, max_bytes)
    return result


def _flush(result: Result, rows: list[list[str | None]], max_bytes: int) -> None:
    result.chunks.append(json.dumps(rows, separators=(",", ":")))
    result.row_counts.append(len(rows))
    if result.total_bytes > max_bytes:
        raise ResultTooLarge(f"The result is larger than {max_bytes // (1024 * 1024)} MiB")
