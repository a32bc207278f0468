"""Clusters API, served under ``/api/2.0/clusters/*`` (docs, old tools) and ``/api/2.1/clusters/*`` (SDK)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.errors import ApiError
from brickbook.emulator.state.clusters_catalog import NODE_TYPES, SPARK_VERSIONS, ZONES
from brickbook.emulator.state.paging import decode_offset, page_of, page_size
from brickbook.emulator.wire import caller, json_response, read_json

__all__ = ["ClustersArea"]

VERSIONS = ("2.0", "2.1")
MAX_PAGE_SIZE = 100

Handler = Callable[[Request], Awaitable[Response]]


def _cluster_id(data: dict[str, Any]) -> str:
    value = data.get("cluster_id")
    if not isinstance(value, str) or not value:
        raise ApiError("INVALID_PARAMETER_VALUE", "Missing required field: cluster_id")
    return value


class ClustersArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        self.clusters = context.services.clusters

    def routes(self) -> Sequence[BaseRoute]:
        table: list[tuple[str, Handler, str]] = [
            ("create", self.create, "POST"),
            ("edit", self.edit, "POST"),
            ("start", self.start, "POST"),
            ("restart", self.restart, "POST"),
            ("resize", self.resize, "POST"),
            ("delete", self.delete, "POST"),
            ("permanent-delete", self.permanent_delete, "POST"),
            ("pin", self.pin, "POST"),
            ("unpin", self.unpin, "POST"),
            ("get", self.get, "GET"),
            ("list", self.list, "GET"),
            ("events", self.events, "POST"),
            ("list-node-types", self.list_node_types, "GET"),
            ("spark-versions", self.spark_versions, "GET"),
            ("list-zones", self.list_zones, "GET"),
        ]
        return [
            Route(f"/api/{version}/clusters/{name}", handler, methods=[method])
            for version in VERSIONS
            for name, handler, method in table
        ]

    async def create(self, request: Request) -> Response:
        """``POST create {spark_version, node_type_id, num_workers|autoscale, ...}`` -> ``{cluster_id}``."""
        body = await read_json(request)
        self.clusters.check_use(caller(request), body)
        return json_response({"cluster_id": self.clusters.create(body, caller(request).user_name)})

    async def edit(self, request: Request) -> Response:
        """``POST edit {cluster_id, spark_version, ...the full spec}``."""
        body = await read_json(request)
        _cluster_id(body)
        self.clusters.edit(caller(request), body)
        return json_response({})

    async def start(self, request: Request) -> Response:
        self.clusters.start(caller(request), _cluster_id(await read_json(request)))
        return json_response({})

    async def restart(self, request: Request) -> Response:
        self.clusters.restart(caller(request), _cluster_id(await read_json(request)))
        return json_response({})

    async def resize(self, request: Request) -> Response:
        body = await read_json(request)
        self.clusters.resize(
            caller(request),
            _cluster_id(body),
            num_workers=body.get("num_workers"),
            autoscale=body.get("autoscale"),
        )
        return json_response({})

    async def delete(self, request: Request) -> Response:
        """``POST delete {cluster_id}`` terminates (the config is kept); already terminating is a no-op."""
        cluster_id = _cluster_id(await read_json(request))
        self.clusters.terminate(cluster_id, "USER_REQUEST", by=caller(request))
        return json_response({})

    async def permanent_delete(self, request: Request) -> Response:
        self.clusters.permanent_delete(caller(request), _cluster_id(await read_json(request)))
        return json_response({})

    async def pin(self, request: Request) -> Response:
        self.clusters.set_pinned(caller(request), _cluster_id(await read_json(request)), True)
        return json_response({})

    async def unpin(self, request: Request) -> Response:
        self.clusters.set_pinned(caller(request), _cluster_id(await read_json(request)), False)
        return json_response({})

    async def get(self, request: Request) -> Response:
        """``GET get?cluster_id=`` (a JSON body is read too, as old servers did, when the query has none)."""
        params: dict[str, Any] = dict(request.query_params)
        if "cluster_id" not in params:
            params = await read_json(request)
        return json_response(self.clusters.get(_cluster_id(params)))

    async def list(self, request: Request) -> Response:
        """``GET list``: all at once (the 2.0 form) unless ``page_size``/``page_token`` ask for pages."""
        query = request.query_params
        pinned = query.get("filter_by.is_pinned")
        found = self.clusters.list(
            states=set(query.getlist("filter_by.cluster_states")) or None,
            sources=set(query.getlist("filter_by.cluster_sources")) or None,
            pinned=None if pinned is None else pinned.lower() == "true",
            policy_id=query.get("filter_by.policy_id"),
        )
        if "page_size" not in query and "page_token" not in query:
            return json_response({"clusters": found} if found else {})
        size = page_size(query.get("page_size"), MAX_PAGE_SIZE)
        start = decode_offset(query["page_token"]) if query.get("page_token") else 0
        page = page_of(found, start, size)
        answer: dict[str, Any] = {"clusters": page.items} if page.items else {}
        if page.next_token is not None:
            answer["next_page_token"] = page.next_token
        if page.prev_token is not None:
            answer["prev_page_token"] = page.prev_token
        return json_response(answer)

    async def events(self, request: Request) -> Response:
        """``POST events {cluster_id, event_types?, start_time?, end_time?, order?, offset?, limit?}``."""
        body = await read_json(request)
        _cluster_id(body)
        return json_response(self.clusters.events(body))

    async def list_node_types(self, request: Request) -> Response:
        return json_response({"node_types": list(NODE_TYPES.values())})

    async def spark_versions(self, request: Request) -> Response:
        return json_response({"versions": SPARK_VERSIONS})

    async def list_zones(self, request: Request) -> Response:
        """``GET list-zones`` -> ``{zones, default_zone}`` (the legacy CLI's ``clusters list-zones``)."""
        return json_response(ZONES)
