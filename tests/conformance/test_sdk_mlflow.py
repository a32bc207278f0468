"""The official databricks-sdk's ExperimentsAPI (MLflow tracking) against the emulator, unchanged."""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from databricks.sdk.service.ml import Metric, Param, RunTag, ViewType

from tests.emulator.harness import ADMIN, ADMIN_TOKEN, Emu

HOME = f"/Users/{ADMIN}"


@pytest.fixture
def w(sdk_env: Emu) -> WorkspaceClient:
    return WorkspaceClient(host=sdk_env.url, token=ADMIN_TOKEN)


def test_create_experiment_and_get_by_name(w: WorkspaceClient):
    """create_experiment answers an id that get_by_name and get_experiment agree on."""
    experiment_id = w.experiments.create_experiment(f"{HOME}/churn").experiment_id
    by_name = w.experiments.get_by_name(f"{HOME}/churn").experiment
    assert by_name is not None and by_name.experiment_id == experiment_id
    assert by_name.lifecycle_stage == "active"
    got = w.experiments.get_experiment(experiment_id).experiment
    assert got is not None and got.name == f"{HOME}/churn"


def test_duplicate_experiment_is_resource_already_exists(w: WorkspaceClient):
    """A second experiment with the same name raises ResourceAlreadyExists."""
    w.experiments.create_experiment(f"{HOME}/churn")
    with pytest.raises(ResourceAlreadyExists, match="already exists"):
        w.experiments.create_experiment(f"{HOME}/churn")


def test_relative_experiment_name_is_invalid(w: WorkspaceClient):
    """A name that is not an absolute workspace path raises InvalidParameterValue."""
    with pytest.raises(InvalidParameterValue, match="invalid experiment name"):
        w.experiments.create_experiment("churn")


def test_missing_experiment_is_resource_does_not_exist(w: WorkspaceClient):
    """get_by_name of an unknown name raises ResourceDoesNotExist."""
    with pytest.raises(ResourceDoesNotExist, match="Could not find experiment"):
        w.experiments.get_by_name(f"{HOME}/nope")


def test_search_experiments_filters_and_pages(w: WorkspaceClient):
    """search_experiments applies the filter and follows next_page_token across pages."""
    for name in ("churn-a", "churn-b", "churn-c", "other"):
        w.experiments.create_experiment(f"{HOME}/{name}")
    found = w.experiments.search_experiments(
        filter=f"name LIKE '{HOME}/churn%'", max_results=2, order_by=["name ASC"]
    )
    assert [e.name for e in found] == [f"{HOME}/churn-a", f"{HOME}/churn-b", f"{HOME}/churn-c"]


def test_deleted_experiment_is_hidden_until_restored(w: WorkspaceClient):
    """delete_experiment hides it from the default search; restore_experiment brings it back."""
    experiment_id = w.experiments.create_experiment(f"{HOME}/churn").experiment_id
    w.experiments.delete_experiment(experiment_id)
    assert list(w.experiments.search_experiments()) == []
    assert [e.experiment_id for e in w.experiments.search_experiments(view_type=ViewType.DELETED_ONLY)] == [
        experiment_id
    ]
    w.experiments.restore_experiment(experiment_id)
    assert [e.experiment_id for e in w.experiments.list_experiments()] == [experiment_id]


def test_runs_log_and_search_with_filter(w: WorkspaceClient):
    """create_run, log_metric and log_batch feed search_runs with a metric and param filter."""
    experiment_id = w.experiments.create_experiment(f"{HOME}/churn").experiment_id
    run_ids = []
    for index, lr in enumerate(("0.1", "0.01", "0.001")):
        run = w.experiments.create_run(experiment_id=experiment_id, run_name=f"lr-{lr}").run
        assert run is not None and run.info is not None and run.info.run_id
        run_ids.append(run.info.run_id)
        w.experiments.log_metric("rmse", 1.0 - index * 0.3, 1_000 + index, run_id=run.info.run_id, step=0)
        w.experiments.log_batch(
            run_id=run.info.run_id,
            metrics=[Metric(key="rmse", value=0.9 - index * 0.3, timestamp=2_000, step=1)],
            params=[Param(key="lr", value=lr)],
            tags=[RunTag(key="team", value="growth")],
        )
    found = list(
        w.experiments.search_runs(
            experiment_ids=[experiment_id],
            filter="metrics.rmse < 0.95 and params.lr != '0.1' and tags.team = 'growth'",
            order_by=["metrics.rmse DESC"],
            max_results=1,
        )
    )
    assert [r.info.run_id for r in found if r.info] == [run_ids[1], run_ids[2]]
    data = found[0].data
    assert data is not None and [(m.key, m.value, m.step) for m in data.metrics or []] == [
        ("rmse", pytest.approx(0.6), 1)
    ]
    history = list(w.experiments.get_history("rmse", run_id=run_ids[0]))
    assert [(m.value, m.step) for m in history] == [(1.0, 0), (0.9, 1)]


def test_changing_a_param_is_invalid(w: WorkspaceClient):
    """Logging a different value for a logged param raises InvalidParameterValue."""
    experiment_id = w.experiments.create_experiment(f"{HOME}/churn").experiment_id
    run = w.experiments.create_run(experiment_id=experiment_id).run
    assert run is not None and run.info is not None
    w.experiments.log_param("lr", "0.1", run_id=run.info.run_id)
    with pytest.raises(InvalidParameterValue, match="Changing param values is not allowed"):
        w.experiments.log_param("lr", "0.2", run_id=run.info.run_id)


def test_an_experiment_is_visible_in_the_workspace_tree(w: WorkspaceClient):
    """workspace.get_status and workspace.list show the experiment as an MLFLOW_EXPERIMENT object."""
    w.workspace.mkdirs(f"{HOME}/team")
    experiment_id = w.experiments.create_experiment(f"{HOME}/team/churn").experiment_id
    info = w.workspace.get_status(f"{HOME}/team/churn")
    assert info.object_id == int(experiment_id) and info.path == f"{HOME}/team/churn"
    # The SDK's ObjectType enum has no MLFLOW_EXPERIMENT (databricks/cli#4101 says the same of Go's):
    # it reads the unknown value as None, so the raw answer is checked through the SDK's own client.
    assert info.object_type is None
    raw = w.api_client.do("GET", "/api/2.0/workspace/get-status", query={"path": f"{HOME}/team/churn"})
    assert isinstance(raw, dict) and raw["object_type"] == "MLFLOW_EXPERIMENT"
    assert [(o.path, o.object_id) for o in w.workspace.list(f"{HOME}/team")] == [
        (f"{HOME}/team/churn", int(experiment_id))
    ]


def test_deleting_the_workspace_object_deletes_the_experiment(w: WorkspaceClient):
    """workspace.delete of the experiment's path leaves it deleted (restore_experiment brings it back)."""
    experiment_id = w.experiments.create_experiment(f"{HOME}/churn").experiment_id
    w.workspace.delete(f"{HOME}/churn")
    got = w.experiments.get_experiment(experiment_id).experiment
    assert got is not None and got.lifecycle_stage == "deleted"
    w.experiments.restore_experiment(experiment_id)
    assert w.workspace.get_status(f"{HOME}/churn").object_id == int(experiment_id)
