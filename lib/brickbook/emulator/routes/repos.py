"""Repos (Git folders) API: ``/api/2.0/repos`` and ``/api/2.0/repos/{repo_id}``.

Cloning runs ``git`` in a subprocess, so create and update run in Starlette's thread pool and never block
the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.state.repos import RepoState
from brickbook.emulator.wire import caller, json_response, read_json

__all__ = ["ReposArea"]

BASE = "/api/2.0/repos"


class ReposArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        allow_remote = context.settings.allow_remote_repos
        self.state = RepoState(context.store, context.services.workspace, allow_remote=allow_remote)

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route(BASE, self.create, methods=["POST"]),
            Route(BASE, self.list, methods=["GET"]),
            Route(BASE + "/{repo_id}", self.get, methods=["GET"]),
            Route(BASE + "/{repo_id}", self.update, methods=["PATCH"]),
            Route(BASE + "/{repo_id}", self.delete, methods=["DELETE"]),
        ]

    async def create(self, request: Request) -> Response:
        """``POST /api/2.0/repos {url, provider, path?, sparse_checkout?}`` -> RepoInfo."""
        body = await read_json(request)
        info = await run_in_threadpool(
            self.state.create,
            caller(request),
            url=body.get("url"),
            provider=body.get("provider"),
            path=body.get("path"),
            sparse_checkout=body.get("sparse_checkout"),
        )
        return json_response(info)

    async def list(self, request: Request) -> Response:
        """``GET /api/2.0/repos?path_prefix=&next_page_token=``; ``repos`` is left out when empty."""
        query = request.query_params
        repos, token = self.state.list_repos(
            caller(request), path_prefix=query.get("path_prefix"), page_token=query.get("next_page_token")
        )
        answer: dict[str, object] = {"repos": repos} if repos else {}
        if token:
            answer["next_page_token"] = token
        return json_response(answer)

    async def get(self, request: Request) -> Response:
        """``GET /api/2.0/repos/{repo_id}``."""
        return json_response(self.state.get(caller(request), request.path_params["repo_id"]))

    async def update(self, request: Request) -> Response:
        """``PATCH /api/2.0/repos/{repo_id} {branch | tag, sparse_checkout?}`` -> ``{}``."""
        body = await read_json(request)
        await run_in_threadpool(
            self.state.update,
            caller(request),
            request.path_params["repo_id"],
            branch=body.get("branch"),
            tag=body.get("tag"),
            sparse_checkout=body.get("sparse_checkout"),
        )
        return json_response({})

    async def delete(self, request: Request) -> Response:
        """``DELETE /api/2.0/repos/{repo_id}`` -> ``{}``."""
        self.state.delete(caller(request), request.path_params["repo_id"])
        return json_response({})
