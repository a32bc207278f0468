"""Discovery, the OAuth M2M token endpoint (``/oidc/v1/token``) and SCIM ``Me``.

SDK 0.162 learns its OIDC endpoints only from ``/.well-known/databricks-config``; the token endpoint
takes ``grant_type=client_credentials`` with the client in HTTP Basic or in the form.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.state.identity import Identity, Principal, stable_id
from brickbook.emulator.wire import base_url, caller, json_response

__all__ = ["AuthArea", "scim_user"]

SCIM_USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def scim_user(principal: Principal) -> dict[str, Any]:
    user: dict[str, Any] = {
        "schemas": [SCIM_USER_SCHEMA],
        "id": principal.id,
        "userName": principal.user_name,
        "displayName": principal.display_name,
        "active": True,
        "groups": [{"display": name, "value": stable_id(f"group:{name}")} for name in principal.groups],
    }
    if not principal.service_principal:
        user["emails"] = [{"value": principal.user_name, "type": "work", "primary": True}]
    return user


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (client_id, secret) if sep else None


class AuthArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        self.identity: Identity = context.identity
        self.workspace_id = context.settings.workspace_id

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/.well-known/databricks-config", self.databricks_config, methods=["GET"]),
            Route("/oidc/.well-known/oauth-authorization-server", self.oauth_metadata, methods=["GET"]),
            Route("/oidc/v1/token", self.token, methods=["POST"]),
            Route("/api/2.0/preview/scim/v2/Me", self.me, methods=["GET"]),
        ]

    async def databricks_config(self, request: Request) -> Response:
        """``GET /.well-known/databricks-config``: host metadata (unauthenticated)."""
        base = base_url(request)
        return json_response(
            {"oidc_endpoint": f"{base}/oidc", "workspace_id": self.workspace_id, "cloud": "aws"}
        )

    async def oauth_metadata(self, request: Request) -> Response:
        """``GET /oidc/.well-known/oauth-authorization-server``: OIDC discovery (unauthenticated)."""
        oidc = f"{base_url(request)}/oidc"
        return json_response(
            {
                "issuer": oidc,
                "authorization_endpoint": f"{oidc}/v1/authorize",
                "token_endpoint": f"{oidc}/v1/token",
                "grant_types_supported": ["client_credentials"],
                "response_types_supported": ["code"],
                "scopes_supported": ["all-apis"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            }
        )

    async def token(self, request: Request) -> Response:
        """``POST /oidc/v1/token``: the client credentials grant."""
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "Only client_credentials is supported.")
        client = _basic_credentials(request) or (form.get("client_id", ""), form.get("client_secret", ""))
        # RFC 6749 form-encodes Basic credentials; the SDK sends them raw. Accept either.
        issued = self.identity.issue_oauth_token(*client) or self.identity.issue_oauth_token(
            unquote_plus(client[0]), unquote_plus(client[1])
        )
        if issued is None:
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        return json_response(
            {
                "access_token": issued.access_token,
                "token_type": "Bearer",
                "expires_in": issued.expires_in,
                "scope": form.get("scope", "all-apis"),
            }
        )

    async def me(self, request: Request) -> Response:
        """``GET /api/2.0/preview/scim/v2/Me``: the calling principal."""
        return json_response(scim_user(caller(request)))
