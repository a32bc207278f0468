"""``spark`` for code the emulator runs: ``spark.sql`` and ``spark.table`` on the emulator's SQL engine.

The child process cannot open the engine itself (DuckDB allows one writer: the emulator), so each
``spark.sql(query)`` calls back into the emulator (``POST /_emulator/notebook/sql``) with the run's
context token: the statements run as the run's principal, with its Unity Catalog privileges. The
answer is a ``DataFrame`` holding the finished statement; ``collect()`` walks its result chunks
(``/api/2.0/sql/statements/{id}/result/chunks/{n}``) and returns ``Row`` objects with typed values.
``USE CATALOG`` / ``USE SCHEMA`` carry over to later calls, as in a Spark session.

Only this slice of PySpark exists; anything else raises NotImplementedError saying it is not
supported by the emulator. A SQL notebook (``-- Databricks notebook source``) runs its cells
through the same ``spark.sql``.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from brickbook.emulator.runtime.child.rest import RestClient
else:  # the child imports its siblings as top-level modules (it must not import brickbook)
    from rest import RestClient

__all__ = ["AnalysisException", "DataFrame", "Row", "SparkSession", "sql_cells"]

SQL_HEADER = "-- Databricks notebook source"
SQL_SEPARATOR = "-- COMMAND ----------"
SQL_MAGIC = "-- MAGIC"
_STATEMENTS = "/api/2.0/sql/statements"


def _unsupported(what: str) -> NotImplementedError:
    return NotImplementedError(
        f"{what} is not supported by the brickbook emulator (spark.sql, spark.table and the DataFrame"
        " methods collect, count, first, head, take, show and toPandas are)."
    )


class AnalysisException(Exception):
    """The statement failed (bad SQL, a missing table, missing privileges); the engine's message."""


AnalysisException.__module__ = "pyspark.errors.exceptions.captured"


def _converter(type_name: str) -> Callable[[str], Any]:
    def boolean(text: str) -> bool:
        return text == "true"

    def timestamp(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)

    table: dict[str, Callable[[str], Any]] = {
        "LONG": int,
        "INT": int,
        "SHORT": int,
        "BYTE": int,
        "DOUBLE": float,
        "FLOAT": float,
        "DECIMAL": decimal.Decimal,
        "BOOLEAN": boolean,
        "DATE": dt.date.fromisoformat,
        "TIMESTAMP": timestamp,
    }
    return table.get(type_name, str)


class Row(tuple):  # type: ignore[type-arg]  # a tuple of any values, as pyspark's Row
    """A result row: ``row[0]``, ``row["name"]`` and ``row.name`` all work; ``asDict()``."""

    __fields__: tuple[str, ...]

    def __new__(cls, fields: tuple[str, ...], values: list[Any]) -> Row:
        row = super().__new__(cls, values)
        row.__fields__ = fields
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return super().__getitem__(self.__fields__.index(key))
            except ValueError:
                raise KeyError(key) from None
        return super().__getitem__(key)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def asDict(self) -> dict[str, Any]:
        return dict(zip(self.__fields__, self, strict=True))

    def __repr__(self) -> str:
        return "Row(" + ", ".join(f"{k}={v!r}" for k, v in zip(self.__fields__, self, strict=True)) + ")"


class DataFrame:
    """A finished statement's result."""

    def __init__(self, client: RestClient, answer: dict[str, Any]) -> None:
        self._client = client
        self._answer = answer
        schema = (answer.get("manifest") or {}).get("schema") or {}
        self._columns = schema.get("columns") or []
        self.columns = [str(c["name"]) for c in self._columns]

    def __getattr__(self, name: str) -> Any:
        raise _unsupported(f"DataFrame.{name}")

    def _chunks(self) -> Iterator[list[list[str | None]]]:
        chunk = self._answer.get("result") or {}
        statement_id = self._answer["statement_id"]
        while True:
            yield chunk.get("data_array") or []
            following = chunk.get("next_chunk_index")
            if following is None:
                return
            chunk = self._client.get(f"{_STATEMENTS}/{statement_id}/result/chunks/{following}")

    def _rows(self) -> Iterator[Row]:
        fields = tuple(self.columns)
        convert = [_converter(str(c.get("type_name", "STRING"))) for c in self._columns]
        for data in self._chunks():
            for raw in data:
                yield Row(fields, [None if v is None else f(v) for f, v in zip(convert, raw, strict=True)])

    def collect(self) -> list[Row]:
        return list(self._rows())

    def count(self) -> int:
        return int((self._answer.get("manifest") or {}).get("total_row_count", 0))

    def take(self, num: int) -> list[Row]:
        rows: list[Row] = []
        for row in self._rows():
            if len(rows) >= num:
                break
            rows.append(row)
        return rows

    def head(self, n: int | None = None) -> Row | list[Row] | None:
        if n is None:
            return self.first()
        return self.take(n)

    def first(self) -> Row | None:
        rows = self.take(1)
        return rows[0] if rows else None

    def show(self, n: int = 20, truncate: bool | int = True, vertical: bool = False) -> None:
        """Print the first ``n`` rows as a table, as pyspark does."""
        width = 20 if truncate is True else (int(truncate) if truncate else 0)
        rows = [["null" if v is None else str(v) for v in row] for row in self.take(n)]
        if width:
            rows = [[v if len(v) <= width else v[: width - 3] + "..." for v in row] for row in rows]
        sizes = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(self.columns)]
        line = "+" + "+".join("-" * s for s in sizes) + "+"
        print(line)
        print("|" + "|".join(c.rjust(s) for c, s in zip(self.columns, sizes, strict=True)) + "|")
        print(line)
        for row in rows:
            print("|" + "|".join(v.rjust(s) for v, s in zip(row, sizes, strict=True)) + "|")
        print(line)
        if self.count() > n:
            print(f"only showing top {n} rows")

    def toPandas(self) -> Any:
        try:
            import pandas as pd  # type: ignore[import-untyped,import-not-found,unused-ignore]  # optional; not a dependency
        except ImportError as exc:
            raise _unsupported("toPandas without pandas installed") from exc
        return pd.DataFrame([list(row) for row in self._rows()], columns=self.columns)


class SparkSession:
    """``spark``: SQL on the emulator's engine as the run's principal."""

    def __init__(self, client: RestClient) -> None:
        self._client = client
        self._catalog = "main"
        self._schema = "default"

    def __getattr__(self, name: str) -> Any:
        raise _unsupported(f"spark.{name}")

    def sql(self, sqlQuery: str, args: dict[str, Any] | None = None, **kwargs: Any) -> DataFrame:
        """Run ``sqlQuery`` (named ``:markers`` bound from ``args``) and return its result."""
        if kwargs:
            raise _unsupported("spark.sql keyword arguments other than args")
        body: dict[str, Any] = {"statement": sqlQuery, "catalog": self._catalog, "schema": self._schema}
        if args:
            body["parameters"] = [_parameter(name, value) for name, value in args.items()]
        answer = self._client.post("/_emulator/notebook/sql", body)
        self._catalog = str(answer.get("catalog", self._catalog))
        self._schema = str(answer.get("schema", self._schema))
        status = answer.get("status") or {}
        if status.get("state") != "SUCCEEDED":
            error = status.get("error") or {}
            raise AnalysisException(
                str(error.get("message") or f"The statement ended {status.get('state')}.")
            )
        return DataFrame(self._client, answer)

    def table(self, tableName: str) -> DataFrame:
        quoted = ".".join("`" + part.strip("`").replace("`", "``") + "`" for part in tableName.split("."))
        return self.sql(f"SELECT * FROM {quoted}")  # noqa: S608 - each name part is backtick-quoted


def _parameter(name: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {"name": name, "value": None}
    if isinstance(value, bool):
        return {"name": name, "value": "true" if value else "false", "type": "BOOLEAN"}
    if isinstance(value, int):
        return {"name": name, "value": str(value), "type": "BIGINT"}
    if isinstance(value, float):
        return {"name": name, "value": repr(value), "type": "DOUBLE"}
    return {"name": name, "value": str(value), "type": "STRING"}


def sql_cells(source: str) -> list[tuple[str, str]]:
    """The cells of a SQL notebook as ``(kind, text)``: kind ``sql`` or the magic (``%md``, ``%python``)."""
    lines = source.splitlines()
    if lines and lines[0].strip() == SQL_HEADER:
        lines = lines[1:]
    cells: list[list[str]] = [[]]
    for line in lines:
        if line.strip() == SQL_SEPARATOR:
            cells.append([])
        else:
            cells[-1].append(line)
    found: list[tuple[str, str]] = []
    for cell in cells:
        body = [line for line in cell if line.strip()]
        if not body:
            continue
        if all(line.startswith(SQL_MAGIC) for line in body):
            text = [line[len(SQL_MAGIC) :].removeprefix(" ") for line in cell if line.startswith(SQL_MAGIC)]
            command, _, rest = text[0].strip().partition(" ")
            found.append((command, "\n".join([rest, *text[1:]])))
        else:
            found.append(("sql", "\n".join(cell).strip()))
    return found
