"""The Secrets API in the emulator over real HTTP: scopes, secrets, ACLs, DBUtils-only get, limits."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from brickbook.emulator.errors import ApiError
from brickbook.emulator.server import start_in_thread
from brickbook.emulator.state.identity import Identity, Principal
from brickbook.emulator.state.secrets import MAX_SCOPES, MAX_SECRETS_PER_SCOPE, MAX_VALUE_BYTES, SecretsState
from brickbook.emulator.state.store import Store
from tests.emulator.harness import ADMIN, ALICE, ALICE_TOKEN, CLIENT_ID, Emu, FakeClock, make_settings

S = "/api/2.0/secrets"


def call(emu: Emu, method: str, endpoint: str, token: str | None = None, **params: Any) -> httpx.Response:
    """POST params as JSON, or GET them as a query string, to ``/api/2.0/secrets/<endpoint>``."""
    options: dict[str, Any] = {} if token is None else {"token": token}
    if method == "GET":
        return emu.get(f"{S}/{endpoint}", params=params, **options)
    return emu.post(f"{S}/{endpoint}", json=params, **options)


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: httpx.Response, status: int, code: str, fragment: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code
    assert fragment in response.json()["message"]


def make_scope(emu: Emu, name: str = "etl", token: str | None = None, **extra: Any) -> None:
    ok(call(emu, "POST", "scopes/create", token, scope=name, **extra))


def put(emu: Emu, key: str, value: str, scope: str = "etl", token: str | None = None) -> httpx.Response:
    return call(emu, "POST", "put", token, scope=scope, key=key, string_value=value)


@dataclass
class SecretsEmu(Emu):
    """An emulator on a data directory, plus an Identity over the same store to mint context tokens."""

    identity: Identity | None = None

    def context_token(self, user: str, run_id: int | None = None) -> str:
        """A notebook context token, issued as the jobs engine does (the store is shared through SQLite)."""
        assert self.identity is not None
        return self.identity.issue_context_token(user, run_id=run_id)


@pytest.fixture(scope="module")
def secrets_emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretsEmu]:
    """A dedicated emulator with a data directory that a second Identity in the test can share."""
    clock = FakeClock()
    settings = make_settings(clock, data_dir=tmp_path_factory.mktemp("secrets-emu"))
    store = Store(settings.data_dir)
    with start_in_thread(settings) as running:
        emu = SecretsEmu(url=running.url, clock=clock, identity=Identity(settings, store, clock))
        yield emu
        emu.close()
    store.close()


@pytest.fixture
def emu(secrets_emu: SecretsEmu) -> SecretsEmu:
    """This module's emulator, reset before each test."""
    assert secrets_emu.control("POST", "reset").status_code == 200
    return secrets_emu


# -- scopes --------------------------------------------------------------------------------------------------


def test_created_scope_is_listed_as_databricks_backed(emu: SecretsEmu):
    """scopes/create answers {} and scopes/list shows the scope with backend_type DATABRICKS."""
    assert ok(call(emu, "POST", "scopes/create", scope="etl")) == {}
    assert ok(call(emu, "GET", "scopes/list")) == {"scopes": [{"name": "etl", "backend_type": "DATABRICKS"}]}


def test_scope_list_leaves_the_key_out_when_empty(emu: SecretsEmu):
    """With no scopes, scopes/list answers {}."""
    assert ok(call(emu, "GET", "scopes/list")) == {}


def test_duplicate_scope_is_resource_already_exists_400(emu: SecretsEmu):
    """Creating an existing scope answers 400 RESOURCE_ALREADY_EXISTS 'Scope X already exists!'."""
    make_scope(emu)
    assert_error(
        call(emu, "POST", "scopes/create", scope="etl"),
        400,
        "RESOURCE_ALREADY_EXISTS",
        "Scope etl already exists!",
    )


def test_scope_names_are_unique_ignoring_case(emu: SecretsEmu):
    """A scope differing only in case from an existing one is a duplicate."""
    make_scope(emu, "Etl")
    assert_error(
        call(emu, "POST", "scopes/create", scope="ETL"), 400, "RESOURCE_ALREADY_EXISTS", "already exists"
    )


def test_scope_lookups_ignore_case(emu: SecretsEmu):
    """A scope is found by any casing of its name, and lists under the name it was created with."""
    make_scope(emu, "Etl")
    ok(put(emu, "k", "value-one", scope="eTL"))
    assert [s["key"] for s in ok(call(emu, "GET", "list", scope="ETL"))["secrets"]] == ["k"]
    assert ok(call(emu, "GET", "scopes/list"))["scopes"][0]["name"] == "Etl"


@pytest.mark.parametrize("name", ["has space", "slash/y", "x" * 129, ""])
def test_bad_scope_name_is_invalid_parameter_value(emu: SecretsEmu, name: str):
    """Names outside letters, digits and -_.@, or longer than 128, answer 400 INVALID_PARAMETER_VALUE."""
    response = call(emu, "POST", "scopes/create", scope=name)
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "scope")


def test_scope_name_may_use_every_allowed_character(emu: SecretsEmu):
    """Letters, digits, '-', '_', '.', '@' and exactly 128 characters are accepted."""
    name = ("a-b_c.d@E9" * 13)[:128]
    make_scope(emu, name)
    assert ok(call(emu, "GET", "scopes/list"))["scopes"][0]["name"] == name


def test_initial_manage_principal_other_than_users_is_refused(emu: SecretsEmu):
    """initial_manage_principal may only be 'users'."""
    response = call(emu, "POST", "scopes/create", scope="etl", initial_manage_principal="admins")
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "only 'users'")


def test_initial_manage_principal_users_grants_manage_to_users(emu: SecretsEmu):
    """With initial_manage_principal='users' the ACLs are the creator's MANAGE and users' MANAGE."""
    make_scope(emu, initial_manage_principal="users")
    items = ok(call(emu, "GET", "acls/list", scope="etl"))["items"]
    assert items == [
        {"principal": ADMIN, "permission": "MANAGE"},
        {"principal": "users", "permission": "MANAGE"},
    ]


def test_azure_keyvault_scope_is_bad_request(emu: SecretsEmu):
    """Only Databricks-backed scopes exist: AZURE_KEYVAULT answers 400 BAD_REQUEST."""
    response = call(emu, "POST", "scopes/create", scope="akv", scope_backend_type="AZURE_KEYVAULT")
    assert_error(response, 400, "BAD_REQUEST", "AZURE_KEYVAULT")


def test_missing_scope_field_is_invalid_parameter_value(emu: SecretsEmu):
    """scopes/create without scope answers 400 INVALID_PARAMETER_VALUE naming the field."""
    assert_error(call(emu, "POST", "scopes/create"), 400, "INVALID_PARAMETER_VALUE", "scope")


def test_deleting_a_scope_removes_its_secrets(emu: SecretsEmu):
    """scopes/delete removes the scope; a new scope of that name starts empty."""
    make_scope(emu)
    ok(put(emu, "k", "value-one"))
    assert ok(call(emu, "POST", "scopes/delete", scope="etl")) == {}
    assert ok(call(emu, "GET", "scopes/list")) == {}
    make_scope(emu)
    assert ok(call(emu, "GET", "list", scope="etl")) == {}


def test_deleting_a_missing_scope_is_resource_does_not_exist(emu: SecretsEmu):
    """scopes/delete of an unknown scope answers 404 RESOURCE_DOES_NOT_EXIST."""
    assert_error(
        call(emu, "POST", "scopes/delete", scope="nope"),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        "Scope nope does not exist",
    )


# -- secrets -------------------------------------------------------------------------------------------------


def test_list_shows_keys_and_times_never_values(emu: SecretsEmu):
    """secrets/list answers each key with last_updated_timestamp (ms, injected clock) and no value."""
    make_scope(emu)
    ok(put(emu, "db-password", "hunter2-secret"))
    listed = ok(call(emu, "GET", "list", scope="etl"))
    assert listed == {
        "secrets": [{"key": "db-password", "last_updated_timestamp": int(emu.clock.now * 1000)}]
    }
    assert "hunter2" not in str(listed)


def test_put_overwrites_and_moves_the_timestamp(emu: SecretsEmu):
    """A second put of the same key replaces it and updates last_updated_timestamp."""
    make_scope(emu)
    ok(put(emu, "k", "first-value"))
    emu.clock.advance(5)
    ok(put(emu, "k", "second-value"))
    listed = ok(call(emu, "GET", "list", scope="etl"))["secrets"]
    assert listed == [{"key": "k", "last_updated_timestamp": int(emu.clock.now * 1000)}]


def test_put_needs_exactly_one_value(emu: SecretsEmu):
    """Neither or both of string_value and bytes_value answer 400 INVALID_PARAMETER_VALUE."""
    make_scope(emu)
    neither = call(emu, "POST", "put", scope="etl", key="k")
    both = call(emu, "POST", "put", scope="etl", key="k", string_value="a", bytes_value="YQ==")
    for response in (neither, both):
        assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Exactly one of string_value and bytes_value")


def test_bad_base64_is_invalid_parameter_value_without_the_value(emu: SecretsEmu):
    """A bytes_value that is not base64 is refused, and the message does not echo it."""
    make_scope(emu)
    response = call(emu, "POST", "put", scope="etl", key="k", bytes_value="not*base64!")
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "not valid base64")
    assert "not*base64!" not in response.text


def test_value_over_128_kb_is_refused(emu: SecretsEmu):
    """A value one byte over 128 KB answers 400 INVALID_PARAMETER_VALUE; exactly 128 KB is accepted."""
    make_scope(emu)
    ok(
        call(
            emu,
            "POST",
            "put",
            scope="etl",
            key="max",
            bytes_value=base64.b64encode(b"x" * MAX_VALUE_BYTES).decode(),
        )
    )
    big = base64.b64encode(b"x" * (MAX_VALUE_BYTES + 1)).decode()
    assert_error(
        call(emu, "POST", "put", scope="etl", key="big", bytes_value=big),
        400,
        "INVALID_PARAMETER_VALUE",
        "128 KB",
    )


@pytest.mark.parametrize("key", ["a/b", "with space", "k@x", "k" * 129])
def test_bad_key_is_invalid_parameter_value(emu: SecretsEmu, key: str):
    """Keys outside letters, digits and -_., or longer than 128, answer 400 INVALID_PARAMETER_VALUE."""
    make_scope(emu)
    assert_error(put(emu, key, "value-one"), 400, "INVALID_PARAMETER_VALUE", "Invalid secret key")


def test_put_into_a_missing_scope_is_resource_does_not_exist(emu: SecretsEmu):
    """put into an unknown scope answers 404 RESOURCE_DOES_NOT_EXIST."""
    assert_error(
        put(emu, "k", "value-one", scope="nope"), 404, "RESOURCE_DOES_NOT_EXIST", "Scope nope does not exist"
    )


def test_delete_removes_a_secret(emu: SecretsEmu):
    """secrets/delete answers {} and the key is no longer listed."""
    make_scope(emu)
    ok(put(emu, "k", "value-one"))
    assert ok(call(emu, "POST", "delete", scope="etl", key="k")) == {}
    assert ok(call(emu, "GET", "list", scope="etl")) == {}


def test_deleting_a_missing_secret_is_resource_does_not_exist(emu: SecretsEmu):
    """secrets/delete of an unknown key answers 404 RESOURCE_DOES_NOT_EXIST."""
    make_scope(emu)
    response = call(emu, "POST", "delete", scope="etl", key="nope")
    assert_error(
        response, 404, "RESOURCE_DOES_NOT_EXIST", "Secret does not exist with scope: etl and key: nope"
    )


def test_list_of_a_missing_scope_is_resource_does_not_exist(emu: SecretsEmu):
    """secrets/list of an unknown scope answers 404 RESOURCE_DOES_NOT_EXIST."""
    assert_error(
        call(emu, "GET", "list", scope="nope"), 404, "RESOURCE_DOES_NOT_EXIST", "Scope nope does not exist"
    )


# -- get (DBUtils only) --------------------------------------------------------------------------------------


def test_get_with_a_normal_token_is_bad_request(emu: SecretsEmu):
    """secrets/get from outside a notebook answers 400 BAD_REQUEST, even for the admin."""
    make_scope(emu)
    ok(put(emu, "k", "value-one"))
    response = call(emu, "GET", "get", scope="etl", key="k")
    assert_error(response, 400, "BAD_REQUEST", "outside a notebook")
    assert "value-one" not in response.text


def test_get_with_a_context_token_returns_the_base64_value(emu: SecretsEmu):
    """A notebook context token reads {key, value} with the value base64-encoded."""
    make_scope(emu)
    ok(put(emu, "k", "value-one"))
    answer = ok(call(emu, "GET", "get", emu.context_token(ADMIN), scope="etl", key="k"))
    assert answer == {"key": "k", "value": base64.b64encode(b"value-one").decode()}


def test_get_returns_bytes_values_as_stored(emu: SecretsEmu):
    """A bytes_value comes back from get as the same base64 bytes."""
    make_scope(emu)
    raw = bytes(range(256))
    ok(call(emu, "POST", "put", scope="etl", key="bin", bytes_value=base64.b64encode(raw).decode()))
    answer = ok(call(emu, "GET", "get", emu.context_token(ADMIN), scope="etl", key="bin"))
    assert base64.b64decode(answer["value"]) == raw


def test_get_of_a_missing_key_is_resource_does_not_exist(emu: SecretsEmu):
    """A context token asking for an unknown key gets 404 RESOURCE_DOES_NOT_EXIST."""
    make_scope(emu)
    response = call(emu, "GET", "get", emu.context_token(ADMIN), scope="etl", key="nope")
    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "key: nope")


def test_get_in_a_notebook_still_needs_read(emu: SecretsEmu):
    """Alice's context token is refused with PERMISSION_DENIED on a scope she has no grant on."""
    make_scope(emu)
    ok(put(emu, "k", "value-one"))
    response = call(emu, "GET", "get", emu.context_token(ALICE), scope="etl", key="k")
    assert_error(response, 403, "PERMISSION_DENIED", "does not have READ permission on scope etl")


def test_context_token_acts_as_its_principal(emu: SecretsEmu):
    """A context token authenticates as the user it was issued for (SCIM Me)."""
    me = emu.get("/api/2.0/preview/scim/v2/Me", token=emu.context_token(ALICE)).json()
    assert me["userName"] == ALICE


def test_context_token_for_a_service_principal(emu: SecretsEmu):
    """A context token can act as an OAuth service principal too."""
    make_scope(emu, initial_manage_principal="users")
    ok(put(emu, "k", "value-one"))
    answer = ok(call(emu, "GET", "get", emu.context_token(CLIENT_ID), scope="etl", key="k"))
    assert answer["key"] == "k"


def test_revoked_context_tokens_stop_working(emu: SecretsEmu):
    """revoke_context_tokens(run_id) ends that run's tokens and leaves other runs' tokens alone."""
    mine, other = emu.context_token(ADMIN, run_id=7), emu.context_token(ADMIN, run_id=8)
    assert emu.identity is not None
    emu.identity.revoke_context_tokens(7)
    assert emu.get("/api/2.0/preview/scim/v2/Me", token=mine).status_code == 403
    assert emu.get("/api/2.0/preview/scim/v2/Me", token=other).status_code == 200


def test_context_tokens_are_stored_as_digests(tmp_path: Path):
    """The data directory holds a context token's SHA-256, never the token itself."""
    settings = make_settings(FakeClock(), data_dir=tmp_path)
    store = Store(settings.data_dir)
    token = Identity(settings, store, settings.clock).issue_context_token(ADMIN, run_id=1)
    store.close()
    on_disk = b"".join(path.read_bytes() for path in tmp_path.iterdir())
    assert token.encode() not in on_disk
    assert hashlib.sha256(token.encode()).hexdigest().encode() in on_disk


def test_context_token_for_an_unknown_principal_is_refused(emu: SecretsEmu):
    """issue_context_token raises ValueError for a name that is no principal."""
    with pytest.raises(ValueError, match="no principal named 'nobody'"):
        emu.context_token("nobody")


# -- ACLs and their enforcement ------------------------------------------------------------------------------


def test_creator_gets_manage(emu: SecretsEmu):
    """The scope's creator holds MANAGE (acls/get)."""
    make_scope(emu, token=ALICE_TOKEN)
    acl = ok(call(emu, "GET", "acls/get", ALICE_TOKEN, scope="etl", principal=ALICE))
    assert acl == {"principal": ALICE, "permission": "MANAGE"}


def test_acl_put_overwrites_and_acl_list_answers_items(emu: SecretsEmu):
    """acls/put twice keeps one grant with the latest permission; acls/list answers under 'items'."""
    make_scope(emu)
    ok(call(emu, "POST", "acls/put", scope="etl", principal=ALICE, permission="READ"))
    ok(call(emu, "POST", "acls/put", scope="etl", principal=ALICE, permission="WRITE"))
    items = ok(call(emu, "GET", "acls/list", scope="etl"))["items"]
    assert {"principal": ALICE, "permission": "WRITE"} in items
    assert len([i for i in items if i["principal"] == ALICE]) == 1


def test_bad_permission_is_invalid_parameter_value(emu: SecretsEmu):
    """A permission other than READ, WRITE or MANAGE answers 400 INVALID_PARAMETER_VALUE."""
    make_scope(emu)
    response = call(emu, "POST", "acls/put", scope="etl", principal=ALICE, permission="OWNER")
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Invalid permission 'OWNER'")


def test_acl_delete_then_get_is_resource_does_not_exist(emu: SecretsEmu):
    """After acls/delete, acls/get and a second acls/delete answer 404 RESOURCE_DOES_NOT_EXIST."""
    make_scope(emu)
    ok(call(emu, "POST", "acls/put", scope="etl", principal=ALICE, permission="READ"))
    assert ok(call(emu, "POST", "acls/delete", scope="etl", principal=ALICE)) == {}
    for response in (
        call(emu, "GET", "acls/get", scope="etl", principal=ALICE),
        call(emu, "POST", "acls/delete", scope="etl", principal=ALICE),
    ):
        assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", f"No ACL for principal {ALICE}")


def test_user_without_a_grant_cannot_list(emu: SecretsEmu):
    """Alice, with no grant, gets 403 PERMISSION_DENIED naming READ on secrets/list."""
    make_scope(emu)
    response = call(emu, "GET", "list", ALICE_TOKEN, scope="etl")
    assert_error(
        response, 403, "PERMISSION_DENIED", f"User {ALICE} does not have READ permission on scope etl"
    )


def test_read_allows_list_but_not_put(emu: SecretsEmu):
    """With READ, Alice may list secrets but put answers PERMISSION_DENIED naming WRITE."""
    make_scope(emu)
    ok(call(emu, "POST", "acls/put", scope="etl", principal=ALICE, permission="READ"))
    ok(call(emu, "GET", "list", ALICE_TOKEN, scope="etl"))
    assert_error(put(emu, "k", "value-one", token=ALICE_TOKEN), 403, "PERMISSION_DENIED", "WRITE permission")


def test_write_allows_put_and_delete_but_not_acls(emu: SecretsEmu):
    """With WRITE, Alice may put and delete secrets but not read ACLs (MANAGE)."""
    make_scope(emu)
    ok(call(emu, "POST", "acls/put", scope="etl", principal=ALICE, permission="WRITE"))
    ok(put(emu, "k", "value-one", token=ALICE_TOKEN))
    ok(call(emu, "POST", "delete", ALICE_TOKEN, scope="etl", key="k"))
    assert_error(
        call(emu, "GET", "acls/list", ALICE_TOKEN, scope="etl"), 403, "PERMISSION_DENIED", "MANAGE permission"
    )


def test_manage_allows_acl_changes_and_scope_delete(emu: SecretsEmu):
    """With MANAGE, Alice may grant others and delete the scope."""
    make_scope(emu)
    ok(call(emu, "POST", "acls/put", scope="etl", principal=ALICE, permission="MANAGE"))
    ok(call(emu, "POST", "acls/put", ALICE_TOKEN, scope="etl", principal="data-eng", permission="READ"))
    ok(call(emu, "POST", "scopes/delete", ALICE_TOKEN, scope="etl"))


def test_without_manage_scope_delete_is_denied(emu: SecretsEmu):
    """With only WRITE, scopes/delete answers PERMISSION_DENIED and the scope stays."""
    make_scope(emu)
    ok(call(emu, "POST", "acls/put", scope="etl", principal=ALICE, permission="WRITE"))
    assert_error(
        call(emu, "POST", "scopes/delete", ALICE_TOKEN, scope="etl"), 403, "PERMISSION_DENIED", "MANAGE"
    )
    assert ok(call(emu, "GET", "scopes/list"))["scopes"][0]["name"] == "etl"


def test_a_grant_to_users_applies_to_every_user(emu: SecretsEmu):
    """An ACL for the group 'users' lets Alice act through her group."""
    make_scope(emu)
    ok(call(emu, "POST", "acls/put", scope="etl", principal="users", permission="WRITE"))
    ok(put(emu, "k", "value-one", token=ALICE_TOKEN))


def test_the_most_powerful_grant_wins(emu: SecretsEmu):
    """Alice's own READ and the group's WRITE combine to WRITE."""
    make_scope(emu)
    ok(call(emu, "POST", "acls/put", scope="etl", principal=ALICE, permission="READ"))
    ok(call(emu, "POST", "acls/put", scope="etl", principal="users", permission="WRITE"))
    ok(put(emu, "k", "value-one", token=ALICE_TOKEN))


def test_admins_need_no_grant(emu: SecretsEmu):
    """The admin may manage a scope Alice created without being granted anything."""
    make_scope(emu, token=ALICE_TOKEN)
    ok(put(emu, "k", "value-one"))
    assert [i["principal"] for i in ok(call(emu, "GET", "acls/list", scope="etl"))["items"]] == [ALICE]


def test_any_user_lists_every_scope(emu: SecretsEmu):
    """scopes/list shows all scopes, also to a user with no grant on them."""
    make_scope(emu)
    assert [s["name"] for s in ok(call(emu, "GET", "scopes/list", ALICE_TOKEN))["scopes"]] == ["etl"]


# -- in-process access, limits and persistence ---------------------------------------------------------------


def test_get_value_returns_the_bytes():
    """SecretsState.get_value gives other areas the stored bytes, with no caller involved."""
    state = SecretsState(Store(), lambda: 0.0)
    admin = Principal(ADMIN, is_admin=True)
    state.create_scope(admin, scope="Etl", initial_manage_principal=None, backend_type=None)
    state.put_secret(admin, scope="etl", key="k", string_value="välue", bytes_value=None)
    assert state.get_value("ETL", "k") == "välue".encode()
    with pytest.raises(ApiError, match="RESOURCE_DOES_NOT_EXIST"):
        state.get_value("etl", "nope")


def test_scope_limit_is_resource_limit_exceeded():
    """Past max_scopes, scopes/create raises RESOURCE_LIMIT_EXCEEDED (HTTP 400)."""
    state = SecretsState(Store(), lambda: 0.0, max_scopes=2)
    admin = Principal(ADMIN, is_admin=True)
    for name in ("a", "b"):
        state.create_scope(admin, scope=name, initial_manage_principal=None, backend_type=None)
    with pytest.raises(ApiError) as caught:
        state.create_scope(admin, scope="c", initial_manage_principal=None, backend_type=None)
    assert (caught.value.code, caught.value.status) == ("RESOURCE_LIMIT_EXCEEDED", 400)
    assert "maximum of 2 secret scopes" in caught.value.message


def test_secret_limit_counts_new_keys_only():
    """Past max_secrets_per_scope a new key is RESOURCE_LIMIT_EXCEEDED; overwriting one still works."""
    state = SecretsState(Store(), lambda: 0.0, max_secrets_per_scope=2)
    admin = Principal(ADMIN, is_admin=True)
    state.create_scope(admin, scope="etl", initial_manage_principal=None, backend_type=None)
    for key in ("a", "b", "a"):
        state.put_secret(admin, scope="etl", key=key, string_value="v", bytes_value=None)
    with pytest.raises(ApiError) as caught:
        state.put_secret(admin, scope="etl", key="c", string_value="v", bytes_value=None)
    assert caught.value.code == "RESOURCE_LIMIT_EXCEEDED"
    assert "maximum of 2 secrets" in caught.value.message


def test_default_limits_are_the_documented_ones():
    """The defaults are 1000 scopes and 1000 secrets per scope (the Databricks "Resource limits" page)."""
    assert (MAX_SCOPES, MAX_SECRETS_PER_SCOPE) == (1000, 1000)


def test_secrets_survive_a_restart_with_a_data_dir(tmp_path: Path):
    """With --data-dir, scopes, ACLs and secrets are there after a restart."""
    clock = FakeClock()
    settings = make_settings(clock, data_dir=tmp_path)
    with start_in_thread(settings) as running:
        first = Emu(url=running.url, clock=clock)
        make_scope(first)
        ok(call(first, "POST", "acls/put", scope="etl", principal=ALICE, permission="READ"))
        ok(put(first, "k", "value-one"))
        first.close()
    with start_in_thread(settings) as running:
        second = Emu(url=running.url, clock=clock)
        assert [s["key"] for s in ok(call(second, "GET", "list", ALICE_TOKEN, scope="etl"))["secrets"]] == [
            "k"
        ]
        second.close()
