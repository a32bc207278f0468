"""``python_wheel_task`` and task ``libraries`` in the emulator's Jobs engine, with a wheel built in the test.

The task's wheel is installed into the environment of the run's cluster before the task starts; its
entry point runs with the parameters as argv, and its output is the task's ``logs``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.harness import Emu
from tests.emulator.jobs_harness import create_job, output, put_dbfs, run_now, wait_run
from tests.emulator.test_clusters import SPEC
from tests.wheels import offline_pip, wheel


def wheel_task(uri: str, entry_point: str = "greet", **body: Any) -> dict[str, Any]:
    return {
        "task_key": "whl",
        "new_cluster": {**SPEC, "num_workers": 0},
        "python_wheel_task": {"package_name": "greet_emu", "entry_point": entry_point, **body},
        "libraries": [{"whl": uri}],
    }


def put_wheel(emu: Emu, **kwargs: Any) -> str:
    name, data = wheel(**kwargs)
    put_dbfs(emu, f"/FileStore/jobs/{name}", data)
    return f"dbfs:/FileStore/jobs/{name}"


def run_to_end(emu: Emu, task: dict[str, Any], **run_now_body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run a one-task job, moving the fake clock so its job cluster comes up; (task run, its output)."""
    job_id = create_job(emu, task)
    run_id = run_now(emu, job_id, **run_now_body)

    def done(run: dict[str, Any]) -> bool:
        emu.clock.advance(1)  # the job cluster's start, one step per poll
        return run["state"]["life_cycle_state"] in ("TERMINATED", "INTERNAL_ERROR", "SKIPPED")

    run = wait_run(emu, run_id, done)
    task_run = run["tasks"][0]
    return task_run, output(emu, task_run["run_id"])


def test_the_entry_point_runs_with_the_parameters_and_its_output_is_the_log(emu: Emu):
    """The console script ``greet`` runs with ``parameters`` as argv; what it prints is in ``logs``."""
    task_run, out = run_to_end(emu, wheel_task(put_wheel(emu), parameters=["a", "b"]))
    assert task_run["state"]["result_state"] == "SUCCESS", task_run["state"]
    assert "hello from the wheel ['a', 'b']" in out["logs"]
    assert out["logs_truncated"] is False


def test_named_parameters_arrive_as_key_value_flags(emu: Emu):
    """``named_parameters`` reach the entry point as ``--key=value``."""
    task = wheel_task(put_wheel(emu), named_parameters={"env": "dev", "day": "1"})
    _, out = run_to_end(emu, task)
    assert "hello from the wheel ['--env=dev', '--day=1']" in out["logs"]


def test_run_now_python_params_override_the_tasks(emu: Emu):
    """run-now's ``python_params`` replace the task's ``parameters``."""
    _, out = run_to_end(emu, wheel_task(put_wheel(emu), parameters=["x"]), python_params=["y"])
    assert "hello from the wheel ['y']" in out["logs"]


def test_an_entry_point_not_in_the_metadata_is_the_packages_function(emu: Emu):
    """With no entry point of that name, ``<package>.<entry_point>()`` is called, as the runtime does."""
    task_run, out = run_to_end(emu, wheel_task(put_wheel(emu), entry_point="shout", parameters=["hi"]))
    assert task_run["state"]["result_state"] == "SUCCESS", task_run["state"]
    assert "SHOUT HI" in out["logs"]


def test_an_entry_point_that_raises_fails_the_task_with_the_error(emu: Emu):
    """An exception in the entry point fails the task; the error is in runs/get-output."""
    task_run, out = run_to_end(emu, wheel_task(put_wheel(emu), entry_point="boom"))
    assert task_run["state"]["result_state"] == "FAILED"
    assert out["error"] == "RuntimeError: the wheel failed on purpose"
    assert "the wheel failed on purpose" in out["logs"]


def test_a_failed_task_library_fails_the_task_with_the_installers_message(
    emu: Emu, monkeypatch: pytest.MonkeyPatch
):
    """A task library that cannot be installed fails the task before it starts, naming the library."""
    offline_pip(monkeypatch)
    task = wheel_task(put_wheel(emu))
    task["libraries"].append({"pypi": {"package": "no-such-package-emu"}})
    task_run, _ = run_to_end(emu, task)
    assert task_run["state"]["result_state"] == "FAILED"
    message = task_run["state"]["state_message"]
    assert message.startswith('Library installation failed for library due to user error for pypi: "no-such')
    assert "ERROR:" in message
    assert task_run["status"]["termination_details"]["code"] == "LIBRARY_INSTALLATION_ERROR"


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"package_name": "greet_emu"}, "needs package_name and entry_point"),
        (
            {"package_name": "p", "entry_point": "e", "parameters": [1]},
            "parameters must be a list of strings",
        ),
        (
            {"package_name": "p", "entry_point": "e", "named_parameters": {"a": 1}},
            "must map names to strings",
        ),
    ],
)
def test_a_malformed_wheel_task_is_refused_at_create(emu: Emu, body: dict[str, Any], text: str):
    """A python_wheel_task without its package or entry point, or with non-string parameters, is a 400."""
    task = {"task_key": "whl", "new_cluster": SPEC, "python_wheel_task": body}
    response = emu.post("/api/2.2/jobs/create", json={"name": "bad", "tasks": [task]})
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert text in response.json()["message"]
