"""Library tasks from the command line against the emulator: install (with --wait), status, uninstall.

Installs run pip for real in the emulator's background; ``--wait`` polls through the shared waiter on
fake time, which also moves the emulator's clock (so a terminated cluster's start progresses).
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, Emulator, run_cli
from tests.fakes import FakeTime
from tests.wheels import offline_pip, wheel

SPEC: dict[str, Any] = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 0}


class RealTime(FakeTime):
    """Fake time that also lets a little real time pass per sleep: the installs are real processes."""

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        time.sleep(0.05)


@pytest.fixture
def env(workspace_env: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    from tests.conftest import _runtime

    fake = RealTime(follow=workspace_env.clock)
    monkeypatch.setitem(_runtime, "clock", fake.clock)
    monkeypatch.setitem(_runtime, "sleep", fake.sleep)
    return workspace_env


def cli_json(*args: str) -> Any:
    result = run_cli(*args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def running_cluster(emu: Emulator) -> str:
    cluster_id = str(cli_json("clusters.create", "--json", json.dumps(SPEC))["cluster_id"])
    emu.clock.advance(1)
    assert cli_json("clusters.get", cluster_id)["state"] == "RUNNING"
    return cluster_id


def put_wheel(emu: Emulator, **kwargs: Any) -> str:
    name, data = wheel(**kwargs)
    body = {"path": f"/FileStore/w/{name}", "contents": base64.b64encode(data).decode(), "overwrite": True}
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert httpx.post(f"{emu.url}/api/2.0/dbfs/put", json=body, headers=headers).status_code == 200
    return f"dbfs:/FileStore/w/{name}"


def test_install_wait_status_and_uninstall(env: Emulator):
    """install --wait ends at INSTALLED; status lists it; a rerun is a no-op; uninstall marks it."""
    cluster_id = running_cluster(env)
    uri = put_wheel(env)
    rows = cli_json("libraries.install", cluster_id, "--whl", uri, "--wait")
    assert rows == [{"library": f"whl {uri}", "action": "installed", "reason": "not on the cluster"}]
    assert [(s["library"], s["status"]) for s in cli_json("libraries.status", cluster_id)] == [
        ({"whl": uri}, "INSTALLED")
    ]
    again = cli_json("libraries.install", cluster_id, "--whl", uri)
    assert again[0]["action"] == "unchanged" and again[0]["reason"] == "already INSTALLED"
    table = run_cli("libraries.status", cluster_id)
    assert table.exit_code == 0 and "INSTALLED" in table.stdout and "LIBRARY" in table.stdout
    gone = cli_json("libraries.uninstall", cluster_id, "--whl", uri)
    assert gone[0]["action"] == "uninstall on restart"
    assert cli_json("libraries.status", cluster_id)[0]["status"] == "UNINSTALL_ON_RESTART"


def test_a_failed_install_is_exit_7_naming_the_library_and_message(
    env: Emulator, monkeypatch: pytest.MonkeyPatch
):
    """A PyPI package with no reachable index: exit 7, the library and pip's ERROR line in the message."""
    offline_pip(monkeypatch)
    cluster_id = running_cluster(env)
    result = run_cli("libraries.install", cluster_id, "--pypi", "no-such-package-emu", "--wait")
    assert result.exit_code == 7, result.stderr
    assert "libraries on cluster" in result.stderr
    assert "failed: pypi no-such-package-emu: ERROR:" in result.stderr


def test_bad_input_is_refused_before_any_request(env: Emulator):
    """No library, a bad cluster id, a blank URI or a bad timeout: exit 2 and nothing sent."""
    for args, text in [
        (["libraries.install", "1126-x"], "no library given"),
        (["libraries.install", "has space", "--pypi", "x"], "CLUSTER_ID must be a cluster id"),
        (["libraries.install", "1126-x", "--whl", " "], "a wheel URI must be 1 to 4096 printable"),
        (["libraries.install", "1126-x", "--pypi", "x", "--wait", "--timeout", "0"], "--timeout must be"),
        (["libraries.uninstall", "1126-x"], "no library given"),
        (["libraries.status", "bad\nid"], "CLUSTER_ID must be a cluster id"),
    ]:
        result = run_cli(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert text in result.stderr
    assert env.requests("/api/2.0/libraries") == []


def test_an_unknown_cluster_is_exit_4_not_found(env: Emulator):
    """A cluster that does not exist is exit 4 (not found) with the service's message; nothing installed."""
    result = run_cli("libraries.install", "1126-000000-nope", "--pypi", "x")
    assert result.exit_code == 4, result.stderr
    assert "Cluster 1126-000000-nope does not exist" in result.stderr
    assert env.requests("/api/2.0/libraries/install") == []
