"""The emulator's Cluster Policies API, and clusters (job clusters too) checked against their policy."""

from __future__ import annotations

import json
from typing import Any

from tests.emulator.harness import ADMIN, ALICE_TOKEN, Emu
from tests.emulator.test_clusters import SPEC, get

API = "/api/2.0/policies/clusters"
RULES: dict[str, Any] = {
    "spark_version": {"type": "fixed", "value": "15.4.x-scala2.12", "hidden": True},
    "node_type_id": {"type": "allowlist", "values": ["i3.xlarge", "m5d.large"], "defaultValue": "m5d.large"},
    "autotermination_minutes": {"type": "range", "minValue": 10, "maxValue": 60, "defaultValue": 30},
    "custom_tags.team": {"type": "regex", "pattern": "[a-z]+"},
    "instance_pool_id": {"type": "forbidden"},
    "num_workers": {"type": "unlimited", "defaultValue": 1},
}


def create_policy(emu: Emu, rules: dict[str, Any] | None = None, **fields: Any) -> str:
    body = {"name": "small", "definition": json.dumps(RULES if rules is None else rules), **fields}
    response = emu.post(f"{API}/create", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["policy_id"])


def refused(response: Any, status: int, code: str, text: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code
    assert text in response.json()["message"], response.json()["message"]


def test_create_get_list_edit_delete(emu: Emu):
    assert emu.get(f"{API}/list").json() == {}
    policy_id = create_policy(emu, description="for tests")
    policy = emu.get(f"{API}/get", params={"policy_id": policy_id}).json()
    assert (policy["name"], policy["creator_user_name"], policy["is_default"]) == ("small", ADMIN, False)
    assert json.loads(policy["definition"]) == RULES
    second = create_policy(emu, {}, name="alpha")
    names = [
        p["name"]
        for p in emu.get(f"{API}/list", params={"sort_column": "POLICY_NAME", "sort_order": "ASC"}).json()[
            "policies"
        ]
    ]
    assert names == ["alpha", "small"]
    assert [p["policy_id"] for p in emu.get(f"{API}/list").json()["policies"]] == [second, policy_id]
    edited = {"policy_id": policy_id, "name": "smaller", "definition": "{}"}
    assert emu.post(f"{API}/edit", json=edited).status_code == 200
    assert emu.get(f"{API}/get", params={"policy_id": policy_id}).json()["name"] == "smaller"
    assert emu.post(f"{API}/delete", json={"policy_id": policy_id}).status_code == 200
    refused(emu.get(f"{API}/get", params={"policy_id": policy_id}), 404, "RESOURCE_DOES_NOT_EXIST", policy_id)


def test_bad_policies_are_refused(emu: Emu):
    create_policy(emu)
    for body, text in [
        ({"name": ""}, "Missing required field: name"),
        ({"name": "small"}, "already exists"),
        ({"name": "b", "definition": "{not json"}, "not valid JSON"),
        ({"name": "b", "definition": "[]"}, "must be a JSON object"),
        ({"name": "b", "definition": json.dumps({"x": {"type": "sometimes"}})}, "x has no valid type"),
        ({"name": "b", "definition": json.dumps({"x": {"type": "fixed"}})}, "needs value"),
        ({"name": "b", "definition": json.dumps({"x": {"type": "regex", "pattern": "("}})}, "bad pattern"),
        ({"name": "b", "max_clusters_per_user": 0}, "max_clusters_per_user must be a positive integer"),
    ]:
        refused(emu.post(f"{API}/create", json=body), 400, "INVALID_PARAMETER_VALUE", text)
    refused(
        emu.post(f"{API}/create", json={"name": "mine"}, token=ALICE_TOKEN),
        403,
        "PERMISSION_DENIED",
        "not authorized",
    )


def test_a_cluster_gets_the_fixed_and_default_values(emu: Emu):
    policy_id = create_policy(emu)
    body = {"policy_id": policy_id, "apply_policy_default_values": True, "custom_tags": {"team": "data"}}
    response = emu.post("/api/2.1/clusters/create", json=body)
    assert response.status_code == 200, response.text
    details = get(emu, response.json()["cluster_id"])
    assert details["spark_version"] == "15.4.x-scala2.12"
    assert (details["node_type_id"], details["autotermination_minutes"], details["num_workers"]) == (
        "m5d.large",
        30,
        1,
    )
    assert details["policy_id"] == policy_id


def test_a_cluster_that_breaks_the_policy_is_refused_naming_every_rule(emu: Emu):
    policy_id = create_policy(emu)
    body = {
        **SPEC,
        "spark_version": "14.3.x-scala2.12",
        "node_type_id": "i3.2xlarge",
        "autotermination_minutes": 120,
        "custom_tags": {"team": "Data Eng"},
        "policy_id": policy_id,
    }
    response = emu.post("/api/2.1/clusters/create", json=body)
    refused(
        response,
        400,
        "INVALID_PARAMETER_VALUE",
        "Validation failed for spark_version, the value must be 15.4.x-scala2.12",
    )
    message = response.json()["message"]
    assert (
        "Validation failed for node_type_id, the value must be one of "
        '["i3.xlarge", "m5d.large"] (is i3.2xlarge)' in message
    )
    assert (
        "Validation failed for autotermination_minutes, the value must be less than or equal to 60 (is 120)"
        in message
    )
    assert (
        "Validation failed for custom_tags.team, the value must match the regular expression [a-z]+"
        in message
    )
    missing = emu.post("/api/2.1/clusters/create", json={"policy_id": policy_id, "num_workers": 1})
    refused(
        missing,
        400,
        "INVALID_PARAMETER_VALUE",
        "Validation failed for node_type_id, the value must be present",
    )
    unknown = emu.post("/api/2.1/clusters/create", json={**SPEC, "policy_id": "FFFF0000FFFF0000"})
    refused(unknown, 400, "INVALID_PARAMETER_VALUE", "Cluster policy FFFF0000FFFF0000 does not exist")
    assert emu.get("/api/2.1/clusters/list").json() == {}


def test_a_job_cluster_is_checked_against_its_policy(emu: Emu):
    policy_id = create_policy(
        emu,
        {"autotermination_minutes": {"type": "forbidden"}, "num_workers": {"type": "range", "maxValue": 2}},
    )
    cluster = {**SPEC, "num_workers": 8, "policy_id": policy_id}
    job = {
        "name": "j",
        "tasks": [
            {"task_key": "t", "new_cluster": cluster, "notebook_task": {"notebook_path": "/Shared/nb"}}
        ],
    }
    job_id = emu.post("/api/2.2/jobs/create", json=job).json()["job_id"]
    run_id = emu.post("/api/2.2/jobs/run-now", json={"job_id": job_id}).json()["run_id"]
    for _ in range(10):
        emu.clock.advance(1)
        run = emu.get("/api/2.2/jobs/runs/get", params={"run_id": run_id}).json()
        if run["state"].get("life_cycle_state") in ("TERMINATED", "INTERNAL_ERROR", "SKIPPED"):
            break
    assert (
        "Validation failed for num_workers, the value must be less than or equal to 2 (is 8)"
        in json.dumps(run)
    )
