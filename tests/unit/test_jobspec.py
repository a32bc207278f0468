"""Job specs are checked before any request, and each error names the offending field."""

from __future__ import annotations

from typing import Any

import pytest

from brickbook.errors import UsageError
from brickbook.ops.jobs import validate_job_spec

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
        ({"tasks": [{"task_key": "a"}]}, "spec: one of tasks[0].notebook_task or"),
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
