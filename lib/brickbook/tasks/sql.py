"""SQL tasks: warehouses (list, get, start, stop, create, edit, delete), execute a statement, query history.

``sql.execute`` runs one statement to the end (``brickbook.ops.sql``) and streams every row, in constant
memory, to stdout or ``--out``: CSV with a header row (``-o csv``; also the default when stdout is not a
terminal), JSON lines (``-o json``), or a table (``-o table``; the default on a terminal). The warehouse
defaults to configuration (``DATABRICKS_WAREHOUSE_ID``, a profile's ``warehouse_id``, or the invoke
config's ``brickbook.warehouse_id``). A failed statement is exit 7 with the engine's message; the
``--timeout`` deadline cancels it (exit 8), and so does Ctrl-C (exit 130).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import TYPE_CHECKING, Any

from invoke.parser.argument import Argument

from brickbook.command import Invocation, command
from brickbook.errors import UsageError, WarehouseNotRunning
from brickbook.options import shown
from brickbook.output import render_table, render_text
from brickbook.redaction import redact

if TYPE_CHECKING:
    from invoke.tasks import Task

    from brickbook.api.sql import Warehouse

__all__ = [
    "create",
    "delete",
    "edit",
    "execute",
    "history",
    "start",
    "stop",
    "warehouse_get",
    "warehouses",
]

ID_HELP = {"warehouse_id": "The warehouse's id, e.g. 1234567890abcdef."}
TIMEOUT_HELP = "Give up waiting after this long: 90, 90s, 20m or 2h (exit 8). Default: no limit."
SPEC_HELP = {
    "json": "The warehouse spec as inline JSON, or @path to a JSON file (the body of sql/warehouses).",
    "file": "The warehouse spec as a .json, .yaml or .yml file.",
}
TABLE_BATCH = 1000  # rows per table block on a terminal: the widths are measured per block
QUERY_STATUSES = ("QUEUED", "STARTED", "COMPILING", "COMPILED", "RUNNING", "FINISHED", "FAILED", "CANCELED")


def warehouse_id_arg(value: str, what: str = "WAREHOUSE_ID") -> str:
    """Check a warehouse id before any request (``brickbook.ops.sql.check_warehouse_id``)."""
    from brickbook.ops.sql import check_warehouse_id

    return check_warehouse_id(value, what)


def _timeout(timeout: str | None) -> float | None:
    from brickbook.waiting import parse_duration

    return parse_duration(timeout)


def _summary(done: str, info: Warehouse, action: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        done: info.id,
        "id": info.id,
        "name": info.name,
        "action": action,
        "state": str(info.state or ""),
    }
    if info.health_message:
        result["health"] = info.health_message
    return result


def _warehouse_row(raw: Mapping[str, Any]) -> dict[str, Any]:
    from brickbook.api.sql import Warehouse

    info = Warehouse.from_api(dict(raw))
    return {
        "id": info.id,
        "name": info.name,
        "state": info.state,
        "size": info.cluster_size,
        "clusters": f"{info.min_num_clusters or 1}-{info.max_num_clusters or 1}",
        "auto_stop_mins": info.auto_stop_mins,
        "type": info.warehouse_type,
        "serverless": info.enable_serverless_compute,
        "creator": info.creator_name,
    }


@command(text=lambda rows: render_table([_warehouse_row(r) for r in rows]))
def warehouses(inv: Invocation) -> list[Any]:
    """List the workspace's SQL warehouses: id, name, state, size."""
    from brickbook.api import sql

    return [w.raw for w in sql.list_warehouses(inv.client)]


@command(help=ID_HELP, text=lambda raw: render_text({**_warehouse_row(raw), "health": raw.get("health")}))
def warehouse_get(inv: Invocation, warehouse_id: str) -> Any:
    """Show one SQL warehouse: state, size, auto-stop and health (-o json: everything)."""
    from brickbook.api import sql

    return sql.get_warehouse(inv.client, warehouse_id_arg(warehouse_id)).raw


@command(
    help={
        **ID_HELP,
        "wait": "Wait until it is RUNNING (exit 7 if it stops instead).",
        "timeout": TIMEOUT_HELP,
    }
)
def start(inv: Invocation, warehouse_id: str, *, wait: bool = False, timeout: str | None = None) -> Any:
    """Start a SQL warehouse (nothing to do when it runs or is starting)."""
    from brickbook.api import sql
    from brickbook.ops import warehouses as ops

    checked = warehouse_id_arg(warehouse_id)
    seconds = _timeout(timeout)
    change = ops.plan_warehouse_running(inv.context, checked)
    ops.apply_warehouse_running(inv.context, change, wait=wait, timeout=seconds)
    action = change.reason if not change.changed else ("started" if wait else "starting")
    return _summary("started", sql.get_warehouse(inv.client, checked), action)


@command(help={**ID_HELP, "wait": "Wait until it is STOPPED.", "timeout": TIMEOUT_HELP})
def stop(inv: Invocation, warehouse_id: str, *, wait: bool = False, timeout: str | None = None) -> Any:
    """Stop a SQL warehouse (nothing to do when it is stopped or stopping)."""
    from brickbook.api import sql
    from brickbook.ops import warehouses as ops

    checked = warehouse_id_arg(warehouse_id)
    seconds = _timeout(timeout)
    change = ops.plan_warehouse_stopped(inv.context, checked)
    ops.apply_warehouse_stopped(inv.context, change, wait=wait, timeout=seconds)
    action = change.reason if not change.changed else ("stopped" if wait else "stopping")
    return _summary("stopped", sql.get_warehouse(inv.client, checked), action)


@command(help={**SPEC_HELP, "wait": "Wait until the new warehouse is RUNNING.", "timeout": TIMEOUT_HELP})
def create(
    inv: Invocation,
    *,
    json: str | None = None,
    file: str | None = None,
    wait: bool = False,
    timeout: str | None = None,
) -> Any:
    """Create a SQL warehouse from a JSON or YAML spec; the spec is checked before anything is sent."""
    from brickbook.ops import warehouses as ops
    from brickbook.specs import load_spec

    spec = load_spec(json, file)
    ops.check_warehouse_spec(spec, creating=True)
    seconds = _timeout(timeout)
    info = ops.create(inv.context, spec, wait=wait, timeout=seconds)
    return _summary("created", info, "created and running" if wait else "created")


@command(help={**ID_HELP, **SPEC_HELP})
def edit(inv: Invocation, warehouse_id: str, *, json: str | None = None, file: str | None = None) -> Any:
    """Change a SQL warehouse's settings from a JSON or YAML spec (the fields given are replaced)."""
    from brickbook.api import sql
    from brickbook.ops import warehouses as ops
    from brickbook.specs import load_spec

    checked = warehouse_id_arg(warehouse_id)
    spec = load_spec(json, file)
    ops.check_warehouse_spec(spec, creating=False)
    sql.edit_warehouse(inv.client, checked, spec)
    return _summary("edited", sql.get_warehouse(inv.client, checked), "edited")


@command(help=ID_HELP)
def delete(inv: Invocation, warehouse_id: str) -> Any:
    """Delete a SQL warehouse."""
    from brickbook.ops import warehouses as ops

    checked = warehouse_id_arg(warehouse_id)
    ops.delete(inv.context, checked)
    return {"deleted": checked, "id": checked, "action": "deleted"}


# -- execute -----------------------------------------------------------------------------------------


def schema_arg(value: str | None, what: str) -> str | None:
    """Check a --catalog or --schema name (one Unity Catalog name part)."""
    if value is None:
        return None
    from brickbook.ops.unity import split_name

    split_name(value, 1, what=what)
    return value


def resolve_warehouse(inv: Invocation, warehouse_id: str | None) -> str:
    """Return the warehouse a statement goes to: the option, else configuration, else a usage error."""
    if warehouse_id is not None:
        return warehouse_id_arg(warehouse_id, "--warehouse-id")
    configured = inv.config.warehouse_id
    if configured is None:
        raise UsageError(
            "no SQL warehouse given: pass --warehouse-id, or set DATABRICKS_WAREHOUSE_ID "
            "(or warehouse_id in the profile)"
        )
    return warehouse_id_arg(configured, "the configured warehouse_id")


def _write_stdout(text: str) -> None:
    sys.stdout.write(text)


def stream_table(records: Iterable[Mapping[str, Any]], columns: list[str] | None = None) -> int:
    """Print rows as tables of TABLE_BATCH rows each (constant memory); return the count."""
    count = 0
    source = iter(records)
    while batch := list(islice(source, TABLE_BATCH)):
        sys.stdout.write(("\n" if count else "") + redact(render_table(batch, columns)) + "\n")
        sys.stdout.flush()
        count += len(batch)
    if not count:
        sys.stdout.write("(none)\n")
    return count


def _as_dicts(columns: list[str], records: Iterator[list[str | None]]) -> Iterator[dict[str, Any]]:
    for record in records:
        yield dict(zip(columns, record, strict=False))


@command(
    help={
        "statement": 'The SQL text, e.g. "SELECT * FROM main.sales.orders WHERE day = :day".',
        "file": "Read the SQL text from this file instead.",
        "warehouse_id": "The warehouse to run on. Default: DATABRICKS_WAREHOUSE_ID or the profile's.",
        "catalog": "The default catalog for unqualified names.",
        "schema": "The default schema for unqualified names.",
        "param": "A named parameter as NAME=VALUE, for :NAME in the text (sent as a parameter, never "
        "pasted into the text); repeat for more.",
        "timeout": "Give up after this long, the warehouse's start included: 90s, 20m, 2h; the statement is "
        "cancelled (exit 8). Default: no limit.",
        "start": "Start the warehouse if it is stopped (default: exit 5 saying so).",
        "out": "Write the rows to this file (atomically: complete or not at all) instead of stdout.",
        "overwrite": "Replace --out if it exists.",
        "output": "Rows as csv, json (JSON lines) or table; text (default) is a table on a terminal, csv "
        "otherwise.",
    },
    iterable=["param"],
    positional=["statement"],
    formats=("csv", "table"),
)
def execute(
    inv: Invocation,
    statement: str | None = None,
    *,
    file: str | None = None,
    warehouse_id: str | None = None,
    catalog: str | None = None,
    schema: str | None = None,
    param: list[str] | None = None,
    timeout: str | None = None,
    start: bool = False,
    out: str | None = None,
    overwrite: bool = False,
) -> Any:
    """Run a SQL statement on a warehouse and stream every row (CSV, JSON lines or a table)."""
    from brickbook.localfs import check_target, local_path
    from brickbook.ops import sql as ops

    text = ops.read_statement(statement, file)
    params = ops.statement_params(param)
    seconds = _timeout(timeout)
    catalog, schema = schema_arg(catalog, "--catalog"), schema_arg(schema, "--schema")
    fmt = inv.requested_output
    if out is not None and fmt == "table":
        raise UsageError("-o table is for a terminal: write --out as -o csv or -o json")
    dest = local_path(out) if out is not None else None
    if dest is not None:
        check_target(dest, overwrite=overwrite)
    wanted = ops.Statement(text, resolve_warehouse(inv, warehouse_id), catalog, schema, params)
    try:
        executed = ops.execute(inv.context, wanted, timeout=seconds, start=start)
    except WarehouseNotRunning as stopped:
        stopped.with_hint(f"add --start, or start it with: brickbook sql.start {wanted.warehouse_id}")
        raise
    row_format: ops.RowFormat = "json" if fmt == "json" else "csv"
    if dest is not None:
        return ops.export(inv.context, executed, dest, row_format)
    columns = [c.name for c in executed.response.columns]
    if fmt == "table" or (fmt == "text" and sys.stdout.isatty()):
        stream_table(_as_dicts(columns, ops.rows(inv.context, executed.response)), columns)
    else:
        ops.write_batches(_write_stdout, columns, ops.batches(inv.context, executed.response), row_format)
    sys.stdout.flush()
    return None


# -- history -----------------------------------------------------------------------------------------


def _statuses(given: list[str] | None) -> list[str]:
    statuses = [s.strip().upper() for s in given or []]
    for status, raw in zip(statuses, given or [], strict=True):
        if status not in QUERY_STATUSES:
            raise UsageError(f"--status must be one of {', '.join(QUERY_STATUSES)}, not {shown(raw)}")
    return statuses


def since_ms(value: str | None, now: float) -> int | None:
    """Read --since: a duration back from now (``90m``, ``2h``) or an ISO date/time (UTC unless given)."""
    import datetime

    from brickbook.waiting import parse_duration

    if value is None:
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?[smh]", text):
        seconds = parse_duration(text, "--since")
        return int((now - (seconds or 0)) * 1000)
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--since must be a duration such as 90m or 2h, or a date such as 2026-11-30, not {shown(value)}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp() * 1000)


def _history_row(q: Mapping[str, Any]) -> dict[str, Any]:
    text = " ".join(str(q.get("query_text") or "").split())
    return {
        "query_id": q.get("query_id"),
        "status": q.get("status"),
        "warehouse_id": q.get("warehouse_id") or q.get("endpoint_id"),
        "user": q.get("user_name") or q.get("executed_as_user_name"),
        "duration_ms": q.get("duration"),
        "rows": q.get("rows_produced"),
        "query": text,
    }


@command(
    help={
        "warehouse_id": "Only queries on this warehouse.",
        "status": "Only queries in this status (repeatable): " + ", ".join(QUERY_STATUSES) + ".",
        "since": "Only queries started since: a duration back from now (90m, 2h) or a date/time "
        "(2026-11-30, 2026-11-30T08:00:00+01:00).",
    },
    iterable=["status"],
)
def history(
    inv: Invocation,
    *,
    warehouse_id: str | None = None,
    status: list[str] | None = None,
    since: str | None = None,
) -> Any:
    """List the query history, newest first, every page (streamed: rows print as pages arrive)."""
    import json

    from brickbook.api import sql

    warehouses_ = [warehouse_id_arg(warehouse_id, "--warehouse-id")] if warehouse_id is not None else None
    statuses = _statuses(status)
    start_ms = since_ms(since, inv.context.wall())
    queries = sql.list_queries(inv.client, warehouse_ids=warehouses_, statuses=statuses, since_ms=start_ms)
    if inv.output == "json":
        sys.stdout.write("[")
        for index, query in enumerate(queries):
            sys.stdout.write(("," if index else "") + "\n  " + redact(json.dumps(query)))
        sys.stdout.write("\n]\n")
    else:
        stream_table(_history_row(q) for q in queries)
    sys.stdout.flush()
    return None


class _FileArgument(Argument):
    """``--file``: given, it stands in for the positional statement (invoke requires every positional).

    The statement is then ``""``, which ``read_statement`` reads as not given; text given as well comes
    first (``sql.execute "SELECT 1" --file q.sql`` is refused there) or is an unknown token after it.
    """

    statement: Argument | None = None

    def set_value(self, value: Any, cast: bool = True) -> None:
        super().set_value(value, cast)
        if self.statement is not None and self.statement.value is None:
            self.statement.set_value("", cast=False)


def _statement_or_file(task: Task[Any]) -> None:
    """Let ``--file`` stand in for the positional statement of ``task`` (see ``_FileArgument``)."""
    original = task.get_arguments

    def get_arguments(ignore_unknown_help: bool | None = None) -> list[Argument]:
        arguments = original(ignore_unknown_help=ignore_unknown_help)
        by_name = {argument.name: argument for argument in arguments}
        file_argument = by_name["file"]
        file_argument.__class__ = _FileArgument
        file_argument.statement = by_name["statement"]  # type: ignore[attr-defined]  # just made one
        return arguments

    task.get_arguments = get_arguments  # type: ignore[method-assign]  # this one task's arguments only


_statement_or_file(execute)
