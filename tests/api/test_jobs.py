"""Jobs API primitives (``brickbook.api.jobs``) against the emulator over loopback HTTP.

Most runs here never start a process: a job with ``max_concurrent_runs: 0`` skips every run at once,
and a task on a cluster that stays PENDING (the emulator's clock is not advanced) waits forever. The
few tests that need a real run wait for a child process, never for emulated time.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

import pytest

from brickbook.api import clusters, jobs, workspace
from brickbook.api.jobs import LifeCycleState, ResultState, Run
from brickbook.api.workspace import ImportFormat, Language
from brickbook.client import Client
from brickbook.errors import InvalidParameterValue, InvalidState, ResourceDoesNotExist
from tests.conftest import Emulator

JOBS = "/api/2.2/jobs"
MISSING = 987654
WAIT_SECONDS = 30


def nb_task(key: str, path: str = "/Shared/none", **extra: Any) -> dict[str, Any]:
    """A notebook task (serverless unless ``extra`` names compute)."""
    return {"task_key": key, "notebook_task": {"notebook_path": path}, **extra}


def skipping_job(client: Client, *, tasks: int = 1, name: str = "skipper", **settings: Any) -> int:
    """A job whose every run is SKIPPED at once (``max_concurrent_runs: 0``): no process ever starts."""
    body = {"name": name, "tasks": [nb_task(f"t{i:03}") for i in range(tasks)], "max_concurrent_runs": 0}
    return jobs.create(client, {**body, **settings})


def waiting_job(client: Client, **settings: Any) -> int:
    """A job whose runs wait on a cluster that stays PENDING: they stay active and start nothing."""
    cluster_id = clusters.create(
        client,
        {
            "cluster_name": "never-ready",
            "spark_version": "15.4.x-scala2.12",
            "node_type_id": "m5d.large",
            "num_workers": 1,
        },
    )
    body = {"name": "waiter", "tasks": [nb_task("main", existing_cluster_id=cluster_id)]}
    return jobs.create(client, {**body, **settings})


def wait_terminal(client: Client, run_id: int) -> Run:
    """Poll runs/get until the run settles (a child process or the scheduler moves it; no fake time)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        run = jobs.get_run(client, run_id)
        if run.is_terminal:
            return run
        assert time.monotonic() < deadline, f"run {run_id} stuck in {run.state}"
        time.sleep(0.02)  # waiting for a real child process or scheduler thread, not for emulated time


def queries(emulator: Emulator, path: str) -> list[dict[str, list[str]]]:
    return [parse_qs(str(r["query"])) for r in emulator.requests(path)]


# -- jobs -------------------------------------------------------------------------------------------


def test_create_returns_the_id_that_get_describes(client: Client):
    """create returns an int job id, and get returns a typed BaseJob with its name, creator and settings."""
    job_id = jobs.create(client, {"name": "nightly", "tasks": [nb_task("main")]})
    job = jobs.get(client, job_id)
    assert (job.job_id, job.name, job.creator_user_name) == (job_id, "nightly", "admin@example.com")
    assert isinstance(job.created_time, int)
    assert [t["task_key"] for t in job.settings["tasks"]] == ["main"]


def test_get_of_a_missing_job_is_resource_does_not_exist(client: Client):
    """jobs/get answers a missing job with 400 INVALID_PARAMETER_VALUE, raised as ResourceDoesNotExist."""
    with pytest.raises(ResourceDoesNotExist) as info:
        jobs.get(client, MISSING)
    assert (info.value.http_status, info.value.error_code) == (400, "INVALID_PARAMETER_VALUE")
    assert f"Job {MISSING} does not exist" in info.value.message


def test_get_merges_every_page_of_tasks(client: Client, emulator: Emulator):
    """A job with 130 tasks comes back whole: get follows the 2.2 next_page_token of the task array."""
    job_id = skipping_job(client, tasks=130)
    job = jobs.get(client, job_id)
    assert [t["task_key"] for t in job.settings["tasks"]] == [f"t{i:03}" for i in range(130)]
    sent = queries(emulator, f"{JOBS}/get")
    assert len(sent) == 2 and "page_token" not in sent[0] and sent[1]["page_token"]
    assert "next_page_token" not in job.raw


def test_get_merges_every_page_of_parameters(client: Client):
    """Job parameters are paged at 100 like tasks, and get merges them too."""
    parameters = [{"name": f"p{i:03}", "default": str(i)} for i in range(120)]
    job_id = skipping_job(client, parameters=parameters)
    assert jobs.get(client, job_id).settings["parameters"] == parameters


def test_list_of_an_empty_workspace_yields_nothing(client: Client):
    """jobs/list leaves out ``jobs`` when there are none, and list_ yields nothing."""
    assert list(jobs.list_(client)) == []


def test_list_follows_next_page_token_past_100_jobs(client: Client, emulator: Emulator):
    """101 jobs take two pages of 100; list_ yields all of them, newest first."""
    created = [jobs.create(client, {"name": f"j{i}", "tasks": [nb_task("t")]}) for i in range(101)]
    listed = [job.job_id for job in jobs.list_(client)]
    assert sorted(listed) == sorted(created) and len(listed) == 101
    sent = queries(emulator, f"{JOBS}/list")
    assert [q["limit"] for q in sent] == [["100"], ["100"]]
    assert "page_token" not in sent[0] and sent[1]["page_token"]


def test_list_name_filter_is_exact_and_ignores_case(client: Client):
    """list_(name=...) finds the job named exactly so, in any case, and not names that only start so."""
    wanted = jobs.create(client, {"name": "Nightly", "tasks": [nb_task("t")]})
    jobs.create(client, {"name": "nightly-backfill", "tasks": [nb_task("t")]})
    assert [job.job_id for job in jobs.list_(client, name="NIGHTLY")] == [wanted]


def test_list_name_is_encoded_in_the_query_string(client: Client, emulator: Emulator):
    """A name holding '&', '=', '#' and a space travels intact in the query string."""
    name = "a&b=c #1"
    wanted = jobs.create(client, {"name": name, "tasks": [nb_task("t")]})
    assert [job.job_id for job in jobs.list_(client, name=name)] == [wanted]
    assert queries(emulator, f"{JOBS}/list")[0]["name"] == [name]


def test_list_with_expand_tasks_keeps_the_services_cut_at_100(client: Client):
    """With expand_tasks a listed job carries its first 100 tasks and raw has_more; get has the rest."""
    skipping_job(client, tasks=130, name="wide")
    (listed,) = jobs.list_(client, name="wide", expand_tasks=True)
    assert len(listed.settings["tasks"]) == 100
    assert listed.raw["has_more"] is True


def test_reset_replaces_every_setting(client: Client):
    """reset replaces the whole settings object: a field left out of new_settings is gone."""
    job_id = jobs.create(client, {"name": "a", "tasks": [nb_task("t")], "tags": {"team": "data"}})
    jobs.reset(client, job_id, {"name": "b", "tasks": [nb_task("u")]})
    settings = jobs.get(client, job_id).settings
    assert (settings["name"], [t["task_key"] for t in settings["tasks"]]) == ("b", ["u"])
    assert "tags" not in settings


def test_reset_of_a_missing_job_is_resource_does_not_exist(client: Client):
    """reset of a job that does not exist raises ResourceDoesNotExist (400 INVALID_PARAMETER_VALUE)."""
    with pytest.raises(ResourceDoesNotExist) as info:
        jobs.reset(client, MISSING, {"name": "x", "tasks": [nb_task("t")]})
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "does not exist" in info.value.message


def test_create_with_invalid_settings_is_invalid_parameter_value(client: Client):
    """Settings the service refuses (a repeated task_key) raise InvalidParameterValue with its reason."""
    with pytest.raises(InvalidParameterValue) as info:
        jobs.create(client, {"name": "dup", "tasks": [nb_task("a"), nb_task("a")]})
    assert (info.value.http_status, info.value.error_code) == (400, "INVALID_PARAMETER_VALUE")
    assert "unique" in info.value.message


def test_delete_removes_the_job(client: Client):
    """After delete, get of the job raises ResourceDoesNotExist."""
    job_id = jobs.create(client, {"name": "gone", "tasks": [nb_task("t")]})
    jobs.delete(client, job_id)
    with pytest.raises(ResourceDoesNotExist, match=f"Job {job_id} does not exist"):
        jobs.get(client, job_id)


# -- starting runs ----------------------------------------------------------------------------------


def test_run_now_with_a_repeated_idempotency_token_returns_the_first_run(client: Client):
    """A second run-now with the same idempotency token starts nothing and returns the first run id."""
    job_id = skipping_job(client)
    first = jobs.run_now(client, job_id, idempotency_token="tok-1")
    assert jobs.run_now(client, job_id, idempotency_token="tok-1") == first
    assert [run.run_id for run in jobs.list_runs(client, job_id=job_id)] == [first]


def test_run_now_sends_job_parameters(client: Client):
    """job_parameters override the job's parameter defaults in the run."""
    job_id = skipping_job(client, parameters=[{"name": "day", "default": "mon"}])
    run_id = jobs.run_now(client, job_id, idempotency_token="t", job_parameters={"day": "tue"})
    assert jobs.get_run(client, run_id).raw["job_parameters"] == [
        {"name": "day", "default": "mon", "value": "tue"}
    ]


def test_run_now_sends_notebook_params(client: Client):
    """notebook_params reach the run as its overriding_parameters."""
    job_id = skipping_job(client)
    run_id = jobs.run_now(client, job_id, idempotency_token="t", notebook_params={"day": "wed"})
    assert jobs.get_run(client, run_id).raw["overriding_parameters"] == {"notebook_params": {"day": "wed"}}


def test_run_now_of_a_missing_job_is_resource_does_not_exist(client: Client):
    """run-now of a job that does not exist raises ResourceDoesNotExist (400 INVALID_PARAMETER_VALUE)."""
    with pytest.raises(ResourceDoesNotExist) as info:
        jobs.run_now(client, MISSING, idempotency_token="t")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert f"Job {MISSING} does not exist" in info.value.message


def test_submit_with_a_repeated_idempotency_token_returns_the_first_run(client: Client):
    """A second runs/submit with the same idempotency token returns the run the first one started."""
    cluster_job = waiting_job(client)
    spec = {"run_name": "once", "tasks": jobs.get(client, cluster_job).settings["tasks"]}
    first = jobs.submit(client, spec, idempotency_token="sub-1")
    assert jobs.submit(client, spec, idempotency_token="sub-1") == first
    assert jobs.get_run(client, first).run_type == "SUBMIT_RUN"


# -- reading runs -----------------------------------------------------------------------------------


def test_get_run_is_typed(client: Client):
    """get_run returns a Run whose states are enums and whose terminal flag follows the life cycle."""
    job_id = skipping_job(client)
    run = jobs.get_run(client, jobs.run_now(client, job_id, idempotency_token="t"))
    assert (run.life_cycle_state, run.result_state) == (
        LifeCycleState.SKIPPED,
        ResultState.MAXIMUM_CONCURRENT_RUNS_REACHED,
    )
    assert run.is_terminal and run.job_id == job_id and run.run_type == "JOB_RUN"
    assert "maximum concurrent runs" in run.state_message


def test_get_run_of_a_missing_run_is_resource_does_not_exist(client: Client):
    """runs/get answers a missing run with 400 INVALID_PARAMETER_VALUE, raised as ResourceDoesNotExist."""
    with pytest.raises(ResourceDoesNotExist) as info:
        jobs.get_run(client, MISSING)
    assert (info.value.http_status, info.value.error_code) == (400, "INVALID_PARAMETER_VALUE")
    assert f"Run {MISSING} does not exist" in info.value.message


def test_get_run_merges_every_page_of_task_runs(client: Client, emulator: Emulator):
    """A run of 130 tasks comes back with all 130 task runs: get_run follows next_page_token."""
    run_id = jobs.run_now(client, skipping_job(client, tasks=130), idempotency_token="t")
    run = jobs.get_run(client, run_id)
    assert [t["task_key"] for t in run.tasks] == [f"t{i:03}" for i in range(130)]
    assert len(queries(emulator, f"{JOBS}/runs/get")) == 2


def test_get_run_asks_for_history_only_when_told(client: Client, emulator: Emulator):
    """include_history travels as include_history=true and is left out otherwise."""
    run_id = jobs.run_now(client, skipping_job(client), idempotency_token="t")
    jobs.get_run(client, run_id)
    jobs.get_run(client, run_id, include_history=True)
    sent = queries(emulator, f"{JOBS}/runs/get")
    assert [q.get("include_history") for q in sent] == [None, ["true"]]


def test_get_run_output_of_a_multi_task_run_is_invalid_parameter_value(client: Client):
    """runs/get-output on a run with several tasks is the service's 400, not a missing run."""
    run_id = jobs.run_now(client, skipping_job(client, tasks=2), idempotency_token="t")
    with pytest.raises(InvalidParameterValue) as info:
        jobs.get_run_output(client, run_id)
    assert not isinstance(info.value, ResourceDoesNotExist)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "runs with multiple tasks is not supported" in info.value.message


def test_get_run_output_returns_the_notebook_exit_value(client: Client):
    """A task run's output carries the value the notebook passed to dbutils.notebook.exit."""
    source = b"# Databricks notebook source\ndbutils.notebook.exit('done')\n"
    workspace.import_(client, "/Shared/exit", source, format=ImportFormat.SOURCE, language=Language.PYTHON)
    spec = {"run_name": "exit", "tasks": [nb_task("main", "/Shared/exit")]}
    run = wait_terminal(client, jobs.submit(client, spec, idempotency_token="t"))
    assert run.result_state == ResultState.SUCCESS
    output = jobs.get_run_output(client, run.tasks[0]["run_id"])
    assert output.notebook_output == {"result": "done", "truncated": False}
    assert output.metadata["task_key"] == "main"


def test_list_runs_pages_newest_first(client: Client, emulator: Emulator):
    """list_runs with limit 2 follows next_page_token through five runs, newest started first."""
    job_id = skipping_job(client)
    started = [jobs.run_now(client, job_id, idempotency_token=f"t{i}") for i in range(5)]
    listed = [run.run_id for run in jobs.list_runs(client, job_id=job_id, limit=2)]
    assert listed == started[::-1]
    assert len(emulator.requests(f"{JOBS}/runs/list")) == 3


def test_list_runs_active_only_leaves_finished_runs_out(client: Client, emulator: Emulator):
    """active_only travels as active_only=true and yields only runs still in progress."""
    active = jobs.run_now(client, waiting_job(client), idempotency_token="t")
    jobs.run_now(client, skipping_job(client), idempotency_token="t")
    assert [run.run_id for run in jobs.list_runs(client, active_only=True)] == [active]
    assert queries(emulator, f"{JOBS}/runs/list")[0]["active_only"] == ["true"]


# -- changing runs ----------------------------------------------------------------------------------


def test_cancel_run_ends_an_active_run_as_canceled(client: Client):
    """cancel_run of an active run returns at once; the run then ends TERMINATED with CANCELED."""
    run_id = jobs.run_now(client, waiting_job(client), idempotency_token="t")
    jobs.cancel_run(client, run_id)
    run = wait_terminal(client, run_id)
    assert (run.life_cycle_state, run.result_state) == (LifeCycleState.TERMINATED, ResultState.CANCELED)


def test_cancel_all_runs_cancels_the_active_and_the_queued_run(client: Client):
    """cancel_all_runs ends both the job's running and its queued run."""
    job_id = waiting_job(client, queue={"enabled": True}, max_concurrent_runs=1)
    first = jobs.run_now(client, job_id, idempotency_token="a")
    second = jobs.run_now(client, job_id, idempotency_token="b")
    assert jobs.get_run(client, second).life_cycle_state == LifeCycleState.QUEUED
    jobs.cancel_all_runs(client, job_id)
    assert [wait_terminal(client, r).result_state for r in (first, second)] == [ResultState.CANCELED] * 2


def test_delete_run_of_an_active_run_is_invalid_state(client: Client):
    """runs/delete refuses a run still in progress with 400 INVALID_STATE (InvalidState)."""
    run_id = jobs.run_now(client, waiting_job(client), idempotency_token="t")
    with pytest.raises(InvalidState) as info:
        jobs.delete_run(client, run_id)
    assert (info.value.http_status, info.value.error_code) == (400, "INVALID_STATE")
    assert "active" in info.value.message


def test_delete_run_removes_a_finished_run(client: Client):
    """After delete_run of a finished run, get_run raises ResourceDoesNotExist."""
    run_id = jobs.run_now(client, skipping_job(client), idempotency_token="t")
    jobs.delete_run(client, run_id)
    with pytest.raises(ResourceDoesNotExist, match=f"Run {run_id} does not exist"):
        jobs.get_run(client, run_id)


def test_repair_run_of_an_active_run_is_invalid_state(client: Client):
    """runs/repair refuses a run still in progress with 400 INVALID_STATE (InvalidState)."""
    run_id = jobs.run_now(client, waiting_job(client), idempotency_token="t")
    with pytest.raises(InvalidState) as info:
        jobs.repair_run(client, run_id, rerun_all_failed_tasks=True)
    assert info.value.error_code == "INVALID_STATE"
    assert "still active" in info.value.message


def failed_run(client: Client) -> int:
    """Run a one-task job whose notebook does not exist, to a FAILED end; return the run id."""
    job_id = jobs.create(client, {"name": "fails", "tasks": [nb_task("main", "/Shared/missing")]})
    run = wait_terminal(client, jobs.run_now(client, job_id, idempotency_token="t"))
    assert run.result_state == ResultState.FAILED
    return run.run_id


def test_second_repair_without_latest_repair_id_is_invalid_parameter_value(client: Client):
    """From the second repair on, the service wants latest_repair_id and names the one it expects."""
    run_id = failed_run(client)
    repair_id = jobs.repair_run(client, run_id, rerun_all_failed_tasks=True)
    wait_terminal(client, run_id)
    with pytest.raises(InvalidParameterValue) as info:
        jobs.repair_run(client, run_id, rerun_all_failed_tasks=True)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert (
        f"latest_repair_id must be the id of the latest repair of this run ({repair_id})"
        in info.value.message
    )


def test_repair_history_names_the_latest_repair_id(client: Client):
    """get_run with include_history lists the repair that repair_run returned, last."""
    run_id = failed_run(client)
    repair_id = jobs.repair_run(client, run_id, rerun_all_failed_tasks=True)
    wait_terminal(client, run_id)
    history = jobs.get_run(client, run_id, include_history=True).raw["repair_history"]
    assert [entry["type"] for entry in history] == ["ORIGINAL", "REPAIR"]
    assert history[-1]["id"] == repair_id
    assert (
        jobs.repair_run(client, run_id, rerun_all_failed_tasks=True, latest_repair_id=repair_id) > repair_id
    )
