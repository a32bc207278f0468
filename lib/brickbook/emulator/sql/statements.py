"""Statement Execution: the lifecycle of one SQL statement on the engine, and the query history.

PENDING -> RUNNING -> SUCCEEDED | FAILED | CANCELED; a SUCCEEDED statement becomes CLOSED (results
gone) an hour after it finished, on the emulator clock. Statements run in worker threads, never on
the event loop. A statement that fails (bad SQL, a missing table, missing privileges) is a FAILED
statement (HTTP 200 with ``status.error``); only a malformed request is an HTTP error.

Tests make a statement outlive ``wait_timeout`` deterministically with the emulator setting
``statement_hold_seconds``: the statement runs at once but reports RUNNING until the emulator clock
has moved that many seconds past its submission (cancel still wins). With 0 (the default) a
request waits up to ``wait_timeout`` of real time for the engine, which finishes small statements
in milliseconds.

Every statement is recorded in the store as a query history entry (``QueryInfo``).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import duckdb

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.sql.engine import Column
from brickbook.emulator.sql.requests import HistoryQuery
from brickbook.emulator.sql.results import Result
from brickbook.emulator.state.paging import page_of

__all__ = ["HISTORY_KIND", "TERMINAL", "Statement", "Statements"]

HISTORY_KIND = "sql_query"
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELED", "CLOSED")
RESULT_TTL_SECONDS = 3600
MAX_KEPT = 1000  # statements whose results are kept in memory; older ones leave only history
RESULTS_BUDGET_BYTES = 1024 * 1024 * 1024  # past this, the oldest results are dropped (CLOSED)
_HISTORY_STATUS = {
    "PENDING": "QUEUED",
    "RUNNING": "RUNNING",
    "SUCCEEDED": "FINISHED",
    "CLOSED": "FINISHED",
    "FAILED": "FAILED",
    "CANCELED": "CANCELED",
}
MAX_QUERY_TEXT = 10_000


@dataclass
class Statement:
    """One submitted statement. ``state`` is the engine's truth; ``visible_state`` applies the hold."""

    statement_id: str
    text: str
    warehouse_id: str
    user_name: str
    submitted_at: float
    hold_until: float
    statement_type: str = "OTHER"
    state: str = "PENDING"
    error: tuple[str, str] | None = None
    sql_state: str | None = None
    result: Result | None = None
    finished_at: float | None = None
    cursor: duckdb.DuckDBPyConnection | None = None
    done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Statements:
    """Submitted statements by id, the worker pool, and the history records."""

    def __init__(self, store: Any, clock: Callable[[], float], hold_seconds: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        self._hold_seconds = hold_seconds
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="emulator-sql")
        self._kept: OrderedDict[str, Statement] = OrderedDict()
        self._lock = threading.Lock()

    def new(self, *, text: str, warehouse_id: str, user_name: str) -> Statement:
        now = self._clock()
        statement = Statement(
            statement_id=str(uuid.uuid4()),
            text=text,
            warehouse_id=warehouse_id,
            user_name=user_name,
            submitted_at=now,
            hold_until=now + self._hold_seconds(),
            statement_type=_first_word(text),
        )
        with self._lock:
            self._kept[statement.statement_id] = statement
            while len(self._kept) > MAX_KEPT:
                self._kept.popitem(last=False)
        self.record(statement)
        return statement

    def start(self, statement: Statement, work: Callable[[Statement], None]) -> None:
        """Run ``work`` in a worker thread; it ends the statement with ``finish``."""
        self._pool.submit(self._run, statement, work)

    def _run(self, statement: Statement, work: Callable[[Statement], None]) -> None:
        with statement.lock:
            if statement.state != "PENDING":
                return
            statement.state = "RUNNING"
        self.record(statement)
        try:
            work(statement)
        except Exception as exc:  # an engine bug must still end the statement
            self.finish(statement, "FAILED", error=("INTERNAL_ERROR", f"{type(exc).__name__}: {exc}"))

    def finish(
        self,
        statement: Statement,
        state: str,
        *,
        result: Result | None = None,
        error: tuple[str, str] | None = None,
        sql_state: str | None = None,
    ) -> None:
        with statement.lock:
            if statement.state in TERMINAL:
                return
            statement.state = state
            statement.result = result if state == "SUCCEEDED" else None
            statement.error = error
            statement.sql_state = sql_state
            statement.finished_at = self._clock()
            statement.cursor = None
        statement.done.set()
        self.record(statement)
        if result is not None:
            self._keep_within_budget()

    def _keep_within_budget(self) -> None:
        """Close the oldest statements' results while all results together exceed the budget."""
        with self._lock:
            kept = list(self._kept.values())
        total = sum(s.result.total_bytes for s in kept if s.result is not None)
        for statement in kept:
            if total <= RESULTS_BUDGET_BYTES:
                return
            with statement.lock:
                if statement.result is None:
                    continue
                total -= statement.result.total_bytes
                statement.result = None
                statement.state = "CLOSED"

    def get(self, statement_id: str, principal: Any) -> Statement:
        with self._lock:
            statement = self._kept.get(statement_id)
        if statement is None or not (principal.is_admin or principal.user_name == statement.user_name):
            raise ApiError("NOT_FOUND", f"Statement '{statement_id[:64]}' not found.", status=404)
        return statement

    def cancel(self, statement: Statement) -> None:
        """Cancel a statement that has not ended (as its caller sees it); otherwise nothing happens."""
        with statement.lock:
            if self.visible_state(statement) in TERMINAL:
                return
            cursor = statement.cursor
            statement.state = "CANCELED"
            statement.result = None
            statement.error = None
            statement.finished_at = self._clock()
        if cursor is not None:
            cursor.interrupt()
        statement.done.set()
        self.record(statement)

    def visible_state(self, statement: Statement) -> str:
        now = self._clock()
        if statement.state != "CANCELED" and now < statement.hold_until:
            return "RUNNING"
        finished = statement.finished_at
        if statement.state == "SUCCEEDED" and finished is not None:
            return "CLOSED" if now - max(finished, statement.hold_until) > RESULT_TTL_SECONDS else "SUCCEEDED"
        return statement.state

    def first_state(self, statement: Statement) -> str:
        """What a ``wait_timeout=0s`` answer shows: PENDING, unless it failed before it could start."""
        failed_early = statement.state == "FAILED" and not self.held(statement)
        return "FAILED" if failed_early else "PENDING"

    def held(self, statement: Statement) -> bool:
        return self._clock() < statement.hold_until

    def shutdown(self) -> None:
        with self._lock:
            running = [s for s in self._kept.values() if s.cursor is not None]
        for statement in running:
            self.cancel(statement)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def forget_all(self) -> None:
        with self._lock:
            kept = list(self._kept.values())
            self._kept.clear()
        for statement in kept:
            if statement.cursor is not None:
                statement.cursor.interrupt()

    # -- the wire shape ---------------------------------------------------------------------------

    def response(self, statement: Statement, *, state: str | None = None) -> dict[str, Any]:
        """``StatementResponse``: status, and once SUCCEEDED the manifest and chunk 0."""
        shown = state or self.visible_state(statement)
        status: dict[str, Any] = {"state": shown}
        if shown == "FAILED" and statement.error is not None:
            status["error"] = {"error_code": statement.error[0], "message": statement.error[1]}
            if statement.sql_state:
                status["sql_state"] = statement.sql_state
        body: dict[str, Any] = {"statement_id": statement.statement_id, "status": status}
        if shown == "SUCCEEDED" and statement.result is not None:
            body["manifest"] = statement.result.manifest()
            if statement.result.chunks:
                body["result"] = statement.result.chunk(statement.statement_id, 0)
            else:
                body["result"] = {"chunk_index": 0, "row_offset": 0, "row_count": 0}
        return body

    def chunk(self, statement: Statement, index: str) -> dict[str, Any]:
        state = self.visible_state(statement)
        if state != "SUCCEEDED" or statement.result is None:
            raise ApiError(
                "INVALID_PARAMETER_VALUE" if state != "CLOSED" else "RESOURCE_DOES_NOT_EXIST",
                f"Statement {statement.statement_id} has no result to fetch: its state is {state}.",
                status=None if state != "CLOSED" else 404,
            )
        count = len(statement.result.chunks)
        if not index.isdigit() or int(index) >= max(count, 1):
            raise invalid(
                f"chunk_index {index[:20]} is out of range (0-{max(count - 1, 0)}).",
            )
        if not count:
            return {"chunk_index": 0, "row_offset": 0, "row_count": 0}
        return statement.result.chunk(statement.statement_id, int(index))

    # -- history ----------------------------------------------------------------------------------

    def history(self, principal: Any, query: HistoryQuery) -> dict[str, Any]:
        """``ListQueriesResponse``: the caller's statements (all for an admin), newest first, one page."""
        entries = [
            info
            for _, info in reversed(self._store.items(HISTORY_KIND))
            if (principal.is_admin or info["user_name"] == principal.user_name) and query.keeps(info)
        ]
        page = page_of(entries, query.offset, query.limit)
        answer: dict[str, Any] = {"has_next_page": page.next_token is not None}
        if page.items:
            answer["res"] = page.items
        if page.next_token:
            answer["next_page_token"] = page.next_token
        return answer

    def record(self, statement: Statement) -> None:
        state = statement.state
        start_ms = int(statement.submitted_at * 1000)
        info: dict[str, Any] = {
            "query_id": statement.statement_id,
            "status": _HISTORY_STATUS[state],
            "query_text": statement.text[:MAX_QUERY_TEXT],
            "statement_type": statement.statement_type,
            "warehouse_id": statement.warehouse_id,
            "endpoint_id": statement.warehouse_id,
            "user_name": statement.user_name,
            "executed_as_user_name": statement.user_name,
            "query_start_time_ms": start_ms,
            "is_final": state in TERMINAL,
            "client_application": "brickbook-emulator",
        }
        if statement.finished_at is not None:
            end_ms = int(statement.finished_at * 1000)
            info.update(query_end_time_ms=end_ms, execution_end_time_ms=end_ms, duration=end_ms - start_ms)
        if statement.result is not None:
            info["rows_produced"] = statement.result.total_rows
        if statement.error is not None:
            info["error_message"] = statement.error[1][:MAX_QUERY_TEXT]
        self._store.put(HISTORY_KIND, statement.statement_id, info)


def _first_word(text: str) -> str:
    words = text.split(None, 1)
    return words[0].upper()[:32] if words and words[0].isalpha() else "OTHER"


def counts_result(count: int, statement_type: str) -> Result:
    """What Databricks answers for DML: ``num_affected_rows`` (and ``num_inserted_rows`` for INSERT)."""
    columns = [Column("num_affected_rows", "BIGINT")]
    row = [str(count)]
    if statement_type in ("INSERT", "CREATE"):
        columns.append(Column("num_inserted_rows", "BIGINT"))
        row.append(str(count))
    return Result(columns, chunks=[json.dumps([row])], row_counts=[1])
