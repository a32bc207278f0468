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
from brickbook.cli import namespace
from brickbook.command import Invocation, command
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
    # The front door sends the integer 403: the envelope carries the code documented for the status.
    assert envelope["error_code"] == "PERMISSION_DENIED"
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


# Runs `brickbook ARGS` in a fresh interpreter, then prints (to stderr) which of NAMES it imported.
_IMPORTED_BY_A_RUN = """
import sys
names = sys.argv[1].split(",")
sys.argv = ["brickbook", *sys.argv[2:]]
from brickbook.cli import main
try:
    main()
except SystemExit as stop:
    code = stop.code
else:
    code = 0
loaded = [n for n in names if n in sys.modules]
print("imported:" + ",".join(loaded), "exit:" + str(code), file=sys.stderr)
"""


def _imported_by(names: tuple[str, ...], *args: str) -> tuple[list[str], str, str]:
    """Run ``brickbook ARGS`` as a new process; return which of ``names`` it imported, its exit, stdout."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTED_BY_A_RUN, ",".join(names), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    last = done.stderr.strip().splitlines()[-1]
    imported, exit_code = last.removeprefix("imported:").split(" exit:")
    return [n for n in imported.split(",") if n], exit_code, done.stdout


# What no run that lists jobs or shows a task's help needs.
_NOT_FOR_A_PRIMITIVE = (
    "brickbook.emulator",
    "starlette",
    "uvicorn",
    "runbooks",
    "brickbook.runbook",
    "brickbook.journal",
    "brickbook.tasks.clusters",
    "brickbook.tasks.workspace",
    "brickbook.tasks.emulator",
)


@pytest.mark.parametrize("args", [("--help",), ("jobs.list", "--help")])
def test_help_imports_no_http_logging_retry_or_emulator(args: tuple[str, ...]):
    """`brickbook --help` and a task's help load neither httpx, structlog, tenacity nor the emulator."""
    heavy = ("httpx", "structlog", "tenacity", "brickbook.emulator", "starlette", "brickbook.client")
    imported, exit_code, stdout = _imported_by(heavy, *args)
    assert exit_code in ("0", "None")
    assert "Usage: brickbook" in stdout
    assert imported == []


def test_task_help_imports_only_its_own_area():
    """`brickbook jobs.list --help` imports the jobs tasks and no other area, runbook or engine."""
    imported, _, stdout = _imported_by((*_NOT_FOR_A_PRIMITIVE, "brickbook.tasks.jobs"), "jobs.list", "--help")
    assert "jobs.list" in stdout
    assert imported == ["brickbook.tasks.jobs"]


def test_a_one_request_task_imports_only_what_it_needs(workspace_env: Emulator):
    """`brickbook jobs.list -o json` sends its request without the emulator, runbooks or other areas."""
    imported, exit_code, stdout = _imported_by((*_NOT_FOR_A_PRIMITIVE, "httpx"), "jobs.list", "-o", "json")
    assert exit_code in ("0", "None")
    assert json.loads(stdout) == []
    assert imported == ["httpx"]


def test_a_runbook_or_a_listing_still_sees_every_task():
    """Naming a runbook, or asking for --list, loads the whole namespace (the runbooks and every area)."""
    from brickbook.cli import namespace_for

    everything = set(namespace_for(["brickbook", "--list"]).task_names)
    assert {"jobs.list", "clusters.list", "runbook.run-job", "demo"} <= everything
    assert set(namespace_for(["brickbook", "runbook.run-job", "--help"]).task_names) == everything
    assert set(namespace_for(["brickbook", "jobs.list", "--list"]).task_names) == everything
    assert (
        set(namespace_for(["brickbook", "--complete", "--", "brickbook", "jobs."]).task_names) == everything
    )
    assert set(namespace_for(["brickbook", "jobs.list", "fs.ls"]).task_names) == {
        name for name in everything if name.startswith(("jobs.", "fs."))
    }


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


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("output", ["text", "json"])
def test_a_full_stdout_is_one_line_and_exit_2(workspace_env: Emulator, tmp_path: Path, output: str):
    """stdout on a full disk (/dev/full): one clear line, exit 2, no traceback, in either output form."""
    big = tmp_path / "big.txt"
    big.write_text("x" * 100_000)
    assert run_cli("workspace.import", str(big), "/Shared/full.txt", "--format", "AUTO").exit_code == 0
    env = {**os.environ, "DATABRICKS_HOST": workspace_env.url, "DATABRICKS_TOKEN": ADMIN_TOKEN}
    with Path("/dev/full").open("wb") as full:
        done = subprocess.run(
            [script("brickbook"), "workspace.export", "/Shared/full.txt", "-o", output],
            stdout=full,
            stderr=subprocess.PIPE,
            env=env,
            timeout=60,
            check=False,
        )
    stderr = done.stderr.decode()
    assert done.returncode == 2
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert "error: a local write failed: No space left on device" in stderr


def test_invoke_config_file_sets_retry_settings(workspace_env: Emulator, tmp_path: Path):
    """A `brickbook:` section in ~/.invoke.yaml sets the retry budget (here: two attempts)."""
    (tmp_path / ".invoke.yaml").write_text("brickbook:\n  max_attempts: 2\n")
    workspace_env.fault(pattern=f"GET {ME}", status=503, retry_after="0", times=0)
    assert run_cli("auth.check").exit_code == 6
    assert len(workspace_env.requests(ME)) == 2


def test_401_envelope_carries_unauthenticated(workspace_env: Emulator):
    """A 401 with the legacy integer error_code gets UNAUTHENTICATED in the JSON envelope."""
    body = {"error_code": 401, "message": "Credential was not sent or was of an unsupported type"}
    workspace_env.fault(pattern=f"GET {ME}", status=401, body=body)
    envelope = expect_failure(["auth.check"], 3, "Credential was not sent")
    assert (envelope["error_code"], envelope["http_status"]) == ("UNAUTHENTICATED", 401)


def test_error_line_escapes_control_characters_from_the_server(workspace_env: Emulator):
    """A service message holding an escape sequence is shown escaped: it cannot drive the terminal."""
    body = {"error_code": "INVALID_PARAMETER_VALUE", "message": "bad \x1b[2J\x1b]0;owned\x07 value"}
    workspace_env.fault(pattern=f"GET {ME}", status=400, body=body)
    result = run_cli("auth.check")
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "bad \\x1b[2J\\x1b]0;owned\\x07 value" in result.stderr


# -- the console script's own options ------------------------------------------------------------------------

INVOKE_ONLY_OPTIONS = [
    ["--dry"],
    ["-R"],
    ["--echo"],
    ["-e"],
    ["--pty"],
    ["--prompt-for-sudo-password"],
    ["--warn-only"],
    ["-w"],
    ["-T", "5"],
    ["--command-timeout", "5"],
    ["--hide", "both"],
    ["--write-pyc"],
    ["-d"],
    ["--debug"],
    ["-c", "tasks"],
    ["--collection", "tasks"],
    ["-r", "."],
    ["--search-root", "."],
    ["-f", "invoke.yaml"],
    ["--config", "invoke.yaml"],
    ["--no-dedupe"],
    ["-D", "1"],
    ["--list-depth", "1"],
]


@pytest.mark.parametrize("option", INVOKE_ONLY_OPTIONS, ids=lambda o: o[0])
def test_invoke_core_options_are_usage_errors(workspace_env: Emulator, option: list[str]):
    """invoke's options that mean nothing to brickbook exit 2 with one line, before or after the task.

    (-d/--debug after the task name is the task's own --debug, which stays.)
    """
    after = [] if option[0] in ("-d", "--debug") else [["jobs.delete", "15", *option]]
    for args in [[*option, "jobs.delete", "15"], *after]:
        result = run_cli(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
        assert option[0] in result.stderr
    assert workspace_env.requests("/api/") == []


def test_dry_does_not_delete_the_job(workspace_env: Emulator):
    """`brickbook --dry jobs.delete 15` deletes nothing: exit 2 and not a single request."""
    result = run_cli("--dry", "jobs.delete", "15")
    assert result.stderr == "error: --dry is not a brickbook option; see brickbook --help\n"
    assert workspace_env.requests() == []


def test_top_level_task_option_says_where_it_goes(isolated_env: pytest.MonkeyPatch):
    """-o before the task name is a usage error that says task options go after the task."""
    result = run_cli("-o", "json", "auth.check")
    assert result.exit_code == 2 and "go after the task name" in result.stderr


def test_help_for_an_unknown_task_is_a_usage_error(isolated_env: pytest.MonkeyPatch):
    """`brickbook --help nope.task` exits 2 with the error: prefix and points at --list."""
    result = run_cli("--help", "nope.task")
    assert (result.exit_code, result.stderr) == (
        2,
        "error: no task named 'nope.task'; see brickbook --list\n",
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["nope.task"], "no task named 'nope.task'"),
        (["auth.check", "--nope"], "auth.check has no option --nope; see brickbook --help auth.check"),
        (["auth.check", "--output"], "--output needs a value"),
        (["jobs.delete"], "jobs.delete is missing job_id"),
        (["workspace.list", "/", "extra"], "'extra' is neither a task nor an argument of workspace.list"),
        (["auth.check", "--", "extra"], "brickbook takes nothing after '--'"),
        (["--list", "nope"], "no task namespace 'nope'"),
        (["--list", "--list-format", "yaml"], "--list-format must be one of flat, nested, json"),
        (["--print-completion-script", "tcsh"], 'Completion for shell "tcsh" not supported'),
    ],
)
def test_command_line_mistakes_exit_2_with_one_line(
    isolated_env: pytest.MonkeyPatch, args: list[str], fragment: str
):
    """Unknown tasks and options, missing values and arguments, stray words: exit 2, one error: line."""
    result = run_cli(*args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert fragment in result.stderr


def test_version_after_a_task_does_not_run_it(workspace_env: Emulator):
    """`brickbook jobs.delete 15 --version` prints the version and sends nothing."""
    result = run_cli("jobs.delete", "15", "--version")
    assert result.exit_code == 0 and result.stdout.startswith("brickbook ")
    assert workspace_env.requests() == []


def test_help_shows_only_the_core_options_brickbook_honours(isolated_env: pytest.MonkeyPatch):
    """--help lists --help, --version, --list, --list-format and completion, and none of invoke's others."""
    shown = run_cli("--help").stdout
    core = shown.split("Subcommands:")[0]
    for option in ("--help", "--version", "--list", "--list-format", "--print-completion-script"):
        assert option in core
    for option in ("--dry", "--echo", "--pty", "--warn-only", "--command-timeout", "--debug", "--config"):
        assert option not in core


def test_list_as_json_for_scripts(isolated_env: pytest.MonkeyPatch):
    """--list --list-format json prints the namespace as one JSON object."""
    listing = json.loads(run_cli("--list", "--list-format", "json").stdout)
    assert "secrets" in [c["name"] for c in listing["collections"]]


def test_shell_completion_works(isolated_env: pytest.MonkeyPatch):
    """The bash completion script is printed, and completion offers task options but no invoke options."""
    assert "brickbook --complete" in run_cli("--print-completion-script", "bash").stdout
    flags = run_cli("--complete", "--", "brickbook", "auth.check", "--").stdout.split()
    assert {"--output", "--profile", "--log-format", "--debug"} <= set(flags)
    core = run_cli("--complete", "--", "brickbook", "--").stdout.split()
    assert "--list" in core and "--dry" not in core


# -- closed standard streams (a real process: Python sets sys.stdout to None for a closed fd 1) --------------


def spawn(*args: str, env: dict[str, str], close: tuple[int, ...]) -> subprocess.CompletedProcess[str]:
    """Run the installed brickbook with some of fds 0-1 closed, as `<&-` and `>&-` do in a shell."""
    return subprocess.run(
        [script("brickbook"), *args],
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL if 0 not in close else None,
        stdout=subprocess.DEVNULL if 1 not in close else None,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        timeout=60,
        preexec_fn=lambda: [os.close(fd) for fd in close],
    )


def test_closed_stdout_is_a_closed_pipe(workspace_env: Emulator):
    """With fd 1 closed, a task that prints exits 141 quietly; one that prints nothing succeeds."""
    env = {"DATABRICKS_HOST": workspace_env.url, "DATABRICKS_TOKEN": ADMIN_TOKEN}
    workspace_env.control("POST", "reset")
    empty = {"path": "/empty.txt", "contents": "", "overwrite": True}
    import httpx

    httpx.post(
        f"{workspace_env.url}/api/2.0/dbfs/put",
        json=empty,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ).raise_for_status()
    for args, code in ((["--version"], 141), (["auth.check"], 141), (["fs.cat", "dbfs:/empty.txt"], 0)):
        done = spawn(*args, env=env, close=(1,))
        assert (done.returncode, done.stderr) == (code, ""), (args, done.stderr)


def test_closed_stdout_keeps_the_exit_code_of_a_failure(workspace_env: Emulator):
    """A failing task under -o json with fd 1 closed still exits with its own code and its error line."""
    env = {"DATABRICKS_HOST": workspace_env.url, "DATABRICKS_TOKEN": "dapi-not-a-valid-token"}
    done = spawn("auth.check", "-o", "json", env=env, close=(1,))
    assert done.returncode == 3
    assert done.stderr.startswith("error: Invalid access token.") and "Traceback" not in done.stderr


def test_closed_stdin_for_secrets_put_exits_2(workspace_env: Emulator):
    """secrets.put with fd 0 closed exits 2 saying the value can come from a pipe or --file."""
    env = {"DATABRICKS_HOST": workspace_env.url, "DATABRICKS_TOKEN": ADMIN_TOKEN}
    done = spawn("secrets.put", "etl", "k", env=env, close=(0,))
    assert done.returncode == 2
    assert done.stderr.startswith("error: stdin is closed") and "--file PATH" in done.stderr
    assert workspace_env.requests("/api/2.0/secrets") == []


# What a one-request task that writes no log line never needs: the logging library, the console tools
# httpx's own command line would load, and invoke's testing aid (unittest.mock, with asyncio).
_NOT_FOR_A_QUIET_REQUEST = ("structlog", "click", "pygments", "asyncio", "unittest.case")


def test_a_quiet_one_request_task_loads_no_logging_library_and_no_test_aids(workspace_env: Emulator):
    """`brickbook jobs.list -o json` logs nothing, so it loads neither structlog, click nor asyncio."""
    imported, exit_code, stdout = _imported_by(_NOT_FOR_A_QUIET_REQUEST, "jobs.list", "-o", "json")
    assert exit_code in ("0", "None")
    assert json.loads(stdout) == []
    assert imported == []


def test_a_task_that_logs_still_writes_its_lines_from_a_new_process(workspace_env: Emulator):
    """With --debug, a new process writes the `http.request` line as JSON, through structlog."""
    done = subprocess.run(
        [script("brickbook"), "jobs.list", "-o", "json", "--debug", "--log-format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    events = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events] == ["http.request"]
    assert events[0]["path"] == "/api/2.2/jobs/list"
    assert events[0]["level"] == "debug"


def test_unittest_mock_still_works_in_the_console_scripts_process():
    """After the console script's start, unittest.mock (stood in for invoke) is the real module on use."""
    code = (
        "import sys; sys.argv = ['brickbook', '--version']\n"
        "from brickbook.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "import unittest.mock\n"
        "from unittest import mock\n"
        "from unittest.mock import MagicMock, Mock\n"
        "from invoke import MockContext\n"
        "assert isinstance(MagicMock(), Mock) and isinstance(mock.Mock(), Mock)\n"
        "assert unittest.mock.Mock is Mock and type(sys.modules['unittest.mock']) is type(sys)\n"
        "MockContext().run  # wraps its methods in Mock\n"
        "print('ok', 'asyncio' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split()[-2:] == ["ok", "True"]
