"""Secrets API: ``/api/2.0/secrets/{scopes,acls}/*``, ``put``, ``delete``, ``list`` and ``get``.

Lists leave their key out when empty, as the service does; ``acls/list`` answers ``items``. ``get``
answers only notebook context tokens (see state/identity.py): any other caller gets BAD_REQUEST.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.state.secrets import SecretsState
from brickbook.emulator.wire import caller, json_response, read_json

__all__ = ["SecretsArea"]

BASE = "/api/2.0/secrets"


class SecretsArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        self.state = SecretsState(context.store, context.clock)

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route(BASE + "/scopes/create", self.create_scope, methods=["POST"]),
            Route(BASE + "/scopes/delete", self.delete_scope, methods=["POST"]),
            Route(BASE + "/scopes/list", self.list_scopes, methods=["GET"]),
            Route(BASE + "/put", self.put, methods=["POST"]),
            Route(BASE + "/delete", self.delete, methods=["POST"]),
            Route(BASE + "/list", self.list, methods=["GET"]),
            Route(BASE + "/get", self.get, methods=["GET"]),
            Route(BASE + "/acls/put", self.put_acl, methods=["POST"]),
            Route(BASE + "/acls/get", self.get_acl, methods=["GET"]),
            Route(BASE + "/acls/list", self.list_acls, methods=["GET"]),
            Route(BASE + "/acls/delete", self.delete_acl, methods=["POST"]),
        ]

    async def create_scope(self, request: Request) -> Response:
        """``POST scopes/create {scope, initial_manage_principal?, scope_backend_type?}`` -> ``{}``."""
        body = await read_json(request)
        self.state.create_scope(
            caller(request),
            scope=body.get("scope"),
            initial_manage_principal=body.get("initial_manage_principal"),
            backend_type=body.get("scope_backend_type"),
        )
        return json_response({})

    async def delete_scope(self, request: Request) -> Response:
        """``POST scopes/delete {scope}`` -> ``{}``."""
        body = await read_json(request)
        self.state.delete_scope(caller(request), scope=body.get("scope"))
        return json_response({})

    async def list_scopes(self, request: Request) -> Response:
        """``GET scopes/list`` -> ``{scopes?}``."""
        scopes = self.state.list_scopes()
        return json_response({"scopes": scopes} if scopes else {})

    async def put(self, request: Request) -> Response:
        """``POST put {scope, key, string_value | bytes_value}`` -> ``{}``."""
        body = await read_json(request)
        self.state.put_secret(
            caller(request),
            scope=body.get("scope"),
            key=body.get("key"),
            string_value=body.get("string_value"),
            bytes_value=body.get("bytes_value"),
        )
        return json_response({})

    async def delete(self, request: Request) -> Response:
        """``POST delete {scope, key}`` -> ``{}``."""
        body = await read_json(request)
        self.state.delete_secret(caller(request), scope=body.get("scope"), key=body.get("key"))
        return json_response({})

    async def list(self, request: Request) -> Response:
        """``GET list?scope=`` -> ``{secrets?: [{key, last_updated_timestamp}]}``."""
        secrets = self.state.list_secrets(caller(request), scope=request.query_params.get("scope"))
        return json_response({"secrets": secrets} if secrets else {})

    async def get(self, request: Request) -> Response:
        """``GET get?scope=&key=`` -> ``{key, value (base64)}``, for notebook callers only."""
        query = request.query_params
        answer = self.state.get_secret(caller(request), scope=query.get("scope"), key=query.get("key"))
        return json_response(answer)

    async def put_acl(self, request: Request) -> Response:
        """``POST acls/put {scope, principal, permission}`` -> ``{}``."""
        body = await read_json(request)
        self.state.put_acl(
            caller(request),
            scope=body.get("scope"),
            principal=body.get("principal"),
            permission=body.get("permission"),
        )
        return json_response({})

    async def get_acl(self, request: Request) -> Response:
        """``GET acls/get?scope=&principal=`` -> ``{principal, permission}``."""
        query = request.query_params
        acl = self.state.get_acl(caller(request), scope=query.get("scope"), principal=query.get("principal"))
        return json_response(acl)

    async def list_acls(self, request: Request) -> Response:
        """``GET acls/list?scope=`` -> ``{items?: [{principal, permission}]}``."""
        items = self.state.list_acls(caller(request), scope=request.query_params.get("scope"))
        return json_response({"items": items} if items else {})

    async def delete_acl(self, request: Request) -> Response:
        """``POST acls/delete {scope, principal}`` -> ``{}``."""
        body = await read_json(request)
        self.state.delete_acl(caller(request), scope=body.get("scope"), principal=body.get("principal"))
        return json_response({})
