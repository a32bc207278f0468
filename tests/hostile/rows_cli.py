"""Rows for the command line, output and the emulator's options (issue 7 rows 3, 11, 12, 14, 19).

Row 3: the console script offers only the core options brickbook honours. Row 11: closed stdout and
stdin. Row 12: the emulator's options, through ``brickbook emulator.serve`` (the same checks run for
``python -m brickbook.emulator`` and ``brickbook-emulator``: tests/emulator/test_cli.py). Row 14 (output
half): text output escapes what the server sends. Row 19 (envelope half and the secrets, repos and auth
mutations): one JSON value per task, the documented error_code, local repositories without --provider.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

from tests.emulator.gitrepo import make_git_repo
from tests.hostile.table import Row, Scene

JOBS = "/api/2.2/jobs"
SECRETS = "/api/2.0/secrets"
EVIL_NAME = "evil\x1b[2J\x1b]0;owned\x07\nsecond line\u202e"
EVIL_SHOWN = "evil\\x1b[2J\\x1b]0;owned\\x07\\nsecond line\\u202e"

Done = subprocess.CompletedProcess[bytes]
Setup = Callable[[Scene], None]
Check = Callable[[Scene, Done], None]


# -- setups and checks --------------------------------------------------------------------------------------


def a_job(scene: Scene) -> None:
    """A job to (not) delete; its id goes in ``{job_id}``."""
    scene.values["job_id"] = str(scene.api("POST", f"{JOBS}/create", {"name": "keep-me"})["job_id"])


def job_still_there(scene: Scene, done: Done) -> None:
    assert scene.api("GET", f"{JOBS}/get?job_id={scene.values['job_id']}")["job_id"] == int(
        scene.values["job_id"]
    )


def an_evil_job(scene: Scene) -> None:
    """A job whose name holds an escape sequence, a bidi override and a newline."""
    scene.values["job_id"] = str(scene.api("POST", f"{JOBS}/create", {"name": EVIL_NAME})["job_id"])


def shown_escaped(scene: Scene, done: Done) -> None:
    out = done.stdout.decode()
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out, out
    assert EVIL_SHOWN in out, out
    assert not any(line.startswith("second line") for line in out.splitlines()), out


def an_empty_dbfs_file(scene: Scene) -> None:
    scene.api("POST", "/api/2.0/dbfs/put", {"path": "/empty.txt", "contents": "", "overwrite": True})


def a_notebook(scene: Scene) -> None:
    content = "cHJpbnQoMSkK"  # print(1)
    body = {"path": "/Shared/nb.py", "format": "AUTO", "content": content, "overwrite": True}
    scene.api("POST", "/api/2.0/workspace/import", body)


def a_scope(scene: Scene) -> None:
    scene.api("POST", f"{SECRETS}/scopes/create", {"scope": "etl"})


def a_scope_with_secret_and_acl(scene: Scene) -> None:
    a_scope(scene)
    scene.api("POST", f"{SECRETS}/put", {"scope": "etl", "key": "k", "string_value": "not-a-real-value"})
    body = {"scope": "etl", "principal": "alice@example.com", "permission": "READ"}
    scene.api("POST", f"{SECRETS}/acls/put", body)


def a_git_repo(scene: Scene) -> None:
    """A local Git repository, outside the scratch folder's snapshot only in that it is set up first."""
    scene.values["repo"] = str(make_git_repo(scene.tmp).path)


def a_workspace_repo(scene: Scene) -> None:
    a_git_repo(scene)
    info = scene.api("POST", "/api/2.0/repos", {"url": scene.values["repo"], "provider": "gitHub"})
    scene.values["repo_id"], scene.values["repo_path"] = str(info["id"]), info["path"]


def an_evil_cluster(scene: Scene) -> None:
    """A cluster whose name holds an escape sequence, a bidi override and a newline."""
    spec = {"cluster_name": EVIL_NAME, "spark_version": "16.4.x-scala2.12", "node_type_id": "m5d.large"}
    scene.values["cluster_id"] = scene.api("POST", "/api/2.1/clusters/create", {**spec, "num_workers": 1})[
        "cluster_id"
    ]


def a_fault(status: int, body: dict[str, Any], pattern: str = "GET /api/2.0/preview/scim/v2/Me") -> Setup:
    def setup(scene: Scene) -> None:
        scene.emulator.fault(pattern=pattern, status=status, body=body)

    return setup


def json_is(expected: dict[str, Any]) -> Check:
    """Check that stdout is exactly one JSON value, equal to ``expected`` on its keys."""

    def check(scene: Scene, done: Done) -> None:
        value = json.loads(done.stdout)
        assert isinstance(value, dict), value
        shown = {key: value.get(key) for key in expected}
        wanted = {k: v.format(**scene.values) if isinstance(v, str) else v for k, v in expected.items()}
        assert shown == wanted, value

    return check


def scopes_left(*names: str) -> Check:
    def check(scene: Scene, done: Done) -> None:
        listed = scene.api("GET", f"{SECRETS}/scopes/list").get("scopes") or []
        assert sorted(s["name"] for s in listed) == sorted(names)

    return check


# -- row 3: only the core options brickbook honours ---------------------------------------------------------

INVOKE_ONLY = [
    ("dry", ["--dry"]),
    ("dry-short", ["-R"]),
    ("echo", ["--echo"]),
    ("pty", ["--pty"]),
    ("sudo-prompt", ["--prompt-for-sudo-password"]),
    ("warn-only", ["--warn-only"]),
    ("command-timeout", ["-T", "5"]),
    ("top-level-debug", ["-d"]),
    ("collection", ["-c", "tasks"]),
    ("search-root", ["-r", "."]),
    ("config", ["-f", "invoke.yaml"]),
    ("hide", ["--hide", "both"]),
    ("write-pyc", ["--write-pyc"]),
    ("list-depth", ["-D", "1"]),
]

ROWS: list[Row] = [
    Row(
        f"cli-invoke-option-{name}",
        [*option, "jobs.delete", "{job_id}"],
        2,
        rf"^error: {option[0]} is not a brickbook option",
        setup=a_job,
        check=job_still_there,
    )
    for name, option in INVOKE_ONLY
]
ROWS += [
    Row(
        "cli-invoke-option-dry-after-task",
        ["jobs.delete", "{job_id}", "--dry"],
        2,
        r"^error: jobs\.delete has no option --dry; see brickbook --help jobs\.delete$",
        setup=a_job,
        check=job_still_there,
    ),
    Row(
        "cli-version-after-task-runs-nothing",
        ["jobs.delete", "{job_id}", "--version"],
        0,
        setup=a_job,
        check=job_still_there,
        stdout=r"^brickbook \d",
    ),
    Row(
        "cli-help-unknown-task",
        ["--help", "nope.task"],
        2,
        r"^error: no task named 'nope\.task'; see brickbook --list$",
    ),
    Row("cli-unknown-task", ["nope.task"], 2, r"^error: no task named 'nope\.task'"),
    Row("cli-list-unknown-namespace", ["--list", "nope"], 2, r"^error: no task namespace 'nope'"),
    Row("cli-list-bad-format", ["--list", "-F", "yaml"], 2, r"^error: --list-format must be one of"),
    Row(
        "cli-nothing-after-double-dash",
        ["jobs.delete", "{job_id}", "--", "--force"],
        2,
        r"^error: brickbook takes nothing after '--'",
        setup=a_job,
        check=job_still_there,
    ),
    Row(
        "cli-completion-script-unknown-shell",
        ["--print-completion-script", "tcsh"],
        2,
        r'^error: Completion for shell "tcsh" not supported',
    ),
    Row("cli-completion-works", ["--print-completion-script", "bash"], 0, stdout=r"brickbook --complete"),
    # -- row 11: closed stdout and stdin ---------------------------------------------------------------------
    Row("cli-closed-stdout-task-prints", ["auth.check"], 141, close_stdout=True),
    Row("cli-closed-stdout-version", ["--version"], 141, close_stdout=True),
    Row(
        "cli-closed-stdout-export",
        ["workspace.export", "/Shared/nb.py"],
        141,
        setup=a_notebook,
        close_stdout=True,
    ),
    Row(
        "cli-closed-stdout-task-prints-nothing",
        ["fs.cat", "dbfs:/empty.txt"],
        0,
        setup=an_empty_dbfs_file,
        close_stdout=True,
    ),
    Row(
        "cli-closed-stdout-failure-keeps-its-code",
        ["jobs.get", "987654321", "-o", "json"],
        4,
        r"^error: .*987654321",
        close_stdout=True,
    ),
    Row(
        "cli-closed-stdin-secrets-put",
        ["secrets.put", "etl", "db-password"],
        2,
        r"^error: stdin is closed.*pipe it in.*--file PATH",
        setup=a_scope,
        stdin=None,
    ),
    Row(
        "cli-closed-stdin-secrets-put-json",
        ["secrets.put", "etl", "db-password", "-o", "json"],
        2,
        r"^error: stdin is closed",
        setup=a_scope,
        stdin=None,
        stdout=r'"exit_code": 2',
    ),
    Row(
        "cli-empty-stdin-secrets-put",
        ["secrets.put", "etl", "db-password"],
        2,
        r"^error: the secret value from stdin is empty",
        setup=a_scope,
    ),
]

# -- row 12: the emulator's options (no token set: a bad value is reported first) ----------------------------

BAD_EMULATOR_OPTIONS = [
    ("port-high", ["--port", "99999"], r"--port must be a whole number from 0 to 65535, not '99999'"),
    ("port-negative", ["--port", "-1"], r"--port must be a whole number from 0 to 65535, not '-1'"),
    ("port-text", ["--port", "abc"], r"--port must be a whole number from 0 to 65535, not 'abc'"),
    ("port-missing-value", ["--port"], r"--port needs a value"),
    ("latency-text", ["--latency-ms", "x"], r"--latency-ms must be a whole number"),
    (
        "latency-huge",
        ["--latency-ms", "99999999999"],
        r"--latency-ms must be a whole number from 0 to 600000",
    ),
    ("ttl-zero", ["--token-ttl-seconds", "0"], r"--token-ttl-seconds must be a whole number from 1"),
    ("cluster-nan", ["--cluster-start-seconds", "nan"], r"--cluster-start-seconds must be a number"),
    ("delete-batch-zero", ["--dbfs-delete-batch", "0"], r"--dbfs-delete-batch must be a whole number from 1"),
    (
        "chunk-rows-zero",
        ["--statement-chunk-rows", "0"],
        r"--statement-chunk-rows must be a whole number from 1 to 1000000",
    ),
    (
        "hold-negative",
        ["--statement-hold-seconds", "-1"],
        r"--statement-hold-seconds must be a number from 0",
    ),
    ("faults-bad-json", ["--faults", "[{{"], r"--faults is not valid JSON"),  # {{: str.format
    ("faults-bad-rule", ["--faults", '{{"pattern": "GET /x", "status": 42}}'], r"--faults: status 42 is not"),
    ("faults-deep", ["--faults", "[" * 100_000], r"--faults is nested too deeply"),
    ("faults-missing-file", ["--faults", "{tmp}/none.json"], r"--faults '.*none\.json' is neither JSON nor"),
    ("rate-limit-no-rate", ["--rate-limit", "GET /api/*"], r"bad rate limit 'GET /api/\*'.*missing '=RPS'"),
    (
        "rate-limit-infinite",
        ["--rate-limit", "GET /x=inf"],
        r"bad rate limit 'GET /x=inf'.*positive, finite number",
    ),
    ("user-without-token", ["--user", "alice"], r"--user must look like NAME=VALUE"),
    ("user-twice", ["--user", "a=t1", "--user", "a=t2"], r"--user 'a' is given twice"),
    ("oauth-client-without-secret", ["--oauth-client", "sp"], r"--oauth-client must look like NAME:VALUE"),
    ("empty-data-dir", ["--data-dir", ""], r"--data-dir must not be empty"),
    ("common-output-option", ["-o", "json"], r"emulator\.serve has no option -o"),
    ("common-profile-option", ["-p", "dev"], r"emulator\.serve has no option -p"),
    ("unknown-option", ["--bogus"], r"emulator\.serve has no option --bogus"),
    (
        "no-token",
        ["--port", "0"],
        r"an admin token is required: set BRICKBOOK_EMULATOR_TOKEN or pass --token",
    ),
]
ROWS += [
    Row(f"cli-emulator-{name}", ["emulator.serve", *args], 2, rf"^error: {message}")
    for name, args, message in BAD_EMULATOR_OPTIONS
]
ROWS += [
    Row(
        "cli-emulator-bad-value-creates-no-data-dir",
        ["emulator.serve", "--data-dir", "{tmp}/emu", "--port", "abc"],
        2,
        r"^error: --port must be",
    ),
    # -- row 14 (output half): text output escapes what the server sends ------------------------------------
    Row("cli-text-table-escapes", ["jobs.list"], 0, setup=an_evil_job, check=shown_escaped),
    Row(
        "cli-text-key-value-escapes",
        ["clusters.get", "{cluster_id}"],
        0,
        setup=an_evil_cluster,
        check=shown_escaped,
    ),
    Row(
        "cli-error-line-escapes",
        ["auth.check"],
        2,
        r"^error: INVALID_PARAMETER_VALUE: bad \\x1b\[2J\\x1b\]0;owned\\x07 value",
        setup=a_fault(
            400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "bad \x1b[2J\x1b]0;owned\x07 value"}
        ),
    ),
    # -- row 19: the envelope, mutations under -o json, local repos ----------------------------------------
    Row(
        "cli-envelope-403-permission-denied",
        ["auth.check", "-o", "json"],
        3,
        r"^error: Invalid access token",
        env={"DATABRICKS_TOKEN": "dapi-this-token-is-not-known"},
        check=json_is({"error_code": "PERMISSION_DENIED", "http_status": 403, "exit_code": 3}),
    ),
    Row(
        "cli-envelope-401-unauthenticated",
        ["auth.check", "-o", "json"],
        3,
        r"^error: Credential was not sent",
        setup=a_fault(
            401, {"error_code": 401, "message": "Credential was not sent or was of an unsupported type"}
        ),
        check=json_is({"error_code": "UNAUTHENTICATED", "http_status": 401, "exit_code": 3}),
    ),
    Row(
        "cli-envelope-keeps-service-code",
        ["auth.check", "-o", "json"],
        3,
        r"^error: PERMISSION_DENIED: not yours",
        setup=a_fault(403, {"error_code": "PERMISSION_DENIED", "message": "not yours"}),
        check=json_is({"error_code": "PERMISSION_DENIED", "http_status": 403}),
    ),
    Row(
        "cli-json-secrets-create-scope",
        ["secrets.create-scope", "ops", "-o", "json"],
        0,
        refused=False,
        check=json_is({"created": "ops"}),
    ),
    Row(
        "cli-json-secrets-delete-scope",
        ["secrets.delete-scope", "etl", "-o", "json"],
        0,
        refused=False,
        setup=a_scope,
        check=json_is({"deleted": "etl"}),
    ),
    Row(
        "cli-json-secrets-put",
        ["secrets.put", "etl", "db-password", "-o", "json"],
        0,
        refused=False,
        setup=a_scope,
        stdin=b"hunter2-but-longer\n",
        check=json_is({"put": "etl/db-password", "scope": "etl", "key": "db-password", "bytes": 18}),
    ),
    Row(
        "cli-json-secrets-delete",
        ["secrets.delete", "etl", "k", "-o", "json"],
        0,
        refused=False,
        setup=a_scope_with_secret_and_acl,
        check=json_is({"deleted": "etl/k"}),
    ),
    Row(
        "cli-json-secrets-put-acl",
        ["secrets.put-acl", "etl", "bob@example.com", "write", "-o", "json"],
        0,
        refused=False,
        setup=a_scope,
        check=json_is({"granted": "etl", "principal": "bob@example.com", "permission": "WRITE"}),
    ),
    Row(
        "cli-json-secrets-delete-acl",
        ["secrets.delete-acl", "etl", "alice@example.com", "-o", "json"],
        0,
        refused=False,
        setup=a_scope_with_secret_and_acl,
        check=json_is({"revoked": "etl", "principal": "alice@example.com"}),
    ),
    Row(
        "cli-secrets-create-scope-bad-manager",
        ["secrets.create-scope", "ops", "--initial-manage-principal", "admins"],
        2,
        r"^error: --initial-manage-principal can only be 'users'",
        check=scopes_left(),
    ),
    Row(
        "cli-secrets-put-acl-empty-principal",
        ["secrets.put-acl", "etl", "", "READ"],
        2,
        r"^error: invalid principal",
    ),
    Row(
        "cli-json-repos-create-local-path",
        ["repos.create", "{repo}", "-o", "json"],
        0,
        refused=False,
        setup=a_git_repo,
        check=json_is({"created": "/Repos/admin@example.com/project", "provider": "gitHub"}),
    ),
    Row(
        "cli-json-repos-create-file-url",
        ["repos.create", "file://{repo}", "--path", "/Repos/admin@example.com/etl", "-o", "json"],
        0,
        refused=False,
        setup=a_git_repo,
        check=json_is({"created": "/Repos/admin@example.com/etl", "provider": "gitHub"}),
    ),
    Row(
        "cli-repos-create-unknown-host-needs-provider",
        ["repos.create", "https://git.example.com/acme/etl.git"],
        2,
        r"^error: cannot tell the Git provider of .*: pass --provider",
    ),
    Row(
        "cli-json-repos-delete",
        ["repos.delete", "{repo_id}", "-o", "json"],
        0,
        refused=False,
        setup=a_workspace_repo,
        check=json_is({"deleted": "{repo_path}"}),
    ),
    Row(
        "cli-json-repos-update",
        ["repos.update", "{repo_path}", "--branch", "feature", "-o", "json"],
        0,
        refused=False,
        setup=a_workspace_repo,
        check=json_is({"updated": "{repo_path}", "branch": "feature"}),
    ),
    Row(
        "cli-json-auth-check",
        ["auth.check", "-o", "json"],
        0,
        check=json_is({"user_name": "admin@example.com", "auth_type": "pat"}),
    ),
]
