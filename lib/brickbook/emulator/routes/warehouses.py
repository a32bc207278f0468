"""SQL Warehouses API: ``/api/2.0/sql/warehouses`` (list, create), ``.../{id}`` (get, delete),
``.../{id}/{edit,start,stop}``, and the warehouse's object permissions under
``/api/2.0/permissions/warehouses/{id}`` (get, set with PUT, update with PATCH, permissionLevels).

``list`` pages with ``page_size``/``page_token`` when asked (100 at most per page) and leaves the
``warehouses`` key out when there are none; the rules are state/warehouses.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.errors import invalid
from brickbook.emulator.state.access import SQL_WAREHOUSE
from brickbook.emulator.state.paging import decode_offset, page_of, page_size
from brickbook.emulator.state.warehouses import WarehousesState
from brickbook.emulator.wire import caller, json_response, read_json

__all__ = ["WarehousesArea"]

BASE = "/api/2.0/sql/warehouses"
PERMISSIONS = "/api/2.0/permissions/warehouses"
MAX_PAGE_SIZE = 100
_PRINCIPAL_KEYS = ("user_name", "group_name", "service_principal_name")


def _host(request: Request) -> str:
    return request.url.hostname or "localhost"


def _acl_entries(body: dict[str, Any]) -> list[tuple[str, str]]:
    """``access_control_list[{user_name|group_name|service_principal_name, permission_level}]``."""
    entries = body.get("access_control_list", [])
    if not isinstance(entries, list):
        raise invalid("access_control_list must be a list.")
    parsed = []
    for entry in entries:
        names = [entry.get(k) for k in _PRINCIPAL_KEYS] if isinstance(entry, dict) else []
        given = [n for n in names if n]
        if len(given) != 1 or not isinstance(given[0], str):
            raise invalid("Each access control entry names exactly one principal.")
        level = entry.get("permission_level")
        if not isinstance(level, str):
            raise invalid("Each access control entry needs a permission_level.")
        parsed.append((given[0], level))
    return parsed


class WarehousesArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        self.state: WarehousesState = context.services.warehouses

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route(BASE, self.list, methods=["GET"]),
            Route(BASE, self.create, methods=["POST"]),
            Route(BASE + "/{id}", self.get, methods=["GET"]),
            Route(BASE + "/{id}", self.delete, methods=["DELETE"]),
            Route(BASE + "/{id}/edit", self.edit, methods=["POST"]),
            Route(BASE + "/{id}/start", self.start, methods=["POST"]),
            Route(BASE + "/{id}/stop", self.stop, methods=["POST"]),
            Route(PERMISSIONS + "/{id}/permissionLevels", self.permission_levels, methods=["GET"]),
            Route(PERMISSIONS + "/{id}", self.get_permissions, methods=["GET"]),
            Route(PERMISSIONS + "/{id}", self.set_permissions, methods=["PUT"]),
            Route(PERMISSIONS + "/{id}", self.update_permissions, methods=["PATCH"]),
        ]

    async def list(self, request: Request) -> Response:
        """``GET ?page_size&page_token`` -> ``{warehouses?, next_page_token?}``."""
        query = request.query_params
        found = self.state.list(caller(request), host=_host(request))
        size = page_size(query.get("page_size"), MAX_PAGE_SIZE)
        page = page_of(found, decode_offset(query["page_token"]) if query.get("page_token") else 0, size)
        answer: dict[str, Any] = {"warehouses": page.items} if page.items else {}
        if page.next_token is not None:
            answer["next_page_token"] = page.next_token
        return json_response(answer)

    async def create(self, request: Request) -> Response:
        """``POST {name, cluster_size, ...}`` -> ``{id}``."""
        return json_response({"id": self.state.create(caller(request), await read_json(request))})

    async def get(self, request: Request) -> Response:
        return json_response(self.state.get(caller(request), request.path_params["id"], host=_host(request)))

    async def delete(self, request: Request) -> Response:
        self.state.delete(caller(request), request.path_params["id"])
        return json_response({})

    async def edit(self, request: Request) -> Response:
        self.state.edit(caller(request), request.path_params["id"], await read_json(request))
        return json_response({})

    async def start(self, request: Request) -> Response:
        self.state.start(caller(request), request.path_params["id"])
        return json_response({})

    async def stop(self, request: Request) -> Response:
        self.state.stop(caller(request), request.path_params["id"])
        return json_response({})

    async def permission_levels(self, request: Request) -> Response:
        self.state.authorized(caller(request), request.path_params["id"], "CAN_VIEW")
        levels = [{"permission_level": level, "description": ""} for level in SQL_WAREHOUSE.levels]
        return json_response({"permission_levels": levels})

    async def get_permissions(self, request: Request) -> Response:
        return json_response(self.state.permissions(caller(request), request.path_params["id"]))

    async def set_permissions(self, request: Request) -> Response:
        entries = _acl_entries(await read_json(request))
        acl = self.state.update_permissions(caller(request), request.path_params["id"], entries, replace=True)
        return json_response(acl)

    async def update_permissions(self, request: Request) -> Response:
        entries = _acl_entries(await read_json(request))
        acl = self.state.update_permissions(
            caller(request), request.path_params["id"], entries, replace=False
        )
        return json_response(acl)
