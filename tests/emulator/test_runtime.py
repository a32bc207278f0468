"""Real notebook and file execution: dbutils (widgets, exit, notebook.run, fs, secrets, taskValues),
errors and traces, logs, the Spark stub. Each test runs child processes against the session emulator.
"""

from __future__ import annotations

import base64

from tests.emulator.harness import Emu
from tests.emulator.jobs_harness import (
    HOME,
    create_job,
    nb_task,
    notebook,
    output,
    put_dbfs,
    result,
    run_notebook,
    run_now,
    task,
    upload,
    wait_run,
)


def test_exit_value_is_the_notebook_output(emu: Emu):
    """dbutils.notebook.exit(value) ends the run SUCCESS with str(value) as notebook_output.result."""
    run, out = run_notebook(emu, "dbutils.notebook.exit(42)", "raise RuntimeError('never reached')")
    assert result(run) == "SUCCESS"
    assert out["notebook_output"] == {"result": "42", "truncated": False}


def test_the_runtime_retries_a_read_that_meets_an_injected_fault(emu: Emu):
    """A 503 and a dropped connection on the notebook's own export do not fail the run: it reads again."""
    path = upload(emu, f"{HOME}/flaky", notebook('dbutils.notebook.exit("read")'))
    job_id = create_job(emu, nb_task("main", path))
    emu.fault(pattern="GET /api/2.0/workspace/export", status=503, retry_after="0")
    emu.fault(pattern="GET /api/2.0/workspace/export", reset_connection=True)
    run = wait_run(emu, run_now(emu, job_id))
    assert result(run) == "SUCCESS"
    assert output(emu, run["tasks"][0]["run_id"])["notebook_output"]["result"] == "read"
    assert len(emu.journal("/api/2.0/workspace/export")) == 3


def test_no_exit_means_no_notebook_output(emu: Emu):
    """A notebook that never calls exit has no notebook_output in get-output."""
    run, out = run_notebook(emu, "print('hi')")
    assert result(run) == "SUCCESS"
    assert "notebook_output" not in out
    assert out["logs"] == "hi\n"


def test_exit_value_is_capped_at_5_mb(emu: Emu):
    """An exit value over 5 MB is cut to its first 5 MB with truncated=true."""
    _, out = run_notebook(emu, "dbutils.notebook.exit('x' * (5 * 1024 * 1024 + 10))")
    assert out["notebook_output"]["truncated"] is True
    assert len(out["notebook_output"]["result"]) == 5 * 1024 * 1024


def test_uncaught_exception_fails_with_error_line_and_trace(emu: Emu):
    """An exception makes the task FAILED; error is its last line, error_trace the traceback."""
    run, out = run_notebook(emu, "x = 1", "def f():\n    return 1 / 0\nf()")
    assert result(run) == "FAILED"
    assert out["error"] == "ZeroDivisionError: division by zero"
    assert "cell 2" in out["error_trace"]
    assert "return 1 / 0" in out["error_trace"]
    assert "bootstrap" not in out["error_trace"]


def test_widget_precedence(emu: Emu):
    """Widgets: base_parameters < run-now notebook_params < job parameters."""
    path = upload(
        emu, f"{HOME}/nb", notebook("dbutils.notebook.exit(str(sorted(dbutils.widgets.getAll().items())))")
    )
    job_id = create_job(
        emu,
        nb_task("main", path, params={"a": "base", "b": "base", "c": "base"}),
        parameters=[{"name": "c", "default": "job"}],
    )
    run = wait_run(emu, run_now(emu, job_id, notebook_params={"b": "run-now", "c": "run-now"}))
    out = output(emu, run["tasks"][0]["run_id"])
    assert out["notebook_output"]["result"] == "[('a', 'base'), ('b', 'run-now'), ('c', 'job')]"


def test_missing_widget_raises_input_widget_not_defined(emu: Emu):
    """widgets.get of an undefined widget fails like Databricks' InputWidgetNotDefined."""
    _, out = run_notebook(emu, "dbutils.widgets.get('nope')")
    assert (
        out["error"]
        == "com.databricks.dbutils_v1.InputWidgetNotDefined: No input widget named nope is defined"
    )


def test_widget_text_gives_a_default(emu: Emu):
    """widgets.text defines a default that a passed parameter overrides."""
    cells = (
        "dbutils.widgets.text('a', 'da')\ndbutils.widgets.text('b', 'db')",
        "dbutils.notebook.exit(dbutils.widgets.get('a') + dbutils.widgets.get('b'))",
    )
    _, out = run_notebook(emu, *cells, params={"b": "pb"})
    assert out["notebook_output"]["result"] == "dapb"


def test_markdown_cells_are_skipped_and_other_magics_fail(emu: Emu):
    """%md cells are skipped; a %sql cell fails the task naming the magic."""
    run, out = run_notebook(
        emu, "# MAGIC %md\n# MAGIC # Title", "print('ran')", "# MAGIC %sql\n# MAGIC SELECT 1"
    )
    assert result(run) == "FAILED"
    assert out["error"] == "NotImplementedError: %sql cells are not supported by the brickbook emulator"
    assert out["logs"].startswith("ran\n")


def test_percent_run_shares_the_namespace(emu: Emu):
    """%run ./lib runs the other notebook in the caller's namespace."""
    upload(emu, f"{HOME}/lib", notebook("VALUE = 'from lib'"))
    _, out = run_notebook(emu, "# MAGIC %run ./lib", "dbutils.notebook.exit(VALUE)")
    assert out["notebook_output"]["result"] == "from lib"


def test_notebook_run_returns_the_child_exit_value(emu: Emu):
    """dbutils.notebook.run runs a child notebook with arguments as widgets and returns its exit value."""
    upload(emu, f"{HOME}/child", notebook("dbutils.notebook.exit('child got ' + dbutils.widgets.get('n'))"))
    _, out = run_notebook(
        emu, f"v = dbutils.notebook.run('{HOME}/child', 60, {{'n': 5}})\ndbutils.notebook.exit(v)"
    )
    assert out["notebook_output"]["result"] == "child got 5"


def test_spark_context_is_a_stub_that_says_so(emu: Emu):
    """Using sc (only spark.sql and spark.table exist) raises NotImplementedError naming the missing Spark."""
    _, out = run_notebook(emu, "sc.parallelize([1])")
    assert out["error"] == "NotImplementedError: no Spark in the brickbook emulator"


def test_fs_put_head_ls_cp_mv_rm(emu: Emu):
    """dbutils.fs works over the emulated DBFS, and its writes are visible through the REST API."""
    cell = (
        "dbutils.fs.mkdirs('dbfs:/data/d')\n"
        "dbutils.fs.put('dbfs:/data/d/a.txt', 'hello', overwrite=True)\n"
        "dbutils.fs.cp('dbfs:/data/d/a.txt', 'dbfs:/data/d/b.txt')\n"
        "dbutils.fs.mv('dbfs:/data/d/b.txt', 'dbfs:/data/d/c.txt')\n"
        "names = sorted(f.name for f in dbutils.fs.ls('dbfs:/data/d'))\n"
        "gone = dbutils.fs.rm('dbfs:/data/d/nothing')\n"
        "dbutils.notebook.exit(f\"{names} {dbutils.fs.head('dbfs:/data/d/c.txt')} {gone}\")"
    )
    _, out = run_notebook(emu, cell)
    assert out["notebook_output"]["result"] == "['a.txt', 'c.txt'] hello False"
    read = emu.get("/api/2.0/dbfs/read", params={"path": "/data/d/a.txt"}).json()
    assert base64.b64decode(read["data"]) == b"hello"


def test_secret_values_are_redacted_in_output(emu: Emu):
    """A secret read with dbutils.secrets.get prints as [REDACTED] in logs, errors and exit value."""
    assert emu.post("/api/2.0/secrets/scopes/create", json={"scope": "s"}).status_code == 200
    assert (
        emu.post(
            "/api/2.0/secrets/put", json={"scope": "s", "key": "k", "string_value": "hunter2-x"}
        ).status_code
        == 200
    )
    cell = (
        "v = dbutils.secrets.get('s', 'k')\n"
        "print('value:', v, len(v))\n"
        "keys = [m.key for m in dbutils.secrets.list('s')]\n"
        "print(keys, [s.name for s in dbutils.secrets.listScopes()])\n"
        "raise ValueError(v)"
    )
    _, out = run_notebook(emu, cell)
    assert out["logs"].startswith("value: [REDACTED] 9\n['k'] ['s']\n")
    assert out["error"] == "ValueError: [REDACTED]"
    assert "hunter2-x" not in out["logs"] + out["error_trace"]


def test_task_values_pass_between_tasks(emu: Emu):
    """taskValues.set in one task is what taskValues.get returns in a downstream task."""
    first = upload(emu, f"{HOME}/first", notebook("dbutils.jobs.taskValues.set('rows', {'n': 3})"))
    second = upload(
        emu,
        f"{HOME}/second",
        notebook(
            "v = dbutils.jobs.taskValues.get('first', 'rows')\n"
            "d = dbutils.jobs.taskValues.get('first', 'x', default=7)\n"
            "dbutils.notebook.exit(f'{v} {d}')"
        ),
    )
    job_id = create_job(
        emu, nb_task("first", first), nb_task("second", second, depends_on=[{"task_key": "first"}])
    )
    run = wait_run(emu, run_now(emu, job_id))
    assert output(emu, task(run, "second")["run_id"])["notebook_output"]["result"] == "{'n': 3} 7"


def test_spark_python_task_from_dbfs_gets_argv(emu: Emu):
    """A spark_python_task runs a dbfs:/ file as __main__ with sys.argv = [file, *parameters]."""
    put_dbfs(emu, "/scripts/main.py", b"import sys\nprint(sys.argv[1:], __name__, type(dbutils).__name__)\n")
    job_id = create_job(
        emu,
        {
            "task_key": "py",
            "spark_python_task": {"python_file": "dbfs:/scripts/main.py", "parameters": ["a", "b"]},
        },
    )
    run = wait_run(emu, run_now(emu, job_id, python_params=["x"]))
    assert result(run) == "SUCCESS"
    assert output(emu, run["tasks"][0]["run_id"])["logs"] == "['x'] __main__ DBUtils\n"


def test_spark_python_task_exit_code_fails_the_task(emu: Emu):
    """sys.exit(3) in a Python file makes the task FAILED with 'SystemExit: 3'."""
    put_dbfs(emu, "/scripts/fail.py", b"import sys\nsys.exit(3)\n")
    job_id = create_job(
        emu, {"task_key": "py", "spark_python_task": {"python_file": "dbfs:/scripts/fail.py"}}
    )
    run = wait_run(emu, run_now(emu, job_id))
    assert output(emu, run["tasks"][0]["run_id"])["error"] == "SystemExit: 3"


def test_missing_notebook_fails_the_task(emu: Emu):
    """A notebook path that does not exist fails the task with the workspace's error."""
    job_id = create_job(emu, nb_task("main", f"{HOME}/missing"))
    run = wait_run(emu, run_now(emu, job_id))
    assert result(run) == "FAILED"
    assert "RESOURCE_DOES_NOT_EXIST" in output(emu, run["tasks"][0]["run_id"])["error"]


def test_child_environment_has_no_emulator_settings(emu: Emu, monkeypatch):
    """The child's environment keeps PATH but none of the emulator's variables."""
    monkeypatch.setenv("BRICKBOOK_EMULATOR_TOKEN", "should-not-leak")
    _, out = run_notebook(emu, "import os\ndbutils.notebook.exit(','.join(sorted(os.environ)))")
    names = out["notebook_output"]["result"].split(",")
    assert "BRICKBOOK_EMULATOR_TOKEN" not in names
    assert "PATH" in names
