"""The front door and SCIM Me: who a token is, and how a missing or bad one is refused."""

from __future__ import annotations

import re

from tests.emulator.harness import ADMIN, ALICE, ALICE_TOKEN, CLIENT_ID, ME, Emu


def test_missing_credential_is_401_with_integer_code(emu: Emu):
    """A request without Authorization gets 401 and the front door's integer error_code."""
    response = emu.get(ME, token=None)
    assert response.status_code == 401
    body = response.json()
    assert body["error_code"] == 401
    assert body["message"].startswith("Credential was not sent or was of an unsupported type for this API.")


def test_basic_credential_is_unsupported(emu: Emu):
    """A non-bearer credential is treated like a missing one: 401."""
    response = emu.get(ME, token=None, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401
    assert response.json()["error_code"] == 401
    assert "unsupported type" in response.json()["message"]


def test_unknown_token_is_403_invalid_access_token(emu: Emu):
    """An unknown token gets 403, integer error_code 403 and the reason-phrase header."""
    response = emu.get(ME, token="dapi-unknown")
    assert response.status_code == 403
    assert response.json()["error_code"] == 403
    assert response.json()["message"].startswith("Invalid access token.")
    assert response.headers["X-Databricks-Reason-Phrase"] == "Invalid access token."


def test_auth_error_message_carries_the_request_id(emu: Emu):
    """The [ReqId: ...] in a front-door error is the response's x-request-id."""
    response = emu.get(ME, token="dapi-unknown")
    match = re.search(r"\[ReqId: ([0-9a-f]{32})\]", response.json()["message"])
    assert match is not None
    assert match.group(1) == response.headers["x-request-id"]


def test_every_response_has_a_fresh_request_id(emu: Emu):
    """Two requests get two different uuid4-hex request ids."""
    first = emu.get(ME).headers["x-request-id"]
    second = emu.get("/.well-known/databricks-config", token=None).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_admin_token_is_the_admin_in_group_admins(emu: Emu):
    """SCIM Me for the admin token names the admin user, member of 'admins'."""
    me = emu.get(ME).json()
    assert me["userName"] == ADMIN
    assert [g["display"] for g in me["groups"]] == ["admins"]


def test_user_token_is_a_non_admin_user(emu: Emu):
    """SCIM Me for a configured user names that user, member of 'users' only."""
    me = emu.get(ME, token=ALICE_TOKEN).json()
    assert me["userName"] == ALICE
    assert [g["display"] for g in me["groups"]] == ["users"]


def test_scim_me_has_the_scim_user_shape(emu: Emu):
    """SCIM Me carries the schema, a numeric id, displayName, active and a primary work email."""
    me = emu.get(ME, token=ALICE_TOKEN).json()
    assert me["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User"]
    assert me["id"].isdigit()
    assert me["displayName"] == "alice"
    assert me["active"] is True
    assert me["emails"] == [{"value": ALICE, "type": "work", "primary": True}]


def test_principal_ids_are_stable(emu: Emu):
    """The same principal gets the same id on every call, and principals get different ids."""
    assert emu.get(ME).json()["id"] == emu.get(ME).json()["id"]
    assert emu.get(ME).json()["id"] != emu.get(ME, token=ALICE_TOKEN).json()["id"]


def test_oauth_token_is_the_service_principal(emu: Emu):
    """An issued OAuth token acts as the service principal named by its client id, not an admin."""
    token = emu.oauth_token().json()["access_token"]
    me = emu.get(ME, token=token).json()
    assert me["userName"] == CLIENT_ID
    assert [g["display"] for g in me["groups"]] == ["users"]
