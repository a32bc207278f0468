"""``runbook.sql-report``: run a query file on a SQL warehouse and write its rows to a CSV file.

Steps::

    warehouse W is running                          start it if it is stopped, and remember that
    rows of daily.sql are in report.csv             run the query (named parameters), write the CSV
    warehouse W is stopped again                    only if this runbook started it (also on failure)

The CSV appears complete or not at all (written beside the target and renamed). A query that fails is
exit 7 with the engine's message, and the warehouse is still stopped again if the runbook started it.
The warehouse defaults to configuration (``DATABRICKS_WAREHOUSE_ID`` or the profile's ``warehouse_id``).
``--dry-run`` shows what each step would do and sends no write: not even the query, which could write.
A re-invocation with the same key skips what is done, and still stops a warehouse an earlier invocation
of the key started.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from brickbook.errors import UsageError
from brickbook.runbook import runbook

if TYPE_CHECKING:
    from brickbook.runbook import Runbook

__all__ = ["check_options", "sql_report"]


def check_options(
    *,
    query: str,
    out: str,
    warehouse_id: str | None = None,
    param: list[str] | None = None,
    catalog: str | None = None,
    schema: str | None = None,
    timeout: str | None = None,
) -> dict[str, Any]:
    """Validate every option before the state dir, the lock or any request; return them normalised."""
    from brickbook.localfs import local_path
    from brickbook.ops.sql import check_warehouse_id, read_statement, statement_params
    from brickbook.ops.unity import split_name
    from brickbook.waiting import parse_duration

    read_statement(
        None, query, option="QUERY"
    )  # readable, UTF-8, not empty, bounded: refused now, not after the start
    params = statement_params(param)
    if warehouse_id is not None:
        check_warehouse_id(warehouse_id, "--warehouse-id")
    for value, what in ((catalog, "--catalog"), (schema, "--schema")):
        if value is not None:
            split_name(value, 1, what=what)
    parse_duration(timeout)
    if not out.strip():
        raise UsageError("OUT must name the CSV file to write")
    local_path(out)
    return {
        "query": query,
        "out": str(Path(out).absolute()),
        "warehouse_id": warehouse_id,
        "param": [f"{k}={v}" for k, v in params.items()],
        "catalog": catalog,
        "schema": schema,
        "timeout": timeout,
    }


def _warehouse(rb: Runbook, warehouse_id: str | None) -> str:
    from brickbook.ops.sql import check_warehouse_id

    if warehouse_id is not None:
        return warehouse_id
    configured = rb.ctx.client.config.warehouse_id
    if configured is None:
        raise UsageError(
            "no SQL warehouse given: pass --warehouse-id, or set DATABRICKS_WAREHOUSE_ID "
            "(or warehouse_id in the profile)"
        )
    return check_warehouse_id(configured, "the configured warehouse_id")


@runbook(
    name="sql-report",
    help={
        "query": "The .sql file to run (named parameters as :name).",
        "out": "The CSV file to write (replaced as a whole when the query succeeds).",
        "warehouse_id": "The warehouse to run on. Default: DATABRICKS_WAREHOUSE_ID or the profile's.",
        "param": "A named parameter as NAME=VALUE for :NAME in the query; repeat for more.",
        "catalog": "The default catalog for unqualified names.",
        "schema": "The default schema for unqualified names.",
        "timeout": "Longest wait for the warehouse and the query together (90s, 20m, 2h); the query is "
        "cancelled after it (exit 8). Default: no limit.",
    },
    check=check_options,
    positional=["query", "out"],
    iterable=["param"],
)
def sql_report(
    rb: Runbook,
    *,
    query: str,
    out: str,
    warehouse_id: str | None = None,
    param: list[str] | None = None,
    catalog: str | None = None,
    schema: str | None = None,
    timeout: str | None = None,
) -> None:
    """Start the warehouse if needed, run a query file to a CSV file, stop the warehouse if it started it."""
    from brickbook.ops import sql, warehouses
    from brickbook.options import parse_params
    from brickbook.waiting import parse_duration

    ctx = rb.ctx
    warehouse = _warehouse(rb, warehouse_id)
    seconds = parse_duration(timeout)
    started_at = ctx.clock()
    started = False
    try:
        with rb.step(f"warehouse {warehouse} is running") as step:
            if step.todo:
                change = warehouses.plan_warehouse_running(ctx, warehouse)
                step.add(change)
                started = change.changed
                if not rb.dry_run:
                    warehouses.apply_warehouse_running(ctx, change, wait=True, timeout=seconds)
                step.done({"started": started})
            else:
                started = bool((step.result or {}).get("started"))

        dest = Path(out)
        with rb.step(f"rows of {Path(query).name} are in {dest.name}") as step:
            if step.todo:
                if rb.dry_run:
                    step.note(f"would run {Path(query).name} on warehouse {warehouse} and write {dest}")
                    return
                statement = sql.Statement(
                    sql.read_statement(None, query, option="QUERY"),
                    warehouse,
                    catalog,
                    schema,
                    parse_params(param),
                )
                left = None if seconds is None else max(0.0, seconds - (ctx.clock() - started_at))
                executed = sql.execute(ctx, statement, timeout=left)
                written = sql.export(ctx, executed, dest, "csv")
                step.output("rows", written["rows"])
                step.output("statement_id", written["statement_id"])
                step.note(f"{written['rows']} rows written to {dest}", changed=True)
                step.done(written)
    finally:
        if started:
            _stop_again(rb, warehouse)


def _stop_again(rb: Runbook, warehouse: str) -> None:
    """Stop the warehouse this runbook started (a stop, not a wait: it stops on its own time)."""
    from brickbook.change import Action, Change
    from brickbook.ops import warehouses

    with rb.step(f"warehouse {warehouse} is stopped again (this runbook started it)") as step:
        if not step.todo:
            return
        if rb.dry_run:  # it is still stopped now: the plan is what follows the start planned above
            step.add(Change(Action.UPDATE, f"warehouse {warehouse}", ("state",), "stop it after the report"))
            return
        change = warehouses.plan_warehouse_stopped(rb.ctx, warehouse)
        step.add(change)
        warehouses.apply_warehouse_stopped(rb.ctx, change, wait=False, timeout=None)
        step.done(None)
