"""The retry policy: which failures are retried, how long it waits, and when it gives up."""

from __future__ import annotations

import email.utils

import pytest

from brickbook.config import RetrySettings
from brickbook.errors import (
    ApiError,
    BadGateway,
    InternalError,
    InvalidParameterValue,
    TemporarilyUnavailable,
    TooManyRequests,
    TransportError,
)
from brickbook.retry import RetryPolicy, is_idempotent, parse_retry_after, should_retry
from tests.fakes import FakeTime


def api_error(cls: type[ApiError], status: int, retry_after: float | None = None) -> ApiError:
    return cls("x", http_status=status, method="POST", path="/p", retry_after=retry_after)


def transport(sent: bool) -> TransportError:
    return TransportError("x", method="POST", path="/p", request_sent=sent)


@pytest.mark.parametrize(
    ("error", "method", "idempotent", "expected"),
    [
        (api_error(TooManyRequests, 429), "POST", False, True),
        (api_error(TemporarilyUnavailable, 503), "GET", True, True),
        (api_error(BadGateway, 502), "GET", True, True),
        (api_error(InternalError, 500), "GET", True, True),
        (api_error(TemporarilyUnavailable, 503), "POST", False, False),
        (api_error(TemporarilyUnavailable, 503), "POST", True, True),
        (api_error(InternalError, 500), "POST", False, False),
        (api_error(InvalidParameterValue, 400), "GET", True, False),
        (transport(sent=False), "POST", False, True),
        (transport(sent=True), "POST", False, False),
        (transport(sent=True), "POST", True, True),
        (transport(sent=True), "GET", True, True),
        (ValueError("bug"), "GET", True, False),
    ],
)
def test_should_retry_matrix(error, method, idempotent, expected):
    """Reads retry on transient failures; mutations only on 429, unsent requests, or when idempotent."""
    assert should_retry(error, method=method, idempotent=idempotent) is expected


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("GET", "/api/2.2/jobs/get", None, True),
        ("POST", "/api/2.2/jobs/run-now", {"job_id": 1}, False),
        ("POST", "/api/2.2/jobs/run-now", {"job_id": 1, "idempotency_token": "t"}, True),
        ("POST", "/api/2.1/jobs/runs/submit", {"idempotency_token": "t"}, True),
        ("POST", "/api/2.1/jobs/runs/submit", {}, False),
        ("POST", "/api/2.1/jobs/runs/cancel", {"run_id": 1}, True),
        ("POST", "/api/2.0/clusters/delete", {"cluster_id": "c"}, True),
        ("POST", "/api/2.1/clusters/create", {}, False),
        ("POST", "/api/2.0/workspace/import", {"path": "/x", "overwrite": True}, True),
        ("POST", "/api/2.0/workspace/import", {"path": "/x"}, False),
        ("POST", "/api/2.0/workspace/delete", {"path": "/x"}, False),
        ("PATCH", "/api/2.0/repos/123", {"branch": "main"}, True),
    ],
)
def test_idempotency_declarations(method, path, body, expected):
    """Idempotency is declared per endpoint, and an idempotency_token makes run-now and submit safe."""
    assert is_idempotent(method, path, body) is expected


def test_retry_after_seconds_and_http_date():
    """Retry-After is read as seconds or as an HTTP date relative to now."""
    now = 1_700_000_000.0
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == 30.0
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None, now=now) is None


def run_policy(
    settings: RetrySettings, errors: list[BaseException], *, method: str = "GET", rng: float = 1.0
):
    """Run a call that fails with ``errors`` in turn, then succeeds; return (result, time, retries)."""
    time = FakeTime()
    retries: list[tuple[int, float]] = []
    policy = RetryPolicy(settings, clock=time.clock, sleep=time.sleep, random=lambda: rng)
    queue = list(errors)

    def call() -> str:
        if queue:
            raise queue.pop(0)
        return "ok"

    retrying = policy.retrying(
        method=method, idempotent=method == "GET", on_retry=lambda n, w, e: retries.append((n, w))
    )
    result = retrying(call)
    return result, time, retries


def test_retry_after_is_honoured_and_capped():
    """The wait equals Retry-After, capped by retry_after_cap_seconds."""
    settings = RetrySettings(retry_after_cap_seconds=10)
    errs = [api_error(TooManyRequests, 429, retry_after=3), api_error(TooManyRequests, 429, retry_after=500)]
    result, time, retries = run_policy(settings, errs)
    assert result == "ok"
    assert time.sleeps == [3.0, 10.0]
    assert [n for n, _ in retries] == [1, 2]


def test_backoff_is_capped_exponential_with_full_jitter():
    """Without Retry-After the wait is random * min(cap, base * 2**(n-1))."""
    settings = RetrySettings(backoff_base_seconds=1, backoff_cap_seconds=5, max_attempts=10)
    errs = [api_error(BadGateway, 502) for _ in range(5)]
    _, time, _ = run_policy(settings, errs, rng=1.0)
    assert time.sleeps == [1, 2, 4, 5, 5]
    _, jittered, _ = run_policy(settings, errs, rng=0.5)
    assert jittered.sleeps == [0.5, 1, 2, 2.5, 2.5]


def test_attempt_cap_reraises_last_error():
    """After max_attempts the last error is raised as itself."""
    settings = RetrySettings(max_attempts=3)
    with pytest.raises(BadGateway):
        run_policy(settings, [api_error(BadGateway, 502) for _ in range(5)])


def test_deadline_is_never_overslept():
    """The policy gives up rather than sleep past the total deadline."""
    settings = RetrySettings(max_attempts=100, timeout_seconds=10, backoff_cap_seconds=4)
    time = FakeTime()
    policy = RetryPolicy(settings, clock=time.clock, sleep=time.sleep, random=lambda: 1.0)

    def always_fails() -> None:
        raise api_error(TemporarilyUnavailable, 503)

    with pytest.raises(TemporarilyUnavailable):
        policy.retrying(method="GET", idempotent=True, on_retry=lambda *a: None)(always_fails)
    assert sum(time.sleeps) <= 10
    assert time.sleeps == [1, 2, 4]


def test_non_retryable_error_is_raised_at_once():
    """A 400 is not retried: no sleep happens."""
    with pytest.raises(InvalidParameterValue):
        run_policy(RetrySettings(), [api_error(InvalidParameterValue, 400)])


def test_tls_failure_is_never_retried():
    """A TLS handshake failure (a configuration error) is not retried, whatever the method."""
    from brickbook.errors import TlsError

    error = TlsError("the server at https://x does not speak TLS", method="GET", path="/p")
    assert should_retry(error, method="GET", idempotent=True) is False
    with pytest.raises(TlsError):
        run_policy(RetrySettings(), [error])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"path": "/x", "overwrite": True}, True),
        ({"path": "/x", "overwrite": "true"}, True),  # a multipart form carries the string
        ({"path": "/x", "overwrite": "True"}, True),
        ({"path": "/x", "overwrite": False}, False),
        ({"path": "/x", "overwrite": "false"}, False),
        ({"path": "/x"}, False),
    ],
)
def test_workspace_import_is_idempotent_exactly_with_overwrite(body, expected):
    """workspace/import with overwrite=true (JSON or form) is declared idempotent; without it is not."""
    assert is_idempotent("POST", "/api/2.0/workspace/import", body) is expected


@pytest.mark.parametrize(
    ("error", "method", "idempotent", "expected"),
    [
        (api_error(InternalError, 500), "POST", False, "may or may not have been applied"),
        (transport(sent=True), "POST", False, "may or may not have been applied"),
        (api_error(InternalError, 500), "GET", True, "retry budget allows one attempt"),
        (transport(sent=False), "POST", False, "retry budget allows one attempt"),
        (api_error(TooManyRequests, 429, retry_after=900), "POST", False, "asked to wait 900 s"),
        (api_error(InvalidParameterValue, 400), "POST", False, None),
    ],
)
def test_single_attempt_hint(error, method, idempotent, expected):
    """A transient failure tried once says why: unsafe to repeat, or the budget; others say nothing."""
    from brickbook.retry import single_attempt_hint

    hint = single_attempt_hint(error, method, idempotent, RetrySettings())
    if expected is None:
        assert hint is None
    else:
        assert expected in (hint or "")
