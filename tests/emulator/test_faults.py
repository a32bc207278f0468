"""Fault injection through /_emulator/faults: every option, over real HTTP."""

from __future__ import annotations

import httpx
import pytest

from brickbook.emulator.server import start_in_thread
from brickbook.emulator.settings import FaultRule
from tests.emulator.harness import ADMIN_TOKEN, ME, Emu, FakeClock, make_settings


def test_status_fault_fires_times_then_stops(emu: Emu):
    """A 503 rule with times=2 answers 503 twice, then lets requests through."""
    emu.fault(pattern=f"GET {ME}", status=503, times=2)
    assert [emu.get(ME).status_code for _ in range(3)] == [503, 503, 200]


def test_fault_defaults_to_firing_once(emu: Emu):
    """Without times, a rule fires once."""
    emu.fault(pattern=f"GET {ME}", status=500)
    assert [emu.get(ME).status_code for _ in range(2)] == [500, 200]


def test_times_zero_fires_until_deleted(emu: Emu):
    """times=0 fires on every match until the rules are cleared."""
    emu.fault(pattern=f"GET {ME}", status=503, times=0)
    assert [emu.get(ME).status_code for _ in range(4)] == [503] * 4
    emu.control("DELETE", "faults")
    assert emu.get(ME).status_code == 200


def test_offset_lets_the_first_requests_through(emu: Emu):
    """offset=2 lets two matching requests pass before the rule fires."""
    emu.fault(pattern=f"GET {ME}", status=503, offset=2)
    assert [emu.get(ME).status_code for _ in range(4)] == [200, 200, 503, 200]


def test_default_fault_body_is_the_standard_error(emu: Emu):
    """With no body, a fault answers the standard error JSON with the status's code and 'injected fault'."""
    emu.fault(pattern=f"GET {ME}", status=503)
    response = emu.get(ME)
    body = response.json()
    assert body["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert body["message"] == "injected fault"
    assert body["details"][0]["request_id"] == response.headers["x-request-id"]


def test_dict_body_is_sent_as_json(emu: Emu):
    """A dict body is sent verbatim as JSON with the rule's status."""
    body = {"error_code": "INVALID_PARAMETER_VALUE", "message": "Job 5 does not exist."}
    emu.fault(pattern="GET /api/2.2/jobs/get", status=400, body=body)
    response = emu.get("/api/2.2/jobs/get", params={"job_id": 5})
    assert response.status_code == 400
    assert response.json() == body


def test_html_body_is_sent_as_html(emu: Emu):
    """A body starting with '<' is sent as text/html."""
    page = "<html><title>502 Bad Gateway</title></html>"
    emu.fault(pattern=f"GET {ME}", status=502, body=page)
    response = emu.get(ME)
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == page


def test_text_body_is_sent_as_plain_text(emu: Emu):
    """Any other string body is sent as text/plain."""
    emu.fault(pattern=f"GET {ME}", status=500, body="INTERNAL_ERROR: boom")
    response = emu.get(ME)
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "INTERNAL_ERROR: boom"


@pytest.mark.parametrize("retry_after", ["2", 2, "Wed, 21 Oct 2026 07:28:00 GMT"])
def test_retry_after_header_is_sent(emu: Emu, retry_after: object):
    """retry_after (seconds as string or int, or an HTTP date) becomes the Retry-After header."""
    emu.fault(pattern=f"GET {ME}", status=429, retry_after=retry_after)
    response = emu.get(ME)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(retry_after)


def test_extra_headers_are_sent(emu: Emu):
    """A rule's headers are added to the fault response."""
    emu.fault(pattern=f"GET {ME}", status=503, headers={"X-Test": "yes"})
    assert emu.get(ME).headers["X-Test"] == "yes"


def test_after_handler_keeps_the_state_change(emu: Emu):
    """after_handler runs the real handler first: the token is created though the client sees a 503."""
    emu.fault(pattern="POST /api/2.0/token/create", status=503, after_handler=True)
    response = emu.post("/api/2.0/token/create", json={"comment": "lost"})
    assert response.status_code == 503
    listed = emu.get("/api/2.0/token/list").json()["token_infos"]
    assert [info["comment"] for info in listed] == ["lost"]


def test_status_fault_before_handler_changes_nothing(emu: Emu):
    """Without after_handler the handler never runs: no token is created."""
    emu.fault(pattern="POST /api/2.0/token/create", status=503)
    emu.post("/api/2.0/token/create", json={"comment": "never"})
    assert emu.get("/api/2.0/token/list").json() == {}


def test_reset_connection_is_a_transport_error(emu: Emu):
    """reset_connection drops the connection mid-response: httpx raises a transport error."""
    emu.fault(pattern=f"GET {ME}", reset_connection=True)
    with pytest.raises(httpx.TransportError):
        emu.get(ME)
    assert emu.get(ME).status_code == 200


def test_reset_connection_after_handler_is_a_lost_response(emu: Emu):
    """reset_connection with after_handler keeps the state change though the client sees no response."""
    emu.fault(pattern="POST /api/2.0/token/create", reset_connection=True, after_handler=True)
    with pytest.raises(httpx.TransportError):
        emu.post("/api/2.0/token/create", json={"comment": "lost"})
    assert len(emu.get("/api/2.0/token/list").json()["token_infos"]) == 1


def test_dropped_connection_is_journalled_without_status(emu: Emu):
    """The journal records a dropped request with status null."""
    emu.fault(pattern=f"GET {ME}", reset_connection=True)
    with pytest.raises(httpx.TransportError):
        emu.get(ME)
    assert [e["status"] for e in emu.journal(ME)] == [None]


def test_latency_only_fault_then_handles_normally(emu: Emu):
    """A rule with only latency_ms delays the request and then answers it normally."""
    emu.fault(pattern=f"GET {ME}", latency_ms=5)
    assert emu.get(ME).status_code == 200
    assert emu.control("GET", "faults").json()["faults"] == []


def test_probability_fires_on_a_share_of_the_requests(emu: Emu):
    """probability=0.3 with times=0 answers 503 to some requests and lets the others through."""
    emu.fault(pattern=f"GET {ME}", status=503, times=0, probability=0.3)
    statuses = [emu.get(ME).status_code for _ in range(60)]
    assert 5 <= statuses.count(503) <= 35 and set(statuses) == {200, 503}


def test_probability_outside_zero_to_one_is_refused(emu: Emu):
    """A probability of 0 or above 1 answers 400 INVALID_PARAMETER_VALUE naming the field."""
    for bad in (0, 1.5):
        response = emu.control("POST", "faults", {"pattern": f"GET {ME}", "probability": bad})
        assert response.status_code == 400
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert "probability" in response.json()["message"]


def test_query_string_is_not_part_of_the_match(emu: Emu):
    """A pattern without query matches a request that has one."""
    emu.fault(pattern=f"GET {ME}", status=503)
    assert emu.get(ME, params={"attributes": "userName"}).status_code == 503


def test_method_must_match(emu: Emu):
    """A POST rule does not fire for a GET."""
    emu.fault(pattern=f"POST {ME}", status=503)
    assert emu.get(ME).status_code == 200


def test_wildcard_method_and_glob_across_slashes(emu: Emu):
    """'* /api/*' matches any method and any depth under /api."""
    emu.fault(pattern="* /api/*", status=503, times=2)
    assert emu.get(ME).status_code == 503
    assert emu.post("/api/2.0/token/create", json={}).status_code == 503


def test_control_api_is_never_faulted(emu: Emu):
    """A rule matching everything still leaves /_emulator/* alone."""
    emu.fault(pattern="* *", status=503, times=0)
    assert emu.control("GET", "faults").status_code == 200


def test_oauth_token_endpoint_can_be_faulted(emu: Emu):
    """Faults apply to the OIDC endpoints too."""
    emu.fault(pattern="POST /oidc/v1/token", status=503)
    assert emu.oauth_token().status_code == 503
    assert emu.oauth_token().status_code == 200


def test_list_faults_shows_rules_and_counters(emu: Emu):
    """GET /_emulator/faults lists active rules with how often they matched and fired."""
    fault_id = emu.fault(pattern=f"GET {ME}", status=503, times=3)
    emu.get(ME)
    (listed,) = emu.control("GET", "faults").json()["faults"]
    assert listed["id"] == fault_id
    assert listed["pattern"] == f"GET {ME}"
    assert (listed["seen"], listed["fired"]) == (1, 1)


def test_used_up_rules_leave_the_list(emu: Emu):
    """A rule that has fired all its times is no longer listed."""
    emu.fault(pattern=f"GET {ME}", status=503)
    emu.get(ME)
    assert emu.control("GET", "faults").json()["faults"] == []


def test_delete_one_fault_by_id(emu: Emu):
    """DELETE /_emulator/faults/<id> removes just that rule."""
    fault_id = emu.fault(pattern=f"GET {ME}", status=503, times=0)
    assert emu.control("DELETE", f"faults/{fault_id}").status_code == 200
    assert emu.get(ME).status_code == 200


def test_deleting_an_unknown_fault_is_404(emu: Emu):
    """DELETE of an unknown fault id answers 404 RESOURCE_DOES_NOT_EXIST."""
    response = emu.control("DELETE", "faults/fault-999")
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert "fault-999" in response.json()["message"]


def test_invalid_rule_is_invalid_parameter_value(emu: Emu):
    """A rule with a bad pattern answers 400 INVALID_PARAMETER_VALUE saying what a pattern is."""
    response = emu.control("POST", "faults", {"pattern": "GET", "status": 503})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "METHOD /path/glob" in response.json()["message"]


def test_unknown_rule_field_is_refused(emu: Emu):
    """A misspelt rule field answers 400 INVALID_PARAMETER_VALUE naming it."""
    response = emu.control("POST", "faults", {"pattern": "GET /x", "stauts": 503})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "stauts" in response.json()["message"]


def test_malformed_rule_json_is_malformed_request(emu: Emu):
    """A control POST with a body that is not JSON answers 400 MALFORMED_REQUEST."""
    response = emu.request(
        "POST", "/_emulator/faults", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "MALFORMED_REQUEST"
    assert "JSON" in response.json()["message"]


def test_faults_from_settings_are_active_at_start():
    """EmulatorSettings.faults are armed when the emulator starts."""
    settings = make_settings(FakeClock(), faults=(FaultRule(pattern=f"GET {ME}", status=503),))
    with start_in_thread(settings) as running:
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        assert httpx.get(f"{running.url}{ME}", headers=headers).status_code == 503
        assert httpx.get(f"{running.url}{ME}", headers=headers).status_code == 200
