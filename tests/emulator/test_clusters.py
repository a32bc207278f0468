"""The emulator's Clusters API over HTTP: lifecycle on the fake clock, state rules, errors, both versions.

Each lifecycle step takes ``cluster_start_seconds`` (1 s by default); tests move the fake clock.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from brickbook.emulator.errors import ApiError
from brickbook.emulator.state.clusters import ClustersState
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.store import Store
from tests.emulator.harness import ADMIN, ALICE, ALICE_TOKEN, Emu, FakeClock

API = "/api/2.1/clusters"
SPEC: dict[str, Any] = {
    "cluster_name": "etl",
    "spark_version": "15.4.x-scala2.12",
    "node_type_id": "i3.xlarge",
    "num_workers": 2,
}


def create(emu: Emu, version: str = "2.1", **changes: Any) -> str:
    response = emu.post(f"/api/{version}/clusters/create", json={**SPEC, **changes})
    assert response.status_code == 200, response.text
    return str(response.json()["cluster_id"])


def get(emu: Emu, cluster_id: str, version: str = "2.1") -> dict[str, Any]:
    response = emu.get(f"/api/{version}/clusters/get", params={"cluster_id": cluster_id})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def action(emu: Emu, name: str, cluster_id: str, **body: Any) -> Any:
    return emu.post(f"{API}/{name}", json={"cluster_id": cluster_id, **body})


def running(emu: Emu, **changes: Any) -> str:
    cluster_id = create(emu, **changes)
    emu.clock.advance(1)
    assert get(emu, cluster_id)["state"] == "RUNNING"
    return cluster_id


def terminated(emu: Emu) -> str:
    cluster_id = running(emu)
    assert action(emu, "delete", cluster_id).status_code == 200
    emu.clock.advance(1)
    return cluster_id


def assert_error(response: Any, status: int, code: str, text: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code
    assert text in response.json()["message"]


def test_create_returns_a_pending_cluster_echoing_the_spec(emu: Emu):
    """A new cluster is PENDING, has a real-looking id, the caller as creator and the spec as submitted."""
    cluster_id = create(emu)
    assert re.fullmatch(r"\d{4}-\d{6}-[a-z0-9]{8}", cluster_id)
    details = get(emu, cluster_id)
    assert details["state"] == "PENDING"
    assert details["spec"] == SPEC
    assert details["cluster_name"] == "etl"
    assert details["creator_user_name"] == ADMIN
    assert details["cluster_source"] == "API"
    assert isinstance(details["start_time"], int)


def test_pending_becomes_running_after_the_start_time(emu: Emu):
    """PENDING lasts cluster_start_seconds, then the cluster is RUNNING."""
    cluster_id = create(emu)
    emu.clock.advance(0.5)
    assert get(emu, cluster_id)["state"] == "PENDING"
    emu.clock.advance(0.5)
    assert get(emu, cluster_id)["state"] == "RUNNING"


@pytest.mark.parametrize(("made_with", "read_with"), [("2.0", "2.1"), ("2.1", "2.0")])
def test_both_api_versions_serve_the_same_clusters(emu: Emu, made_with: str, read_with: str):
    """A cluster created under one API version is visible under the other."""
    cluster_id = create(emu, version=made_with)
    assert get(emu, cluster_id, version=read_with)["cluster_id"] == cluster_id


def test_creator_is_the_calling_user(emu: Emu):
    """creator_user_name is whoever called create."""
    response = emu.post(f"{API}/create", json=SPEC, token=ALICE_TOKEN)
    assert get(emu, response.json()["cluster_id"])["creator_user_name"] == ALICE


def test_get_missing_cluster_is_400_does_not_exist(emu: Emu):
    """A missing cluster on get is 400 INVALID_PARAMETER_VALUE 'Cluster <id> does not exist'."""
    response = emu.get(f"{API}/get", params={"cluster_id": "0000-000000-nothere0"})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Cluster 0000-000000-nothere0 does not exist")


@pytest.mark.parametrize("name", ["start", "restart", "delete", "permanent-delete", "resize", "edit", "pin"])
def test_actions_on_a_missing_cluster_are_400_does_not_exist(emu: Emu, name: str):
    """Every action on a missing cluster answers 400 INVALID_PARAMETER_VALUE 'does not exist'."""
    response = action(emu, name, "0000-000000-nothere0", num_workers=1, spark_version="15.4.x-scala2.12")
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "does not exist")


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"spark_version": None}, "spark_version"),
        ({"spark_version": "banana"}, "Invalid spark version banana"),
        ({"num_workers": None}, "num_workers or autoscale"),
        ({"num_workers": -1}, "num_workers"),
        ({"node_type_id": "x9.huge"}, "Node type x9.huge is not supported"),
        ({"autotermination_minutes": 5}, "autotermination_minutes"),
        ({"autotermination_minutes": 10001}, "autotermination_minutes"),
        ({"custom_tags": {f"t{i}": "v" for i in range(46)}}, "custom_tags"),
    ],
)
def test_create_rejects_an_invalid_spec(emu: Emu, changes: dict[str, Any], text: str):
    """An invalid spec is 400 INVALID_PARAMETER_VALUE naming the problem, and nothing is created."""
    spec = {k: v for k, v in {**SPEC, **changes}.items() if v is not None}
    assert_error(emu.post(f"{API}/create", json=spec), 400, "INVALID_PARAMETER_VALUE", text)
    assert emu.get(f"{API}/list").json() == {}


@pytest.mark.parametrize("minutes", [0, 10, 10000])
def test_create_accepts_autotermination_bounds(emu: Emu, minutes: int):
    """autotermination_minutes may be 0 (disabled) or 10 to 10000."""
    create(emu, autotermination_minutes=minutes)


def test_autoscale_replaces_num_workers(emu: Emu):
    """A spec may size the cluster with autoscale instead of num_workers."""
    spec = {k: v for k, v in SPEC.items() if k != "num_workers"}
    response = emu.post(f"{API}/create", json={**spec, "autoscale": {"min_workers": 1, "max_workers": 4}})
    assert response.status_code == 200, response.text


def test_delete_terminates_with_user_request(emu: Emu):
    """delete makes a cluster TERMINATING, then TERMINATED with reason USER_REQUEST and the caller's name."""
    cluster_id = running(emu)
    assert action(emu, "delete", cluster_id).json() == {}
    assert get(emu, cluster_id)["state"] == "TERMINATING"
    emu.clock.advance(1)
    details = get(emu, cluster_id)
    assert details["state"] == "TERMINATED"
    assert details["termination_reason"] == {
        "code": "USER_REQUEST",
        "type": "SUCCESS",
        "parameters": {"username": ADMIN},
    }
    assert isinstance(details["terminated_time"], int)


def test_delete_of_a_terminated_cluster_is_a_no_op(emu: Emu):
    """Terminating an already TERMINATED cluster succeeds and changes nothing."""
    cluster_id = terminated(emu)
    before = get(emu, cluster_id)
    assert action(emu, "delete", cluster_id).status_code == 200
    assert get(emu, cluster_id) == before


@pytest.mark.parametrize(("settle", "state_word"), [(1, "Running"), (0, "Pending")])
def test_start_when_not_terminated_is_invalid_state(emu: Emu, settle: float, state_word: str):
    """start on a RUNNING or PENDING cluster is 400 INVALID_STATE 'is in unexpected state <State>.'."""
    cluster_id = create(emu)
    emu.clock.advance(settle)
    response = action(emu, "start", cluster_id)
    assert_error(response, 400, "INVALID_STATE", f"Cluster {cluster_id} is in unexpected state {state_word}.")


def test_start_of_a_terminated_cluster_runs_it_again(emu: Emu):
    """start takes a TERMINATED cluster through PENDING to RUNNING and clears the termination reason."""
    cluster_id = terminated(emu)
    assert action(emu, "start", cluster_id).status_code == 200
    assert get(emu, cluster_id)["state"] == "PENDING"
    emu.clock.advance(1)
    details = get(emu, cluster_id)
    assert details["state"] == "RUNNING"
    assert "termination_reason" not in details


def test_edit_when_pending_is_invalid_state(emu: Emu):
    """edit is refused with INVALID_STATE unless the cluster is RUNNING or TERMINATED."""
    cluster_id = create(emu)
    response = action(emu, "edit", cluster_id, **{**SPEC, "num_workers": 4})
    assert_error(response, 400, "INVALID_STATE", "unexpected state Pending")


def test_edit_of_a_running_cluster_restarts_it_with_the_new_spec(emu: Emu):
    """edit on RUNNING replaces the spec and restarts the cluster."""
    cluster_id = running(emu)
    assert action(emu, "edit", cluster_id, **{**SPEC, "num_workers": 4}).status_code == 200
    assert get(emu, cluster_id)["state"] == "RESTARTING"
    emu.clock.advance(1)
    details = get(emu, cluster_id)
    assert (details["state"], details["num_workers"], details["spec"]["num_workers"]) == ("RUNNING", 4, 4)


def test_edit_of_a_terminated_cluster_keeps_it_terminated(emu: Emu):
    """edit on TERMINATED changes the spec and leaves the cluster TERMINATED."""
    cluster_id = terminated(emu)
    assert action(emu, "edit", cluster_id, **{**SPEC, "cluster_name": "renamed"}).status_code == 200
    details = get(emu, cluster_id)
    assert (details["state"], details["cluster_name"]) == ("TERMINATED", "renamed")


def test_resize_needs_a_running_cluster(emu: Emu):
    """resize on a TERMINATED cluster is INVALID_STATE."""
    response = action(emu, "resize", terminated(emu), num_workers=5)
    assert_error(response, 400, "INVALID_STATE", "unexpected state Terminated")


def test_resize_goes_through_resizing(emu: Emu):
    """resize on RUNNING goes RESIZING, then RUNNING with the new size."""
    cluster_id = running(emu)
    assert action(emu, "resize", cluster_id, num_workers=5).status_code == 200
    assert get(emu, cluster_id)["state"] == "RESIZING"
    emu.clock.advance(1)
    assert (get(emu, cluster_id)["state"], get(emu, cluster_id)["num_workers"]) == ("RUNNING", 5)


def test_restart_needs_a_running_cluster(emu: Emu):
    """restart on a TERMINATED cluster is INVALID_STATE."""
    response = action(emu, "restart", terminated(emu))
    assert_error(response, 400, "INVALID_STATE", "unexpected state Terminated")


def test_restart_goes_through_restarting(emu: Emu):
    """restart on RUNNING goes RESTARTING, then RUNNING with last_restarted_time set."""
    cluster_id = running(emu)
    assert action(emu, "restart", cluster_id).status_code == 200
    assert get(emu, cluster_id)["state"] == "RESTARTING"
    emu.clock.advance(1)
    details = get(emu, cluster_id)
    assert details["state"] == "RUNNING"
    assert isinstance(details["last_restarted_time"], int)


def test_permanent_delete_removes_the_cluster(emu: Emu):
    """After permanent-delete the cluster is gone from list and get says it does not exist."""
    cluster_id = running(emu)
    assert action(emu, "permanent-delete", cluster_id).status_code == 200
    assert emu.get(f"{API}/list").json() == {}
    assert_error(action(emu, "start", cluster_id), 400, "INVALID_PARAMETER_VALUE", "does not exist")


def test_idle_cluster_autoterminates_with_inactivity(emu: Emu):
    """A RUNNING cluster idle for autotermination_minutes terminates with reason INACTIVITY."""
    cluster_id = running(emu, autotermination_minutes=10)
    emu.clock.advance(10 * 60 - 0.5)
    assert get(emu, cluster_id)["state"] == "RUNNING"
    emu.clock.advance(1)
    assert get(emu, cluster_id)["state"] == "TERMINATING"
    emu.clock.advance(1)
    details = get(emu, cluster_id)
    assert details["state"] == "TERMINATED"
    assert details["termination_reason"]["code"] == "INACTIVITY"
    assert details["termination_reason"]["parameters"] == {"inactivity_duration_min": "10"}


def test_autotermination_zero_never_terminates(emu: Emu):
    """autotermination_minutes 0 disables autotermination."""
    cluster_id = running(emu, autotermination_minutes=0)
    emu.clock.advance(30 * 24 * 3600)
    assert get(emu, cluster_id)["state"] == "RUNNING"


def test_fail_start_flag_ends_terminated_with_spark_startup_failure(emu: Emu):
    """spark_conf brickbook.emulator.fail_start makes the start fail: TERMINATING, then TERMINATED."""
    cluster_id = create(emu, spark_conf={"brickbook.emulator.fail_start": "true"})
    emu.clock.advance(1)
    assert get(emu, cluster_id)["state"] == "TERMINATING"
    emu.clock.advance(1)
    details = get(emu, cluster_id)
    assert details["state"] == "TERMINATED"
    assert details["termination_reason"]["code"] == "SPARK_STARTUP_FAILURE"


def test_list_unpaged_returns_every_cluster(emu: Emu):
    """Without page_size the old form returns all clusters and no page token."""
    ids = {create(emu) for _ in range(3)}
    body = emu.get("/api/2.0/clusters/list").json()
    assert {c["cluster_id"] for c in body["clusters"]} == ids
    assert "next_page_token" not in body


def test_list_pages_with_page_tokens(emu: Emu):
    """page_size pages the list; next_page_token walks every cluster once, prev_page_token goes back."""
    ids = [create(emu) for _ in range(3)]
    seen, params = [], {"page_size": "2"}
    while True:
        body = emu.get(f"{API}/list", params=params).json()
        seen += [c["cluster_id"] for c in body["clusters"]]
        if "next_page_token" not in body:
            assert "prev_page_token" in body
            break
        params["page_token"] = body["next_page_token"]
    assert seen == ids


def test_list_filters_by_state(emu: Emu):
    """filter_by.cluster_states keeps only clusters in those states."""
    running_id, pending_id = running(emu), create(emu)
    body = emu.get(f"{API}/list", params={"filter_by.cluster_states": "RUNNING"}).json()
    assert [c["cluster_id"] for c in body["clusters"]] == [running_id]
    assert pending_id not in str(body)


def test_list_drops_clusters_terminated_over_30_days_ago(emu: Emu):
    """A cluster terminated more than 30 days ago is no longer listed, but get still finds it."""
    cluster_id = terminated(emu)
    emu.clock.advance(31 * 24 * 3600)
    assert emu.get(f"{API}/list").json() == {}
    assert get(emu, cluster_id)["state"] == "TERMINATED"


def test_node_types_and_spark_versions_are_listed(emu: Emu):
    """list-node-types and spark-versions return realistic AWS node types and runtime keys."""
    node_types = emu.get("/api/2.0/clusters/list-node-types").json()["node_types"]
    assert {"i3.xlarge", "m5d.large"} <= {n["node_type_id"] for n in node_types}
    versions = emu.get(f"{API}/spark-versions").json()["versions"]
    assert "15.4.x-scala2.12" in {v["key"] for v in versions}


# -- the plain methods the Jobs engine calls ------------------------------------------------------


@pytest.fixture
def state() -> tuple[ClustersState, FakeClock]:
    clock = FakeClock()
    return ClustersState(Store(), clock, step_seconds=1.0), clock


def test_touch_postpones_autotermination(state: tuple[ClustersState, FakeClock]):
    """touch records activity, so the idle clock starts again."""
    clusters, clock = state
    cluster_id = clusters.create({**SPEC, "autotermination_minutes": 10}, ADMIN)
    clock.advance(1 + 9 * 60)
    clusters.touch(cluster_id)
    clock.advance(9 * 60)
    assert clusters.is_running(cluster_id)


def test_ensure_running_on_terminating_starts_after_termination(state: tuple[ClustersState, FakeClock]):
    """ensure_running on a TERMINATING cluster lets it terminate, then starts it again."""
    clusters, clock = state
    cluster_id = clusters.create(SPEC, ADMIN)
    clock.advance(1)
    clusters.terminate(cluster_id)
    assert clusters.ensure_running(cluster_id) == "TERMINATING"
    clock.advance(1)
    assert clusters.get(cluster_id)["state"] == "PENDING"
    clock.advance(1)
    assert clusters.is_running(cluster_id)


def test_job_cluster_cannot_be_started_by_hand(state: tuple[ClustersState, FakeClock]):
    """A job cluster (cluster_source JOB) is named after the run and refuses a manual start."""
    clusters, clock = state
    cluster_id = clusters.create_job_cluster(SPEC, "job-1-run-2", creator=ADMIN)
    clock.advance(1)
    clusters.terminate(cluster_id, "JOB_FINISHED")
    clock.advance(1)
    details = clusters.get(cluster_id)
    assert (details["cluster_source"], details["cluster_name"]) == ("JOB", "job-1-run-2")
    assert details["termination_reason"]["code"] == "JOB_FINISHED"
    with pytest.raises(ApiError) as caught:
        clusters.start(Principal(ADMIN, is_admin=True), cluster_id)
    assert (caught.value.status, caught.value.code) == (400, "INVALID_PARAMETER_VALUE")
    assert "created by a job" in caught.value.message


def test_list_zones_answers_under_both_versions(emu: Emu):
    """``GET clusters/list-zones`` lists the zones with the default among them (2.0 and 2.1)."""
    for version in ("2.0", "2.1"):
        response = emu.get(f"/api/{version}/clusters/list-zones")
        assert response.status_code == 200, response.text
        assert response.json()["default_zone"] in response.json()["zones"]
