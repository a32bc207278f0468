"""The official databricks-sdk (0.162.0) authenticates against the emulator as against a workspace."""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import PermissionDenied

from tests.emulator.harness import ADMIN, ADMIN_TOKEN, ALICE, ALICE_TOKEN, CLIENT_ID, CLIENT_SECRET, ME, Emu


def test_pat_admin_is_the_admin(sdk_env: Emu):
    """A PAT client for the admin token sees the admin user."""
    w = WorkspaceClient(host=sdk_env.url, token=ADMIN_TOKEN)
    assert w.current_user.me().user_name == ADMIN


def test_pat_user_is_that_user(sdk_env: Emu):
    """A PAT client for a user token sees that user, in group 'users'."""
    me = WorkspaceClient(host=sdk_env.url, token=ALICE_TOKEN).current_user.me()
    assert me.user_name == ALICE
    assert [g.display for g in me.groups or []] == ["users"]


def test_oauth_m2m_is_the_service_principal(sdk_env: Emu):
    """An oauth-m2m client discovers the token endpoint, gets a token and calls as the client id."""
    w = WorkspaceClient(
        host=sdk_env.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, auth_type="oauth-m2m"
    )
    assert w.current_user.me().user_name == CLIENT_ID
    assert [e["status"] for e in sdk_env.journal("/oidc/v1/token")] == [200]


def test_bad_token_is_permission_denied(sdk_env: Emu):
    """An unknown PAT raises the SDK's PermissionDenied carrying 'Invalid access token'."""
    w = WorkspaceClient(host=sdk_env.url, token="dapi-not-a-real-token")
    with pytest.raises(PermissionDenied, match="Invalid access token"):
        w.current_user.me()
    assert [e["status"] for e in sdk_env.journal(ME)] == [403]


def test_oauth_m2m_bad_secret_is_refused(sdk_env: Emu):
    """A wrong client secret makes the SDK raise the token endpoint's invalid_client error."""
    with pytest.raises(ValueError, match="invalid_client: Client authentication failed"):
        w = WorkspaceClient(
            host=sdk_env.url, client_id=CLIENT_ID, client_secret="wrong", auth_type="oauth-m2m"
        )
        w.current_user.me()
