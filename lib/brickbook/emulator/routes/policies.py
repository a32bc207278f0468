"""Cluster Policies API: ``/api/2.0/policies/clusters/{create,get,list,edit,delete}`` (state/policies.py)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.state.policies import PoliciesState
from brickbook.emulator.wire import caller, json_response, read_json

__all__ = ["PoliciesArea"]

BASE = "/api/2.0/policies/clusters"


class PoliciesArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        self.policies = PoliciesState(context.store, context.clock)

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route(BASE + "/create", self.create, methods=["POST"]),
            Route(BASE + "/edit", self.edit, methods=["POST"]),
            Route(BASE + "/delete", self.delete, methods=["POST"]),
            Route(BASE + "/get", self.get, methods=["GET"]),
            Route(BASE + "/list", self.list, methods=["GET"]),
        ]

    async def create(self, request: Request) -> Response:
        """``POST create {name, definition?, description?, max_clusters_per_user?}`` -> ``{policy_id}``."""
        return json_response({"policy_id": self.policies.create(caller(request), await read_json(request))})

    async def edit(self, request: Request) -> Response:
        self.policies.edit(caller(request), await read_json(request))
        return json_response({})

    async def delete(self, request: Request) -> Response:
        self.policies.delete(caller(request), (await read_json(request)).get("policy_id"))
        return json_response({})

    async def get(self, request: Request) -> Response:
        return json_response(self.policies.get(request.query_params.get("policy_id")))

    async def list(self, request: Request) -> Response:
        """``GET list?sort_column=&sort_order=``: ``{policies: [...]}``, or ``{}`` when there are none."""
        query = request.query_params
        found = self.policies.list(sort_column=query.get("sort_column"), sort_order=query.get("sort_order"))
        return json_response({"policies": found} if found else {})
