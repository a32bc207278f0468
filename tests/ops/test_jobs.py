"""ops.jobs against the emulator: find a job by name, plan it against its settings, apply the plan.

The property that matters most: applying the same settings twice plans ``unchanged`` the second time,
whatever the service filled in by default, however it orders or pages the tasks.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from brickbook.api.jobs import Job
from brickbook.change import Action, Change
from brickbook.context import Context
from brickbook.errors import AmbiguousName, ApiError, UsageError
from brickbook.ops import jobs
from brickbook.specs import load_spec
from tests.conftest import Emulator
from tests.ops.emulator_api import api, create_job, notebook_task, posts

JOBS = "/api/2.2/jobs"


def settings(name: str = "nightly", **extra: Any) -> dict[str, Any]:
    return {"name": name, "tasks": [notebook_task("main", "/Shared/main")], **extra}


def writes(emulator: Emulator) -> list[dict[str, object]]:
    return posts(emulator, f"{JOBS}/")


def apply(ctx: Context, wanted: dict[str, Any]) -> tuple[Change, int]:
    change = jobs.plan_job(ctx, wanted)
    return change, jobs.apply_job(ctx, change)


def stored(emulator: Emulator, job_id: int) -> dict[str, Any]:
    found: dict[str, Any] = api(emulator, "GET", f"{JOBS}/get", {"job_id": job_id})["settings"]
    return found


# -- find ------------------------------------------------------------------------------------------


def test_find_job_returns_none_or_the_job_with_its_settings(ctx: Context, emulator: Emulator):
    """No job of that name is None; one is returned with every setting (jobs/get)."""
    assert jobs.find_job(ctx, "nightly") is None
    job_id = create_job(emulator, settings())
    found = jobs.find_job(ctx, "nightly")
    assert found is not None and found.job_id == job_id
    assert found.settings["tasks"][0]["task_key"] == "main"
    assert found.run_as_user_name == "admin@example.com"


def test_find_job_matches_the_exact_name(ctx: Context, emulator: Emulator):
    """The service's name filter ignores case; find_job keeps only the exact, case-sensitive name."""
    create_job(emulator, settings("Nightly"))
    assert jobs.find_job(ctx, "nightly") is None


def test_two_jobs_of_one_name_are_ambiguous(ctx: Context, emulator: Emulator):
    """Two jobs named alike are AmbiguousName (exit 5) naming both ids; nothing is guessed."""
    first, second = create_job(emulator, settings()), create_job(emulator, settings())
    with pytest.raises(AmbiguousName) as info:
        jobs.find_job(ctx, "nightly")
    assert info.value.exit_code == 5 and info.value.ids == (first, second)
    assert f"2 jobs are named 'nightly' (ids {first}, {second})" in info.value.message


def test_find_job_reads_every_page_of_the_list(ctx: Context, emulator: Emulator):
    """jobs/list pages at 100: the 101st job of the same name is still seen."""
    ids = [create_job(emulator, {"name": "many"}) for _ in range(101)]
    with pytest.raises(AmbiguousName) as info:
        jobs.find_job(ctx, "many")
    assert info.value.ids == tuple(ids)
    assert info.value.message.count(",") == 10  # the line names ten ids, then "..."
    assert len([r for r in emulator.requests(f"{JOBS}/list") if r["method"] == "GET"]) == 2


# -- plan and apply --------------------------------------------------------------------------------


def test_create_then_unchanged(ctx: Context, emulator: Emulator):
    """A new name plans a create; applied, the same settings then plan unchanged with no write."""
    change, job_id = apply(ctx, settings())
    assert (change.action, change.target, change.reason) == (
        Action.CREATE,
        "job 'nightly'",
        "no job has this name",
    )
    assert stored(emulator, job_id)["max_concurrent_runs"] == 1  # filled in by the service
    before = len(writes(emulator))
    again = jobs.plan_job(ctx, settings())
    assert again == Change(Action.UNCHANGED, "job 'nightly'", reason=f"job {job_id} matches")
    assert jobs.apply_job(ctx, again) == job_id
    assert len(writes(emulator)) == before


def test_planning_reads_only(ctx: Context, emulator: Emulator):
    """Planning a create, an update or nothing sends no write request."""
    jobs.plan_job(ctx, settings())
    create_job(emulator, settings())
    jobs.plan_job(ctx, settings())
    jobs.plan_job(ctx, settings(timeout_seconds=60))
    assert [r["path"] for r in writes(emulator)] == [f"{JOBS}/create"]  # the set-up's, only


def test_an_update_names_the_fields_that_differ_and_reset_applies_them(ctx: Context, emulator: Emulator):
    """Changed timeout and tasks plan an update of those two fields; applied, the job matches."""
    _, job_id = apply(ctx, settings())
    wanted = settings(timeout_seconds=3600)
    wanted["tasks"].append(notebook_task("report", "/Shared/report", depends_on=[{"task_key": "main"}]))
    change, applied = apply(ctx, wanted)
    assert (change.action, change.fields, applied) == (Action.UPDATE, ("tasks", "timeout_seconds"), job_id)
    assert change.reason == f"job {job_id} differs"
    assert stored(emulator, job_id)["timeout_seconds"] == 3600
    assert jobs.plan_job(ctx, wanted).action is Action.UNCHANGED


def test_a_field_dropped_from_the_settings_is_an_update(ctx: Context, emulator: Emulator):
    """A description the job has but the settings no longer give is a difference; reset drops it."""
    _, job_id = apply(ctx, settings(description="old words", tags={"team": "etl"}))
    change, _ = apply(ctx, settings())
    assert change.fields == ("description", "tags")
    assert "description" not in stored(emulator, job_id)


def test_explicit_defaults_and_yaml_settings_are_unchanged_after_apply(
    ctx: Context, emulator: Emulator, tmp_path: Any
):
    """Settings from YAML that spell out the service's defaults plan unchanged after one apply."""
    path = tmp_path / "job.yaml"
    path.write_text(
        "name: spelled-out\n"
        "max_concurrent_runs: 1\ntimeout_seconds: 0\nemail_notifications: {}\nformat: MULTI_TASK\n"
        "queue: {enabled: true}\ntags: {}\nparameters: []\n"
        "tasks:\n"
        "  - task_key: main\n    run_if: ALL_SUCCESS\n    timeout_seconds: 0\n    max_retries: 0\n"
        "    depends_on: []\n"
        "    notebook_task:\n"
        "      {notebook_path: /Shared/main, source: WORKSPACE, base_parameters: {day: 2026-11-26}}\n"
        "    new_cluster: {spark_version: 15.4.x-scala2.12, node_type_id: i3.xlarge, num_workers: 1}\n"
    )
    wanted = load_spec(None, str(path))
    apply(ctx, wanted)
    assert jobs.plan_job(ctx, wanted).action is Action.UNCHANGED


def test_task_order_does_not_matter(ctx: Context, emulator: Emulator):
    """Tasks (and depends_on) are compared by key: the same tasks in another order are unchanged."""
    wanted = {
        "name": "ordered",
        "tasks": [
            notebook_task("a", "/Shared/a"),
            notebook_task("b", "/Shared/b"),
            notebook_task("c", "/Shared/c", depends_on=[{"task_key": "a"}, {"task_key": "b"}]),
        ],
    }
    apply(ctx, wanted)
    shuffled = copy.deepcopy(wanted)
    shuffled["tasks"].reverse()
    shuffled["tasks"][0]["depends_on"].reverse()
    assert jobs.plan_job(ctx, shuffled).action is Action.UNCHANGED


def test_a_job_with_more_tasks_than_a_page_is_unchanged_after_apply(ctx: Context, emulator: Emulator):
    """jobs/get pages tasks at 100; every page is compared, so 150 tasks plan unchanged after apply."""
    wanted = {"name": "wide", "tasks": [notebook_task(f"t{i:03}", "/Shared/none") for i in range(150)]}
    apply(ctx, wanted)
    assert jobs.plan_job(ctx, wanted).action is Action.UNCHANGED
    wanted["tasks"][149]["timeout_seconds"] = 60
    assert jobs.plan_job(ctx, wanted).fields == ("tasks",)


def test_run_as_the_caller_is_unchanged_after_apply(ctx: Context, emulator: Emulator):
    """run_as naming the job's run-as user matches (the service keeps it apart from the settings)."""
    wanted = settings(run_as={"user_name": "admin@example.com"})
    apply(ctx, wanted)
    assert jobs.plan_job(ctx, wanted).action is Action.UNCHANGED
    other = settings(run_as={"user_name": "alice@example.com"})
    assert jobs.plan_job(ctx, other).fields == ("run_as",)


def test_a_plan_without_a_name_is_a_usage_error(ctx: Context):
    """The job is found by its name: settings without one are refused before any request."""
    with pytest.raises(UsageError, match="spec: name is required"):
        jobs.plan_job(ctx, {"tasks": []})


def test_apply_refuses_a_change_that_is_not_a_job_plan(ctx: Context):
    """A Change without a JobPlan payload is a programming error."""
    with pytest.raises(TypeError, match="not a job plan"):
        jobs.apply_job(ctx, Change(Action.CREATE, "cluster x", payload="x"))


def test_a_lost_create_answer_finds_the_job_it_made(ctx: Context, emulator: Emulator):
    """jobs/create applied but its answer lost: apply returns that job instead of creating a second."""
    emulator.fault(pattern=f"POST {JOBS}/create", status=500, after_handler=True)
    _, job_id = apply(ctx, settings())
    listed = api(emulator, "GET", f"{JOBS}/list").get("jobs") or []
    assert [j["job_id"] for j in listed] == [job_id]


def test_a_create_refused_with_503_before_it_ran_is_sent_again(ctx: Context, emulator: Emulator):
    """jobs/create answered 503 without running, then a lost answer: one job, made by the third send."""
    emulator.fault(pattern=f"POST {JOBS}/create", status=503)
    emulator.fault(pattern=f"POST {JOBS}/create", reset_connection=True)
    change, job_id = apply(ctx, settings())
    assert change.action is Action.CREATE
    listed = api(emulator, "GET", f"{JOBS}/list").get("jobs") or []
    assert [j["job_id"] for j in listed] == [job_id]
    assert len(emulator.requests(f"{JOBS}/create")) == 3


def test_a_create_that_keeps_failing_gives_up_after_the_retry_attempts(ctx: Context, emulator: Emulator):
    """A create answered 503 every time fails after the policy's attempts, and no job exists."""
    emulator.fault(pattern=f"POST {JOBS}/create", status=503, times=0)
    with pytest.raises(ApiError) as failed:
        apply(ctx, settings())
    assert failed.value.error_code == "TEMPORARILY_UNAVAILABLE" and "injected fault" in str(failed.value)
    assert len(emulator.requests(f"{JOBS}/create")) == ctx.client.config.retry.max_attempts
    assert not api(emulator, "GET", f"{JOBS}/list").get("jobs")


# -- prune -----------------------------------------------------------------------------------------


def test_prune_plans_deleting_only_tagged_unlisted_jobs(ctx: Context, emulator: Emulator):
    """Only jobs tagged with the deployment and no longer listed are deleted; others are untouched."""
    tag = {"brickbook-deployment": "etl"}
    kept = create_job(emulator, settings("kept", tags=tag))
    gone = create_job(emulator, settings("gone", tags=tag))
    other = create_job(emulator, settings("other", tags={"brickbook-deployment": "web"}))
    untagged = create_job(emulator, settings("untagged"))
    changes = jobs.plan_job_prune(ctx, tag="brickbook-deployment", value="etl", keep={"kept"})
    assert [(c.action, c.target) for c in changes] == [(Action.DELETE, f"job 'gone' ({gone})")]
    assert [jobs.apply_job(ctx, c) for c in changes] == [gone]
    assert jobs.apply_job(ctx, changes[0]) == gone  # deleting again is fine
    left = {j["job_id"] for j in api(emulator, "GET", f"{JOBS}/list").get("jobs") or []}
    assert left == {kept, other, untagged}


# -- the comparison against what the real service returns ------------------------------------------


def test_what_the_real_service_fills_in_is_not_a_difference():
    """Defaults and choices the Jobs API adds to a job's settings (per its API reference) are ignored."""
    wanted = settings()
    returned = {
        "name": "nightly",
        "format": "MULTI_TASK",
        "edit_mode": "UI_LOCKED",
        "max_concurrent_runs": 1,
        "timeout_seconds": 0,
        "email_notifications": {},
        "webhook_notifications": {},
        "queue": {"enabled": True},
        "run_as": {"user_name": "admin@example.com"},
        "tasks": [
            {
                "task_key": "main",
                "run_if": "ALL_SUCCESS",
                "timeout_seconds": 0,
                "email_notifications": {},
                "notebook_task": {"notebook_path": "/Shared/main", "source": "WORKSPACE"},
                "new_cluster": {
                    **wanted["tasks"][0]["new_cluster"],
                    "aws_attributes": {"availability": "SPOT_WITH_FALLBACK", "zone_id": "auto"},
                    "enable_elastic_disk": True,
                    "data_security_mode": "SINGLE_USER",
                    "runtime_engine": "STANDARD",
                },
            }
        ],
    }
    job = Job(job_id=1, settings=returned, run_as_user_name="admin@example.com")
    assert jobs.differing_fields(job, wanted) == []
    assert jobs.differing_fields(job, {**wanted, "max_concurrent_runs": 2}) == ["max_concurrent_runs"]
    assert jobs.differing_fields(job, {**wanted, "queue": {"enabled": False}}) == ["queue"]


def test_true_is_not_one():
    """A boolean never matches a number, although Python says True == 1."""
    job = Job(job_id=1, settings={"name": "x", "max_concurrent_runs": True})
    assert jobs.differing_fields(job, {"name": "x", "max_concurrent_runs": 1}) == ["max_concurrent_runs"]
