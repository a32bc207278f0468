"""ops.clusters against the emulator: plans that read only, applies that act, waits on fake time.

Each emulator lifecycle step takes 1 s of its (fake) clock; the context's sleep drags that clock along,
so a cluster comes up exactly as fast as a wait waits.
"""

from __future__ import annotations

import pytest

from brickbook.api.clusters import State
from brickbook.change import Action, Change
from brickbook.context import Context
from brickbook.errors import InvalidState, RunFailed, WaitTimeout
from brickbook.ops import clusters
from tests.conftest import Emulator
from tests.fakes import FakeTime
from tests.ops.emulator_api import CLUSTER, api, posts

BASE = "/api/2.1/clusters"


def new_cluster(emulator: Emulator, **spec: object) -> str:
    return str(api(emulator, "POST", f"{BASE}/create", {**CLUSTER, **spec})["cluster_id"])


def running_cluster(emulator: Emulator, **spec: object) -> str:
    cluster_id = new_cluster(emulator, **spec)
    emulator.clock.advance(1)
    return cluster_id


def terminated_cluster(emulator: Emulator) -> str:
    cluster_id = running_cluster(emulator)
    api(emulator, "POST", f"{BASE}/delete", {"cluster_id": cluster_id})
    emulator.clock.advance(1)
    return cluster_id


def writes(emulator: Emulator) -> list[dict[str, object]]:
    return posts(emulator, f"{BASE}/")


def test_get_state_reads_the_state(ctx: Context, emulator: Emulator):
    """get_state follows the cluster through its lifecycle."""
    cluster_id = new_cluster(emulator)
    assert clusters.get_state(ctx, cluster_id) == State.PENDING
    emulator.clock.advance(1)
    assert clusters.get_state(ctx, cluster_id) == State.RUNNING


# -- running ---------------------------------------------------------------------------------------


def test_plan_running_for_each_state_reads_only(ctx: Context, emulator: Emulator):
    """Running or coming up is unchanged; TERMINATED and TERMINATING are an update of the state."""
    running, stopped, stopping = (
        running_cluster(emulator),
        terminated_cluster(emulator),
        running_cluster(emulator),
    )
    api(emulator, "POST", f"{BASE}/delete", {"cluster_id": stopping})
    pending = new_cluster(emulator)
    before = len(writes(emulator))
    plans = {c: clusters.plan_cluster_running(ctx, c) for c in (running, pending, stopped, stopping)}
    assert len(writes(emulator)) == before
    assert plans[running] == Change(Action.UNCHANGED, f"cluster {running}", reason="already running")
    assert plans[pending] == Change(Action.UNCHANGED, f"cluster {pending}", reason="already starting")
    assert (plans[stopped].action, plans[stopped].fields) == (Action.UPDATE, ("state",))
    assert plans[stopping].reason == "TERMINATING: start it once it has terminated"
    assert all(plan.payload == cluster_id for cluster_id, plan in plans.items())


def test_apply_running_starts_and_waits(ctx: Context, emulator: Emulator, fake_time: FakeTime):
    """Applying the plan for a TERMINATED cluster starts it; with wait it returns once RUNNING."""
    cluster_id = terminated_cluster(emulator)
    clusters.apply_cluster_running(
        ctx, clusters.plan_cluster_running(ctx, cluster_id), wait=True, timeout=None
    )
    assert clusters.get_state(ctx, cluster_id) == State.RUNNING
    assert len(posts(emulator, f"{BASE}/start")) == 1 and fake_time.sleeps


def test_apply_running_of_an_unchanged_plan_sends_nothing(ctx: Context, emulator: Emulator):
    """An unchanged plan starts nothing; with wait it still waits for a PENDING cluster to run."""
    cluster_id = new_cluster(emulator)
    clusters.apply_cluster_running(
        ctx, clusters.plan_cluster_running(ctx, cluster_id), wait=True, timeout=None
    )
    assert clusters.get_state(ctx, cluster_id) == State.RUNNING
    assert posts(emulator, f"{BASE}/start") == []


def test_apply_running_of_a_terminating_cluster_waits_then_starts(ctx: Context, emulator: Emulator):
    """A TERMINATING cluster is waited for until TERMINATED, then started once."""
    cluster_id = running_cluster(emulator)
    api(emulator, "POST", f"{BASE}/delete", {"cluster_id": cluster_id})
    settled = clusters.ensure_running(ctx, cluster_id, wait=True, timeout=None)
    assert settled.change.action is Action.UPDATE and settled.cluster.state == State.RUNNING
    assert len(posts(emulator, f"{BASE}/start")) == 1


def test_a_cluster_that_fails_to_start_is_run_failed(ctx: Context, emulator: Emulator):
    """A start that ends TERMINATED raises RunFailed (exit 7) naming the termination reason."""
    cluster_id = new_cluster(emulator, spark_conf={"brickbook.emulator.fail_start": "true"})
    emulator.clock.advance(2)
    with pytest.raises(RunFailed) as info:
        clusters.ensure_running(ctx, cluster_id, wait=True, timeout=None)
    assert info.value.exit_code == 7
    assert "ended TERMINATED instead of RUNNING" in info.value.message
    assert "SPARK_STARTUP_FAILURE" in info.value.message


def test_one_deadline_bounds_all_of_the_apply(ctx: Context, emulator: Emulator, fake_time: FakeTime):
    """The timeout covers waiting for TERMINATED and then for RUNNING together (WaitTimeout, exit 8)."""
    cluster_id = running_cluster(emulator)
    api(emulator, "POST", f"{BASE}/delete", {"cluster_id": cluster_id})
    with pytest.raises(WaitTimeout) as info:
        clusters.ensure_running(ctx, cluster_id, wait=True, timeout=1.5)
    assert info.value.exit_code == 8
    assert sum(fake_time.sleeps) == pytest.approx(1.5)


# -- terminated ------------------------------------------------------------------------------------


def test_plan_terminated_for_each_state(ctx: Context, emulator: Emulator):
    """TERMINATED and TERMINATING are unchanged; a running cluster is a delete (terminate)."""
    running, stopped = running_cluster(emulator), terminated_cluster(emulator)
    stopping = running_cluster(emulator)
    api(emulator, "POST", f"{BASE}/delete", {"cluster_id": stopping})
    assert clusters.plan_terminated(ctx, running) == Change(
        Action.DELETE, f"cluster {running}", reason="RUNNING: terminate it"
    )
    assert clusters.plan_terminated(ctx, stopped).reason == "already terminated"
    assert clusters.plan_terminated(ctx, stopping).reason == "already terminating"


def test_apply_terminated_terminates_and_waits(ctx: Context, emulator: Emulator):
    """Applying a delete sends clusters/delete; with wait it returns once TERMINATED."""
    cluster_id = running_cluster(emulator)
    clusters.apply_terminated(ctx, clusters.plan_terminated(ctx, cluster_id), wait=True, timeout=None)
    assert clusters.get_state(ctx, cluster_id) == State.TERMINATED
    assert len(posts(emulator, f"{BASE}/delete")) == 1


def test_apply_terminated_of_an_unchanged_plan_sends_nothing(ctx: Context, emulator: Emulator):
    """A cluster already terminated is left alone."""
    cluster_id = terminated_cluster(emulator)
    before = len(writes(emulator))
    settled = clusters.ensure_terminated(ctx, cluster_id, wait=True, timeout=None)
    assert (settled.change.action, settled.cluster.state) == (Action.UNCHANGED, State.TERMINATED)
    assert len(writes(emulator)) == before


def test_apply_refuses_a_change_that_is_not_a_cluster_plan(ctx: Context):
    """A Change without a cluster id in its payload is a programming error."""
    with pytest.raises(TypeError, match="not a cluster plan"):
        clusters.apply_terminated(ctx, Change(Action.DELETE, "job 'x'"), wait=False, timeout=None)


# -- create and restart ----------------------------------------------------------------------------


def test_create_with_wait_returns_it_running(ctx: Context, emulator: Emulator):
    """create returns the new cluster; with wait once it is RUNNING."""
    assert clusters.create(ctx, CLUSTER, wait=False, timeout=None).state == State.PENDING
    assert clusters.create(ctx, CLUSTER, wait=True, timeout=None).state == State.RUNNING


def test_restart_of_a_terminated_cluster_is_invalid_state_with_a_hint(ctx: Context, emulator: Emulator):
    """The service's INVALID_STATE (exit 5) comes through with a hint to start it instead."""
    cluster_id = terminated_cluster(emulator)
    with pytest.raises(InvalidState) as info:
        clusters.restart(ctx, cluster_id, wait=False, timeout=None)
    assert (info.value.exit_code, info.value.error_code) == (5, "INVALID_STATE")
    assert "Terminated" in info.value.message and info.value.hint and "start" in info.value.hint


def test_restart_with_wait_returns_it_running(ctx: Context, emulator: Emulator):
    """restart of a RUNNING cluster returns once it is RUNNING again."""
    cluster_id = running_cluster(emulator)
    assert clusters.restart(ctx, cluster_id, wait=True, timeout=None).state == State.RUNNING
    assert len(posts(emulator, f"{BASE}/restart")) == 1
