"""Every Jobs API task kind: kept at create; condition_task and run_job_task run; the rest fail by name."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.harness import ALICE_TOKEN, Emu
from tests.emulator.jobs_harness import (
    BLOCK,
    HOME,
    JOBS,
    create_job,
    get_run,
    nb_task,
    notebook,
    output,
    result,
    run_now,
    task,
    upload,
    wait_run,
)

JAR = {"task_key": "jar", "spark_jar_task": {"main_class_name": "com.example.Main"}}


def _condition(key: str, op: str, left: str, right: str, **extra: Any) -> dict[str, Any]:
    return {"task_key": key, "condition_task": {"op": op, "left": left, "right": right}, **extra}


def test_create_keeps_a_kind_the_emulator_cannot_run(emu: Emu):
    """A spark_jar_task job is accepted at create and get returns the task as given."""
    job_id = create_job(emu, {**JAR, "libraries": [{"jar": "dbfs:/x.jar"}]})
    response = emu.get(f"{JOBS}/get", params={"job_id": job_id})
    assert response.json()["settings"]["tasks"][0]["spark_jar_task"] == JAR["spark_jar_task"]


def test_create_keeps_a_kind_it_does_not_know(emu: Emu):
    """A task kind newer than the emulator (any *_task object) is kept, not refused."""
    job_id = create_job(emu, {"task_key": "new", "future_thing_task": {"x": 1}})
    response = emu.get(f"{JOBS}/get", params={"job_id": job_id})
    assert response.json()["settings"]["tasks"][0]["future_thing_task"] == {"x": 1}


@pytest.mark.parametrize(
    "spec",
    [
        JAR,
        {"task_key": "dbt", "dbt_task": {"commands": ["dbt run"]}},
        {"task_key": "pipe", "pipeline_task": {"pipeline_id": "p1"}},
    ],
)
def test_a_kind_it_cannot_run_fails_by_name(emu: Emu, spec: dict[str, Any]):
    """Running a kind the emulator lacks ends FAILED (not INTERNAL_ERROR) with a message naming the kind."""
    run = wait_run(emu, run_now(emu, create_job(emu, spec)))
    kind = next(k for k in spec if k.endswith("_task"))
    assert run["state"]["life_cycle_state"] == "TERMINATED"
    assert result(run) == "FAILED"
    assert f"cannot run {kind} tasks" in run["tasks"][0]["state"]["state_message"]
    assert run["status"]["termination_details"]["code"] != "INTERNAL_ERROR"


@pytest.mark.parametrize(
    ("op", "left", "right", "outcome"),
    [
        ("EQUAL_TO", "12.0", "12", "false"),
        ("NOT_EQUAL", "a", "b", "true"),
        ("GREATER_THAN_OR_EQUAL", "12.0", "12", "true"),
        ("LESS_THAN", "10", "2", "false"),
    ],
)
def test_condition_task_records_its_outcome(emu: Emu, op: str, left: str, right: str, outcome: str):
    """A condition_task succeeds and its task run carries the outcome the real operators give."""
    run = wait_run(emu, run_now(emu, create_job(emu, _condition("c", op, left, right))))
    assert result(run) == "SUCCESS"
    assert task(run, "c")["condition_task"]["outcome"] == outcome


def test_condition_outcome_picks_the_branch(emu: Emu):
    """Tasks on the outcome reached run; tasks on the other outcome are EXCLUDED; the run succeeds."""
    path = upload(emu, f"{HOME}/branch", notebook("x = 1"))
    job_id = create_job(
        emu,
        _condition("check", "EQUAL_TO", "{{job.parameters.env}}", "prod"),
        nb_task("yes", path, depends_on=[{"task_key": "check", "outcome": "true"}]),
        nb_task("no", path, depends_on=[{"task_key": "check", "outcome": "false"}]),
        parameters=[{"name": "env", "default": "dev"}],
    )
    run = wait_run(emu, run_now(emu, job_id, job_parameters={"env": "prod"}))
    assert result(run) == "SUCCESS"
    assert task(run, "check")["condition_task"]["left"] == "prod"
    assert task(run, "yes")["state"]["result_state"] == "SUCCESS"
    assert task(run, "no")["state"]["result_state"] == "EXCLUDED"


def test_condition_reads_task_values(emu: Emu):
    """{{tasks.X.values.Y}} resolves to the value an upstream task set with taskValues."""
    path = upload(emu, f"{HOME}/setter", notebook("dbutils.jobs.taskValues.set('rows', 7)"))
    job_id = create_job(
        emu,
        nb_task("count", path),
        _condition(
            "big", "GREATER_THAN", "{{tasks.count.values.rows}}", "5", depends_on=[{"task_key": "count"}]
        ),
    )
    run = wait_run(emu, run_now(emu, job_id))
    assert task(run, "big")["condition_task"]["outcome"] == "true"


def test_condition_on_a_missing_reference_fails(emu: Emu):
    """An unresolvable reference fails the condition task with a message naming the reference."""
    run = wait_run(
        emu, run_now(emu, create_job(emu, _condition("c", "EQUAL_TO", "{{job.parameters.nope}}", "x")))
    )
    assert result(run) == "FAILED"
    assert "{{job.parameters.nope}}" in task(run, "c")["state"]["state_message"]


def test_condition_numeric_op_on_text_fails(emu: Emu):
    """A numeric operator on an operand that is not a number fails the task, naming the operand."""
    run = wait_run(emu, run_now(emu, create_job(emu, _condition("c", "GREATER_THAN", "abc", "1"))))
    assert result(run) == "FAILED"
    assert "'abc'" in task(run, "c")["state"]["state_message"]


def test_run_job_task_runs_the_other_job_with_its_parameters(emu: Emu):
    """run_job_task starts the other job with its job_parameters and succeeds as that run succeeds."""
    path = upload(emu, f"{HOME}/child", notebook("assert dbutils.widgets.get('who') == 'parent'"))
    child_job = create_job(emu, nb_task("main", path), parameters=[{"name": "who", "default": "nobody"}])
    parent_job = create_job(
        emu, {"task_key": "call", "run_job_task": {"job_id": child_job, "job_parameters": {"who": "parent"}}}
    )
    run = wait_run(emu, run_now(emu, parent_job))
    assert result(run) == "SUCCESS"
    child_run_id = output(emu, task(run, "call")["run_id"])["run_job_output"]["run_id"]
    child = get_run(emu, child_run_id)
    assert child["job_id"] == child_job
    assert result(child) == "SUCCESS"


def test_run_job_task_fails_when_the_other_job_fails(emu: Emu):
    """The run_job_task's result follows the triggered run: a failed child fails the task."""
    path = upload(emu, f"{HOME}/boom", notebook("raise ValueError('boom')"))
    child_job = create_job(emu, nb_task("main", path))
    parent_job = create_job(emu, {"task_key": "call", "run_job_task": {"job_id": child_job}})
    run = wait_run(emu, run_now(emu, parent_job))
    assert result(run) == "FAILED"
    assert "ended FAILED" in task(run, "call")["state"]["state_message"]


def test_run_job_task_on_a_deleted_job_fails(emu: Emu):
    """A run_job_task naming a job that no longer exists fails with the real 'does not exist' words."""
    parent_job = create_job(emu, {"task_key": "call", "run_job_task": {"job_id": 987654}})
    run = wait_run(emu, run_now(emu, parent_job))
    assert result(run) == "FAILED"
    assert "Job 987654 does not exist" in task(run, "call")["state"]["state_message"]


def _for_each(inputs: str, inner: dict[str, Any], concurrency: int = 1) -> dict[str, Any]:
    body = {"inputs": inputs, "concurrency": concurrency, "task": inner}
    return {"task_key": "loop", "for_each_task": body}


def test_for_each_runs_the_inner_task_per_input(emu: Emu):
    """A for_each_task runs its notebook once per input, {{input}} in its parameters, with stats."""
    path = upload(emu, f"{HOME}/each", notebook("dbutils.notebook.exit('got ' + dbutils.widgets.get('x'))"))
    inner = nb_task("each", path, params={"x": "{{input}}"})
    run = wait_run(emu, run_now(emu, create_job(emu, _for_each('["a", "b", 3]', inner, concurrency=2))))
    assert result(run) == "SUCCESS"
    loop = task(run, "loop")
    assert loop["for_each_task"]["stats"]["task_run_stats"] == {
        "total_iterations": 3,
        "scheduled_iterations": 3,
        "active_iterations": 0,
        "completed_iterations": 3,
        "succeeded_iterations": 3,
        "failed_iterations": 0,
    }
    detail = get_run(emu, loop["run_id"])
    assert [t["task_key"] for t in detail["tasks"]] == ["loop"]
    results = [output(emu, i["run_id"])["notebook_output"]["result"] for i in detail["iterations"]]
    assert results == ["got a", "got b", "got 3"]


def test_for_each_inputs_from_a_job_parameter(emu: Emu):
    """inputs may be a reference to a job parameter holding a JSON array."""
    path = upload(emu, f"{HOME}/each", notebook("x = 1"))
    job_id = create_job(
        emu,
        _for_each("{{job.parameters.items}}", nb_task("each", path)),
        parameters=[{"name": "items", "default": "[1, 2]"}],
    )
    run = wait_run(emu, run_now(emu, job_id))
    assert len(get_run(emu, task(run, "loop")["run_id"])["iterations"]) == 2


def test_for_each_fails_when_an_iteration_fails(emu: Emu):
    """One failing iteration fails the for-each task, saying how many failed."""
    path = upload(emu, f"{HOME}/each", notebook("assert dbutils.widgets.get('x') != 'bad'"))
    inner = nb_task("each", path, params={"x": "{{input}}"})
    run = wait_run(emu, run_now(emu, create_job(emu, _for_each('["ok", "bad"]', inner))))
    assert result(run) == "FAILED"
    assert task(run, "loop")["state"]["state_message"] == "1 of 2 iterations failed."


def test_for_each_on_inputs_that_are_not_an_array_fails(emu: Emu):
    """inputs that are not a JSON array fail the task with a message saying so."""
    path = upload(emu, f"{HOME}/each", notebook("x = 1"))
    run = wait_run(emu, run_now(emu, create_job(emu, _for_each('{"a": 1}', nb_task("each", path)))))
    assert result(run) == "FAILED"
    assert "not a JSON array" in task(run, "loop")["state"]["state_message"]


def test_run_job_task_that_triggers_itself_stops(emu: Emu):
    """A job whose run_job_task triggers itself fails at the nesting guard instead of running forever."""
    job_id = create_job(emu, {"task_key": "again", "run_job_task": {"job_id": 0}}, max_concurrent_runs=100)
    spec = {"task_key": "again", "run_job_task": {"job_id": job_id}}
    response = emu.post(
        f"{JOBS}/reset",
        json={"job_id": job_id, "new_settings": {"tasks": [spec], "max_concurrent_runs": 100}},
    )
    assert response.status_code == 200, response.text
    run = wait_run(emu, run_now(emu, job_id))
    assert result(run) == "FAILED"
    deepest = emu.get(f"{JOBS}/runs/list", params={"job_id": job_id, "limit": 25}).json()["runs"]
    messages = [task(get_run(emu, r["run_id"]), "again")["state"]["state_message"] for r in deepest]
    assert any("nesting is deeper than 10 levels" in m for m in messages)


def test_run_job_task_needs_manage_run_on_the_other_job(emu: Emu):
    """A user's run_job_task on an admin's job they hold no grant on fails, naming the permission."""
    path = upload(emu, f"{HOME}/private", notebook("x = 1"))
    admin_job = create_job(emu, nb_task("main", path))
    body = {"name": "mine", "tasks": [{"task_key": "call", "run_job_task": {"job_id": admin_job}}]}
    response = emu.post(f"{JOBS}/create", json=body, token=ALICE_TOKEN)
    assert response.status_code == 200, response.text
    response = emu.post(f"{JOBS}/run-now", json={"job_id": response.json()["job_id"]}, token=ALICE_TOKEN)
    run = wait_run(emu, response.json()["run_id"])
    assert result(run) == "FAILED"
    assert "does not have Manage Run permissions" in task(run, "call")["state"]["state_message"]
    assert emu.get(f"{JOBS}/runs/list", params={"job_id": admin_job}).json().get("runs") is None


def test_for_each_keeps_to_its_concurrency_and_cancels_every_iteration(emu: Emu):
    """With concurrency 1 one iteration runs while the others wait; canceling the run ends them all."""
    path = upload(emu, f"{HOME}/block", notebook(BLOCK))
    run_id = run_now(emu, create_job(emu, _for_each('["a", "b", "c"]', nb_task("each", path), concurrency=1)))

    def one_active(run: dict[str, Any]) -> bool:
        stats = (task(run, "loop").get("for_each_task") or {}).get("stats", {}).get("task_run_stats", {})
        return stats.get("active_iterations") == 1

    run = wait_run(emu, run_id, one_active)
    states = [i["state"]["life_cycle_state"] for i in get_run(emu, task(run, "loop")["run_id"])["iterations"]]
    assert states.count("BLOCKED") == 2
    assert emu.post(f"{JOBS}/runs/cancel", json={"run_id": run_id}).status_code == 200
    run = wait_run(emu, run_id)
    assert result(run) == "CANCELED"
    iterations = get_run(emu, task(run, "loop")["run_id"])["iterations"]
    assert {i["state"]["result_state"] for i in iterations} == {"CANCELED"}
