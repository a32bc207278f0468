"""``create_app(settings)``: the emulator as one Starlette app with one route table.

Requests pass, outermost first: request id + journal -> latency and faults -> rate limits -> the
front door (auth) -> the routes. The route table is the control API, then every area in ``AREAS``,
then two catch-alls: any other ``/api/...`` path is 501 NOT_IMPLEMENTED (never a silent 200), and
anything else is 404 ENDPOINT_NOT_FOUND. Both come after auth, as on the real service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaContext, AreaFactory
from brickbook.emulator.errors import ApiError
from brickbook.emulator.faults import FaultBook, FaultMiddleware, RateLimiter, RateLimitMiddleware
from brickbook.emulator.frontdoor import AuthMiddleware
from brickbook.emulator.journal import RequestContextMiddleware, RequestJournal
from brickbook.emulator.routes.auth import AuthArea
from brickbook.emulator.routes.clusters import ClustersArea
from brickbook.emulator.routes.control import ControlPlane, ControlRoutes
from brickbook.emulator.routes.dbfs import DbfsArea
from brickbook.emulator.routes.files import FilesArea
from brickbook.emulator.routes.jobs import JobsArea
from brickbook.emulator.routes.jobs20 import Jobs20Area
from brickbook.emulator.routes.libraries import LibrariesArea
from brickbook.emulator.routes.mlflow import MlflowArea
from brickbook.emulator.routes.policies import PoliciesArea
from brickbook.emulator.routes.pools import PoolsArea
from brickbook.emulator.routes.repos import ReposArea
from brickbook.emulator.routes.scim import ScimArea
from brickbook.emulator.routes.secrets import SecretsArea
from brickbook.emulator.routes.statements import StatementsArea
from brickbook.emulator.routes.tokens import TokensArea
from brickbook.emulator.routes.unity import UnityArea
from brickbook.emulator.routes.warehouses import WarehousesArea
from brickbook.emulator.routes.workspace import WorkspaceArea
from brickbook.emulator.services import build_services
from brickbook.emulator.settings import EmulatorSettings
from brickbook.emulator.state.identity import Identity
from brickbook.emulator.state.store import Store
from brickbook.emulator.wire import error_response, request_id

__all__ = ["AREAS", "create_app"]

# The API areas, in route-table order. A new area adds its class here (see area.py).
AREAS: tuple[AreaFactory, ...] = (
    AuthArea,
    TokensArea,
    DbfsArea,
    FilesArea,
    WorkspaceArea,
    ReposArea,
    ClustersArea,
    PoolsArea,
    PoliciesArea,
    LibrariesArea,  # cluster libraries, installed into each cluster's environment (runtime/envs.py)
    SecretsArea,
    JobsArea,
    Jobs20Area,  # the Jobs API 2.0 single-task form over the same jobs and runs
    WarehousesArea,
    StatementsArea,  # SQL statements and query history on the shared engine (sql/)
    UnityArea,
    MlflowArea,
    ScimArea,  # SCIM users, groups, service principals; group membership for every access check
)

_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


async def _not_implemented(request: Request) -> Response:
    raise ApiError(
        "NOT_IMPLEMENTED", f"brickbook emulator does not implement {request.method} {request.url.path}"
    )


async def _endpoint_not_found(request: Request) -> Response:
    raise ApiError("ENDPOINT_NOT_FOUND", f"No API found for '{request.method} {request.url.path}'")


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)  # Starlette's handler signature is not generic
    return error_response(exc, request_id(request))


async def _http_error(request: Request, exc: Exception) -> Response:
    # Only reachable for routing failures the catch-alls cannot see (e.g. a 405 inside a Mount).
    assert isinstance(exc, HTTPException)
    error = ApiError("ENDPOINT_NOT_FOUND", f"No API found for '{request.method} {request.url.path}'")
    return error_response(error, request_id(request))


def create_app(settings: EmulatorSettings, *, areas: Sequence[AreaFactory] = AREAS) -> Starlette:
    """Build the emulator's state and its one route table."""
    store = Store(settings.data_dir)
    identity = Identity(settings, store, settings.clock)
    services = build_services(settings, store, identity, settings.clock)
    context = AreaContext(
        settings=settings, store=store, identity=identity, clock=settings.clock, services=services
    )
    built = [factory(context) for factory in areas]
    plane = ControlPlane(
        store=store,
        identity=identity,
        faults=FaultBook(settings.faults),
        rate_limits=RateLimiter(settings.clock, settings.rate_limits),
        journal=RequestJournal(),
        services=services,
        areas=tuple(built),
    )
    routes: list[BaseRoute] = [*ControlRoutes(plane).routes()]
    for area in built:
        routes.extend(area.routes())
    routes += [
        Route("/api/{rest:path}", _not_implemented, methods=_ALL_METHODS),
        Route("/{rest:path}", _endpoint_not_found, methods=_ALL_METHODS),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        # Background work (the jobs scheduler and its child processes) stops before the store closes.
        for area in built:
            area.shutdown()
        services.shutdown()
        store.close()

    return Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestContextMiddleware, journal=plane.journal),
            Middleware(FaultMiddleware, faults=plane.faults, latency_ms=settings.latency_ms),
            Middleware(RateLimitMiddleware, limiter=plane.rate_limits),
            Middleware(AuthMiddleware, identity=identity),
        ],
        exception_handlers={ApiError: _api_error, HTTPException: _http_error},
        lifespan=lifespan,
    )
