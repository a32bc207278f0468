"""The official databricks-sdk (0.162.0) drives Jobs on the emulator, notebooks executing for real.

The SDK's waiters poll with real sleeps (1 s, 2 s, ...): these tests take a few seconds each.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, ResourceDoesNotExist
from databricks.sdk.service import jobs
from databricks.sdk.service.workspace import ImportFormat, Language

from tests.emulator.harness import ADMIN, ADMIN_TOKEN, Emu
from tests.emulator.jobs_harness import BLOCK, notebook, task_running, wait_run

HOME = f"/Users/{ADMIN}"
WAIT = timedelta(seconds=60)


@pytest.fixture
def w(sdk_env: Emu) -> WorkspaceClient:
    return WorkspaceClient(host=sdk_env.url, token=ADMIN_TOKEN)


def _upload(w: WorkspaceClient, name: str, *cells: str) -> str:
    path = f"{HOME}/{name}"
    w.workspace.upload(
        path,
        io.BytesIO(notebook(*cells).encode()),
        format=ImportFormat.SOURCE,
        language=Language.PYTHON,
        overwrite=True,
    )
    return path


def _task(key: str, path: str, *after: str, **params: str) -> jobs.Task:
    return jobs.Task(
        task_key=key,
        notebook_task=jobs.NotebookTask(notebook_path=path, base_parameters=params or None),
        depends_on=[jobs.TaskDependency(task_key=k) for k in after] or None,
    )


def test_run_now_and_wait_gives_the_exit_value(w: WorkspaceClient):
    """create + run_now_and_wait ends SUCCESS; get_run_output(task run) has the exit value."""
    path = _upload(w, "hello", "dbutils.notebook.exit('hi ' + dbutils.widgets.get('who'))")
    job = w.jobs.create(name="hello", tasks=[_task("main", path, who="base")])
    run = w.jobs.run_now_and_wait(job.job_id, notebook_params={"who": "sdk"}, timeout=WAIT)
    assert run.state.life_cycle_state == jobs.RunLifeCycleState.TERMINATED
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    assert w.jobs.get_run_output(run.tasks[0].run_id).notebook_output.result == "hi sdk"


def test_failing_notebook_is_terminated_failed_with_its_error(w: WorkspaceClient):
    """The SDK waiter returns on TERMINATED; the run is FAILED and get_run_output has the error."""
    path = _upload(w, "fail", "raise ValueError('bad input')")
    job = w.jobs.create(name="fail", tasks=[_task("main", path)])
    run = w.jobs.run_now_and_wait(job.job_id, timeout=WAIT)
    assert run.state.result_state == jobs.RunResultState.FAILED
    out = w.jobs.get_run_output(run.tasks[0].run_id)
    assert out.error == "ValueError: bad input"
    assert "bad input" in out.error_trace


def test_submit_and_wait_runs_a_one_time_run(w: WorkspaceClient):
    """submit_and_wait runs the notebook as a SUBMIT_RUN."""
    path = _upload(w, "once", "dbutils.notebook.exit('once')")
    run = w.jobs.submit_and_wait(
        run_name="adhoc",
        tasks=[jobs.SubmitTask(task_key="t", notebook_task=jobs.NotebookTask(notebook_path=path))],
        timeout=WAIT,
    )
    assert run.run_type == jobs.RunType.SUBMIT_RUN
    assert w.jobs.get_run_output(run.tasks[0].run_id).notebook_output.result == "once"


def test_three_tasks_with_dependencies(w: WorkspaceClient):
    """a -> b -> c pass a task value along and all succeed, in order."""
    first = _upload(w, "a", "dbutils.jobs.taskValues.set('n', 1)")
    middle = _upload(w, "b", "dbutils.jobs.taskValues.set('n', dbutils.jobs.taskValues.get('a', 'n') + 1)")
    last = _upload(w, "c", "dbutils.notebook.exit(dbutils.jobs.taskValues.get('b', 'n') + 1)")
    job = w.jobs.create(
        name="chain", tasks=[_task("a", first), _task("b", middle, "a"), _task("c", last, "b")]
    )
    run = w.jobs.run_now_and_wait(job.job_id, timeout=WAIT)
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    by_key = {t.task_key: t for t in run.tasks}
    assert by_key["a"].end_time <= by_key["b"].start_time <= by_key["b"].end_time <= by_key["c"].start_time
    assert w.jobs.get_run_output(by_key["c"].run_id).notebook_output.result == "3"


def test_get_run_output_of_the_parent_is_invalid_parameter_value(w: WorkspaceClient):
    """get_run_output on a multi-task job run raises InvalidParameterValue."""
    path = _upload(w, "ok", "print(1)")
    job = w.jobs.create(name="two", tasks=[_task("a", path), _task("b", path)])
    run = w.jobs.run_now_and_wait(job.job_id, timeout=WAIT)
    with pytest.raises(InvalidParameterValue, match="multiple tasks is not supported"):
        w.jobs.get_run_output(run.run_id)


def test_cancel_run_and_wait_ends_canceled(w: WorkspaceClient, sdk_env: Emu):
    """cancel_run_and_wait on a running notebook returns the run CANCELED."""
    path = _upload(w, "block", BLOCK)
    job = w.jobs.create(name="block", tasks=[_task("main", path)])
    run_id = w.jobs.run_now(job.job_id).run_id
    wait_run(sdk_env, run_id, task_running("main"))
    run = w.jobs.cancel_run_and_wait(run_id, timeout=WAIT)
    assert run.state.result_state == jobs.RunResultState.CANCELED


def test_run_now_twice_with_one_idempotency_token_is_one_run(w: WorkspaceClient):
    """Two run_now calls with the same idempotency_token give one run."""
    path = _upload(w, "ok", "print(1)")
    job = w.jobs.create(name="idem", tasks=[_task("main", path)])
    first = w.jobs.run_now(job.job_id, idempotency_token="deploy-42").run_id
    second = w.jobs.run_now(job.job_id, idempotency_token="deploy-42").run_id
    assert first == second
    w.jobs.wait_get_run_job_terminated_or_skipped(first, timeout=WAIT)
    assert [r.run_id for r in w.jobs.list_runs(job_id=job.job_id)] == [first]


def test_missing_job_and_run_are_resource_does_not_exist(w: WorkspaceClient):
    """The SDK maps the real 400 'does not exist' answers to ResourceDoesNotExist."""
    with pytest.raises(ResourceDoesNotExist, match="Job 9999 does not exist"):
        w.jobs.get(9999)
    with pytest.raises(ResourceDoesNotExist, match="Run 9999 does not exist"):
        w.jobs.get_run(9999)


def test_get_and_get_run_merge_pages_of_150_tasks(w: WorkspaceClient):
    """jobs.get and get_run follow 2.2 page tokens and return all 150 tasks."""
    path = f"{HOME}/never-runs"
    job = w.jobs.create(name="wide", max_concurrent_runs=0, tasks=[_task(f"t{i}", path) for i in range(150)])
    assert len(w.jobs.get(job.job_id).settings.tasks) == 150
    run = w.jobs.run_now_and_wait(job.job_id, timeout=WAIT)  # max_concurrent_runs 0: skipped at once
    assert run.state.life_cycle_state == jobs.RunLifeCycleState.SKIPPED
    assert len(w.jobs.get_run(run.run_id).tasks) == 150


def test_list_finds_jobs_by_name(w: WorkspaceClient):
    """jobs.list(name=...) iterates the matching jobs."""
    w.jobs.create(name="alpha")
    w.jobs.create(name="beta")
    assert [j.settings.name for j in w.jobs.list(name="ALPHA")] == ["alpha"]
