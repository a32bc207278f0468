"""The real mlflow-skinny client in an emulated notebook logs to the emulator as the run's principal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from databricks.sdk import WorkspaceClient

from tests.emulator.harness import ADMIN, ADMIN_TOKEN, ALICE, ALICE_TOKEN, Emu
from tests.emulator.jobs_harness import create_job, nb_task, notebook, output, run_now, upload, wait_run
from tests.emulator.test_mlflow import ok

pytest.importorskip("mlflow", reason="mlflow-skinny is not installed (the test extra pins it)")

ALICE_HOME = f"/Users/{ALICE}"
TRAIN = """
import mlflow
mlflow.set_experiment("{experiment}")
with mlflow.start_run(run_name="train") as run:
    mlflow.log_param("alpha", "0.5")
    mlflow.log_metric("rmse", 0.25)
    mlflow.log_metrics({{"mae": 0.125, "r2": 0.75}}, step=2)
    mlflow.set_tag("stage", "dev")
found = mlflow.search_runs(
    experiment_names=["{experiment}"], filter_string="metrics.rmse < 1", output_format="list"
)
assert [r.info.run_id for r in found] == [run.info.run_id], found
dbutils.notebook.exit(run.info.run_id)
"""


def run_as_alice(emu: Emu, *cells: str) -> tuple[dict[str, object], dict[str, object]]:
    """Upload a notebook to alice's home, run it as a job alice created; return (job run, output)."""
    path = f"{ALICE_HOME}/train"
    emu.post("/api/2.0/workspace/mkdirs", json={"path": ALICE_HOME}, token=ALICE_TOKEN)
    upload_as(emu, path, notebook(*cells))
    response = emu.post(
        "/api/2.2/jobs/create", json={"name": "train", "tasks": [nb_task("main", path)]}, token=ALICE_TOKEN
    )
    job_id = int(ok(response)["job_id"])
    run_id = int(ok(emu.post("/api/2.2/jobs/run-now", json={"job_id": job_id}, token=ALICE_TOKEN))["run_id"])
    run = wait_run(emu, run_id, seconds=120)
    return run, output(emu, run["tasks"][0]["run_id"])


def upload_as(emu: Emu, path: str, source: str) -> None:
    import base64

    body = {
        "path": path,
        "format": "SOURCE",
        "language": "PYTHON",
        "overwrite": True,
        "content": base64.b64encode(source.encode()).decode(),
    }
    ok(emu.post("/api/2.0/workspace/import", json=body, token=ALICE_TOKEN))


def test_mlflow_in_a_notebook_logs_a_run_as_the_runs_principal(emu: Emu, tmp_path: Path):
    """set_experiment, start_run, log_*, set_tag, search_runs in a job notebook: a finished run of alice's."""
    experiment = f"{ALICE_HOME}/nb-exp"
    run, out = run_as_alice(emu, TRAIN.format(experiment=experiment))
    assert run["state"]["result_state"] == "SUCCESS", out
    mlflow_run_id = out["notebook_output"]["result"]
    calls = [e for e in emu.journal() if str(e["path"]).startswith("/api/2.0/mlflow/")]
    assert calls and [e for e in calls if e["status"] >= 500] == []
    w = WorkspaceClient(host=emu.url, token=ADMIN_TOKEN)
    found = w.experiments.get_by_name(experiment).experiment
    assert found is not None and found.experiment_id
    runs = list(
        w.experiments.search_runs(experiment_ids=[found.experiment_id], filter="params.alpha = '0.5'")
    )
    assert [r.info.run_id for r in runs if r.info] == [mlflow_run_id]
    info, data = runs[0].info, runs[0].data
    assert info is not None and data is not None
    assert info.user_id == ALICE and info.status is not None and info.status.value == "FINISHED"
    assert {m.key: m.value for m in data.metrics or []} == {"rmse": 0.25, "mae": 0.125, "r2": 0.75}
    tags = {t.key: t.value for t in data.tags or []}
    assert tags["stage"] == "dev" and tags["mlflow.user"] == ALICE
    # The notebook context reached mlflow: in a job, the source is the job run, as on Databricks.
    assert tags["mlflow.source.type"] == "JOB"
    assert tags["mlflow.source.name"] == f"jobs/{run['job_id']}/run/{run['run_id']}"
    assert tags["mlflow.databricks.notebookPath"] == f"{ALICE_HOME}/train"
    assert not [key for key in tags if key.startswith("mlflow.source.git")]  # not the emulator's own checkout


def test_the_cli_search_runs_finds_the_notebook_run(emu: Emu, tmp_path: Path):
    """brickbook mlflow.search-runs --experiment-name lists the run the notebook logged."""
    experiment = f"{ALICE_HOME}/nb-cli"
    run, out = run_as_alice(emu, TRAIN.format(experiment=experiment))
    assert run["state"]["result_state"] == "SUCCESS", out
    from tests.conftest import run_cli

    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", str(tmp_path))
        env.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "none"))
        env.setenv("DATABRICKS_HOST", emu.url)
        env.setenv("DATABRICKS_TOKEN", ADMIN_TOKEN)
        result = run_cli("mlflow.search-runs", "--experiment-name", experiment, "-o", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["info"]["user_id"] for row in rows] == [ALICE]
    assert rows[0]["info"]["run_id"] == out["notebook_output"]["result"]


def test_the_notebook_context_offers_host_token_and_paths(emu: Emu):
    """The environment and dbutils' command context name the workspace, the notebook and the job run."""
    cells = (
        "import os, json\n"
        "ctx = dbutils.notebook.entry_point.getDbutils().notebook().getContext()\n"
        "from dbruntime.databricks_repl_context import get_context\n"
        "repl = get_context()\n"
        "same_token = ctx.apiToken().get() == os.environ['DATABRICKS_TOKEN'] == repl.apiToken\n"
        "dbutils.notebook.exit(json.dumps({\n"
        "    'host': os.environ['DATABRICKS_HOST'], 'uri': os.environ['MLFLOW_TRACKING_URI'],\n"
        "    'telemetry': os.environ['MLFLOW_DISABLE_TELEMETRY'],\n"
        "    'api_url': ctx.apiUrl().get(), 'path': ctx.notebookPath().get(),\n"
        "    'id': ctx.notebookId().get(), 'job': ctx.tags().get('jobId').get(),\n"
        "    'user': ctx.tags().get('user').get(), 'same_token': same_token,\n"
        "    'missing': ctx.tags().get('nope').isDefined(), 'in_job': repl.isInJob,\n"
        "}))\n",
    )
    run, out = run_as_alice(emu, *cells)
    assert run["state"]["result_state"] == "SUCCESS", out
    seen = json.loads(out["notebook_output"]["result"])
    status = ok(emu.get("/api/2.0/workspace/get-status", params={"path": f"{ALICE_HOME}/train"}))
    assert seen == {
        "host": emu.url,
        "uri": "databricks",
        "telemetry": "true",
        "api_url": emu.url,
        "path": f"{ALICE_HOME}/train",
        "id": str(status["object_id"]),
        "job": str(run["job_id"]),
        "user": ALICE,
        "same_token": True,
        "missing": False,
        "in_job": True,
    }


def test_the_context_token_is_redacted_from_the_logs(emu: Emu):
    """Printing DATABRICKS_TOKEN shows [REDACTED], as printing a secret does."""
    path = upload(
        emu, f"/Users/{ADMIN}/show", notebook("import os\nprint('token=' + os.environ['DATABRICKS_TOKEN'])")
    )
    run = wait_run(emu, run_now(emu, create_job(emu, nb_task("main", path))))
    out = output(emu, run["tasks"][0]["run_id"])
    assert "token=[REDACTED]" in out["logs"]


def test_without_set_experiment_the_run_goes_to_the_notebooks_experiment(emu: Emu):
    """A bare start_run in a notebook logs to the notebook's own experiment (its id and path)."""
    cells = (
        "import mlflow\n"
        "with mlflow.start_run() as run:\n"
        "    mlflow.log_metric('loss', 0.5)\n"
        "dbutils.notebook.exit(run.info.experiment_id)\n",
    )
    run, out = run_as_alice(emu, *cells)
    assert run["state"]["result_state"] == "SUCCESS", out
    status = ok(emu.get("/api/2.0/workspace/get-status", params={"path": f"{ALICE_HOME}/train"}))
    assert out["notebook_output"]["result"] == str(status["object_id"])
    got = ok(emu.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": status["object_id"]}))
    assert got["experiment"]["name"] == f"{ALICE_HOME}/train"
