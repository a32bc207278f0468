"""Run life cycles: timeouts, retries, run_if and the job result, repair, clusters, restart recovery."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx

from tests.emulator.harness import ADMIN_TOKEN, Emu
from tests.emulator.jobs_harness import (
    BLOCK,
    HOME,
    JOBS,
    create_job,
    get_run,
    nb_task,
    notebook,
    result,
    run_now,
    task,
    task_running,
    upload,
    wait_run,
)
from tests.emulator.test_cli import EmulatorProcess, processes  # noqa: F401 - the fixture

CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}


def _paths(emu: Emu) -> tuple[str, str, str]:
    ok = upload(emu, f"{HOME}/ok", notebook("print('ok')"))
    bad = upload(emu, f"{HOME}/bad", notebook("raise ValueError('bad data')"))
    block = upload(emu, f"{HOME}/block", notebook(BLOCK))
    return ok, bad, block


def test_task_timeout_kills_the_process_timedout(emu: Emu):
    """A task past its timeout_seconds (on the emulator clock) is killed and ends TIMEDOUT."""
    _, _, block = _paths(emu)
    run_id = run_now(emu, create_job(emu, nb_task("main", block, timeout_seconds=30)))
    wait_run(emu, run_id, task_running("main"))
    emu.clock.advance(31)
    run = wait_run(emu, run_id)
    assert result(task(run, "main")) == "TIMEDOUT"
    assert task(run, "main")["state"]["user_cancelled_or_timedout"] is True
    assert result(run) == "TIMEDOUT"


def test_job_timeout_ends_the_run_timedout(emu: Emu):
    """A job-level timeout_seconds ends the whole run TIMEDOUT."""
    _, _, block = _paths(emu)
    run_id = run_now(emu, create_job(emu, nb_task("main", block), timeout_seconds=60))
    wait_run(emu, run_id, task_running("main"))
    emu.clock.advance(61)
    run = wait_run(emu, run_id)
    assert result(run) == "TIMEDOUT"
    assert "timed out after 60 seconds" in run["state"]["state_message"]


def test_failed_task_is_retried_with_a_new_attempt(emu: Emu):
    """max_retries 1: a failing task runs twice; attempt 1 has a new run id and the original's id."""
    _, bad, _ = _paths(emu)
    run_id = run_now(emu, create_job(emu, nb_task("main", bad, max_retries=1)))
    run = wait_run(emu, run_id)
    first, second = task(run, "main", attempt=0), task(run, "main", attempt=1)
    assert first["run_id"] != second["run_id"]
    assert second["original_attempt_run_id"] == first["run_id"]
    assert [result(first), result(second), result(run)] == ["FAILED", "FAILED", "FAILED"]


def test_retry_waits_for_min_retry_interval(emu: Emu):
    """The retry waits WAITING_FOR_RETRY until min_retry_interval_millis has passed on the clock."""
    _, bad, _ = _paths(emu)
    run_id = run_now(
        emu, create_job(emu, nb_task("main", bad, max_retries=1, min_retry_interval_millis=60_000))
    )
    waiting = wait_run(
        emu, run_id, lambda r: task(r, "main")["state"]["life_cycle_state"] == "WAITING_FOR_RETRY"
    )
    assert task(waiting, "main")["status"]["state"] == "WAITING"
    emu.clock.advance(61)
    assert task(wait_run(emu, run_id), "main")["attempt_number"] == 1


def test_upstream_failure_skips_downstream_and_all_done_still_runs(emu: Emu):
    """After a failure, an ALL_SUCCESS task is UPSTREAM_FAILED and an ALL_DONE task runs."""
    ok, bad, _ = _paths(emu)
    after = [{"task_key": "a"}]
    job_id = create_job(
        emu,
        nb_task("a", bad),
        nb_task("b", ok, depends_on=after),
        nb_task("c", ok, depends_on=after, run_if="ALL_DONE"),
    )
    run = wait_run(emu, run_now(emu, job_id))
    assert [result(task(run, k)) for k in "abc"] == ["FAILED", "UPSTREAM_FAILED", "SUCCESS"]
    assert task(run, "b")["state"]["life_cycle_state"] == "SKIPPED"
    assert result(run) == "FAILED"


def test_leaf_success_after_a_failure_is_success_with_failures(emu: Emu):
    """A failed task with a successful AT_LEAST_ONE_FAILED leaf gives SUCCESS_WITH_FAILURES."""
    ok, bad, _ = _paths(emu)
    job_id = create_job(
        emu, nb_task("a", bad), nb_task("b", ok, depends_on=[{"task_key": "a"}], run_if="AT_LEAST_ONE_FAILED")
    )
    run = wait_run(emu, run_now(emu, job_id))
    assert result(run) == "SUCCESS_WITH_FAILURES"


def test_unmet_failure_condition_is_excluded(emu: Emu):
    """An ALL_FAILED task after a success is EXCLUDED, which counts as success for the run."""
    ok, _, _ = _paths(emu)
    job_id = create_job(
        emu, nb_task("a", ok), nb_task("b", ok, depends_on=[{"task_key": "a"}], run_if="ALL_FAILED")
    )
    run = wait_run(emu, run_now(emu, job_id))
    assert (result(task(run, "b")), result(run)) == ("EXCLUDED", "SUCCESS")


def test_three_tasks_run_in_dependency_order(emu: Emu):
    """a -> b -> c run one after another: each starts after its upstream ended."""
    ok, _, _ = _paths(emu)
    job_id = create_job(
        emu,
        nb_task("c", ok, depends_on=[{"task_key": "b"}]),
        nb_task("a", ok),
        nb_task("b", ok, depends_on=[{"task_key": "a"}]),
    )
    emu.clock.advance(0)
    run = wait_run(emu, run_now(emu, job_id))
    assert result(run) == "SUCCESS"
    a, b, c = (task(run, k) for k in "abc")
    assert a["end_time"] <= b["start_time"] and b["end_time"] <= c["start_time"]


def test_repair_reruns_failed_tasks_and_needs_latest_repair_id(emu: Emu):
    """repair reruns the failed task with new run ids; a second repair needs latest_repair_id."""
    ok, bad, _ = _paths(emu)
    job_id = create_job(emu, nb_task("a", ok), nb_task("b", bad, depends_on=[{"task_key": "a"}]))
    run_id = run_now(emu, job_id)
    failed = wait_run(emu, run_id)
    first = emu.post(f"{JOBS}/runs/repair", json={"run_id": run_id, "rerun_all_failed_tasks": True}).json()
    repaired = wait_run(emu, run_id)
    assert task(repaired, "b")["run_id"] != task(failed, "b")["run_id"]
    assert task(repaired, "a")["run_id"] == task(failed, "a")["run_id"]
    history = get_run(emu, run_id, include_history="true")["repair_history"]
    assert [h["type"] for h in history] == ["ORIGINAL", "REPAIR"]
    assert history[1]["id"] == first["repair_id"]
    missing = emu.post(f"{JOBS}/runs/repair", json={"run_id": run_id, "rerun_tasks": ["b"]})
    assert (missing.status_code, missing.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "latest_repair_id" in missing.json()["message"]
    body = {
        "run_id": run_id,
        "rerun_tasks": ["a"],
        "rerun_dependent_tasks": True,
        "latest_repair_id": first["repair_id"],
    }
    assert emu.post(f"{JOBS}/runs/repair", json=body).status_code == 200
    again = wait_run(emu, run_id)
    assert task(again, "a")["run_id"] != task(repaired, "a")["run_id"]
    assert task(again, "b")["run_id"] != task(repaired, "b")["run_id"]


def test_repair_of_an_active_run_is_refused(emu: Emu):
    """repair of a running run is 400 INVALID_STATE."""
    _, _, block = _paths(emu)
    run_id = run_now(emu, create_job(emu, nb_task("main", block)))
    wait_run(emu, run_id, task_running("main"))
    response = emu.post(f"{JOBS}/runs/repair", json={"run_id": run_id, "rerun_all_failed_tasks": True})
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_STATE")
    assert "active" in response.json()["message"]
    emu.post(f"{JOBS}/runs/cancel", json={"run_id": run_id})
    wait_run(emu, run_id)


def test_existing_terminated_cluster_is_started_and_run_waits_pending(emu: Emu):
    """A task on a terminated cluster starts it; the run stays PENDING until the cluster is RUNNING."""
    ok, _, _ = _paths(emu)
    cluster_id = emu.post("/api/2.1/clusters/create", json={"cluster_name": "c", **CLUSTER}).json()[
        "cluster_id"
    ]
    emu.post("/api/2.1/clusters/delete", json={"cluster_id": cluster_id})
    emu.clock.advance(5)
    run_id = run_now(emu, create_job(emu, nb_task("main", ok, existing_cluster_id=cluster_id)))
    pending = wait_run(
        emu,
        run_id,
        lambda r: (
            emu.get("/api/2.1/clusters/get", params={"cluster_id": cluster_id}).json()["state"] == "PENDING"
        ),
    )
    assert pending["state"]["life_cycle_state"] == "PENDING"
    emu.clock.advance(2)
    run = wait_run(emu, run_id)
    assert result(run) == "SUCCESS"
    assert run["tasks"][0]["cluster_instance"]["cluster_id"] == cluster_id


def test_new_cluster_is_a_job_cluster_terminated_at_the_end(emu: Emu):
    """A new_cluster task gets a JOB cluster for the run, terminated when the run ends."""
    ok, _, _ = _paths(emu)
    run_id = run_now(emu, create_job(emu, nb_task("main", ok, new_cluster=CLUSTER)))
    wait_run(emu, run_id, lambda r: "cluster_instance" in r["tasks"][0] or bool(_job_clusters(emu)))
    emu.clock.advance(2)
    run = wait_run(emu, run_id)
    cluster = emu.get(
        "/api/2.1/clusters/get", params={"cluster_id": run["tasks"][0]["cluster_instance"]["cluster_id"]}
    ).json()
    assert cluster["cluster_source"] == "JOB"
    assert cluster["state"] in ("TERMINATING", "TERMINATED")


def _job_clusters(emu: Emu) -> list[dict[str, object]]:
    clusters: list[dict[str, object]] = emu.get("/api/2.1/clusters/list").json().get("clusters", [])
    return [c for c in clusters if c["cluster_source"] == "JOB"]


def test_missing_existing_cluster_fails_the_task(emu: Emu):
    """A task on a cluster that does not exist fails, naming the cluster."""
    ok, _, _ = _paths(emu)
    run = wait_run(emu, run_now(emu, create_job(emu, nb_task("main", ok, existing_cluster_id="0101-nope"))))
    assert result(run) == "FAILED"
    assert "Cluster 0101-nope does not exist" in run["tasks"][0]["state"]["state_message"]


def test_restart_marks_unfinished_runs_internal_error(processes: list[EmulatorProcess], tmp_path: Path):  # noqa: F811
    """After a kill -9 mid-run, the restarted emulator reports the run INTERNAL_ERROR, not RUNNING."""
    processes.append(first := EmulatorProcess("--data-dir", str(tmp_path)))
    emu = Emu(url=first.url, clock=None)  # type: ignore[arg-type]
    try:
        run_id = run_now(emu, create_job(emu, nb_task("main", upload(emu, f"{HOME}/block", notebook(BLOCK)))))
        wait_run(emu, run_id, task_running("main"))
    finally:
        emu.close()
    first.stop(signal.SIGKILL)
    processes.append(second := EmulatorProcess("--data-dir", str(tmp_path)))
    answer = httpx.get(
        f"{second.url}{JOBS}/runs/get",
        params={"run_id": run_id},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ).json()
    assert (answer["state"]["life_cycle_state"], answer["state"]["result_state"]) == (
        "INTERNAL_ERROR",
        "FAILED",
    )
    assert (
        answer["state"]["state_message"] == "The brickbook emulator restarted while this run was in progress"
    )
    assert answer["status"]["termination_details"]["code"] == "INTERNAL_ERROR"
    assert answer["tasks"][0]["state"]["life_cycle_state"] == "INTERNAL_ERROR"
