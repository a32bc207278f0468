"""Clusters tasks from the command line against the emulator, waits included, with no real sleeping.

The waiter's sleep moves both its own monotonic clock and the emulator's clock, so a cluster makes
progress exactly as fast as the waiter waits (each lifecycle step takes 1 s of emulator time).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, Emulator, run_cli
from tests.fakes import FakeTime

SPEC: dict[str, Any] = {
    "cluster_name": "etl",
    "spark_version": "15.4.x-scala2.12",
    "node_type_id": "i3.xlarge",
    "num_workers": 1,
}
FAIL_START = {"spark_conf": {"brickbook.emulator.fail_start": "true"}}


@pytest.fixture
def time_(workspace_env: Emulator, shared_time: FakeTime) -> FakeTime:
    """Waits use fake time that moves the emulator's clock along; ``time_.emulator`` is the emulator."""
    shared_time.emulator = workspace_env  # type: ignore[attr-defined]
    return shared_time


def cli_json(*args: str) -> Any:
    result = run_cli(*args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def new_cluster(time_: FakeTime, **changes: Any) -> str:
    return str(cli_json("clusters.create", "--json", json.dumps({**SPEC, **changes}))["cluster_id"])


def running_cluster(time_: FakeTime) -> str:
    cluster_id = new_cluster(time_)
    time_.emulator.clock.advance(1)
    return cluster_id


def terminated_cluster(time_: FakeTime) -> str:
    cluster_id = running_cluster(time_)
    cli_json("clusters.stop", cluster_id, "--wait")
    return cluster_id


def state_of(cluster_id: str) -> str:
    return str(cli_json("clusters.get", cluster_id)["state"])


def posts(emulator: Emulator, name: str) -> list[dict[str, object]]:
    return [r for r in emulator.requests(f"/api/2.1/clusters/{name}") if r["method"] == "POST"]


# -- create -------------------------------------------------------------------------------------


def test_create_from_inline_json_returns_the_pending_cluster(time_: FakeTime):
    """clusters.create --json '{...}' creates the cluster and returns once it is PENDING."""
    result = cli_json("clusters.create", "--json", json.dumps(SPEC))
    assert (result["action"], result["state"], result["cluster_name"]) == ("created", "PENDING", "etl")


def test_create_from_yaml_with_wait_returns_it_running(time_: FakeTime, tmp_path: Path):
    """clusters.create --file spec.yaml --wait returns once the cluster is RUNNING."""
    path = tmp_path / "cluster.yaml"
    path.write_text("spark_version: 15.4.x-scala2.12\nnode_type_id: i3.xlarge\nnum_workers: 2\n")
    result = cli_json("clusters.create", "--file", str(path), "--wait")
    assert (result["action"], result["state"]) == ("created and running", "RUNNING")
    assert time_.sleeps


def test_create_checks_the_spec_before_sending_it(time_: FakeTime):
    """A spec without spark_version is exit 2 naming the field, and nothing is sent."""
    spec = {k: v for k, v in SPEC.items() if k != "spark_version"}
    result = run_cli("clusters.create", "--json", json.dumps(spec))
    assert result.exit_code == 2
    assert "spec: spark_version is required" in result.stderr
    assert posts(time_.emulator, "create") == []


def test_create_names_a_wrongly_typed_field(time_: FakeTime):
    """num_workers 'two' is exit 2: 'spec: num_workers must be an integer >= 0, got 'two''."""
    result = run_cli("clusters.create", "--json", json.dumps({**SPEC, "num_workers": "two"}))
    assert result.exit_code == 2
    assert "spec: num_workers must be an integer >= 0, got 'two'" in result.stderr


def test_create_with_an_unknown_node_type_is_the_services_400(time_: FakeTime):
    """The service's INVALID_PARAMETER_VALUE for an unknown node type is exit 2 with its message."""
    result = run_cli(
        "clusters.create", "--json", json.dumps({**SPEC, "node_type_id": "x9.huge"}), "-o", "json"
    )
    assert result.exit_code == 2
    envelope = json.loads(result.stdout)
    assert envelope["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "Node type x9.huge is not supported" in result.stderr


# -- get / list ---------------------------------------------------------------------------------


def test_get_shows_state_and_size(time_: FakeTime):
    """clusters.get prints the cluster's state, runtime and workers."""
    cluster_id = running_cluster(time_)
    result = run_cli("clusters.get", cluster_id)
    assert result.exit_code == 0, result.stderr
    assert "RUNNING" in result.stdout and "15.4.x-scala2.12" in result.stdout


def test_get_of_a_missing_cluster_is_not_found(time_: FakeTime):
    """A missing cluster (the service's 400 'does not exist') is exit 4."""
    result = run_cli("clusters.get", "0000-000000-nothere0")
    assert result.exit_code == 4
    assert "INVALID_PARAMETER_VALUE" in result.stderr and "does not exist" in result.stderr


def test_list_shows_every_cluster(time_: FakeTime):
    """clusters.list prints one row per cluster."""
    ids = {new_cluster(time_) for _ in range(2)}
    result = run_cli("clusters.list")
    assert result.exit_code == 0, result.stderr
    assert all(cluster_id in result.stdout for cluster_id in ids)


def test_list_filters_by_state(time_: FakeTime):
    """clusters.list --state RUNNING shows only running clusters."""
    running = running_cluster(time_)
    pending = new_cluster(time_)
    rows = cli_json("clusters.list", "--state", "running")
    assert [r["cluster_id"] for r in rows] == [running]
    assert pending not in json.dumps(rows)


# -- start --------------------------------------------------------------------------------------


def test_start_waits_until_running(time_: FakeTime):
    """clusters.start waits by default and returns once the cluster is RUNNING."""
    cluster_id = terminated_cluster(time_)
    result = cli_json("clusters.start", cluster_id)
    assert (result["action"], result["state"]) == ("started", "RUNNING")


def test_start_no_wait_returns_pending(time_: FakeTime):
    """clusters.start --no-wait returns as soon as the cluster is starting."""
    cluster_id = terminated_cluster(time_)
    result = cli_json("clusters.start", cluster_id, "--no-wait")
    assert (result["action"], result["state"]) == ("started", "PENDING")


def test_start_of_a_running_cluster_says_so_and_succeeds(time_: FakeTime):
    """Starting a RUNNING cluster is exit 0, says 'already running' and sends no start."""
    cluster_id = running_cluster(time_)
    result = run_cli("clusters.start", cluster_id)
    assert result.exit_code == 0, result.stderr
    assert "already running" in result.stdout
    assert posts(time_.emulator, "start") == []


def test_start_of_a_terminating_cluster_waits_then_starts(time_: FakeTime):
    """A TERMINATING cluster is waited for until TERMINATED, then started and waited for."""
    cluster_id = running_cluster(time_)
    cli_json("clusters.stop", cluster_id)
    result = cli_json("clusters.start", cluster_id)
    assert (result["action"], result["state"]) == ("started", "RUNNING")
    assert len(posts(time_.emulator, "start")) == 1


def test_start_that_fails_is_exit_7_with_the_reason(time_: FakeTime):
    """A cluster that terminates while starting makes start exit 7 naming the termination reason."""
    cluster_id = new_cluster(time_, **FAIL_START)
    time_.emulator.clock.advance(2)
    assert state_of(cluster_id) == "TERMINATED"
    result = run_cli("clusters.start", cluster_id)
    assert result.exit_code == 7
    assert "ended TERMINATED instead of RUNNING" in result.stderr
    assert "SPARK_STARTUP_FAILURE" in result.stderr


def test_start_with_a_timeout_is_exit_8(time_: FakeTime):
    """--timeout shorter than the start is exit 8, and the cluster keeps starting."""
    cluster_id = terminated_cluster(time_)
    result = run_cli("clusters.start", cluster_id, "--timeout", "0.5")
    assert result.exit_code == 8
    assert "still PENDING" in result.stderr and "timeout 0.5s" in result.stderr
    assert sum(time_.sleeps[-1:]) <= 0.5


def test_bad_timeout_is_exit_2_before_any_request(time_: FakeTime):
    """An unreadable --timeout is a usage error and nothing is sent."""
    result = run_cli("clusters.start", "0000-000000-nothere0", "--timeout", "soon")
    assert result.exit_code == 2
    assert "--timeout" in result.stderr
    assert time_.emulator.requests("/api/2.1/clusters/") == []


# -- stop / delete / permanent-delete / restart -------------------------------------------------


def test_stop_terminates_without_waiting(time_: FakeTime):
    """clusters.stop sends clusters/delete and returns while the cluster is TERMINATING."""
    cluster_id = running_cluster(time_)
    result = cli_json("clusters.stop", cluster_id)
    assert (result["action"], result["state"]) == ("terminating", "TERMINATING")
    assert len(posts(time_.emulator, "delete")) == 1


def test_stop_with_wait_returns_terminated(time_: FakeTime):
    """clusters.stop --wait returns once the cluster is TERMINATED, with its reason."""
    cluster_id = running_cluster(time_)
    result = cli_json("clusters.stop", cluster_id, "--wait")
    assert (result["state"], result["termination_reason"]) == ("TERMINATED", "USER_REQUEST (SUCCESS)")


def test_stop_of_a_terminated_cluster_is_fine(time_: FakeTime):
    """Stopping a TERMINATED cluster is exit 0 and says it already is."""
    cluster_id = terminated_cluster(time_)
    assert cli_json("clusters.stop", cluster_id)["action"] == "already terminated"


def test_delete_terminates_and_keeps_the_cluster(time_: FakeTime):
    """clusters.delete terminates like stop: the cluster is still there afterwards."""
    cluster_id = running_cluster(time_)
    cli_json("clusters.delete", cluster_id, "--wait")
    assert state_of(cluster_id) == "TERMINATED"


def test_permanent_delete_removes_the_cluster(time_: FakeTime):
    """After clusters.permanent-delete the cluster no longer exists (exit 4 on get)."""
    cluster_id = running_cluster(time_)
    assert cli_json("clusters.permanent-delete", cluster_id)["action"] == "permanently deleted"
    assert run_cli("clusters.get", cluster_id).exit_code == 4


def test_restart_with_wait_returns_running(time_: FakeTime):
    """clusters.restart --wait returns once the restarted cluster is RUNNING."""
    cluster_id = running_cluster(time_)
    result = cli_json("clusters.restart", cluster_id, "--wait")
    assert (result["action"], result["state"]) == ("restarted", "RUNNING")


def test_restart_of_a_terminated_cluster_is_exit_5_with_a_hint(time_: FakeTime):
    """Restarting a TERMINATED cluster is the service's INVALID_STATE (exit 5), pointing to clusters.start."""
    cluster_id = terminated_cluster(time_)
    result = run_cli("clusters.restart", cluster_id)
    assert result.exit_code == 5
    assert "INVALID_STATE" in result.stderr and "use clusters.start" in result.stderr


@pytest.mark.parametrize(
    ("command", "done", "action"),
    [
        ("clusters.stop", "terminated", "terminating"),
        ("clusters.delete", "terminated", "terminating"),
        ("clusters.restart", "restarted", "restarting"),
        ("clusters.permanent-delete", "permanently_deleted", "permanently deleted"),
    ],
)
def test_mutations_without_waiting_print_one_json_value(
    time_: FakeTime, command: str, done: str, action: str
):
    """Each mutation prints one JSON object whose first key names what was done to which cluster."""
    cluster_id = running_cluster(time_)
    result = run_cli(command, cluster_id, "-o", "json")
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)  # exactly one JSON value: anything more would not parse
    assert next(iter(printed.items())) == (done, cluster_id)
    assert (printed["cluster_id"], printed["action"]) == (cluster_id, action)


def test_start_and_create_name_what_they_did(time_: FakeTime):
    """create says created, start says started (with what it found in action)."""
    created = cli_json("clusters.create", "--json", json.dumps(SPEC))
    assert created["created"] == created["cluster_id"]
    started = cli_json("clusters.start", created["cluster_id"], "--no-wait")
    assert (started["started"], started["action"]) == (created["cluster_id"], "already starting")


# -- options are checked before any request ----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["clusters.list", "--state", "BOGUS"], "--state must be one of PENDING, RUNNING, RESTARTING"),
        (["clusters.list", "--state", "RUNNING", "--state", ""], "--state must be one of"),
        (["clusters.start", "c-1", "--timeout", ""], "--timeout must be a positive duration"),
        (["clusters.start", "c-1", "--no-wait", "--timeout", "0"], "--timeout must be a positive duration"),
        (["clusters.stop", "c-1", "--timeout", "-5m"], "--timeout must be a positive duration"),
        (["clusters.delete", "c-1", "--wait", "--timeout", "   "], "--timeout must be a positive duration"),
        (["clusters.restart", "c-1", "--timeout", "zz"], "--timeout must be a positive duration"),
        (["clusters.create", "--json", json.dumps(SPEC), "--timeout", ""], "--timeout must be a positive"),
        (["clusters.create", "--json", "{}"], "spark_version is required"),
        (["clusters.get", ""], "CLUSTER_ID must be a cluster id"),
        (["clusters.stop", "a b"], "CLUSTER_ID must be a cluster id"),
        (["clusters.permanent-delete", "x\n"], "CLUSTER_ID must be a cluster id"),
    ],
)
def test_bad_options_are_exit_2_before_any_request(time_: FakeTime, args: list[str], message: str):
    """A bad state, duration or cluster id is a usage error, and nothing at all is sent."""
    result = run_cli(*args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert time_.emulator.requests("/api/") == []


def test_list_state_is_case_insensitive(time_: FakeTime):
    """--state running is RUNNING."""
    cluster_id = running_cluster(time_)
    rows = cli_json("clusters.list", "--state", "running")
    assert [r["cluster_id"] for r in rows] == [cluster_id]


# -- catalogs -----------------------------------------------------------------------------------


def test_list_node_types_prints_a_table(time_: FakeTime):
    """clusters.list-node-types prints node types with cores and memory."""
    result = run_cli("clusters.list-node-types")
    assert result.exit_code == 0, result.stderr
    assert "i3.xlarge" in result.stdout and "MEMORY_GB" in result.stdout


def test_spark_versions_prints_keys_and_names(time_: FakeTime):
    """clusters.spark-versions prints each runtime key with its name."""
    result = run_cli("clusters.spark-versions")
    assert result.exit_code == 0, result.stderr
    assert "15.4.x-scala2.12" in result.stdout and "15.4 LTS" in result.stdout


def test_events_lists_every_page_newest_first_with_filters(time_: FakeTime):
    """clusters.events follows every page; --type filters, --limit stops, -o text is a table."""
    cluster_id = running_cluster(time_)
    with httpx.Client(
        base_url=time_.emulator.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as http:
        for _ in range(520):  # more than one page of 500
            assert http.post("/api/2.1/clusters/pin", json={"cluster_id": cluster_id}).status_code == 200
    every = cli_json("clusters.events", cluster_id)
    assert len(every) == 522
    assert len(posts(time_.emulator, "events")) == 2
    assert [e["type"] for e in every[-2:]] == ["RUNNING", "CREATING"]
    assert [e["type"] for e in cli_json("clusters.events", cluster_id, "--type", "running")] == ["RUNNING"]
    assert len(cli_json("clusters.events", cluster_id, "--limit", "3")) == 3
    text = run_cli("clusters.events", cluster_id, "--type", "CREATING")
    assert text.exit_code == 0, text.stderr
    assert "CREATING" in text.stdout and "TYPE" in text.stdout


def test_events_refuses_bad_input_before_any_request(time_: FakeTime):
    for args, text in [
        (["not an id"], "CLUSTER_ID must be a cluster id"),
        (["0000-000000-abcdefgh", "--type", "RUN NING"], "--type must be an event type"),
        (["0000-000000-abcdefgh", "--limit", "0"], "--limit must be between 1 and 1000000"),
        (["0000-000000-abcdefgh", "--since", "last tuesday"], "--since must be a duration"),
    ]:
        result = run_cli("clusters.events", *args)
        assert result.exit_code == 2, result.stderr
        assert text in result.stderr
    assert posts(time_.emulator, "events") == []
