"""The official databricks-sdk (0.162.0) installs cluster libraries and runs a ``python_wheel_task``.

The wheel is built in the test (tests/wheels.py) and uploaded to DBFS through the SDK. Installs run pip
for real in the background; the tests poll with a deadline.
"""

from __future__ import annotations

import io
import time
from datetime import timedelta

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.service import compute, jobs

from tests.emulator.harness import ADMIN_TOKEN, Emu
from tests.wheels import offline_pip, wheel

SPARK = "15.4.x-scala2.12"
NODE = "i3.xlarge"
WAIT = timedelta(seconds=60)


@pytest.fixture
def w(sdk_env: Emu) -> WorkspaceClient:
    return WorkspaceClient(host=sdk_env.url, token=ADMIN_TOKEN)


def _running_cluster(w: WorkspaceClient, emu: Emu) -> str:
    cluster_id = str(w.clusters.create(spark_version=SPARK, node_type_id=NODE, num_workers=0).cluster_id)
    emu.clock.advance(1)
    assert w.clusters.get(cluster_id).state == compute.State.RUNNING
    return cluster_id


def _upload_wheel(w: WorkspaceClient) -> str:
    name, data = wheel()
    w.dbfs.upload(f"/FileStore/wheels/{name}", io.BytesIO(data), overwrite=True)
    return f"dbfs:/FileStore/wheels/{name}"


def _settled(w: WorkspaceClient, cluster_id: str) -> list[compute.LibraryFullStatus]:
    deadline = time.monotonic() + WAIT.total_seconds()
    busy = {compute.LibraryInstallStatus.PENDING, compute.LibraryInstallStatus.INSTALLING}
    while True:
        found = list(w.libraries.cluster_status(cluster_id))
        if found and all(s.status not in busy for s in found):
            return found
        assert time.monotonic() < deadline, f"libraries stuck: {found}"
        time.sleep(0.1)  # waiting for pip, not for emulated time


def test_install_and_cluster_status(w: WorkspaceClient, sdk_env: Emu):
    """w.libraries.install of a DBFS wheel ends INSTALLED in cluster_status and all_cluster_statuses."""
    cluster_id = _running_cluster(w, sdk_env)
    uri = _upload_wheel(w)
    w.libraries.install(cluster_id, [compute.Library(whl=uri)])
    (found,) = _settled(w, cluster_id)
    assert found.library == compute.Library(whl=uri)
    assert found.status == compute.LibraryInstallStatus.INSTALLED
    everywhere = {s.cluster_id: s for s in w.libraries.all_cluster_statuses()}
    assert everywhere[cluster_id].library_statuses == [found]
    w.libraries.uninstall(cluster_id, [compute.Library(whl=uri)])
    (marked,) = w.libraries.cluster_status(cluster_id)
    assert marked.status == compute.LibraryInstallStatus.UNINSTALL_ON_RESTART


def test_a_python_wheel_task_logs_its_entry_points_output(w: WorkspaceClient, sdk_env: Emu):
    """A job with a python_wheel_task runs the test's wheel; get_run_output(...).logs has its output."""
    cluster_id = _running_cluster(w, sdk_env)
    task = jobs.Task(
        task_key="whl",
        existing_cluster_id=cluster_id,
        python_wheel_task=jobs.PythonWheelTask(
            package_name="greet_emu", entry_point="greet", parameters=["from", "sdk"]
        ),
        libraries=[compute.Library(whl=_upload_wheel(w))],
    )
    job = w.jobs.create(name="wheel", tasks=[task])
    run = w.jobs.run_now(job_id=job.job_id).result(timeout=WAIT)
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    out = w.jobs.get_run_output(run.tasks[0].run_id)
    assert "hello from the wheel ['from', 'sdk']" in str(out.logs)
    statuses = list(w.libraries.cluster_status(cluster_id))
    assert [s.status for s in statuses] == [compute.LibraryInstallStatus.INSTALLED]


def test_a_failed_task_library_fails_the_run(
    w: WorkspaceClient, sdk_env: Emu, monkeypatch: pytest.MonkeyPatch
):
    """A task library pip cannot install fails the run; the task's message names the library."""
    offline_pip(monkeypatch)
    cluster_id = _running_cluster(w, sdk_env)
    task = jobs.Task(
        task_key="whl",
        existing_cluster_id=cluster_id,
        python_wheel_task=jobs.PythonWheelTask(package_name="greet_emu", entry_point="greet"),
        libraries=[compute.Library(pypi=compute.PythonPyPiLibrary(package="no-such-package-emu"))],
    )
    job = w.jobs.create(name="wheel", tasks=[task])
    run = w.jobs.run_now(job_id=job.job_id).result(timeout=WAIT)
    assert run.state.result_state == jobs.RunResultState.FAILED
    message = str(run.tasks[0].state.state_message)
    assert (
        'Library installation failed for library due to user error for pypi: "no-such-package-emu"' in message
    )
    (status,) = w.libraries.cluster_status(cluster_id)
    assert status.status == compute.LibraryInstallStatus.FAILED
    assert status.messages and "ERROR:" in status.messages[0]
