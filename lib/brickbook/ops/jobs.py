"""Jobs: check a job or run spec before any request, and trigger runs exactly once.

The service would refuse most bad specs too, but only after a round trip and often with a message about
the whole request; here each problem is one line such as ``spec: tasks[1].depends_on[0].task_key
'load' is not a task of this job``.

``trigger_run`` and ``submit_run`` always send an idempotency token (the caller's, or a new one), so the
retry layer may resend them and a lost response never starts a second run.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from brickbook.api import jobs
from brickbook.client import Client
from brickbook.errors import UsageError
from brickbook.specs import LIST, OBJECT, STRING, integer, optional, require, require_one_of

__all__ = ["TASK_KINDS", "submit_run", "trigger_run", "validate_job_spec"]

TASK_KINDS = (
    "notebook_task",
    "spark_python_task",
    "python_wheel_task",
    "spark_jar_task",
    "spark_submit_task",
    "sql_task",
    "run_job_task",
    "condition_task",
    "for_each_task",
    "pipeline_task",
    "dbt_task",
)
_REQUIRED_INSIDE = {"notebook_task": "notebook_path", "spark_python_task": "python_file"}


def _validate_task(spec: Mapping[str, Any], index: int, cluster_keys: set[str]) -> str:
    at = f"tasks[{index}]"
    key = str(require(spec, f"{at}.task_key", STRING))
    kind = require_one_of(spec, *(f"{at}.{k}" for k in TASK_KINDS))[0].rsplit(".", 1)[1]
    require(spec, f"{at}.{kind}", OBJECT)
    if kind in _REQUIRED_INSIDE:
        require(spec, f"{at}.{kind}.{_REQUIRED_INSIDE[kind]}", STRING)
    optional(spec, f"{at}.existing_cluster_id", STRING)
    optional(spec, f"{at}.new_cluster", OBJECT)
    cluster_key = optional(spec, f"{at}.job_cluster_key", STRING)
    if cluster_key is not None and cluster_key not in cluster_keys:
        raise UsageError(f"spec: {at}.job_cluster_key {cluster_key!r} is not in job_clusters")
    optional(spec, f"{at}.max_retries", integer(minimum=-1))
    optional(spec, f"{at}.timeout_seconds", integer(minimum=0))
    optional(spec, f"{at}.depends_on", LIST)
    return key


def validate_job_spec(spec: Mapping[str, Any]) -> None:
    """Raise UsageError naming the first field of a job (or one-time run) spec that cannot be right."""
    optional(spec, "name", STRING)
    optional(spec, "run_name", STRING)
    optional(spec, "max_concurrent_runs", integer(minimum=0, maximum=1000))
    optional(spec, "timeout_seconds", integer(minimum=0))
    clusters = optional(spec, "job_clusters", LIST) or []
    cluster_keys = set()
    for index in range(len(clusters)):
        cluster_keys.add(str(require(spec, f"job_clusters[{index}].job_cluster_key", STRING)))
        require(spec, f"job_clusters[{index}].new_cluster", OBJECT)
    tasks = optional(spec, "tasks", LIST) or []
    keys: list[str] = []
    for index in range(len(tasks)):
        require(spec, f"tasks[{index}]", OBJECT)
        key = _validate_task(spec, index, cluster_keys)
        if key in keys:
            raise UsageError(f"spec: tasks[{index}].task_key {key!r} is used twice")
        keys.append(key)
    for index, task in enumerate(tasks):
        for position in range(len(task.get("depends_on") or [])):
            at = f"tasks[{index}].depends_on[{position}].task_key"
            upstream = require(spec, at, STRING)
            if upstream not in keys:
                raise UsageError(f"spec: {at} {upstream!r} is not a task of this job")


def trigger_run(
    client: Client, job_id: int, *, params: Mapping[str, str], idempotency_token: str | None = None
) -> int:
    """Trigger a job once (``run-now``); return the run id.

    ``params`` go as ``job_parameters`` when the job declares parameters, otherwise as the legacy
    ``notebook_params`` (which fill the notebook's widgets), so ``key=value`` works for both kinds.
    """
    job = jobs.get(client, job_id)
    declared = bool(job.settings.get("parameters"))
    return jobs.run_now(
        client,
        job.job_id,
        idempotency_token=idempotency_token or uuid.uuid4().hex,
        job_parameters=params if declared else None,
        notebook_params=None if declared else params,
    )


def submit_run(client: Client, spec: Mapping[str, Any], *, idempotency_token: str | None = None) -> int:
    """Submit a one-time run (``runs/submit``) exactly once; return the run id."""
    return jobs.submit(client, spec, idempotency_token=idempotency_token or uuid.uuid4().hex)
