"""MLflow tracking (``/api/2.0/mlflow/*``): runs, on top of the experiments of state/mlflow_experiments.py.

Rules enforced: runs live in an active experiment; only active runs accept metrics, params and tags;
a param never changes value once logged; metrics are appended, and ``runs/get`` shows each metric's
latest value (the greatest (timestamp, step, value)). The tracking server records the caller as the
run's ``user_id`` and ``mlflow.user`` tag, whatever the client sent (a notebook's mlflow client sends
the process's OS user). Limits (state/mlflow_values.py): 1,600 params and 1,600 tags per run,
1,000 metrics / 100 params / 100 tags per batch. Errors: 404 RESOURCE_DOES_NOT_EXIST, 400
RESOURCE_ALREADY_EXISTS and 400 INVALID_PARAMETER_VALUE (MLflow's status table).

Store: kind ``mlflow_run`` keyed by run id, value ``{"info", "params": {k: v}, "tags": {k: v},
"metrics": {k: [Metric]}}``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.mlflow_experiments import EXPERIMENT_KIND, ExperimentsState, ExperimentTree
from brickbook.emulator.state.mlflow_search import matches, parse_filter, parse_order_by, sort_records
from brickbook.emulator.state.mlflow_values import (
    MAX_BATCH_VALUE,
    MAX_KEY,
    MAX_PARAM_VALUE,
    MAX_PARAMS,
    MAX_TAG_VALUE,
    MAX_TAGS,
    ms,
    page,
    pairs,
    size,
    stages,
    text,
)

__all__ = ["EXPERIMENT_KIND", "RUN_KIND", "ExperimentTree", "MlflowState"]

RUN_KIND = "mlflow_run"
RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")


def _run_lookup(record: dict[str, Any], kind: str, key: str) -> Any:
    if kind == "metrics":
        latest = record["metrics"].get(key)
        return None if not latest else _latest(latest)["value"]
    if kind in ("params", "tags"):
        return record[kind].get(key)
    if key in (
        "run_id",
        "run_name",
        "status",
        "start_time",
        "end_time",
        "user_id",
        "artifact_uri",
        "lifecycle_stage",
        "experiment_id",
    ):
        return record["info"].get(key)
    if key == "run_uuid":
        return record["info"]["run_id"]
    raise invalid(f"Invalid attribute key '{key}' for run search.")


def _latest(history: list[dict[str, Any]]) -> dict[str, Any]:
    return max(history, key=lambda m: (m["timestamp"], m["step"], m["value"]))


class MlflowState(ExperimentsState):
    """Experiments (ExperimentsState) and their runs, kept in the store."""

    # -- runs -----------------------------------------------------------------------------------------

    def create_run(self, caller: Principal, body: dict[str, Any]) -> dict[str, Any]:
        experiment = self.get_experiment(body.get("experiment_id"))
        if experiment["lifecycle_stage"] != "active":
            raise invalid(f"The experiment {experiment['experiment_id']} must be in the 'active' state.")
        tags = dict(pairs("tags", body.get("tags"), MAX_TAG_VALUE))
        run_id = hashlib.sha256(f"mlflow-run-{self._store.next_id(RUN_KIND)}".encode()).hexdigest()[:32]
        run_name = (
            text("run_name", body.get("run_name"), MAX_KEY, required=False)
            or tags.get("mlflow.runName")
            or f"run-{run_id[:8]}"
        )
        tags["mlflow.runName"] = run_name
        tags["mlflow.user"] = caller.user_name
        record = {
            "info": {
                "run_id": run_id,
                "run_uuid": run_id,
                "run_name": run_name,
                "experiment_id": experiment["experiment_id"],
                "user_id": caller.user_name,
                "status": "RUNNING",
                "start_time": ms("start_time", body.get("start_time"), self._now()),
                "artifact_uri": f"{experiment['artifact_location']}/{run_id}/artifacts",
                "lifecycle_stage": "active",
            },
            "params": {},
            "tags": tags,
            "metrics": {},
        }
        self._store.put(RUN_KIND, run_id, record)
        return self.view(record)

    def get_run(self, run_id: object) -> dict[str, Any]:
        key = text("run_id", run_id, 64)
        record = self._store.get(RUN_KIND, key)
        if record is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"Run with id={key} not found")
        return record

    def update_run(self, body: dict[str, Any]) -> dict[str, Any]:
        record = self.get_run(body.get("run_id") or body.get("run_uuid"))
        info = record["info"]
        status = body.get("status")
        if status is not None:
            if status not in RUN_STATUSES:
                raise invalid(
                    f"Invalid run status {str(status)[:40]!r}: expected one of {', '.join(RUN_STATUSES)}."
                )
            info["status"] = status
        if body.get("end_time") is not None:
            info["end_time"] = ms("end_time", body.get("end_time"), 0)
        if body.get("run_name"):
            info["run_name"] = record["tags"]["mlflow.runName"] = text("run_name", body["run_name"], MAX_KEY)
        self._store.put(RUN_KIND, info["run_id"], record)
        return dict(info)

    def set_run_lifecycle(self, run_id: object, stage: str) -> None:
        record = self.get_run(run_id)
        record["info"]["lifecycle_stage"] = stage
        self._store.put(RUN_KIND, record["info"]["run_id"], record)

    def log_batch(self, body: dict[str, Any], *, single: bool = False) -> None:
        """Log metrics, params and tags to an active run (``single``: one of the one-item endpoints)."""
        record = self._active_run(body.get("run_id") or body.get("run_uuid"))
        metrics = body.get("metrics") or []
        params = pairs("params", body.get("params"), MAX_PARAM_VALUE if single else MAX_BATCH_VALUE)
        tags = pairs("tags", body.get("tags"), MAX_TAG_VALUE)
        if not isinstance(metrics, list) or len(metrics) > 1000 or len(params) > 100 or len(tags) > 100:
            raise invalid("A batch may hold at most 1000 metrics, 100 params and 100 tags.")
        if len(metrics) + len(params) + len(tags) > 1000:
            raise invalid("A batch may hold at most 1000 items in total.")
        entries = [self._metric(m) for m in metrics]
        for key, value in params:
            old = record["params"].get(key)
            if old is not None and old != value:
                raise invalid(
                    f"Changing param values is not allowed. Param with key='{key}' was already logged "
                    f"with value='{old}' for run ID='{record['info']['run_id']}'. "
                    f"Attempted logging new value '{value}'."
                )
            record["params"][key] = value
        record["tags"].update(tags)
        if len(record["params"]) > MAX_PARAMS or len(record["tags"]) > MAX_TAGS:
            raise ApiError(
                "RESOURCE_LIMIT_EXCEEDED", f"A run may have at most {MAX_PARAMS} params and {MAX_TAGS} tags."
            )
        for entry in entries:
            record["metrics"].setdefault(entry["key"], []).append(entry)
        self._store.put(RUN_KIND, record["info"]["run_id"], record)

    def delete_tag(self, run_id: object, key: object) -> None:
        record = self._active_run(run_id)
        name = text("key", key, MAX_KEY)
        if record["tags"].pop(name, None) is None:
            raise ApiError(
                "RESOURCE_DOES_NOT_EXIST",
                f"No tag with name: {name} in run with id {record['info']['run_id']}",
            )
        self._store.put(RUN_KIND, record["info"]["run_id"], record)

    def metric_history(
        self, run_id: object, key: object, max_results: object, token: object
    ) -> tuple[list[dict[str, Any]], str | None]:
        record = self.get_run(run_id)
        history = record["metrics"].get(text("metric_key", key, MAX_KEY), [])
        return page(history, token, size(max_results, 25000, 25000))

    def search_runs(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
        ids = body.get("experiment_ids")
        if not isinstance(ids, list) or not ids or len(ids) > 100:
            raise invalid("experiment_ids must list between 1 and 100 experiment ids.")
        wanted = {str(self.get_experiment(str(i))["experiment_id"]) for i in ids}
        clauses = parse_filter(body.get("filter"))
        order = parse_order_by(body.get("order_by"))
        limit = size(body.get("max_results"), 1000, 50000)
        wanted_stages = stages(body.get("run_view_type"))
        found = [
            r
            for _, r in self._store.items(RUN_KIND)
            if r["info"]["experiment_id"] in wanted and r["info"]["lifecycle_stage"] in wanted_stages
        ]
        found = [r for r in found if matches(r, clauses, _run_lookup)]
        found.sort(key=lambda r: r["info"]["run_id"])
        found = sort_records(found, order or [("attributes", "start_time", True)], _run_lookup)
        runs, token = page(found, body.get("page_token"), limit)
        return [self.view(r) for r in runs], token

    @staticmethod
    def view(record: dict[str, Any]) -> dict[str, Any]:
        """The Run as the API shows it: ``{info, data: {metrics (latest values), params, tags}, inputs}``."""
        data: dict[str, Any] = {}
        if record["metrics"]:
            data["metrics"] = [_latest(history) for history in record["metrics"].values()]
        if record["params"]:
            data["params"] = [{"key": k, "value": v} for k, v in record["params"].items()]
        if record["tags"]:
            data["tags"] = [{"key": k, "value": v} for k, v in record["tags"].items()]
        return {"info": dict(record["info"]), "data": data, "inputs": {}}

    def _active_run(self, run_id: object) -> dict[str, Any]:
        record = self.get_run(run_id)
        if record["info"]["lifecycle_stage"] != "active":
            raise invalid(
                f"The run {record['info']['run_id']} must be in the 'active' state. "
                f"Current state is {record['info']['lifecycle_stage']}."
            )
        return record

    def _metric(self, item: object) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise invalid("'metrics' must be a list of {key, value, timestamp, step} objects.")
        value = item.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise invalid(f"Invalid value {str(value)[:40]!r} for metric: expected a number.")
        try:
            number = float(value)
        except ValueError as exc:
            raise invalid(f"Invalid value {str(value)[:40]!r} for metric: expected a number.") from exc
        return {
            "key": text("key", item.get("key"), MAX_KEY),
            "value": number,
            "timestamp": ms("timestamp", item.get("timestamp"), self._now()),
            "step": ms("step", item.get("step"), 0),
        }
