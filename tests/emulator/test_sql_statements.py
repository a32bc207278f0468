"""Statement Execution over HTTP: lifecycle, chunks, failures, cancel, parameters, row_limit, history."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulator.harness import ALICE, ALICE_TOKEN, Emu, serving
from tests.emulator.sql_harness import STATEMENTS, run, settled, warehouse

HISTORY = "/api/2.0/sql/history/queries"


@pytest.fixture(scope="module")
def small_chunks() -> Iterator[Emu]:
    """An emulator whose results come in chunks of 4 rows."""
    with serving(statement_chunk_rows=4) as emu:
        yield emu


@pytest.fixture(scope="module")
def held() -> Iterator[Emu]:
    """An emulator whose statements report RUNNING for 30 emulator seconds."""
    with serving(statement_hold_seconds=30) as emu:
        yield emu


def test_select_succeeds_with_manifest_and_string_values(emu: Emu):
    """A query answers SUCCEEDED, a typed manifest and chunk 0 with every value a string or null."""
    answer = run(emu, "SELECT id, id * 2 AS twice, id > 1 AS big, NULL AS nothing FROM range(3)")
    assert answer["status"] == {"state": "SUCCEEDED"}
    manifest = answer["manifest"]
    assert manifest["format"] == "JSON_ARRAY"
    assert manifest["total_row_count"] == 3 and manifest["total_chunk_count"] == 1
    columns = manifest["schema"]["columns"]
    assert [(c["name"], c["type_name"], c["position"]) for c in columns] == [
        ("id", "LONG", 0),
        ("twice", "LONG", 1),
        ("big", "BOOLEAN", 2),
        ("nothing", "NULL", 3),
    ]
    assert answer["result"]["data_array"] == [
        ["0", "0", "false", None],
        ["1", "2", "false", None],
        ["2", "4", "true", None],
    ]
    assert "next_chunk_index" not in answer["result"]


def test_databricks_dialect_translates(emu: Emu):
    """current_catalog(), CREATE TABLE ... USING DELTA and backticked three-level names work."""
    assert run(emu, "SELECT current_catalog(), current_schema(), current_user()")["result"]["data_array"] == [
        ["main", "default", "admin@example.com"]
    ]
    created = run(emu, "CREATE TABLE `main`.`default`.`people` (id INT, name STRING) USING DELTA")
    assert created["status"]["state"] == "SUCCEEDED"
    inserted = run(emu, "INSERT INTO main.default.people VALUES (1, 'ada'), (2, 'bob')")
    assert inserted["result"]["data_array"] == [["2", "2"]]
    assert [c["name"] for c in inserted["manifest"]["schema"]["columns"]] == [
        "num_affected_rows",
        "num_inserted_rows",
    ]
    assert run(emu, "SELECT name FROM people ORDER BY id")["result"]["data_array"] == [["ada"], ["bob"]]
    described = run(emu, "DESCRIBE TABLE people")
    assert [c["name"] for c in described["manifest"]["schema"]["columns"]] == [
        "col_name",
        "data_type",
        "comment",
    ]
    assert described["result"]["data_array"] == [["id", "int", None], ["name", "string", None]]


def test_multi_chunk_result_is_walked_by_links(small_chunks: Emu):
    """A 10-row result spans 3 chunks of at most 4 rows, linked by next_chunk_index."""
    answer = run(small_chunks, "SELECT id FROM range(10)")
    manifest = answer["manifest"]
    assert manifest["total_chunk_count"] == 3 and manifest["total_row_count"] == 10
    assert [(c["row_offset"], c["row_count"]) for c in manifest["chunks"]] == [(0, 4), (4, 4), (8, 2)]
    rows, chunk = [], answer["result"]
    while True:
        rows += chunk["data_array"]
        if "next_chunk_index" not in chunk:
            break
        link = chunk["next_chunk_internal_link"]
        assert link.startswith(
            f"{STATEMENTS}/{answer['statement_id']}/result/chunks/{chunk['next_chunk_index']}"
        )
        chunk = small_chunks.get(link).json()
    assert rows == [[str(i)] for i in range(10)]


def test_chunk_out_of_range_is_invalid_parameter(small_chunks: Emu):
    """Asking for a chunk past the last is 400 INVALID_PARAMETER_VALUE."""
    statement_id = run(small_chunks, "SELECT 1")["statement_id"]
    response = small_chunks.get(f"{STATEMENTS}/{statement_id}/result/chunks/5")
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_failed_statement_is_http_200_with_error(emu: Emu):
    """A missing table is HTTP 200, state FAILED, and the engine's message."""
    answer = run(emu, "SELECT * FROM main.default.nowhere")
    assert answer["status"]["state"] == "FAILED"
    assert answer["status"]["error"]["error_code"] == "BAD_REQUEST"
    assert "TABLE_OR_VIEW_NOT_FOUND" in answer["status"]["error"]["message"]
    assert "nowhere" in answer["status"]["error"]["message"]


def test_untranslatable_statement_fails_clearly(emu: Emu):
    """A statement the emulator cannot run fails with a message naming it."""
    answer = run(emu, "OPTIMIZE main.default.t ZORDER BY (id)")
    assert answer["status"]["state"] == "FAILED"
    assert (
        "OPTIMIZE statements are not supported by the brickbook emulator"
        in answer["status"]["error"]["message"]
    )


def test_named_parameters_are_bound_not_formatted(emu: Emu):
    """:name parameters bind by type; a quote in a value stays data."""
    params = [{"name": "n", "value": "3", "type": "INT"}, {"name": "s", "value": "it's"}]
    answer = run(emu, "SELECT count(*) AS c, :s AS s FROM range(10) WHERE id < :n", parameters=params)
    assert answer["result"]["data_array"] == [["3", "it's"]]


def test_bad_parameter_value_is_refused(emu: Emu):
    """A value that is not of its type is 400 INVALID_PARAMETER_VALUE, and nothing runs."""
    body = {
        "warehouse_id": warehouse(emu),
        "statement": "SELECT :n",
        "parameters": [{"name": "n", "value": "x", "type": "INT"}],
    }
    response = emu.post(STATEMENTS, json=body)
    assert response.status_code == 400
    assert "is not a valid INT" in response.json()["message"]


def test_row_limit_truncates(emu: Emu):
    """row_limit keeps that many rows and sets truncated."""
    answer = run(emu, "SELECT id FROM range(10)", row_limit=3)
    assert answer["manifest"]["total_row_count"] == 3
    assert answer["manifest"]["truncated"] is True


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("wait_timeout", "3s", "wait_timeout must be 0s or from 5s to 50s"),
        ("on_wait_timeout", "LATER", "on_wait_timeout must be CONTINUE or CANCEL"),
        (
            "format",
            "ARROW_STREAM",
            "The format field must be JSON_ARRAY when the disposition field is INLINE",
        ),
        ("row_limit", -1, "row_limit must be a non-negative integer"),
    ],
)
def test_bad_request_fields_are_400(emu: Emu, field: str, value: object, message: str):
    """Malformed requests are rejected outright with INVALID_PARAMETER_VALUE."""
    response = emu.post(
        STATEMENTS, json={"warehouse_id": warehouse(emu), "statement": "SELECT 1", field: value}
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert message in response.json()["message"]


def test_wait_timeout_zero_answers_pending_then_succeeds(emu: Emu):
    """wait_timeout=0s answers PENDING at once; polling reaches SUCCEEDED."""
    answer = run(emu, "SELECT 42", wait_timeout="0s")
    assert answer["status"]["state"] == "PENDING"
    assert settled(emu, answer["statement_id"])["result"]["data_array"] == [["42"]]


def test_held_statement_outlives_wait_then_finishes_on_the_clock(held: Emu):
    """A statement held for 30 emulator seconds answers RUNNING, then SUCCEEDED once the clock moves."""
    answer = run(held, "SELECT 7", wait_timeout="5s")
    assert answer["status"]["state"] == "RUNNING"
    path = f"{STATEMENTS}/{answer['statement_id']}"
    assert held.get(path).json()["status"]["state"] == "RUNNING"
    held.clock.advance(31)
    assert settled(held, answer["statement_id"])["result"]["data_array"] == [["7"]]


def test_on_wait_timeout_cancel_ends_canceled(held: Emu):
    """on_wait_timeout=CANCEL cancels a statement that outlives wait_timeout."""
    answer = run(held, "SELECT 7", wait_timeout="5s", on_wait_timeout="CANCEL")
    assert answer["status"]["state"] == "CANCELED"


def test_cancel_running_statement(held: Emu):
    """POST cancel answers {} and the statement ends CANCELED; a second cancel changes nothing."""
    answer = run(held, "SELECT 1", wait_timeout="0s")
    path = f"{STATEMENTS}/{answer['statement_id']}"
    assert held.post(f"{path}/cancel").json() == {}
    held.clock.advance(31)
    assert held.get(path).json()["status"]["state"] == "CANCELED"
    assert held.post(f"{path}/cancel").status_code == 200
    assert "result" not in held.get(path).json()


def test_unknown_statement_is_not_found(emu: Emu):
    """GET of an unknown statement id is 404."""
    response = emu.get(f"{STATEMENTS}/no-such-statement")
    assert response.status_code == 404


def test_another_users_statement_is_not_found(emu: Emu):
    """A non-admin cannot read someone else's statement."""
    statement_id = run(emu, "SELECT 1")["statement_id"]
    assert emu.get(f"{STATEMENTS}/{statement_id}", token=ALICE_TOKEN).status_code == 404


def test_history_records_every_statement_newest_first(emu: Emu):
    """Query history lists each statement with status, warehouse and user; filters and pages work."""
    ok = run(emu, "SELECT 1")["statement_id"]
    failed = run(emu, "SELECT * FROM nowhere")["statement_id"]
    other = run(emu, "SELECT 2", on="other")["statement_id"]
    listed = emu.get(HISTORY).json()
    assert [q["query_id"] for q in listed["res"]] == [other, failed, ok]
    assert listed["has_next_page"] is False
    assert listed["res"][1]["status"] == "FAILED" and "nowhere" in listed["res"][1]["error_message"]
    only = {"filter_by.statuses": "FINISHED", "filter_by.warehouse_ids": warehouse(emu)}
    finished = emu.get(HISTORY, params=only)
    assert [q["query_id"] for q in finished.json()["res"]] == [ok]
    first = emu.get(HISTORY, params={"max_results": 2}).json()
    assert first["has_next_page"] is True
    rest = emu.get(HISTORY, params={"max_results": 2, "page_token": first["next_page_token"]}).json()
    assert [q["query_id"] for q in rest["res"]] == [ok]


def test_history_shows_a_user_only_their_own(emu: Emu):
    """A non-admin sees only the statements they ran."""
    run(emu, "SELECT 1")
    mine = run(emu, "SELECT 1", token=ALICE_TOKEN)["statement_id"]
    listed = emu.get(HISTORY, token=ALICE_TOKEN).json()["res"]
    assert [(q["query_id"], q["user_name"]) for q in listed] == [(mine, ALICE)]


def test_reset_forgets_tables_and_history(emu: Emu):
    """The control API's reset leaves an empty main.default and no history."""
    run(emu, "CREATE TABLE t AS SELECT 1 AS x")
    assert emu.control("POST", "reset").status_code == 200
    assert run(emu, "SELECT * FROM t")["status"]["state"] == "FAILED"
    assert [q["query_text"] for q in emu.get(HISTORY).json()["res"]] == ["SELECT * FROM t"]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "table function read_csv() is not supported"),
        ("COPY (SELECT 1) TO '/tmp/out.csv'", "COPY statements are not supported"),
        ("PRAGMA version", "PRAGMA statements are not supported"),
        ("SET x = 1", "SET statements are not supported"),
        ("CREATE FUNCTION f() RETURNS INT RETURN 1", "CREATE FUNCTION statements are not supported"),
        ("SELECT 1; SELECT 2", "exactly one statement"),
    ],
)
def test_statements_that_would_reach_past_the_catalog_fail(emu: Emu, statement: str, message: str):
    """File readers, COPY, PRAGMA, SET and functions fail clearly; one statement per request."""
    answer = run(emu, statement)
    assert answer["status"]["state"] == "FAILED"
    assert message in answer["status"]["error"]["message"]


def test_statement_needs_a_running_warehouse(emu: Emu):
    """A stopped classic warehouse refuses statements (400 INVALID_STATE); an unknown one is 404."""
    spec = {"name": "classic", "cluster_size": "2X-Small", "enable_serverless_compute": False}
    warehouse_id = emu.post("/api/2.0/sql/warehouses", json=spec).json()["id"]
    emu.post(f"/api/2.0/sql/warehouses/{warehouse_id}/stop")
    emu.clock.advance(60)
    refused = emu.post(STATEMENTS, json={"warehouse_id": warehouse_id, "statement": "SELECT 1"})
    assert (refused.status_code, refused.json()["error_code"]) == (400, "INVALID_STATE")
    assert "is not running" in refused.json()["message"]
    missing = emu.post(STATEMENTS, json={"warehouse_id": "nope", "statement": "SELECT 1"})
    assert missing.status_code == 404
    assert emu.get(HISTORY).json() == {"has_next_page": False}


def test_serverless_warehouse_starts_on_demand(emu: Emu):
    """A stopped serverless warehouse runs the statement (it starts at once)."""
    warehouse_id = warehouse(emu)
    emu.post(f"/api/2.0/sql/warehouses/{warehouse_id}/stop")
    emu.clock.advance(60)
    assert run(emu, "SELECT 1")["status"]["state"] == "SUCCEEDED"
    assert emu.get(f"/api/2.0/sql/warehouses/{warehouse_id}").json()["state"] == "RUNNING"


def test_results_close_after_an_hour(emu: Emu):
    """An hour after it succeeded a statement is CLOSED and its chunks are gone (404)."""
    statement_id = run(emu, "SELECT 1")["statement_id"]
    emu.clock.advance(3601)
    answer = emu.get(f"{STATEMENTS}/{statement_id}").json()
    assert answer["status"]["state"] == "CLOSED" and "result" not in answer
    chunk = emu.get(f"{STATEMENTS}/{statement_id}/result/chunks/0")
    assert (chunk.status_code, chunk.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_history_filters_by_start_time(emu: Emu):
    """query_start_time_range keeps statements that started inside it."""
    early = run(emu, "SELECT 1")["statement_id"]
    emu.clock.advance(100)
    late = run(emu, "SELECT 2")["statement_id"]
    listed = emu.get(HISTORY).json()["res"]
    start = {q["query_id"]: q["query_start_time_ms"] for q in listed}
    window = {"filter_by.query_start_time_range.start_time_ms": start[late]}
    assert [q["query_id"] for q in emu.get(HISTORY, params=window).json()["res"]] == [late]
    window = {"filter_by.query_start_time_range.end_time_ms": start[late]}
    assert [q["query_id"] for q in emu.get(HISTORY, params=window).json()["res"]] == [early]


def test_external_links_are_not_implemented(emu: Emu):
    """EXTERNAL_LINKS answers 501 NOT_IMPLEMENTED, as a warehouse without external links does."""
    body = {"warehouse_id": warehouse(emu), "statement": "SELECT 1", "disposition": "EXTERNAL_LINKS"}
    response = emu.post(STATEMENTS, json=body)
    assert (response.status_code, response.json()["error_code"]) == (501, "NOT_IMPLEMENTED")
    assert response.json()["message"] == "ExternalLinks disposition is not yet implemented"


@pytest.mark.slow
def test_a_million_rows_span_ten_default_chunks(emu: Emu):
    """1,000,000 rows come in ten chunks of 100,000 (the default), every row once, in order."""
    answer = run(emu, "SELECT id FROM range(1000000)", wait_timeout="50s")
    manifest = answer["manifest"]
    assert manifest["total_row_count"] == 1_000_000 and manifest["total_chunk_count"] == 10
    expected, chunk = 0, answer["result"]
    while True:
        assert chunk["row_offset"] == expected
        assert chunk["data_array"][0] == [str(expected)] and chunk["row_count"] == 100_000
        expected += chunk["row_count"]
        if "next_chunk_index" not in chunk:
            break
        chunk = emu.get(chunk["next_chunk_internal_link"]).json()
    assert expected == 1_000_000


def test_control_api_sets_the_hold_until_reset(emu: Emu):
    """PUT /_emulator/sql/statement-hold holds new statements; only the admin may; reset restores it."""
    assert (
        emu.request(
            "PUT", "/_emulator/sql/statement-hold", json={"seconds": 20}, token=ALICE_TOKEN
        ).status_code
        == 403
    )
    bad = emu.request("PUT", "/_emulator/sql/statement-hold", json={"seconds": -1})
    assert (bad.status_code, bad.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert emu.request("PUT", "/_emulator/sql/statement-hold", json={"seconds": 20}).json() == {
        "seconds": 20.0
    }
    assert run(emu, "SELECT 1", wait_timeout="5s")["status"]["state"] == "RUNNING"
    emu.control("POST", "reset")
    assert run(emu, "SELECT 1", wait_timeout="5s")["status"]["state"] == "SUCCEEDED"
