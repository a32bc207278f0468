"""Shared fixtures: one emulator per session (reset between tests), an isolated environment, the CLI.

Every CLI run made through the ``cli`` fixture is kept in a transcript; at the end of the session the
transcript is scanned for the test credentials, so a secret printed by any task in any test fails the
suite (the redaction scan).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from invoke.collection import Collection

from brickbook import __version__
from brickbook.cli import BrickbookProgram
from brickbook.cli import namespace as served
from tests.fakes import FakeClock, FakeTime

ADMIN_TOKEN = "dapi-test-admin-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
USER_TOKEN = "dapi-test-alice-9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"
CLIENT_ID = "sp-0d1c2b3a-client"
CLIENT_SECRET = "doseTEST-client-secret-5f4e3d2c1b0a"
SECRET_VALUES = [ADMIN_TOKEN, USER_TOKEN, CLIENT_SECRET]

_transcript: list[str] = []
# Context overrides (fake time) that in-process CLI runs pass to their tasks; set by `shared_time`.
_runtime: dict[str, object] = {}


@dataclass
class Emulator:
    """A running emulator plus helpers for its control API."""

    url: str
    clock: FakeClock

    def control(self, method: str, path: str, json: object = None) -> httpx.Response:
        response = httpx.request(
            method,
            f"{self.url}/_emulator/{path}",
            json=json,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        response.raise_for_status()
        return response

    def fault(self, **rule: object) -> None:
        self.control("POST", "faults", rule)

    def requests(self, path_prefix: str = "") -> list[dict[str, object]]:
        entries = self.control("GET", "requests").json()["requests"]
        return [e for e in entries if str(e["path"]).startswith(path_prefix)]


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    from brickbook.emulator.server import start_in_thread
    from brickbook.emulator.settings import EmulatorSettings

    clock = FakeClock()
    settings = EmulatorSettings(
        host="127.0.0.1",
        port=0,
        admin_token=ADMIN_TOKEN,
        admin_user="admin@example.com",
        users={"alice@example.com": USER_TOKEN},
        oauth_clients={CLIENT_ID: CLIENT_SECRET},
        token_ttl_seconds=3600,
        clock=clock,
    )
    running = start_in_thread(settings)
    try:
        yield Emulator(url=running.url, clock=clock)
    finally:
        running.stop()


@pytest.fixture
def emulator(emulator_server: Emulator) -> Emulator:
    """The session's emulator, with state, faults, rate limits and the request log reset."""
    emulator_server.control("POST", "reset")
    return emulator_server


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> pytest.MonkeyPatch:
    """No Databricks or brickbook settings leak in from the machine running the tests."""
    import os

    for name in list(os.environ):
        if name.startswith(("DATABRICKS_", "BRICKBOOK_", "INVOKE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", f"{tmp_path}/no-such-databrickscfg")
    return monkeypatch


@pytest.fixture
def workspace_env(isolated_env: pytest.MonkeyPatch, emulator: Emulator) -> Emulator:
    """DATABRICKS_HOST/TOKEN point at the emulator as the admin; retries are quick."""
    isolated_env.setenv("DATABRICKS_HOST", emulator.url)
    isolated_env.setenv("DATABRICKS_TOKEN", ADMIN_TOKEN)
    return emulator


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str, namespace: Collection | None = None, binary: str = "brickbook") -> CliResult:
    """Run ``brickbook ARGS`` in-process and capture its exit code, stdout and stderr.

    ``namespace`` and ``binary`` serve another program's tasks the same way (the engine's tiny runbook).
    """
    out, err = io.StringIO(), io.StringIO()
    program = BrickbookProgram(
        name=binary,
        binary=binary,
        version=__version__,
        namespace=namespace if namespace is not None else served,
        runtime=_runtime,
    )
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            program.run([binary, *args])
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    result = CliResult(code, out.getvalue(), err.getvalue())
    _transcript.append(result.stdout + result.stderr)
    return result


@pytest.fixture
def shared_time(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """The CLI's waits use fake time; each wait also moves the emulator's clock by as much."""
    fake = FakeTime(follow=emulator.clock)
    monkeypatch.setitem(_runtime, "clock", fake.clock)
    monkeypatch.setitem(_runtime, "sleep", fake.sleep)
    return fake


@pytest.fixture
def cli() -> type[object]:
    """The in-process CLI runner (``cli(*args) -> CliResult``)."""
    return run_cli  # type: ignore[return-value]


@pytest.fixture(scope="session", autouse=True)
def redaction_scan() -> Iterator[None]:
    """After the whole session, no CLI run may have printed a test credential."""
    yield
    leaked = [s for s in SECRET_VALUES if any(s in text for text in _transcript)]
    assert not leaked, f"{len(leaked)} test credential(s) appeared in CLI output"
