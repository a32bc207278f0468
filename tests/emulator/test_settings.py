"""Rule and settings parsing: what the CLI and the control API accept and refuse."""

from __future__ import annotations

import pytest

from brickbook.emulator.settings import OPTIONS, EmulatorSettings, FaultRule, RateLimitRule, RequestPattern

BY_NAME = {option.name: option for option in OPTIONS}


def test_pattern_star_crosses_slashes():
    """A '*' in the path glob matches across '/'."""
    assert RequestPattern.parse("GET /api/*").matches("GET", "/api/2.0/jobs/list")


def test_pattern_method_is_case_insensitive():
    """'get' in a pattern matches a GET request."""
    assert RequestPattern.parse("get /x").matches("GET", "/x")


def test_pattern_without_path_is_refused():
    """A pattern with no path glob raises ValueError explaining the form."""
    with pytest.raises(ValueError, match="METHOD /path/glob"):
        RequestPattern.parse("GET")


def test_fault_rule_from_json_accepts_integer_retry_after():
    """retry_after given as an int is kept as its string form."""
    assert FaultRule.from_json({"pattern": "GET /x", "status": 429, "retry_after": 3}).retry_after == "3"


def test_fault_rule_refuses_a_boolean_status():
    """A JSON true is not a status."""
    with pytest.raises(ValueError, match="wrong type"):
        FaultRule.from_json({"pattern": "GET /x", "status": True})


def test_fault_rule_refuses_a_non_http_status():
    """A status outside 100-599 raises ValueError."""
    with pytest.raises(ValueError, match="not an HTTP status"):
        FaultRule(pattern="GET /x", status=42)


def test_fault_rule_round_trips_through_json():
    """to_json then from_json gives an equal rule."""
    rule = FaultRule(pattern="POST /y", status=503, times=0, offset=2, retry_after="1", headers={"A": "b"})
    assert FaultRule.from_json(rule.to_json()) == rule


def test_rate_limit_from_the_command_line():
    """'METHOD /glob=RPS' parses into a rule whose burst defaults to one second's worth."""
    rule = RateLimitRule.parse_cli("GET /api/2.0/*=2.5")
    assert (rule.pattern, rule.requests_per_second, rule.capacity) == ("GET /api/2.0/*", 2.5, 3)


def test_rate_limit_without_rate_is_refused():
    """A --rate-limit value without '=RPS' raises ValueError naming the expected form."""
    with pytest.raises(ValueError, match="METHOD /path/glob=RPS"):
        RateLimitRule.parse_cli("GET /api/*")


def test_settings_refuse_a_shared_token():
    """Two principals with the same token raise ValueError."""
    with pytest.raises(ValueError, match="own non-empty token"):
        EmulatorSettings(admin_token="t", users={"alice@example.com": "t"})


def test_settings_refuse_an_empty_admin_token():
    """An empty admin token raises ValueError."""
    with pytest.raises(ValueError, match="admin token"):
        EmulatorSettings(admin_token="")


def test_settings_repr_hides_secrets():
    """repr(settings) shows no token or client secret."""
    settings = EmulatorSettings(
        admin_token="adm-secret", users={"u@example.com": "user-secret"}, oauth_clients={"c": "client-secret"}
    )
    assert "secret" not in repr(settings)


@pytest.mark.parametrize("text", ["inf", "nan", "-1", "0"])
def test_rate_limit_must_be_positive_and_finite(text: str):
    """An infinite or NaN rate would break the token bucket: refused like a negative one."""
    with pytest.raises(ValueError, match="positive, finite"):
        RateLimitRule.parse_cli(f"GET /x={text}")


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("port", "0", 0),
        ("port", "65535", 65535),
        ("cluster-start-seconds", "0.25", 0.25),
        ("warehouse-start-seconds", "0.05", 0.05),
        ("host", "::1", "::1"),
    ],
)
def test_option_values_convert(name: str, text: str, value: object):
    """An option converts a valid value to its type."""
    assert BY_NAME[name].convert(text) == value


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("port", "65536"),
        ("port", "-1"),
        ("port", "1_000"),  # int() would take it
        ("port", "٣"),  # so would it take other scripts' digits
        ("port", "8765\n"),
        ("token-ttl-seconds", "0"),
        ("latency-ms", "1e3"),
        ("cluster-start-seconds", "inf"),
        ("cluster-start-seconds", "1e999"),
        ("warehouse-start-seconds", "nan"),
        ("warehouse-start-seconds", "86401"),
        ("dbfs-delete-batch", "0"),
        ("host", ""),
    ],
)
def test_option_values_are_refused_with_the_flag_named(name: str, text: str):
    """A bad value raises ValueError naming the flag and what it takes."""
    with pytest.raises(ValueError, match=f"^--{name} must"):
        BY_NAME[name].convert(text)


def test_a_long_bad_value_is_shortened_in_the_message():
    """A 5,000-character value does not make a 5,000-character error line."""
    with pytest.raises(ValueError) as caught:
        BY_NAME["port"].convert("9" * 5000)
    assert len(str(caught.value)) < 120


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("port", 70000),
        ("port", -1),
        ("latency_ms", -5),
        ("token_ttl_seconds", 10**30),
        ("host", ""),
        ("warehouse_start_seconds", float("nan")),
    ],
)
def test_settings_refuse_out_of_range_values(field: str, value: object):
    """Settings built in code are bounded like the command line's."""
    with pytest.raises(ValueError, match=field):
        EmulatorSettings(admin_token="t", **{field: value})  # type: ignore[arg-type]
