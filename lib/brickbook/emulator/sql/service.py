"""The SQL service: one engine, one Unity Catalog and one statement book per emulator.

It is a shared service (``context.services.sql``). What other areas call:

- ``volume_root(catalog, schema, volume) -> Path``: where a managed volume's files live.
- ``require_volume(principal, catalog, schema, volume, *, write)``: the volume exists and the
  principal may read it (USE_CATALOG, USE_SCHEMA, READ_VOLUME) or write it (WRITE_VOLUME); raises
  ``ApiError`` NOT_FOUND / PERMISSION_DENIED otherwise.
- ``run_sql_task(principal, sql_task, read_file=...) -> str | None``: a job's ``sql_task`` (``file``
  on ``warehouse_id``) as the run's principal; None on success, else the error message.
- ``run_sql(principal, text, catalog=, schema=, parameters=)``: run statements to completion (the
  notebook ``spark.sql`` path).

A statement needs a RUNNING warehouse: the ``WarehouseGate`` (the warehouses area) decides:
``require_running`` raises the API error (a stopped classic warehouse; a serverless one starts on
demand), ``note_activity`` restarts its auto-stop timer.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.sql.catalog import CATALOG_KIND, Catalogs
from brickbook.emulator.sql.dialect import (
    Translation,
    TranslationError,
    split_statements,
    translate,
    use_target,
)
from brickbook.emulator.sql.engine import Engine, EngineError, databricks_message
from brickbook.emulator.sql.grant_sql import parse_grant
from brickbook.emulator.sql.privileges import denied
from brickbook.emulator.sql.requests import Submission
from brickbook.emulator.sql.results import Result, ResultTooLarge, collect_result, describe_result
from brickbook.emulator.sql.statements import Statement, Statements, counts_result
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.store import Store

if TYPE_CHECKING:
    from brickbook.emulator.settings import EmulatorSettings

__all__ = ["SqlService", "StatementFailure", "WarehouseGate"]

MAX_HOLD = 86400


class WarehouseGate(Protocol):
    """What a statement needs of the warehouses area (services.WarehouseGate has the same shape).

    Declared here, where it is used, so this module need not import the services that build it.
    """

    def require_running(self, warehouse_id: str, *, principal: str) -> None: ...
    def note_activity(self, warehouse_id: str) -> None: ...


class StatementFailure(Exception):
    """A statement that ends FAILED: ``error_code`` (ServiceErrorCode) and the engine's message."""

    def __init__(self, error_code: str, message: str, sql_state: str | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.sql_state = sql_state


class SqlService:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], float],
        *,
        data_dir: Path | str | None,
        admin: str,
        gate: WarehouseGate,
        chunk_rows: int = 100_000,
        hold_seconds: float = 0.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.chunk_rows = chunk_rows
        self.hold_seconds = hold_seconds  # the control API may change it until the next reset
        self._configured_hold = hold_seconds
        self.gate = gate
        self.engine = Engine(data_dir)
        if data_dir is None:
            volumes = Path(tempfile.mkdtemp(prefix="brickbook-emulator-volumes-"))
            weakref.finalize(self, shutil.rmtree, volumes, True)
        else:
            volumes = Path(data_dir) / "volumes"
        self.catalogs = Catalogs(store, self.engine, clock, volumes, admin)
        self.statements = Statements(store, clock, lambda: self.hold_seconds)
        self._lock = threading.RLock()
        self.catalogs.ensure_defaults()  # attaches what a data dir holds, or makes main.default

    @classmethod
    def from_settings(
        cls, settings: EmulatorSettings, store: Store, clock: Callable[[], float], *, gate: WarehouseGate
    ) -> SqlService:
        return cls(
            store,
            clock,
            data_dir=settings.data_dir,
            admin=settings.admin_user,
            gate=gate,
            chunk_rows=settings.statement_chunk_rows,
            hold_seconds=settings.statement_hold_seconds,
        )

    # -- lifecycle --------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every statement, catalog, table and volume (the store was cleared): an empty main."""
        with self._lock:
            self.statements.forget_all()
            self.hold_seconds = self._configured_hold
            self.engine.reset()
            self.catalogs.reset_volumes()
            self.catalogs.ensure_defaults()

    def shutdown(self) -> None:
        self.statements.shutdown()
        self.engine.close()

    # -- statements -------------------------------------------------------------------------------

    def prepare(self, principal: Principal, text: str, *, catalog: str, schema: str) -> Translation:
        """Translate and authorise one statement; StatementFailure when it may not or cannot run."""
        try:
            translation = translate(text, catalog=catalog, schema=schema, user=principal.user_name)
        except TranslationError as exc:
            raise StatementFailure("BAD_REQUEST", str(exc), "42601") from exc
        for use in translation.uses:
            self._authorise(principal, use.kind, use.full_name, use.access)
        return translation

    def _authorise(self, principal: Principal, kind: str, full: str, access: str) -> None:
        catalog = full.split(".", maxsplit=1)[0]
        if self.store.get(CATALOG_KIND, catalog) is None:
            raise StatementFailure(
                "BAD_REQUEST", f"[NO_SUCH_CATALOG_EXCEPTION] Catalog '{catalog}' was not found.", "42704"
            )
        privileges = self.catalogs.privileges
        try:
            if kind == "SCHEMA":
                privileges.require(principal, "CATALOG", catalog, "USE_CATALOG")
                if access == "create":
                    privileges.require(principal, "CATALOG", catalog, "CREATE_SCHEMA")
                else:
                    privileges.require_owner(principal, "SCHEMA", full)
                return
            privileges.require_use(principal, "TABLE", full)
            if access in ("create", "replace"):
                privileges.require(principal, "SCHEMA", full.rsplit(".", 1)[0], "CREATE_TABLE")
                if access == "replace" and self.catalogs.owner_of("TABLE", full) not in (
                    None,
                    principal.user_name,
                ):
                    privileges.require_owner(principal, "TABLE", full)  # replacing another's table
            elif access == "drop":
                privileges.require_owner(principal, "TABLE", full)
            else:
                privileges.require(principal, "TABLE", full, "SELECT" if access == "read" else "MODIFY")
        except ApiError as exc:
            message = f"[INSUFFICIENT_PERMISSIONS] Insufficient privileges: {exc.message}"
            raise StatementFailure("PERMISSION_DENIED", message, "42501") from exc

    def execute(
        self,
        statement: Statement,
        translation: Translation,
        principal: Principal,
        *,
        catalog: str,
        schema: str,
        parameters: Mapping[str, Any],
        row_limit: int | None,
    ) -> None:
        """Run a prepared statement to its end (in a worker thread); record what it created or dropped."""
        cursor = self.engine.cursor(catalog, schema)
        statement.cursor = cursor
        try:
            if statement.state != "RUNNING":
                return
            # Values for markers the statement does not use are ignored (a script shares one set).
            used = {name: value for name, value in parameters.items() if name in translation.parameters}
            columns, batches = self.engine.execute(cursor, translation.sql, used)
            result = collect_result(
                columns,
                batches,
                chunk_rows=self.chunk_rows,
                row_limit=row_limit,
                stop=lambda: statement.state != "RUNNING",
            )
            if translation.returns_counts:
                count = int(_first_value(result) or 0)
                result = counts_result(count, translation.statement_type)
            elif translation.statement_type in ("CREATE", "DROP", "ALTER", "COMMAND"):
                result = Result([])
            elif translation.statement_type == "DESCRIBE":
                result = describe_result(result)
            self._after(principal, translation)
            self.statements.finish(statement, "SUCCEEDED", result=result)
        except EngineError as exc:
            if statement.state == "CANCELED":
                return
            self.statements.finish(statement, "FAILED", error=("BAD_REQUEST", databricks_message(str(exc))))
        except ResultTooLarge as exc:
            message = f"{exc}, the brickbook emulator's limit: add a LIMIT or set row_limit."
            self.statements.finish(statement, "FAILED", error=("RESOURCE_EXHAUSTED", message))
        finally:
            statement.cursor = None
            cursor.close()

    def _after(self, principal: Principal, translation: Translation) -> None:
        for use in translation.uses:
            if use.kind == "TABLE" and use.access in ("create", "replace"):
                self.catalogs.record_table(principal, use.full_name)
            elif use.kind == "TABLE" and use.access == "drop":
                self.catalogs.forget_table(use.full_name)
            elif use.kind == "SCHEMA" and use.access == "create":
                if self.store.get("uc_schema", use.full_name) is None:
                    self.catalogs.record_schema(principal, use.full_name)
            elif use.kind == "SCHEMA" and use.access == "drop":
                self.catalogs.forget_schema(use.full_name)

    def run_sql(
        self,
        principal: Principal,
        text: str,
        *,
        catalog: str = "main",
        schema: str = "default",
        parameters: Mapping[str, Any] | None = None,
        warehouse_id: str = "",
    ) -> tuple[Statement, str, str]:
        """Run every statement in ``text`` in order, synchronously: the last Statement, catalog, schema.

        ``USE CATALOG c`` / ``USE [SCHEMA] s`` / ``USE c.s`` change the catalog and schema of the
        statements after it (and are returned, so a notebook session keeps them). Stops at the first
        statement that does not succeed (that one is returned).
        """
        last: Statement | None = None
        for piece in split_statements(text) or [text]:
            last = self.statements.new(text=piece, warehouse_id=warehouse_id, user_name=principal.user_name)
            use = use_target(piece, catalog, schema)
            if use is not None:
                catalog, schema = use
                self.statements.finish(last, "SUCCEEDED", result=Result([]))
                continue
            self.submit(
                last, principal, catalog=catalog, schema=schema, parameters=parameters or {}, row_limit=None
            )
            last.done.wait()
            if last.state != "SUCCEEDED":
                break
        assert last is not None
        return last, catalog, schema

    def start(self, principal: Principal, submission: Submission) -> Statement:
        """Check the warehouse, then start a submitted statement (it may already have FAILED)."""
        self.gate.require_running(submission.warehouse_id, principal=principal.user_name)
        statement = self.statements.new(
            text=submission.text, warehouse_id=submission.warehouse_id, user_name=principal.user_name
        )
        self.submit(
            statement,
            principal,
            catalog=submission.catalog,
            schema=submission.schema,
            parameters=submission.parameters,
            row_limit=submission.row_limit,
        )
        self.gate.note_activity(submission.warehouse_id)
        return statement

    def set_hold(self, seconds: Any) -> float:
        """Hold new statements RUNNING for ``seconds`` (0-86400) of emulator time, until the next reset."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= MAX_HOLD:
            raise invalid(f"seconds must be a number from 0 to {MAX_HOLD}.")
        self.hold_seconds = float(seconds)
        return self.hold_seconds

    def submit(
        self,
        statement: Statement,
        principal: Principal,
        *,
        catalog: str,
        schema: str,
        parameters: Mapping[str, Any],
        row_limit: int | None,
    ) -> None:
        """Prepare ``statement``; a failure ends it FAILED at once, else it starts in a worker.

        A GRANT or REVOKE changes the grants at once (sql/grant_sql.py).
        """
        grant = parse_grant(statement.text)
        if grant is not None:
            try:
                grant.apply(self.catalogs, principal, catalog=catalog, schema=schema)
            except ApiError as exc:
                code = exc.code if exc.code == "PERMISSION_DENIED" else "BAD_REQUEST"
                self.statements.finish(statement, "FAILED", error=(code, exc.message))
                return
            self.statements.finish(statement, "SUCCEEDED", result=Result([]))
            return
        try:
            translation = self.prepare(principal, statement.text, catalog=catalog, schema=schema)
        except StatementFailure as failure:
            error = (failure.error_code, failure.message)
            self.statements.finish(statement, "FAILED", error=error, sql_state=failure.sql_state)
            return
        statement.statement_type = translation.statement_type

        def work(running: Statement) -> None:
            self.execute(
                running,
                translation,
                principal,
                catalog=catalog,
                schema=schema,
                parameters=parameters,
                row_limit=row_limit,
            )

        self.statements.start(statement, work)

    # -- what other areas call --------------------------------------------------------------------

    def volume_root(self, catalog: str, schema: str, volume: str) -> Path:
        """The directory holding the files of the managed volume ``catalog.schema.volume``."""
        return self.catalogs.volume_root(catalog.lower(), schema.lower(), volume.lower())

    def require_volume(
        self, principal: Principal, catalog: str, schema: str, volume: str, *, write: bool
    ) -> None:
        """The volume exists and ``principal`` may read (or write) its files; else the API error."""
        full = f"{catalog}.{schema}.{volume}".lower()
        self.catalogs.volume(full)
        privileges = self.catalogs.privileges
        privileges.require_use(principal, "VOLUME", full)
        needed = "WRITE_VOLUME" if write else "READ_VOLUME"
        if not privileges.holds(principal, "VOLUME", full, needed):
            raise denied(needed, "VOLUME", full)

    def run_sql_task(
        self, principal: Principal, sql_task: Mapping[str, Any], *, read_file: Callable[[str], str]
    ) -> str | None:
        """Run a job's ``sql_task`` as the run's principal: None when it succeeded, else the error message.

        Only ``file: {path}`` (a workspace file of statements) runs; ``query``, ``alert`` and
        ``dashboard`` tasks fail naming the kind. ``parameters`` bind as ``:name`` STRING values.
        """
        for kind in ("query", "alert", "dashboard"):
            if kind in sql_task:
                return f"sql_task {kind} tasks are not supported by the brickbook emulator; use a file."
        file = sql_task.get("file")
        if not isinstance(file, Mapping) or not isinstance(file.get("path"), str):
            return "sql_task needs file.path: the workspace path of a .sql file."
        warehouse_id = str(sql_task.get("warehouse_id") or "")
        try:
            self.gate.require_running(warehouse_id, principal=principal.user_name)
            text = read_file(file["path"])
        except ApiError as exc:
            return exc.message
        raw = sql_task.get("parameters") or {}
        parameters = {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
        last, _, _ = self.run_sql(principal, text, parameters=parameters, warehouse_id=warehouse_id)
        self.gate.note_activity(warehouse_id)
        if last.state == "SUCCEEDED":
            return None
        return last.error[1] if last.error else f"The statement ended {last.state}."


def _first_value(result: Any) -> str | None:
    if not result.chunks:
        return None
    rows = json.loads(result.chunks[0])
    return rows[0][0] if rows and rows[0] else None
