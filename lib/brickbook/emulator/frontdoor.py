"""The front door: every request but discovery and the token endpoint needs a valid bearer token.

Answers as the real front door does, before any route runs: 401 with integer ``error_code`` when no
bearer credential was sent, 403 "Invalid access token." when the token is unknown, expired or revoked.
On success the principal goes into ``scope["state"]["principal"]``.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from brickbook.emulator.state.identity import Identity
from brickbook.emulator.wire import invalid_token_response, missing_credential_response

__all__ = ["AuthMiddleware", "is_public_path"]

_PUBLIC_PATHS = ("/.well-known/databricks-config",)
_PUBLIC_PREFIXES = ("/oidc/",)  # discovery and the token endpoint authenticate the client themselves


def is_public_path(path: str) -> bool:
    return path in _PUBLIC_PATHS or path.startswith(_PUBLIC_PREFIXES)


class AuthMiddleware:
    def __init__(self, app: ASGIApp, identity: Identity) -> None:
        self.app = app
        self.identity = identity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        request_id = str(state.get("request_id", ""))
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            await missing_credential_response(request_id)(scope, receive, send)
            return
        principal = self.identity.authenticate(token.strip())
        if principal is None:
            await invalid_token_response(request_id)(scope, receive, send)
            return
        state["principal"] = principal
        await self.app(scope, receive, send)
