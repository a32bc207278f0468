"""MLflow tracking (``/api/2.0/mlflow/*``): experiments and runs, with MLflow's own error codes.

Rules enforced: an experiment name is an absolute workspace path whose parent folder exists, unique
among experiments (deleted ones included, as MLflow keeps their names); deleting is a soft delete
(``lifecycle_stage`` ``deleted``) that ``restore`` undoes. Runs live in an experiment; only active runs
accept metrics, params and tags; a param never changes value once logged; metrics are appended, and
``runs/get`` shows each metric's latest value (the greatest (timestamp, step, value)). Limits from
the Resource limits page and the log-batch reference: 1,600 params and 1,600 tags per run, 1,000
metrics / 100 params / 100 tags per batch, keys 250 characters, param values 500 characters
(250 through log-batch), tag values 64 KB. Errors: 404 RESOURCE_DOES_NOT_EXIST, 400
RESOURCE_ALREADY_EXISTS and 400 INVALID_PARAMETER_VALUE (MLflow's status table).

Store: kind ``mlflow_experiment`` keyed by experiment id, value the Experiment as the API shows it;
kind ``mlflow_run`` keyed by run id, value ``{"info", "params": {k: v}, "tags": {k: v},
"metrics": {k: [Metric]}}``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.mlflow_search import matches, parse_filter, parse_order_by, sort_records
from brickbook.emulator.state.numbers import whole_number
from brickbook.emulator.state.paging import decode_offset, page_of
from brickbook.emulator.state.store import Store

__all__ = ["EXPERIMENT_KIND", "RUN_KIND", "MlflowState"]

EXPERIMENT_KIND = "mlflow_experiment"
RUN_KIND = "mlflow_run"
MAX_KEY = 250
MAX_PARAM_VALUE = 500
MAX_BATCH_VALUE = 250
MAX_TAG_VALUE = 64 * 1024
MAX_PARAMS = 1600
MAX_TAGS = 1600
RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
VIEW_TYPES = {"ACTIVE_ONLY": ("active",), "DELETED_ONLY": ("deleted",), "ALL": ("active", "deleted")}


def _text(name: str, value: object, limit: int, *, required: bool = True) -> str:
    if value is None or value == "":
        if required:
            raise invalid(f"Missing value for required parameter '{name}'.")
        return ""
    if not isinstance(value, str):
        raise invalid(f"Invalid value {str(value)[:100]!r} for parameter '{name}': it must be a string.")
    if len(value) > limit:
        raise invalid(f"'{name}' exceeds the maximum length of {limit} characters.")
    return value


def _ms(name: str, value: object, default: int) -> int:
    if value is None:
        return default
    number = whole_number(value)
    if number is None:
        raise invalid(
            f"Invalid value {str(value)[:40]!r} for parameter '{name}': expected epoch milliseconds."
        )
    return number


def _size(value: object, default: int, maximum: int) -> int:
    if value is None or value == "":
        return default
    number = whole_number(value)
    if number is None or number > maximum:
        raise invalid(f"Invalid value {str(value)[:40]!r} for parameter 'max_results': at most {maximum}.")
    return number or default


def _stages(view_type: object) -> tuple[str, ...]:
    key = "ACTIVE_ONLY" if view_type in (None, "") else view_type
    if not isinstance(key, str) or key not in VIEW_TYPES:
        raise invalid(f"Invalid view type {str(view_type)[:40]!r}: expected one of {', '.join(VIEW_TYPES)}.")
    return VIEW_TYPES[key]


def _pairs(name: str, items: object, value_limit: int) -> list[tuple[str, str]]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise invalid(f"'{name}' must be a list of {{key, value}} objects.")
    pairs = []
    for item in items:
        if not isinstance(item, dict):
            raise invalid(f"'{name}' must be a list of {{key, value}} objects.")
        pairs.append(
            (
                _text("key", item.get("key"), MAX_KEY),
                _text("value", item.get("value"), value_limit, required=False),
            )
        )
    return pairs


def _experiment_lookup(record: dict[str, Any], kind: str, key: str) -> Any:
    if kind == "tags":
        return next((t["value"] for t in record.get("tags", []) if t["key"] == key), None)
    if kind == "attributes" and key in ("name", "experiment_id", "creation_time", "last_update_time"):
        return record.get(key)
    raise invalid(f"Invalid attribute key '{key}' for experiment search.")


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


class MlflowState:
    """Experiments and runs, kept in the store; ``exists`` tells whether a workspace folder exists."""

    def __init__(self, store: Store, clock: Callable[[], float], exists: Callable[[str], bool]) -> None:
        self._store = store
        self._clock = clock
        self._exists = exists

    def _now(self) -> int:
        return int(self._clock() * 1000)

    # -- experiments ----------------------------------------------------------------------------------

    def create_experiment(self, caller: Principal, body: dict[str, Any]) -> str:
        name = _text("name", body.get("name"), 1024)
        if not name.startswith("/") or name.endswith("/") or "//" in name:
            raise invalid(
                f"Got an invalid experiment name '{name}'. An experiment name must be an absolute path "
                "within the Databricks workspace, e.g. '/Users/<some-username>/my-experiment'."
            )
        parent = name.rsplit("/", 1)[0] or "/"
        if not self._exists(parent):
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"Parent directory {parent} does not exist.")
        tags = _pairs("tags", body.get("tags"), MAX_TAG_VALUE)
        artifact = _text("artifact_location", body.get("artifact_location"), 4096, required=False)
        with self._store.transaction():
            if self._by_name(name, ("active", "deleted")) is not None:
                raise ApiError("RESOURCE_ALREADY_EXISTS", f"Experiment(name={name}) already exists.")
            experiment_id = str(self._store.next_id(EXPERIMENT_KIND))
            now = self._now()
            self._store.put(
                EXPERIMENT_KIND,
                experiment_id,
                {
                    "experiment_id": experiment_id,
                    "name": name,
                    "artifact_location": artifact or f"dbfs:/databricks/mlflow-tracking/{experiment_id}",
                    "lifecycle_stage": "active",
                    "creation_time": now,
                    "last_update_time": now,
                    "tags": [{"key": k, "value": v} for k, v in dict(tags).items()],
                },
            )
        return experiment_id

    def get_experiment(self, experiment_id: object) -> dict[str, Any]:
        if isinstance(experiment_id, int) and not isinstance(experiment_id, bool):
            experiment_id = str(experiment_id)  # the proto field is a string; JSON numbers parse into it
        key = _text("experiment_id", experiment_id, 64)
        record = self._store.get(EXPERIMENT_KIND, key)
        if record is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"No Experiment with id={key} exists")
        return record

    def get_by_name(self, name: object) -> dict[str, Any]:
        wanted = _text("experiment_name", name, 1024)
        record = self._by_name(wanted, ("active",)) or self._by_name(wanted, ("deleted",))
        if record is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"Could not find experiment with name {wanted}")
        return record

    def search_experiments(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
        clauses = parse_filter(body.get("filter"))
        order = parse_order_by(body.get("order_by"))
        size = _size(body.get("max_results"), 1000, 3000)
        stages = _stages(body.get("view_type"))
        found = [r for _, r in self._store.items(EXPERIMENT_KIND) if r["lifecycle_stage"] in stages]
        found = [r for r in found if matches(r, clauses, _experiment_lookup)]
        found.sort(key=lambda r: -int(r["experiment_id"]))  # ties: experiment id DESC
        found = sort_records(found, order or [("attributes", "last_update_time", True)], _experiment_lookup)
        return self._page(found, body.get("page_token"), size)

    def update_experiment(self, experiment_id: object, new_name: object) -> None:
        record = self.get_experiment(experiment_id)
        name = _text("new_name", new_name, 1024)
        if not name.startswith("/"):
            raise invalid(f"Got an invalid experiment name '{name}'.")
        with self._store.transaction():
            other = self._by_name(name, ("active", "deleted"))
            if other is not None and other["experiment_id"] != record["experiment_id"]:
                raise ApiError("RESOURCE_ALREADY_EXISTS", f"Experiment(name={name}) already exists.")
            self._touch(record, name=name)

    def set_lifecycle(self, experiment_id: object, stage: str) -> None:
        record = self.get_experiment(experiment_id)
        if stage == "active" and record["lifecycle_stage"] == "active":
            raise invalid(f"Cannot restore an active experiment {record['experiment_id']}.")
        self._touch(record, lifecycle_stage=stage)

    def set_experiment_tag(self, experiment_id: object, key: object, value: object) -> None:
        record = self.get_experiment(experiment_id)
        tag_key, tag_value = _pairs("tag", [{"key": key, "value": value}], MAX_TAG_VALUE)[0]
        tags = [t for t in record["tags"] if t["key"] != tag_key] + [{"key": tag_key, "value": tag_value}]
        self._touch(record, tags=tags)

    def _touch(self, record: dict[str, Any], **changes: Any) -> None:
        self._store.put(
            EXPERIMENT_KIND, record["experiment_id"], {**record, **changes, "last_update_time": self._now()}
        )

    def _by_name(self, name: str, stages: tuple[str, ...]) -> dict[str, Any] | None:
        return next(
            (
                r
                for _, r in self._store.items(EXPERIMENT_KIND)
                if r["name"] == name and r["lifecycle_stage"] in stages
            ),
            None,
        )

    @staticmethod
    def _page(
        items: list[dict[str, Any]], token: object, size: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        offset = decode_offset(str(token)) if token else 0
        page = page_of(items, offset, size)
        return page.items, page.next_token

    # -- runs -----------------------------------------------------------------------------------------

    def create_run(self, caller: Principal, body: dict[str, Any]) -> dict[str, Any]:
        experiment = self.get_experiment(body.get("experiment_id"))
        if experiment["lifecycle_stage"] != "active":
            raise invalid(f"The experiment {experiment['experiment_id']} must be in the 'active' state.")
        tags = dict(_pairs("tags", body.get("tags"), MAX_TAG_VALUE))
        run_id = hashlib.sha256(f"mlflow-run-{self._store.next_id(RUN_KIND)}".encode()).hexdigest()[:32]
        run_name = (
            _text("run_name", body.get("run_name"), MAX_KEY, required=False)
            or tags.get("mlflow.runName")
            or f"run-{run_id[:8]}"
        )
        tags["mlflow.runName"] = run_name
        tags.setdefault("mlflow.user", caller.user_name)
        record = {
            "info": {
                "run_id": run_id,
                "run_uuid": run_id,
                "run_name": run_name,
                "experiment_id": experiment["experiment_id"],
                "user_id": caller.user_name,
                "status": "RUNNING",
                "start_time": _ms("start_time", body.get("start_time"), self._now()),
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
        key = _text("run_id", run_id, 64)
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
            info["end_time"] = _ms("end_time", body.get("end_time"), 0)
        if body.get("run_name"):
            info["run_name"] = record["tags"]["mlflow.runName"] = _text("run_name", body["run_name"], MAX_KEY)
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
        params = _pairs("params", body.get("params"), MAX_PARAM_VALUE if single else MAX_BATCH_VALUE)
        tags = _pairs("tags", body.get("tags"), MAX_TAG_VALUE)
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
        name = _text("key", key, MAX_KEY)
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
        history = record["metrics"].get(_text("metric_key", key, MAX_KEY), [])
        return self._page(history, token, _size(max_results, 25000, 25000))

    def search_runs(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
        ids = body.get("experiment_ids")
        if not isinstance(ids, list) or not ids or len(ids) > 100:
            raise invalid("experiment_ids must list between 1 and 100 experiment ids.")
        wanted = {str(self.get_experiment(str(i))["experiment_id"]) for i in ids}
        clauses = parse_filter(body.get("filter"))
        order = parse_order_by(body.get("order_by"))
        size = _size(body.get("max_results"), 1000, 50000)
        stages = _stages(body.get("run_view_type"))
        found = [
            r
            for _, r in self._store.items(RUN_KIND)
            if r["info"]["experiment_id"] in wanted and r["info"]["lifecycle_stage"] in stages
        ]
        found = [r for r in found if matches(r, clauses, _run_lookup)]
        found.sort(key=lambda r: r["info"]["run_id"])
        found = sort_records(found, order or [("attributes", "start_time", True)], _run_lookup)
        runs, token = self._page(found, body.get("page_token"), size)
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
            "key": _text("key", item.get("key"), MAX_KEY),
            "value": number,
            "timestamp": _ms("timestamp", item.get("timestamp"), self._now()),
            "step": _ms("step", item.get("step"), 0),
        }
