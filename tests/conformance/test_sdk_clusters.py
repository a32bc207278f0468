"""The official databricks-sdk (0.162.0) drives the emulator's Clusters API, waiters included, unchanged.

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
from databricks.sdk.errors import InvalidParameterValue, InvalidState, OperationFailed, ResourceDoesNotExist
from databricks.sdk.service.compute import AutoScale, ClusterSource, ListClustersFilterBy, State

from brickbook.emulator.server import start_in_thread
from tests.emulator.harness import ADMIN, ADMIN_TOKEN, Emu, FakeClock, make_settings

SPARK = "15.4.x-scala2.12"
NODE = "i3.xlarge"


@pytest.fixture(scope="module")
def real_clock_emu() -> Iterator[Emu]:
    settings = dataclasses.replace(make_settings(FakeClock(), cluster_start_seconds=0.05), clock=time.time)
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


def make_cluster(w: WorkspaceClient) -> str:
    return str(w.clusters.create(spark_version=SPARK, node_type_id=NODE, num_workers=1).cluster_id)


def test_create_and_wait_returns_a_running_cluster(w: WorkspaceClient):
    """create_and_wait polls until RUNNING and returns the cluster's details."""
    details = w.clusters.create_and_wait(
        cluster_name="sdk", spark_version=SPARK, node_type_id=NODE, num_workers=2, autotermination_minutes=60
    )
    assert details.state == State.RUNNING
    assert (details.cluster_name, details.num_workers, details.autotermination_minutes) == ("sdk", 2, 60)
    assert details.creator_user_name == ADMIN
    assert details.cluster_source == ClusterSource.API


def test_create_with_autoscale(w: WorkspaceClient):
    """An autoscale spec round-trips through the SDK's typed AutoScale."""
    cluster_id = w.clusters.create(
        spark_version=SPARK, node_type_id=NODE, autoscale=AutoScale(min_workers=1, max_workers=3)
    ).cluster_id
    assert w.clusters.get(cluster_id).autoscale == AutoScale(min_workers=1, max_workers=3)


def test_delete_and_wait_returns_a_terminated_cluster(w: WorkspaceClient):
    """delete_and_wait terminates and polls until TERMINATED, with reason USER_REQUEST."""
    cluster_id = make_cluster(w)
    details = w.clusters.delete_and_wait(cluster_id)
    assert details.state == State.TERMINATED
    assert details.termination_reason is not None
    assert details.termination_reason.code is not None
    assert details.termination_reason.code.value == "USER_REQUEST"


def test_start_and_wait_runs_a_terminated_cluster_again(w: WorkspaceClient):
    """start_and_wait starts a TERMINATED cluster and returns it RUNNING."""
    cluster_id = make_cluster(w)
    w.clusters.delete_and_wait(cluster_id)
    assert w.clusters.start_and_wait(cluster_id).state == State.RUNNING


def test_start_of_a_running_cluster_is_invalid_state(w: WorkspaceClient):
    """Starting a RUNNING cluster raises the SDK's InvalidState, worded as the service words it."""
    cluster_id = make_cluster(w)
    w.clusters.wait_get_cluster_running(cluster_id)
    with pytest.raises(InvalidState, match="is in unexpected state Running"):
        w.clusters.start(cluster_id)


def test_ensure_cluster_is_running_starts_a_terminated_cluster(w: WorkspaceClient):
    """The SDK's ensure_cluster_is_running brings a TERMINATED cluster to RUNNING."""
    cluster_id = make_cluster(w)
    w.clusters.delete_and_wait(cluster_id)
    w.clusters.ensure_cluster_is_running(cluster_id)
    assert w.clusters.get(cluster_id).state == State.RUNNING


def test_failed_start_makes_the_waiter_raise(w: WorkspaceClient):
    """A cluster that terminates while starting makes create_and_wait raise OperationFailed."""
    with pytest.raises(OperationFailed, match=r"failed to reach RUNNING, got State\.TERMINATED"):
        w.clusters.create_and_wait(
            spark_version=SPARK,
            node_type_id=NODE,
            num_workers=1,
            spark_conf={"brickbook.emulator.fail_start": "true"},
        )


def test_get_missing_cluster_is_resource_does_not_exist(w: WorkspaceClient):
    """The 400 'Cluster ... does not exist' becomes the SDK's ResourceDoesNotExist through its override."""
    with pytest.raises(ResourceDoesNotExist, match="Cluster 0000-000000-nothere0 does not exist"):
        w.clusters.get("0000-000000-nothere0")


def test_unknown_node_type_is_invalid_parameter_value(w: WorkspaceClient):
    """An unknown node type raises InvalidParameterValue."""
    with pytest.raises(InvalidParameterValue, match=r"Node type x9\.huge is not supported"):
        w.clusters.create(spark_version=SPARK, node_type_id="x9.huge", num_workers=1)


def test_list_follows_pages_and_filters(w: WorkspaceClient):
    """list walks every page and honours filter_by.cluster_states."""
    ids = [make_cluster(w) for _ in range(3)]
    assert [c.cluster_id for c in w.clusters.list(page_size=2)] == ids
    w.clusters.delete(ids[0])
    pending = w.clusters.list(filter_by=ListClustersFilterBy(cluster_states=[State.PENDING]))
    assert {c.cluster_id for c in pending} <= set(ids[1:])


def test_node_types_and_spark_versions_feed_the_sdk_selectors(w: WorkspaceClient):
    """list_node_types and spark_versions answer well enough for select_node_type/select_spark_version."""
    assert NODE in {n.node_type_id for n in w.clusters.list_node_types().node_types or []}
    assert SPARK in {v.key for v in w.clusters.spark_versions().versions or []}
    assert w.clusters.select_node_type(local_disk=True, min_memory_gb=16, min_gpus=0) == "m5d.xlarge"
    assert w.clusters.select_spark_version(long_term_support=True) == "16.4.x-scala2.12"
