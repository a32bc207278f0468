"""Libraries API 2.0: ``/api/2.0/libraries/{install,uninstall,cluster-status,all-cluster-statuses}``.

The rules are in state/libraries.py; the installing in runtime/envs.py (off the request thread).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.runtime.envs import ClusterEnvs
from brickbook.emulator.state.clusters import ClustersState
from brickbook.emulator.state.libraries import parse_libraries
from brickbook.emulator.wire import caller, json_response, read_json

__all__ = ["LibrariesArea"]

BASE = "/api/2.0/libraries"


def _cluster_id(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise invalid("Missing required field: cluster_id")
    return value


class LibrariesArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        self.clusters: ClustersState = context.services.clusters
        self.envs: ClusterEnvs = context.services.envs

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route(BASE + "/install", self.install, methods=["POST"]),
            Route(BASE + "/uninstall", self.uninstall, methods=["POST"]),
            Route(BASE + "/cluster-status", self.cluster_status, methods=["GET"]),
            Route(BASE + "/all-cluster-statuses", self.all_cluster_statuses, methods=["GET"]),
        ]

    async def install(self, request: Request) -> Response:
        """``POST install {cluster_id, libraries}`` -> ``{}``; installing goes on in the background."""
        body = await read_json(request)
        cluster_id, libraries = _cluster_id(body.get("cluster_id")), parse_libraries(body.get("libraries"))
        principal = caller(request)
        self.clusters.authorized(principal, cluster_id, "CAN_MANAGE")
        self.envs.libraries.add(cluster_id, libraries, principal.user_name)
        self.envs.kick(cluster_id)
        return json_response({})

    async def uninstall(self, request: Request) -> Response:
        """``POST uninstall {cluster_id, libraries}`` -> ``{}``: removed when the cluster restarts."""
        body = await read_json(request)
        cluster_id, libraries = _cluster_id(body.get("cluster_id")), parse_libraries(body.get("libraries"))
        self.clusters.authorized(caller(request), cluster_id, "CAN_MANAGE")
        self.envs.libraries.remove(cluster_id, libraries)
        return json_response({})

    def _statuses(self, cluster_id: str) -> dict[str, Any]:
        self.clusters.get(cluster_id)  # 400 for an unknown cluster; moves its life cycle on
        statuses = self.envs.libraries.statuses(cluster_id)
        return {"cluster_id": cluster_id, **({"library_statuses": statuses} if statuses else {})}

    async def cluster_status(self, request: Request) -> Response:
        """``GET cluster-status?cluster_id=`` -> ``{cluster_id, library_statuses}``."""
        return json_response(self._statuses(_cluster_id(request.query_params.get("cluster_id"))))

    async def all_cluster_statuses(self, request: Request) -> Response:
        """``GET all-cluster-statuses`` -> ``{statuses: [...]}`` for every cluster with libraries."""
        statuses = []
        for cluster_id in list(self.envs.libraries.cluster_ids()):
            with contextlib.suppress(ApiError):  # deleted meanwhile: its libraries go with it
                statuses.append(self._statuses(cluster_id))
        return json_response({"statuses": statuses})
