"""Personal access tokens created through the API: the small area that shows the Area hook at work."""

from __future__ import annotations

from tests.emulator.harness import ADMIN, ALICE, ALICE_TOKEN, ME, Emu


def test_created_token_authenticates_as_its_creator(emu: Emu):
    """A token from /api/2.0/token/create acts as the principal that created it."""
    created = emu.post("/api/2.0/token/create", token=ALICE_TOKEN, json={"comment": "ci"}).json()
    assert created["token_value"].startswith("dapi")
    assert emu.get(ME, token=created["token_value"]).json()["userName"] == ALICE


def test_token_info_has_times_in_epoch_milliseconds(emu: Emu):
    """token_info carries creation and expiry in epoch ms, from the injected clock."""
    info = emu.post("/api/2.0/token/create", json={"lifetime_seconds": 60, "comment": "c"}).json()[
        "token_info"
    ]
    assert info["creation_time"] == int(emu.clock.now * 1000)
    assert info["expiry_time"] == info["creation_time"] + 60_000
    assert info["comment"] == "c"


def test_token_without_lifetime_never_expires(emu: Emu):
    """Without lifetime_seconds the expiry_time is -1."""
    info = emu.post("/api/2.0/token/create", json={}).json()["token_info"]
    assert info["expiry_time"] == -1


def test_created_token_expires_on_the_clock(emu: Emu):
    """A token with a lifetime is refused once the clock passes it."""
    value = emu.post("/api/2.0/token/create", json={"lifetime_seconds": 60}).json()["token_value"]
    emu.clock.advance(61)
    response = emu.get(ME, token=value)
    assert response.status_code == 403
    assert response.json()["error_code"] == 403
    assert "Invalid access token" in response.json()["message"]


def test_list_shows_only_the_callers_tokens(emu: Emu):
    """token/list returns the caller's own tokens, without their values."""
    mine = emu.post("/api/2.0/token/create", json={"comment": "admin's"}).json()["token_info"]
    emu.post("/api/2.0/token/create", token=ALICE_TOKEN, json={"comment": "alice's"})
    listed = emu.get("/api/2.0/token/list").json()["token_infos"]
    assert listed == [mine]


def test_list_leaves_the_key_out_when_empty(emu: Emu):
    """With no tokens, token/list returns {} as the service does."""
    assert emu.get("/api/2.0/token/list").json() == {}


def test_deleted_token_stops_working(emu: Emu):
    """After token/delete the token gets 403."""
    created = emu.post("/api/2.0/token/create", json={}).json()
    emu.post("/api/2.0/token/delete", json={"token_id": created["token_info"]["token_id"]})
    assert emu.get(ME, token=created["token_value"]).status_code == 403
    assert emu.get(ME).json()["userName"] == ADMIN


def test_deleting_an_unknown_token_is_resource_does_not_exist(emu: Emu):
    """token/delete with an unknown id answers 404 RESOURCE_DOES_NOT_EXIST."""
    response = emu.post("/api/2.0/token/delete", json={"token_id": "nope"})
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert "nope does not exist" in response.json()["message"]


def test_bad_lifetime_is_invalid_parameter_value(emu: Emu):
    """A non-integer lifetime_seconds answers 400 INVALID_PARAMETER_VALUE."""
    response = emu.post("/api/2.0/token/create", json={"lifetime_seconds": "soon"})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "lifetime_seconds" in response.json()["message"]
