"""Run a statement and write every row to CSV with the SDK: ``python sql_csv.py WAREHOUSE_ID OUT SQL``.

The loop a user writes from the SDK's docs: ``execute_statement`` (INLINE, JSON_ARRAY), poll
``get_statement`` until it is terminal, then ``get_statement_result_chunk_n`` along ``next_chunk_index``,
each chunk's rows through ``csv.writer``: one chunk in memory at a time, like brickbook.
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.sql import StatementState

TERMINAL = {StatementState.SUCCEEDED, StatementState.FAILED, StatementState.CANCELED, StatementState.CLOSED}


def main(warehouse_id: str, out: str, statement: str) -> None:
    workspace = WorkspaceClient()
    api = workspace.statement_execution
    response = api.execute_statement(statement=statement, warehouse_id=warehouse_id, wait_timeout="30s")
    while response.status is None or response.status.state not in TERMINAL:
        time.sleep(1)
        response = api.get_statement(response.statement_id or "")
    if response.status.state != StatementState.SUCCEEDED:
        raise SystemExit(f"statement {response.status.state}: {response.status.error}")
    assert response.manifest is not None and response.manifest.schema is not None
    columns = [c.name for c in response.manifest.schema.columns or []]
    with Path(out).open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        chunk = response.result
        while chunk is not None:
            writer.writerows(chunk.data_array or [])
            if chunk.next_chunk_index is None:
                break
            chunk = api.get_statement_result_chunk_n(response.statement_id or "", chunk.next_chunk_index)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
