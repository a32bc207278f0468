"""MLflow experiments (``/api/2.0/mlflow/experiments/*``), which are objects of the workspace tree.

An experiment's name is an absolute workspace path (``/Users/<name>/exp``, ``/Shared/exp``; a
``/Workspace`` prefix is dropped, as the service does) and the experiment is a workspace object
there: object type ``MLFLOW_EXPERIMENT``, object id = the experiment id (ids come from the
workspace's object ids, as on Databricks). So creating one needs its parent folder (404
RESOURCE_DOES_NOT_EXIST "Parent directory ... does not exist.") and the caller's CAN_EDIT there
(403), and a path where a notebook, file or folder already is is 400 INVALID_PARAMETER_VALUE (the
answer mlflow's notebook-experiment provider expects when it offers a notebook's own path). Renaming
moves the object; deleting (a soft delete: ``lifecycle_stage`` ``deleted``) takes it out of the
tree and restoring puts it back; ``workspace/delete`` of the object, or of a folder above it,
deletes the experiment. A notebook's own experiment (id = the notebook's id, name = its path) comes
into being when it is first asked for (mlflow creates a run in it), as on Databricks. Names stay
unique among experiments, deleted ones included, as MLflow keeps their names.

Store: kind ``mlflow_experiment`` keyed by experiment id, value the Experiment as the API shows it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any, Protocol

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.state.access import Resource, require
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.mlflow_search import matches, parse_filter, parse_order_by, sort_records
from brickbook.emulator.state.mlflow_values import MAX_TAG_VALUE, page, pairs, size, stages, text
from brickbook.emulator.state.store import Store
from brickbook.emulator.state.workspace_paths import canonical_path

__all__ = ["EXPERIMENT_KIND", "EXPERIMENT_OBJECT", "ExperimentTree", "ExperimentsState"]

EXPERIMENT_KIND = "mlflow_experiment"
EXPERIMENT_OBJECT = "MLFLOW_EXPERIMENT"


class ExperimentTree(Protocol):
    """What experiments need of the workspace tree (state/workspace.py's WorkspaceState)."""

    def exists(self, path: str) -> bool: ...
    def resource(self, path: str) -> Resource: ...
    def new_object_id(self) -> int: ...
    def add_object(self, caller: Principal | None, path: str, kind: str, object_id: int) -> None: ...
    def move_object(self, source: str, target: str) -> None: ...
    def remove_object(self, path: str) -> None: ...
    def path_of(self, object_id: int, kind: str) -> str | None: ...
    def on_delete(self, kind: str, callback: Callable[[int], None]) -> None: ...


def _experiment_lookup(record: dict[str, Any], kind: str, key: str) -> Any:
    if kind == "tags":
        return next((t["value"] for t in record.get("tags", []) if t["key"] == key), None)
    if kind == "attributes" and key in ("name", "experiment_id", "creation_time", "last_update_time"):
        return record.get(key)
    raise invalid(f"Invalid attribute key '{key}' for experiment search.")


def experiment_path(field: str, value: object) -> str:
    """An experiment name as the workspace path it is (``/Workspace`` dropped), or MLflow's 400."""
    name = text(field, value, 1024)
    if not name.startswith("/") or name.endswith("/") or "//" in name:
        raise invalid(
            f"Got an invalid experiment name '{name}'. An experiment name must be an absolute path "
            "within the Databricks workspace, e.g. '/Users/<some-username>/my-experiment'."
        )
    return canonical_path(name)


class ExperimentsState:
    """Experiments, kept in the store and placed in the workspace ``tree``."""

    def __init__(self, store: Store, clock: Callable[[], float], tree: ExperimentTree) -> None:
        self._store = store
        self._clock = clock
        self._tree = tree
        tree.on_delete(EXPERIMENT_OBJECT, self._deleted_in_tree)

    def _now(self) -> int:
        return int(self._clock() * 1000)

    def create_experiment(self, caller: Principal, body: dict[str, Any]) -> str:
        name = experiment_path("name", body.get("name"))
        require(caller, self._tree.resource(name), "CAN_EDIT")  # before saying what is there
        parent = posixpath.dirname(name)
        if not self._tree.exists(parent):
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"Parent directory {parent} does not exist.")
        tags = pairs("tags", body.get("tags"), MAX_TAG_VALUE)
        artifact = text("artifact_location", body.get("artifact_location"), 4096, required=False)
        with self._store.transaction():
            if self._by_name(name, ("active", "deleted")) is not None:
                raise ApiError("RESOURCE_ALREADY_EXISTS", f"Experiment(name={name}) already exists.")
            self._refuse_occupied(name)
            object_id = self._tree.new_object_id()
            self._tree.add_object(caller, name, EXPERIMENT_OBJECT, object_id)
            experiment_id = str(object_id)
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
        key = text("experiment_id", experiment_id, 64)
        record = self._store.get(EXPERIMENT_KIND, key) or self._notebook_experiment(key)
        if record is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"No Experiment with id={key} exists")
        return record

    def _notebook_experiment(self, key: str) -> dict[str, Any] | None:
        """The experiment of the notebook whose object id ``key`` is, made on first use; else None.

        Databricks gives every notebook an experiment with the notebook's id and path (mlflow's
        notebook-experiment provider logs to it when no experiment was set). It is no workspace
        object of its own: the notebook is.
        """
        if not key.isdigit() or len(key) > 19:
            return None
        path = self._tree.path_of(int(key), "NOTEBOOK")
        if path is None:
            return None
        now = self._now()
        record = {
            "experiment_id": key,
            "name": path,
            "artifact_location": f"dbfs:/databricks/mlflow-tracking/{key}",
            "lifecycle_stage": "active",
            "creation_time": now,
            "last_update_time": now,
            "tags": [
                {"key": "mlflow.experimentType", "value": "NOTEBOOK"},
                {"key": "mlflow.experiment.sourceId", "value": key},
            ],
        }
        self._store.put(EXPERIMENT_KIND, key, record)
        return record

    def get_by_name(self, name: object) -> dict[str, Any]:
        wanted = text("experiment_name", name, 1024)
        if wanted.startswith("/Workspace/"):
            wanted = wanted.removeprefix("/Workspace")
        record = self._by_name(wanted, ("active",)) or self._by_name(wanted, ("deleted",))
        if record is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"Could not find experiment with name {wanted}")
        return record

    def search_experiments(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
        clauses = parse_filter(body.get("filter"))
        order = parse_order_by(body.get("order_by"))
        limit = size(body.get("max_results"), 1000, 3000)
        wanted = stages(body.get("view_type"))
        found = [r for _, r in self._store.items(EXPERIMENT_KIND) if r["lifecycle_stage"] in wanted]
        found = [r for r in found if matches(r, clauses, _experiment_lookup)]
        found.sort(key=lambda r: -int(r["experiment_id"]))  # ties: experiment id DESC
        found = sort_records(found, order or [("attributes", "last_update_time", True)], _experiment_lookup)
        return page(found, body.get("page_token"), limit)

    def update_experiment(self, experiment_id: object, new_name: object) -> None:
        """Rename; an active experiment's workspace object moves with it (parent existing, path free)."""
        record = self.get_experiment(experiment_id)
        name = experiment_path("new_name", new_name)
        with self._store.transaction():
            other = self._by_name(name, ("active", "deleted"))
            if other is not None and other["experiment_id"] != record["experiment_id"]:
                raise ApiError("RESOURCE_ALREADY_EXISTS", f"Experiment(name={name}) already exists.")
            if record["lifecycle_stage"] == "active" and name != record["name"]:
                self._refuse_occupied(name)
                self._tree.move_object(record["name"], name)
            self._touch(record, name=name)

    def set_lifecycle(self, experiment_id: object, stage: str) -> None:
        """Delete (out of the workspace tree) or restore (back in it, where its name says)."""
        record = self.get_experiment(experiment_id)
        if stage == "active" and record["lifecycle_stage"] == "active":
            raise invalid(f"Cannot restore an active experiment {record['experiment_id']}.")
        with self._store.transaction():
            if stage == "active":
                self._refuse_occupied(record["name"])
                self._tree.add_object(None, record["name"], EXPERIMENT_OBJECT, int(record["experiment_id"]))
            elif record["lifecycle_stage"] == "active":
                self._tree.remove_object(record["name"])
            self._touch(record, lifecycle_stage=stage)

    def set_experiment_tag(self, experiment_id: object, key: object, value: object) -> None:
        record = self.get_experiment(experiment_id)
        tag_key, tag_value = pairs("tag", [{"key": key, "value": value}], MAX_TAG_VALUE)[0]
        tags = [t for t in record["tags"] if t["key"] != tag_key] + [{"key": tag_key, "value": tag_value}]
        self._touch(record, tags=tags)

    def _deleted_in_tree(self, object_id: int) -> None:
        """``workspace/delete`` removed the experiment's object: the experiment is deleted with it."""
        record = self._store.get(EXPERIMENT_KIND, str(object_id))
        if record is not None and record["lifecycle_stage"] == "active":
            self._touch(record, lifecycle_stage="deleted")

    def _refuse_occupied(self, path: str) -> None:
        """400 INVALID_PARAMETER_VALUE when a notebook, file or folder is at ``path``."""
        if self._tree.exists(path):
            raise invalid(f"Cannot create an experiment at {path}: another workspace object is there.")

    def _touch(self, record: dict[str, Any], **changes: Any) -> None:
        self._store.put(
            EXPERIMENT_KIND, record["experiment_id"], {**record, **changes, "last_update_time": self._now()}
        )

    def _by_name(self, name: str, wanted: tuple[str, ...]) -> dict[str, Any] | None:
        return next(
            (
                r
                for _, r in self._store.items(EXPERIMENT_KIND)
                if r["name"] == name and r["lifecycle_stage"] in wanted
            ),
            None,
        )
