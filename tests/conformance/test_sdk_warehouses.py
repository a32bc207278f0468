"""The official databricks-sdk (0.162.0) drives the emulator's SQL Warehouses API, waiters included.

The SDK's waiters sleep for real between polls (about 1-2 s), so this module runs its own emulator on
the real clock with a 0.05 s lifecycle step; nothing here asserts timing.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from databricks.sdk.service.sql import (
    EndpointTagPair,
    EndpointTags,
    State,
    WarehouseAccessControlRequest,
    WarehousePermissionLevel,
)

from brickbook.emulator.server import start_in_thread
from tests.emulator.harness import ADMIN, ADMIN_TOKEN, ALICE, Emu, FakeClock, make_settings


@pytest.fixture(scope="module")
def real_clock_emu() -> Iterator[Emu]:
    settings = dataclasses.replace(make_settings(FakeClock(), warehouse_start_seconds=0.05), clock=time.time)
    with start_in_thread(settings) as running:
        emu = Emu(url=running.url, clock=FakeClock())  # clock unused: the emulator runs on time.time
        yield emu
        emu.close()


@pytest.fixture
def w(real_clock_emu: Emu, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> WorkspaceClient:
    """A PAT client for the admin, with no Databricks setting leaking in from the machine."""
    for name in list(os.environ):
        if name.startswith(("DATABRICKS_", "ARM_", "GOOGLE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "no-such-databrickscfg"))
    assert real_clock_emu.control("POST", "reset").status_code == 200
    return WorkspaceClient(host=real_clock_emu.url, token=ADMIN_TOKEN)


def test_create_and_wait_returns_a_running_warehouse(w: WorkspaceClient):
    """create_and_wait polls until RUNNING and returns the warehouse with what was asked for."""
    tags = EndpointTags(custom_tags=[EndpointTagPair(key="team", value="data")])
    details = w.warehouses.create_and_wait(
        name="sdk", cluster_size="2X-Small", max_num_clusters=2, auto_stop_mins=15, tags=tags
    )
    assert details.state == State.RUNNING
    assert (details.name, details.cluster_size, details.max_num_clusters, details.auto_stop_mins) == (
        "sdk",
        "2X-Small",
        2,
        15,
    )
    assert details.creator_name == ADMIN
    assert details.tags == tags
    assert details.odbc_params is not None and details.odbc_params.path == f"/sql/1.0/warehouses/{details.id}"


def test_stop_and_wait_then_start_and_wait(w: WorkspaceClient):
    """stop_and_wait ends STOPPED; start_and_wait ends RUNNING again."""
    warehouse_id = str(w.warehouses.create_and_wait(name="cycle", cluster_size="X-Small").id)
    assert w.warehouses.stop_and_wait(warehouse_id).state == State.STOPPED
    assert w.warehouses.start_and_wait(warehouse_id).state == State.RUNNING


def test_get_list_edit_and_delete(w: WorkspaceClient):
    """get and list see the warehouse, edit changes it, delete makes get raise ResourceDoesNotExist."""
    warehouse_id = str(w.warehouses.create(name="crud", cluster_size="Small").response.id)
    assert w.warehouses.get(warehouse_id).name == "crud"
    assert [wh.id for wh in w.warehouses.list()] == [warehouse_id]
    w.warehouses.edit(warehouse_id, name="crud-2", cluster_size="Medium")
    edited = w.warehouses.get(warehouse_id)
    assert (edited.name, edited.cluster_size) == ("crud-2", "Medium")
    w.warehouses.delete(warehouse_id)
    with pytest.raises(ResourceDoesNotExist):
        w.warehouses.get(warehouse_id)
    assert list(w.warehouses.list()) == []


def test_errors_map_to_the_sdk_classes(w: WorkspaceClient):
    """A bad size is InvalidParameterValue and a name in use is ResourceAlreadyExists."""
    with pytest.raises(InvalidParameterValue, match="cluster_size"):
        w.warehouses.create(name="bad", cluster_size="Enormous")
    w.warehouses.create(name="taken", cluster_size="Small")
    with pytest.raises(ResourceAlreadyExists, match="taken"):
        w.warehouses.create(name="taken", cluster_size="Small")


def test_permissions_round_trip(w: WorkspaceClient):
    """update_permissions grants CAN_USE; get_permissions lists the owner and the grant."""
    warehouse_id = str(w.warehouses.create(name="shared", cluster_size="Small").response.id)
    request = WarehouseAccessControlRequest(
        user_name=ALICE, permission_level=WarehousePermissionLevel.CAN_USE
    )
    w.warehouses.update_permissions(warehouse_id, access_control_list=[request])
    acl = w.warehouses.get_permissions(warehouse_id).access_control_list or []
    levels = {entry.user_name: [p.permission_level for p in entry.all_permissions or []] for entry in acl}
    assert levels == {ADMIN: [WarehousePermissionLevel.IS_OWNER], ALICE: [WarehousePermissionLevel.CAN_USE]}
