"""Statement execution ops against the emulator over loopback: chunks, failures, deadlines, interrupts.

The emulator here answers in chunks of 1,000 rows and holds every statement RUNNING for 3 s of its
clock, so a statement is always polled; the context's fake time drags that clock along.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from brickbook.api import sql as api
from brickbook.api.sql import WarehouseState
from brickbook.client import Client
from brickbook.config import Config
from brickbook.context import Context
from brickbook.errors import RunFailed, WaitTimeout, WarehouseNotRunning
from brickbook.ops import sql, warehouses
from tests.emulator.harness import ADMIN_TOKEN, Emu, serving
from tests.fakes import FakeTime

WAREHOUSES = "/api/2.0/sql/warehouses"
STATEMENTS = "/api/2.0/sql/statements"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emu]:
    with serving(statement_chunk_rows=1000, statement_hold_seconds=3) as running:
        yield running


@pytest.fixture
def ctx(emu: Emu) -> Iterator[Context]:
    emu.control("POST", "reset")
    fake = FakeTime(follow=emu.clock)
    client = Client(
        Config(host=emu.url, auth_type="pat", token=ADMIN_TOKEN), clock=fake.clock, sleep=fake.sleep
    )
    yield Context(client=client, clock=fake.clock, sleep=fake.sleep, rng=random.Random(0), wall=emu.clock)
    client.close()


def new_warehouse(ctx: Context, *, running: bool = True) -> str:
    """Create a warehouse through brickbook's ops; RUNNING, or stopped again."""
    info = warehouses.create(
        ctx, {"name": f"wh-{random.random()}", "cluster_size": "2X-Small"}, wait=True, timeout=None
    )
    if not running:
        change = warehouses.plan_warehouse_stopped(ctx, info.id)
        warehouses.apply_warehouse_stopped(ctx, change, wait=True, timeout=None)
    return info.id


def chunk_requests(emu: Emu) -> list[str]:
    return [str(e["path"]) for e in emu.journal() if "/result/chunks/" in str(e["path"])]


def test_rows_walk_every_chunk(ctx: Context, emu: Emu):
    """A 2,500-row result is read across its three chunks, in order, each chunk fetched once."""
    warehouse = new_warehouse(ctx)
    emu.control("DELETE", "requests")
    done = sql.execute(ctx, sql.Statement("SELECT id FROM range(2500)", warehouse), timeout=None)
    assert done.response.total_row_count == 2500
    assert [int(r[0]) for r in sql.rows(ctx, done.response)] == list(range(2500))
    assert sorted(chunk_requests(emu)) == [
        f"{STATEMENTS}/{done.statement_id}/result/chunks/{n}" for n in (1, 2)
    ]


def test_failed_statement_raises_run_failed_with_the_engine_message(ctx: Context):
    """A statement the engine rejects is RunFailed (exit 7) carrying the engine's own words."""
    warehouse = new_warehouse(ctx)
    with pytest.raises(RunFailed, match=r"statement .* failed: .*no_such_table") as failed:
        sql.execute(ctx, sql.Statement("SELECT * FROM main.default.no_such_table", warehouse), timeout=None)
    assert failed.value.exit_code == 7


def test_deadline_cancels_the_statement(ctx: Context, emu: Emu):
    """The local deadline passing cancels the statement remotely and raises WaitTimeout (exit 8)."""
    warehouse = new_warehouse(ctx)
    emu.control("DELETE", "requests")
    with pytest.raises(WaitTimeout, match="it was cancelled") as late:
        sql.execute(ctx, sql.Statement("SELECT 1 AS x", warehouse), timeout=1)
    assert late.value.exit_code == 8
    cancels = [e for e in emu.journal() if str(e["path"]).endswith("/cancel")]
    assert len(cancels) == 1
    statement_id = str(cancels[0]["path"]).split("/")[-2]
    assert api.get_statement(ctx.client, statement_id).state == api.StatementState.CANCELED


def test_interrupt_cancels_the_statement(ctx: Context, emu: Emu):
    """Ctrl-C while waiting cancels the statement before the interrupt goes on."""
    warehouse = new_warehouse(ctx)
    emu.control("DELETE", "requests")

    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    interrupted = Context(client=ctx.client, clock=ctx.clock, sleep=interrupt, rng=ctx.rng, wall=ctx.wall)
    with pytest.raises(KeyboardInterrupt):
        sql.execute(interrupted, sql.Statement("SELECT 1 AS x", warehouse), timeout=None)
    cancels = [e for e in emu.journal() if str(e["path"]).endswith("/cancel")]
    assert len(cancels) == 1


def test_stopped_warehouse_is_refused_before_the_statement_is_sent(ctx: Context, emu: Emu):
    """A stopped warehouse without start=True raises WarehouseNotRunning (exit 5) and sends nothing."""
    warehouse = new_warehouse(ctx, running=False)
    emu.control("DELETE", "requests")
    with pytest.raises(WarehouseNotRunning, match="is STOPPED") as refused:
        sql.execute(ctx, sql.Statement("SELECT 1", warehouse), timeout=None)
    assert refused.value.exit_code == 5
    assert [e for e in emu.journal() if e["method"] == "POST"] == []


def test_start_starts_a_stopped_warehouse_and_says_so(ctx: Context):
    """With start=True a stopped warehouse is started and waited for; the result says this call started it."""
    warehouse = new_warehouse(ctx, running=False)
    done = sql.execute(ctx, sql.Statement("SELECT 1 AS x", warehouse), timeout=None, start=True)
    assert done.started_warehouse
    assert api.get_warehouse(ctx.client, warehouse).state == WarehouseState.RUNNING
    assert list(sql.rows(ctx, done.response)) == [["1"]]


def test_named_parameters_are_bound_not_pasted(ctx: Context):
    """A parameter value full of SQL comes back as the same string: it was bound, never formatted in."""
    warehouse = new_warehouse(ctx)
    hostile = "x'; DROP TABLE main.default.t; --"
    statement = sql.Statement("SELECT :day AS day", warehouse, parameters={"day": hostile})
    done = sql.execute(ctx, statement, timeout=None)
    assert list(sql.rows(ctx, done.response)) == [[hostile]]


def test_export_writes_csv_with_a_header_and_nulls_empty(ctx: Context, tmp_path: Path):
    """export writes a header row, then each row; NULL is an empty field; the count is returned."""
    warehouse = new_warehouse(ctx)
    text = "SELECT id, CASE WHEN id = 1 THEN NULL ELSE 'a,b' END AS label FROM range(3)"
    done = sql.execute(ctx, sql.Statement(text, warehouse), timeout=None)
    result = sql.export(ctx, done, tmp_path / "out.csv", "csv")
    assert result["rows"] == 3
    assert (tmp_path / "out.csv").read_text() == 'id,label\n0,"a,b"\n1,\n2,"a,b"\n'


def test_export_leaves_the_old_file_when_a_chunk_fails(ctx: Context, emu: Emu, tmp_path: Path):
    """A chunk that cannot be fetched fails the export and leaves the old file as it was."""
    warehouse = new_warehouse(ctx)
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    done = sql.execute(ctx, sql.Statement("SELECT id FROM range(2500)", warehouse), timeout=None)
    emu.fault(pattern=f"GET {STATEMENTS}/{done.statement_id}/result/chunks/2", status=404, times=0)
    with pytest.raises(Exception, match=r"404|not found|NOT_FOUND"):
        sql.export(ctx, done, target, "csv")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_json_lines_name_every_column(ctx: Context):
    """JSON lines carry one object per row, keyed by column name, values as the API's strings."""
    lines: list[str] = []
    count = sql.write_rows(lines.append, ["a", "b"], iter([["1", None], ["2", "x"]]), "json")
    assert count == 2
    assert "".join(lines) == '{"a":"1","b":null}\n{"a":"2","b":"x"}\n'


def test_waiting_for_running_fails_loudly_when_the_warehouse_stops(ctx: Context):
    """A warehouse stopped while a wait expects RUNNING ends the wait with RunFailed (exit 7)."""
    wid = api.create_warehouse(ctx.client, {"name": "flaky", "cluster_size": "2X-Small"})
    api.stop_warehouse(ctx.client, wid)
    with pytest.raises(RunFailed, match=f"warehouse {wid} ended STOPPED instead of RUNNING"):
        warehouses.wait_for_state(ctx, wid, WarehouseState.RUNNING, timeout=None)


def test_plans_say_unchanged_when_already_so(ctx: Context):
    """A running warehouse plans no start, a stopped one no stop: nothing would be sent."""
    wid = new_warehouse(ctx)
    assert not warehouses.plan_warehouse_running(ctx, wid).changed
    stop = warehouses.plan_warehouse_stopped(ctx, wid)
    assert stop.changed and stop.fields == ("state",)
    warehouses.apply_warehouse_stopped(ctx, stop, wait=True, timeout=None)
    assert not warehouses.plan_warehouse_stopped(ctx, wid).changed
