"""Hostile rows for the server's answers: what a broken proxy or a misbehaving service sends back.

``DATABRICKS_HOST`` points at a small hostile server on loopback (``hostile_server``) instead of the
emulator. Every row ends with the documented exit code (6: no usable answer) and one line saying
what was wrong with the answer; a body of 100 MB is not read past brickbook's bound and a server
trickling bytes is cut off by ``BRICKBOOK_HTTP_TIMEOUT`` (set low here: one second, no long sleep).
No local file is left behind by a command that was to write one.
"""

from __future__ import annotations

from tests.hostile import hostile_server
from tests.hostile.table import Row, Scene

# One attempt keeps the slow rows short; the retried rows keep the table's default of two.
ONE_ATTEMPT = {"BRICKBOOK_MAX_ATTEMPTS": "1", "BRICKBOOK_HTTP_TIMEOUT": "1"}


def _at(kind: str, **extra: str) -> dict[str, str | None]:
    """The environment of a row whose workspace is the hostile server giving ``kind`` answers."""
    return {"DATABRICKS_HOST": hostile_server.url(kind), **extra}


def _query_file(scene: Scene) -> None:
    (scene.tmp / "q.sql").write_text("SELECT 1 AS one\n")


def _row(row_id: str, kind: str, args: list[str], error: str, **extra: str) -> Row:
    return Row(row_id, args, 6, error, env=_at(kind, **extra))


NOT_JSON = r"^error: the answer was not JSON \("
TOO_LARGE = r"^error: the answer is larger than 32 MiB .*stopped reading it"
TRICKLE = r"^error: timed out reading the answer \(.*not complete after 1 s"
DROPPED = r"^error: the connection was dropped \(.*without sending complete message body"

ROWS = [
    # A proxy's HTML error page (502): a transient failure, retried, then exit 6 naming the status.
    _row(
        "server-html-502-read",
        "html",
        ["workspace.list", "/"],
        r"^error: 502 Bad Gateway \(GET .*after retries",
    ),
    _row("server-html-502-post", "html", ["secrets.create-scope", "s"], r"^error: 502 Bad Gateway \(POST "),
    # A login page answering 200 where JSON belongs: never taken for an empty listing.
    _row("server-html-200-list", "html-ok", ["jobs.list"], NOT_JSON + r"GET .*text/html"),
    _row("server-html-200-get", "html-ok", ["clusters.get", "0123-456789-abcdefgh"], NOT_JSON),
    # A 200 that is not JSON: a read, a create (not retried: it may have been applied) and a runbook.
    _row("server-invalid-json-read", "invalid-json", ["secrets.list-scopes"], NOT_JSON + r"GET "),
    _row("server-invalid-json-create", "invalid-json", ["secrets.create-scope", "s"], NOT_JSON + r"POST "),
    _row("server-invalid-json-pools", "invalid-json", ["pools.list"], NOT_JSON),
    _row("server-invalid-json-mlflow", "invalid-json", ["mlflow.experiments"], NOT_JSON),
    Row(
        "server-invalid-json-export-leaves-no-file",
        ["workspace.export", "--path", "/Shared/n", "--dest", "out.py"],
        6,
        NOT_JSON,
        env=_at("invalid-json"),
    ),
    Row(
        "server-invalid-json-sql-report-leaves-no-csv",
        ["runbook.sql-report", "q.sql", "out.csv", "--warehouse-id", "abc123"],
        6,
        NOT_JSON,
        setup=_query_file,
        env=_at("invalid-json"),
    ),
    # A body cut short (Content-Length promised more): the connection dropped, retried, exit 6.
    _row("server-truncated-list", "truncated", ["workspace.list", "/"], DROPPED),
    _row("server-truncated-get", "truncated", ["jobs.get", "1"], DROPPED),
    Row(
        "server-truncated-copy-leaves-no-file",
        ["fs.cp", "dbfs:/data/big.bin", "big.bin"],
        6,
        DROPPED,
        env=_at("truncated"),
    ),
    # An empty body is the service's `{}`: an empty listing, exit 0, nothing printed as an error.
    Row("server-empty-body-list", ["workspace.list", "/"], 0, None, env=_at("empty"), stdout=r"\(none\)"),
    # 100 MB: brickbook stops reading at its bound (the suite reports the process's peak memory).
    _row("server-huge-body-list", "huge", ["workspace.list", "/"], TOO_LARGE, **ONE_ATTEMPT),
    _row("server-huge-body-jobs", "huge", ["jobs.list"], TOO_LARGE, **ONE_ATTEMPT),
    Row(
        "server-huge-body-copy-leaves-no-file",
        ["fs.cp", "dbfs:/data/big.bin", "big.bin"],
        6,
        TOO_LARGE,
        env=_at("huge", **ONE_ATTEMPT),
    ),
    # A slow loris: a byte every quarter second, never done; the HTTP timeout bounds the whole body.
    _row("server-slow-loris-list", "slow-loris", ["workspace.list", "/"], TRICKLE, **ONE_ATTEMPT),
    _row("server-slow-loris-post", "slow-loris", ["jobs.run-now", "1", "--no-wait"], TRICKLE, **ONE_ATTEMPT),
    Row(
        "server-slow-loris-runbook",
        ["runbook.run-job", "1"],
        6,
        TRICKLE,
        env=_at("slow-loris", **ONE_ATTEMPT),
    ),
]

# The namespace and the runbook the table had no row for yet: their input checks and a broken answer.
LONG_FILTER = "userName eq " + "x" * 5000
ROWS += [
    Row("iam-empty-group-name", ["iam.group-add-member", "", "alice@example.com"], 2, r"group name must be"),
    Row("iam-filter-too-long", ["iam.users", "--filter", LONG_FILTER], 2, r"at most 2000 are accepted"),
    _row("server-invalid-json-iam", "invalid-json", ["iam.groups"], NOT_JSON + r"GET "),
    Row(
        "deploy-notebook-job-missing-source",
        ["runbook.deploy-notebook-job", "nope.py", "/Shared/x"],
        2,
        r"SOURCE 'nope.py' does not exist",
    ),
    Row(
        "deploy-notebook-job-relative-dest",
        ["runbook.deploy-notebook-job", "{tmp}/n.py", "Shared/x"],
        2,
        r"workspace path must be absolute",
        setup=lambda scene: (scene.tmp / "n.py").write_text("print(1)\n") and None,
    ),
    Row(
        "server-huge-body-deploy-notebook-job",
        ["runbook.deploy-notebook-job", "{tmp}/n.py", "/Shared/x"],
        6,
        TOO_LARGE,
        setup=lambda scene: (scene.tmp / "n.py").write_text("print(1)\n") and None,
        env=_at("huge", **ONE_ATTEMPT),
    ),
    Row("demo-unknown-option", ["demo", "--bogus"], 2, r"demo has no option --bogus"),
]
