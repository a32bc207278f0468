"""The cluster janitor's plan and apply against the emulator, with clusters of several states and ages.

The emulator's fake clock ages the clusters (``emulator.clock.advance``); ``now`` is the context's wall
clock, which is that same clock.
"""

from __future__ import annotations

import pytest

from brickbook.change import Action, Change
from brickbook.context import Context
from brickbook.ops import clusters
from brickbook.ops.janitor import format_span
from tests.conftest import Emulator
from tests.ops.emulator_api import CLUSTER, api, create_job, notebook_task, posts, put_notebook

BASE = "/api/2.1/clusters"
HOUR = 3600.0


def cluster(emulator: Emulator, name: str, **spec: object) -> str:
    """Create a cluster named ``name``; it runs one (fake) second later."""
    return str(
        api(emulator, "POST", f"{BASE}/create", {**CLUSTER, "cluster_name": name, **spec})["cluster_id"]
    )


def plan(ctx: Context, **options: object) -> list[Change]:
    arguments: dict[str, object] = {
        "max_running": None,
        "max_idle": None,
        "tags": {},
        "name_pattern": None,
        "keep_tag": "keep",
        "now": ctx.wall(),
        **options,
    }
    return clusters.plan_janitor(ctx, **arguments)  # type: ignore[arg-type]


def reasons(changes: list[Change]) -> dict[str, tuple[str, str]]:
    return {c.target.split("'")[1]: (c.action.value, c.reason) for c in changes}


def test_long_running_clusters_are_terminated_and_kept_ones_are_not(ctx: Context, emulator: Emulator):
    """Over the running limit is a delete with its reason; tagged keep is unchanged; others within limits."""
    old = cluster(emulator, "old")
    cluster(emulator, "kept", custom_tags={"keep": ""})
    emulator.clock.advance(3 * HOUR + 42 * 60)
    cluster(emulator, "young")
    emulator.clock.advance(30 * 60)
    changes = plan(ctx, max_running=3 * HOUR)
    assert reasons(changes) == {
        "old": ("delete", "running 4h12m > 3h"),
        "kept": ("unchanged", "tagged keep"),
        "young": ("unchanged", "within limits (running 30m, idle 30m)"),
    }
    assert next(c for c in changes if c.action is Action.DELETE).payload == old


def test_idle_counts_from_the_last_restart(ctx: Context, emulator: Emulator):
    """A cluster restarted 30 minutes ago has run for 3h30m but idled only 30m."""
    cluster_id = cluster(emulator, "restarted")
    emulator.clock.advance(3 * HOUR)
    api(emulator, "POST", f"{BASE}/restart", {"cluster_id": cluster_id})
    emulator.clock.advance(30 * 60)
    assert reasons(plan(ctx, max_running=4 * HOUR, max_idle=HOUR)) == {
        "restarted": ("unchanged", "within limits (running 3h30m, idle 29m59s)")
    }
    assert reasons(plan(ctx, max_idle=20 * 60)) == {"restarted": ("delete", "idle 29m59s > 20m")}


def test_only_running_all_purpose_clusters_that_match_are_candidates(ctx: Context, emulator: Emulator):
    """Terminated, pending, job clusters and clusters outside the tag and name filters are not planned."""
    cluster(emulator, "etl-a", custom_tags={"team": "etl"})
    cluster(emulator, "etl-b", custom_tags={"team": "web"})
    cluster(emulator, "web-a", custom_tags={"team": "etl"})
    stopped = cluster(emulator, "etl-stopped", custom_tags={"team": "etl"})
    emulator.clock.advance(2)
    api(emulator, "POST", f"{BASE}/delete", {"cluster_id": stopped})
    put_notebook(emulator, "/Shared/forever", "import time\ntime.sleep(600)")
    job_id = create_job(emulator, {"name": "etl-job", "tasks": [notebook_task("t", "/Shared/forever")]})
    api(emulator, "POST", "/api/2.2/jobs/run-now", {"job_id": job_id})
    emulator.clock.advance(5 * HOUR)
    cluster(emulator, "etl-pending", custom_tags={"team": "etl"})
    listed = api(emulator, "GET", f"{BASE}/list")["clusters"]
    assert {(c["cluster_source"], c["state"]) for c in listed} >= {("JOB", "RUNNING"), ("API", "PENDING")}
    changes = plan(ctx, max_running=HOUR, tags={"team": "etl"}, name_pattern="etl-*")
    assert reasons(changes) == {"etl-a": ("delete", "running 5h > 1h")}
    assert set(reasons(plan(ctx, max_running=HOUR))) == {"etl-a", "etl-b", "web-a"}
    api(emulator, "POST", "/api/2.2/jobs/runs/cancel-all", {"job_id": job_id})


def test_default_tags_count_as_tags(ctx: Context, emulator: Emulator):
    """The service's default tags (Creator, ClusterName, ...) can be filtered on too."""
    cluster(emulator, "mine")
    emulator.clock.advance(2 * HOUR)
    assert reasons(plan(ctx, max_running=HOUR, tags={"Creator": "admin@example.com"})) == {
        "mine": ("delete", "running 2h > 1h")
    }
    assert plan(ctx, max_running=HOUR, tags={"Creator": "alice@example.com"}) == []


def test_planning_reads_only_and_apply_terminates_the_deletes(ctx: Context, emulator: Emulator):
    """The plan sends no write; apply terminates exactly the planned deletes and reports each change."""
    old = cluster(emulator, "old")
    kept = cluster(emulator, "kept", custom_tags={"keep": "forever"})
    emulator.clock.advance(2 * HOUR)
    setup = len(posts(emulator, f"{BASE}/"))
    changes = plan(ctx, max_idle=HOUR)
    assert len(posts(emulator, f"{BASE}/")) == setup
    done = clusters.apply_janitor(ctx, changes)
    assert done == changes
    assert [r["path"] for r in posts(emulator, f"{BASE}/")[setup:]] == [f"{BASE}/delete"]
    states = {c: api(emulator, "GET", f"{BASE}/get", {"cluster_id": c})["state"] for c in (old, kept)}
    assert states == {old: "TERMINATING", kept: "RUNNING"}


def test_apply_reports_clusters_that_stopped_or_vanished_meanwhile(ctx: Context, emulator: Emulator):
    """A cluster terminated or removed between plan and apply is reported unchanged, not terminated."""
    stopped, gone = cluster(emulator, "stopped"), cluster(emulator, "gone")
    emulator.clock.advance(2 * HOUR)
    changes = plan(ctx, max_running=HOUR)
    api(emulator, "POST", f"{BASE}/delete", {"cluster_id": stopped})
    api(emulator, "POST", f"{BASE}/permanent-delete", {"cluster_id": gone})
    before = len(posts(emulator, f"{BASE}/"))
    assert reasons(clusters.apply_janitor(ctx, changes)) == {
        "gone": ("unchanged", "gone"),
        "stopped": ("unchanged", "already terminating"),
    }
    assert len(posts(emulator, f"{BASE}/")) == before


def test_a_limit_is_required(ctx: Context):
    """Without max_running or max_idle there is nothing to judge by: a programming error."""
    with pytest.raises(ValueError, match="max_running, max_idle or both"):
        plan(ctx)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (15_120, "4h12m"),
        (10_800, "3h"),
        (3_660, "1h01m"),
        (2_700, "45m"),
        (90, "1m30s"),
        (20.9, "20s"),
        (-5, "0s"),
    ],
)
def test_spans_read_as_people_write_them(seconds: float, text: str):
    """Durations in reasons are hours and minutes, minutes and seconds, or seconds."""
    assert format_span(seconds) == text
