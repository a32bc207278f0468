"""The official databricks-sdk (0.162.0) drives cluster events, instance pools and cluster policies."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, ResourceDoesNotExist
from databricks.sdk.service.compute import EventType, GetEventsOrder, InstancePoolState

from tests.emulator.harness import ADMIN, ADMIN_TOKEN, Emu, serving

SPARK = "15.4.x-scala2.12"
NODE = "i3.xlarge"


@pytest.fixture(scope="module")
def compute_emu() -> Iterator[Emu]:
    with serving() as emu:
        yield emu


@pytest.fixture
def w(compute_emu: Emu, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> WorkspaceClient:
    """A PAT client for the admin, with no Databricks setting leaking in from the machine."""
    for name in list(os.environ):
        if name.startswith(("DATABRICKS_", "ARM_", "GOOGLE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "no-such-databrickscfg"))
    assert compute_emu.control("POST", "reset").status_code == 200
    return WorkspaceClient(host=compute_emu.url, token=ADMIN_TOKEN)


def test_events_iterates_every_page(w: WorkspaceClient, compute_emu: Emu):
    """w.clusters.events follows next_page to the end; filters and order reach the emulator."""
    cluster_id = str(w.clusters.create(spark_version=SPARK, node_type_id=NODE, num_workers=1).cluster_id)
    compute_emu.clock.advance(1)
    for _ in range(30):
        w.clusters.pin(cluster_id)
        w.clusters.unpin(cluster_id)
    every = list(w.clusters.events(cluster_id, limit=7))
    assert len(every) == 62
    assert every[-1].type == EventType.CREATING and every[-1].details.user == ADMIN
    oldest_first = list(
        w.clusters.events(cluster_id, order=GetEventsOrder.ASC, event_types=[EventType.RUNNING])
    )
    assert [event.type for event in oldest_first] == [EventType.RUNNING]
    assert oldest_first[0].details.current_num_workers == 1


def test_instance_pools_round_trip(w: WorkspaceClient):
    """w.instance_pools create/get/list/edit/delete; a cluster takes its nodes from the pool."""
    created = w.instance_pools.create(instance_pool_name="sdk-pool", node_type_id=NODE, min_idle_instances=2)
    pool_id = str(created.instance_pool_id)
    got = w.instance_pools.get(pool_id)
    assert (got.instance_pool_name, got.node_type_id, got.state) == (
        "sdk-pool",
        NODE,
        InstancePoolState.ACTIVE,
    )
    assert got.stats is not None and got.stats.idle_count == 2
    assert [p.instance_pool_id for p in w.instance_pools.list()] == [pool_id]
    w.instance_pools.edit(pool_id, "sdk-pool-2", NODE, max_capacity=10)
    assert w.instance_pools.get(pool_id).max_capacity == 10
    cluster_id = str(
        w.clusters.create(spark_version=SPARK, instance_pool_id=pool_id, num_workers=1).cluster_id
    )
    assert w.clusters.get(cluster_id).node_type_id == NODE
    with pytest.raises(InvalidParameterValue, match="Node type nope is not supported"):
        w.instance_pools.create(instance_pool_name="bad", node_type_id="nope")
    w.instance_pools.delete(pool_id)
    with pytest.raises(ResourceDoesNotExist):
        w.instance_pools.get(pool_id)
    with pytest.raises(InvalidParameterValue, match="does not exist"):
        w.clusters.create(spark_version=SPARK, instance_pool_id=pool_id, num_workers=1)


def test_cluster_policies_round_trip_and_refusal(w: WorkspaceClient):
    """w.cluster_policies create/get/list/edit/delete; a cluster that breaks its policy is refused."""
    rules = {
        "autotermination_minutes": {"type": "range", "maxValue": 60},
        "spark_version": {"type": "fixed", "value": SPARK},
    }
    policy_id = str(w.cluster_policies.create(name="sdk-policy", definition=json.dumps(rules)).policy_id)
    got = w.cluster_policies.get(policy_id)
    assert (got.name, got.creator_user_name, json.loads(str(got.definition))) == ("sdk-policy", ADMIN, rules)
    assert [p.policy_id for p in w.cluster_policies.list()] == [policy_id]
    with pytest.raises(InvalidParameterValue, match="Validation failed for autotermination_minutes"):
        w.clusters.create(
            spark_version=SPARK,
            node_type_id=NODE,
            num_workers=1,
            autotermination_minutes=120,
            policy_id=policy_id,
        )
    ok = w.clusters.create(
        spark_version=SPARK, node_type_id=NODE, num_workers=1, autotermination_minutes=30, policy_id=policy_id
    )
    assert w.clusters.get(str(ok.cluster_id)).policy_id == policy_id
    w.cluster_policies.edit(policy_id, name="sdk-policy-2", definition="{}")
    assert w.cluster_policies.get(policy_id).name == "sdk-policy-2"
    w.cluster_policies.delete(policy_id)
    with pytest.raises(ResourceDoesNotExist):
        w.cluster_policies.get(policy_id)
