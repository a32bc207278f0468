"""What happens to requests no area handles, and the standard error body."""

from __future__ import annotations

from tests.emulator.harness import ME, Emu


def test_unknown_api_path_is_501_not_implemented(emu: Emu):
    """An /api path the emulator lacks answers 501 NOT_IMPLEMENTED naming the method and path."""
    response = emu.get("/api/2.0/xyz")
    assert response.status_code == 501
    assert response.json()["error_code"] == "NOT_IMPLEMENTED"
    assert response.json()["message"] == "brickbook emulator does not implement GET /api/2.0/xyz"


def test_unknown_api_path_checks_auth_first(emu: Emu):
    """An unauthenticated call to an unimplemented /api path still gets 401."""
    response = emu.post("/api/2.2/jobs/run-now", token=None, json={"job_id": 1})
    assert response.status_code == 401
    assert response.json()["error_code"] == 401
    assert "Credential was not sent" in response.json()["message"]


def test_unimplemented_method_on_a_known_path_is_501(emu: Emu):
    """A known path with a method it does not serve answers 501, never 200."""
    response = emu.post(ME, json={})
    assert response.status_code == 501
    assert response.json()["error_code"] == "NOT_IMPLEMENTED"
    assert f"POST {ME}" in response.json()["message"]


def test_unknown_non_api_path_is_404_endpoint_not_found(emu: Emu):
    """A path outside /api answers 404 ENDPOINT_NOT_FOUND."""
    response = emu.get("/no/such/page")
    assert response.status_code == 404
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert "/no/such/page" in response.json()["message"]


def test_error_body_details_carry_the_request_id(emu: Emu):
    """The RequestInfo detail of an API error names the response's x-request-id."""
    response = emu.get("/api/2.0/xyz")
    assert response.json()["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.RequestInfo",
            "request_id": response.headers["x-request-id"],
            "serving_data": "",
        }
    ]


def test_malformed_json_body_is_400_malformed_request(emu: Emu):
    """A POST whose body is not JSON answers 400 MALFORMED_REQUEST."""
    response = emu.post(
        "/api/2.0/token/create", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "MALFORMED_REQUEST"
    assert "JSON" in response.json()["message"]


def test_json_body_that_is_not_an_object_is_malformed(emu: Emu):
    """A JSON array where an object is expected answers 400 MALFORMED_REQUEST."""
    response = emu.post("/api/2.0/token/create", json=[1, 2])
    assert response.status_code == 400
    assert response.json()["error_code"] == "MALFORMED_REQUEST"
    assert "JSON object" in response.json()["message"]
