"""Clusters API primitives (``brickbook.api.clusters``) against the emulator over loopback HTTP.

Cluster lifecycles move on the emulator's injected clock (each step takes one emulated second), so a
test moves a cluster on with ``emulator.clock.advance``; nothing sleeps.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest

from brickbook.api import clusters
from brickbook.api.clusters import ClusterSource, State
from brickbook.client import Client
from brickbook.errors import (
    InvalidParameterValue,
    InvalidState,
    PermissionDenied,
    ResourceDoesNotExist,
    TemporarilyUnavailable,
)
from tests.conftest import Emulator

BASE = "/api/2.1/clusters"
STEP_SECONDS = 1.5  # a little more than one lifecycle step (cluster_start_seconds = 1)


def spec(name: str = "etl", **extra: Any) -> dict[str, Any]:
    return {
        "cluster_name": name,
        "spark_version": "15.4.x-scala2.12",
        "node_type_id": "m5d.large",
        "num_workers": 1,
        **extra,
    }


def running(client: Client, emulator: Emulator) -> str:
    """Create a cluster and let it reach RUNNING; return its id."""
    cluster_id = clusters.create(client, spec())
    emulator.clock.advance(STEP_SECONDS)
    assert clusters.get(client, cluster_id).state == State.RUNNING
    return cluster_id


def terminated(client: Client, emulator: Emulator) -> str:
    """Create a cluster, terminate it, and let it reach TERMINATED; return its id."""
    cluster_id = clusters.create(client, spec())
    clusters.delete(client, cluster_id)
    emulator.clock.advance(STEP_SECONDS)
    assert clusters.get(client, cluster_id).state == State.TERMINATED
    return cluster_id


def test_create_returns_an_id_that_get_describes_as_pending(client: Client):
    """create returns the new id at once; get shows a typed ClusterDetails, PENDING, made through the API."""
    cluster_id = clusters.create(client, spec("etl", num_workers=2))
    details = clusters.get(client, cluster_id)
    assert (details.cluster_id, details.cluster_name, details.state) == (cluster_id, "etl", State.PENDING)
    assert (details.cluster_source, details.creator_user_name) == (ClusterSource.API, "admin@example.com")
    assert (details.num_workers, details.size) == (2, "2")


def test_get_of_a_missing_cluster_is_resource_does_not_exist(client: Client):
    """clusters/get answers an unknown id with 400 INVALID_PARAMETER_VALUE, raised as ResourceDoesNotExist."""
    with pytest.raises(ResourceDoesNotExist) as info:
        clusters.get(client, "0000-000000-nothere")
    assert (info.value.http_status, info.value.error_code) == (400, "INVALID_PARAMETER_VALUE")
    assert "Cluster 0000-000000-nothere does not exist" in info.value.message


def test_create_without_node_type_is_invalid_parameter_value(client: Client):
    """A spec the service refuses raises InvalidParameterValue naming the missing field."""
    with pytest.raises(InvalidParameterValue) as info:
        clusters.create(client, {"cluster_name": "x", "spark_version": "15.4.x-scala2.12", "num_workers": 1})
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "node_type_id" in info.value.message


def test_create_is_not_resent_after_a_lost_answer(client: Client, emulator: Emulator):
    """A create whose answer is lost surfaces at once: a second copy would make a second cluster."""
    emulator.fault(pattern=f"POST {BASE}/create", status=503, after_handler=True, retry_after="0")
    with pytest.raises(TemporarilyUnavailable):
        clusters.create(client, spec())
    assert len(emulator.requests(f"{BASE}/create")) == 1
    assert len(list(clusters.list_(client))) == 1


def test_delete_is_resent_after_a_transient_failure(client: Client, emulator: Emulator):
    """Terminating is idempotent, so a 503 is retried and the cluster ends up terminating."""
    cluster_id = clusters.create(client, spec())
    emulator.fault(pattern=f"POST {BASE}/delete", status=503, retry_after="0")
    clusters.delete(client, cluster_id)
    assert [r["status"] for r in emulator.requests(f"{BASE}/delete")] == [503, 200]
    assert clusters.get(client, cluster_id).state == State.TERMINATING


def test_start_of_a_pending_cluster_is_invalid_state(client: Client):
    """start of a cluster that is not TERMINATED is 400 INVALID_STATE, raised as InvalidState."""
    cluster_id = clusters.create(client, spec())
    with pytest.raises(InvalidState) as info:
        clusters.start(client, cluster_id)
    assert (info.value.http_status, info.value.error_code) == (400, "INVALID_STATE")
    assert "is in unexpected state Pending" in info.value.message


def test_start_of_a_terminated_cluster_makes_it_pending(client: Client, emulator: Emulator):
    """start of a TERMINATED cluster returns at once with the cluster PENDING again."""
    cluster_id = terminated(client, emulator)
    clusters.start(client, cluster_id)
    assert clusters.get(client, cluster_id).state == State.PENDING


def test_restart_of_a_running_cluster_makes_it_restarting(client: Client, emulator: Emulator):
    """restart of a RUNNING cluster returns at once with the cluster RESTARTING."""
    cluster_id = running(client, emulator)
    clusters.restart(client, cluster_id)
    assert clusters.get(client, cluster_id).state == State.RESTARTING


@pytest.mark.parametrize("sizes", [{}, {"num_workers": 2, "autoscale": {"min_workers": 1, "max_workers": 2}}])
def test_resize_wants_exactly_one_size(client: Client, emulator: Emulator, sizes: dict[str, Any]):
    """resize with neither or both of num_workers and autoscale is a ValueError, and nothing is sent."""
    with pytest.raises(ValueError, match="exactly one of num_workers or autoscale"):
        clusters.resize(client, "0000-000000-any", **sizes)
    assert emulator.requests(f"{BASE}/resize") == []


def test_resize_to_a_worker_count(client: Client, emulator: Emulator):
    """resize with num_workers sets the target count; the cluster is RESIZING."""
    cluster_id = running(client, emulator)
    clusters.resize(client, cluster_id, num_workers=3)
    details = clusters.get(client, cluster_id)
    assert (details.state, details.num_workers) == (State.RESIZING, 3)


def test_resize_to_autoscale_bounds(client: Client, emulator: Emulator):
    """resize with autoscale bounds shows as the min-max size."""
    cluster_id = running(client, emulator)
    clusters.resize(client, cluster_id, autoscale={"min_workers": 1, "max_workers": 3})
    assert clusters.get(client, cluster_id).size == "1-3"


def test_delete_terminates_and_keeps_the_config(client: Client, emulator: Emulator):
    """delete ("stop") ends TERMINATED by USER_REQUEST; get still describes the cluster."""
    cluster_id = clusters.create(client, spec("kept"))
    clusters.delete(client, cluster_id)
    emulator.clock.advance(STEP_SECONDS)
    details = clusters.get(client, cluster_id)
    assert (details.state, details.cluster_name) == (State.TERMINATED, "kept")
    assert details.termination == "USER_REQUEST (SUCCESS)"
    assert isinstance(details.terminated_time, int)


def test_idle_cluster_terminates_for_inactivity(client: Client, emulator: Emulator):
    """A RUNNING cluster idle past autotermination_minutes ends TERMINATED, and termination says why."""
    cluster_id = clusters.create(client, spec(autotermination_minutes=10))
    emulator.clock.advance(STEP_SECONDS)
    emulator.clock.advance(10 * 60 + 2 * STEP_SECONDS)
    details = clusters.get(client, cluster_id)
    assert details.state == State.TERMINATED
    assert details.termination == "INACTIVITY (SUCCESS): inactive for 10 minutes"


def test_delete_of_a_terminated_cluster_succeeds(client: Client, emulator: Emulator):
    """Terminating a cluster that is already TERMINATED is a no-op, not an error."""
    cluster_id = terminated(client, emulator)
    clusters.delete(client, cluster_id)
    assert clusters.get(client, cluster_id).state == State.TERMINATED


def test_permanent_delete_removes_the_cluster(client: Client):
    """After permanent_delete, get raises ResourceDoesNotExist."""
    cluster_id = clusters.create(client, spec())
    clusters.permanent_delete(client, cluster_id)
    with pytest.raises(ResourceDoesNotExist, match="does not exist"):
        clusters.get(client, cluster_id)


def test_edit_of_a_terminated_cluster_replaces_the_spec(client: Client, emulator: Emulator):
    """edit replaces name and size of a TERMINATED cluster, which stays TERMINATED."""
    cluster_id = terminated(client, emulator)
    clusters.edit(client, cluster_id, spec("renamed", num_workers=4))
    details = clusters.get(client, cluster_id)
    assert (details.cluster_name, details.num_workers, details.state) == ("renamed", 4, State.TERMINATED)


def test_non_owner_may_not_terminate_the_admins_cluster(client: Client, alice: Client):
    """A plain user terminating a cluster it does not manage gets 403 PERMISSION_DENIED."""
    cluster_id = clusters.create(client, spec())
    with pytest.raises(PermissionDenied) as info:
        clusters.delete(alice, cluster_id)
    assert (info.value.http_status, info.value.error_code) == (403, "PERMISSION_DENIED")
    assert "alice@example.com" in info.value.message


def test_list_of_no_clusters_yields_nothing(client: Client):
    """clusters/list leaves out ``clusters`` when there are none, and list_ yields nothing."""
    assert list(clusters.list_(client)) == []


def test_list_follows_page_tokens(client: Client, emulator: Emulator):
    """With page_size 2, five clusters take three pages and list_ yields each once."""
    created = {clusters.create(client, spec(f"c{i}")) for i in range(5)}
    listed = [c.cluster_id for c in clusters.list_(client, page_size=2)]
    assert sorted(listed) == sorted(created)
    sent = [parse_qs(str(r["query"])) for r in emulator.requests(f"{BASE}/list")]
    assert len(sent) == 3 and all(q["page_size"] == ["2"] for q in sent)


def test_list_filters_by_states_as_repeated_dotted_keys(client: Client, emulator: Emulator):
    """states travel as repeated filter_by.cluster_states keys, and only clusters in them are listed."""
    running(client, emulator)
    stopped = terminated(client, emulator)
    pending = clusters.create(client, spec("pending"))
    listed = {c.cluster_id for c in clusters.list_(client, states=["PENDING", "TERMINATED"])}
    assert listed == {pending, stopped}
    query = parse_qs(str(emulator.requests(f"{BASE}/list")[-1]["query"]))
    assert query["filter_by.cluster_states"] == ["PENDING", "TERMINATED"]


def test_list_with_a_single_state_string_does_not_filter_by_its_letters(client: Client, emulator: Emulator):
    """states='RUNNING' lists the RUNNING cluster (or is refused), never silently nothing."""
    cluster_id = running(client, emulator)
    try:
        listed = [c.cluster_id for c in clusters.list_(client, states="RUNNING")]
    except (TypeError, ValueError):
        return
    assert listed == [cluster_id]


def test_list_node_types_returns_node_type_objects(client: Client):
    """list_node_types returns the API's node type objects, keyed by node_type_id."""
    node_types = {n["node_type_id"]: n for n in clusters.list_node_types(client)}
    assert node_types["m5d.large"]["num_cores"] == 2


def test_spark_versions_returns_keys_spark_version_takes(client: Client):
    """spark_versions returns objects whose ``key`` is a valid spark_version for create."""
    keys = [v["key"] for v in clusters.spark_versions(client)]
    assert "15.4.x-scala2.12" in keys
