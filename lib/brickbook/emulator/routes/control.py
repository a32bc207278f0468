"""The control API under ``/_emulator/``: faults, rate limits, reset, the request journal, OAuth revoke.

Admin token only; any other principal gets 403 PERMISSION_DENIED. Never faulted, rate limited or
journalled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import Area
from brickbook.emulator.errors import ApiError
from brickbook.emulator.faults import FaultBook, RateLimiter
from brickbook.emulator.journal import RequestJournal
from brickbook.emulator.services import Services
from brickbook.emulator.settings import FaultRule, rate_limits_from_json
from brickbook.emulator.state.identity import CREDENTIAL_KINDS, Identity
from brickbook.emulator.state.store import Store
from brickbook.emulator.wire import json_response, read_json, require_admin

__all__ = ["ControlPlane", "ControlRoutes"]


@dataclass(frozen=True)
class ControlPlane:
    """Everything the control API steers."""

    store: Store
    identity: Identity
    faults: FaultBook
    rate_limits: RateLimiter
    journal: RequestJournal
    services: Services
    areas: tuple[Area, ...]

    def reset(self) -> None:
        """Forget all API state, faults, rate limits and the journal; issued OAuth tokens stay valid.

        The store is cleared first, then every shared service and every area resets what it keeps
        outside the store (child processes, files, handles), so none has to notice a reset by itself.
        """
        self.store.clear(keep=CREDENTIAL_KINDS)
        self.services.reset()
        for area in self.areas:
            area.reset()
        self.faults.clear()
        self.rate_limits.clear()
        self.journal.clear()


T = TypeVar("T")


async def _parse_rule(request: Request, parse: Callable[[dict[str, Any]], T]) -> T:
    try:
        return parse(await read_json(request))
    except ValueError as exc:
        raise ApiError("INVALID_PARAMETER_VALUE", str(exc)) from exc


class ControlRoutes:
    def __init__(self, plane: ControlPlane) -> None:
        self.plane = plane

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route("/_emulator/faults", self.add_fault, methods=["POST"]),
            Route("/_emulator/faults", self.list_faults, methods=["GET"]),
            Route("/_emulator/faults", self.clear_faults, methods=["DELETE"]),
            Route("/_emulator/faults/{fault_id}", self.delete_fault, methods=["DELETE"]),
            Route("/_emulator/rate-limits", self.add_rate_limit, methods=["POST"]),
            Route("/_emulator/rate-limits", self.list_rate_limits, methods=["GET"]),
            Route("/_emulator/rate-limits", self.clear_rate_limits, methods=["DELETE"]),
            Route("/_emulator/reset", self.reset, methods=["POST"]),
            Route("/_emulator/requests", self.list_requests, methods=["GET"]),
            Route("/_emulator/requests", self.clear_requests, methods=["DELETE"]),
            Route("/_emulator/oauth/revoke", self.revoke_oauth, methods=["POST"]),
        ]

    async def add_fault(self, request: Request) -> Response:
        require_admin(request)
        rule = await _parse_rule(request, FaultRule.from_json)
        return json_response({"id": self.plane.faults.add(rule)})

    async def list_faults(self, request: Request) -> Response:
        require_admin(request)
        return json_response({"faults": self.plane.faults.describe()})

    async def clear_faults(self, request: Request) -> Response:
        require_admin(request)
        self.plane.faults.clear()
        return json_response({})

    async def delete_fault(self, request: Request) -> Response:
        require_admin(request)
        fault_id = request.path_params["fault_id"]
        if not self.plane.faults.remove(fault_id):
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"No active fault with id {fault_id}.")
        return json_response({})

    async def add_rate_limit(self, request: Request) -> Response:
        require_admin(request)
        rules = await _parse_rule(request, rate_limits_from_json)
        ids = [self.plane.rate_limits.add(rule) for rule in rules]
        # One rule answers its id; a preset, the ids of all its rules.
        return json_response({"id": ids[0]} if len(ids) == 1 else {"ids": ids})

    async def list_rate_limits(self, request: Request) -> Response:
        require_admin(request)
        return json_response({"rate_limits": self.plane.rate_limits.describe()})

    async def clear_rate_limits(self, request: Request) -> Response:
        require_admin(request)
        self.plane.rate_limits.clear()
        return json_response({})

    async def reset(self, request: Request) -> Response:
        require_admin(request)
        self.plane.reset()
        return json_response({})

    async def list_requests(self, request: Request) -> Response:
        require_admin(request)
        return json_response({"requests": self.plane.journal.entries()})

    async def clear_requests(self, request: Request) -> Response:
        require_admin(request)
        self.plane.journal.clear()
        return json_response({})

    async def revoke_oauth(self, request: Request) -> Response:
        require_admin(request)
        return json_response({"revoked": self.plane.identity.revoke_oauth_tokens()})
