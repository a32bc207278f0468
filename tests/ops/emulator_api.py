"""Set-up and checks through the emulator's REST API directly, independent of brickbook's client."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from tests.conftest import ADMIN_TOKEN, Emulator

HEADER = "# Databricks notebook source\n"
CELL = "\n# COMMAND ----------\n"
CLUSTER = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}


def api(emulator: Emulator, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call the emulator as the admin; GET bodies travel as the query string."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    if method == "GET":
        response = httpx.get(f"{emulator.url}{path}", params=body, headers=headers)
    else:
        response = httpx.request(method, f"{emulator.url}{path}", json=body, headers=headers)
    response.raise_for_status()
    return response.json() if response.content else None


def put_notebook(emulator: Emulator, path: str, *cells: str) -> None:
    """Import a Python notebook made of ``cells`` at ``path`` (replacing what is there)."""
    content = base64.b64encode((HEADER + CELL.join(cells)).encode()).decode()
    body = {"path": path, "content": content, "language": "PYTHON", "format": "SOURCE", "overwrite": True}
    api(emulator, "POST", "/api/2.0/workspace/import", body)


def notebook_task(key: str, path: str, **extra: Any) -> dict[str, Any]:
    return {"task_key": key, "notebook_task": {"notebook_path": path}, "new_cluster": CLUSTER, **extra}


def create_job(emulator: Emulator, settings: dict[str, Any]) -> int:
    return int(api(emulator, "POST", "/api/2.2/jobs/create", settings)["job_id"])


def get_run(emulator: Emulator, run_id: int, **query: Any) -> dict[str, Any]:
    result: dict[str, Any] = api(emulator, "GET", "/api/2.2/jobs/runs/get", {"run_id": run_id, **query})
    return result


def runs_of(emulator: Emulator, job_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (
        api(emulator, "GET", "/api/2.2/jobs/runs/list", {"job_id": job_id}).get("runs") or []
    )
    return found


def posts(emulator: Emulator, path: str) -> list[dict[str, object]]:
    return [r for r in emulator.requests(path) if r["method"] == "POST"]
