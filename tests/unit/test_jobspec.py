"""Job specs are checked before any request, each error naming the field; task kinds are an open set."""

from __future__ import annotations

from typing import Any

import pytest

from brickbook.errors import UsageError
from brickbook.specs import validate_job_spec

NB = {"notebook_path": "/Shared/nb"}


def task(key: str, **extra: Any) -> dict[str, Any]:
    return {"task_key": key, "notebook_task": NB, **extra}


def test_a_valid_multi_task_spec_passes():
    """A spec with job clusters, dependencies and retries is accepted."""
    validate_job_spec(
        {
            "name": "nightly",
            "job_clusters": [{"job_cluster_key": "c", "new_cluster": {"spark_version": "15.4.x-scala2.12"}}],
            "tasks": [
                task("a", job_cluster_key="c"),
                task("b", depends_on=[{"task_key": "a"}], max_retries=2),
            ],
        }
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"tasks": [{"notebook_task": NB}]}, "spec: tasks[0].task_key is required"),
        ({"tasks": [{"task_key": "a"}]}, "spec: tasks[0] needs a task kind: one *_task field such as"),
        (
            {"tasks": [task("a", spark_python_task={"python_file": "/x.py"})]},
            "spec: give only one task kind in tasks[0], not notebook_task and spark_python_task",
        ),
        (
            {"tasks": [{"task_key": "a", "spark_python_task": {"parameters": []}}]},
            "spec: tasks[0].spark_python_task.python_file is required",
        ),
        (
            {"tasks": [{"task_key": "a", "notebook_task": "nb"}]},
            "spec: tasks[0].notebook_task must be an object",
        ),
        (
            {"tasks": [task("a", existing_cluster_id="c-1", job_cluster_key="x")]},
            "spec: give at most one compute source in tasks[0], not tasks[0].existing_cluster_id and",
        ),
        ({"tasks": [task("a", depends_on=["b"])]}, "spec: tasks[0].depends_on[0] must be an object"),
        (
            {"tasks": [task("a", depends_on=[{"task_key": "b"}]), task("b", depends_on=[{"task_key": "a"}])]},
            "spec: the tasks depend on each other in a cycle: a -> b -> a",
        ),
        ({"tasks": [task("a", depends_on=[{"task_key": "a"}])]}, "in a cycle: a -> a"),
        (
            {"job_clusters": [{"job_cluster_key": "c", "new_cluster": {}}] * 2},
            "spec: job_clusters[1].job_cluster_key 'c' is used twice",
        ),
        ({"tasks": ["a"]}, "spec: tasks[0] must be an object"),
        (
            {"tasks": [{"task_key": "a", "notebook_task": {}}]},
            "spec: tasks[0].notebook_task.notebook_path is required",
        ),
        ({"tasks": [task("a"), task("a")]}, "spec: tasks[1].task_key 'a' is used twice"),
        (
            {"tasks": [task("b", depends_on=[{"task_key": "a"}])]},
            "tasks[0].depends_on[0].task_key 'a' is not a task",
        ),
        ({"tasks": [task("a", job_cluster_key="x")]}, "tasks[0].job_cluster_key 'x' is not in job_clusters"),
        ({"tasks": "a"}, "spec: tasks must be a list"),
        (
            {"max_concurrent_runs": 5000, "tasks": []},
            "spec: max_concurrent_runs must be an integer from 0 to 1000",
        ),
        (
            {"tasks": [task("a", timeout_seconds="1h")]},
            "spec: tasks[0].timeout_seconds must be an integer >= 0",
        ),
    ],
)
def test_bad_specs_name_the_field(spec: dict[str, Any], message: str):
    """Each kind of mistake is a usage error naming the field."""
    with pytest.raises(UsageError) as info:
        validate_job_spec(spec)
    assert message in info.value.message


@pytest.mark.parametrize(
    "kind",
    ["dashboard_task", "power_bi_task", "dbt_cloud_task", "gen_ai_compute_task", "some_future_task"],
)
def test_task_kinds_brickbook_does_not_run_are_accepted(kind: str):
    """Task kinds are an open set, as in the API: a kind brickbook does not know passes untouched."""
    validate_job_spec({"tasks": [{"task_key": "a", kind: {"anything": ["goes", 1]}}]})


def test_a_diamond_of_dependencies_is_not_a_cycle():
    """Two paths to the same task are fine; only a loop is refused."""
    validate_job_spec(
        {
            "tasks": [
                task("a"),
                task("b", depends_on=[{"task_key": "a"}]),
                task("c", depends_on=[{"task_key": "a"}]),
                task("d", depends_on=[{"task_key": "b"}, {"task_key": "c"}]),
            ]
        }
    )


def test_a_cycle_behind_other_tasks_is_named():
    """A loop reached only through other tasks is reported by the tasks that form it."""
    spec = {
        "tasks": [
            task("start"),
            task("x", depends_on=[{"task_key": "start"}, {"task_key": "z"}]),
            task("y", depends_on=[{"task_key": "x"}]),
            task("z", depends_on=[{"task_key": "y"}]),
        ]
    }
    with pytest.raises(UsageError, match=r"in a cycle: x -> z -> y -> x$"):
        validate_job_spec(spec)
