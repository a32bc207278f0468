"""Logging and output: JSON lines with context, console rendering, and redaction everywhere."""

from __future__ import annotations

import io
import json

from brickbook.errors import ResourceDoesNotExist
from brickbook.log import configure_logging, get_logger
from brickbook.output import error_envelope, render, render_table
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
