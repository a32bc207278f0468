"""Unity Catalog under ``/api/2.1/unity-catalog/``: catalogs, schemas, tables, volumes and permissions.

Lists answer everything the caller may see in one page (no ``next_page_token``); ``max_results``
must be 0 (the SDK's default) or from 1 to 10,000. Errors carry the real codes
(CATALOG_DOES_NOT_EXIST, SCHEMA_ALREADY_EXISTS, TABLE_DOES_NOT_EXIST, ...). The securable type in
the permissions paths matches case-insensitively (the SDK sends ``TABLE``, the docs show ``table``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.sql.privileges import SECURABLE_TYPES
from brickbook.emulator.wire import caller, json_response, read_json

__all__ = ["UnityArea"]

BASE = "/api/2.1/unity-catalog"
MAX_RESULTS = 10_000
MIN_GRANTS_PAGE = 150


def _listed(key: str, items: list[dict[str, Any]]) -> Response:
    return json_response({key: items} if items else {})


def _check_max_results(request: Request) -> None:
    raw = request.query_params.get("max_results")
    if raw is None:
        return
    if not raw.lstrip("-").isdigit() or not 0 <= int(raw) <= MAX_RESULTS:
        raise invalid(f"max_results must be from 0 to {MAX_RESULTS}.")


def _check_grants_page(request: Request) -> None:
    """Permissions lists: ``max_results`` unset (everything), 0 (the server's page) or at least 150."""
    raw = request.query_params.get("max_results")
    if raw is None:
        return
    if not raw.isdigit() or 1 <= int(raw) <= MIN_GRANTS_PAGE - 1:
        raise invalid(f"max_results must be 0 or at least {MIN_GRANTS_PAGE}, not {raw[:20]!r}.")


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() == "true"


def _securable(request: Request) -> tuple[str, str]:
    kind = request.path_params["securable_type"].upper()
    if kind not in SECURABLE_TYPES:
        raise invalid(
            f"Securable type {kind[:40]} is not supported by the brickbook emulator"
            f" ({', '.join(t.lower() for t in SECURABLE_TYPES)}).",
        )
    return kind, request.path_params["full_name"].lower()


class UnityArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        self.service = context.services.sql
        self.uc = self.service.catalogs

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route(BASE + "/catalogs", self.list_catalogs, methods=["GET"]),
            Route(BASE + "/catalogs", self.create_catalog, methods=["POST"]),
            Route(BASE + "/catalogs/{name}", self.get_catalog, methods=["GET"]),
            Route(BASE + "/catalogs/{name}", self.delete_catalog, methods=["DELETE"]),
            Route(BASE + "/catalogs/{name}", self.update_catalog, methods=["PATCH"]),
            Route(BASE + "/schemas", self.list_schemas, methods=["GET"]),
            Route(BASE + "/schemas", self.create_schema, methods=["POST"]),
            Route(BASE + "/schemas/{full_name}", self.get_schema, methods=["GET"]),
            Route(BASE + "/schemas/{full_name}", self.delete_schema, methods=["DELETE"]),
            Route(BASE + "/schemas/{full_name}", self.update_schema, methods=["PATCH"]),
            Route(BASE + "/tables", self.list_tables, methods=["GET"]),
            Route(BASE + "/tables/{full_name}", self.get_table, methods=["GET"]),
            Route(BASE + "/tables/{full_name}", self.delete_table, methods=["DELETE"]),
            Route(BASE + "/volumes", self.list_volumes, methods=["GET"]),
            Route(BASE + "/volumes", self.create_volume, methods=["POST"]),
            Route(BASE + "/volumes/{name}", self.get_volume, methods=["GET"]),
            Route(BASE + "/volumes/{name}", self.delete_volume, methods=["DELETE"]),
            Route(BASE + "/volumes/{name}", self.update_volume, methods=["PATCH"]),
            Route(BASE + "/permissions/{securable_type}/{full_name}", self.get_permissions, methods=["GET"]),
            Route(
                BASE + "/permissions/{securable_type}/{full_name}", self.update_permissions, methods=["PATCH"]
            ),
            Route(
                BASE + "/effective-permissions/{securable_type}/{full_name}",
                self.get_effective,
                methods=["GET"],
            ),
        ]

    async def list_catalogs(self, request: Request) -> Response:
        """``GET catalogs`` -> ``{catalogs?}``: those the caller owns or holds a privilege on."""
        _check_max_results(request)
        return _listed("catalogs", self.uc.catalogs(caller(request)))

    async def create_catalog(self, request: Request) -> Response:
        """``POST catalogs {name, comment?}`` -> ``CatalogInfo`` (metastore admins only)."""
        body = await read_json(request)
        return json_response(
            self.uc.create_catalog(caller(request), body.get("name"), comment=body.get("comment"))
        )

    async def get_catalog(self, request: Request) -> Response:
        """``GET catalogs/{name}`` -> ``CatalogInfo``; a non-admin needs a privilege on it."""
        return json_response(self.uc.visible(caller(request), "CATALOG", request.path_params["name"]))

    async def delete_catalog(self, request: Request) -> Response:
        """``DELETE catalogs/{name}?force=`` -> ``{}``; CATALOG_NOT_EMPTY without force."""
        self.uc.delete_catalog(caller(request), request.path_params["name"], force=_flag(request, "force"))
        return json_response({})

    async def update_catalog(self, request: Request) -> Response:
        """``PATCH catalogs/{name} {comment?, owner?}`` -> ``CatalogInfo``."""
        body, name = await read_json(request), request.path_params["name"]
        return json_response(self.uc.update(caller(request), "CATALOG", name, body))

    async def list_schemas(self, request: Request) -> Response:
        """``GET schemas?catalog_name=`` -> ``{schemas?}``."""
        _check_max_results(request)
        return _listed("schemas", self.uc.schemas(caller(request), request.query_params.get("catalog_name")))

    async def create_schema(self, request: Request) -> Response:
        """``POST schemas {name, catalog_name, comment?}`` -> ``SchemaInfo``."""
        body = await read_json(request)
        created = self.uc.create_schema(
            caller(request), body.get("catalog_name"), body.get("name"), comment=body.get("comment")
        )
        return json_response(created)

    async def get_schema(self, request: Request) -> Response:
        """``GET schemas/{full_name}`` -> ``SchemaInfo``; a non-admin needs USE_CATALOG and a privilege."""
        return json_response(self.uc.visible(caller(request), "SCHEMA", request.path_params["full_name"]))

    async def delete_schema(self, request: Request) -> Response:
        """``DELETE schemas/{full_name}?force=`` -> ``{}``; SCHEMA_NOT_EMPTY without force."""
        self.uc.delete_schema(
            caller(request), request.path_params["full_name"], force=_flag(request, "force")
        )
        return json_response({})

    async def update_schema(self, request: Request) -> Response:
        """``PATCH schemas/{full_name} {comment?, owner?}`` -> ``SchemaInfo``."""
        body, name = await read_json(request), request.path_params["full_name"]
        return json_response(self.uc.update(caller(request), "SCHEMA", name, body))

    async def list_tables(self, request: Request) -> Response:
        """``GET tables?catalog_name=&schema_name=&omit_columns=`` -> ``{tables?}``."""
        _check_max_results(request)
        query = request.query_params
        tables = self.uc.tables(
            caller(request),
            query.get("catalog_name"),
            query.get("schema_name"),
            columns=not _flag(request, "omit_columns"),
        )
        return _listed("tables", tables)

    async def get_table(self, request: Request) -> Response:
        """``GET tables/{full_name}`` -> ``TableInfo``; a non-admin needs the USE privileges and one more."""
        return json_response(self.uc.visible(caller(request), "TABLE", request.path_params["full_name"]))

    async def delete_table(self, request: Request) -> Response:
        self.uc.delete_table(caller(request), request.path_params["full_name"])
        return json_response({})

    async def list_volumes(self, request: Request) -> Response:
        """``GET volumes?catalog_name=&schema_name=`` -> ``{volumes?}``."""
        _check_max_results(request)
        query = request.query_params
        return _listed(
            "volumes", self.uc.volumes(caller(request), query.get("catalog_name"), query.get("schema_name"))
        )

    async def create_volume(self, request: Request) -> Response:
        """``POST volumes {catalog_name, schema_name, name, volume_type: MANAGED}`` -> ``VolumeInfo``."""
        return json_response(self.uc.create_volume(caller(request), await read_json(request)))

    async def get_volume(self, request: Request) -> Response:
        """``GET volumes/{name}`` -> ``VolumeInfo``; a non-admin needs the USE privileges and one more."""
        return json_response(self.uc.visible(caller(request), "VOLUME", request.path_params["name"]))

    async def delete_volume(self, request: Request) -> Response:
        self.uc.delete_volume(caller(request), request.path_params["name"])
        return json_response({})

    async def update_volume(self, request: Request) -> Response:
        """``PATCH volumes/{name} {comment?, owner?}`` -> ``VolumeInfo``."""
        body, name = await read_json(request), request.path_params["name"]
        return json_response(self.uc.update(caller(request), "VOLUME", name, body))

    async def get_permissions(self, request: Request) -> Response:
        """``GET permissions/{type}/{name}?principal=`` -> ``{privilege_assignments?}`` (direct grants)."""
        kind, name = _securable(request)
        _check_grants_page(request)
        self.uc.exists(kind, name)
        assignments = self.uc.privileges.assignments(kind, name, request.query_params.get("principal"))
        return _listed("privilege_assignments", assignments)

    async def update_permissions(self, request: Request) -> Response:
        """``PATCH permissions/{type}/{name} {changes}`` -> ``{privilege_assignments?}`` (owner or MANAGE)."""
        kind, name = _securable(request)
        body, principal = await read_json(request), caller(request)
        self.uc.exists(kind, name)
        privileges = self.uc.privileges
        if not (privileges.owns(principal, kind, name) or privileges.holds(principal, kind, name, "MANAGE")):
            raise ApiError("PERMISSION_DENIED", f"User does not have MANAGE on {kind.capitalize()} '{name}'.")
        privileges.update(kind, name, body.get("changes"))
        if body.get("omit_permissions_in_response") is True:
            return json_response({})
        return _listed("privilege_assignments", privileges.assignments(kind, name, None))

    async def get_effective(self, request: Request) -> Response:
        """``GET effective-permissions/{type}/{name}?principal=`` -> grants with where each comes from."""
        kind, name = _securable(request)
        _check_grants_page(request)
        self.uc.exists(kind, name)
        assignments = self.uc.privileges.effective(kind, name, request.query_params.get("principal"))
        return _listed("privilege_assignments", assignments)
