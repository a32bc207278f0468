"""MLflow experiments as workspace objects: created at their path, moved, deleted and restored with it."""

from __future__ import annotations

import base64
import io
import zipfile
from typing import Any

from tests.emulator.harness import ADMIN, ALICE, ALICE_TOKEN, Emu
from tests.emulator.jobs_harness import notebook, upload
from tests.emulator.test_mlflow import assert_error, ok

M = "/api/2.0/mlflow/experiments"
W = "/api/2.0/workspace"
HOME = f"/Users/{ADMIN}"


def create(emu: Emu, name: str, token: str | None = None) -> str:
    extra = {} if token is None else {"token": token}
    return str(ok(emu.post(f"{M}/create", json={"name": name}, **extra))["experiment_id"])


def status(emu: Emu, path: str, **extra: Any) -> Any:
    return emu.get(f"{W}/get-status", params={"path": path}, **extra)


def stage(emu: Emu, experiment_id: str) -> str:
    found = ok(emu.get(f"{M}/get", params={"experiment_id": experiment_id}))
    return str(found["experiment"]["lifecycle_stage"])


def test_an_experiment_is_a_workspace_object_at_its_name(emu: Emu):
    """get-status and the parent's list show MLFLOW_EXPERIMENT, object_id = the experiment id."""
    experiment_id = create(emu, f"{HOME}/churn")
    info = ok(status(emu, f"{HOME}/churn"))
    assert info["object_type"] == "MLFLOW_EXPERIMENT"
    assert info["path"] == f"{HOME}/churn" and info["object_id"] == int(experiment_id)
    listed = ok(emu.get(f"{W}/list", params={"path": HOME}))["objects"]
    assert [o["object_type"] for o in listed if o["path"] == f"{HOME}/churn"] == ["MLFLOW_EXPERIMENT"]


def test_the_workspace_prefix_is_dropped_from_the_name(emu: Emu):
    """/Workspace/Users/... names the same path; the experiment is named without the prefix."""
    experiment_id = create(emu, f"/Workspace{HOME}/churn")
    got = ok(emu.get(f"{M}/get", params={"experiment_id": experiment_id}))["experiment"]
    assert got["name"] == f"{HOME}/churn"
    by_name = ok(emu.get(f"{M}/get-by-name", params={"experiment_name": f"/Workspace{HOME}/churn"}))
    assert by_name["experiment"]["experiment_id"] == experiment_id


def test_a_relative_name_is_invalid_and_creates_nothing(emu: Emu):
    """A name that is not an absolute workspace path is 400 INVALID_PARAMETER_VALUE."""
    response = emu.post(f"{M}/create", json={"name": "churn"})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "invalid experiment name")
    assert ok(emu.post(f"{M}/search", json={})) == {}


def test_a_notebook_as_parent_is_not_a_folder(emu: Emu):
    """An experiment under a notebook is 404 RESOURCE_DOES_NOT_EXIST: its parent folder does not exist."""
    upload(emu, f"{HOME}/nb", notebook("x = 1"))
    response = emu.post(f"{M}/create", json={"name": f"{HOME}/nb/exp"})
    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "does not exist")


def test_a_path_holding_a_notebook_or_folder_is_refused(emu: Emu):
    """Creating at a notebook's or a folder's path is 400 INVALID_PARAMETER_VALUE; the object stays."""
    upload(emu, f"{HOME}/nb", notebook("x = 1"))
    ok(emu.post(f"{W}/mkdirs", json={"path": f"{HOME}/folder"}))
    for path, kind in ((f"{HOME}/nb", "NOTEBOOK"), (f"{HOME}/folder", "DIRECTORY")):
        response = emu.post(f"{M}/create", json={"name": path})
        assert_error(response, 400, "INVALID_PARAMETER_VALUE", "another workspace object is there")
        assert ok(status(emu, path))["object_type"] == kind


def test_a_notebook_cannot_replace_an_experiment(emu: Emu):
    """import (even with overwrite) and mkdirs at an experiment's path are RESOURCE_ALREADY_EXISTS."""
    create(emu, f"{HOME}/churn")
    body = {"path": f"{HOME}/churn", "format": "SOURCE", "language": "PYTHON", "overwrite": True}
    body["content"] = base64.b64encode(b"x = 1\n").decode()
    assert_error(emu.post(f"{W}/import", json=body), 400, "RESOURCE_ALREADY_EXISTS", "already exists")
    response = emu.post(f"{W}/mkdirs", json={"path": f"{HOME}/churn/sub"})
    assert_error(response, 400, "RESOURCE_ALREADY_EXISTS", "already exists")
    assert ok(status(emu, f"{HOME}/churn"))["object_type"] == "MLFLOW_EXPERIMENT"


def test_renaming_moves_the_object(emu: Emu):
    """experiments/update moves the object to the new path, keeping its id."""
    experiment_id = create(emu, f"{HOME}/churn")
    ok(emu.post(f"{W}/mkdirs", json={"path": f"{HOME}/models"}))
    ok(emu.post(f"{M}/update", json={"experiment_id": experiment_id, "new_name": f"{HOME}/models/churn"}))
    assert_error(status(emu, f"{HOME}/churn"), 404, "RESOURCE_DOES_NOT_EXIST", "doesn't exist")
    assert ok(status(emu, f"{HOME}/models/churn"))["object_id"] == int(experiment_id)


def test_renaming_into_a_missing_folder_changes_nothing(emu: Emu):
    """A new name whose folder is missing is 404; the experiment keeps its name and place."""
    experiment_id = create(emu, f"{HOME}/churn")
    body = {"experiment_id": experiment_id, "new_name": f"{HOME}/nope/churn"}
    assert_error(emu.post(f"{M}/update", json=body), 404, "RESOURCE_DOES_NOT_EXIST", "does not exist")
    got = ok(emu.get(f"{M}/get", params={"experiment_id": experiment_id}))["experiment"]
    assert got["name"] == f"{HOME}/churn"
    assert ok(status(emu, f"{HOME}/churn"))["object_type"] == "MLFLOW_EXPERIMENT"


def test_deleting_takes_it_out_of_the_tree_and_restore_puts_it_back(emu: Emu):
    """experiments/delete removes the object; experiments/restore brings it back with the same id."""
    experiment_id = create(emu, f"{HOME}/churn")
    ok(emu.post(f"{M}/delete", json={"experiment_id": experiment_id}))
    assert_error(status(emu, f"{HOME}/churn"), 404, "RESOURCE_DOES_NOT_EXIST", "doesn't exist")
    ok(emu.post(f"{M}/restore", json={"experiment_id": experiment_id}))
    assert ok(status(emu, f"{HOME}/churn"))["object_id"] == int(experiment_id)


def test_restore_onto_a_taken_path_is_refused(emu: Emu):
    """A deleted experiment whose path now holds a notebook cannot be restored; it stays deleted."""
    experiment_id = create(emu, f"{HOME}/churn")
    ok(emu.post(f"{M}/delete", json={"experiment_id": experiment_id}))
    upload(emu, f"{HOME}/churn", notebook("x = 1"))
    response = emu.post(f"{M}/restore", json={"experiment_id": experiment_id})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "another workspace object is there")
    assert stage(emu, experiment_id) == "deleted"


def test_workspace_delete_of_the_object_deletes_the_experiment(emu: Emu):
    """workspace/delete of an MLFLOW_EXPERIMENT deletes the experiment (restorable)."""
    experiment_id = create(emu, f"{HOME}/churn")
    ok(emu.post(f"{W}/delete", json={"path": f"{HOME}/churn"}))
    assert stage(emu, experiment_id) == "deleted"
    ok(emu.post(f"{M}/restore", json={"experiment_id": experiment_id}))
    assert ok(status(emu, f"{HOME}/churn"))["object_type"] == "MLFLOW_EXPERIMENT"


def test_a_recursive_folder_delete_deletes_the_experiments_under_it(emu: Emu):
    """A folder holding an experiment is DIRECTORY_NOT_EMPTY; recursively it deletes the experiment."""
    ok(emu.post(f"{W}/mkdirs", json={"path": f"{HOME}/team/sub"}))
    experiment_id = create(emu, f"{HOME}/team/sub/churn")
    response = emu.post(f"{W}/delete", json={"path": f"{HOME}/team"})
    assert_error(response, 400, "DIRECTORY_NOT_EMPTY", "is not empty")
    assert stage(emu, experiment_id) == "active"
    ok(emu.post(f"{W}/delete", json={"path": f"{HOME}/team", "recursive": True}))
    assert stage(emu, experiment_id) == "deleted"


def test_exporting_an_experiment_is_refused(emu: Emu):
    """workspace/export of an experiment is 403 PERMISSION_DENIED; a folder's zip leaves it out."""
    ok(emu.post(f"{W}/mkdirs", json={"path": f"{HOME}/team"}))
    create(emu, f"{HOME}/team/churn")
    upload(emu, f"{HOME}/team/nb", notebook("x = 1"))
    response = emu.get(f"{W}/export", params={"path": f"{HOME}/team/churn", "format": "SOURCE"})
    assert_error(response, 403, "PERMISSION_DENIED", "not exportable")
    folder = ok(emu.get(f"{W}/export", params={"path": f"{HOME}/team", "format": "SOURCE"}))
    names = zipfile.ZipFile(io.BytesIO(base64.b64decode(folder["content"]))).namelist()
    assert names == ["nb.py"]


def test_creating_needs_edit_rights_on_the_folder(emu: Emu):
    """A user may not create an experiment in another user's home (403) but may in /Shared and her own."""
    response = emu.post(f"{M}/create", json={"name": f"{HOME}/churn"}, token=ALICE_TOKEN)
    assert_error(response, 403, "PERMISSION_DENIED", ALICE)
    assert ok(emu.post(f"{M}/search", json={})) == {}
    create(emu, "/Shared/churn", token=ALICE_TOKEN)
    create(emu, f"/Users/{ALICE}/churn", token=ALICE_TOKEN)
    assert ok(status(emu, f"/Users/{ALICE}/churn", token=ALICE_TOKEN))["object_type"] == "MLFLOW_EXPERIMENT"


def test_a_notebooks_experiment_comes_with_its_first_run(emu: Emu):
    """runs/create in a notebook's object id makes the notebook's experiment; a folder's id is 404."""
    upload(emu, f"{HOME}/nb", notebook("x = 1"))
    notebook_id = str(ok(status(emu, f"{HOME}/nb"))["object_id"])
    ok(emu.post("/api/2.0/mlflow/runs/create", json={"experiment_id": notebook_id}))
    got = ok(emu.get(f"{M}/get", params={"experiment_id": notebook_id}))["experiment"]
    assert got["name"] == f"{HOME}/nb" and got["lifecycle_stage"] == "active"
    assert ok(status(emu, f"{HOME}/nb"))["object_type"] == "NOTEBOOK"
    folder_id = str(ok(status(emu, HOME))["object_id"])
    response = emu.post("/api/2.0/mlflow/runs/create", json={"experiment_id": folder_id})
    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", f"No Experiment with id={folder_id}")
