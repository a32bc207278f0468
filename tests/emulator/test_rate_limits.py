"""Per-route rate limits: token buckets on the injected clock, 429 with Retry-After."""

from __future__ import annotations

import httpx

from brickbook.emulator.server import start_in_thread
from brickbook.emulator.settings import RateLimitRule
from tests.emulator.harness import ADMIN_TOKEN, ME, Emu, FakeClock, make_settings


def limit(emu: Emu, pattern: str, rps: float, burst: int | None = None) -> None:
    rule: dict[str, object] = {"pattern": pattern, "requests_per_second": rps}
    if burst is not None:
        rule["burst"] = burst
    assert emu.control("POST", "rate-limits", rule).status_code == 200


def test_over_the_burst_is_429_request_limit_exceeded(emu: Emu):
    """Past the burst, a request gets 429 REQUEST_LIMIT_EXCEEDED naming the rate limit."""
    limit(emu, f"GET {ME}", rps=1, burst=2)
    assert [emu.get(ME).status_code for _ in range(2)] == [200, 200]
    response = emu.get(ME)
    assert response.status_code == 429
    assert response.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert "rate limit" in response.json()["message"]


def test_retry_after_is_whole_seconds_until_a_token(emu: Emu):
    """Retry-After is the whole seconds until the bucket has a token again (0.5 rps -> 2)."""
    limit(emu, f"GET {ME}", rps=0.5, burst=1)
    emu.get(ME)
    assert emu.get(ME).headers["Retry-After"] == "2"


def test_retry_after_is_at_least_one_second(emu: Emu):
    """Even a fast bucket asks for at least 1 second."""
    limit(emu, f"GET {ME}", rps=100, burst=1)
    emu.get(ME)
    assert emu.get(ME).headers["Retry-After"] == "1"


def test_bucket_refills_as_the_clock_advances(emu: Emu):
    """After Retry-After seconds on the injected clock the request passes."""
    limit(emu, f"GET {ME}", rps=1, burst=1)
    emu.get(ME)
    assert emu.get(ME).status_code == 429
    emu.clock.advance(1)
    assert emu.get(ME).status_code == 200


def test_other_routes_are_not_limited(emu: Emu):
    """A rule limits only the requests its pattern matches."""
    limit(emu, f"GET {ME}", rps=1, burst=1)
    emu.get(ME)
    assert emu.get("/api/2.0/token/list").status_code == 200


def test_burst_defaults_to_one_seconds_worth(emu: Emu):
    """Without burst, the bucket holds requests_per_second tokens."""
    limit(emu, f"GET {ME}", rps=3)
    assert [emu.get(ME).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_delete_clears_rate_limits(emu: Emu):
    """DELETE /_emulator/rate-limits removes every limit."""
    limit(emu, f"GET {ME}", rps=1, burst=1)
    emu.get(ME)
    emu.control("DELETE", "rate-limits")
    assert emu.get(ME).status_code == 200


def test_list_rate_limits(emu: Emu):
    """GET /_emulator/rate-limits lists the rules with their effective burst."""
    limit(emu, f"GET {ME}", rps=2)
    (listed,) = emu.control("GET", "rate-limits").json()["rate_limits"]
    assert listed["pattern"] == f"GET {ME}"
    assert (listed["requests_per_second"], listed["burst"]) == (2, 2)


def test_bad_rate_limit_rule_is_invalid_parameter_value(emu: Emu):
    """A rule without a positive rate answers 400 INVALID_PARAMETER_VALUE."""
    response = emu.control("POST", "rate-limits", {"pattern": f"GET {ME}", "requests_per_second": 0})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "positive" in response.json()["message"]


def test_rate_limits_from_settings_apply_at_start():
    """EmulatorSettings.rate_limits are in force when the emulator starts."""
    rule = RateLimitRule.parse_cli(f"GET {ME}=1")
    with start_in_thread(make_settings(FakeClock(), rate_limits=(rule,))) as running:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        statuses = [httpx.get(f"{running.url}{ME}", headers=headers).status_code for _ in range(2)]
    assert statuses == [200, 429]
