"""The emulator's SQL Warehouses API over HTTP: lifecycle on the fake clock, auto-stop, validation,
permissions, paging, and the gate statements use.

Each lifecycle step takes ``warehouse_start_seconds`` (1 s by default); tests move the fake clock.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from brickbook.emulator.errors import ApiError
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.store import Store
from brickbook.emulator.state.warehouses import WarehousesState
from tests.emulator.harness import ADMIN, ALICE, ALICE_TOKEN, Emu, FakeClock

API = "/api/2.0/sql/warehouses"
SPEC: dict[str, Any] = {"name": "analytics", "cluster_size": "2X-Small", "auto_stop_mins": 10}


def create(emu: Emu, **changes: Any) -> str:
    response = emu.post(API, json={**SPEC, **changes})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def get(emu: Emu, warehouse_id: str, token: str | None = None) -> dict[str, Any]:
    kwargs = {} if token is None else {"token": token}
    response = emu.get(f"{API}/{warehouse_id}", **kwargs)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def running(emu: Emu, **changes: Any) -> str:
    warehouse_id = create(emu, **changes)
    emu.clock.advance(1)
    assert get(emu, warehouse_id)["state"] == "RUNNING"
    return warehouse_id


def assert_error(response: Any, status: int, code: str, text: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code
    assert text in response.json()["message"]


def test_create_answers_an_id_and_the_warehouse_is_starting(emu: Emu):
    """A new warehouse is STARTING, has a 16-hex-digit id, the caller as creator and the defaults."""
    warehouse_id = create(emu)
    assert re.fullmatch(r"[0-9a-f]{16}", warehouse_id)
    details = get(emu, warehouse_id)
    assert details["state"] == "STARTING"
    assert details["creator_name"] == ADMIN
    assert (details["name"], details["cluster_size"], details["auto_stop_mins"]) == (
        "analytics",
        "2X-Small",
        10,
    )
    assert (details["min_num_clusters"], details["max_num_clusters"], details["num_clusters"]) == (1, 1, 0)
    assert (details["warehouse_type"], details["enable_serverless_compute"]) == ("CLASSIC", False)
    assert details["channel"] == {"name": "CHANNEL_NAME_CURRENT"}
    assert details["odbc_params"]["path"] == f"/sql/1.0/warehouses/{warehouse_id}"
    assert f"httpPath=/sql/1.0/warehouses/{warehouse_id}" in details["jdbc_url"]


def test_starting_becomes_running_after_one_step(emu: Emu):
    """STARTING lasts warehouse_start_seconds, then the warehouse is RUNNING, healthy, with its clusters."""
    warehouse_id = create(emu, min_num_clusters=2, max_num_clusters=3)
    emu.clock.advance(0.5)
    assert get(emu, warehouse_id)["state"] == "STARTING"
    emu.clock.advance(0.5)
    details = get(emu, warehouse_id)
    assert details["state"] == "RUNNING"
    assert details["num_clusters"] == 2
    assert details["health"]["status"] == "HEALTHY"


def test_stop_then_start_walks_the_lifecycle(emu: Emu):
    """stop: RUNNING -> STOPPING -> STOPPED; start: STOPPED -> STARTING -> RUNNING."""
    warehouse_id = running(emu)
    assert emu.post(f"{API}/{warehouse_id}/stop").status_code == 200
    assert get(emu, warehouse_id)["state"] == "STOPPING"
    emu.clock.advance(1)
    stopped = get(emu, warehouse_id)
    assert (stopped["state"], stopped["num_clusters"]) == ("STOPPED", 0)
    assert emu.post(f"{API}/{warehouse_id}/start").status_code == 200
    assert get(emu, warehouse_id)["state"] == "STARTING"
    emu.clock.advance(1)
    assert get(emu, warehouse_id)["state"] == "RUNNING"


def test_start_while_stopping_starts_again_once_stopped(emu: Emu):
    """A start during STOPPING takes effect when the warehouse has stopped."""
    warehouse_id = running(emu)
    emu.post(f"{API}/{warehouse_id}/stop")
    emu.post(f"{API}/{warehouse_id}/start")
    emu.clock.advance(1)
    assert get(emu, warehouse_id)["state"] == "STARTING"
    emu.clock.advance(1)
    assert get(emu, warehouse_id)["state"] == "RUNNING"


def test_start_and_stop_are_no_ops_where_there_is_nothing_to_do(emu: Emu):
    """start of a RUNNING warehouse and stop of a STOPPED one answer {} and change nothing."""
    warehouse_id = running(emu)
    assert emu.post(f"{API}/{warehouse_id}/start").json() == {}
    assert get(emu, warehouse_id)["state"] == "RUNNING"
    emu.post(f"{API}/{warehouse_id}/stop")
    emu.clock.advance(1)
    assert emu.post(f"{API}/{warehouse_id}/stop").json() == {}
    assert get(emu, warehouse_id)["state"] == "STOPPED"


def test_an_idle_warehouse_stops_after_auto_stop_mins(emu: Emu):
    """A RUNNING warehouse with no activity for auto_stop_mins goes STOPPING, then STOPPED."""
    warehouse_id = running(emu, auto_stop_mins=10)
    emu.clock.advance(10 * 60 - 1)
    assert get(emu, warehouse_id)["state"] == "RUNNING"
    emu.clock.advance(1)
    assert get(emu, warehouse_id)["state"] == "STOPPING"
    emu.clock.advance(1)
    assert get(emu, warehouse_id)["state"] == "STOPPED"


def test_a_late_read_sees_the_whole_history(emu: Emu):
    """Read an hour late, a warehouse that auto-stopped after 10 minutes is STOPPED."""
    warehouse_id = create(emu, auto_stop_mins=10)
    emu.clock.advance(3600)
    assert get(emu, warehouse_id)["state"] == "STOPPED"


def test_auto_stop_zero_never_stops(emu: Emu):
    """auto_stop_mins 0 keeps a warehouse RUNNING however long it idles."""
    warehouse_id = running(emu, auto_stop_mins=0)
    emu.clock.advance(10 * 86400)
    assert get(emu, warehouse_id)["state"] == "RUNNING"


def test_edit_changes_the_given_fields_and_keeps_the_state(emu: Emu):
    """edit changes only the fields sent; a RUNNING warehouse stays RUNNING."""
    warehouse_id = running(emu)
    response = emu.post(f"{API}/{warehouse_id}/edit", json={"cluster_size": "Small", "max_num_clusters": 4})
    assert response.status_code == 200, response.text
    details = get(emu, warehouse_id)
    assert (details["cluster_size"], details["max_num_clusters"], details["name"]) == (
        "Small",
        4,
        "analytics",
    )
    assert details["state"] == "RUNNING"


def test_delete_removes_the_warehouse(emu: Emu):
    """After delete, get is 404 RESOURCE_DOES_NOT_EXIST and list leaves it out."""
    warehouse_id = create(emu)
    assert emu.request("DELETE", f"{API}/{warehouse_id}").json() == {}
    assert_error(emu.get(f"{API}/{warehouse_id}"), 404, "RESOURCE_DOES_NOT_EXIST", warehouse_id)
    assert emu.get(API).json() == {}


@pytest.mark.parametrize("action", ["start", "stop", "edit"])
def test_an_unknown_id_is_404_on_every_action(emu: Emu, action: str):
    """start, stop and edit of an unknown warehouse are 404 RESOURCE_DOES_NOT_EXIST."""
    response = emu.post(f"{API}/0123456789abcdef/{action}", json={"name": "x"})
    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "0123456789abcdef")


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"name": None}, "Missing required field: name"),
        ({"name": "n" * 100}, "name must be shorter than 100"),
        ({"cluster_size": None}, "Missing required field: cluster_size"),
        ({"cluster_size": "Huge"}, "Invalid cluster_size 'Huge'"),
        ({"auto_stop_mins": 5}, "auto_stop_mins must be 0 (never) or at least 10"),
        ({"min_num_clusters": 0}, "min_num_clusters must be an integer from 1"),
        ({"min_num_clusters": 3, "max_num_clusters": 2}, "min_num_clusters must be an integer from 1"),
        ({"max_num_clusters": 41}, "max_num_clusters must be an integer from 1 to 40"),
        ({"warehouse_type": "HUGE"}, "Invalid warehouse_type 'HUGE'"),
        ({"enable_serverless_compute": True, "warehouse_type": "CLASSIC"}, "Serverless compute requires"),
        ({"tags": {"custom_tags": [{"key": f"k{i}", "value": "v"} for i in range(45)]}}, "fewer than 45"),
        ({"channel": {"name": "NIGHTLY"}}, "channel must be an object"),
        ({"channel": {"dbsql_version": "v" * 65}}, "channel must be an object"),
        ({"tags": {"custom_tags": [{"key": "k" * 128, "value": "v"}]}}, "a key of 1 to 127 characters"),
        ({"tags": {"custom_tags": [{"key": "k", "value": "v" * 256}]}}, "at most 255 characters"),
        ({"tags": {"custom_tags": "team=data"}}, "tags must be {custom_tags"),
    ],
)
def test_create_refuses_invalid_specs(emu: Emu, changes: dict[str, Any], text: str):
    """Each invalid field is 400 INVALID_PARAMETER_VALUE naming it, and nothing is created."""
    body = {k: v for k, v in {**SPEC, **changes}.items() if v is not None}
    assert_error(emu.post(API, json=body), 400, "INVALID_PARAMETER_VALUE", text)
    assert emu.get(API).json() == {}


def test_names_are_unique(emu: Emu):
    """A second warehouse with a name in use is RESOURCE_ALREADY_EXISTS; so is an edit to that name."""
    create(emu)
    assert_error(emu.post(API, json=SPEC), 400, "RESOURCE_ALREADY_EXISTS", "analytics")
    other = create(emu, name="other")
    response = emu.post(f"{API}/{other}/edit", json={"name": "analytics"})
    assert_error(response, 400, "RESOURCE_ALREADY_EXISTS", "analytics")


def test_serverless_defaults_to_pro(emu: Emu):
    """A serverless warehouse created without a type is PRO."""
    details = get(emu, create(emu, enable_serverless_compute=True))
    assert (details["warehouse_type"], details["enable_serverless_compute"]) == ("PRO", True)


def test_list_pages_with_page_tokens(emu: Emu):
    """page_size pages the list oldest first; next_page_token walks every warehouse once."""
    ids = [create(emu, name=f"w{i}") for i in range(5)]
    seen: list[str] = []
    params: dict[str, Any] = {"page_size": 2}
    while True:
        body = emu.get(API, params=params).json()
        seen += [w["id"] for w in body["warehouses"]]
        if "next_page_token" not in body:
            break
        params["page_token"] = body["next_page_token"]
    assert seen == ids
    assert_error(
        emu.get(API, params={"page_token": "nonsense"}), 400, "INVALID_PARAMETER_VALUE", "page token"
    )


def test_a_user_sees_and_acts_on_only_what_is_granted(emu: Emu):
    """Alice cannot see the admin's warehouse until granted CAN_USE; CAN_USE starts but does not stop."""
    warehouse_id = running(emu)
    assert emu.get(API, token=ALICE_TOKEN).json() == {}
    assert_error(emu.get(f"{API}/{warehouse_id}", token=ALICE_TOKEN), 403, "PERMISSION_DENIED", ALICE)
    acl = {"access_control_list": [{"user_name": ALICE, "permission_level": "CAN_USE"}]}
    response = emu.request("PATCH", f"/api/2.0/permissions/warehouses/{warehouse_id}", json=acl)
    assert response.status_code == 200, response.text
    levels = {
        e.get("user_name"): e["all_permissions"][0]["permission_level"]
        for e in response.json()["access_control_list"]
    }
    assert levels == {ADMIN: "IS_OWNER", ALICE: "CAN_USE"}
    assert [w["id"] for w in emu.get(API, token=ALICE_TOKEN).json()["warehouses"]] == [warehouse_id]
    assert_error(emu.post(f"{API}/{warehouse_id}/stop", token=ALICE_TOKEN), 403, "PERMISSION_DENIED", ALICE)
    emu.post(f"{API}/{warehouse_id}/stop")
    emu.clock.advance(1)
    assert emu.post(f"{API}/{warehouse_id}/start", token=ALICE_TOKEN).status_code == 200


def test_set_permissions_replaces_all_but_the_owner(emu: Emu):
    """PUT replaces every grant except the owner's IS_OWNER; IS_OWNER itself cannot be granted."""
    warehouse_id = create(emu)
    path = f"/api/2.0/permissions/warehouses/{warehouse_id}"
    emu.request(
        "PATCH", path, json={"access_control_list": [{"user_name": ALICE, "permission_level": "CAN_MANAGE"}]}
    )
    response = emu.request(
        "PUT", path, json={"access_control_list": [{"group_name": "users", "permission_level": "CAN_VIEW"}]}
    )
    names = [e.get("user_name") or e.get("group_name") for e in response.json()["access_control_list"]]
    assert names == [ADMIN, "users"]
    bad = {"access_control_list": [{"user_name": ALICE, "permission_level": "IS_OWNER"}]}
    assert_error(emu.request("PUT", path, json=bad), 400, "INVALID_PARAMETER_VALUE", "IS_OWNER")


def test_permission_updates_are_bounded(emu: Emu):
    """More than 200 entries, or a principal name over 256 characters, is INVALID_PARAMETER_VALUE."""
    path = f"/api/2.0/permissions/warehouses/{create(emu)}"
    many = [{"user_name": f"u{i}@example.com", "permission_level": "CAN_USE"} for i in range(201)]
    assert_error(
        emu.request("PATCH", path, json={"access_control_list": many}), 400, "INVALID_PARAMETER_VALUE", "200"
    )
    long = [{"user_name": "u" * 257, "permission_level": "CAN_USE"}]
    assert_error(
        emu.request("PATCH", path, json={"access_control_list": long}), 400, "INVALID_PARAMETER_VALUE", "256"
    )
    two = [{"user_name": ALICE, "group_name": "users", "permission_level": "CAN_USE"}]
    assert_error(
        emu.request("PATCH", path, json={"access_control_list": two}), 400, "INVALID_PARAMETER_VALUE", "one"
    )


def test_reset_forgets_every_warehouse(emu: Emu):
    """The control API's reset removes warehouses and their grants."""
    create(emu)
    assert emu.control("POST", "reset").status_code == 200
    assert emu.get(API).json() == {}


# -- the WarehouseGate, in process ------------------------------------------------------------------


def gate(clock: FakeClock) -> WarehousesState:
    users = {ADMIN: Principal(ADMIN, is_admin=True), ALICE: Principal(ALICE, is_admin=False)}
    return WarehousesState(Store(), clock, lambda name: users.get(name, Principal(name, is_admin=False)))


def test_gate_passes_a_running_warehouse_and_notes_activity():
    """require_running passes on RUNNING; note_activity postpones the auto-stop."""
    clock = FakeClock()
    state = gate(clock)
    warehouse_id = state.create(Principal(ADMIN, is_admin=True), dict(SPEC))
    clock.advance(1)
    state.require_running(warehouse_id, principal=ADMIN)
    clock.advance(9 * 60)
    state.note_activity(warehouse_id)
    clock.advance(9 * 60)
    assert state.get(Principal(ADMIN, is_admin=True), warehouse_id, host="h")["state"] == "RUNNING"


def test_gate_starts_a_stopped_serverless_warehouse_at_once():
    """A serverless warehouse that is not RUNNING is RUNNING right after require_running."""
    clock = FakeClock()
    state = gate(clock)
    admin = Principal(ADMIN, is_admin=True)
    warehouse_id = state.create(admin, {**SPEC, "enable_serverless_compute": True})
    state.require_running(warehouse_id, principal=ADMIN)
    assert state.get(admin, warehouse_id, host="h")["state"] == "RUNNING"


def test_gate_refuses_a_stopped_classic_warehouse_an_unknown_id_and_a_stranger():
    """Not running: INVALID_STATE; unknown id: RESOURCE_DOES_NOT_EXIST; no CAN_USE: PERMISSION_DENIED."""
    clock = FakeClock()
    state = gate(clock)
    warehouse_id = state.create(Principal(ADMIN, is_admin=True), dict(SPEC))
    with pytest.raises(ApiError) as error:
        state.require_running(warehouse_id, principal=ADMIN)
    assert (error.value.code, error.value.status) == ("INVALID_STATE", 400)
    assert "is not running (state STARTING)" in error.value.message
    with pytest.raises(ApiError) as error:
        state.require_running("0123456789abcdef", principal=ADMIN)
    assert (error.value.code, error.value.status) == ("RESOURCE_DOES_NOT_EXIST", 404)
    clock.advance(1)
    with pytest.raises(ApiError) as error:
        state.require_running(warehouse_id, principal=ALICE)
    assert error.value.code == "PERMISSION_DENIED"
