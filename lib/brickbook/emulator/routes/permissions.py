"""Object permissions: ``/api/2.0/permissions/{type}/{id}`` (GET, PUT = set, PATCH = update) and
``.../{type}/{id}/permissionLevels`` for jobs, clusters, instance-pools, cluster-policies,
directories, notebooks, files, repos and experiments. Warehouses keep their own routes, which come
first in the route table (routes/warehouses.py).

Each handler resolves the object through the area that owns it into a ``permissions.Target`` (404
RESOURCE_DOES_NOT_EXIST when there is none, 400 INVALID_PARAMETER_VALUE for a type the API does not
have); the rules are state/permissions.py's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.state.access import EXPERIMENT, Resource, workspace_object
from brickbook.emulator.state.clusters import KIND as CLUSTER_KIND
from brickbook.emulator.state.job_access import JobAccess
from brickbook.emulator.state.jobs import JOB_KIND, JobsState
from brickbook.emulator.state.mlflow import EXPERIMENT_KIND
from brickbook.emulator.state.permissions import TYPES, AclType, PermissionsState, Target, parse_acl
from brickbook.emulator.state.policies import KIND as POLICY_KIND
from brickbook.emulator.state.pools import KIND as POOL_KIND
from brickbook.emulator.state.pools import PoolsState
from brickbook.emulator.state.scim import GROUPS, SERVICE_PRINCIPALS, USERS
from brickbook.emulator.state.workspace import WorkspaceState
from brickbook.emulator.state.workspace_paths import ancestors
from brickbook.emulator.wire import caller, json_response, read_json

__all__ = ["PermissionsArea", "experiment_resource"]

BASE = "/api/2.0/permissions"
_WORKSPACE_TYPES = {"directories": "DIRECTORY", "notebooks": "NOTEBOOK", "files": "FILE", "repos": "REPO"}
_LEVEL_OF_WORKSPACE = {
    "CAN_READ": "CAN_READ",
    "CAN_RUN": "CAN_READ",
    "CAN_EDIT": "CAN_EDIT",
    "CAN_MANAGE": "CAN_MANAGE",
}


def _missing(kind: AclType, object_id: str) -> ApiError:
    return ApiError("RESOURCE_DOES_NOT_EXIST", f"{kind.noun.capitalize()} {object_id[:100]} does not exist.")


def experiment_resource(
    workspace: WorkspaceState, state: PermissionsState, record: dict[str, Any]
) -> Resource:
    """An MLflow experiment: the grants of its workspace path (its folder's, inherited) and its own ACL.

    Workspace levels map onto the experiment's: CAN_RUN reads, CAN_EDIT edits, CAN_MANAGE manages.
    """
    folder = workspace.resource(record["name"])
    grants = {who: _LEVEL_OF_WORKSPACE[level] for who, level in folder.grants.items()}
    return state.acls.merged(
        Resource(EXPERIMENT, record["experiment_id"], grants), "experiment", [record["experiment_id"]]
    )


class PermissionsArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        scim = context.services.scim
        kinds = {"user_name": USERS, "group_name": GROUPS, "service_principal_name": SERVICE_PRINCIPALS}
        self.state = PermissionsState(
            context.store, lambda kind, name: scim.find(kinds[kind], name) is not None
        )
        self.store = context.store
        self.workspace = context.services.workspace
        self.clusters = context.services.clusters
        self.pools = PoolsState(context.store, context.clock)
        jobs = JobsState(context.store, context.clock)
        self.jobs = JobAccess(context.store, jobs, context.services.runs, context.services.clusters)
        self.resolvers: dict[str, Callable[[AclType, str], Target]] = {
            "jobs": self._job,
            "clusters": self._cluster,
            "instance-pools": self._pool,
            "cluster-policies": self._policy,
            "experiments": self._experiment,
            **dict.fromkeys(_WORKSPACE_TYPES, self._workspace_object),
        }

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route(BASE + "/{type}/{id}/permissionLevels", self.permission_levels, methods=["GET"]),
            Route(BASE + "/{type}/{id}", self.get, methods=["GET"]),
            Route(BASE + "/{type}/{id}", self.set, methods=["PUT"]),
            Route(BASE + "/{type}/{id}", self.update, methods=["PATCH"]),
        ]

    async def permission_levels(self, request: Request) -> Response:
        return json_response(self.state.levels(caller(request), self._target(request)))

    async def get(self, request: Request) -> Response:
        return json_response(self.state.get(caller(request), self._target(request)))

    async def set(self, request: Request) -> Response:
        entries = parse_acl(await read_json(request))
        return json_response(self.state.write(caller(request), self._target(request), entries, replace=True))

    async def update(self, request: Request) -> Response:
        entries = parse_acl(await read_json(request))
        return json_response(self.state.write(caller(request), self._target(request), entries, replace=False))

    # -- resolving {type}/{id} through the area that owns the object ----------------------------------

    def _target(self, request: Request) -> Target:
        segment, object_id = request.path_params["type"], request.path_params["id"]
        kind = TYPES.get(segment)
        if kind is None:
            raise invalid(f"Unsupported object type {segment[:60]!r} for permissions.")
        return self.resolvers[segment](kind, object_id)

    def _job(self, kind: AclType, object_id: str) -> Target:
        record = self.store.get(JOB_KIND, object_id) if object_id.isdigit() else None
        if record is None:
            raise _missing(kind, object_id)
        owner = {record["creator_user_name"]: "IS_OWNER"}
        return Target(kind, object_id, self.jobs.job_resource(record), owners=owner)

    def _cluster(self, kind: AclType, object_id: str) -> Target:
        record = self.store.get(CLUSTER_KIND, object_id)
        if record is None:
            raise _missing(kind, object_id)
        owner = {record["creator_user_name"]: "CAN_MANAGE"}
        return Target(kind, object_id, self.clusters.resource(record), owners=owner)

    def _pool(self, kind: AclType, object_id: str) -> Target:
        if self.store.get(POOL_KIND, object_id) is None:
            raise _missing(kind, object_id)
        return Target(kind, object_id, self.pools.resource(object_id))

    def _policy(self, kind: AclType, object_id: str) -> Target:
        if self.store.get(POLICY_KIND, object_id) is None:
            raise _missing(kind, object_id)
        policy = Resource(kind.type, object_id, {})
        return Target(kind, object_id, self.state.acls.merged(policy, kind.family, [object_id]))

    def _workspace_object(self, kind: AclType, object_id: str) -> Target:
        path = self.workspace.path_of(int(object_id)) if object_id.isdigit() and len(object_id) < 20 else None
        record = None if path is None else self.workspace.record_at(path)
        if path is None or record is None or record["object_type"] != _WORKSPACE_TYPES[kind.segment]:
            raise _missing(kind, object_id)
        above = [r for r in (self.workspace.record_at(p) for p in ancestors(path)[:-1]) if r is not None]
        fixed = workspace_object(path, {r["owner"] for r in above if r.get("owner")}).grants
        parents = [(f"/directories/{r['object_id']}", str(r["object_id"])) for r in reversed(above)]
        owner = {record["owner"]: "CAN_MANAGE"} if record.get("owner") else {}
        return Target(
            kind, object_id, self.workspace.resource(path), owners=owner, parents=parents, fixed=fixed
        )

    def _experiment(self, kind: AclType, object_id: str) -> Target:
        record = self.store.get(EXPERIMENT_KIND, object_id)
        if record is None:
            raise _missing(kind, object_id)
        folder = self.workspace.resource(record["name"])
        fixed = {who: _LEVEL_OF_WORKSPACE[level] for who, level in folder.grants.items()}
        resource = experiment_resource(self.workspace, self.state, record)
        return Target(kind, object_id, resource, fixed=fixed)
