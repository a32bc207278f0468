"""The emulator's Instance Pools API, and clusters that take their nodes from a pool."""

from __future__ import annotations

import re
from typing import Any

from tests.emulator.harness import ADMIN, ALICE_TOKEN, Emu
from tests.emulator.test_clusters import SPEC, get

API = "/api/2.0/instance-pools"
POOL: dict[str, Any] = {"instance_pool_name": "warm", "node_type_id": "i3.xlarge", "min_idle_instances": 1}


def create_pool(emu: Emu, **changes: Any) -> str:
    response = emu.post(f"{API}/create", json={**POOL, **changes})
    assert response.status_code == 200, response.text
    return str(response.json()["instance_pool_id"])


def pool(emu: Emu, pool_id: str) -> dict[str, Any]:
    response = emu.get(f"{API}/get", params={"instance_pool_id": pool_id})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def refused(response: Any, status: int, code: str, text: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code
    assert text in response.json()["message"], response.json()["message"]


def test_create_get_list_edit_delete(emu: Emu):
    assert emu.get(f"{API}/list").json() == {}
    pool_id = create_pool(emu, custom_tags={"team": "data"})
    assert re.fullmatch(r"\d{4}-\d{6}-[a-z]{5}-pool-[a-z0-9]{8}", pool_id)
    details = pool(emu, pool_id)
    assert (details["instance_pool_name"], details["node_type_id"], details["state"]) == (
        "warm",
        "i3.xlarge",
        "ACTIVE",
    )
    assert details["stats"]["idle_count"] == 1
    assert details["default_tags"]["DatabricksInstancePoolCreatorId"] == ADMIN
    assert details["custom_tags"] == {"team": "data"}
    assert [p["instance_pool_id"] for p in emu.get(f"{API}/list").json()["instance_pools"]] == [pool_id]
    edit = {
        "instance_pool_id": pool_id,
        "instance_pool_name": "warmer",
        "node_type_id": "i3.xlarge",
        "max_capacity": 9,
    }
    assert emu.post(f"{API}/edit", json=edit).status_code == 200
    assert (pool(emu, pool_id)["instance_pool_name"], pool(emu, pool_id)["max_capacity"]) == ("warmer", 9)
    assert emu.post(f"{API}/delete", json={"instance_pool_id": pool_id}).status_code == 200
    refused(
        emu.get(f"{API}/get", params={"instance_pool_id": pool_id}), 404, "RESOURCE_DOES_NOT_EXIST", pool_id
    )
    assert emu.get(f"{API}/list").json() == {}


def test_bad_pools_are_refused(emu: Emu):
    create_pool(emu)
    for changes, text in [
        ({"instance_pool_name": ""}, "Missing required field: instance_pool_name"),
        ({"instance_pool_name": "x" * 101}, "at most 100 characters"),
        ({"instance_pool_name": "warm"}, "already in use"),
        ({"instance_pool_name": "b", "node_type_id": None}, "Missing required field: node_type_id"),
        ({"instance_pool_name": "b", "node_type_id": "huge.box"}, "Node type huge.box is not supported"),
        ({"instance_pool_name": "b", "min_idle_instances": -1}, "min_idle_instances must be a non-negative"),
        (
            {"instance_pool_name": "b", "min_idle_instances": 5, "max_capacity": 2},
            "must not exceed max_capacity",
        ),
        ({"instance_pool_name": "b", "idle_instance_autotermination_minutes": 10001}, "at most 10000"),
    ]:
        refused(emu.post(f"{API}/create", json={**POOL, **changes}), 400, "INVALID_PARAMETER_VALUE", text)
    assert len(emu.get(f"{API}/list").json()["instance_pools"]) == 1


def test_edit_cannot_change_the_node_type_and_unknown_pools_are_404(emu: Emu):
    pool_id = create_pool(emu)
    edit = {"instance_pool_id": pool_id, "instance_pool_name": "warm", "node_type_id": "r5d.xlarge"}
    refused(emu.post(f"{API}/edit", json=edit), 400, "INVALID_PARAMETER_VALUE", "cannot be changed")
    ghost = {**edit, "instance_pool_id": "0000-000000-ghost-pool-00000000"}
    refused(emu.post(f"{API}/edit", json=ghost), 404, "RESOURCE_DOES_NOT_EXIST", "does not exist")
    refused(emu.post(f"{API}/delete", json={}), 400, "INVALID_PARAMETER_VALUE", "instance_pool_id")


def test_only_admins_manage_pools_everyone_reads(emu: Emu):
    pool_id = create_pool(emu)
    refused(
        emu.post(f"{API}/create", json={**POOL, "instance_pool_name": "mine"}, token=ALICE_TOKEN),
        403,
        "PERMISSION_DENIED",
        "not authorized",
    )
    refused(
        emu.post(f"{API}/delete", json={"instance_pool_id": pool_id}, token=ALICE_TOKEN),
        403,
        "PERMISSION_DENIED",
        "not authorized",
    )
    assert emu.get(f"{API}/get", params={"instance_pool_id": pool_id}, token=ALICE_TOKEN).status_code == 200


def test_a_cluster_takes_its_node_type_from_its_pool(emu: Emu):
    pool_id = create_pool(emu, node_type_id="r5d.xlarge")
    spec = {k: v for k, v in SPEC.items() if k != "node_type_id"}
    response = emu.post("/api/2.1/clusters/create", json={**spec, "instance_pool_id": pool_id})
    assert response.status_code == 200, response.text
    details = get(emu, response.json()["cluster_id"])
    assert (details["instance_pool_id"], details["node_type_id"]) == (pool_id, "r5d.xlarge")
    assert "node_type_id" not in details["spec"]


def test_a_cluster_naming_an_unknown_pool_or_both_is_refused(emu: Emu):
    pool_id = create_pool(emu)
    spec = {k: v for k, v in SPEC.items() if k != "node_type_id"}
    ghost = emu.post(
        "/api/2.1/clusters/create", json={**spec, "instance_pool_id": "0000-000000-ghost-pool-00000000"}
    )
    refused(
        ghost, 400, "INVALID_PARAMETER_VALUE", "Instance pool 0000-000000-ghost-pool-00000000 does not exist"
    )
    both = emu.post("/api/2.1/clusters/create", json={**SPEC, "instance_pool_id": pool_id})
    refused(
        both, 400, "INVALID_PARAMETER_VALUE", "'node_type_id' cannot be supplied when an instance pool ID"
    )
