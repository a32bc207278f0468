"""MLflow tasks from the command line against the emulator: experiments and streamed run search."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.conftest import ADMIN_TOKEN, Emulator, run_cli

ADMIN = "admin@example.com"
HOME = f"/Users/{ADMIN}"
MLFLOW = "/api/2.0/mlflow"


def ok_json(*args: str) -> Any:
    result = run_cli(*args, "-o", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def api(emulator: Emulator, endpoint: str, body: dict[str, Any]) -> Any:
    response = httpx.post(
        f"{emulator.url}{MLFLOW}/{endpoint}", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def make_runs(emulator: Emulator, experiment_id: str, count: int) -> list[str]:
    """Create ``count`` runs, each with a metric ``rmse`` equal to its index."""
    run_ids = []
    for index in range(count):
        run = api(emulator, "runs/create", {"experiment_id": experiment_id, "run_name": f"r{index}"})["run"]
        metric = {"key": "rmse", "value": index, "timestamp": 1}
        api(emulator, "runs/log-batch", {"run_id": run["info"]["run_id"], "metrics": [metric]})
        run_ids.append(run["info"]["run_id"])
    return run_ids


def test_create_get_and_delete_an_experiment(workspace_env: Emulator):
    """create-experiment prints the new id; get-experiment finds it by name; delete-experiment hides it."""
    created = ok_json("mlflow.create-experiment", f"{HOME}/churn")
    assert created["created"] == f"{HOME}/churn"
    got = ok_json("mlflow.get-experiment", "--name", f"{HOME}/churn")
    assert got["experiment_id"] == created["experiment_id"]
    deleted = ok_json("mlflow.delete-experiment", "--id", created["experiment_id"])
    assert deleted == {"deleted": f"{HOME}/churn", "experiment_id": created["experiment_id"]}
    assert ok_json("mlflow.experiments") == []


def test_experiments_filter(workspace_env: Emulator):
    """mlflow.experiments --filter goes through experiments/search and keeps the matching ones."""
    for name in ("churn", "fraud"):
        ok_json("mlflow.create-experiment", f"{HOME}/{name}")
    found = ok_json("mlflow.experiments", "--filter", "name LIKE '%churn'")
    assert [e["name"] for e in found] == [f"{HOME}/churn"]
    assert workspace_env.requests(f"{MLFLOW}/experiments/list") == []


def test_relative_experiment_name_exits_2_before_any_request(workspace_env: Emulator):
    """A name that is not an absolute workspace path is exit 2 with nothing sent."""
    result = run_cli("mlflow.create-experiment", "churn")
    assert result.exit_code == 2 and "absolute workspace path" in result.stderr
    assert workspace_env.requests(MLFLOW) == []


def test_get_experiment_needs_exactly_one_of_id_and_name(workspace_env: Emulator):
    """get-experiment with both --id and --name is exit 2, nothing sent."""
    result = run_cli("mlflow.get-experiment", "--id", "1", "--name", f"{HOME}/x")
    assert result.exit_code == 2 and "--id" in result.stderr
    assert workspace_env.requests(MLFLOW) == []


def test_missing_experiment_is_not_found(workspace_env: Emulator):
    """An unknown experiment exits 4 (not found) with the service's message."""
    result = run_cli("mlflow.get-experiment", "--id", "424242")
    assert result.exit_code == 4 and "No Experiment with id=424242" in result.stderr


def test_search_runs_follows_every_page(workspace_env: Emulator):
    """search-runs prints every page, in the requested order, as one JSON array."""
    experiment_id = ok_json("mlflow.create-experiment", f"{HOME}/churn")["experiment_id"]
    run_ids = make_runs(workspace_env, experiment_id, 3)
    found = ok_json(
        "mlflow.search-runs",
        "--experiment-name",
        f"{HOME}/churn",
        "--filter",
        "metrics.rmse >= 1",
        "--order-by",
        "metrics.rmse DESC",
    )
    assert [r["info"]["run_id"] for r in found] == [run_ids[2], run_ids[1]]


def test_search_runs_max_results_pages_and_stops(workspace_env: Emulator):
    """--max-results bounds both the page size asked for and the runs printed."""
    experiment_id = ok_json("mlflow.create-experiment", f"{HOME}/churn")["experiment_id"]
    make_runs(workspace_env, experiment_id, 3)
    found = ok_json("mlflow.search-runs", "--experiment-id", experiment_id, "--max-results", "2")
    assert len(found) == 2
    assert len(workspace_env.requests(f"{MLFLOW}/runs/search")) == 1


def test_search_runs_text_is_a_table(workspace_env: Emulator):
    """-o text prints a table of run ids, names and statuses."""
    experiment_id = ok_json("mlflow.create-experiment", f"{HOME}/churn")["experiment_id"]
    make_runs(workspace_env, experiment_id, 1)
    result = run_cli("mlflow.search-runs", "--experiment-id", experiment_id)
    assert result.exit_code == 0, result.stderr
    assert "RUN_NAME" in result.stdout and "r0" in result.stdout and "RUNNING" in result.stdout


def test_search_runs_bad_input_exits_2_before_any_request(workspace_env: Emulator):
    """A non-numeric --max-results or experiment id is exit 2 with nothing sent."""
    for args in (
        ("--experiment-id", "1", "--max-results", "many"),
        ("--experiment-id", "abc"),
        ("--experiment-id", "1", "--filter", "x\x00"),
    ):
        result = run_cli("mlflow.search-runs", *args)
        assert result.exit_code == 2, (args, result.stderr)
    assert workspace_env.requests(MLFLOW) == []
