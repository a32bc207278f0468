"""MLflow tracking in the emulator over real HTTP: experiments, runs, search grammar, MLflow's errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.emulator.harness import ADMIN, ALICE_TOKEN, Emu

M = "/api/2.0/mlflow"
HOME = f"/Users/{ADMIN}"


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: httpx.Response, status: int, code: str, fragment: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error_code"] == code
    assert fragment in response.json()["message"]


def experiment(emu: Emu, name: str) -> str:
    return str(ok(emu.post(f"{M}/experiments/create", json={"name": f"{HOME}/{name}"}))["experiment_id"])


def run(emu: Emu, experiment_id: str, **extra: Any) -> str:
    answer = ok(emu.post(f"{M}/runs/create", json={"experiment_id": experiment_id, **extra}))
    return str(answer["run"]["info"]["run_id"])


def search_runs(emu: Emu, **body: Any) -> dict[str, Any]:
    result: dict[str, Any] = ok(emu.post(f"{M}/runs/search", json=body))
    return result


def test_create_needs_an_existing_parent_folder(emu: Emu):
    """An experiment whose parent folder is missing is 404 RESOURCE_DOES_NOT_EXIST."""
    response = emu.post(f"{M}/experiments/create", json={"name": "/Users/nobody@example.com/exp"})
    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "Parent directory")


def test_duplicate_name_is_400_resource_already_exists(emu: Emu):
    """MLflow's table sends RESOURCE_ALREADY_EXISTS as 400."""
    experiment(emu, "exp")
    response = emu.post(f"{M}/experiments/create", json={"name": f"{HOME}/exp"})
    assert_error(response, 400, "RESOURCE_ALREADY_EXISTS", "already exists")


def test_get_missing_experiment_is_404(emu: Emu):
    """An unknown experiment id is 404 RESOURCE_DOES_NOT_EXIST."""
    response = emu.get(f"{M}/experiments/get", params={"experiment_id": "999"})
    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "No Experiment with id=999")


def test_deprecated_list_pages_like_search(emu: Emu):
    """GET experiments/list answers experiments and next_page_token, last page without a token."""
    for name in ("a", "b", "c"):
        experiment(emu, name)
    first = ok(emu.get(f"{M}/experiments/list", params={"max_results": "2"}))
    assert len(first["experiments"]) == 2 and first["next_page_token"]
    second = ok(emu.get(f"{M}/experiments/list", params={"page_token": first["next_page_token"]}))
    assert len(second["experiments"]) == 1 and "next_page_token" not in second


def test_update_renames_and_search_orders_by_name(emu: Emu):
    """experiments/update renames; a name order_by sorts descending when asked."""
    first = experiment(emu, "a")
    experiment(emu, "b")
    ok(emu.post(f"{M}/experiments/update", json={"experiment_id": first, "new_name": f"{HOME}/z"}))
    found = ok(emu.post(f"{M}/experiments/search", json={"order_by": ["name DESC"]}))
    assert [e["name"] for e in found["experiments"]] == [f"{HOME}/z", f"{HOME}/b"]


def test_search_experiments_by_tag(emu: Emu):
    """A tags.<key> clause matches set-experiment-tag values."""
    tagged = experiment(emu, "a")
    experiment(emu, "b")
    ok(
        emu.post(
            f"{M}/experiments/set-experiment-tag",
            json={"experiment_id": tagged, "key": "team", "value": "ml"},
        )
    )
    found = ok(emu.post(f"{M}/experiments/search", json={"filter": "tags.team = 'ml'"}))
    assert [e["experiment_id"] for e in found["experiments"]] == [tagged]


@pytest.mark.parametrize(
    "bad_filter",
    ["metrics.rmse < 'x'", "params.lr = 1", "name", "metrics.rmse ~ 1", "a = 'x' or b = 'y'", "x = 'y' AND"],
)
def test_bad_filter_is_invalid_parameter_value(emu: Emu, bad_filter: str):
    """A filter outside MLflow's grammar is 400 INVALID_PARAMETER_VALUE."""
    experiment_id = experiment(emu, "exp")
    response = emu.post(f"{M}/runs/search", json={"experiment_ids": [experiment_id], "filter": bad_filter})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "filter")


def test_search_runs_by_attribute_in_and_like(emu: Emu):
    """Attribute clauses (run_name LIKE, status IN) filter runs."""
    experiment_id = experiment(emu, "exp")
    kept = run(emu, experiment_id, run_name="train-1")
    done = run(emu, experiment_id, run_name="train-2")
    run(emu, experiment_id, run_name="eval")
    ok(emu.post(f"{M}/runs/update", json={"run_id": done, "status": "FINISHED", "end_time": 5}))
    found = search_runs(
        emu,
        experiment_ids=[experiment_id],
        filter="attributes.run_name LIKE 'train%' AND status IN ('RUNNING')",
    )
    assert [r["info"]["run_id"] for r in found["runs"]] == [kept]


def test_runs_get_shows_latest_metric_and_history_keeps_all(emu: Emu):
    """runs/get shows the latest value of a metric; metrics/get-history pages every entry."""
    run_id = run(emu, experiment(emu, "exp"))
    for step, value in enumerate((3.0, 2.0, 1.0)):
        metric = {"run_id": run_id, "key": "loss", "value": value, "timestamp": 10 + step, "step": step}
        ok(emu.post(f"{M}/runs/log-metric", json=metric))
    got = ok(emu.get(f"{M}/runs/get", params={"run_id": run_id}))["run"]
    assert got["data"]["metrics"] == [{"key": "loss", "value": 1.0, "timestamp": 12, "step": 2}]
    page = ok(
        emu.get(f"{M}/metrics/get-history", params={"run_id": run_id, "metric_key": "loss", "max_results": 2})
    )
    assert [m["value"] for m in page["metrics"]] == [3.0, 2.0] and page["next_page_token"]


def test_deleted_run_refuses_logging_until_restored(emu: Emu):
    """A deleted run refuses metrics (INVALID_PARAMETER_VALUE) and accepts them once restored."""
    run_id = run(emu, experiment(emu, "exp"))
    ok(emu.post(f"{M}/runs/delete", json={"run_id": run_id}))
    tag = {"run_id": run_id, "key": "k", "value": "v"}
    assert_error(emu.post(f"{M}/runs/set-tag", json=tag), 400, "INVALID_PARAMETER_VALUE", "'active' state")
    ok(emu.post(f"{M}/runs/restore", json={"run_id": run_id}))
    ok(emu.post(f"{M}/runs/set-tag", json=tag))
    ok(emu.post(f"{M}/runs/delete-tag", json={"run_id": run_id, "key": "k"}))
    response = emu.post(f"{M}/runs/delete-tag", json={"run_id": run_id, "key": "k"})
    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "No tag with name: k")


def test_log_batch_over_the_param_limit_writes_nothing(emu: Emu):
    """A batch with more than 100 params is refused and logs none of its metrics."""
    run_id = run(emu, experiment(emu, "exp"))
    batch = {
        "run_id": run_id,
        "metrics": [{"key": "m", "value": 1, "timestamp": 1}],
        "params": [{"key": f"p{i}", "value": "v"} for i in range(101)],
    }
    assert_error(emu.post(f"{M}/runs/log-batch", json=batch), 400, "INVALID_PARAMETER_VALUE", "at most")
    assert "metrics" not in ok(emu.get(f"{M}/runs/get", params={"run_id": run_id}))["run"]["data"]


def test_run_records_its_creator(emu: Emu):
    """runs/create by a user records that user as user_id and mlflow.user."""
    experiment_id = experiment(emu, "exp")
    grant = {"access_control_list": [{"user_name": "alice@example.com", "permission_level": "CAN_EDIT"}]}
    ok(emu.request("PATCH", f"/api/2.0/permissions/experiments/{experiment_id}", json=grant))
    answer = ok(emu.post(f"{M}/runs/create", json={"experiment_id": experiment_id}, token=ALICE_TOKEN))
    assert answer["run"]["info"]["user_id"] == "alice@example.com"


def test_unknown_page_token_is_invalid(emu: Emu):
    """A page token the emulator did not issue is 400 INVALID_PARAMETER_VALUE."""
    response = emu.post(f"{M}/experiments/search", json={"page_token": "bogus"})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "page token")


def test_numeric_experiment_id_in_a_body_is_read_as_a_string(emu: Emu):
    """runs/create accepts experiment_id as a JSON number, as MLflow's proto parsing does."""
    experiment_id = experiment(emu, "exp")
    answer = ok(emu.post(f"{M}/runs/create", json={"experiment_id": int(experiment_id)}))
    assert answer["run"]["info"]["experiment_id"] == experiment_id
