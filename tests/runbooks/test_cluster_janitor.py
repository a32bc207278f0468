"""runbook.cluster-janitor against the emulator: clusters of several states and ages (fake clock)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Emulator, _runtime
from tests.fakes import FakeTime
from tests.hostile.table import mutations
from tests.runbooks.conftest import api
from tests.runbooks.test_deploy import Result, run

CLUSTERS = "/api/2.1/clusters"
SPEC = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
HOUR = 3600.0


@dataclass
class Fleet:
    """Cluster ids by role: what the janitor must terminate and what it must leave alone."""

    old: str  # running 10h
    young: str  # running 1h
    kept: str  # running 10h, tagged keep
    stopped: str  # terminated long ago
    old_data: str  # running 10h, tagged team=data, named etl-nightly
    state: Path

    def janitor(self, *args: str) -> Result:
        return run("runbook.cluster-janitor", "--state-dir", str(self.state), "-o", "json", *args)


def create(emulator: Emulator, name: str, **tags: str) -> str:
    body = {**SPEC, "cluster_name": name, "custom_tags": tags} if tags else {**SPEC, "cluster_name": name}
    return str(api(emulator, "POST", f"{CLUSTERS}/create", body)["cluster_id"])


def state_of(emulator: Emulator, cluster_id: str) -> str:
    return str(api(emulator, "GET", f"{CLUSTERS}/get", {"cluster_id": cluster_id})["state"])


@pytest.fixture
def fleet(
    workspace_env: Emulator, shared_time: FakeTime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Fleet:
    """Five clusters whose ages come from the emulator's clock, which is also the runbook's wall clock."""
    monkeypatch.setitem(_runtime, "wall", workspace_env.clock)
    emulator = workspace_env
    stopped = create(emulator, "stopped")
    old = create(emulator, "old")
    kept = create(emulator, "kept", keep="yes")
    old_data = create(emulator, "etl-nightly", team="data")
    emulator.clock.advance(9 * HOUR)
    api(emulator, "POST", f"{CLUSTERS}/delete", {"cluster_id": stopped})
    young = create(emulator, "young")
    emulator.clock.advance(1 * HOUR)
    for cluster_id in (old, kept, old_data, young):
        assert state_of(emulator, cluster_id) == "RUNNING"
    assert state_of(emulator, stopped) == "TERMINATED"
    emulator.control("DELETE", "requests")
    return Fleet(
        old=old, young=young, kept=kept, stopped=stopped, old_data=old_data, state=tmp_path / "state"
    )


def changes(result: Result) -> list[dict[str, Any]]:
    (step,) = result.report["steps"]
    found: list[dict[str, Any]] = step["changes"]
    return found


def deleted(result: Result, fleet: Fleet) -> set[str]:
    """The roles of the clusters the plan terminates (a delete change naming the cluster's id)."""
    roles = {"old": fleet.old, "young": fleet.young, "kept": fleet.kept, "stopped": fleet.stopped}
    roles["old_data"] = fleet.old_data
    targets = [c["target"] for c in changes(result) if c["action"] == "delete"]
    return {role for role, cluster_id in roles.items() if any(cluster_id in target for target in targets)}


def test_without_apply_it_only_prints_the_plan(fleet: Fleet, workspace_env: Emulator):
    """The plan names the clusters over the limit; nothing is terminated and no state is written."""
    result = fleet.janitor("--max-running", "8h")
    assert result.exit_code == 0, result.stderr
    report = result.report
    assert report["dry_run"] is True and report["status"] == "planned"
    assert report["steps"][0]["name"] == "no cluster runs longer than 8h"
    assert report["steps"][0]["outcome"] == "planned"
    assert deleted(result, fleet) == {"old", "old_data"}
    assert mutations(workspace_env) == []
    assert state_of(workspace_env, fleet.old) == "RUNNING"
    assert not fleet.state.exists()


def test_a_kept_cluster_is_planned_unchanged_with_the_reason(fleet: Fleet):
    """A cluster tagged keep is in the plan as unchanged, saying why."""
    result = fleet.janitor("--max-running", "8h")
    (kept,) = [c for c in changes(result) if fleet.kept in c["target"]]
    assert kept["action"] == "unchanged" and "keep" in kept["reason"]


def test_apply_terminates_only_clusters_over_the_limit(fleet: Fleet, workspace_env: Emulator):
    """With --apply the old clusters terminate; the young, the kept and the stopped one are untouched."""
    result = fleet.janitor("--max-running", "8h", "--apply")
    assert result.exit_code == 0, result.stderr
    assert result.report["status"] == "succeeded" and result.report["steps"][0]["outcome"] == "changed"
    assert deleted(result, fleet) == {"old", "old_data"}
    assert state_of(workspace_env, fleet.old) in ("TERMINATING", "TERMINATED")
    assert state_of(workspace_env, fleet.old_data) in ("TERMINATING", "TERMINATED")
    assert state_of(workspace_env, fleet.young) == "RUNNING"
    assert state_of(workspace_env, fleet.kept) == "RUNNING"
    terminated = {str(e["path"]) for e in workspace_env.requests(f"{CLUSTERS}/delete")}
    assert len(workspace_env.requests(f"{CLUSTERS}/delete")) == 2 and terminated == {f"{CLUSTERS}/delete"}


def test_a_second_apply_has_nothing_left_to_do(fleet: Fleet, workspace_env: Emulator):
    """Once the old clusters are terminated, the janitor's step is unchanged."""
    assert fleet.janitor("--max-running", "8h", "--apply").exit_code == 0
    workspace_env.control("DELETE", "requests")
    result = fleet.janitor("--max-running", "8h", "--apply", "--key", "again")
    assert result.exit_code == 0, result.stderr
    assert result.report["steps"][0]["outcome"] == "unchanged"
    assert mutations(workspace_env) == []


def test_tag_and_name_pattern_narrow_the_candidates(fleet: Fleet, workspace_env: Emulator):
    """--tag team=data --name-pattern 'etl-*' leaves every other old cluster alone."""
    result = fleet.janitor("--max-running", "8h", "--tag", "team=data", "--name-pattern", "etl-*", "--apply")
    assert result.exit_code == 0, result.stderr
    assert result.report["steps"][0]["name"] == "no cluster tagged team=data named etl-* runs longer than 8h"
    assert deleted(result, fleet) == {"old_data"}
    assert state_of(workspace_env, fleet.old) == "RUNNING"


def test_another_keep_tag_protects_other_clusters(fleet: Fleet, workspace_env: Emulator):
    """--keep-tag team keeps the team's cluster; the default keep tag no longer protects 'kept'."""
    result = fleet.janitor("--max-running", "8h", "--keep-tag", "team")
    assert deleted(result, fleet) == {"old", "kept"}


def test_dry_run_with_apply_is_still_a_dry_run(fleet: Fleet, workspace_env: Emulator):
    """--apply --dry-run plans only: --dry-run is never overridden."""
    result = fleet.janitor("--max-running", "8h", "--apply", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.report["dry_run"] is True
    assert mutations(workspace_env) == []


def test_the_text_report_shows_the_plan(fleet: Fleet):
    """Without -o json the plan is readable text naming what would be terminated."""
    result = run("runbook.cluster-janitor", "--state-dir", str(fleet.state), "--max-running", "8h")
    assert result.exit_code == 0, result.stderr
    assert "delete" in result.stdout and fleet.old in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), r"give --max-running or --max-idle"),
        (("--max-running", "8x"), r"--max-running must be a positive duration"),
        (("--max-idle", "0"), r"--max-idle must be a positive duration"),
        (("--max-idle", ""), r"--max-idle must be a positive duration"),
        (("--max-running", "8h", "--tag", "team"), r"--tag must be KEY=VALUE"),
        (("--max-running", "8h", "--tag", "=data"), r"--tag must be KEY=VALUE"),
        (("--max-running", "8h", "--keep-tag", " "), r"--keep-tag must name a tag"),
        (("--max-running", "8h", "--name-pattern", "a\nb"), r"--name-pattern must be a glob"),
    ],
    ids=["no-limit", "bad-duration", "zero", "empty", "tag-no-value", "tag-no-key", "keep-tag", "pattern"],
)
def test_bad_options_exit_2_before_any_request(
    workspace_env: Emulator, tmp_path: Path, args: tuple[str, ...], message: str
):
    """Every option is checked before the state dir or any request: exit 2 with one line."""
    workspace_env.control("DELETE", "requests")
    result = run("runbook.cluster-janitor", "--state-dir", str(tmp_path / "state"), "--apply", *args)
    assert result.exit_code == 2, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert re.search(message, line), line
    assert workspace_env.requests("/api/") == []
    assert not (tmp_path / "state").exists()


def test_max_idle_counts_from_the_last_start_when_no_activity_is_known(fleet: Fleet, workspace_env: Emulator):
    """Without last_activity_time (the emulator sends none) idle counts from the start: 10h idle."""
    result = fleet.janitor("--max-idle", "2h")
    assert result.exit_code == 0, result.stderr
    assert result.report["steps"][0]["name"] == "no cluster idles longer than 2h"
    assert deleted(result, fleet) == {"old", "old_data"}
    (old,) = [c for c in changes(result) if fleet.old in c["target"]]
    assert old["reason"].startswith("idle 10h")


def test_no_matching_cluster_is_unchanged_and_says_so(fleet: Fleet):
    """When no running cluster matches the filters, the step is unchanged (not planned) and says why."""
    result = fleet.janitor("--max-running", "8h", "--name-pattern", "nothing-*")
    (step,) = result.report["steps"]
    assert (step["outcome"], step["reason"], step["changes"]) == (
        "unchanged",
        "no running cluster matches",
        [],
    )


def test_every_option_has_a_usable_flag(workspace_env: Emulator):
    """The help lists --name-pattern and --keep-tag, and no option got `--` as its short flag."""
    result = run("--help", "runbook.cluster-janitor")
    assert result.exit_code == 0
    assert "--name-pattern=STRING" in result.stdout and "--keep-tag=STRING" in result.stdout
    assert "--=" not in result.stdout and "--," not in result.stdout
