"""Jobs API: job CRUD and settings rules, list and get paging, both API versions, the 400 quirks."""

from __future__ import annotations

import pytest

from tests.emulator.harness import Emu
from tests.emulator.jobs_harness import HOME, JOBS, JOBS_21, create_job, nb_task

NB = f"{HOME}/nb"


def _create_error(emu: Emu, **settings: object) -> tuple[int, str, str]:
    response = emu.post(f"{JOBS}/create", json={"name": "j", **settings})
    body = response.json()
    return response.status_code, body.get("error_code", ""), body.get("message", "")


def test_create_then_get_returns_the_settings(emu: Emu):
    """create returns a job_id; get returns the settings with defaults and the creator."""
    job_id = create_job(emu, nb_task("a", NB, params={"x": "1"}), tags={"team": "data"})
    job = emu.get(f"{JOBS}/get", params={"job_id": job_id}).json()
    assert job["job_id"] == job_id
    assert job["creator_user_name"] == "admin@example.com"
    assert job["settings"]["max_concurrent_runs"] == 1
    assert job["settings"]["tasks"][0]["notebook_task"]["base_parameters"] == {"x": "1"}
    assert job["settings"]["tags"] == {"team": "data"}


@pytest.mark.parametrize("prefix", [JOBS, JOBS_21])
def test_missing_job_is_400_does_not_exist(emu: Emu, prefix: str):
    """get of an unknown job is HTTP 400 INVALID_PARAMETER_VALUE 'Job N does not exist' on 2.1 and 2.2."""
    response = emu.get(f"{prefix}/get", params={"job_id": 999})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "Job 999 does not exist" in response.json()["message"]


@pytest.mark.parametrize(
    ("tasks", "fragment"),
    [
        ([nb_task("a", NB), nb_task("a", NB)], "Task keys must be unique"),
        ([nb_task("a", NB, depends_on=[{"task_key": "zz"}])], "depends on zz"),
        (
            [
                nb_task("a", NB, depends_on=[{"task_key": "b"}]),
                nb_task("b", NB, depends_on=[{"task_key": "a"}]),
            ],
            "cycle",
        ),
        ([nb_task("a", NB, existing_cluster_id="c1", environment_key="e")], "only one of"),
        ([nb_task("a", NB, job_cluster_key="nope")], "job cluster 'nope'"),
        (
            [{"task_key": "a", "spark_jar_task": {"main_class_name": "Main"}, "dbt_task": {}}],
            "more than one task type: spark_jar_task, dbt_task",
        ),
        ([{"task_key": "a", "condition_task": {"op": "EQUAL_TO"}}], "condition_task needs op, left"),
        ([{"task_key": "a", "run_job_task": {"job_id": "x"}}], "run_job_task.job_id is required"),
        ([{"task_key": "a", "sql_task": {"file": {"path": "/q.sql"}}}], "sql_task.warehouse_id is required"),
        ([{"task_key": "a", "sql_task": {"warehouse_id": "w"}}], "exactly one of file, query"),
        (
            [{"task_key": "a", "sql_task": {"warehouse_id": "w", "file": {"path": "/q", "source": "GIT"}}}],
            "source GIT is not supported",
        ),
        ([{"task_key": "a"}], "must specify one of"),
        ([nb_task("a", NB, run_if="SOMETIMES")], "run_if must be one of"),
        ([{"task_key": "a", "notebook_task": {}}], "notebook_path is required"),
    ],
)
def test_create_refuses_bad_tasks(emu: Emu, tasks: list[dict[str, object]], fragment: str):
    """Bad task graphs and malformed task bodies are 400 INVALID_PARAMETER_VALUE at create."""
    status, code, message = _create_error(emu, tasks=tasks)
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")
    assert fragment in message


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"name": "n" * 4097}, "4096 bytes"),
        ({"max_concurrent_runs": 1001}, "max_concurrent_runs"),
        ({"tags": {str(i): "v" for i in range(26)}}, "at most 25"),
        ({"parameters": [{"name": "p"}]}, "parameters must be"),
    ],
)
def test_create_refuses_bad_settings(emu: Emu, settings: dict[str, object], fragment: str):
    """Limits on name, concurrency, tags and parameters are enforced at create."""
    status, code, message = _create_error(emu, **settings)
    assert (status, code) == (400, "INVALID_PARAMETER_VALUE")
    assert fragment in message


def test_update_merges_tasks_by_key_and_removes_fields(emu: Emu):
    """update replaces top-level fields, merges tasks by task_key and applies fields_to_remove."""
    job_id = create_job(emu, nb_task("a", NB), nb_task("b", NB), tags={"x": "1"})
    body = {
        "job_id": job_id,
        "new_settings": {"name": "renamed", "tasks": [nb_task("b", f"{NB}2"), nb_task("c", NB)]},
        "fields_to_remove": ["tags", "tasks/a"],
    }
    assert emu.post(f"{JOBS}/update", json=body).status_code == 200
    settings = emu.get(f"{JOBS}/get", params={"job_id": job_id}).json()["settings"]
    assert settings["name"] == "renamed"
    assert "tags" not in settings
    assert [(t["task_key"], t["notebook_task"]["notebook_path"]) for t in settings["tasks"]] == [
        ("b", f"{NB}2"),
        ("c", NB),
    ]


def test_reset_replaces_all_settings(emu: Emu):
    """reset replaces every setting (fields not given are gone)."""
    job_id = create_job(emu, nb_task("a", NB), tags={"x": "1"})
    body = {"job_id": job_id, "new_settings": {"name": "new", "tasks": [nb_task("z", NB)]}}
    assert emu.post(f"{JOBS}/reset", json=body).status_code == 200
    settings = emu.get(f"{JOBS}/get", params={"job_id": job_id}).json()["settings"]
    assert (settings["name"], "tags" in settings, settings["tasks"][0]["task_key"]) == ("new", False, "z")


def test_delete_then_get_is_does_not_exist(emu: Emu):
    """A deleted job is gone: get answers the 400 'does not exist'."""
    job_id = create_job(emu, nb_task("a", NB))
    assert emu.post(f"{JOBS}/delete", json={"job_id": job_id}).status_code == 200
    assert emu.get(f"{JOBS}/get", params={"job_id": job_id}).status_code == 400


def test_get_pages_tasks_at_100_on_2_2_only(emu: Emu):
    """2.2 get returns 100 tasks and a next_page_token for the rest; 2.1 returns all 150."""
    job_id = create_job(emu, *[nb_task(f"t{i}", NB) for i in range(150)])
    first = emu.get(f"{JOBS}/get", params={"job_id": job_id}).json()
    assert len(first["settings"]["tasks"]) == 100
    second = emu.get(f"{JOBS}/get", params={"job_id": job_id, "page_token": first["next_page_token"]}).json()
    assert [t["task_key"] for t in second["settings"]["tasks"]] == [f"t{i}" for i in range(100, 150)]
    assert "next_page_token" not in second
    assert len(emu.get(f"{JOBS_21}/get", params={"job_id": job_id}).json()["settings"]["tasks"]) == 150


def test_list_leaves_out_jobs_key_when_empty(emu: Emu):
    """list with no jobs answers without a 'jobs' key."""
    body = emu.get(f"{JOBS}/list").json()
    assert "jobs" not in body
    assert body["has_more"] is False


def test_list_pages_newest_first_with_tokens(emu: Emu):
    """list returns newest first, limit per page, and a next_page_token while more remain."""
    ids = [create_job(emu, nb_task("a", NB), name=f"job{i}") for i in range(3)]
    first = emu.get(f"{JOBS}/list", params={"limit": 2}).json()
    assert [j["job_id"] for j in first["jobs"]] == [ids[2], ids[1]]
    assert first["has_more"] is True
    second = emu.get(f"{JOBS}/list", params={"limit": 2, "page_token": first["next_page_token"]}).json()
    assert [j["job_id"] for j in second["jobs"]] == [ids[0]]
    assert second["has_more"] is False
    assert "tasks" not in first["jobs"][0]["settings"]


def test_list_filters_by_exact_name_case_insensitively(emu: Emu):
    """name= matches the whole name, ignoring case."""
    create_job(emu, nb_task("a", NB), name="Nightly")
    create_job(emu, nb_task("a", NB), name="Nightly ETL")
    jobs = emu.get(f"{JOBS}/list", params={"name": "nightly", "expand_tasks": "true"}).json()["jobs"]
    assert [j["settings"]["name"] for j in jobs] == ["Nightly"]
    assert jobs[0]["settings"]["tasks"][0]["task_key"] == "a"


def test_list_limit_over_100_is_refused(emu: Emu):
    """list limit above 100 is 400 INVALID_PARAMETER_VALUE."""
    response = emu.get(f"{JOBS}/list", params={"limit": 101})
    assert (response.status_code, response.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert "limit" in response.json()["message"]


def test_job_cluster_key_and_environment_are_accepted(emu: Emu):
    """Tasks may use a defined job cluster, an environment, or no compute (serverless)."""
    cluster = {"spark_version": "15.4.x-scala2.12", "node_type_id": "i3.xlarge", "num_workers": 1}
    job_id = create_job(
        emu,
        nb_task("a", NB, job_cluster_key="shared"),
        nb_task("b", NB, environment_key="default"),
        nb_task("c", NB),
        job_clusters=[{"job_cluster_key": "shared", "new_cluster": cluster}],
    )
    assert job_id > 0
