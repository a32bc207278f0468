"""Workspace identity: SCIM 2.0 under ``/api/2.0/preview/scim/v2/`` and the legacy Groups API.

SCIM: ``Users``, ``Groups`` and ``ServicePrincipals``: list (GET, with ``filter``, ``attributes``,
``excludedAttributes``, ``startIndex``, ``count``), create (POST), get, patch (PatchOp), delete.
Errors use SCIM's own shape, ``{"schemas": [...Error], "detail", "status"}`` with the status as a
string, which the SDK's error parser reads. ``Me`` stays with the auth area.

The legacy Groups API (``/api/2.0/groups/*``: create, delete, list, list-members, add-member,
remove-member, list-parents) names groups by display name and maps onto the same SCIM groups; its errors
are the usual ``error_code`` answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.state.scim import GROUPS, SERVICE_PRINCIPALS, USERS, Kind, ScimError, ScimState
from brickbook.emulator.wire import caller, json_response, read_json

__all__ = ["ScimArea"]

BASE = "/api/2.0/preview/scim/v2"
LEGACY = "/api/2.0/groups"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"

Handler = Callable[[Request], Awaitable[Response]]


def _scim_errors(handler: Handler) -> Handler:
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except ScimError as exc:
            body: dict[str, Any] = {
                "schemas": [ERROR_SCHEMA],
                "detail": exc.detail,
                "status": str(exc.status),
            }
            if exc.scim_type:
                body["scimType"] = exc.scim_type
            return json_response(body, status=exc.status)

    return wrapped


def _as_api_error(exc: ScimError) -> ApiError:
    code = {404: "RESOURCE_DOES_NOT_EXIST", 409: "RESOURCE_ALREADY_EXISTS", 403: "PERMISSION_DENIED"}
    return ApiError(code.get(exc.status, "INVALID_PARAMETER_VALUE"), exc.detail)


class ScimArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        self.state: ScimState = context.services.scim
        context.identity.use_groups(self.state.groups_of)

    def reset(self) -> None:
        self.state.forget()

    def routes(self) -> Sequence[BaseRoute]:
        routes: list[BaseRoute] = []
        for kind in (USERS, GROUPS, SERVICE_PRINCIPALS):
            routes += [
                Route(f"{BASE}/{kind.segment}", _scim_errors(self._list(kind)), methods=["GET"]),
                Route(f"{BASE}/{kind.segment}", _scim_errors(self._create(kind)), methods=["POST"]),
                Route(f"{BASE}/{kind.segment}/{{id}}", _scim_errors(self._get(kind)), methods=["GET"]),
                Route(f"{BASE}/{kind.segment}/{{id}}", _scim_errors(self._patch(kind)), methods=["PATCH"]),
                Route(f"{BASE}/{kind.segment}/{{id}}", _scim_errors(self._delete(kind)), methods=["DELETE"]),
            ]
        return [
            *routes,
            Route(LEGACY + "/create", self.legacy_create, methods=["POST"]),
            Route(LEGACY + "/delete", self.legacy_delete, methods=["POST"]),
            Route(LEGACY + "/list", self.legacy_list, methods=["GET"]),
            Route(LEGACY + "/list-members", self.legacy_list_members, methods=["GET"]),
            Route(LEGACY + "/list-parents", self.legacy_list_parents, methods=["GET"]),
            Route(LEGACY + "/add-member", self.legacy_add_member, methods=["POST"]),
            Route(LEGACY + "/remove-member", self.legacy_remove_member, methods=["POST"]),
        ]

    # -- SCIM -----------------------------------------------------------------------------------

    def _list(self, kind: Kind) -> Handler:
        async def handler(request: Request) -> Response:
            caller(request)
            return json_response(self.state.list_resources(kind, request.query_params))

        return handler

    def _create(self, kind: Kind) -> Handler:
        async def handler(request: Request) -> Response:
            body = await read_json(request)
            return json_response(self.state.create(caller(request), kind, body), status=201)

        return handler

    def _get(self, kind: Kind) -> Handler:
        async def handler(request: Request) -> Response:
            caller(request)
            return json_response(self.state.get(kind, request.path_params["id"]))

        return handler

    def _patch(self, kind: Kind) -> Handler:
        async def handler(request: Request) -> Response:
            body = await read_json(request)
            return json_response(self.state.patch(caller(request), kind, request.path_params["id"], body))

        return handler

    def _delete(self, kind: Kind) -> Handler:
        async def handler(request: Request) -> Response:
            self.state.delete(caller(request), kind, request.path_params["id"])
            return Response(status_code=204)

        return handler

    # -- legacy Groups API ----------------------------------------------------------------------

    def _group(self, name: object) -> dict[str, Any]:
        if not isinstance(name, str) or not name:
            raise invalid("group_name is required.")
        group = self.state.find(GROUPS, name)
        if group is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"Group {name[:256]} does not exist.")
        return group

    def _member(self, body: dict[str, Any]) -> str:
        for field, kind in (
            ("user_name", USERS),
            ("group_name", GROUPS),
            ("service_principal_name", SERVICE_PRINCIPALS),
        ):
            name = body.get(field)
            if isinstance(name, str) and name:
                found = self.state.find(kind, name)
                if found is None:
                    raise ApiError("RESOURCE_DOES_NOT_EXIST", f"{kind.noun} {name[:256]} does not exist.")
                return str(found["id"])
        raise invalid("One of user_name, group_name or service_principal_name is required.")

    def _patch_members(self, request: Request, group: dict[str, Any], op: str, member_id: str) -> None:
        path = "members" if op == "add" else f'members[value eq "{member_id}"]'
        operation = {"op": op, "path": path, "value": [{"value": member_id}]}
        try:
            self.state.patch(caller(request), GROUPS, group["id"], {"Operations": [operation]})
        except ScimError as exc:
            raise _as_api_error(exc) from exc

    async def legacy_create(self, request: Request) -> Response:
        """``POST create {group_name}`` -> ``{group_name}``."""
        body = await read_json(request)
        try:
            created = self.state.create(caller(request), GROUPS, {"displayName": body.get("group_name")})
        except ScimError as exc:
            raise _as_api_error(exc) from exc
        return json_response({"group_name": created["displayName"]})

    async def legacy_delete(self, request: Request) -> Response:
        """``POST delete {group_name}`` -> ``{}``."""
        body = await read_json(request)
        group = self._group(body.get("group_name"))
        try:
            self.state.delete(caller(request), GROUPS, group["id"])
        except ScimError as exc:
            raise _as_api_error(exc) from exc
        return json_response({})

    async def legacy_list(self, request: Request) -> Response:
        """``GET list`` -> ``{group_names}``."""
        caller(request)
        listed = self.state.list_resources(GROUPS, {})
        return json_response({"group_names": [g["displayName"] for g in listed.get("Resources", [])]})

    async def legacy_list_members(self, request: Request) -> Response:
        """``GET list-members?group_name=`` -> ``{members?: [{user_name} | {group_name} | ...]}``."""
        caller(request)
        group = self.state.get(GROUPS, self._group(request.query_params.get("group_name"))["id"])
        members = [self._legacy_name(m) for m in group.get("members", [])]
        return json_response({"members": members} if members else {})

    async def legacy_list_parents(self, request: Request) -> Response:
        """``GET list-parents?user_name= | group_name=`` -> ``{group_names?}`` (direct parents)."""
        caller(request)
        member_id = self._member(dict(request.query_params))
        names = [
            g["displayName"]
            for g in self.state.list_resources(GROUPS, {}).get("Resources", [])
            if any(m["value"] == member_id for m in g.get("members", []))
        ]
        return json_response({"group_names": names} if names else {})

    async def legacy_add_member(self, request: Request) -> Response:
        """``POST add-member {parent_name, user_name | group_name}`` -> ``{}``."""
        body = await read_json(request)
        group = self._group(body.get("parent_name"))
        self._patch_members(request, group, "add", self._member(body))
        return json_response({})

    async def legacy_remove_member(self, request: Request) -> Response:
        """``POST remove-member {parent_name, user_name | group_name}`` -> ``{}``."""
        body = await read_json(request)
        group = self._group(body.get("parent_name"))
        self._patch_members(request, group, "remove", self._member(body))
        return json_response({})

    def _legacy_name(self, member: dict[str, Any]) -> dict[str, str]:
        segment = str(member.get("$ref", "")).split("/")[0]
        if segment == GROUPS.segment:
            return {"group_name": str(member.get("display", ""))}
        record = self.state.get(
            SERVICE_PRINCIPALS if segment == SERVICE_PRINCIPALS.segment else USERS, member["value"]
        )
        if segment == SERVICE_PRINCIPALS.segment:
            return {"service_principal_name": str(record["applicationId"])}
        return {"user_name": str(record["userName"])}
