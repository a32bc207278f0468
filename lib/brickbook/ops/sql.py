"""Run one SQL statement to the end and stream its rows, in constant memory whatever the row count.

``execute`` finishes the job the Statement Execution API leaves to its caller:

- the warehouse must be RUNNING (a stopped one is started only when asked, else ``WarehouseNotRunning``);
- the statement is submitted with a short ``wait_timeout`` and ``on_wait_timeout=CONTINUE``, then polled
  through the shared waiter until a terminal state: FAILED or CANCELED raise ``RunFailed`` (exit 7) with
  the engine's message (the service answers a failed statement with HTTP 200);
- the local deadline (warehouse start included) cancels the statement and raises ``WaitTimeout`` (exit 8);
  Ctrl-C cancels it too before the interrupt goes on (exit 130).

``rows`` then walks every INLINE chunk through ``next_chunk_index``, fetching the next chunk while the
current one is written (``ops.transfer.read_ahead``): at most two chunks are alive at once. ``write_rows``
writes CSV (with a header row) or JSON lines, and ``export`` lands them in a file atomically (nothing
half-written on failure, through ``brickbook.localfs``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from brickbook.api import sql
from brickbook.api.sql import TERMINAL, ResultChunk, StatementResponse, StatementState, WarehouseState
from brickbook.errors import RunFailed, UsageError, WaitTimeout, WarehouseNotRunning
from brickbook.ops import warehouses
from brickbook.options import shown
from brickbook.waiting import Observation, wait_for

if TYPE_CHECKING:
    from brickbook.context import Context

__all__ = [
    "DEFAULT_WAIT_TIMEOUT",
    "Executed",
    "RowFormat",
    "Statement",
    "batches",
    "check_warehouse_id",
    "ensure_ready",
    "execute",
    "export",
    "observe_statement",
    "read_statement",
    "rows",
    "statement_params",
    "write_batches",
    "write_rows",
]

RowFormat = Literal["csv", "json"]
# The server holds the submit this long for a quick answer; a longer statement is polled instead.
DEFAULT_WAIT_TIMEOUT = "5s"
_FLUSH_CHARS = 1 << 20  # text is written in pieces of about this size
MAX_STATEMENT_BYTES = 16 * 1024 * 1024  # the Statement Execution API's limit on the text
MAX_PARAMS = 256
MAX_PARAM_VALUE = 64 * 1024
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")


@dataclass(frozen=True)
class Statement:
    """What to run: the SQL text, where, and its named parameters (``:name`` in the text)."""

    text: str
    warehouse_id: str
    catalog: str | None = None
    schema: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    row_limit: int | None = None


@dataclass(frozen=True)
class Executed:
    """A statement that SUCCEEDED, and whether this call started its warehouse."""

    response: StatementResponse
    started_warehouse: bool = False

    @property
    def statement_id(self) -> str:
        """Return the statement's id."""
        return self.response.statement_id


# -- checks before any request -------------------------------------------------------------------


def check_warehouse_id(value: str, what: str = "WAREHOUSE_ID") -> str:
    """Check a warehouse id before any request: letters, digits, ``-``, ``_``, ``.``; at most 100."""
    if not _ID.fullmatch(value):
        raise UsageError(f"{what} must be a warehouse id such as 1234567890abcdef, not {shown(value)}")
    return value


def read_statement(statement: str | None, file: str | None, *, option: str = "--file") -> str:
    """Return the SQL text given inline or in ``--file`` (exactly one; not blank; at most 16 MiB)."""
    from pathlib import Path

    statement = statement or None  # left out on the command line: ""
    if statement is None and file is None:
        raise UsageError('the statement is empty: give it inline ("SELECT ...") or with --file FILE')
    if statement is not None and file is not None:
        raise UsageError('give the statement either inline ("SELECT ...") or with --file FILE, not both')
    if file is not None:
        try:
            with Path(file).open("rb") as stream:
                raw = stream.read(MAX_STATEMENT_BYTES + 1)
        except OSError as error:
            raise UsageError(f"{option}: cannot read {shown(file)}: {error.strerror or error}") from None
        try:
            statement = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{option}: {shown(file)} is not UTF-8 text") from None
        size = len(raw)
    else:
        assert statement is not None  # one of the two is set: checked above
        size = len(statement.encode("utf-8", "surrogatepass"))
    if size > MAX_STATEMENT_BYTES:
        raise UsageError("the statement is larger than 16 MiB, the most the Statement Execution API takes")
    if not statement.strip():
        raise UsageError("the statement is empty")
    if "\x00" in statement:
        raise UsageError("the statement contains a NUL character")
    return statement


def statement_params(param: list[str] | None) -> dict[str, str]:
    """Read ``--param name=value`` (a ``:name`` in the text); names are SQL identifiers, values bounded."""
    from brickbook.options import parse_params

    params = parse_params(param)
    if len(params) > MAX_PARAMS:
        raise UsageError(f"at most {MAX_PARAMS} --param values, not {len(params)}")
    for name, value in params.items():
        bare = name[1:] if name.startswith(":") else name
        if not _PARAM_NAME.fullmatch(bare):
            raise UsageError(
                f"--param name must be a SQL identifier such as day or min_total, not {shown(name)}"
            )
        if len(value) > MAX_PARAM_VALUE or "\x00" in value:
            raise UsageError(f"--param {bare}: the value must be at most 64 KiB of text without NUL")
    return {name.lstrip(":"): value for name, value in params.items()}


def _left(ctx: Context, started: float, timeout: float | None) -> float | None:
    return None if timeout is None else max(0.0, timeout - (ctx.clock() - started))


def ensure_ready(ctx: Context, warehouse_id: str, *, start: bool, timeout: float | None) -> bool:
    """Make sure the warehouse runs before a statement goes to it; return whether this call started it.

    RUNNING: nothing to do. STARTING: wait for RUNNING. A serverless warehouse starts on demand: the
    statement is sent as it is. Otherwise, STOPPED or STOPPING: start it when ``start``, else
    ``WarehouseNotRunning`` (exit 5) before anything is sent.
    """
    info = sql.get_warehouse(ctx.client, warehouse_id)
    state = info.state
    if state == WarehouseState.RUNNING:
        return False
    if info.enable_serverless_compute and state not in warehouses.GONE:
        return False  # serverless warehouses start on demand, within seconds: the statement waits
    if state == WarehouseState.STARTING:
        warehouses.wait_for_state(ctx, warehouse_id, WarehouseState.RUNNING, timeout=timeout)
        return False
    if state not in warehouses.GONE and not start:
        raise WarehouseNotRunning(f"warehouse {warehouse_id} is {state}: a statement needs it RUNNING")
    change = warehouses.plan_warehouse_running(ctx, warehouse_id)  # WarehouseGone when deleted
    warehouses.apply_warehouse_running(ctx, change, wait=True, timeout=timeout)
    return change.changed


def observe_statement(ctx: Context, statement_id: str) -> Observation[StatementResponse]:
    """Look at a statement once: done in a terminal state, failed unless SUCCEEDED."""
    return _observation(sql.get_statement(ctx.client, statement_id))


def _observation(response: StatementResponse) -> Observation[StatementResponse]:
    state = response.state
    failure = None
    if state == StatementState.FAILED:
        failure = f"failed: {response.error_message or 'no message from the engine'}"
    elif state in TERMINAL and state != StatementState.SUCCEEDED:
        failure = f"ended {state}" + (f": {response.error_message}" if response.error_message else "")
    return Observation(value=response, state=str(state), done=state in TERMINAL, failure=failure)


def _cancel(ctx: Context, statement_id: str, why: str) -> None:
    """Cancel a statement on the way out; a failure to cancel is logged, never raised over the cause."""
    try:
        sql.cancel_statement(ctx.client, statement_id)
        ctx.log.info("statement.cancelled", statement_id=statement_id, reason=why)
    except Exception as error:  # the original failure matters more than this one
        ctx.log.warning("statement.cancel_failed", statement_id=statement_id, error=str(error))


def execute(
    ctx: Context,
    statement: Statement,
    *,
    timeout: float | None,
    start: bool = False,
    wait_timeout: str = DEFAULT_WAIT_TIMEOUT,
) -> Executed:
    """Run a statement until it SUCCEEDED; return it with its manifest and first chunk.

    ``timeout`` bounds everything (the warehouse's start, the statement's run); passing it cancels the
    statement (WaitTimeout, exit 8). FAILED / CANCELED / CLOSED raise RunFailed (exit 7).
    """
    started = ctx.clock()
    started_warehouse = ensure_ready(ctx, statement.warehouse_id, start=start, timeout=timeout)
    first = sql.execute_statement(
        ctx.client,
        statement=statement.text,
        warehouse_id=statement.warehouse_id,
        catalog=statement.catalog,
        schema=statement.schema,
        parameters=statement.parameters,
        wait_timeout=wait_timeout,
        row_limit=statement.row_limit,
    )
    statement_id = first.statement_id
    log = ctx.bind(statement_id=statement_id)
    log.log.info("statement.submitted", state=str(first.state), warehouse_id=statement.warehouse_id)
    what = f"statement {statement_id}"
    seen = _observation(first)
    if seen.done:
        if seen.failure:
            raise RunFailed(f"{what} {seen.failure}", result=first.raw)
        return Executed(first, started_warehouse)
    try:
        done = wait_for(
            log,
            lambda: observe_statement(ctx, statement_id),
            what=what,
            timeout=_left(ctx, started, timeout),
        )
    except WaitTimeout as late:
        _cancel(ctx, statement_id, "deadline")
        raise WaitTimeout(
            f"{what} did not finish within {timeout:g}s; it was cancelled", result=_raw(late.result)
        ) from late
    except KeyboardInterrupt:
        _cancel(ctx, statement_id, "interrupted")
        raise
    except RunFailed as failed:  # the same message, with the API object as the result (-o json shows it)
        raise RunFailed(str(failed), result=_raw(failed.result)) from failed
    return Executed(done, started_warehouse)


def _raw(result: object) -> object:
    return result.raw if isinstance(result, StatementResponse) else result


def _chunks(ctx: Context, response: StatementResponse) -> Iterator[ResultChunk]:
    """Yield the result's chunks in order: chunk 0 from the response (or fetched), then each next one."""
    total = response.manifest.get("total_chunk_count")
    if response.result is not None and "data_array" in response.result:
        chunk = ResultChunk.from_api(response.result)
    elif total == 0:
        return
    else:
        chunk = sql.get_statement_chunk(ctx.client, response.statement_id, 0)
    while True:
        yield chunk
        following = chunk.next_chunk_index
        if following is None:
            return
        if following <= chunk.chunk_index:  # a service bug must not make this loop forever
            raise RunFailed(
                f"statement {response.statement_id}: chunk {chunk.chunk_index} "
                f"names chunk {following} as the next one"
            )
        chunk = sql.get_statement_chunk(ctx.client, response.statement_id, following)


Row = list[str | None]


def batches(ctx: Context, response: StatementResponse) -> Iterator[list[Row]]:
    """Yield the rows of a SUCCEEDED statement chunk by chunk (the next fetched while this one is used)."""
    from brickbook.ops.transfer import read_ahead

    for chunk in read_ahead(_chunks(ctx, response)):
        yield chunk.data_array


def rows(ctx: Context, response: StatementResponse) -> Iterator[Row]:
    """Yield every row of a SUCCEEDED statement, one at a time (``batches``, flattened)."""
    for batch in batches(ctx, response):
        yield from batch


def write_rows(
    write: Callable[[str], object], columns: list[str], records: Iterable[Row], fmt: RowFormat
) -> int:
    """Write rows as CSV (a header row first; NULL as an empty field) or JSON lines; return the count."""
    return write_batches(write, columns, ([record] for record in records), fmt)


def write_batches(
    write: Callable[[str], object], columns: list[str], groups: Iterable[list[Row]], fmt: RowFormat
) -> int:
    """Write groups of rows (a result's chunks) as CSV or JSON lines; return the number of rows.

    Text goes to ``write`` in pieces of about 1 MiB: one write per row would dominate the time, and so
    would one ``csv`` call per row of a 100,000-row chunk.
    """
    buffer = io.StringIO()
    count = 0
    row_writer = csv.writer(buffer, lineterminator="\n")
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    if fmt == "csv":
        row_writer.writerow(columns)
    for group in groups:
        if fmt == "csv":
            row_writer.writerows(group)
        else:
            buffer.writelines(encode(dict(zip(columns, record, strict=False))) + "\n" for record in group)
        count += len(group)
        if buffer.tell() >= _FLUSH_CHARS:
            write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    write(buffer.getvalue())
    return count


def export(ctx: Context, executed: Executed, dest: Path, fmt: RowFormat) -> dict[str, Any]:
    """Write every row of a SUCCEEDED statement to ``dest`` atomically; return what was written.

    The file appears complete or not at all: a failure while fetching chunks leaves any old file as it was.
    """
    from brickbook.localfs import atomic_writer

    response = executed.response
    columns = [c.name for c in response.columns]
    with atomic_writer(dest) as handle:
        count = write_batches(lambda text: handle.write(text.encode()), columns, batches(ctx, response), fmt)
    ctx.log.info("statement.exported", statement_id=response.statement_id, rows=count, format=fmt)
    return {"statement_id": response.statement_id, "rows": count, "columns": len(columns), "out": str(dest)}


def warehouse_state(ctx: Context, warehouse_id: str) -> WarehouseState | None:
    """Return the warehouse's state (``GET sql/warehouses/{id}``)."""
    return sql.get_warehouse(ctx.client, warehouse_id).state
