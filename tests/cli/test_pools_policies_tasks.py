"""Instance pool and cluster policy tasks from the command line against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import Emulator, run_cli


def cli_json(*args: str) -> Any:
    result = run_cli(*args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_pools_create_list_get_delete(workspace_env: Emulator, tmp_path: Path):
    spec = tmp_path / "pool.yaml"
    spec.write_text("instance_pool_name: warm\nnode_type_id: i3.xlarge\nmin_idle_instances: 2\n")
    created = cli_json("pools.create", "--file", str(spec))
    pool_id = created["instance_pool_id"]
    assert [p["instance_pool_id"] for p in cli_json("pools.list")] == [pool_id]
    assert cli_json("pools.get", pool_id)["stats"]["idle_count"] == 2
    table = run_cli("pools.list")
    assert table.exit_code == 0 and "warm" in table.stdout and "NODE_TYPE_ID" in table.stdout
    assert cli_json("pools.delete", pool_id) == {"deleted": pool_id, "instance_pool_id": pool_id}
    gone = run_cli("pools.get", pool_id)
    assert gone.exit_code != 0 and "does not exist" in gone.stderr


def test_pools_bad_input_is_refused_before_any_request(workspace_env: Emulator):
    for args, text in [
        (["pools.get", "has space"], "POOL_ID must be an instance pool id"),
        (["pools.create", "--json", '{"node_type_id": "i3.xlarge"}'], "needs instance_pool_name"),
        (["pools.create"], "exactly one of --json"),
    ]:
        result = run_cli(*args)
        assert result.exit_code == 2, result.stderr
        assert text in result.stderr
    assert workspace_env.requests("/api/2.0/instance-pools") == []
    remote = run_cli("pools.create", "--json", '{"instance_pool_name": "x", "node_type_id": "huge.box"}')
    assert remote.exit_code == 2 and "Node type huge.box is not supported" in remote.stderr


def test_policies_create_list_get_delete(workspace_env: Emulator):
    rules = {"autotermination_minutes": {"type": "range", "maxValue": 60}}
    created = cli_json("policies.create", "small", "--json", json.dumps(rules), "--description", "d")
    policy_id = created["policy_id"]
    got = cli_json("policies.get", policy_id)
    assert (got["name"], json.loads(got["definition"]), got["description"]) == ("small", rules, "d")
    assert [p["policy_id"] for p in cli_json("policies.list")] == [policy_id]
    assert cli_json("policies.delete", policy_id)["deleted"] == policy_id
    assert cli_json("policies.list") == []


def test_policies_bad_input_is_refused(workspace_env: Emulator):
    for args, text in [
        (["policies.get", "../etc"], "POLICY_ID must be a cluster policy id"),
        (["policies.create", "", "--json", "{}"], "NAME must be 1 to 100"),
        (["policies.create", "p", "--json", "[1]"], "must be an object"),
    ]:
        result = run_cli(*args)
        assert result.exit_code == 2, result.stderr
        assert text in result.stderr
    assert workspace_env.requests("/api/2.0/policies") == []
    bad = run_cli("policies.create", "p", "--json", '{"x": {"type": "sometimes"}}')
    assert bad.exit_code == 2 and "x has no valid type" in bad.stderr
