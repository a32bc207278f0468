"""The command line: ready line, clean stop on signals, usage errors, persistence across kill -9.

These start real processes; waiting for a process's ready line is not a sleep.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from brickbook.emulator.__main__ import build_parser, main, settings_from_args
from brickbook.emulator.settings import OPTIONS
from tests.emulator.harness import ADMIN_TOKEN, CLIENT_ID, CLIENT_SECRET, ME

READY = re.compile(r"^brickbook emulator listening on (http://127\.0\.0\.1:\d+)$")
READY_TIMEOUT_SECONDS = 30


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BRICKBOOK_", "DATABRICKS_"))}
    return {**env, **extra}


class EmulatorProcess:
    """``python -m brickbook.emulator`` in a child process, with its announced URL."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        command = [sys.executable, "-m", "brickbook.emulator", "--host", "127.0.0.1", "--port", "0", *args]
        self.proc = subprocess.Popen(
            command,
            env=env or clean_env(BRICKBOOK_EMULATOR_TOKEN=ADMIN_TOKEN),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.ready_line = self._read_ready_line()
        match = READY.match(self.ready_line)
        assert match, f"unexpected ready line {self.ready_line!r}"
        self.url = match.group(1)

    def _read_ready_line(self) -> str:
        assert self.proc.stdout is not None
        readable, _, _ = select.select([self.proc.stdout], [], [], READY_TIMEOUT_SECONDS)
        if not readable:
            self.proc.kill()
            pytest.fail("the emulator did not print its ready line in time")
        return self.proc.stdout.readline().rstrip("\n")

    def me(self, token: str = ADMIN_TOKEN) -> httpx.Response:
        return httpx.get(f"{self.url}{ME}", headers={"Authorization": f"Bearer {token}"})

    def stop(self, sig: int) -> tuple[int, str, str]:
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=READY_TIMEOUT_SECONDS)
        return self.proc.returncode, out, err


@pytest.fixture
def processes() -> Iterator[list[EmulatorProcess]]:
    started: list[EmulatorProcess] = []
    yield started
    for process in started:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.communicate()


def test_ready_line_then_serving(processes: list[EmulatorProcess]):
    """With --port 0 it prints one ready line naming the real port, then answers there."""
    processes.append(emulator := EmulatorProcess())
    assert emulator.me().json()["userName"] == "admin@example.com"


def test_sigterm_stops_cleanly_with_nothing_else_printed(processes: list[EmulatorProcess]):
    """SIGTERM ends the process with exit 0; stdout held only the ready line and stderr is empty."""
    processes.append(emulator := EmulatorProcess())
    emulator.me()
    code, out, err = emulator.stop(signal.SIGTERM)
    assert (code, out, err) == (0, "", "")


def test_ctrl_c_stops_cleanly(processes: list[EmulatorProcess]):
    """SIGINT (Ctrl-C) ends the process with exit 0."""
    processes.append(emulator := EmulatorProcess())
    assert emulator.stop(signal.SIGINT)[0] == 0


def test_token_from_the_command_line(processes: list[EmulatorProcess]):
    """--token sets the admin token when the environment has none."""
    processes.append(emulator := EmulatorProcess("--token", "cli-token", env=clean_env()))
    assert emulator.me("cli-token").status_code == 200


def test_oauth_token_survives_kill_9_with_data_dir(processes: list[EmulatorProcess], tmp_path: Path):
    """An OAuth token issued before a SIGKILL still works after a restart on the same --data-dir."""
    args = ("--data-dir", str(tmp_path), "--oauth-client", f"{CLIENT_ID}:{CLIENT_SECRET}")
    processes.append(first := EmulatorProcess(*args))
    form = {"grant_type": "client_credentials", "scope": "all-apis"}
    token = httpx.post(f"{first.url}/oidc/v1/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET)).json()
    first.stop(signal.SIGKILL)
    processes.append(second := EmulatorProcess(*args))
    assert second.me(token["access_token"]).json()["userName"] == CLIENT_ID


def test_missing_token_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """Without --token or BRICKBOOK_EMULATOR_TOKEN it prints one line to stderr and exits 2."""
    monkeypatch.delenv("BRICKBOOK_EMULATOR_TOKEN", raising=False)
    assert main(["--port", "0"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "BRICKBOOK_EMULATOR_TOKEN" in captured.err


def test_bad_user_option_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """A --user without '=TOKEN' is a usage error: exit 2 and a line saying the expected form."""
    monkeypatch.setenv("BRICKBOOK_EMULATOR_TOKEN", ADMIN_TOKEN)
    assert main(["--user", "alice@example.com"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err


def test_bad_faults_json_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """An unparsable --faults value is a usage error: exit 2."""
    monkeypatch.setenv("BRICKBOOK_EMULATOR_TOKEN", ADMIN_TOKEN)
    assert main(["--faults", "[{"]) == 2
    assert "--faults is not valid JSON" in capsys.readouterr().err


def test_options_become_settings(tmp_path: Path):
    """Every option lands in the settings: users, clients, TTL, data dir, latency, faults, rate limits."""
    faults = tmp_path / "faults.json"
    faults.write_text('[{"pattern": "GET /api/*", "status": 503, "retry_after": 2}]')
    args = build_parser().parse_args(
        [
            "--port", "0", "--admin-user", "root@example.com", "--user", "a@example.com=ta",
            "--oauth-client", "cid:c:sec", "--token-ttl-seconds", "60", "--data-dir", str(tmp_path),
            "--latency-ms", "5", "--faults", str(faults), "--rate-limit", "POST /api/2.2/jobs/*=20",
        ]
    )  # fmt: skip
    settings = settings_from_args(args, "tok")
    assert settings.admin_user == "root@example.com"
    assert dict(settings.users) == {"a@example.com": "ta"}
    assert dict(settings.oauth_clients) == {"cid": "c:sec"}
    assert (settings.token_ttl_seconds, settings.latency_ms) == (60, 5)
    assert settings.data_dir == str(tmp_path)
    assert [(f.pattern, f.status, f.retry_after) for f in settings.faults] == [("GET /api/*", 503, "2")]
    assert [(r.pattern, r.requests_per_second) for r in settings.rate_limits] == [
        ("POST /api/2.2/jobs/*", 20)
    ]


def test_inline_faults_json_is_accepted():
    """--faults also takes inline JSON, a single object or a list."""
    args = build_parser().parse_args(["--faults", '{"pattern": "* /oidc/*", "reset_connection": true}'])
    assert settings_from_args(args, "tok").faults[0].reset_connection is True


def test_console_script_is_installed():
    """The brickbook-emulator console script runs and shows its help."""
    script = Path(sys.executable).with_name("brickbook-emulator")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "--rate-limit" in result.stdout


ENTRY_POINTS = {
    "python -m brickbook.emulator": [sys.executable, "-m", "brickbook.emulator"],
    "brickbook-emulator": [str(Path(sys.executable).with_name("brickbook-emulator"))],
    "brickbook emulator.serve": [str(Path(sys.executable).with_name("brickbook")), "emulator.serve"],
}
BAD_VALUES = [
    (["--port", "99999"], "--port must be a whole number from 0 to 65535, not '99999'"),
    (["--port", "-1"], "--port must be a whole number from 0 to 65535, not '-1'"),
    (["--port", "abc"], "--port must be a whole number from 0 to 65535, not 'abc'"),
    (["--latency-ms", "x"], "--latency-ms must be a whole number"),
    (["--cluster-start-seconds", "nan"], "--cluster-start-seconds must be a number from 0 to 86400"),
    (["--faults", "[{"], "--faults is not valid JSON"),
    (["--rate-limit", "GET /x=inf"], "requests_per_second must be a positive, finite number"),
    (["--user", "alice"], "--user must look like NAME=VALUE"),
]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize(("args", "message"), BAD_VALUES, ids=[a[0] + "=" + a[1] for a, _ in BAD_VALUES])
def test_bad_values_exit_2_alike_from_every_entry_point(entry: str, args: list[str], message: str):
    """Every entry point refuses a bad value with exit 2 and the same single error: line, no traceback."""
    done = subprocess.run(
        [*ENTRY_POINTS[entry], *args],
        env=clean_env(BRICKBOOK_EMULATOR_TOKEN=ADMIN_TOKEN),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], done.stderr


def test_bad_values_are_reported_before_a_missing_token(capsys: pytest.CaptureFixture[str]):
    """Without a token, a bad option is still the error reported (one line, exit 2)."""
    assert main(["--port", "abc"]) == 2
    assert "--port must be" in capsys.readouterr().err


def test_serve_task_offers_exactly_the_emulator_options():
    """emulator.serve has one flag per emulator option and nothing else (no -o, -p, -l, -d)."""
    from brickbook.tasks import namespace

    context = next(c for c in namespace.to_contexts() if c.name == "emulator.serve")
    argparse_flags = {flag for action in build_parser()._actions for flag in action.option_strings}
    assert set(context.flags) == {option.flag for option in OPTIONS}
    assert set(context.flags) == argparse_flags - {"-h", "--help"}


def test_serve_task_passes_the_token_by_environment(monkeypatch: pytest.MonkeyPatch):
    """emulator.serve hands its options to the emulator process; the token goes by environment, not argv."""
    from tests.conftest import run_cli

    class Executed(Exception):
        pass

    seen: dict[str, object] = {}

    def execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        seen.update(argv=argv, env=env)
        raise Executed

    monkeypatch.setattr(os, "execve", execve)
    monkeypatch.delenv("BRICKBOOK_EMULATOR_TOKEN", raising=False)
    run_cli("emulator.serve", "--token", ADMIN_TOKEN, "--port", "-1", "--user", "a=b", "--allow-remote-repos")
    argv = seen["argv"]
    assert isinstance(argv, list) and argv[1:] == [
        "-m",
        "brickbook.emulator",
        "--port=-1",
        "--user=a=b",
        "--allow-remote-repos",
    ]
    assert ADMIN_TOKEN not in " ".join(argv)
    assert seen["env"]["BRICKBOOK_EMULATOR_TOKEN"] == ADMIN_TOKEN  # type: ignore[index]


def test_an_address_in_use_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """A port another process holds is a usage error naming the address, not a traceback or exit 1."""
    import socket

    monkeypatch.setenv("BRICKBOOK_EMULATOR_TOKEN", ADMIN_TOKEN)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert main(["--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: cannot start: cannot listen on 127.0.0.1:{port}: Address already in use")
