"""Logging and output: JSON lines with context, console rendering, and redaction everywhere."""

from __future__ import annotations

import io
import json

import pytest

from brickbook import errors
from brickbook.errors import ResourceDoesNotExist
from brickbook.log import configure_logging, get_logger
from brickbook.output import ProgressLine, error_envelope, printable, render, render_table, render_text
from brickbook.redaction import redact, register_secret


def test_json_lines_carry_timestamp_level_event_and_context():
    """A JSON log line has an ISO UTC timestamp, level, event and bound context."""
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream)
    get_logger(runbook="deploy", step="job exists").info("step.finished", job_id=42)
    line = json.loads(stream.getvalue())
    assert line["event"] == "step.finished"
    assert line["level"] == "info"
    assert line["runbook"] == "deploy"
    assert line["job_id"] == 42
    assert line["timestamp"].endswith("Z")


def test_debug_events_are_filtered_at_info():
    """At the default level, debug events (one per HTTP call) are not printed."""
    stream = io.StringIO()
    configure_logging(fmt="json", level="info", stream=stream)
    get_logger().debug("http.request")
    assert stream.getvalue() == ""


def test_console_format_is_readable():
    """The console renderer prints the event name, not JSON."""
    stream = io.StringIO()
    configure_logging(fmt="console", stream=stream)
    get_logger().info("hello", who="world")
    assert "hello" in stream.getvalue()
    assert not stream.getvalue().startswith("{")


def test_registered_secrets_and_sensitive_keys_are_masked_in_logs():
    """Registered secret values and sensitive keys never reach the log stream."""
    register_secret("s3cr3t-value-for-log-test")
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream)
    get_logger().info(
        "x", note="value s3cr3t-value-for-log-test here", token="abc", nested={"client_secret": "zz"}
    )
    text = stream.getvalue()
    assert "s3cr3t-value-for-log-test" not in text
    line = json.loads(text)
    assert line["token"] == "***"
    assert line["nested"]["client_secret"] == "***"


def test_output_is_redacted():
    """Rendered output masks registered secrets in both formats."""
    register_secret("another-secret-for-output")
    for fmt in ("json", "text"):
        out = io.StringIO()
        render({"v": "another-secret-for-output"}, fmt, stream=out)  # type: ignore[arg-type]
        assert "another-secret-for-output" not in out.getvalue()
    assert redact("x another-secret-for-output y") == "x *** y"


def test_table_rendering_aligns_columns():
    """A list of objects renders as an aligned table with upper-case headers."""
    text = render_table([{"id": 1, "name": "a"}, {"id": 22, "name": "bbb", "nested": {"x": 1}}])
    assert text.splitlines() == ["ID  NAME", "1   a", "22  bbb"]


def test_error_envelope_fields():
    """The JSON error envelope carries error_code, http_status, message and exit_code."""
    error = ResourceDoesNotExist(
        "gone", http_status=404, error_code="RESOURCE_DOES_NOT_EXIST", request_id="r"
    )
    envelope = error_envelope(error, 4, "gone")
    assert envelope == {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "http_status": 404,
        "message": "gone",
        "exit_code": 4,
        "request_id": "r",
    }


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.PermissionDenied("Invalid access token.", http_status=403), "PERMISSION_DENIED"),
        (errors.Unauthenticated("Credential was not sent", http_status=401), "UNAUTHENTICATED"),
        (errors.NotFound("Not Found", http_status=404), "NOT_FOUND"),
        (errors.TooManyRequests("slow down", http_status=429), "REQUEST_LIMIT_EXCEEDED"),
        (errors.TemporarilyUnavailable("later", http_status=503), "TEMPORARILY_UNAVAILABLE"),
        (errors.BadGateway("proxy", http_status=502), "INTERNAL_ERROR"),
        (errors.BadRequest("teapot", http_status=418), "BAD_REQUEST"),
        (errors.PermissionDenied("no", http_status=403, error_code="CUSTOM_CODE"), "CUSTOM_CODE"),
        (errors.UsageError("bad option"), None),
    ],
)
def test_error_envelope_names_the_documented_code_when_the_service_sent_none(
    error: errors.BrickbookError, code: str | None
):
    """An answer without an error_code (or with the front door's integer) gets the status's documented one."""
    assert error_envelope(error, error.exit_code, str(error))["error_code"] == code


def test_printable_escapes_what_a_terminal_would_act_on():
    """Control characters, escape sequences, bidi overrides and separators become visible escapes."""
    assert printable("a\nb\rc\td") == "a\\nb\\rc\\td"
    assert printable("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m"
    assert printable("x\u202ey\u2028z\x7f\x85") == "x\\u202ey\\u2028z\\x7f\\x85"
    assert printable("\udcff") == "\\udcff"  # an undecodable byte kept as a surrogate
    assert printable("naïve 名前 ok") == "naïve 名前 ok"


def test_tables_and_key_value_lines_escape_server_text():
    """A name with a newline or an ANSI sequence stays on its row and cannot colour the terminal."""
    table = render_table([{"path": "/Shared/a\nb", "kind": "\x1b[2J"}])
    assert table.splitlines() == ["PATH          KIND", "/Shared/a\\nb  \\x1b[2J"]
    lines = render_text({"name\x1b]0;title\x07": "v\r\nw"}).splitlines()
    assert lines == ["name\\x1b]0;title\\x07: v\\r\\nw"]
    out = io.StringIO()
    render([{"path": "/x\ny"}], "text", stream=out)
    assert out.getvalue() == "PATH\n/x\\ny\n"


def test_json_output_is_left_to_json_escaping():
    """-o json keeps the exact value (json.dumps escapes control characters itself)."""
    out = io.StringIO()
    render({"path": "/a\nb\x1b"}, "json", stream=out)
    assert "\x1b" not in out.getvalue() and json.loads(out.getvalue()) == {"path": "/a\nb\x1b"}


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_escapes_server_text():
    """The live progress line shows a state message's control characters as escapes."""
    terminal = FakeTerminal()
    ProgressLine(terminal).update("RUNNING: \x1b[2Jcleared\nnext")
    assert terminal.getvalue() == "\r\x1b[KRUNNING: \\x1b[2Jcleared\\nnext"


def test_any_log_line_blanks_the_live_progress_line_first():
    """An op logging while the progress line shows never writes its line after the half-drawn one."""
    terminal = FakeTerminal()
    configure_logging(fmt="json", stream=terminal)
    line = ProgressLine(terminal)
    line.update("job 'etl' matches its spec")
    get_logger().info("job.created", job_id=1)
    assert terminal.getvalue().startswith("\r\x1b[Kjob 'etl' matches its spec\r\x1b[K{")
    line.close()
    get_logger().info("after.close")
    assert terminal.getvalue().count("\r\x1b[K") == 2  # a closed line is no longer cleared


# Runs in a fresh interpreter: configures logging before structlog is imported, logs, reports.
_DEFERRED = """
import io, json, sys
from brickbook.log import configure_logging, get_logger
from brickbook.redaction import register_secret
stream = io.StringIO()
configure_logging(fmt="json", level="info", stream=stream)
log = get_logger(run="r1").bind(step="s")
log.debug("quiet", n=1)
quiet = "structlog" in sys.modules
register_secret("hunter2-secret")
log.info("loud", token="x", said="hunter2-secret")
line = json.loads(stream.getvalue())
print(json.dumps({"quiet_loaded": quiet, "line": line}))
"""


def test_a_logger_loads_structlog_only_for_a_line_it_writes():
    """Before structlog is imported, an event below the level is dropped without it; the next is written
    as configured, with the bound context and secrets masked."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _DEFERRED], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    assert result["quiet_loaded"] is False
    line = result["line"]
    assert (line["event"], line["level"], line["run"], line["step"]) == ("loud", "info", "r1", "s")
    assert line["token"] == "***"
    assert "hunter2-secret" not in json.dumps(line)
