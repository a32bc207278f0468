"""The error boundary: any error response becomes the right class, code, message and exit code."""

from __future__ import annotations

import json

import pytest

from brickbook import errors
from brickbook.errorbody import api_error_from_response


def build(status: int, body: bytes | str | dict[str, object], headers: dict[str, str] | None = None):
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    raw = raw.encode() if isinstance(raw, str) else raw
    return api_error_from_response(
        status=status, body=raw, headers=headers or {}, method="GET", path="/api/2.2/jobs/get"
    )


@pytest.mark.parametrize(
    ("status", "code", "message", "cls", "exit_code"),
    [
        (400, "INVALID_PARAMETER_VALUE", "bad value", errors.InvalidParameterValue, 2),
        (400, "INVALID_PARAMETER_VALUE", "Job 123 does not exist", errors.ResourceDoesNotExist, 4),
        (400, "INVALID_PARAMETER_VALUE", "Run: 1 in job: 2 doesn't exist", errors.ResourceDoesNotExist, 4),
        (400, "INVALID_STATE", "Cluster is PENDING", errors.InvalidState, 5),
        (400, "RESOURCE_ALREADY_EXISTS", "Scope x already exists!", errors.ResourceAlreadyExists, 5),
        (400, "MAX_BLOCK_SIZE_EXCEEDED", "too big", errors.BadRequest, 2),
        (401, None, "Credential was not sent", errors.Unauthenticated, 3),
        (403, None, "Invalid access token.", errors.PermissionDenied, 3),
        (403, "PERMISSION_DENIED", "no", errors.PermissionDenied, 3),
        (404, "RESOURCE_DOES_NOT_EXIST", "gone", errors.ResourceDoesNotExist, 4),
        (404, "ENDPOINT_NOT_FOUND", "no such endpoint", errors.NotFound, 4),
        (409, "ALREADY_EXISTS", "dup", errors.AlreadyExists, 5),
        (409, "ABORTED", "raced", errors.Aborted, 5),
        (409, "RESOURCE_CONFLICT", "conflict", errors.ResourceConflict, 5),
        (429, "REQUEST_LIMIT_EXCEEDED", "slow down", errors.RequestLimitExceeded, 6),
        (429, "RESOURCE_EXHAUSTED", "quota", errors.ResourceExhausted, 6),
        (499, "CANCELLED", "cancelled", errors.Cancelled, 6),
        (500, "INTERNAL_ERROR", "boom", errors.InternalError, 6),
        (500, "UNKNOWN", "boom", errors.Unknown, 6),
        (500, "DATA_LOSS", "lost", errors.DataLoss, 6),
        (501, "NOT_IMPLEMENTED", "nope", errors.NotImplemented, 2),
        (502, None, "Bad Gateway", errors.BadGateway, 6),
        (503, "TEMPORARILY_UNAVAILABLE", "later", errors.TemporarilyUnavailable, 6),
        (504, "DEADLINE_EXCEEDED", "slow", errors.DeadlineExceeded, 6),
        (418, None, "teapot", errors.BadRequest, 2),
        (507, None, "full", errors.InternalError, 6),
    ],
)
def test_error_class_table(status, code, message, cls, exit_code):
    """Each (status, error_code, message) maps to the documented class and exit code."""
    body: dict[str, object] = {"message": message}
    if code:
        body["error_code"] = code
    error = build(status, body)
    assert type(error) is cls
    assert error.exit_code == exit_code
    assert error.http_status == status
    assert error.error_code == code
    assert message.rstrip(".") in error.message


def test_error_code_wins_over_status():
    """A 400 carrying RESOURCE_ALREADY_EXISTS is a conflict, as the SDK classifies it."""
    error = build(400, {"error_code": "RESOURCE_ALREADY_EXISTS", "message": "exists"})
    assert isinstance(error, errors.ResourceConflict)


def test_invalid_state_is_both_bad_request_and_conflict():
    """INVALID_STATE can be caught as BadRequest (like the SDK) or as ResourceConflict."""
    error = build(400, {"error_code": "INVALID_STATE", "message": "state"})
    assert isinstance(error, errors.BadRequest)
    assert isinstance(error, errors.ResourceConflict)


def test_integer_error_code_is_treated_as_absent():
    """The auth front door's integer code falls back to the status and strips the [ReqId] suffix."""
    error = build(403, {"error_code": 403, "message": "Invalid access token. [ReqId: abc-123]"})
    assert type(error) is errors.PermissionDenied
    assert error.error_code is None
    assert error.message == "Invalid access token."
    assert error.request_id == "abc-123"


def test_request_id_from_details_and_header():
    """The request id comes from RequestInfo details, else from the x-request-id header."""
    detail = {"@type": "type.googleapis.com/google.rpc.RequestInfo", "request_id": "r-1", "serving_data": ""}
    from_details = build(404, {"error_code": "NOT_FOUND", "message": "x", "details": [detail]})
    from_header = build(404, {"error_code": "NOT_FOUND", "message": "x"}, {"x-request-id": "r-2"})
    assert from_details.request_id == "r-1"
    assert from_header.request_id == "r-2"


def test_html_gateway_page_gives_readable_message():
    """An HTML error page becomes its <pre> or <title> text, never a decode error."""
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>oops</h1></body></html>"
    error = build(502, page)
    assert type(error) is errors.BadGateway
    assert error.message == "502 Bad Gateway"
    pre = build(403, "<html><body><pre>Error 403 Invalid access token.</pre></body></html>")
    assert pre.message == "Error 403 Invalid access token."


def test_empty_body_uses_reason_phrase():
    """An empty body yields the HTTP reason phrase."""
    error = build(503, b"")
    assert type(error) is errors.TemporarilyUnavailable
    assert error.message == "Service Unavailable"


def test_plain_text_code_and_message():
    """A plain ``CODE: message`` body is split into code and message."""
    error = build(400, "INVALID_PARAMETER_VALUE: path must be absolute")
    assert type(error) is errors.InvalidParameterValue
    assert error.message == "path must be absolute"


def test_non_json_garbage_and_bad_utf8():
    """Malformed JSON and invalid UTF-8 still give a readable one-line message."""
    assert build(500, b'{"error_code": "INTER').message == '{"error_code": "INTER'
    assert "\n" not in build(500, b"line one\nline two \xff").message


def test_api12_scim_and_oauth_shapes():
    """API 1.2 ``error``, SCIM ``detail`` and OAuth ``error_description`` bodies are read."""
    assert build(400, {"error": "bad thing"}).message == "bad thing"
    scim = build(404, {"detail": "User not found", "status": "404"})
    assert (scim.error_code, scim.message) == ("SCIM_404", "User not found")
    oauth = build(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
    assert oauth.message == "invalid_client: Client authentication failed"


def test_long_message_is_cut_to_one_line():
    """A huge message is cut so the user's one line stays one line, and short enough to read."""
    error = build(500, {"error_code": "INTERNAL_ERROR", "message": "x" * 5000})
    assert len(error.message) <= 300
    assert len(str(error)) <= 400


def test_unprintable_characters_from_the_service_are_escaped():
    """Terminal escapes and other control characters in a service message are shown escaped."""
    error = build(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Path (/a\x1b[2Jb\x00) missing"})
    assert error.message == "Path (/a\\x1b[2Jb\\x00) missing"


def test_redirect_says_to_check_the_host():
    """A 3xx (a login redirect) explains itself instead of failing obscurely."""
    error = build(302, b"", {"location": "https://login.example.com/"})
    assert "login.example.com" in error.message
    assert "host" in error.message


def test_str_names_code_call_and_status():
    """str(error) carries the code, message, method, path and status for the one-line report."""
    error = build(404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no such job"})
    assert str(error) == "RESOURCE_DOES_NOT_EXIST: no such job (GET /api/2.2/jobs/get, HTTP 404)"


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (errors.UsageError, 2),
        (errors.ConfigError, 2),
        (errors.RunFailed, 7),
        (errors.WaitTimeout, 8),
        (errors.LockHeld, 9),
        (errors.Interrupted, 130),
    ],
)
def test_local_error_exit_codes(cls, code):
    """Errors raised locally carry their documented exit codes."""
    assert cls.exit_code == code


def test_odd_error_code_and_request_id_are_escaped_and_short():
    """A hostile error_code or request id cannot smuggle terminal escapes or pages of text into the line."""
    body = {"error_code": "BAD\x1b[2J" + "X" * 500, "message": "m", "details": [{"request_id": "r\n" * 300}]}
    error = build(400, body)
    assert "\x1b" not in str(error)
    assert len(error.error_code or "") <= 64
    assert len(error.request_id or "") <= 100
    assert "\n" not in (error.request_id or "")
