"""Discovery documents and the OAuth M2M token endpoint: issue, refuse, expire, revoke."""

from __future__ import annotations

import httpx

from tests.emulator.harness import ADMIN_TOKEN, ALICE_TOKEN, CLIENT_ID, CLIENT_SECRET, ME, TOKEN_TTL, Emu


def test_databricks_config_points_at_the_oidc_endpoint(emu: Emu):
    """/.well-known/databricks-config answers without auth and names <base>/oidc."""
    response = emu.get("/.well-known/databricks-config", token=None)
    assert response.status_code == 200
    body = response.json()
    assert body["oidc_endpoint"] == f"{emu.url}/oidc"
    assert body["workspace_id"].isdigit()
    assert body["cloud"] == "aws"


def test_oauth_metadata_names_the_endpoints(emu: Emu):
    """The OIDC discovery document names the authorize and token endpoints under the request's base."""
    body = emu.get("/oidc/.well-known/oauth-authorization-server", token=None).json()
    assert body["issuer"] == f"{emu.url}/oidc"
    assert body["authorization_endpoint"] == f"{emu.url}/oidc/v1/authorize"
    assert body["token_endpoint"] == f"{emu.url}/oidc/v1/token"
    assert "client_credentials" in body["grant_types_supported"]


def test_client_credentials_issue_a_bearer_token(emu: Emu):
    """Basic client auth with grant_type=client_credentials returns a bearer token for the TTL."""
    response = emu.oauth_token()
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == TOKEN_TTL
    assert body["scope"] == "all-apis"
    assert emu.get(ME, token=body["access_token"]).status_code == 200


def test_client_credentials_in_the_form_are_accepted(emu: Emu):
    """client_id and client_secret may come as form fields instead of HTTP Basic."""
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    response = httpx.post(f"{emu.url}/oidc/v1/token", data=form)
    assert response.status_code == 200
    assert response.json()["access_token"]


def test_each_grant_issues_a_new_token(emu: Emu):
    """Two grants give two different access tokens."""
    assert emu.oauth_token().json()["access_token"] != emu.oauth_token().json()["access_token"]


def test_wrong_secret_is_invalid_client(emu: Emu):
    """A wrong client secret gets 401 invalid_client."""
    response = emu.oauth_token(secret="wrong")
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "error_description": "Client authentication failed"}


def test_unknown_client_is_invalid_client(emu: Emu):
    """An unknown client id gets 401 invalid_client."""
    response = emu.oauth_token(client_id="nobody")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "authentication failed" in response.json()["error_description"]


def test_other_grant_types_are_unsupported(emu: Emu):
    """grant_type=password gets 400 unsupported_grant_type."""
    form = {"grant_type": "password", "username": "u", "password": "p"}
    response = httpx.post(f"{emu.url}/oidc/v1/token", data=form, auth=(CLIENT_ID, CLIENT_SECRET))
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
    assert "client_credentials" in response.json()["error_description"]


def test_token_expires_on_the_injected_clock(emu: Emu):
    """Once the clock passes the TTL, the token gets 403 Invalid access token."""
    token = emu.oauth_token().json()["access_token"]
    emu.clock.advance(TOKEN_TTL - 1)
    assert emu.get(ME, token=token).status_code == 200
    emu.clock.advance(1)
    response = emu.get(ME, token=token)
    assert response.status_code == 403
    assert response.json()["error_code"] == 403
    assert "Invalid access token" in response.json()["message"]


def test_revoke_invalidates_issued_tokens(emu: Emu):
    """After /_emulator/oauth/revoke, issued tokens get 403; new grants work again."""
    emu.control("POST", "oauth/revoke")  # tokens from earlier tests outlive reset
    token = emu.oauth_token().json()["access_token"]
    revoked = emu.control("POST", "oauth/revoke")
    assert revoked.json() == {"revoked": 1}
    assert emu.get(ME, token=token).status_code == 403
    assert emu.get(ME, token=emu.oauth_token().json()["access_token"]).status_code == 200


def test_revoke_leaves_configured_tokens_alone(emu: Emu):
    """Revoking OAuth tokens does not touch the admin or user tokens."""
    emu.control("POST", "oauth/revoke")
    assert emu.get(ME, token=ADMIN_TOKEN).status_code == 200
    assert emu.get(ME, token=ALICE_TOKEN).status_code == 200
