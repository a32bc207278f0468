"""The HTTP core over real loopback HTTP against the emulator, with injected faults.

The client's clock and sleep are injected: nothing here sleeps for real.
"""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest
from structlog.testing import capture_logs

from brickbook.api import identity
from brickbook.client import Client
from brickbook.config import Config, RetrySettings
from brickbook.errors import (
    InternalError,
    InvalidParameterValue,
    PermissionDenied,
    ResourceDoesNotExist,
    TemporarilyUnavailable,
    TransportError,
    Unauthenticated,
)
from tests.conftest import ADMIN_TOKEN, CLIENT_ID, CLIENT_SECRET, Emulator
from tests.fakes import FakeTime

ME = "/api/2.0/preview/scim/v2/Me"
RUN_NOW = "/api/2.2/jobs/run-now"


def pat_config(url: str, **retry: float) -> Config:
    return Config(host=url, auth_type="pat", token=ADMIN_TOKEN, retry=RetrySettings(**retry))  # type: ignore[arg-type]


def make_client(config: Config, time: FakeTime) -> Client:
    return Client(config, clock=time.clock, sleep=time.sleep, rng=lambda: 1.0)


def test_get_returns_json(emulator: Emulator):
    """A GET returns the decoded JSON of the emulator's answer."""
    with make_client(pat_config(emulator.url), FakeTime()) as client:
        assert identity.me(client).user_name == "admin@example.com"


def test_429_with_retry_after_is_waited_out(emulator: Emulator):
    """A 429 with Retry-After is retried after exactly that wait."""
    emulator.fault(pattern=f"GET {ME}", status=429, retry_after="7", times=2)
    time = FakeTime()
    with make_client(pat_config(emulator.url), time) as client:
        assert identity.me(client).user_name == "admin@example.com"
    assert time.sleeps == [7.0, 7.0]
    assert len(emulator.requests(ME)) == 3


def test_each_retry_is_one_log_event(emulator: Emulator):
    """Every retry logs one http.retry event with the call, the attempt, the wait and the reason."""
    emulator.fault(pattern=f"GET {ME}", status=503, retry_after="2", times=2)
    with make_client(pat_config(emulator.url), FakeTime()) as client, capture_logs() as logs:
        identity.me(client)
    retries = [e for e in logs if e["event"] == "http.retry"]
    assert [(e["method"], e["path"], e["attempt"], e["wait_seconds"]) for e in retries] == [
        ("GET", ME, 1, 2.0),
        ("GET", ME, 2, 2.0),
    ]
    assert "injected fault" in retries[0]["reason"]


def test_a_retry_event_names_its_kind(emulator: Emulator):
    """http.retry carries kind: the status of an answer, or the failure's class when none came."""
    emulator.fault(pattern=f"GET {ME}", status=503, retry_after="0")
    emulator.fault(pattern=f"GET {ME}", reset_connection=True)
    with make_client(pat_config(emulator.url), FakeTime()) as client, capture_logs() as logs:
        identity.me(client)
    assert [e["kind"] for e in logs if e["event"] == "http.retry"] == ["503", "TransportError"]


def test_get_is_retried_after_502(emulator: Emulator):
    """A GET that meets a 502 (HTML gateway page) is retried and succeeds."""
    emulator.fault(pattern=f"GET {ME}", status=502, body="<html><title>502 Bad Gateway</title></html>")
    time = FakeTime()
    with make_client(pat_config(emulator.url), time) as client:
        identity.me(client)
    assert len(time.sleeps) == 1
    assert len(emulator.requests(ME)) == 2


def test_post_without_idempotency_token_is_not_retried_after_503(emulator: Emulator):
    """A run-now without idempotency token is sent once: a 503 might hide a started run."""
    emulator.fault(pattern=f"POST {RUN_NOW}", status=503)
    time = FakeTime()
    with make_client(pat_config(emulator.url), time) as client, pytest.raises(TemporarilyUnavailable) as info:
        client.post(RUN_NOW, {"job_id": 1})
    assert info.value.exit_code == 6
    assert time.sleeps == []
    assert len(emulator.requests(RUN_NOW)) == 1


def test_post_with_idempotency_token_is_retried_after_503(emulator: Emulator):
    """A run-now carrying an idempotency token is retried after a 503 (and then reaches the jobs area)."""
    emulator.fault(pattern=f"POST {RUN_NOW}", status=503)
    time = FakeTime()
    with make_client(pat_config(emulator.url), time) as client, pytest.raises(ResourceDoesNotExist):
        client.post(RUN_NOW, {"job_id": 1, "idempotency_token": "tok-1"})
    assert len(time.sleeps) == 1
    assert len(emulator.requests(RUN_NOW)) == 2


def test_dropped_connection_retried_for_reads_only(emulator: Emulator):
    """A dropped connection is retried for a GET but not for a non-idempotent POST."""
    emulator.fault(pattern=f"GET {ME}", reset_connection=True)
    time = FakeTime()
    with make_client(pat_config(emulator.url), time) as client:
        identity.me(client)
        assert len(time.sleeps) == 1
        emulator.fault(pattern=f"POST {RUN_NOW}", reset_connection=True, after_handler=True)
        with pytest.raises(TransportError) as info:
            client.post(RUN_NOW, {"job_id": 1})
    assert info.value.exit_code == 6
    assert info.value.request_sent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_retried_even_for_posts():
    """A refused connection (nothing listening yet) is retried; the call succeeds once the server is up."""
    from brickbook.emulator.server import start_in_thread
    from brickbook.emulator.settings import EmulatorSettings

    port = free_port()
    started = []

    def start_server() -> None:
        if not started:
            settings = EmulatorSettings(host="127.0.0.1", port=port, admin_token=ADMIN_TOKEN)
            started.append(start_in_thread(settings))

    time = FakeTime()
    time.on_sleep.append(start_server)
    try:
        client = make_client(pat_config(f"http://127.0.0.1:{port}"), time)
        with client, pytest.raises(ResourceDoesNotExist):  # it arrived: there is no job 1
            client.post(RUN_NOW, {"job_id": 1})
        assert len(time.sleeps) == 1
    finally:
        for server in started:
            server.stop()


def test_deadline_is_respected(emulator: Emulator):
    """A service that stays unavailable is retried until the total deadline, never beyond it."""
    emulator.fault(pattern=f"GET {ME}", status=503, times=0)
    time = FakeTime()
    config = pat_config(emulator.url, timeout_seconds=20, max_attempts=100, backoff_cap_seconds=8)
    with make_client(config, time) as client, pytest.raises(TemporarilyUnavailable):
        identity.me(client)
    assert sum(time.sleeps) <= 20
    assert len(emulator.requests(ME)) == len(time.sleeps) + 1


def test_attempt_cap_is_respected(emulator: Emulator):
    """max_attempts bounds the number of requests sent."""
    emulator.fault(pattern=f"GET {ME}", status=500, times=0)
    client = make_client(pat_config(emulator.url, max_attempts=3), FakeTime())
    with client, pytest.raises(InternalError, match="injected fault"):
        identity.me(client)
    assert len(emulator.requests(ME)) == 3


def test_rate_limit_429_from_the_emulator_is_waited_out(emulator: Emulator):
    """The emulator's per-route rate limit answers 429 + Retry-After, and the client waits it out."""
    emulator.control("POST", "rate-limits", {"pattern": f"GET {ME}", "requests_per_second": 1, "burst": 1})
    time = FakeTime()
    with make_client(pat_config(emulator.url), time) as client:
        identity.me(client)
        time.on_sleep.append(lambda: emulator.clock.advance(1.0))
        identity.me(client)
    assert time.sleeps and time.sleeps[0] >= 1
    statuses = [e["status"] for e in emulator.requests(ME)]
    assert statuses == [200, 429, 200]


def test_query_parameters_travel_in_the_query_string(emulator: Emulator):
    """GET parameters are sent in the query string, booleans lowercase."""
    with make_client(pat_config(emulator.url), FakeTime()) as client:
        client.get(ME, {"attributes": "userName", "flag": True})
    assert emulator.requests(ME)[-1]["query"] == "attributes=userName&flag=true"


def test_does_not_exist_quirk_is_a_not_found(emulator: Emulator):
    """A 400 INVALID_PARAMETER_VALUE 'Job 5 does not exist' is raised as ResourceDoesNotExist."""
    body = {"error_code": "INVALID_PARAMETER_VALUE", "message": "Job 5 does not exist."}
    emulator.fault(pattern="GET /api/2.2/jobs/get", status=400, body=body)
    with (
        make_client(pat_config(emulator.url), FakeTime()) as client,
        pytest.raises(ResourceDoesNotExist) as info,
    ):
        client.get("/api/2.2/jobs/get", {"job_id": 5})
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert info.value.exit_code == 4
    assert info.value.request_id


def test_bad_token_is_permission_denied(emulator: Emulator):
    """An unknown token gives 403 PermissionDenied with a readable message and no retry."""
    config = Config(host=emulator.url, auth_type="pat", token="dapi-not-a-real-token-000000")
    time = FakeTime()
    with make_client(config, time) as client, pytest.raises(PermissionDenied) as info:
        identity.me(client)
    assert "Invalid access token" in info.value.message
    assert info.value.exit_code == 3
    assert time.sleeps == []


def test_invalid_parameter_is_not_retried(emulator: Emulator):
    """A 400 is final: raised at once with its code."""
    emulator.fault(
        pattern=f"GET {ME}", status=400, body={"error_code": "INVALID_PARAMETER_VALUE", "message": "bad"}
    )
    time = FakeTime()
    with make_client(pat_config(emulator.url), time) as client, pytest.raises(InvalidParameterValue):
        identity.me(client)
    assert time.sleeps == []


def oauth_config(url: str) -> Config:
    return Config(host=url, auth_type="oauth-m2m", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


def test_oauth_m2m_authenticates(emulator: Emulator):
    """OAuth M2M fetches a token once and calls as the service principal."""
    with make_client(oauth_config(emulator.url), FakeTime()) as client:
        assert identity.me(client).user_name == CLIENT_ID
        identity.me(client)
    assert len(emulator.requests("/oidc/v1/token")) == 1


def test_oauth_token_is_refreshed_before_it_expires(emulator: Emulator):
    """Mid-session, a token about to expire is replaced before the call that would fail."""
    time = FakeTime()
    with make_client(oauth_config(emulator.url), time) as client:
        identity.me(client)
        time.now += 3500  # inside the refresh margin of a one-hour token
        emulator.clock.advance(3500)
        identity.me(client)
        emulator.clock.advance(3500)  # the first token has now expired on the server side
        time.now += 3500
        identity.me(client)
    assert len(emulator.requests("/oidc/v1/token")) == 3
    assert [e["status"] for e in emulator.requests(ME)] == [200, 200, 200]


def test_oauth_token_revoked_early_is_renewed_once(emulator: Emulator):
    """A token the service refuses (403 Invalid access token) is renewed once and the call resent."""
    with make_client(oauth_config(emulator.url), FakeTime()) as client:
        identity.me(client)
        emulator.control("POST", "oauth/revoke")
        assert identity.me(client).user_name == CLIENT_ID
    assert [e["status"] for e in emulator.requests(ME)] == [200, 403, 200]


def test_oauth_bad_secret_says_what_to_check(emulator: Emulator):
    """A refused client secret is an Unauthenticated error naming the variables to check."""
    config = replace(oauth_config(emulator.url), client_secret="wrong-secret-value")
    with make_client(config, FakeTime()) as client, pytest.raises(Unauthenticated) as info:
        identity.me(client)
    assert "DATABRICKS_CLIENT_SECRET" in info.value.message
    assert "wrong-secret-value" not in str(info.value)
