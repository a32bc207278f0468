"""The command line: auth.check, output formats, the exit-code table and the error envelope."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from invoke import Collection

from brickbook import errors
from brickbook.command import Invocation, command
from brickbook.tasks import namespace
from tests.conftest import ADMIN_TOKEN, CLIENT_ID, CLIENT_SECRET, USER_TOKEN, Emulator, run_cli

ME = "/api/2.0/preview/scim/v2/Me"
REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the console scripts installed beside this interpreter


def script(name: str) -> str:
    return str(BIN / name)


def test_auth_check_text(workspace_env: Emulator):
    """auth.check prints host, profile, auth type and the calling user."""
    result = run_cli("auth.check")
    assert result.exit_code == 0, result.stderr
    assert "host:" in result.stdout and workspace_env.url in result.stdout
    assert "auth_type:    pat" in result.stdout
    assert "user_name:    admin@example.com" in result.stdout


def test_auth_check_json(workspace_env: Emulator):
    """auth.check -o json prints one JSON object for jq."""
    result = run_cli("auth.check", "-o", "json")
    data = json.loads(result.stdout)
    assert data["user_name"] == "admin@example.com"
    assert data["auth_type"] == "pat"
    assert data["profile"] is None


def test_auth_check_with_profile(isolated_env: pytest.MonkeyPatch, emulator: Emulator, tmp_path: Path):
    """--profile picks a ~/.databrickscfg profile; here an OAuth M2M service principal."""
    cfg = tmp_path / "databrickscfg"
    cfg.write_text(
        f"[DEFAULT]\nhost = {emulator.url}\ntoken = {USER_TOKEN}\n\n"
        f"[sp]\nhost = {emulator.url}\nclient_id = {CLIENT_ID}\nclient_secret = {CLIENT_SECRET}\n"
    )
    isolated_env.setenv("DATABRICKS_CONFIG_FILE", str(cfg))
    default = json.loads(run_cli("auth.check", "-o", "json").stdout)
    assert (default["profile"], default["user_name"]) == ("DEFAULT", "alice@example.com")
    sp = json.loads(run_cli("auth.check", "--profile", "sp", "-o", "json").stdout)
    assert (sp["profile"], sp["auth_type"], sp["user_name"]) == ("sp", "oauth-m2m", CLIENT_ID)


def test_logs_go_to_stderr_as_json_lines(workspace_env: Emulator):
    """With --debug and no TTY, every HTTP call is one JSON log line on stderr, stdout stays clean."""
    result = run_cli("auth.check", "-o", "json", "--debug")
    json.loads(result.stdout)
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert [e["event"] for e in events] == ["http.request"]
    assert events[0]["path"] == ME and events[0]["status"] == 200


def expect_failure(args: list[str], code: int, fragment: str) -> dict[str, object]:
    result = run_cli(*args, "-o", "json")
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and fragment in lines[-1]
    assert "Traceback" not in result.stderr
    envelope = json.loads(result.stdout)
    assert envelope["exit_code"] == code
    assert fragment in envelope["message"]
    return envelope


def test_exit_2_for_bad_output_option(workspace_env: Emulator):
    """An unknown -o value is a usage error (2)."""
    result = run_cli("auth.check", "-o", "yaml")
    assert result.exit_code == 2
    assert "-o/--output must be json or text" in result.stderr


def test_exit_2_for_missing_configuration(isolated_env: pytest.MonkeyPatch):
    """No host configured fails before any request with exit 2 and says what to set."""
    envelope = expect_failure(["auth.check"], 2, "DATABRICKS_HOST")
    assert envelope["http_status"] is None


def test_exit_2_for_invalid_parameter(workspace_env: Emulator):
    """A 400 INVALID_PARAMETER_VALUE from the service is exit 2 with its code in the envelope."""
    body = {"error_code": "INVALID_PARAMETER_VALUE", "message": "attribute is invalid"}
    workspace_env.fault(pattern=f"GET {ME}", status=400, body=body)
    envelope = expect_failure(["auth.check"], 2, "attribute is invalid")
    assert envelope["error_code"] == "INVALID_PARAMETER_VALUE"
    assert envelope["http_status"] == 400


def test_exit_3_for_bad_token(workspace_env: Emulator, isolated_env: pytest.MonkeyPatch):
    """An invalid token is exit 3 with the service's reason."""
    isolated_env.setenv("DATABRICKS_TOKEN", "dapi-bogus-token-that-is-not-registered")
    envelope = expect_failure(["auth.check"], 3, "Invalid access token")
    assert envelope["http_status"] == 403
    assert "check the token or client credentials" in envelope["message"]


def test_exit_4_for_not_found(workspace_env: Emulator):
    """The 400 'does not exist' quirk maps to not found (4)."""
    body = {"error_code": "INVALID_PARAMETER_VALUE", "message": "User 7 does not exist"}
    workspace_env.fault(pattern=f"GET {ME}", status=400, body=body)
    expect_failure(["auth.check"], 4, "does not exist")


@pytest.mark.parametrize("code_name", ["RESOURCE_ALREADY_EXISTS", "INVALID_STATE"])
def test_exit_5_for_conflicts(workspace_env: Emulator, code_name: str):
    """Already-exists and invalid-state answers are exit 5."""
    workspace_env.fault(
        pattern=f"GET {ME}", status=400, body={"error_code": code_name, "message": "conflict!"}
    )
    envelope = expect_failure(["auth.check"], 5, "conflict!")
    assert envelope["error_code"] == code_name


def test_exit_6_for_transient_failures_after_retries(
    workspace_env: Emulator, isolated_env: pytest.MonkeyPatch
):
    """A 503 that persists past the attempt cap is exit 6."""
    isolated_env.setenv("BRICKBOOK_MAX_ATTEMPTS", "2")
    workspace_env.fault(pattern=f"GET {ME}", status=503, retry_after="0", times=0)
    envelope = expect_failure(["auth.check"], 6, "injected fault")
    assert "still failing after retries" in envelope["message"]
    assert len(workspace_env.requests(ME)) == 2


def test_exit_6_for_rate_limit_after_retries(workspace_env: Emulator, isolated_env: pytest.MonkeyPatch):
    """A 429 that persists past the attempt cap is exit 6."""
    isolated_env.setenv("BRICKBOOK_MAX_ATTEMPTS", "3")
    workspace_env.fault(pattern=f"GET {ME}", status=429, retry_after="0", times=0)
    envelope = expect_failure(["auth.check"], 6, "injected fault")
    assert envelope["http_status"] == 429


def run_task(fn_body, *args: str):  # type: ignore[no-untyped-def]
    """Run a throwaway task through the real command adapter and Program."""

    @command()
    def probe(inv: Invocation) -> None:
        fn_body()

    namespace.add_collection(Collection("probe", probe))
    try:
        return run_cli("probe.probe", *args)
    finally:
        del namespace.collections["probe"]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.RunFailed("run 5 ended FAILED: boom"), 7),
        (errors.WaitTimeout("run 5 still RUNNING after 60s"), 8),
        (errors.LockHeld("lock 'nightly' is held by pid 42"), 9),
        (errors.Interrupted("interrupted"), 130),
    ],
)
def test_exit_codes_for_local_outcomes(
    isolated_env: pytest.MonkeyPatch, error: errors.BrickbookError, code: int
):
    """Run failures, wait deadlines, held locks and interrupts have their own exit codes."""

    def fail() -> None:
        raise error

    result = run_task(fail, "-o", "json")
    assert result.exit_code == code
    assert json.loads(result.stdout)["exit_code"] == code
    assert error.message in result.stderr


def test_exit_130_on_sigterm(isolated_env: pytest.MonkeyPatch):
    """SIGTERM during a task is reported as an interruption (130)."""
    before = signal.getsignal(signal.SIGTERM)
    try:
        result = run_task(lambda: os.kill(os.getpid(), signal.SIGTERM))
    finally:
        signal.signal(signal.SIGTERM, before)
    assert result.exit_code == 130
    assert "interrupted" in result.stderr


def test_unexpected_error_is_one_line_and_traceback_only_with_debug(isolated_env: pytest.MonkeyPatch):
    """A bug exits 1 with one line; --debug adds the traceback."""

    def bug() -> None:
        raise RuntimeError("kaboom")

    plain = run_task(bug)
    assert plain.exit_code == 1
    assert plain.stderr.strip().splitlines() == [
        "error: unexpected RuntimeError: kaboom (rerun with --debug and report this)"
    ]
    debug = run_task(bug, "--debug")
    assert "Traceback" in debug.stderr


def test_secrets_never_printed_even_with_debug(isolated_env: pytest.MonkeyPatch, emulator: Emulator):
    """Tokens and client secrets stay out of stdout, stderr and tracebacks, even with --debug."""
    isolated_env.setenv("DATABRICKS_HOST", emulator.url)
    isolated_env.setenv("DATABRICKS_CLIENT_ID", CLIENT_ID)
    isolated_env.setenv("DATABRICKS_CLIENT_SECRET", CLIENT_SECRET)
    ok = run_cli("auth.check", "--debug", "-o", "json")
    isolated_env.setenv("DATABRICKS_CLIENT_SECRET", CLIENT_SECRET + "-wrong")
    bad = run_cli("auth.check", "--debug", "-o", "json")
    isolated_env.setenv("DATABRICKS_TOKEN", ADMIN_TOKEN)
    ambiguous = run_cli("auth.check", "--debug", "-o", "json")
    assert ok.exit_code == 0 and bad.exit_code == 3 and ambiguous.exit_code == 2
    for result in (ok, bad, ambiguous):
        for secret in (ADMIN_TOKEN, CLIENT_SECRET):
            assert secret not in result.stdout + result.stderr


def test_console_script_version_help_and_list():
    """The installed console script answers --version, --help and --list."""
    version = subprocess.run([script("brickbook"), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("brickbook 0.")
    helptext = subprocess.run([script("brickbook"), "--help"], capture_output=True, text=True, check=True)
    assert "Usage: brickbook" in helptext.stdout
    listing = subprocess.run([script("brickbook"), "--list"], capture_output=True, text=True, check=True)
    assert "auth.check" in listing.stdout and "emulator.serve" in listing.stdout


def test_invoke_list_in_the_repository():
    """`invoke --list` in the repository shows the same tasks plus the development ones."""
    listing = subprocess.run(
        [script("invoke"), "--list"], capture_output=True, text=True, check=True, cwd=REPO
    )
    for name in ("auth.check", "emulator.serve", "test", "lint"):
        assert name in listing.stdout


def test_console_script_exit_code_from_a_real_process(tmp_path: Path):
    """A real brickbook process exits 2 with one line when nothing is configured."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DATABRICKS_CONFIG_FILE": str(tmp_path / "none"),
    }
    done = subprocess.run(
        [script("brickbook"), "auth.check"], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: no Databricks host configured")


def test_startup_stays_light():
    """Importing the CLI loads neither httpx, structlog, tenacity nor the emulator."""
    code = (
        "import sys, brickbook.cli;"
        "heavy = ('httpx', 'structlog', 'tenacity', 'brickbook.emulator', 'starlette');"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_help_after_a_task_with_positionals_shows_its_help(isolated_env: pytest.MonkeyPatch):
    """`brickbook TASK --help` shows the task's help even when the task takes positional arguments."""
    result = run_cli("workspace.get-status", "--help")
    assert result.exit_code == 0
    assert "Usage: brickbook [--core-opts] workspace.get-status" in result.stdout


def test_closed_stdout_exits_141_without_a_traceback(workspace_env: Emulator, tmp_path: Path):
    """`brickbook ... | head` stops quietly with the SIGPIPE exit code when the reader goes away."""
    big = tmp_path / "big.txt"
    big.write_text("x" * 100_000)
    assert run_cli("workspace.import", str(big), "/Shared/big.txt", "--format", "AUTO").exit_code == 0
    env = {**os.environ, "DATABRICKS_HOST": workspace_env.url, "DATABRICKS_TOKEN": ADMIN_TOKEN}
    process = subprocess.Popen(
        [script("brickbook"), "workspace.export", "/Shared/big.txt"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before brickbook writes a byte
    with process.stderr:
        stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert "Traceback" not in stderr


def test_invoke_config_file_sets_retry_settings(workspace_env: Emulator, tmp_path: Path):
    """A `brickbook:` section in ~/.invoke.yaml sets the retry budget (here: two attempts)."""
    (tmp_path / ".invoke.yaml").write_text("brickbook:\n  max_attempts: 2\n")
    workspace_env.fault(pattern=f"GET {ME}", status=503, retry_after="0", times=0)
    assert run_cli("auth.check").exit_code == 6
    assert len(workspace_env.requests(ME)) == 2
