"""The official databricks-sdk's StatementExecutionAPI and QueryHistoryAPI against the emulator, unchanged."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.sql import (
    QueryFilter,
    QueryStatus,
    StatementParameterListItem,
    StatementState,
)

from tests.emulator.harness import ADMIN, ADMIN_TOKEN, Emu, serving
from tests.emulator.sql_harness import warehouse


@pytest.fixture(scope="module")
def chunky() -> Iterator[Emu]:
    """An emulator whose results come in chunks of 1,000 rows."""
    with serving(statement_chunk_rows=1000) as emu:
        yield emu


@pytest.fixture
def w(sdk_env: Emu) -> WorkspaceClient:
    return WorkspaceClient(host=sdk_env.url, token=ADMIN_TOKEN)


def test_execute_statement_returns_typed_result(w: WorkspaceClient, sdk_env: Emu):
    """execute_statement parses the status, manifest schema and inline rows."""
    response = w.statement_execution.execute_statement(
        statement="SELECT id, CAST(id AS STRING) AS label FROM range(3)",
        warehouse_id=warehouse(sdk_env),
        wait_timeout="10s",
    )
    assert response.status is not None and response.status.state == StatementState.SUCCEEDED
    assert response.manifest is not None and response.manifest.schema is not None
    columns = response.manifest.schema.columns or []
    assert [(c.name, c.type_name.value if c.type_name else None) for c in columns] == [
        ("id", "LONG"),
        ("label", "STRING"),
    ]
    assert response.result is not None and response.result.data_array == [["0", "0"], ["1", "1"], ["2", "2"]]


def test_multi_chunk_result_through_get_statement_result_chunk_n(
    chunky: Emu, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    """A 2,500-row result spans three chunks that get_statement_result_chunk_n walks."""
    for name in list(os.environ):
        if name.startswith("DATABRICKS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "none"))
    w = WorkspaceClient(host=chunky.url, token=ADMIN_TOKEN)
    first = w.statement_execution.execute_statement(
        statement="SELECT id FROM range(2500)", warehouse_id=warehouse(chunky), wait_timeout="30s"
    )
    assert first.statement_id and first.manifest and first.result
    assert first.manifest.total_chunk_count == 3 and first.manifest.total_row_count == 2500
    again = w.statement_execution.get_statement(first.statement_id)
    assert again.status and again.status.state == StatementState.SUCCEEDED
    rows = list(first.result.data_array or [])
    chunk = first.result
    while chunk.next_chunk_index is not None:
        chunk = w.statement_execution.get_statement_result_chunk_n(first.statement_id, chunk.next_chunk_index)
        rows += chunk.data_array or []
    assert [int(r[0]) for r in rows] == list(range(2500))


def test_failed_statement_is_a_response_not_an_exception(w: WorkspaceClient, sdk_env: Emu):
    """A failing statement comes back FAILED with its error, as on the real service."""
    response = w.statement_execution.execute_statement(
        statement="SELECT * FROM nowhere", warehouse_id=warehouse(sdk_env)
    )
    assert response.status and response.status.state == StatementState.FAILED
    assert response.status.error and "nowhere" in (response.status.error.message or "")


def test_parameters_and_cancel(w: WorkspaceClient, sdk_env: Emu):
    """Named parameters bind; cancel_execution on a finished statement is accepted."""
    response = w.statement_execution.execute_statement(
        statement="SELECT :word AS w",
        warehouse_id=warehouse(sdk_env),
        parameters=[StatementParameterListItem(name="word", value="hello")],
    )
    assert response.result and response.result.data_array == [["hello"]]
    assert response.statement_id
    w.statement_execution.cancel_execution(response.statement_id)


def test_query_history_list(w: WorkspaceClient, sdk_env: Emu):
    """query_history.list reads the recorded statements with their status and user."""
    ok = w.statement_execution.execute_statement(
        statement="SELECT 1", warehouse_id=warehouse(sdk_env)
    ).statement_id
    w.statement_execution.execute_statement(
        statement="SELECT * FROM nowhere", warehouse_id=warehouse(sdk_env, "other")
    )
    listed = w.query_history.list(
        filter_by=QueryFilter(statuses=[QueryStatus.FINISHED], warehouse_ids=[warehouse(sdk_env)])
    )
    assert [(q.query_id, q.status, q.user_name) for q in listed.res or []] == [
        (ok, QueryStatus.FINISHED, ADMIN)
    ]
    everything = w.query_history.list(max_results=10)
    assert len(everything.res or []) == 2 and everything.has_next_page is False
