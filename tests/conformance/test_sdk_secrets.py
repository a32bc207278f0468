"""The official databricks-sdk's SecretsAPI against the emulator, unchanged."""

from __future__ import annotations

import base64

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import BadRequest, PermissionDenied, ResourceAlreadyExists, ResourceDoesNotExist
from databricks.sdk.service.workspace import AclItem, AclPermission, ScopeBackendType

from tests.emulator.harness import ADMIN, ADMIN_TOKEN, ALICE, ALICE_TOKEN, Emu


@pytest.fixture
def w(sdk_env: Emu) -> WorkspaceClient:
    return WorkspaceClient(host=sdk_env.url, token=ADMIN_TOKEN)


def test_scope_lifecycle(w: WorkspaceClient):
    """create_scope, list_scopes and delete_scope round-trip through the SDK's types."""
    w.secrets.create_scope("etl")
    scopes = list(w.secrets.list_scopes())
    assert [(s.name, s.backend_type) for s in scopes] == [("etl", ScopeBackendType.DATABRICKS)]
    w.secrets.delete_scope("etl")
    assert list(w.secrets.list_scopes()) == []


def test_duplicate_scope_is_resource_already_exists(w: WorkspaceClient):
    """A duplicate scope raises ResourceAlreadyExists (error_code wins over the 400 status)."""
    w.secrets.create_scope("etl")
    with pytest.raises(ResourceAlreadyExists, match="Scope etl already exists!"):
        w.secrets.create_scope("etl")


def test_secret_put_list_delete(w: WorkspaceClient, sdk_env: Emu):
    """put_secret (string and bytes), list_secrets with ms timestamps, delete_secret."""
    w.secrets.create_scope("etl")
    w.secrets.put_secret("etl", "pw", string_value="sdk-secret-value-1")
    w.secrets.put_secret("etl", "blob", bytes_value=base64.b64encode(b"\x00\x01").decode())
    listed = {s.key: s.last_updated_timestamp for s in w.secrets.list_secrets("etl")}
    assert listed == {"pw": int(sdk_env.clock.now * 1000), "blob": int(sdk_env.clock.now * 1000)}
    w.secrets.delete_secret("etl", "pw")
    assert [s.key for s in w.secrets.list_secrets("etl")] == ["blob"]


def test_missing_secret_delete_is_resource_does_not_exist(w: WorkspaceClient):
    """delete_secret of an unknown key raises ResourceDoesNotExist."""
    w.secrets.create_scope("etl")
    with pytest.raises(ResourceDoesNotExist, match="Secret does not exist"):
        w.secrets.delete_secret("etl", "nope")


def test_acls_put_get_list_delete(w: WorkspaceClient):
    """put_acl, get_acl, list_acls (read from 'items') and delete_acl through the SDK's types."""
    w.secrets.create_scope("etl")
    w.secrets.put_acl("etl", ALICE, AclPermission.READ)
    assert w.secrets.get_acl("etl", ALICE) == AclItem(principal=ALICE, permission=AclPermission.READ)
    assert list(w.secrets.list_acls("etl")) == [
        AclItem(principal=ADMIN, permission=AclPermission.MANAGE),
        AclItem(principal=ALICE, permission=AclPermission.READ),
    ]
    w.secrets.delete_acl("etl", ALICE)
    with pytest.raises(ResourceDoesNotExist):
        w.secrets.get_acl("etl", ALICE)


def test_user_without_write_is_permission_denied(w: WorkspaceClient, sdk_env: Emu):
    """A user holding READ gets PermissionDenied from put_secret."""
    w.secrets.create_scope("etl")
    w.secrets.put_acl("etl", ALICE, AclPermission.READ)
    alice = WorkspaceClient(host=sdk_env.url, token=ALICE_TOKEN)
    assert list(alice.secrets.list_secrets("etl")) == []
    with pytest.raises(PermissionDenied, match="does not have WRITE permission"):
        alice.secrets.put_secret("etl", "pw", string_value="sdk-secret-value-2")


def test_get_secret_outside_a_notebook_is_bad_request(w: WorkspaceClient):
    """get_secret with a PAT raises BadRequest: the endpoint is DBUtils-only."""
    w.secrets.create_scope("etl")
    w.secrets.put_secret("etl", "pw", string_value="sdk-secret-value-3")
    with pytest.raises(BadRequest, match="outside a notebook"):
        w.secrets.get_secret("etl", "pw")
