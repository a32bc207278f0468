"""Per-route rate limits: token buckets on the injected clock, 429 with Retry-After."""

from __future__ import annotations

import httpx
import pytest

from brickbook.emulator.__main__ import UsageProblem, build_parser, settings_from_args
from brickbook.emulator.server import start_in_thread
from brickbook.emulator.settings import RateLimitRule, preset_rules
from tests.emulator.harness import ADMIN_TOKEN, ME, Emu, FakeClock, make_settings, serving


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


STATUS = "/api/2.0/dbfs/get-status"


def realistic(emu: Emu) -> list[str]:
    response = emu.control("POST", "rate-limits", {"preset": "realistic"})
    assert response.status_code == 200, response.text
    ids: list[str] = response.json()["ids"]
    return ids


def test_realistic_preset_answers_429_with_retry_after_past_the_limit(emu: Emu):
    """Past DBFS's 30 requests/s the realistic preset answers 429 REQUEST_LIMIT_EXCEEDED, Retry-After 1."""
    realistic(emu)
    statuses = [emu.get(STATUS, params={"path": "/"}).status_code for _ in range(30)]
    assert statuses == [200] * 30
    response = emu.get(STATUS, params={"path": "/"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert "30 requests per second" in response.json()["message"]


def test_realistic_preset_refills_on_the_injected_clock(emu: Emu):
    """A second on the emulator's clock gives the endpoint its 30 requests again."""
    realistic(emu)
    for _ in range(31):
        emu.get(STATUS, params={"path": "/"})
    emu.clock.advance(1)
    statuses = [emu.get(STATUS, params={"path": "/"}).status_code for _ in range(31)]
    assert statuses == [200] * 30 + [429]


def test_realistic_preset_limits_each_endpoint_apart(emu: Emu):
    """Endpoints have their own buckets: export's 60 requests/s is untouched by DBFS traffic."""
    realistic(emu)
    for _ in range(31):
        emu.get(STATUS, params={"path": "/"})
    exports = [emu.get("/api/2.0/workspace/export", params={"path": "/nope"}).status_code for _ in range(61)]
    assert 429 not in exports[:60]
    assert exports[60] == 429
    assert emu.get("/api/2.0/dbfs/list", params={"path": "/"}).status_code == 200


def test_realistic_preset_is_listed_rule_by_rule(emu: Emu):
    """The preset adds one listed rule per endpoint, with its published figure."""
    ids = realistic(emu)
    listed = {
        r["pattern"]: r["requests_per_second"]
        for r in emu.control("GET", "rate-limits").json()["rate_limits"]
    }
    assert len(listed) == len(ids)
    assert listed["POST /api/2.0/workspace/import"] == 30
    assert listed["GET /api/2.0/workspace/export"] == 60
    assert listed["GET /api/2.*/jobs/runs/get"] == 100


def test_unknown_preset_is_invalid_parameter_value(emu: Emu):
    """An unknown preset name answers 400 INVALID_PARAMETER_VALUE naming the presets there are."""
    response = emu.control("POST", "rate-limits", {"preset": "fast"})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "realistic" in response.json()["message"]


def test_preset_with_rule_fields_is_refused(emu: Emu):
    """A preset body takes no rule fields beside it."""
    response = emu.control("POST", "rate-limits", {"preset": "realistic", "requests_per_second": 5})
    assert response.status_code == 400
    assert "no other field" in response.json()["message"]


def test_rate_limits_option_adds_the_preset_beside_the_rules():
    """--rate-limits realistic adds the preset's rules after any --rate-limit rule."""
    args = build_parser().parse_args(["--rate-limit", f"GET {ME}=1", "--rate-limits", "realistic"])
    rules = settings_from_args(args, "tok").rate_limits
    assert rules[0].pattern == f"GET {ME}"
    assert ("GET /api/2.0/workspace/export", 60) in [(r.pattern, r.requests_per_second) for r in rules]


def test_rate_limits_option_refuses_an_unknown_preset():
    """An unknown preset on the command line is a usage problem naming the choices."""
    with pytest.raises(UsageProblem, match="--rate-limits must be one of realistic, not 'fast'"):
        build_parser().parse_args(["--rate-limits", "fast"])


def test_realistic_preset_from_settings_applies_at_start():
    """Preset rules given in the settings are in force when the emulator starts."""
    with serving(rate_limits=preset_rules("realistic")) as emu:
        statuses = [emu.get(STATUS, params={"path": "/"}).status_code for _ in range(31)]
    assert statuses == [200] * 30 + [429]
