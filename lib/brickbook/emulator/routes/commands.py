"""Command Execution API 1.2: execution contexts and commands on a running cluster.

``POST /api/1.2/contexts/create {clusterId, language}`` -> ``{id}``;
``GET /api/1.2/contexts/status?clusterId&contextId`` -> ``{id, status}``;
``POST /api/1.2/contexts/destroy {clusterId, contextId}``;
``POST /api/1.2/commands/execute {clusterId, contextId, language, command}`` -> ``{id}``;
``GET /api/1.2/commands/status?clusterId&contextId&commandId`` -> ``{id, status, results?}``;
``POST /api/1.2/commands/cancel {clusterId, contextId, commandId}``. The rules are in
runtime/contexts.py; field names are camelCase, as the 1.2 API has them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.errors import invalid
from brickbook.emulator.runtime.contexts import ExecutionContexts
from brickbook.emulator.wire import base_url, caller, json_response, read_json

__all__ = ["CommandsArea"]

PREFIX = "/api/1.2"
MAX_ID_CHARS = 128
MAX_COMMAND_CHARS = 10 * 1024 * 1024


def _field(data: Mapping[str, Any], name: str, limit: int = MAX_ID_CHARS) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise invalid(f"Missing required field: {name}")
    if len(value) > limit:
        raise invalid(f"{name} is longer than {limit} characters")
    return value


class CommandsArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        clusters = context.services.clusters
        self.contexts = ExecutionContexts(
            clusters, context.identity, context.store, python_for=context.services.envs.python_for
        )
        clusters.listeners.append(self.contexts.on_cluster)

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route(f"{PREFIX}/contexts/create", self.create, methods=["POST"]),
            Route(f"{PREFIX}/contexts/status", self.status, methods=["GET"]),
            Route(f"{PREFIX}/contexts/destroy", self.destroy, methods=["POST"]),
            Route(f"{PREFIX}/commands/execute", self.execute, methods=["POST"]),
            Route(f"{PREFIX}/commands/status", self.command_status, methods=["GET"]),
            Route(f"{PREFIX}/commands/cancel", self.cancel, methods=["POST"]),
        ]

    def reset(self) -> None:
        self.contexts.reset()

    def shutdown(self) -> None:
        self.contexts.shutdown()

    async def create(self, request: Request) -> Response:
        body = await read_json(request)
        cluster, language = _field(body, "clusterId"), _field(body, "language")
        context_id = self.contexts.create(caller(request), cluster, language, base_url(request))
        return json_response({"id": context_id})

    async def status(self, request: Request) -> Response:
        query = request.query_params
        answer = self.contexts.status(caller(request), _field(query, "clusterId"), _field(query, "contextId"))
        return json_response(answer)

    async def destroy(self, request: Request) -> Response:
        body = await read_json(request)
        self.contexts.destroy(caller(request), _field(body, "clusterId"), _field(body, "contextId"))
        return json_response({})

    async def execute(self, request: Request) -> Response:
        body = await read_json(request)
        cluster, context = _field(body, "clusterId"), _field(body, "contextId")
        language, command = _field(body, "language"), _field(body, "command", MAX_COMMAND_CHARS)
        command_id = self.contexts.execute(caller(request), cluster, context, language, command)
        return json_response({"id": command_id})

    async def command_status(self, request: Request) -> Response:
        query = request.query_params
        ids = (_field(query, "clusterId"), _field(query, "contextId"), _field(query, "commandId"))
        return json_response(self.contexts.command_status(caller(request), *ids))

    async def cancel(self, request: Request) -> Response:
        body = await read_json(request)
        ids = (_field(body, "clusterId"), _field(body, "contextId"), _field(body, "commandId"))
        self.contexts.cancel(caller(request), *ids)
        return json_response({})
