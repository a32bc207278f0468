"""The emulator's SQL engine: one DuckDB process-wide database that statements and Unity Catalog share.

Each Unity Catalog catalog is a DuckDB database ATTACHed as ``uc_<name>``: a file
``<data-dir>/sql/catalogs/<name>.duckdb`` with ``--data-dir`` (data persists across restarts), an
in-memory database without one. SQL cannot reach files, extensions or the network. Each statement
runs on its own cursor (DuckDB cursors are per-thread connections to the same database), so
statements run off the event loop in worker threads; ``interrupt`` cancels one that is running.
``reset()`` drops every catalog; ``close()`` ends it all.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from brickbook.emulator.sql.dialect import duckdb_catalog, quote

__all__ = ["Column", "Engine", "EngineError", "databricks_message"]

_HIDDEN_SCHEMAS = ("information_schema", "pg_catalog", "main")


class EngineError(Exception):
    """DuckDB refused or failed a statement; the message is DuckDB's."""


@dataclass(frozen=True)
class Column:
    name: str
    type_text: str  # DuckDB's type, e.g. BIGINT, DECIMAL(18,3), VARCHAR[]
    nullable: bool = True


class Engine:
    """One DuckDB database; catalogs attach and detach as Unity Catalog creates and deletes them."""

    def __init__(self, data_dir: Path | str | None) -> None:
        self._dir = None if data_dir is None else Path(data_dir) / "sql" / "catalogs"
        if self._dir is not None:
            self._dir.mkdir(parents=True, exist_ok=True)
        self._db = duckdb.connect(":memory:")
        # A sandbox: SQL reaches no file, extension or network (read_csv('/etc/passwd'), COPY TO,
        # INSTALL), only the catalogs' own database files, and cannot switch that off again.
        if self._dir is not None:
            self._db.execute(f"SET allowed_directories = [{_literal(str(self._dir) + '/')}]")
        self._db.execute("SET enable_external_access = false")
        self._db.execute("SET lock_configuration = true")
        self._lock = threading.RLock()
        self._attached: set[str] = set()

    # -- catalogs and schemas ---------------------------------------------------------------------

    def attach(self, catalog: str) -> None:
        """Attach (creating when new) the database behind ``catalog``; no-op when attached."""
        with self._lock:
            if catalog in self._attached:
                return
            target = ":memory:" if self._dir is None else str(self._dir / f"{catalog}.duckdb")
            self._db.execute(f"ATTACH {_literal(target)} AS {quote(duckdb_catalog(catalog))}")
            self._attached.add(catalog)

    def detach(self, catalog: str, *, delete: bool) -> None:
        with self._lock:
            if catalog in self._attached:
                self._db.execute(f"DETACH {quote(duckdb_catalog(catalog))}")
                self._attached.discard(catalog)
            if delete and self._dir is not None:
                for path in self._dir.glob(f"{catalog}.duckdb*"):
                    path.unlink(missing_ok=True)

    def create_schema(self, catalog: str, schema: str) -> None:
        self.run_ddl(f"CREATE SCHEMA IF NOT EXISTS {quote(duckdb_catalog(catalog))}.{quote(schema)}")

    def drop_schema(self, catalog: str, schema: str) -> None:
        self.run_ddl(f"DROP SCHEMA IF EXISTS {quote(duckdb_catalog(catalog))}.{quote(schema)} CASCADE")

    def drop_table(self, catalog: str, schema: str, table: str) -> None:
        name = f"{quote(duckdb_catalog(catalog))}.{quote(schema)}.{quote(table)}"
        self.run_ddl(f"DROP TABLE IF EXISTS {name}")

    def run_ddl(self, sql: str) -> None:
        with self._lock:
            try:
                self._db.execute(sql)
            except duckdb.Error as exc:
                raise EngineError(str(exc)) from exc

    def schemas(self, catalog: str) -> list[str]:
        rows = self._query(
            "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = ? ORDER BY schema_name",
            [duckdb_catalog(catalog)],
        )
        return [r[0] for r in rows if r[0] not in _HIDDEN_SCHEMAS]

    def tables(self, catalog: str, schema: str) -> list[tuple[str, str]]:
        """``(name, table_type)`` of each table and view, by name; table_type is MANAGED or VIEW."""
        rows = self._query(
            "SELECT table_name, table_type FROM information_schema.tables"
            " WHERE table_catalog = ? AND table_schema = ? ORDER BY table_name",
            [duckdb_catalog(catalog), schema],
        )
        return [(name, "VIEW" if kind == "VIEW" else "MANAGED") for name, kind in rows]

    def columns(self, catalog: str, schema: str, table: str) -> list[Column]:
        rows = self._query(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_catalog = ? AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [duckdb_catalog(catalog), schema, table],
        )
        return [Column(name, kind, nullable == "YES") for name, kind, nullable in rows]

    def _query(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- statements -------------------------------------------------------------------------------

    def cursor(self, catalog: str, schema: str) -> duckdb.DuckDBPyConnection:
        """A connection of its own for one statement, its current schema set (when it exists)."""
        with self._lock:
            cursor = self._db.cursor()
        if catalog in self._attached:
            try:
                cursor.execute(f"USE {quote(duckdb_catalog(catalog))}.{quote(schema)}")
            except duckdb.Error:
                cursor.execute(
                    f"USE {quote(duckdb_catalog(catalog))}"
                )  # the schema may be made by this statement
        return cursor

    @staticmethod
    def execute(
        cursor: duckdb.DuckDBPyConnection, sql: str, parameters: Mapping[str, Any]
    ) -> tuple[list[Column], Iterator[list[tuple[Any, ...]]]]:
        """Run ``sql`` with named parameters bound by DuckDB; the columns and the rows in batches."""
        try:
            cursor.execute(sql, dict(parameters) if parameters else None)
        except duckdb.Error as exc:
            raise EngineError(str(exc)) from exc
        description = cursor.description or []
        columns = [Column(str(d[0]), str(d[1])) for d in description]

        def batches() -> Iterator[list[tuple[Any, ...]]]:
            if not description:
                return
            while True:
                try:
                    rows = cursor.fetchmany(10_000)
                except duckdb.Error as exc:
                    raise EngineError(str(exc)) from exc
                if not rows:
                    return
                yield rows

        return columns, batches()

    # -- lifecycle --------------------------------------------------------------------------------

    def reset(self) -> None:
        """Detach and delete every catalog's database."""
        with self._lock:
            for catalog in sorted(self._attached):
                self.detach(catalog, delete=True)
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir.mkdir(parents=True, exist_ok=True)

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self._attached.clear()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def databricks_message(text: str) -> str:
    """DuckDB's message in Databricks words where they differ, without the engine's catalog prefix."""
    text = re.sub(r'"?uc_([A-Za-z0-9_]+)"?\.', r"\1.", text)
    text = text.replace("uc_", "")
    first = text.splitlines()[0] if text.strip() else "The statement failed."
    if "Table with name" in text and "does not exist" in text:
        return f"[TABLE_OR_VIEW_NOT_FOUND] {first}"
    if "Parameter/argument count mismatch" in text or ("parameter" in text.lower() and "not" in text.lower()):
        return f"[UNBOUND_SQL_PARAMETER] {first}"
    return first
