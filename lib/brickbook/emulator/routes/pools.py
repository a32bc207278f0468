"""Instance Pools API: ``/api/2.0/instance-pools/{create,get,list,edit,delete}`` (state/pools.py)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.state.pools import PoolsState
from brickbook.emulator.wire import caller, json_response, read_json

__all__ = ["PoolsArea"]

BASE = "/api/2.0/instance-pools"


class PoolsArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        self.pools = PoolsState(context.store, context.clock)

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route(BASE + "/create", self.create, methods=["POST"]),
            Route(BASE + "/edit", self.edit, methods=["POST"]),
            Route(BASE + "/delete", self.delete, methods=["POST"]),
            Route(BASE + "/get", self.get, methods=["GET"]),
            Route(BASE + "/list", self.list, methods=["GET"]),
        ]

    async def create(self, request: Request) -> Response:
        """``POST create {instance_pool_name, node_type_id, ...}`` -> ``{instance_pool_id}``."""
        pool_id = self.pools.create(caller(request), await read_json(request))
        return json_response({"instance_pool_id": pool_id})

    async def edit(self, request: Request) -> Response:
        self.pools.edit(caller(request), await read_json(request))
        return json_response({})

    async def delete(self, request: Request) -> Response:
        self.pools.delete(caller(request), (await read_json(request)).get("instance_pool_id"))
        return json_response({})

    async def get(self, request: Request) -> Response:
        return json_response(self.pools.get(request.query_params.get("instance_pool_id")))

    async def list(self, request: Request) -> Response:
        """``GET list``: ``{instance_pools: [...]}``, or ``{}`` when there are none."""
        found = self.pools.list()
        return json_response({"instance_pools": found} if found else {})
