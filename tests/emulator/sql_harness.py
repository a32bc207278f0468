"""Helpers for the SQL tests: a serverless warehouse to run statements on, and statements over HTTP."""

from __future__ import annotations

import time
from typing import Any

from tests.emulator.harness import ADMIN_TOKEN, ALICE, Emu

STATEMENTS = "/api/2.0/sql/statements"
WAREHOUSE_NAME = "sql-tests"


def warehouse(emu: Emu, name: str = WAREHOUSE_NAME) -> str:
    """The id of the serverless warehouse ``name`` (made on first use; Alice may use it)."""
    listed = emu.get("/api/2.0/sql/warehouses").json().get("warehouses", [])
    found = [w["id"] for w in listed if w["name"] == name]
    if found:
        return str(found[0])
    spec = {"name": name, "cluster_size": "2X-Small", "enable_serverless_compute": True, "auto_stop_mins": 10}
    response = emu.post("/api/2.0/sql/warehouses", json=spec)
    assert response.status_code == 200, response.text
    warehouse_id = str(response.json()["id"])
    acl = {"access_control_list": [{"user_name": ALICE, "permission_level": "CAN_USE"}]}
    granted = emu.request("PATCH", f"/api/2.0/permissions/warehouses/{warehouse_id}", json=acl)
    assert granted.status_code == 200, granted.text
    return warehouse_id


def run(
    emu: Emu, statement: str, token: str = ADMIN_TOKEN, *, on: str = WAREHOUSE_NAME, **fields: Any
) -> dict[str, Any]:
    """POST a statement on warehouse ``on`` (by name) and return the 200 answer."""
    body = {"warehouse_id": warehouse(emu, on), "statement": statement, **fields}
    response = emu.post(STATEMENTS, json=body, token=token)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def settled(emu: Emu, statement_id: str, seconds: float = 10) -> dict[str, Any]:
    """Poll GET statements/{id} until the state is no longer PENDING or RUNNING (the worker finished)."""
    deadline = time.monotonic() + seconds
    while True:
        answer: dict[str, Any] = emu.get(f"{STATEMENTS}/{statement_id}").json()
        if answer["status"]["state"] not in ("PENDING", "RUNNING"):
            return answer
        assert time.monotonic() < deadline, f"statement {statement_id} stuck: {answer['status']}"
        time.sleep(0.01)  # waiting for the engine's worker thread, not for emulated time


class AnyWarehouse:
    """A warehouse gate that lets every statement run (for tests of the SQL service on its own)."""

    def require_running(self, warehouse_id: str, *, principal: str) -> None:
        return None

    def note_activity(self, warehouse_id: str) -> None:
        return None
