"""The Command Execution API 1.2 over HTTP: contexts with a REPL child, commands, results, cancel, access.

Commands run in real child processes: a test waits for a command's answer by polling its status with a
deadline (waiting for a process, never for emulated time); clusters move on the fake clock.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from brickbook.emulator.runtime.contexts import ExecutionContexts
from brickbook.emulator.state.clusters import ClustersState
from brickbook.emulator.state.identity import Identity
from brickbook.emulator.state.store import Store
from tests.emulator.harness import (
    ADMIN,
    ADMIN_TOKEN,
    ALICE,
    ALICE_TOKEN,
    ME,
    Emu,
    FakeClock,
    make_settings,
    serving,
)
from tests.emulator.jobs_harness import run_notebook
from tests.emulator.test_clusters import action, assert_error, create, running

API = "/api/1.2"
CLUSTER_SPEC = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
DONE = ("Finished", "Cancelled", "Error")


def new_context(emu: Emu, cluster_id: str, token: str | None = None, language: str = "python") -> str:
    kwargs: dict[str, Any] = {} if token is None else {"token": token}
    response = emu.post(
        f"{API}/contexts/create", json={"clusterId": cluster_id, "language": language}, **kwargs
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def submit(
    emu: Emu,
    cluster_id: str,
    context_id: str,
    command: str,
    *,
    language: str = "python",
    token: str = ADMIN_TOKEN,
) -> str:
    body = {"clusterId": cluster_id, "contextId": context_id, "language": language, "command": command}
    response = emu.post(f"{API}/commands/execute", json=body, token=token)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def status(
    emu: Emu, cluster_id: str, context_id: str, command_id: str, token: str = ADMIN_TOKEN
) -> dict[str, Any]:
    params = {"clusterId": cluster_id, "contextId": context_id, "commandId": command_id}
    response = emu.get(f"{API}/commands/status", params=params, token=token)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def wait(
    emu: Emu, cluster_id: str, context_id: str, command_id: str, token: str = ADMIN_TOKEN
) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        answer = status(emu, cluster_id, context_id, command_id, token)
        if answer["status"] in DONE or time.monotonic() > deadline:
            return answer
        time.sleep(0.02)  # waiting for a child process, not for emulated time


def run(
    emu: Emu,
    cluster_id: str,
    context_id: str,
    command: str,
    *,
    language: str = "python",
    token: str = ADMIN_TOKEN,
) -> dict[str, Any]:
    command_id = submit(emu, cluster_id, context_id, command, language=language, token=token)
    return wait(emu, cluster_id, context_id, command_id, token)


@pytest.fixture
def ctx(emu: Emu) -> tuple[str, str]:
    cluster_id = running(emu)
    return cluster_id, new_context(emu, cluster_id)


def test_context_is_running_once_created(emu: Emu, ctx: tuple[str, str]):
    """contexts/status answers the context's id and Running."""
    cluster_id, context_id = ctx
    response = emu.get(f"{API}/contexts/status", params={"clusterId": cluster_id, "contextId": context_id})
    assert response.json() == {"id": context_id, "status": "Running"}


def test_text_result_is_stdout_then_the_last_value(emu: Emu, ctx: tuple[str, str]):
    """A Python command answers Finished with its printed output and the repr of its last expression."""
    answer = run(emu, *ctx, "print('hello')\n'world'")
    assert answer["status"] == "Finished"
    assert answer["results"] == {"resultType": "text", "data": "hello\n'world'"}


def test_state_is_kept_between_commands(emu: Emu, ctx: tuple[str, str]):
    """A name defined by one command is there for the next, as between notebook cells."""
    assert run(emu, *ctx, "x = 20")["results"]["data"] == ""
    assert run(emu, *ctx, "x + 22")["results"]["data"] == "42"


def test_indented_code_is_dedented(emu: Emu, ctx: tuple[str, str]):
    """A block indented as a whole (as the SDK's dbutils proxy sends it) runs."""
    assert run(emu, *ctx, "\n    a = 1\n    a + 1\n    ")["results"]["data"] == "2"


def test_an_exception_is_an_error_result_with_summary_and_cause(emu: Emu, ctx: tuple[str, str]):
    """An exception finishes the command with resultType error, the marked-up summary and the traceback."""
    answer = run(emu, *ctx, "def f():\n    raise ValueError('bad input')\nf()")
    assert answer["status"] == "Finished"
    results = answer["results"]
    assert results["resultType"] == "error"
    assert results["summary"] == "<span class='ansi-red-fg'>ValueError</span>: bad input"
    assert "Traceback (most recent call last)" in results["cause"]
    assert "raise ValueError('bad input')" in results["cause"]


def test_notebook_exit_value_is_the_text(emu: Emu, ctx: tuple[str, str]):
    """dbutils.notebook.exit(value) answers the value as the text result."""
    assert run(emu, *ctx, "dbutils.notebook.exit('done')")["results"]["data"] == "done"


def test_dbutils_fs_mounts_lists_a_fresh_workspace(emu: Emu, ctx: tuple[str, str]):
    """dbutils.fs.mounts() lists MountInfo entries of a fresh workspace, the DBFS root among them."""
    answer = run(emu, *ctx, "[m.mountPoint for m in dbutils.fs.mounts()]")
    points = answer["results"]["data"]
    assert "'/databricks-datasets'" in points and "'/Volumes'" in points and "'/'" in points


def test_sql_command_is_a_table_result(emu: Emu, ctx: tuple[str, str]):
    """A sql command runs on the emulator's engine and answers a table with its schema."""
    answer = run(emu, *ctx, "SELECT 1 AS one, 'a' AS letter", language="sql")
    assert answer["status"] == "Finished"
    results = answer["results"]
    assert results["resultType"] == "table"
    assert results["data"] == [[1, "a"]]
    assert [column["name"] for column in results["schema"]] == ["one", "letter"]


def test_cancel_interrupts_a_running_command(emu: Emu, ctx: tuple[str, str]):
    """Cancelling a running command ends it Cancelled; the context still runs the next command."""
    cluster_id, context_id = ctx
    command_id = submit(emu, cluster_id, context_id, "import time\nwhile True:\n    time.sleep(0.02)")
    assert status(emu, cluster_id, context_id, command_id)["status"] == "Running"
    body = {"clusterId": cluster_id, "contextId": context_id, "commandId": command_id}
    assert emu.post(f"{API}/commands/cancel", json=body).status_code == 200
    assert wait(emu, cluster_id, context_id, command_id)["status"] == "Cancelled"
    assert run(emu, cluster_id, context_id, "1 + 1")["results"]["data"] == "2"


def test_a_command_behind_a_running_one_is_queued(emu: Emu, ctx: tuple[str, str]):
    """Commands run one at a time: the second is Queued while the first runs."""
    cluster_id, context_id = ctx
    first = submit(emu, cluster_id, context_id, "import time\nwhile True:\n    time.sleep(0.02)")
    second = submit(emu, cluster_id, context_id, "'second'")
    assert status(emu, cluster_id, context_id, second)["status"] == "Queued"
    body = {"clusterId": cluster_id, "contextId": context_id, "commandId": first}
    emu.post(f"{API}/commands/cancel", json=body)
    assert wait(emu, cluster_id, context_id, second)["results"]["data"] == "'second'"


def test_destroy_ends_the_context(emu: Emu, ctx: tuple[str, str]):
    """After contexts/destroy the context is unknown."""
    cluster_id, context_id = ctx
    body = {"clusterId": cluster_id, "contextId": context_id}
    assert emu.post(f"{API}/contexts/destroy", json=body).status_code == 200
    response = emu.get(f"{API}/contexts/status", params=body)
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", f"Context {context_id} does not exist")


def test_terminating_the_cluster_ends_its_contexts(emu: Emu, ctx: tuple[str, str]):
    """A terminated cluster has no contexts: using one is refused for the cluster's state."""
    cluster_id, context_id = ctx
    assert action(emu, "delete", cluster_id).status_code == 200
    response = emu.get(f"{API}/contexts/status", params={"clusterId": cluster_id, "contextId": context_id})
    assert_error(response, 400, "INVALID_STATE", f"Cluster {cluster_id} is in unexpected state Terminating.")


def test_context_on_a_pending_cluster_is_invalid_state(emu: Emu):
    """contexts/create on a cluster that is not running is 400 INVALID_STATE naming its state."""
    cluster_id = create(emu)
    response = emu.post(f"{API}/contexts/create", json={"clusterId": cluster_id, "language": "python"})
    assert_error(response, 400, "INVALID_STATE", "is in unexpected state Pending")


def test_unknown_cluster_is_400_does_not_exist(emu: Emu):
    """contexts/create on a cluster that does not exist answers as the Clusters API does."""
    response = emu.post(f"{API}/contexts/create", json={"clusterId": "0000-nope", "language": "python"})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Cluster 0000-nope does not exist")


@pytest.mark.parametrize(
    ("language", "status_code", "code"),
    [("cobol", 400, "INVALID_PARAMETER_VALUE"), ("scala", 501, "NOT_IMPLEMENTED")],
)
def test_languages_the_emulator_cannot_run_are_refused(emu: Emu, language: str, status_code: int, code: str):
    """An unknown language is invalid; scala and r are not implemented by the emulator."""
    cluster_id = running(emu)
    response = emu.post(f"{API}/contexts/create", json={"clusterId": cluster_id, "language": language})
    assert_error(response, status_code, code, language)


def test_missing_field_is_refused(emu: Emu):
    """A request without clusterId is 400 naming the field."""
    response = emu.post(f"{API}/contexts/create", json={"language": "python"})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Missing required field: clusterId")


def test_non_admin_without_attach_is_refused(emu: Emu):
    """A user without CAN_ATTACH_TO on the cluster cannot create a context there."""
    cluster_id = running(emu)
    response = emu.post(
        f"{API}/contexts/create", json={"clusterId": cluster_id, "language": "python"}, token=ALICE_TOKEN
    )
    assert_error(response, 403, "PERMISSION_DENIED", "permissions on cluster")


def test_the_child_acts_as_the_context_creator(emu: Emu, ctx: tuple[str, str]):
    """Code in the context calls the workspace as the principal that created the context."""
    answer = run(emu, *ctx, "spark.sql('SELECT current_user() AS me').first().me")
    assert answer["results"]["data"] == repr(ADMIN)


def test_a_users_context_on_their_own_cluster_acts_as_them(emu: Emu):
    """A non-admin runs code on a cluster they created; the code acts as that user."""
    response = emu.post("/api/2.1/clusters/create", json=CLUSTER_SPEC, token=ALICE_TOKEN)
    cluster_id = str(response.json()["cluster_id"])
    emu.clock.advance(1)
    context_id = new_context(emu, cluster_id, token=ALICE_TOKEN)
    command = "spark.sql('SELECT current_user() AS me').first().me"
    answer = run(emu, cluster_id, context_id, command, token=ALICE_TOKEN)
    assert answer["results"]["data"] == repr(ALICE)


def test_another_principal_does_not_see_the_context(emu: Emu):
    """A context is its creator's: another principal (even an admin) is told it does not exist."""
    response = emu.post("/api/2.1/clusters/create", json=CLUSTER_SPEC, token=ALICE_TOKEN)
    cluster_id = str(response.json()["cluster_id"])
    emu.clock.advance(1)
    context_id = new_context(emu, cluster_id, token=ALICE_TOKEN)
    response = emu.get(f"{API}/contexts/status", params={"clusterId": cluster_id, "contextId": context_id})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", f"Context {context_id} does not exist")


def test_unknown_command_is_refused(emu: Emu, ctx: tuple[str, str]):
    """commands/status of a command id the context never had is 400 naming it."""
    cluster_id, context_id = ctx
    params = {"clusterId": cluster_id, "contextId": context_id, "commandId": "feedface"}
    response = emu.get(f"{API}/commands/status", params=params)
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Command feedface does not exist")


def test_a_child_that_dies_leaves_its_command_in_error(emu: Emu, ctx: tuple[str, str]):
    """Code that kills its own process ends the command in Error, and the context too."""
    cluster_id, context_id = ctx
    answer = run(emu, cluster_id, context_id, "import os\nos._exit(3)")
    assert answer["status"] == "Error"
    assert answer["results"]["resultType"] == "error"
    response = emu.get(f"{API}/contexts/status", params={"clusterId": cluster_id, "contextId": context_id})
    assert response.json()["status"] == "Error"


def test_terminating_the_cluster_kills_the_child(emu: Emu, ctx: tuple[str, str]):
    """The context's process ends as soon as its cluster starts terminating."""
    cluster_id, context_id = ctx
    pid = int(run(emu, cluster_id, context_id, "import os\nos.getpid()")["results"]["data"])
    assert action(emu, "delete", cluster_id).status_code == 200
    with pytest.raises(ProcessLookupError):
        _signal_zero(pid)


def test_restarting_the_cluster_ends_its_contexts(emu: Emu, ctx: tuple[str, str]):
    """A restart ends the REPLs: once RUNNING again, the old context is unknown."""
    cluster_id, context_id = ctx
    assert action(emu, "restart", cluster_id).status_code == 200
    emu.clock.advance(1)
    response = emu.get(f"{API}/contexts/status", params={"clusterId": cluster_id, "contextId": context_id})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "does not exist")


def test_secret_values_are_redacted_from_results(emu: Emu, ctx: tuple[str, str]):
    """A secret read through dbutils prints as [REDACTED] in the text result."""
    assert emu.post("/api/2.0/secrets/scopes/create", json={"scope": "s"}).status_code == 200
    body = {"scope": "s", "key": "k", "string_value": "hunter2-value"}
    assert emu.post("/api/2.0/secrets/put", json=body).status_code == 200
    answer = run(emu, *ctx, "v = dbutils.secrets.get('s', 'k')\nprint(v)\nv")
    assert answer["results"]["data"] == "[REDACTED]\n'[REDACTED]'"


def test_notebook_dbutils_fs_mounts(emu: Emu):
    """dbutils.fs.mounts() in a notebook task lists the same mounts, as MountInfo tuples."""
    cell = (
        "m = dbutils.fs.mounts()[0]\ndbutils.notebook.exit(f'{type(m).__name__} {m.mountPoint} {m.source}')"
    )
    _, output = run_notebook(emu, cell)
    assert output["notebook_output"]["result"] == "MountInfo /databricks-datasets databricks-datasets"


def test_reset_leaves_no_child(emu: Emu, ctx: tuple[str, str]):
    """The control API's reset kills the context's child process."""
    cluster_id, context_id = ctx
    pid = int(run(emu, cluster_id, context_id, "import os\nos.getpid()")["results"]["data"])
    assert emu.control("POST", "reset").status_code == 200
    with pytest.raises(ProcessLookupError):
        _signal_zero(pid)


def test_a_stop_revokes_the_tokens_of_its_contexts(tmp_path: Path):
    """With --data-dir, a context's token stops working once the emulator that ran it has stopped."""
    with serving(data_dir=tmp_path) as first:
        cluster_id = running(first)
        context_id = new_context(first, cluster_id)
        # Printed, the token is redacted; the child hands it over through a file instead.
        handoff = tmp_path / "token.txt"
        run(first, cluster_id, context_id, f"open({str(handoff)!r}, 'w').write(dbutils.fs._client._token)")
        token = handoff.read_text()
        assert first.get(ME, token=token).status_code == 200
    with serving(data_dir=tmp_path) as second:
        assert second.get(ME, token=token).status_code == 403


def test_tokens_of_contexts_a_killed_process_left_are_revoked_on_start(tmp_path: Path):
    """Context tokens left in the store (kill -9) are revoked when contexts start again; job runs' stay."""
    settings = make_settings(FakeClock(), data_dir=tmp_path)
    store = Store(tmp_path)
    identity = Identity(settings, store, settings.clock)
    left = identity.issue_context_token(ADMIN, run_id=-7)
    job_run = identity.issue_context_token(ADMIN, run_id=7)
    ExecutionContexts(ClustersState(store, settings.clock), identity, store)
    assert identity.authenticate(left) is None
    assert identity.authenticate(job_run) is not None
    store.close()


def _signal_zero(pid: int) -> None:
    import os

    os.kill(pid, 0)
