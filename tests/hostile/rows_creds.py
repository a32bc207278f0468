"""Hostile-input rows for credentials, hosts and the transport (issue 7 rows 2, 18 and half of 16).

Row 2: a credential that cannot go in an HTTP header (CR, LF, other control characters, non-ASCII), from
the environment, a profile or the invoke config, fails at configuration time with exit 2 and one line
naming the setting and its source, never the value (nor any form derived from it). The same kind:
hosts and profile names with control characters, and config files that are binary, huge or endless.
Row 18: a host without a scheme becomes https://; a plain-HTTP server behind it is a configuration error
(exit 2), not retried. Row 16: "still failing after retries" only after retries; a non-idempotent POST
that got a 500 says it was not retried and may or may not have been applied.
"""

from __future__ import annotations

import base64
import json
import subprocess
import urllib.parse
from collections.abc import Callable

from tests.conftest import CLIENT_ID, CLIENT_SECRET
from tests.hostile.table import Row, Scene

Check = Callable[[Scene, "subprocess.CompletedProcess[bytes]"], None]

# Distinctive fragments: none of them may be printed, in any form.
TOKEN_HEAD = "dapi-hostile-creds"
TOKEN_TAIL = "tail-7f3e9a"


def _forms(value: str) -> list[str]:
    """The value and what code paths could derive from it for printing."""
    raw = value.encode("utf-8", "surrogateescape")
    return [
        value,
        repr(value)[1:-1],
        repr(raw)[2:-1],
        json.dumps(value)[1:-1],
        urllib.parse.quote(value, safe=""),
        base64.b64encode(raw).decode(),
        " ".join(value.split()),
    ]


def _never_printed(*values: str) -> Check:
    """Check that no form of the values, nor their distinctive fragments, reached stdout or stderr."""

    def check(_scene: Scene, done: subprocess.CompletedProcess[bytes]) -> None:
        printed = (done.stdout + done.stderr).decode("utf-8", "replace")
        for value in values:
            for form in _forms(value):
                assert form not in printed, f"a form of a credential was printed: {form!r}"
        assert TOKEN_HEAD not in printed
        assert TOKEN_TAIL not in printed

    return check


def _json_envelope(exit_code: int, then: Check | None = None) -> Check:
    """Check that -o json printed exactly one JSON error envelope with this exit code."""

    def check(scene: Scene, done: subprocess.CompletedProcess[bytes]) -> None:
        envelope = json.loads(done.stdout)
        assert envelope["exit_code"] == exit_code
        if then is not None:
            then(scene, done)

    return check


def _no_retries(_scene: Scene, done: subprocess.CompletedProcess[bytes]) -> None:
    assert b"http.retry" not in done.stderr


def _bad_token(middle: str) -> str:
    return f"{TOKEN_HEAD}{middle}{TOKEN_TAIL}"


def _token_rows() -> list[Row]:
    cases = {
        "lf": ("\n", r"a line break \(CR or LF\)"),
        "cr": ("\r", r"a line break \(CR or LF\)"),
        "crlf-inside": ("\r\nX-Injected: 1\r\n", r"a line break \(CR or LF\)"),
        "control": ("\x01", r"a control character \(U\+0001\)"),
        "escape": ("\x1b[2J", r"a control character \(U\+001B\)"),
        "non-ascii": ("é", r"a non-ASCII character \(U\+00E9\)"),
        "nbsp": ("\u00a0", r"a non-ASCII character \(U\+00A0\)"),
    }
    rows = []
    for name, (middle, complaint) in cases.items():
        token = _bad_token(middle)
        rows.append(
            Row(
                f"creds-token-{name}-env",
                ["auth.check", "-o", "json"],
                2,
                rf"^error: the token from DATABRICKS_TOKEN contains {complaint}, which cannot be sent in an "
                r"HTTP header: set it again without it \(the value is not shown\)$",
                env={"DATABRICKS_TOKEN": token},
                check=_json_envelope(2, _never_printed(token)),
            )
        )
    return rows


def _profile_file(name: str, body: str) -> Callable[[Scene], None]:
    """Write a config file in the scratch folder; ``{url}`` in it becomes the emulator's URL."""

    def setup(scene: Scene) -> None:
        (scene.tmp / name).write_text(body.replace("{url}", scene.emulator.url), encoding="utf-8")

    return setup


def _home_invoke_yaml(body: str) -> Callable[[Scene], None]:
    def setup(scene: Scene) -> None:
        (scene.tmp.parent / "home" / ".invoke.yaml").write_text(body, encoding="utf-8")

    return setup


def _bytes_file(name: str, data: bytes) -> Callable[[Scene], None]:
    def setup(scene: Scene) -> None:
        (scene.tmp / name).write_bytes(data)

    return setup


def _hostport(scene: Scene) -> None:
    scene.values["hostport"] = scene.emulator.url.split("://", 1)[1]


def _fault(**rule: object) -> Callable[[Scene], None]:
    def setup(scene: Scene) -> None:
        scene.emulator.fault(**rule)

    return setup


def _sent_once(path: str) -> Check:
    def check(scene: Scene, _done: subprocess.CompletedProcess[bytes]) -> None:
        assert len([e for e in scene.emulator.requests(path) if e["method"] == "POST"]) == 1

    return check


def _imported_after_retry(scene: Scene, done: subprocess.CompletedProcess[bytes]) -> None:
    imports = scene.emulator.requests("/api/2.0/workspace/import")
    assert len(imports) == 2, imports
    assert b"http.retry" in done.stderr
    assert (
        scene.api("GET", "/api/2.0/workspace/get-status?path=/Shared/creds-row")["object_type"] == "NOTEBOOK"
    )


def _notebook_and_lost_import_answer(scene: Scene) -> None:
    (scene.tmp / "a.py").write_text("print(1)\n")
    # The import is applied, then its answer replaced by a 503 (Retry-After 0: no real wait).
    scene.emulator.fault(
        pattern="POST /api/2.0/workspace/import", status=503, after_handler=True, retry_after="0"
    )


NO_ENV_CREDENTIALS = {"DATABRICKS_HOST": None, "DATABRICKS_TOKEN": None}
MULTILINE_TOKEN = f"{TOKEN_HEAD}-first\n  {TOKEN_TAIL}"

ROWS: list[Row] = [
    *_token_rows(),
    Row(
        "creds-client-secret-lf-env",
        ["auth.check"],
        2,
        r"^error: the client_secret from DATABRICKS_CLIENT_SECRET contains a line break",
        env={
            "DATABRICKS_TOKEN": None,
            "DATABRICKS_CLIENT_ID": CLIENT_ID,
            "DATABRICKS_CLIENT_SECRET": _bad_token("\n"),
        },
        check=_never_printed(_bad_token("\n"), f"{CLIENT_ID}:{_bad_token(chr(10))}"),
    ),
    Row(
        "creds-client-id-non-ascii-env",
        ["auth.check"],
        2,
        r"^error: the client_id from DATABRICKS_CLIENT_ID contains a non-ASCII character",
        env={
            "DATABRICKS_TOKEN": None,
            "DATABRICKS_CLIENT_ID": "sp-clïent",
            "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET,
        },
    ),
    Row(
        "creds-client-id-colon-env",
        ["auth.check"],
        2,
        r"^error: the client_id from DATABRICKS_CLIENT_ID contains a colon",
        env={
            "DATABRICKS_TOKEN": None,
            "DATABRICKS_CLIENT_ID": "sp:client",
            "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET,
        },
    ),
    Row(
        "creds-token-multiline-profile",
        ["auth.check", "--profile", "dev"],
        2,
        r"^error: the token from profile \[dev\] of .*cfg contains a line break",
        setup=_profile_file("cfg", "[dev]\nhost = {url}\ntoken = " + MULTILINE_TOKEN + "\n"),
        env={**NO_ENV_CREDENTIALS, "DATABRICKS_CONFIG_FILE": "{tmp}/cfg"},
        check=_never_printed(MULTILINE_TOKEN.replace("  ", "")),
    ),
    Row(
        "creds-token-invoke-yaml",
        ["auth.check", "-o", "json"],
        2,
        r"^error: brickbook\.token in the invoke config \(invoke\.yaml\) is not read: set DATABRICKS_TOKEN",
        setup=_home_invoke_yaml(f'brickbook:\n  token: "{TOKEN_HEAD}\\n{TOKEN_TAIL}"\n'),
        check=_json_envelope(2, _never_printed(f"{TOKEN_HEAD}\n{TOKEN_TAIL}")),
    ),
    Row(
        "creds-host-lf-env",
        ["auth.check"],
        2,
        r"^error: the host from DATABRICKS_HOST contains a line break \(CR or LF\): set it again$",
        env={"DATABRICKS_HOST": "{url}\nevil.example.com"},
    ),
    Row(
        "creds-host-escape-in-profile",
        ["auth.check", "-p", "dev"],
        2,
        r"^error: the host from profile \[dev\] of .*cfg contains a control character \(U\+001B\)",
        setup=_profile_file("cfg", "[dev]\nhost = https://adb-1.\x1b[31mexample.com\ntoken = dapi-x-1234\n"),
        env={**NO_ENV_CREDENTIALS, "DATABRICKS_CONFIG_FILE": "{tmp}/cfg"},
    ),
    Row(
        "creds-profile-lf-option",
        ["auth.check", "--profile", "dev\nprod"],
        2,
        r"^error: the profile name 'dev\\nprod' from --profile contains a control character",
    ),
    Row(
        "creds-profile-lf-env",
        ["auth.check"],
        2,
        r"^error: the profile name 'dev\\nprod' from DATABRICKS_CONFIG_PROFILE contains a control",
        env={"DATABRICKS_CONFIG_PROFILE": "dev\nprod"},
    ),
    Row(
        "creds-config-file-binary",
        ["auth.check"],
        2,
        r"^error: cannot read config file .*cfg\.bin: it is not UTF-8 text \(byte 5 is not\)$",
        setup=_bytes_file("cfg.bin", b"\x7fELF\xff\xfe\x00\x01" * 64),
        env={**NO_ENV_CREDENTIALS, "DATABRICKS_CONFIG_FILE": "{tmp}/cfg.bin"},
    ),
    Row(
        "creds-config-file-huge",
        ["auth.check"],
        2,
        r"^error: cannot read config file .*big\.cfg: it is larger than 1024 KiB",
        setup=_bytes_file("big.cfg", b"[DEFAULT]\n" + b"# padding line\n" * 150_000),
        env={**NO_ENV_CREDENTIALS, "DATABRICKS_CONFIG_FILE": "{tmp}/big.cfg"},
    ),
    Row(
        "creds-config-file-endless",
        ["auth.check", "--profile", "dev"],
        2,
        r"^error: cannot read config file /dev/zero: it is larger than 1024 KiB",
        env={**NO_ENV_CREDENTIALS, "DATABRICKS_CONFIG_FILE": "/dev/zero"},
    ),
    Row(
        "creds-config-file-directory",
        ["auth.check", "--profile", "dev"],
        2,
        r"^error: cannot read config file .*: Is a directory$",
        env={**NO_ENV_CREDENTIALS, "DATABRICKS_CONFIG_FILE": "{tmp}"},
    ),
    # Row 18: no scheme means https://, and the emulator speaks plain HTTP.
    Row(
        "creds-host-without-scheme-plain-http",
        ["auth.check", "-o", "json"],
        2,
        r"^error: the server at https://127\.0\.0\.1:\d+ does not speak TLS \(handshake failed: .*\); "
        r"check the scheme: a plain-HTTP server there is http://127\.0\.0\.1:\d+ \(http:// is allowed for "
        r"loopback hosts\)$",
        setup=_hostport,
        env={"DATABRICKS_HOST": "{hostport}"},
        check=_json_envelope(2, _no_retries),
    ),
    Row(
        "creds-host-https-plain-http",
        ["workspace.mkdirs", "/Shared/creds-tls"],
        2,
        r"does not speak TLS .*check the scheme",
        setup=_hostport,
        env={"DATABRICKS_HOST": "https://{hostport}"},
        check=_no_retries,
    ),
    # Row 16: the retry hint depends on what really happened.
    Row(
        "creds-post-500-not-retried",
        ["jobs.create", "--json", '{{"name": "creds-row"}}'],  # braces doubled: args are str.format-ed
        6,
        r"^error: INTERNAL_ERROR: .*\(POST /api/2\.\d/jobs/create, HTTP 500\); "
        r"not retried, because repeating this request is not safe: it may or may not have been applied, "
        r"so check before running it again$",
        refused=False,
        setup=_fault(pattern="POST /api/2.2/jobs/create", status=500),
        check=_sent_once("/api/2.2/jobs/create"),
    ),
    Row(
        "creds-get-503-still-failing-after-retries",
        ["auth.check"],
        6,
        r"HTTP 503\); still failing after retries",
        setup=_fault(pattern="GET /api/2.0/preview/scim/v2/Me", status=503, times=0, retry_after="0"),
    ),
    Row(
        "creds-get-503-single-attempt",
        ["auth.check"],
        6,
        r"HTTP 503\); not retried: the retry budget allows one attempt",
        setup=_fault(pattern="GET /api/2.0/preview/scim/v2/Me", status=503, times=0, retry_after="0"),
        env={"BRICKBOOK_MAX_ATTEMPTS": "1"},
    ),
    # retry.py: an import with --overwrite whose answer was lost (applied, then a 503) is resent.
    Row(
        "creds-import-overwrite-lost-answer-retried",
        ["workspace.import", "a.py", "/Shared/creds-row", "--overwrite"],
        0,
        None,
        refused=False,
        setup=_notebook_and_lost_import_answer,
        check=_imported_after_retry,
    ),
]
