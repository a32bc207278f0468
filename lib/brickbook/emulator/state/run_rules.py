"""Request rules for runs: run-now's legacy parameter limits and which tasks a repair re-runs.

Jobs API 2.2 ``run-now``: each legacy parameter map serialises to at most 10,000 bytes of JSON;
``python_params`` must be ASCII; ``notebook_params`` cannot be combined with ``jar_params``. A repair
names its tasks (``rerun_tasks``) or asks for every unsuccessful one (``rerun_all_failed_tasks``),
optionally with everything downstream (``rerun_dependent_tasks``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from brickbook.emulator.errors import invalid
from brickbook.emulator.state.dag import SUCCESS_LIKE, render_status

__all__ = ["MAX_LEGACY_PARAMS_BYTES", "check_legacy_params", "history_entry", "rerun_keys"]

MAX_LEGACY_PARAMS_BYTES = 10_000


def check_legacy_params(body: Mapping[str, Any]) -> dict[str, Any]:
    """Validate run-now/repair's notebook, python and sql params (each ≤ 10,000 bytes of JSON)."""
    overriding: dict[str, Any] = {}
    notebook_params = body.get("notebook_params")
    if notebook_params is not None:
        if not isinstance(notebook_params, dict) or not all(
            isinstance(v, str) for v in notebook_params.values()
        ):
            raise invalid("notebook_params must map names to strings.")
        overriding["notebook_params"] = notebook_params
    sql_params = body.get("sql_params")
    if sql_params is not None:
        if not isinstance(sql_params, dict) or not all(isinstance(v, str) for v in sql_params.values()):
            raise invalid("sql_params must map names to strings.")
        overriding["sql_params"] = sql_params
    python_params = body.get("python_params")
    if python_params is not None:
        if not isinstance(python_params, list) or not all(isinstance(v, str) for v in python_params):
            raise invalid("python_params must be a list of strings.")
        if not all(v.isascii() for v in python_params):
            raise invalid("python_params must be ASCII.")
        overriding["python_params"] = python_params
    for name, value in overriding.items():
        if len(json.dumps(value).encode()) > MAX_LEGACY_PARAMS_BYTES:
            raise invalid(f"{name} is larger than {MAX_LEGACY_PARAMS_BYTES} bytes when serialised as JSON.")
    if body.get("jar_params") is not None and "notebook_params" in overriding:
        raise invalid("notebook_params cannot be combined with jar_params.")
    job_parameters = body.get("job_parameters")
    if job_parameters is not None and (
        not isinstance(job_parameters, dict) or not all(isinstance(v, str) for v in job_parameters.values())
    ):
        raise invalid("job_parameters must map names to strings.")
    return overriding


def rerun_keys(record: Mapping[str, Any], body: Mapping[str, Any]) -> set[str]:
    current = {t["task_key"]: t for t in record["tasks"] if not t.get("_superseded")}
    rerun, all_failed = body.get("rerun_tasks"), body.get("rerun_all_failed_tasks")
    if bool(rerun) == bool(all_failed):
        raise invalid("Set exactly one of rerun_tasks and rerun_all_failed_tasks.")
    if rerun:
        if not isinstance(rerun, list) or not all(isinstance(k, str) for k in rerun):
            raise invalid("rerun_tasks must be a list of task keys.")
        unknown = sorted(set(rerun) - set(current))
        if unknown:
            raise invalid(f"Task(s) {', '.join(unknown)} are not part of run {record['run_id']}.")
        keys = set(rerun)
    else:
        keys = {k for k, t in current.items() if t["state"].get("result_state") not in SUCCESS_LIKE}
    if body.get("rerun_dependent_tasks"):
        grew = True
        while grew:
            extra = {k for k, t in current.items() if {d["task_key"] for d in t.get("depends_on", [])} & keys}
            grew = not extra <= keys
            keys |= extra
    if not keys:
        raise invalid(f"Run {record['run_id']} has no tasks to repair.")
    return keys


def history_entry(record: Mapping[str, Any], kind: str, entry_id: int) -> dict[str, Any]:
    return {
        "type": kind,
        "id": entry_id,
        "start_time": record["start_time"],
        "end_time": record["end_time"],
        "state": dict(record["state"]),
        "status": render_status(record["state"], record.get("_termination")),
        "task_run_ids": [t["run_id"] for t in record["tasks"]],
    }
