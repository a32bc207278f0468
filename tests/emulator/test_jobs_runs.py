"""Jobs API runs: run-now and submit, idempotency, runs/get and get-output quirks, runs/list, cancel,
delete, max_concurrent_runs with 2.2 queueing and 2.1 skipping.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.emulator.harness import Emu
from tests.emulator.jobs_harness import (
    BLOCK,
    HOME,
    JOBS,
    JOBS_21,
    create_job,
    get_run,
    nb_task,
    notebook,
    output,
    result,
    run_now,
    task,
    task_running,
    upload,
    wait_run,
)


def _ok_job(emu: Emu, **settings: object) -> int:
    return create_job(emu, nb_task("main", upload(emu, f"{HOME}/ok", notebook("print('ok')"))), **settings)


def _blocking_job(emu: Emu, prefix: str = JOBS, **settings: object) -> int:
    path = upload(emu, f"{HOME}/block", notebook(BLOCK))
    return create_job(emu, nb_task("main", path), prefix=prefix, **settings)


def test_run_moves_to_terminated_success_with_times(emu: Emu):
    """A run ends TERMINATED/SUCCESS with start and end times, a run page URL and its task run."""
    job_id = _ok_job(emu)
    run_id = run_now(emu, job_id)
    run = wait_run(emu, run_id)
    assert (run["state"]["life_cycle_state"], result(run)) == ("TERMINATED", "SUCCESS")
    assert run["status"] == {
        "state": "TERMINATED",
        "termination_details": {"code": "SUCCESS", "type": "SUCCESS", "message": ""},
    }
    assert run["end_time"] >= run["start_time"] > 0
    assert run["run_page_url"].endswith(f"/#job/{job_id}/run/{run_id}")
    assert run["run_type"] == "JOB_RUN"
    assert run["tasks"][0]["run_id"] != run_id
    assert run["tasks"][0]["attempt_number"] == 0


def test_end_time_is_zero_while_running(emu: Emu):
    """While a task runs, the run and the task have end_time 0."""
    run_id = run_now(emu, _blocking_job(emu))
    run = wait_run(emu, run_id, task_running("main"))
    assert run["state"]["life_cycle_state"] == "RUNNING"
    assert (run["end_time"], run["tasks"][0]["end_time"]) == (0, 0)
    emu.post(f"{JOBS}/runs/cancel", json={"run_id": run_id})
    wait_run(emu, run_id)


def test_idempotency_token_returns_the_existing_run(emu: Emu):
    """A repeated run-now idempotency_token returns the first run's id and starts nothing new."""
    job_id = _ok_job(emu)
    first = emu.post(f"{JOBS}/run-now", json={"job_id": job_id, "idempotency_token": "tok-1"}).json()
    second = emu.post(f"{JOBS}/run-now", json={"job_id": job_id, "idempotency_token": "tok-1"}).json()
    assert first == second
    wait_run(emu, first["run_id"])
    assert len(emu.get(f"{JOBS}/runs/list", params={"job_id": job_id}).json()["runs"]) == 1


def test_idempotency_token_of_a_deleted_run_errors(emu: Emu):
    """Reusing the token of a run that was deleted is a 400 naming the deleted run."""
    job_id = _ok_job(emu)
    run_id = run_now(emu, job_id, idempotency_token="tok-2")
    wait_run(emu, run_id)
    assert emu.post(f"{JOBS}/runs/delete", json={"run_id": run_id}).status_code == 200
    response = emu.post(f"{JOBS}/run-now", json={"job_id": job_id, "idempotency_token": "tok-2"})
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "deleted" in response.json()["message"]


def test_idempotency_token_longer_than_64_is_refused(emu: Emu):
    """An idempotency_token over 64 characters is 400 INVALID_PARAMETER_VALUE."""
    response = emu.post(f"{JOBS}/run-now", json={"job_id": _ok_job(emu), "idempotency_token": "t" * 65})
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "64" in response.json()["message"]


def test_notebook_params_over_10000_bytes_are_refused(emu: Emu):
    """notebook_params serialising to more than 10,000 bytes is 400 INVALID_PARAMETER_VALUE."""
    response = emu.post(
        f"{JOBS}/run-now", json={"job_id": _ok_job(emu), "notebook_params": {"a": "x" * 10_000}}
    )
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "10000 bytes" in response.json()["message"]


def test_run_now_of_missing_job_is_does_not_exist(emu: Emu):
    """run-now for an unknown job is the 400 'Job N does not exist'."""
    response = emu.post(f"{JOBS}/run-now", json={"job_id": 4242})
    assert response.status_code == 400
    assert "Job 4242 does not exist" in response.json()["message"]


def test_submit_runs_a_one_time_run(emu: Emu):
    """runs/submit runs the tasks as a SUBMIT_RUN named run_name, with no saved job."""
    path = upload(emu, f"{HOME}/ok", notebook("dbutils.notebook.exit('s')"))
    body = {"run_name": "adhoc", "tasks": [nb_task("t", path)], "idempotency_token": "sub-1"}
    run_id = emu.post(f"{JOBS}/runs/submit", json=body).json()["run_id"]
    assert emu.post(f"{JOBS}/runs/submit", json=body).json()["run_id"] == run_id
    run = wait_run(emu, run_id)
    assert (run["run_type"], run["run_name"], result(run)) == ("SUBMIT_RUN", "adhoc", "SUCCESS")
    assert "jobs" not in emu.get(f"{JOBS}/list").json()


def test_missing_run_is_400_does_not_exist(emu: Emu):
    """runs/get of an unknown run is HTTP 400 INVALID_PARAMETER_VALUE 'Run N does not exist'."""
    response = emu.get(f"{JOBS}/runs/get", params={"run_id": 777})
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "Run 777 does not exist" in response.json()["message"]


def test_get_output_of_a_multi_task_run_is_the_real_400(emu: Emu):
    """get-output on a job run with several tasks is the real 400 asking for each task run."""
    path = upload(emu, f"{HOME}/ok", notebook("print(1)"))
    run_id = run_now(emu, create_job(emu, nb_task("a", path), nb_task("b", path)))
    wait_run(emu, run_id)
    response = emu.get(f"{JOBS}/runs/get-output", params={"run_id": run_id})
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert response.json()["message"] == (
        "Retrieving the output of runs with multiple tasks is not supported. "
        "Please retrieve the output of each individual task run instead."
    )


def test_get_output_metadata_is_the_task_run(emu: Emu):
    """get-output of a task run carries that task run as metadata."""
    run = wait_run(emu, run_now(emu, _ok_job(emu)))
    out = output(emu, run["tasks"][0]["run_id"])
    assert out["metadata"]["run_id"] == run["tasks"][0]["run_id"]
    assert out["metadata"]["task_key"] == "main"


def test_runs_list_newest_first_and_filters(emu: Emu):
    """runs/list is newest first, filters by job, and leaves out 'runs' when nothing matches."""
    job_id = _ok_job(emu)
    ids = [run_now(emu, job_id, queue={"enabled": True}) for _ in range(2)]
    for run_id in ids:
        wait_run(emu, run_id)
        emu.clock.advance(1)
    listed = emu.get(f"{JOBS}/runs/list", params={"job_id": job_id, "completed_only": "true"}).json()
    assert [r["run_id"] for r in listed["runs"]] == [ids[1], ids[0]]
    assert "tasks" not in listed["runs"][0]
    assert "runs" not in emu.get(f"{JOBS}/runs/list", params={"active_only": "true"}).json()


def test_runs_list_refuses_active_and_completed_together(emu: Emu):
    """active_only and completed_only together are 400 INVALID_PARAMETER_VALUE."""
    response = emu.get(f"{JOBS}/runs/list", params={"active_only": "true", "completed_only": "true"})
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "cannot both be true" in response.json()["message"]


def test_runs_list_limit_over_25_is_refused(emu: Emu):
    """runs/list limit above 25 is 400 INVALID_PARAMETER_VALUE."""
    response = emu.get(f"{JOBS}/runs/list", params={"limit": 26})
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_cancel_kills_the_process_and_ends_canceled(emu: Emu):
    """runs/cancel ends a running run CANCELED with user_cancelled_or_timedout."""
    run_id = run_now(emu, _blocking_job(emu))
    wait_run(emu, run_id, task_running("main"))
    assert emu.post(f"{JOBS}/runs/cancel", json={"run_id": run_id}).json() == {}
    run = wait_run(emu, run_id)
    assert result(run) == "CANCELED"
    assert run["state"]["user_cancelled_or_timedout"] is True
    assert run["status"]["termination_details"]["code"] == "USER_CANCELED"
    assert result(task(run, "main")) == "CANCELED"


def test_cancel_of_a_task_run_cancels_that_task(emu: Emu):
    """Canceling one task run ends it CANCELED and its downstream task UPSTREAM_CANCELED."""
    block = upload(emu, f"{HOME}/block", notebook(BLOCK))
    job_id = create_job(emu, nb_task("a", block), nb_task("b", block, depends_on=[{"task_key": "a"}]))
    run_id = run_now(emu, job_id)
    running = wait_run(emu, run_id, task_running("a"))
    emu.post(f"{JOBS}/runs/cancel", json={"run_id": task(running, "a")["run_id"]})
    run = wait_run(emu, run_id)
    assert [result(task(run, k)) for k in ("a", "b")] == ["CANCELED", "UPSTREAM_CANCELED"]


def test_cancel_all_cancels_every_active_run_of_the_job(emu: Emu):
    """runs/cancel-all {job_id} cancels the running run and the queued one."""
    job_id = _blocking_job(emu)
    first = run_now(emu, job_id)
    second = run_now(emu, job_id)
    wait_run(emu, first, task_running("main"))
    assert get_run(emu, second)["state"]["life_cycle_state"] == "QUEUED"
    assert emu.post(f"{JOBS}/runs/cancel-all", json={"job_id": job_id}).status_code == 200
    assert [result(wait_run(emu, r)) for r in (first, second)] == ["CANCELED", "CANCELED"]


def test_delete_of_an_active_run_is_refused(emu: Emu):
    """runs/delete of a running run is 400 INVALID_STATE; after it ends, delete works."""
    run_id = run_now(emu, _blocking_job(emu))
    wait_run(emu, run_id, task_running("main"))
    response = emu.post(f"{JOBS}/runs/delete", json={"run_id": run_id})
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_STATE")
    assert "active" in response.json()["message"]
    emu.post(f"{JOBS}/runs/cancel", json={"run_id": run_id})
    wait_run(emu, run_id)
    assert emu.post(f"{JOBS}/runs/delete", json={"run_id": run_id}).status_code == 200
    assert emu.get(f"{JOBS}/runs/get", params={"run_id": run_id}).status_code == 400


def test_2_2_queues_a_run_over_the_limit_then_runs_it(emu: Emu):
    """On 2.2 a run over max_concurrent_runs is QUEUED with a reason, and starts when a slot frees."""
    job_id = _blocking_job(emu)
    first = run_now(emu, job_id)
    wait_run(emu, first, task_running("main"))
    second = run_now(emu, job_id)
    queued = get_run(emu, second)
    assert queued["state"]["life_cycle_state"] == "QUEUED"
    assert "maximum concurrent runs of 1" in queued["state"]["queue_reason"]
    assert queued["status"]["queue_details"]["code"] == "MAX_CONCURRENT_RUNS_REACHED"
    emu.post(f"{JOBS}/runs/cancel", json={"run_id": first})
    wait_run(emu, second, task_running("main"))
    emu.post(f"{JOBS}/runs/cancel", json={"run_id": second})
    wait_run(emu, second)


def test_2_1_skips_a_run_over_the_limit(emu: Emu):
    """A job created on 2.1 (no queue) skips a run over the limit: SKIPPED, MAX..._REACHED."""
    job_id = _blocking_job(emu, prefix=JOBS_21)
    first = run_now(emu, job_id, prefix=JOBS_21)
    wait_run(emu, first, task_running("main"))
    skipped = get_run(emu, run_now(emu, job_id, prefix=JOBS_21))
    assert (skipped["state"]["life_cycle_state"], result(skipped)) == (
        "SKIPPED",
        "MAXIMUM_CONCURRENT_RUNS_REACHED",
    )
    assert skipped["state"]["state_message"] == (
        "Skipping this run because the limit of 1 maximum concurrent runs has been reached."
    )
    assert skipped["status"]["termination_details"]["code"] == "MAX_CONCURRENT_RUNS_EXCEEDED"
    emu.post(f"{JOBS}/runs/cancel", json={"run_id": first})
    wait_run(emu, first)


def test_max_concurrent_runs_zero_skips_every_run(emu: Emu):
    """max_concurrent_runs 0 skips every run, even with queueing on."""
    run = get_run(emu, run_now(emu, _ok_job(emu, max_concurrent_runs=0)))
    assert run["state"]["life_cycle_state"] == "SKIPPED"


def test_reset_wipes_running_runs_and_kills_their_processes(emu: Emu, tmp_path: Path):
    """A control-API reset forgets runs and kills their processes, even when run ids are reused."""
    pid_file = tmp_path / "pid"
    cell = f"import os\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))"
    path = upload(emu, f"{HOME}/pid", notebook(cell, BLOCK))
    run_id = run_now(emu, create_job(emu, nb_task("main", path)))
    wait_run(emu, run_id, lambda run: pid_file.exists() and pid_file.read_text().isdigit())
    pid = int(pid_file.read_text())
    assert emu.control("POST", "reset").status_code == 200
    assert emu.get(f"{JOBS}/runs/get", params={"run_id": run_id}).status_code == 400
    deadline = time.monotonic() + 10
    while _alive(pid):
        assert time.monotonic() < deadline, "the run's process survived the reset"
        time.sleep(0.02)  # waiting for the scheduler to kill and reap it


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
