"""Secrets API primitives (``brickbook.api.secrets``) against the emulator over loopback HTTP."""

from __future__ import annotations

import time
from urllib.parse import parse_qs

import pytest

from brickbook.api import jobs, secrets, workspace
from brickbook.api.secrets import AclItem, AclPermission, SecretScope
from brickbook.api.workspace import ImportFormat, Language
from brickbook.client import Client
from brickbook.errors import (
    InvalidParameterValue,
    PermissionDenied,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    UsageError,
)
from brickbook.redaction import redact
from tests.conftest import Emulator

BASE = "/api/2.0/secrets"
WAIT_SECONDS = 30


def test_create_scope_is_listed_as_a_typed_scope(client: Client):
    """A created scope is listed as a SecretScope backed by Databricks."""
    secrets.create_scope(client, "etl")
    assert secrets.list_scopes(client) == [SecretScope(name="etl", backend_type="DATABRICKS")]


def test_list_scopes_of_an_empty_workspace_is_empty(client: Client):
    """scopes/list leaves out ``scopes`` when there are none, and list_scopes returns []."""
    assert secrets.list_scopes(client) == []


def test_create_scope_twice_is_resource_already_exists(client: Client):
    """Scope names are unique ignoring case; a duplicate is the legacy 400 RESOURCE_ALREADY_EXISTS."""
    secrets.create_scope(client, "Etl")
    with pytest.raises(ResourceAlreadyExists) as info:
        secrets.create_scope(client, "ETL")
    assert (info.value.http_status, info.value.error_code) == (400, "RESOURCE_ALREADY_EXISTS")
    assert "Scope ETL already exists!" in info.value.message


def test_create_scope_with_an_invalid_name_sends_nothing(client: Client, emulator: Emulator):
    """A scope name the API would refuse is a UsageError before any request."""
    with pytest.raises(UsageError, match="invalid scope name"):
        secrets.create_scope(client, "has space")
    assert emulator.requests(BASE) == []


def test_create_scope_for_users_grants_them_manage(client: Client):
    """initial_manage_principal='users' gives the users group MANAGE beside the creator."""
    secrets.create_scope(client, "shared", initial_manage_principal="users")
    assert sorted((a.principal, a.permission) for a in secrets.list_acls(client, "shared")) == [
        ("admin@example.com", AclPermission.MANAGE),
        ("users", AclPermission.MANAGE),
    ]


def test_create_scope_for_another_initial_manager_is_invalid_parameter_value(client: Client):
    """Only 'users' may be the initial manage principal; the service says so."""
    with pytest.raises(InvalidParameterValue) as info:
        secrets.create_scope(client, "etl", initial_manage_principal="admins")
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "only 'users' is supported" in info.value.message


def test_put_secret_is_listed_as_metadata_only(client: Client, emulator: Emulator):
    """list_secrets shows the key and an epoch-ms update time, never the value."""
    secrets.create_scope(client, "etl")
    secrets.put_secret(client, "etl", "db-password", "s3cr3t-listed-value")
    (listed,) = secrets.list_secrets(client, "etl")
    assert listed.key == "db-password"
    assert listed.last_updated_timestamp == pytest.approx(emulator.clock() * 1000, abs=1000)
    assert set(listed.raw) == {"key", "last_updated_timestamp"}


def test_put_secret_overwrites_an_existing_key(client: Client, emulator: Emulator):
    """A second put of one key replaces it: still one key, with a later update time."""
    secrets.create_scope(client, "etl")
    secrets.put_secret(client, "etl", "token", "first-value-123")
    before = secrets.list_secrets(client, "etl")[0].last_updated_timestamp
    emulator.clock.advance(5)
    secrets.put_secret(client, "etl", "token", "second-value-456")
    (after,) = secrets.list_secrets(client, "etl")
    assert after.key == "token" and before is not None and after.last_updated_timestamp == before + 5000


def test_put_secret_as_bytes_stores_the_bytes(client: Client):
    """A bytes value travels as bytes_value and a notebook reads back exactly those bytes."""
    secrets.create_scope(client, "etl", initial_manage_principal="users")
    secrets.put_secret(client, "etl", "blob", b"\x00\xff binary \x80")
    source = (
        b"# Databricks notebook source\n"
        b"dbutils.notebook.exit(dbutils.secrets.getBytes('etl', 'blob').hex())\n"
    )
    workspace.import_(client, "/Shared/read", source, format=ImportFormat.SOURCE, language=Language.PYTHON)
    task = {"task_key": "read", "notebook_task": {"notebook_path": "/Shared/read"}}
    run_id = jobs.submit(client, {"run_name": "read", "tasks": [task]}, idempotency_token="t")
    deadline = time.monotonic() + WAIT_SECONDS
    while not (run := jobs.get_run(client, run_id)).is_terminal:
        assert time.monotonic() < deadline, f"run {run_id} stuck in {run.state}"
        time.sleep(0.02)  # waiting for a real child process, not for emulated time
    output = jobs.get_run_output(client, run.tasks[0]["run_id"])
    assert output.notebook_output["result"] == b"\x00\xff binary \x80".hex()


def test_put_secret_into_a_missing_scope_is_resource_does_not_exist(client: Client):
    """put into a scope that does not exist is 404 RESOURCE_DOES_NOT_EXIST (ResourceDoesNotExist)."""
    with pytest.raises(ResourceDoesNotExist) as info:
        secrets.put_secret(client, "nope", "k", "some-value-789")
    assert (info.value.http_status, info.value.error_code) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert "Scope nope does not exist!" in info.value.message


def test_put_secret_over_128_kb_sends_nothing(client: Client, emulator: Emulator):
    """A value over the 128 KB limit is a UsageError before any request."""
    with pytest.raises(UsageError, match="128 KB"):
        secrets.put_secret(client, "etl", "big", b"x" * (128 * 1024 + 1))
    assert emulator.requests(f"{BASE}/put") == []


def test_put_secret_registers_the_value_for_redaction(client: Client):
    """Once put (even when the put fails), the value is masked in anything brickbook prints."""
    value = "put-secret-redaction-probe-0xC0FFEE"
    with pytest.raises(ResourceDoesNotExist):
        secrets.put_secret(client, "nope", "k", value)
    assert value not in redact(f"leaked: {value}")


def test_delete_secret_removes_the_key(client: Client):
    """After delete_secret the scope lists no keys."""
    secrets.create_scope(client, "etl")
    secrets.put_secret(client, "etl", "token", "delete-me-value")
    secrets.delete_secret(client, "etl", "token")
    assert secrets.list_secrets(client, "etl") == []


def test_delete_secret_of_a_missing_key_is_resource_does_not_exist(client: Client):
    """delete of a key that is not there is 404 RESOURCE_DOES_NOT_EXIST (ResourceDoesNotExist)."""
    secrets.create_scope(client, "etl")
    with pytest.raises(ResourceDoesNotExist) as info:
        secrets.delete_secret(client, "etl", "token")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "Secret does not exist with scope: etl and key: token" in info.value.message


def test_list_secrets_of_a_missing_scope_is_resource_does_not_exist(client: Client):
    """list of a scope that does not exist is 404 RESOURCE_DOES_NOT_EXIST (ResourceDoesNotExist)."""
    with pytest.raises(ResourceDoesNotExist) as info:
        secrets.list_secrets(client, "nope")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "Scope nope does not exist!" in info.value.message


def test_scope_and_principal_are_encoded_in_the_query_string(client: Client, emulator: Emulator):
    """A scope with '@' and '.' and a principal with '+' travel intact in the query string."""
    secrets.create_scope(client, "team@x.y")
    secrets.put_acl(client, "team@x.y", "dev+ops@example.com", AclPermission.WRITE)
    assert secrets.get_acl(client, "team@x.y", "dev+ops@example.com") == AclItem(
        principal="dev+ops@example.com", permission=AclPermission.WRITE
    )
    query = parse_qs(str(emulator.requests(f"{BASE}/acls/get")[0]["query"]))
    assert query == {"scope": ["team@x.y"], "principal": ["dev+ops@example.com"]}


def test_list_acls_reads_the_items_key(client: Client):
    """acls/list answers ``items`` (not ``acls``): the creator's MANAGE and each grant are listed."""
    secrets.create_scope(client, "etl")
    secrets.put_acl(client, "etl", "data-team", AclPermission.READ)
    assert sorted((a.principal, a.permission) for a in secrets.list_acls(client, "etl")) == [
        ("admin@example.com", AclPermission.MANAGE),
        ("data-team", AclPermission.READ),
    ]


def test_get_acl_of_a_principal_without_one_is_resource_does_not_exist(client: Client):
    """acls/get for a principal with no grant is 404 RESOURCE_DOES_NOT_EXIST (ResourceDoesNotExist)."""
    secrets.create_scope(client, "etl")
    with pytest.raises(ResourceDoesNotExist) as info:
        secrets.get_acl(client, "etl", "bob@example.com")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "No ACL for principal bob@example.com on scope etl" in info.value.message


def test_delete_acl_removes_the_grant(client: Client):
    """After delete_acl the principal has no ACL on the scope."""
    secrets.create_scope(client, "etl")
    secrets.put_acl(client, "etl", "data-team", AclPermission.WRITE)
    secrets.delete_acl(client, "etl", "data-team")
    assert [a.principal for a in secrets.list_acls(client, "etl")] == ["admin@example.com"]


def test_delete_scope_removes_it_and_its_secrets(client: Client):
    """After delete_scope the scope is gone, and listing its secrets is ResourceDoesNotExist."""
    secrets.create_scope(client, "etl")
    secrets.put_secret(client, "etl", "token", "scope-delete-value")
    secrets.delete_scope(client, "etl")
    assert secrets.list_scopes(client) == []
    with pytest.raises(ResourceDoesNotExist, match="Scope etl does not exist"):
        secrets.list_secrets(client, "etl")


def test_delete_scope_of_a_missing_scope_is_resource_does_not_exist(client: Client):
    """scopes/delete of a scope that does not exist is 404 RESOURCE_DOES_NOT_EXIST."""
    with pytest.raises(ResourceDoesNotExist) as info:
        secrets.delete_scope(client, "nope")
    assert (info.value.http_status, info.value.error_code) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert "Scope nope does not exist!" in info.value.message


def test_user_without_manage_may_not_list_acls(client: Client, alice: Client):
    """Listing a scope's ACLs needs MANAGE: a plain user without it gets 403 PERMISSION_DENIED."""
    secrets.create_scope(client, "etl")
    with pytest.raises(PermissionDenied) as info:
        secrets.list_acls(alice, "etl")
    assert (info.value.http_status, info.value.error_code) == (403, "PERMISSION_DENIED")
    assert "alice@example.com" in info.value.message
