"""Personal access tokens: ``/api/2.0/token/{create,list,delete}`` for the calling principal."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.errors import ApiError
from brickbook.emulator.state.identity import Identity
from brickbook.emulator.wire import caller, json_response, read_json

__all__ = ["TokensArea"]


class TokensArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        self.identity: Identity = context.identity

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/api/2.0/token/create", self.create, methods=["POST"]),
            Route("/api/2.0/token/list", self.list, methods=["GET"]),
            Route("/api/2.0/token/delete", self.delete, methods=["POST"]),
        ]

    async def create(self, request: Request) -> Response:
        """``POST /api/2.0/token/create {lifetime_seconds?, comment?}`` -> the value, shown once."""
        body = await read_json(request)
        lifetime, comment = body.get("lifetime_seconds"), body.get("comment")
        if not isinstance(lifetime, int | None) or not isinstance(comment, str | None):
            raise ApiError(
                "INVALID_PARAMETER_VALUE", "lifetime_seconds must be an integer, comment a string."
            )
        value, info = self.identity.create_pat(caller(request), lifetime_seconds=lifetime, comment=comment)
        return json_response({"token_value": value, "token_info": info})

    async def list(self, request: Request) -> Response:
        """``GET /api/2.0/token/list``; the key is left out when there are no tokens, as the service does."""
        infos = self.identity.list_pats(caller(request))
        return json_response({"token_infos": infos} if infos else {})

    async def delete(self, request: Request) -> Response:
        """``POST /api/2.0/token/delete {token_id}``."""
        token_id = (await read_json(request)).get("token_id")
        if not isinstance(token_id, str) or not token_id:
            raise ApiError("INVALID_PARAMETER_VALUE", "token_id is required.")
        self.identity.delete_pat(caller(request), token_id)
        return json_response({})
