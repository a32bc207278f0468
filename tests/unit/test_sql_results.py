"""The emulator's statement results: values as the API sends them, chunking, and the size limit."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest

from brickbook.emulator.sql.engine import Column
from brickbook.emulator.sql.results import ResultTooLarge, collect_result, databricks_type


def test_values_become_strings_as_the_api_sends_them():
    """Booleans, dates, timestamps, decimals, floats, lists and nulls are strings (or null)."""
    row = (
        True,
        dt.date(2026, 11, 30),
        dt.datetime(2026, 11, 30, 12, 0, 1, 500000),
        decimal.Decimal("1.50"),
        0.25,
        [1, 2],
        None,
    )
    result = collect_result(
        [Column("c", "VARCHAR")] * len(row), iter([[row]]), chunk_rows=10, row_limit=None, stop=lambda: False
    )
    assert result.chunk("s", 0)["data_array"] == [
        ["true", "2026-11-30", "2026-11-30T12:00:01.500Z", "1.50", "0.25", "[1,2]", None]
    ]


def test_rows_split_into_chunks_with_offsets():
    """Seven rows in chunks of three: offsets 0, 3, 6 and links to the next chunk."""
    rows = [[(i,) for i in range(7)]]
    result = collect_result(
        [Column("id", "BIGINT")], iter(rows), chunk_rows=3, row_limit=None, stop=lambda: False
    )
    manifest = result.manifest()
    assert [(c["row_offset"], c["row_count"]) for c in manifest["chunks"]] == [(0, 3), (3, 3), (6, 1)]
    assert (
        result.chunk("s1", 1)["next_chunk_internal_link"]
        == "/api/2.0/sql/statements/s1/result/chunks/2?row_offset=6"
    )
    assert "next_chunk_index" not in result.chunk("s1", 2)


def test_result_past_the_byte_limit_is_refused():
    """A result larger than the limit raises ResultTooLarge instead of growing without bound."""
    rows = iter([[("x" * 100,) for _ in range(100)]])
    with pytest.raises(ResultTooLarge, match="larger than"):
        collect_result(
            [Column("s", "VARCHAR")], rows, chunk_rows=10, row_limit=None, stop=lambda: False, max_bytes=1000
        )


@pytest.mark.parametrize(
    ("duckdb_type", "expected"),
    [
        ("BIGINT", ("LONG", "BIGINT")),
        ("INTEGER", ("INT", "INT")),
        ("DECIMAL(10,2)", ("DECIMAL", "DECIMAL(10,2)")),
        ("VARCHAR[]", ("ARRAY", "ARRAY<STRING>")),
        ("TIMESTAMP WITH TIME ZONE", ("TIMESTAMP", "TIMESTAMP")),
    ],
)
def test_types_carry_databricks_names(duckdb_type: str, expected: tuple[str, str]):
    """DuckDB types map to Databricks type_name and type_text."""
    assert databricks_type(duckdb_type) == expected
