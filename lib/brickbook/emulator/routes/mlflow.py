"""MLflow tracking: ``/api/2.0/mlflow/{experiments,runs,metrics}/*``.

GET parameters come in the query string, POST ones in a JSON body. ``experiments/list`` is removed
from OSS MLflow but still served by Databricks (and the SDK's ``list_experiments`` calls it): it
answers like ``experiments/search`` without a filter. Lists leave their key out when empty, and
``next_page_token`` is left out on the last page.

Permissions (state/access.py, the experiment's levels; an experiment is a workspace object at its name
path, so its folders' grants apply, plus its own ACL from the Permissions API): CAN_READ gets,
searches and reads runs and metric history (searches leave out what the caller may not read);
CAN_EDIT creates and changes runs, logs and tags; CAN_MANAGE renames, deletes and restores. Creating
an experiment needs CAN_EDIT on its folder and gives its creator CAN_MANAGE on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.state.access import Resource, may, require
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.mlflow import MlflowState
from brickbook.emulator.state.permissions import Entry, ObjectAcls, experiment_resource
from brickbook.emulator.state.workspace_paths import canonical_path
from brickbook.emulator.wire import caller, json_response, read_json

__all__ = ["MlflowArea"]

BASE = "/api/2.0/mlflow"


def _listing(key: str, items: list[dict[str, Any]], token: str | None) -> Response:
    answer: dict[str, Any] = {key: items} if items else {}
    if token:
        answer["next_page_token"] = token
    return json_response(answer)


class MlflowArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        self.state = MlflowState(context.store, context.clock, context.services.workspace)
        self.workspace = context.services.workspace
        self.acls = ObjectAcls(context.store)

    # -- permissions ----------------------------------------------------------------------------------

    def _resource(self, record: dict[str, Any]) -> Resource:
        folder = self.workspace.resource(record["name"])
        return experiment_resource(folder, self.acls, record["experiment_id"])

    def _experiment(self, who: Principal, experiment_id: object, needed: str) -> dict[str, Any]:
        """The experiment, once ``who`` holds ``needed`` on it (else 403)."""
        record = self.state.get_experiment(experiment_id)
        require(who, self._resource(record), needed)
        return record

    def _run(self, who: Principal, run_id: object, needed: str) -> None:
        """Refuse (403) unless ``who`` holds ``needed`` on the run's experiment."""
        record = self.state.get_run(run_id)
        self._experiment(who, record["info"]["experiment_id"], needed)

    def _readable(self, who: Principal, items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
        if who.is_admin:
            return items
        readable: dict[str, bool] = {}  # one check per experiment, however many of its runs are listed

        def allowed(experiment_id: str) -> bool:
            if experiment_id not in readable:
                record = self.state.get_experiment(experiment_id)
                readable[experiment_id] = may(who, self._resource(record), "CAN_READ")
            return readable[experiment_id]

        return [
            item
            for item in items
            if allowed(item[key] if key == "experiment_id" else item["info"]["experiment_id"])
        ]

    def routes(self) -> Sequence[BaseRoute]:
        e, r = BASE + "/experiments", BASE + "/runs"
        return [
            Route(e + "/create", self.create_experiment, methods=["POST"]),
            Route(e + "/get", self.get_experiment, methods=["GET"]),
            Route(e + "/get-by-name", self.get_by_name, methods=["GET"]),
            Route(e + "/search", self.search_experiments, methods=["POST", "GET"]),
            Route(e + "/list", self.list_experiments, methods=["GET"]),
            Route(e + "/delete", self.delete_experiment, methods=["POST"]),
            Route(e + "/restore", self.restore_experiment, methods=["POST"]),
            Route(e + "/update", self.update_experiment, methods=["POST"]),
            Route(e + "/set-experiment-tag", self.set_experiment_tag, methods=["POST"]),
            Route(r + "/create", self.create_run, methods=["POST"]),
            Route(r + "/get", self.get_run, methods=["GET"]),
            Route(r + "/search", self.search_runs, methods=["POST"]),
            Route(r + "/update", self.update_run, methods=["POST"]),
            Route(r + "/delete", self.delete_run, methods=["POST"]),
            Route(r + "/restore", self.restore_run, methods=["POST"]),
            Route(r + "/log-metric", self.log_metric, methods=["POST"]),
            Route(r + "/log-parameter", self.log_parameter, methods=["POST"]),
            Route(r + "/log-batch", self.log_batch, methods=["POST"]),
            Route(r + "/set-tag", self.set_tag, methods=["POST"]),
            Route(r + "/delete-tag", self.delete_tag, methods=["POST"]),
            Route(BASE + "/metrics/get-history", self.metric_history, methods=["GET"]),
        ]

    async def create_experiment(self, request: Request) -> Response:
        """``POST experiments/create {name, artifact_location?, tags?}`` -> ``{experiment_id}``."""
        body = await read_json(request)
        who = caller(request)
        name = body.get("name")
        if isinstance(name, str) and name.startswith("/") and "//" not in name and len(name) <= 1024:
            require(who, self.workspace.resource(canonical_path(name.rsplit("/", 1)[0] or "/")), "CAN_EDIT")
        experiment_id = self.state.create_experiment(who, body)
        kind = "service_principal_name" if who.service_principal else "user_name"
        self.acls.save("experiment", experiment_id, [Entry(kind, who.user_name, "CAN_MANAGE")])
        return json_response({"experiment_id": experiment_id})

    async def get_experiment(self, request: Request) -> Response:
        """``GET experiments/get?experiment_id=`` -> ``{experiment}`` (deleted ones too)."""
        experiment_id = request.query_params.get("experiment_id")
        return json_response({"experiment": self._experiment(caller(request), experiment_id, "CAN_READ")})

    async def get_by_name(self, request: Request) -> Response:
        """``GET experiments/get-by-name?experiment_name=`` -> ``{experiment}``."""
        record = self.state.get_by_name(request.query_params.get("experiment_name"))
        require(caller(request), self._resource(record), "CAN_READ")
        return json_response({"experiment": record})

    async def search_experiments(self, request: Request) -> Response:
        """``POST experiments/search {filter?, order_by?, max_results?, page_token?, view_type?}``."""
        body = await read_json(request) if request.method == "POST" else _query(request)
        items, token = self.state.search_experiments(body)
        return _listing("experiments", self._readable(caller(request), items, "experiment_id"), token)

    async def list_experiments(self, request: Request) -> Response:
        """``GET experiments/list?max_results=&page_token=&view_type=`` (deprecated; no filter)."""
        query = _query(request)
        query.pop("filter", None)
        query.pop("order_by", None)
        items, token = self.state.search_experiments(query)
        return _listing("experiments", self._readable(caller(request), items, "experiment_id"), token)

    async def delete_experiment(self, request: Request) -> Response:
        """``POST experiments/delete {experiment_id}`` -> ``{}`` (soft delete)."""
        experiment_id = (await read_json(request)).get("experiment_id")
        self._experiment(caller(request), experiment_id, "CAN_MANAGE")
        self.state.set_lifecycle(experiment_id, "deleted")
        return json_response({})

    async def restore_experiment(self, request: Request) -> Response:
        """``POST experiments/restore {experiment_id}`` -> ``{}``."""
        experiment_id = (await read_json(request)).get("experiment_id")
        self._experiment(caller(request), experiment_id, "CAN_MANAGE")
        self.state.set_lifecycle(experiment_id, "active")
        return json_response({})

    async def update_experiment(self, request: Request) -> Response:
        """``POST experiments/update {experiment_id, new_name}`` -> ``{}``."""
        body = await read_json(request)
        self._experiment(caller(request), body.get("experiment_id"), "CAN_MANAGE")
        self.state.update_experiment(body.get("experiment_id"), body.get("new_name"))
        return json_response({})

    async def set_experiment_tag(self, request: Request) -> Response:
        """``POST experiments/set-experiment-tag {experiment_id, key, value}`` -> ``{}``."""
        body = await read_json(request)
        self._experiment(caller(request), body.get("experiment_id"), "CAN_EDIT")
        self.state.set_experiment_tag(body.get("experiment_id"), body.get("key"), body.get("value"))
        return json_response({})

    async def create_run(self, request: Request) -> Response:
        """``POST runs/create {experiment_id, run_name?, start_time?, tags?}`` -> ``{run}``."""
        body = await read_json(request)
        self._experiment(caller(request), body.get("experiment_id"), "CAN_EDIT")
        return json_response({"run": self.state.create_run(caller(request), body)})

    async def get_run(self, request: Request) -> Response:
        """``GET runs/get?run_id=`` (or ``run_uuid``) -> ``{run}``."""
        query = request.query_params
        record = self.state.get_run(query.get("run_id") or query.get("run_uuid"))
        self._experiment(caller(request), record["info"]["experiment_id"], "CAN_READ")
        return json_response({"run": self.state.view(record)})

    async def search_runs(self, request: Request) -> Response:
        """``POST runs/search {experiment_ids, filter?, order_by?, max_results?, page_token?, ...}``."""
        items, token = self.state.search_runs(await read_json(request))
        return _listing("runs", self._readable(caller(request), items, "info"), token)

    async def update_run(self, request: Request) -> Response:
        """``POST runs/update {run_id, status?, end_time?, run_name?}`` -> ``{run_info}``."""
        body = await read_json(request)
        self._run(caller(request), body.get("run_id") or body.get("run_uuid"), "CAN_EDIT")
        return json_response({"run_info": self.state.update_run(body)})

    async def delete_run(self, request: Request) -> Response:
        """``POST runs/delete {run_id}`` -> ``{}``."""
        run_id = (await read_json(request)).get("run_id")
        self._run(caller(request), run_id, "CAN_EDIT")
        self.state.set_run_lifecycle(run_id, "deleted")
        return json_response({})

    async def restore_run(self, request: Request) -> Response:
        """``POST runs/restore {run_id}`` -> ``{}``."""
        run_id = (await read_json(request)).get("run_id")
        self._run(caller(request), run_id, "CAN_EDIT")
        self.state.set_run_lifecycle(run_id, "active")
        return json_response({})

    async def log_metric(self, request: Request) -> Response:
        """``POST runs/log-metric {run_id, key, value, timestamp, step?}`` -> ``{}``."""
        body = await read_json(request)
        self._run(caller(request), body.get("run_id") or body.get("run_uuid"), "CAN_EDIT")
        metric = {k: body.get(k) for k in ("key", "value", "timestamp", "step")}
        self.state.log_batch(
            {"run_id": body.get("run_id") or body.get("run_uuid"), "metrics": [metric]}, single=True
        )
        return json_response({})

    async def log_parameter(self, request: Request) -> Response:
        """``POST runs/log-parameter {run_id, key, value}`` -> ``{}``."""
        body = await read_json(request)
        self._run(caller(request), body.get("run_id") or body.get("run_uuid"), "CAN_EDIT")
        param = {"key": body.get("key"), "value": body.get("value")}
        self.state.log_batch(
            {"run_id": body.get("run_id") or body.get("run_uuid"), "params": [param]}, single=True
        )
        return json_response({})

    async def log_batch(self, request: Request) -> Response:
        """``POST runs/log-batch {run_id, metrics?, params?, tags?}`` -> ``{}``."""
        body = await read_json(request)
        self._run(caller(request), body.get("run_id") or body.get("run_uuid"), "CAN_EDIT")
        self.state.log_batch(body)
        return json_response({})

    async def set_tag(self, request: Request) -> Response:
        """``POST runs/set-tag {run_id, key, value}`` -> ``{}``."""
        body = await read_json(request)
        self._run(caller(request), body.get("run_id") or body.get("run_uuid"), "CAN_EDIT")
        tag = {"key": body.get("key"), "value": body.get("value")}
        self.state.log_batch(
            {"run_id": body.get("run_id") or body.get("run_uuid"), "tags": [tag]}, single=True
        )
        return json_response({})

    async def delete_tag(self, request: Request) -> Response:
        """``POST runs/delete-tag {run_id, key}`` -> ``{}``."""
        body = await read_json(request)
        self._run(caller(request), body.get("run_id"), "CAN_EDIT")
        self.state.delete_tag(body.get("run_id"), body.get("key"))
        return json_response({})

    async def metric_history(self, request: Request) -> Response:
        """``GET metrics/get-history?run_id=&metric_key=&max_results=&page_token=`` -> ``{metrics}``."""
        q = request.query_params
        run_id = q.get("run_id") or q.get("run_uuid")
        self._run(caller(request), run_id, "CAN_READ")
        return _listing(
            "metrics",
            *self.state.metric_history(
                run_id, q.get("metric_key"), q.get("max_results"), q.get("page_token")
            ),
        )


def _query(request: Request) -> dict[str, Any]:
    query: dict[str, Any] = dict(request.query_params)
    if "order_by" in request.query_params:
        query["order_by"] = request.query_params.getlist("order_by")
    return query
