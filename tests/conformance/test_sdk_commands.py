"""The official databricks-sdk (0.162.0) runs code on an emulated cluster: CommandExecutionAPI, w.dbutils.

The SDK's waiters sleep for real between polls (1 s, 2 s, ...) while a child process answers: these
tests take a few seconds each. The cluster starts on the emulator's fake clock.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import PermissionDenied
from databricks.sdk.service.compute import CommandStatus, ContextStatus, Language, ResultType

from tests.emulator.harness import ADMIN_TOKEN, ALICE_TOKEN, Emu

WAIT = timedelta(seconds=60)
SPEC = {
    "cluster_name": "repl",
    "spark_version": "15.4.x-scala2.12",
    "node_type_id": "i3.xlarge",
    "num_workers": 1,
}


@pytest.fixture
def cluster_id(sdk_env: Emu) -> str:
    response = sdk_env.post("/api/2.1/clusters/create", json=SPEC)
    assert response.status_code == 200, response.text
    sdk_env.clock.advance(1)  # one lifecycle step: RUNNING
    return str(response.json()["cluster_id"])


@pytest.fixture
def w(sdk_env: Emu) -> WorkspaceClient:
    return WorkspaceClient(host=sdk_env.url, token=ADMIN_TOKEN)


def test_create_context_waits_until_running(w: WorkspaceClient, cluster_id: str):
    """create(...).result() returns the context Running."""
    context = w.command_execution.create(cluster_id=cluster_id, language=Language.PYTHON).result(timeout=WAIT)
    assert context.status == ContextStatus.RUNNING
    assert context.id
    w.command_execution.destroy(cluster_id=cluster_id, context_id=context.id)


def test_execute_returns_the_value_and_keeps_state(w: WorkspaceClient, cluster_id: str):
    """execute(...).result() answers the text a cell shows; a second command sees the first's names."""
    context = w.command_execution.create_and_wait(
        cluster_id=cluster_id, language=Language.PYTHON, timeout=WAIT
    )
    first = w.command_execution.execute(
        cluster_id=cluster_id, context_id=context.id, language=Language.PYTHON, command="x = 6 * 7\nx"
    ).result(timeout=WAIT)
    assert first.status == CommandStatus.FINISHED
    assert (first.results.result_type, first.results.data) == (ResultType.TEXT, "42")
    second = w.command_execution.execute_and_wait(
        cluster_id=cluster_id, context_id=context.id, language=Language.PYTHON, command="x + 1", timeout=WAIT
    )
    assert second.results.data == "43"


def test_execute_with_an_exception_is_an_error_result(w: WorkspaceClient, cluster_id: str):
    """An exception finishes the command with result_type error, a summary and the traceback as cause."""
    context = w.command_execution.create_and_wait(
        cluster_id=cluster_id, language=Language.PYTHON, timeout=WAIT
    )
    answer = w.command_execution.execute_and_wait(
        cluster_id=cluster_id,
        context_id=context.id,
        language=Language.PYTHON,
        command="raise KeyError('missing')",
        timeout=WAIT,
    )
    assert answer.status == CommandStatus.FINISHED
    assert answer.results.result_type == ResultType.ERROR
    assert "KeyError" in answer.results.summary
    assert "Traceback" in answer.results.cause


def test_remote_dbutils_mounts_through_the_cluster(sdk_env: Emu, cluster_id: str):
    """w.dbutils.fs.mounts() with a cluster_id runs the SDK's proxy code on the cluster and parses it."""
    w = WorkspaceClient(host=sdk_env.url, token=ADMIN_TOKEN, cluster_id=cluster_id)
    mounts = w.dbutils.fs.mounts()
    points = {m.mountPoint: m.source for m in mounts}
    assert points["/databricks-datasets"] == "databricks-datasets"
    assert points["/"] == "DatabricksRoot"
    assert all(m.encryptionType == "" for m in mounts)


def test_non_admin_without_attach_is_refused(sdk_env: Emu, cluster_id: str):
    """A user without CAN_ATTACH_TO on the cluster gets PermissionDenied from create."""
    alice = WorkspaceClient(host=sdk_env.url, token=ALICE_TOKEN)
    with pytest.raises(PermissionDenied, match="permissions on cluster"):
        alice.command_execution.create(cluster_id=cluster_id, language=Language.PYTHON)
