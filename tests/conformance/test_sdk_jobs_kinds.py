"""The official databricks-sdk (0.162.0) creates and runs a for_each_task and a run_job_task.

The SDK's waiters poll with real sleeps (1 s, 2 s, ...): these tests take a few seconds each.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import jobs
from databricks.sdk.service.workspace import ImportFormat, Language

from tests.emulator.harness import ADMIN, ADMIN_TOKEN, Emu
from tests.emulator.jobs_harness import notebook

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


def test_for_each_task_iterations_through_the_sdk(w: WorkspaceClient):
    """A for_each_task job runs to SUCCESS; get_run of the loop's task run lists one iteration per input."""
    path = _upload(w, "each", "dbutils.notebook.exit('n=' + dbutils.widgets.get('n'))")
    inner = jobs.Task(
        task_key="each",
        notebook_task=jobs.NotebookTask(notebook_path=path, base_parameters={"n": "{{input}}"}),
    )
    loop = jobs.Task(
        task_key="loop", for_each_task=jobs.ForEachTask(inputs="[1, 2, 3]", task=inner, concurrency=2)
    )
    job = w.jobs.create(name="each", tasks=[loop])
    run = w.jobs.run_now_and_wait(job.job_id, timeout=WAIT)
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    stats = run.tasks[0].for_each_task.stats.task_run_stats
    assert (stats.total_iterations, stats.succeeded_iterations) == (3, 3)
    detail = w.jobs.get_run(run.tasks[0].run_id)
    outputs = [w.jobs.get_run_output(i.run_id).notebook_output.result for i in detail.iterations]
    assert outputs == ["n=1", "n=2", "n=3"]


def test_run_job_task_through_the_sdk(w: WorkspaceClient):
    """A run_job_task job triggers the other job with its job_parameters; both runs end SUCCESS."""
    path = _upload(w, "child", "assert dbutils.widgets.get('who') == 'parent'")
    child = w.jobs.create(
        name="child",
        tasks=[jobs.Task(task_key="main", notebook_task=jobs.NotebookTask(notebook_path=path))],
        parameters=[jobs.JobParameterDefinition(name="who", default="nobody")],
    )
    call = jobs.Task(
        task_key="call", run_job_task=jobs.RunJobTask(job_id=child.job_id, job_parameters={"who": "parent"})
    )
    parent = w.jobs.create(name="parent", tasks=[call])
    run = w.jobs.run_now_and_wait(parent.job_id, timeout=WAIT)
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    child_run_id = w.jobs.get_run_output(run.tasks[0].run_id).run_job_output.run_id
    child_run = w.jobs.get_run(child_run_id)
    assert child_run.job_id == child.job_id
    assert child_run.state.result_state == jobs.RunResultState.SUCCESS
