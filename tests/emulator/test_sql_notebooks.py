"""spark.sql in notebooks the emulator runs, SQL notebooks, and a job's sql_task, through real job runs."""

from __future__ import annotations

import base64
from typing import Any

from brickbook.emulator.sql.service import SqlService
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.store import Store
from tests.emulator.harness import ADMIN, ALICE, ALICE_TOKEN, Emu
from tests.emulator.jobs_harness import (
    HOME,
    create_job,
    nb_task,
    output,
    result,
    run_notebook,
    run_now,
    wait_run,
)
from tests.emulator.sql_harness import AnyWarehouse, warehouse
from tests.fakes import FakeClock

BUILD = """
spark.sql("CREATE TABLE sales (region STRING, amount INT) USING DELTA")
spark.sql("INSERT INTO sales VALUES ('north', 5), ('north', 7), ('south', 1)")
totals = spark.sql("SELECT region, sum(amount) AS total FROM sales GROUP BY region ORDER BY region")
rows = totals.collect()
assert totals.count() == 2 and totals.columns == ["region", "total"]
assert rows[0].region == "north" and rows[0]["total"] == 12 and rows[1][1] == 1
assert spark.table("main.default.sales").count() == 3
assert spark.sql("SELECT count(*) AS n FROM sales WHERE amount > :m", args={"m": 4}).first().n == 2
totals.show()
dbutils.notebook.exit(",".join(f"{r.region}={r.total}" for r in rows))
"""


def test_spark_sql_builds_and_aggregates_a_table(emu: Emu):
    """A notebook job creates a table with spark.sql, aggregates it and exits with a summary."""
    run, out = run_notebook(emu, BUILD)
    assert result(run) == "SUCCESS", out
    assert out["notebook_output"]["result"] == "north=12,south=1"
    assert "|region|total|" in out["logs"]
    table = emu.get("/api/2.1/unity-catalog/tables/main.default.sales").json()
    assert table["owner"] == ADMIN


def test_failed_spark_sql_fails_the_run_with_the_engine_message(emu: Emu):
    """A failing statement raises AnalysisException with the engine's message."""
    run, out = run_notebook(emu, "spark.sql('SELECT * FROM missing_table')")
    assert result(run) == "FAILED"
    assert "AnalysisException" in out["error"] and "missing_table" in out["error"]


def test_other_spark_apis_are_not_supported(emu: Emu):
    """Anything beyond spark.sql/spark.table says it is not supported by the emulator."""
    _, out = run_notebook(emu, "spark.read.csv('/x')")
    assert "spark.read is not supported by the brickbook emulator" in out["error"]


def test_spark_sql_runs_as_the_run_principal(emu: Emu):
    """A run as Alice cannot read a table she holds no privileges on."""
    emu.post(
        "/api/2.0/sql/statements", json={"warehouse_id": "w", "statement": "CREATE TABLE t AS SELECT 1 AS x"}
    )
    path = f"/Users/{ALICE}/nb"
    source = "# Databricks notebook source\nspark.sql('SELECT * FROM main.default.t').collect()\n"
    body = {
        "path": path,
        "format": "SOURCE",
        "language": "PYTHON",
        "content": base64.b64encode(source.encode()).decode(),
    }
    assert emu.post("/api/2.0/workspace/import", json=body, token=ALICE_TOKEN).status_code == 200
    response = emu.post(
        "/api/2.2/jobs/create", json={"name": "j", "tasks": [nb_task("main", path)]}, token=ALICE_TOKEN
    )
    job_id = response.json()["job_id"]
    run_id = emu.post("/api/2.2/jobs/run-now", json={"job_id": job_id}, token=ALICE_TOKEN).json()["run_id"]
    run = wait_run(emu, run_id)
    out = output(emu, run["tasks"][0]["run_id"])
    assert result(run) == "FAILED"
    assert "User does not have USE CATALOG on Catalog 'main'" in out["error"]


def test_sql_notebook_runs_its_cells_as_statements(emu: Emu):
    """A SQL notebook's cells run in order (USE carries over); %md cells are skipped."""
    source = (
        "-- Databricks notebook source\n"
        "CREATE SCHEMA IF NOT EXISTS etl\n\n-- COMMAND ----------\n\n"
        "-- MAGIC %md\n-- MAGIC # Notes\n\n-- COMMAND ----------\n\n"
        "USE SCHEMA etl;\nCREATE TABLE t AS SELECT 1 AS x;\n"
    )
    body = {
        "path": f"{HOME}/sqlnb",
        "format": "SOURCE",
        "language": "SQL",
        "content": base64.b64encode(source.encode()).decode(),
    }
    emu.post("/api/2.0/workspace/mkdirs", json={"path": HOME})
    assert emu.post("/api/2.0/workspace/import", json=body).status_code == 200
    run = wait_run(emu, run_now(emu, create_job(emu, nb_task("main", f"{HOME}/sqlnb"))))
    assert result(run) == "SUCCESS", output(emu, run["tasks"][0]["run_id"])
    assert emu.get("/api/2.1/unity-catalog/tables/main.etl.t").status_code == 200


def test_notebook_sql_route_is_for_notebooks_only(emu: Emu):
    """The emulator's notebook SQL route refuses ordinary API callers."""
    response = emu.post("/_emulator/notebook/sql", json={"statement": "SELECT 1"})
    assert (response.status_code, response.json()["error_code"]) == (403, "PERMISSION_DENIED")


def test_run_sql_task_runs_a_file_and_names_unsupported_kinds():
    """run_sql_task runs a workspace .sql file as the principal; query, alert and dashboard name the kind."""
    service = SqlService(Store(), FakeClock(), data_dir=None, admin=ADMIN, gate=AnyWarehouse())
    admin = Principal(ADMIN, is_admin=True)
    files: dict[str, str] = {"/q.sql": "CREATE TABLE t AS SELECT :n AS n;\nSELECT * FROM t;"}

    def read(path: str) -> str:
        return files[path]

    task: dict[str, Any] = {"warehouse_id": "wh", "file": {"path": "/q.sql"}, "parameters": {"n": "3"}}
    assert service.run_sql_task(admin, task, read_file=read) is None
    files["/bad.sql"] = "SELECT * FROM nowhere"
    failed = service.run_sql_task(admin, {"file": {"path": "/bad.sql"}}, read_file=read)
    assert failed is not None and "nowhere" in failed
    denied = service.run_sql_task(Principal(ALICE, is_admin=False), task, read_file=read)
    assert denied is not None and "USE CATALOG" in denied
    message = service.run_sql_task(admin, {"query": {"query_id": "1"}}, read_file=read)
    assert message == "sql_task query tasks are not supported by the brickbook emulator; use a file."
    statement, _, _ = service.run_sql(admin, "SELECT n FROM t")
    assert statement.result is not None and statement.result.chunk(statement.statement_id, 0)[
        "data_array"
    ] == [["3"]]
    service.shutdown()


def test_to_pandas_needs_pandas(emu: Emu):
    """toPandas builds a pandas DataFrame when pandas is installed, and says it is missing otherwise."""
    import importlib.util

    cell = (
        "pdf = spark.sql('SELECT 1 AS a, 2 AS b').toPandas()\ndbutils.notebook.exit(str(list(pdf.columns)))"
    )
    job_run, out = run_notebook(emu, cell)
    if importlib.util.find_spec("pandas") is None:
        assert result(job_run) == "FAILED"
        assert "toPandas without pandas installed is not supported by the brickbook emulator" in out["error"]
    else:
        assert out["notebook_output"]["result"] == "['a', 'b']"


def _sql_file(emu: Emu, path: str, text: str) -> None:
    emu.post("/api/2.0/workspace/mkdirs", json={"path": HOME})
    body = {"path": path, "format": "AUTO", "content": base64.b64encode(text.encode()).decode()}
    assert emu.post("/api/2.0/workspace/import", json=body).status_code == 200


def test_a_job_sql_task_runs_its_file_on_the_warehouse(emu: Emu):
    """A job's sql_task runs a workspace .sql file (with run-now's sql_params) and fails with the message."""
    warehouse_id = warehouse(emu)
    _sql_file(emu, f"{HOME}/load.sql", "CREATE TABLE loaded AS SELECT CAST(:n AS INT) AS n;")
    task = {
        "task_key": "load",
        "sql_task": {
            "warehouse_id": warehouse_id,
            "file": {"path": f"{HOME}/load.sql"},
            "parameters": {"n": "1"},
        },
    }
    run = wait_run(emu, run_now(emu, create_job(emu, task), sql_params={"n": "7"}))
    assert result(run) == "SUCCESS", run["tasks"][0]["state"]
    answer = emu.post(
        "/api/2.0/sql/statements", json={"warehouse_id": warehouse_id, "statement": "SELECT n FROM loaded"}
    ).json()
    assert answer["result"]["data_array"] == [["7"]]

    _sql_file(emu, f"{HOME}/bad.sql", "SELECT * FROM no_such_table")
    task["sql_task"] = {"warehouse_id": warehouse_id, "file": {"path": f"{HOME}/bad.sql"}}
    failed = wait_run(emu, run_now(emu, create_job(emu, task)))
    assert result(failed) == "FAILED"
    assert "no_such_table" in failed["tasks"][0]["state"]["state_message"]

    task["sql_task"] = {"warehouse_id": warehouse_id, "query": {"query_id": "42"}}
    unsupported = wait_run(emu, run_now(emu, create_job(emu, task)))
    assert (
        "query tasks are not supported by the brickbook emulator"
        in unsupported["tasks"][0]["state"]["state_message"]
    )
