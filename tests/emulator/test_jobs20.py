"""Jobs API 2.0: the single-task format maps onto the same jobs and runs as 2.1/2.2."""

from __future__ import annotations

from typing import Any

from tests.emulator.harness import Emu
from tests.emulator.jobs_harness import HOME, JOBS, get_run, notebook, output, result, upload, wait_run

JOBS_20 = "/api/2.0/jobs"


def _create20(emu: Emu, path: str, **extra: Any) -> int:
    body = {"name": "legacy job", "notebook_task": {"notebook_path": path}, "max_retries": 0, **extra}
    response = emu.post(f"{JOBS_20}/create", json=body)
    assert response.status_code == 200, response.text
    return int(response.json()["job_id"])


def test_create20_reads_back_in_both_forms(emu: Emu):
    """A 2.0 job reads back single-task through 2.0 and as one task (keyed by its name) through 2.2."""
    job_id = _create20(emu, f"{HOME}/nb")
    legacy = emu.get(f"{JOBS_20}/get", params={"job_id": job_id}).json()["settings"]
    assert legacy["notebook_task"] == {"notebook_path": f"{HOME}/nb"}
    assert legacy["format"] == "SINGLE_TASK"
    assert "tasks" not in legacy
    current = emu.get(f"{JOBS}/get", params={"job_id": job_id}).json()["settings"]
    assert current["tasks"][0]["task_key"] == "legacy_job"
    assert current["tasks"][0]["notebook_task"] == {"notebook_path": f"{HOME}/nb"}


def test_list20_shows_jobs_from_every_version(emu: Emu):
    """2.0 list shows a 2.2 multi-task job as it is and a 2.0 job in the single-task form."""
    job_id = _create20(emu, f"{HOME}/nb")
    task = {"task_key": "a", "notebook_task": {"notebook_path": f"{HOME}/nb"}}
    other = emu.post(f"{JOBS}/create", json={"name": "new", "tasks": [task]}).json()["job_id"]
    jobs = {j["job_id"]: j["settings"] for j in emu.get(f"{JOBS_20}/list").json()["jobs"]}
    assert "notebook_task" in jobs[job_id]
    assert jobs[other]["tasks"][0]["task_key"] == "a"


def test_run_now20_runs_the_notebook_and_get_output_works(emu: Emu):
    """2.0 run-now with notebook_params runs the job; 2.0 runs/get shows the task on top; get-output works."""
    path = upload(emu, f"{HOME}/hello", notebook("dbutils.notebook.exit('hi ' + dbutils.widgets.get('who'))"))
    job_id = _create20(emu, path)
    response = emu.post(f"{JOBS_20}/run-now", json={"job_id": job_id, "notebook_params": {"who": "cli"}})
    assert response.status_code == 200, response.text
    run_id = response.json()["run_id"]
    wait_run(emu, run_id)
    legacy = emu.get(f"{JOBS_20}/runs/get", params={"run_id": run_id}).json()
    assert legacy["state"]["result_state"] == "SUCCESS"
    assert legacy["task"] == {"notebook_task": {"notebook_path": path}}
    out = emu.get(f"{JOBS_20}/runs/get-output", params={"run_id": run_id}).json()
    assert out["notebook_output"]["result"] == "hi cli"


def test_submit20_single_task_run(emu: Emu):
    """2.0 runs/submit with a top-level notebook_task starts a one-time run that runs it."""
    path = upload(emu, f"{HOME}/once", notebook("dbutils.notebook.exit('done')"))
    body = {"run_name": "once", "notebook_task": {"notebook_path": path}}
    response = emu.post(f"{JOBS_20}/runs/submit", json=body)
    assert response.status_code == 200, response.text
    run = wait_run(emu, response.json()["run_id"])
    assert result(run) == "SUCCESS"
    assert output(emu, run["tasks"][0]["run_id"])["notebook_output"]["result"] == "done"


def test_reset20_replaces_the_task(emu: Emu):
    """2.0 reset with single-task new_settings replaces the job's one task."""
    job_id = _create20(emu, f"{HOME}/a")
    new = {"name": "legacy job", "spark_python_task": {"python_file": "dbfs:/x.py"}}
    assert emu.post(f"{JOBS_20}/reset", json={"job_id": job_id, "new_settings": new}).status_code == 200
    settings = emu.get(f"{JOBS_20}/get", params={"job_id": job_id}).json()["settings"]
    assert settings["spark_python_task"] == {"python_file": "dbfs:/x.py"}
    assert "notebook_task" not in settings


def test_runs_list_and_cancel_and_delete20(emu: Emu):
    """2.0 runs/list finds the run; runs/delete of a finished run removes it."""
    path = upload(emu, f"{HOME}/quick", notebook("x = 1"))
    job_id = _create20(emu, path)
    run_id = emu.post(f"{JOBS_20}/run-now", json={"job_id": job_id}).json()["run_id"]
    wait_run(emu, run_id)
    runs = emu.get(f"{JOBS_20}/runs/list", params={"job_id": job_id}).json()["runs"]
    assert [r["run_id"] for r in runs] == [run_id]
    assert emu.post(f"{JOBS_20}/runs/cancel", json={"run_id": run_id}).status_code == 200
    assert emu.post(f"{JOBS_20}/runs/delete", json={"run_id": run_id}).status_code == 200
    assert emu.get(f"{JOBS}/runs/get", params={"run_id": run_id}).status_code == 400


def test_create20_bad_settings_are_refused(emu: Emu):
    """Single-task settings with a notebook_task missing its path are 400 INVALID_PARAMETER_VALUE."""
    response = emu.post(f"{JOBS_20}/create", json={"name": "x", "notebook_task": {}})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "notebook_path is required" in response.json()["message"]


def test_get20_of_a_missing_job_is_the_real_400(emu: Emu):
    """2.0 get of an unknown job is 400 'Job N does not exist', as 2.1."""
    response = emu.get(f"{JOBS_20}/get", params={"job_id": 4242})
    assert response.status_code == 400
    assert "Job 4242 does not exist" in response.json()["message"]


def test_get_run20_of_a_task_run(emu: Emu):
    """2.0 runs/get given a task run's id answers with that task run."""
    path = upload(emu, f"{HOME}/quick", notebook("x = 1"))
    run = wait_run(
        emu, emu.post(f"{JOBS_20}/run-now", json={"job_id": _create20(emu, path)}).json()["run_id"]
    )
    task_run_id = run["tasks"][0]["run_id"]
    assert emu.get(f"{JOBS_20}/runs/get", params={"run_id": task_run_id}).json()["run_id"] == task_run_id
    assert get_run(emu, task_run_id)["run_id"] == task_run_id


def test_runs_have_the_format_of_their_job(emu: Emu):
    """Runs of a 2.0 job and 2.0 one-time runs are SINGLE_TASK; a 2.2 job's runs are MULTI_TASK."""
    path = upload(emu, f"{HOME}/quick", notebook("x = 1"))
    legacy = emu.post(f"{JOBS_20}/run-now", json={"job_id": _create20(emu, path)}).json()["run_id"]
    submitted = emu.post(
        f"{JOBS_20}/runs/submit", json={"run_name": "once", "notebook_task": {"notebook_path": path}}
    ).json()["run_id"]
    task = {"task_key": "a", "notebook_task": {"notebook_path": path}}
    current_job = emu.post(f"{JOBS}/create", json={"name": "new", "tasks": [task]}).json()["job_id"]
    current = emu.post(f"{JOBS}/run-now", json={"job_id": current_job}).json()["run_id"]
    formats = [wait_run(emu, run_id)["format"] for run_id in (legacy, submitted, current)]
    assert formats == ["SINGLE_TASK", "SINGLE_TASK", "MULTI_TASK"]
    listed = emu.get(f"{JOBS_20}/runs/list").json()["runs"]
    assert {r["run_id"]: r["format"] for r in listed}[legacy] == "SINGLE_TASK"


def test_runs_list20_shows_the_task_on_top(emu: Emu):
    """2.0 runs/list shows a one-task run's ``task`` and ``cluster_spec`` as 2.0 runs/get does."""
    path = upload(emu, f"{HOME}/quick", notebook("x = 1"))
    spec = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 0}
    existing = emu.post("/api/2.1/clusters/create", json={"cluster_name": "c", **spec}).json()["cluster_id"]
    run_id = emu.post(
        f"{JOBS_20}/run-now", json={"job_id": _create20(emu, path, existing_cluster_id=existing)}
    )
    listed = emu.get(f"{JOBS_20}/runs/list").json()["runs"]
    assert [r["run_id"] for r in listed] == [run_id.json()["run_id"]]
    assert listed[0]["task"] == {"notebook_task": {"notebook_path": path}}
    assert listed[0]["cluster_spec"] == {"existing_cluster_id": existing}
    assert "tasks" not in listed[0]
