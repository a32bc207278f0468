"""Object permissions in the emulator: who may read and change workspace objects, repos, clusters, jobs, runs.

The rule (state/access.py): admins manage everything; a user's home folder is theirs alone; every user
manages what is under /Shared; a job's or cluster's creator manages it. Refusals are 403
PERMISSION_DENIED in the real message shape. The emulator here has the admin and two users.
"""

from __future__ import annotations

import base64
import io
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from brickbook.emulator.errors import ApiError
from brickbook.emulator.state import access
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.store import Store
from brickbook.emulator.state.workspace import WorkspaceState
from tests.emulator.harness import ADMIN, ALICE, ALICE_TOKEN, Emu, FakeClock, serving
from tests.emulator.jobs_harness import BLOCK, nb_task, notebook, upload, wait_run

BOB = "bob@example.com"
BOB_TOKEN = "emu-bob-token-7c6d5e4f"
WS = "/api/2.0/workspace"
CLUSTERS = "/api/2.1/clusters"
JOBS = "/api/2.2/jobs"
ADMIN_HOME = f"/Users/{ADMIN}"
SPEC = {
    "cluster_name": "etl",
    "spark_version": "15.4.x-scala2.12",
    "node_type_id": "i3.xlarge",
    "num_workers": 1,
}

ADMIN_P = Principal(ADMIN, is_admin=True)
ALICE_P = Principal(ALICE, is_admin=False)
BOB_P = Principal(BOB, is_admin=False)


@pytest.fixture(scope="module")
def two_users() -> Iterator[Emu]:
    with serving(users={ALICE: ALICE_TOKEN, BOB: BOB_TOKEN}, allow_remote_repos=True) as emu:
        yield emu


@pytest.fixture
def emu(two_users: Emu) -> Emu:
    """The module's emulator (admin, alice, bob), reset."""
    assert two_users.control("POST", "reset").status_code == 200
    return two_users


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def denied(response: httpx.Response, fragment: str) -> None:
    """The answer is the real 403 PERMISSION_DENIED whose message contains ``fragment``."""
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["error_code"] == "PERMISSION_DENIED"
    assert fragment in body["message"], body["message"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def by(token: str | None) -> dict[str, str]:
    """Request keyword arguments acting as ``token``'s principal (None: the admin)."""
    return {} if token is None else {"token": token}


def put(emu: Emu, path: str, token: str | None = None, data: bytes = b"x = 1\n") -> httpx.Response:
    body = {"path": path, "content": b64(data), "language": "PYTHON", "overwrite": True}
    return emu.post(f"{WS}/import", json=body, **by(token))


def status(emu: Emu, path: str, token: str | None = None) -> httpx.Response:
    return emu.get(f"{WS}/get-status", params={"path": path}, **by(token))


# -- the model ---------------------------------------------------------------------------------------------


def test_admin_holds_every_level_without_a_grant():
    """An admin may do anything to an object that grants nothing to anyone."""
    job = access.owned(access.JOB, 12, None, "IS_OWNER")
    assert access.may(ADMIN_P, job, "IS_OWNER")
    assert not access.may(ALICE_P, job, "CAN_VIEW")


def test_a_level_includes_the_weaker_ones():
    """The owner of a job may also view it and manage its runs."""
    job = access.owned(access.JOB, 12, ALICE, "IS_OWNER")
    assert all(access.may(ALICE_P, job, level) for level in access.JOB.levels)
    assert not access.may(BOB_P, job, "CAN_VIEW")


def test_a_grant_to_the_users_group_applies_to_every_user():
    """A grant to ``users`` is held by every non-admin principal."""
    resource = access.Resource(access.CLUSTER, "c-1", {"users": "CAN_RESTART"})
    assert access.may(BOB_P, resource, "CAN_ATTACH_TO")
    assert not access.may(BOB_P, resource, "CAN_MANAGE")


def test_refusal_names_the_levels_that_would_do():
    """A refusal is PERMISSION_DENIED naming, in order, Admin and each level strong enough."""
    with pytest.raises(ApiError) as caught:
        access.require(ALICE_P, access.owned(access.JOB, 12, ADMIN, "IS_OWNER"), "CAN_MANAGE")
    assert (caught.value.code, caught.value.status) == ("PERMISSION_DENIED", 403)
    assert caught.value.message == (
        f"User {ALICE} does not have Admin or Manage or Owner permissions on job 12."
    )


@pytest.mark.parametrize(
    ("path", "user", "level"),
    [
        (f"/Users/{ALICE}", ALICE, "CAN_MANAGE"),
        (f"/Users/{ALICE}/deep/nb", ALICE, "CAN_MANAGE"),
        (f"/Repos/{ALICE}/repo", ALICE, "CAN_MANAGE"),
        ("/Shared/x", "users", "CAN_MANAGE"),
        ("/Shared", "users", "CAN_EDIT"),
        ("/Projects/x", "users", "CAN_READ"),
        ("/Users", "users", "CAN_READ"),
    ],
)
def test_workspace_path_rule(path: str, user: str, level: str):
    """Homes are their user's, /Shared content everyone's, anything else readable by every user."""
    assert access.workspace_object(path).grants == {user: level}


def test_creators_outside_homes_manage_what_they_made():
    """Outside home folders the creators of an object and of the folders above it manage it."""
    assert access.workspace_object("/Projects/x", [BOB]).grants == {"users": "CAN_READ", BOB: "CAN_MANAGE"}
    assert access.workspace_object(f"/Users/{ALICE}/x", [BOB]).grants == {ALICE: "CAN_MANAGE"}


def test_an_object_a_user_creates_is_theirs():
    """The workspace records who created an object, and the rule makes its creator a manager."""
    state = WorkspaceState(Store(), FakeClock())
    state.mkdirs(ALICE_P, "/Shared/team")
    state.import_(ALICE_P, "/Shared/team/nb", b"1", format="SOURCE", language="SQL", overwrite=False)
    assert state.resource("/Shared/team/nb").grants[ALICE] == "CAN_MANAGE"


# -- workspace ------------------------------------------------------------------------------------------


def test_user_cannot_import_into_another_users_home(emu: Emu):
    """Alice importing into the admin's home is refused and nothing is created."""
    denied(
        put(emu, f"{ADMIN_HOME}/x", ALICE_TOKEN),
        f"User {ALICE} does not have Admin or Edit or Manage permissions on {ADMIN_HOME}/x.",
    )
    assert status(emu, f"{ADMIN_HOME}/x").status_code == 404


@pytest.mark.parametrize(
    ("method", "endpoint", "fields"),
    [
        ("GET", "get-status", {}),
        ("GET", "list", {}),
        ("GET", "export", {"format": "SOURCE"}),
        ("POST", "mkdirs", {}),
        ("POST", "delete", {"recursive": True}),
    ],
)
def test_another_users_home_is_hidden(emu: Emu, method: str, endpoint: str, fields: dict[str, Any]):
    """Every workspace call on the admin's home by Alice is 403, whether the object exists or not."""
    ok(put(emu, f"{ADMIN_HOME}/nb"))
    for path in (ADMIN_HOME, f"{ADMIN_HOME}/nb", f"{ADMIN_HOME}/missing"):
        if method == "GET":
            response = emu.get(f"{WS}/{endpoint}", params={"path": path, **fields}, token=ALICE_TOKEN)
        else:
            response = emu.post(f"{WS}/{endpoint}", json={"path": path, **fields}, token=ALICE_TOKEN)
        denied(response, f"User {ALICE} does not have")
    assert ok(status(emu, f"{ADMIN_HOME}/nb"))["object_type"] == "NOTEBOOK"


def test_users_work_in_their_own_home(emu: Emu):
    """Alice creates, reads and deletes in her own home."""
    home = f"/Users/{ALICE}"
    ok(emu.post(f"{WS}/mkdirs", json={"path": f"{home}/etl"}, token=ALICE_TOKEN))
    ok(put(emu, f"{home}/etl/nb", ALICE_TOKEN))
    assert ok(status(emu, f"{home}/etl/nb", ALICE_TOKEN))["object_type"] == "NOTEBOOK"
    ok(emu.post(f"{WS}/delete", json={"path": f"{home}/etl", "recursive": True}, token=ALICE_TOKEN))


def test_admin_reads_and_writes_a_users_home(emu: Emu):
    """The admin manages everything, other users' homes included."""
    ok(put(emu, f"/Users/{ALICE}/nb", ALICE_TOKEN))
    ok(put(emu, f"/Users/{ALICE}/nb"))
    ok(emu.post(f"{WS}/delete", json={"path": f"/Users/{ALICE}/nb"}))


def test_listing_users_shows_only_the_callers_home(emu: Emu):
    """Alice listing /Users sees her own home only; the admin sees every home."""
    mine = ok(emu.get(f"{WS}/list", params={"path": "/Users"}, token=ALICE_TOKEN))["objects"]
    assert [o["path"] for o in mine] == [f"/Users/{ALICE}"]
    every = ok(emu.get(f"{WS}/list", params={"path": "/Users"}))["objects"]
    assert {f"/Users/{ADMIN}", f"/Users/{ALICE}", f"/Users/{BOB}"} <= {o["path"] for o in every}


def test_folder_export_leaves_out_what_the_caller_may_not_read(emu: Emu):
    """Alice exporting /Users as a zip gets her own notebook and none of the admin's."""
    ok(put(emu, f"{ADMIN_HOME}/secret", data=b"admin = 1\n"))
    ok(put(emu, f"/Users/{ALICE}/mine", ALICE_TOKEN, data=b"alice = 1\n"))
    params = {"path": "/Users", "format": "SOURCE", "direct_download": "true"}
    response = emu.get(f"{WS}/export", params=params, token=ALICE_TOKEN)
    assert response.status_code == 200, response.text
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert names == [f"{ALICE}/mine.py"]


def test_shared_is_writable_by_every_user(emu: Emu):
    """Bob may change and delete what Alice put under /Shared."""
    ok(emu.post(f"{WS}/mkdirs", json={"path": "/Shared/team"}, token=ALICE_TOKEN))
    ok(put(emu, "/Shared/team/nb", ALICE_TOKEN))
    ok(put(emu, "/Shared/team/nb", BOB_TOKEN, data=b"y = 2\n"))
    ok(emu.post(f"{WS}/delete", json={"path": "/Shared/team", "recursive": True}, token=BOB_TOKEN))


def test_shared_itself_cannot_be_deleted_by_a_user(emu: Emu):
    """Every user may add to /Shared but only an admin may delete the folder itself."""
    response = emu.post(f"{WS}/delete", json={"path": "/Shared", "recursive": True}, token=ALICE_TOKEN)
    denied(response, "Admin or Manage permissions on /Shared.")
    assert ok(status(emu, "/Shared"))["object_type"] == "DIRECTORY"


def test_users_read_but_do_not_write_outside_homes_and_shared(emu: Emu):
    """Alice reads the admin's /Projects but may neither add to it nor create a folder at the root."""
    ok(emu.post(f"{WS}/mkdirs", json={"path": "/Projects"}))
    ok(put(emu, "/Projects/nb"))
    assert ok(status(emu, "/Projects/nb", ALICE_TOKEN))["object_type"] == "NOTEBOOK"
    denied(put(emu, "/Projects/mine", ALICE_TOKEN), "permissions on /Projects/mine.")
    denied(emu.post(f"{WS}/mkdirs", json={"path": "/Elsewhere"}, token=ALICE_TOKEN), "on /Elsewhere.")


# -- repos ----------------------------------------------------------------------------------------------


def test_user_cannot_create_a_repo_in_another_users_repos_folder(emu: Emu):
    """A repo at /Repos/<admin>/... created by Alice is refused before anything is cloned."""
    body = {"url": "https://example.com/etl.git", "provider": "gitHub", "path": f"/Repos/{ADMIN}/etl"}
    denied(emu.post("/api/2.0/repos", json=body, token=ALICE_TOKEN), f"on /Repos/{ADMIN}/etl.")
    assert status(emu, f"/Repos/{ADMIN}/etl").status_code == 404


def test_another_users_repo_is_neither_listed_nor_readable(emu: Emu):
    """Alice does not see the admin's repo in the list and may not get, update or delete it."""
    repo = ok(emu.post("/api/2.0/repos", json={"url": "https://example.com/etl.git", "provider": "gitHub"}))
    assert ok(emu.get("/api/2.0/repos", token=ALICE_TOKEN)) == {}
    url = f"/api/2.0/repos/{repo['id']}"
    where = f"/Repos/{ADMIN}/etl"
    denied(emu.get(url, token=ALICE_TOKEN), f"Admin or Edit or Manage or Read or Run permissions on {where}.")
    denied(emu.request("PATCH", url, json={"branch": "dev"}, token=ALICE_TOKEN), "Admin or Edit or Manage ")
    denied(emu.request("DELETE", url, token=ALICE_TOKEN), f"Admin or Manage permissions on {where}.")
    assert ok(emu.get(url))["path"] == where


# -- clusters -------------------------------------------------------------------------------------------


def cluster(emu: Emu, token: str | None = None) -> str:
    response = emu.post(f"{CLUSTERS}/create", json=SPEC, **by(token))
    return str(ok(response)["cluster_id"])


@pytest.mark.parametrize(
    ("action", "extra", "levels"),
    [
        ("delete", {}, "Admin or Manage or Restart"),
        ("start", {}, "Admin or Manage or Restart"),
        ("restart", {}, "Admin or Manage or Restart"),
        ("permanent-delete", {}, "Admin or Manage"),
        ("resize", {"num_workers": 3}, "Admin or Manage"),
        ("edit", SPEC, "Admin or Manage"),
        ("pin", {}, "Admin or Manage"),
        ("unpin", {}, "Admin or Manage"),
    ],
)
def test_user_cannot_act_on_another_users_cluster(emu: Emu, action: str, extra: dict[str, Any], levels: str):
    """Alice acting on the admin's cluster is refused and the cluster is left as it was."""
    cluster_id = cluster(emu)
    before = ok(emu.get(f"{CLUSTERS}/get", params={"cluster_id": cluster_id}))
    response = emu.post(f"{CLUSTERS}/{action}", json={**extra, "cluster_id": cluster_id}, token=ALICE_TOKEN)
    denied(response, f"User {ALICE} does not have {levels} permissions on cluster {cluster_id}.")
    after = ok(emu.get(f"{CLUSTERS}/get", params={"cluster_id": cluster_id}))
    assert (after["state"], after["num_workers"]) == (before["state"], before["num_workers"])


def test_creator_and_admin_manage_a_users_cluster(emu: Emu):
    """Alice resizes and terminates her own cluster; the admin may permanently delete it."""
    cluster_id = cluster(emu, ALICE_TOKEN)
    emu.clock.advance(5)
    ok(emu.post(f"{CLUSTERS}/resize", json={"cluster_id": cluster_id, "num_workers": 2}, token=ALICE_TOKEN))
    ok(emu.post(f"{CLUSTERS}/delete", json={"cluster_id": cluster_id}, token=ALICE_TOKEN))
    ok(emu.post(f"{CLUSTERS}/permanent-delete", json={"cluster_id": cluster_id}))


def test_clusters_stay_readable_by_every_user(emu: Emu):
    """Alice may get and list the admin's cluster (reads are not restricted)."""
    cluster_id = cluster(emu)
    assert ok(emu.get(f"{CLUSTERS}/get", params={"cluster_id": cluster_id}, token=ALICE_TOKEN))
    listed = ok(emu.get(f"{CLUSTERS}/list", token=ALICE_TOKEN))["clusters"]
    assert [c["cluster_id"] for c in listed] == [cluster_id]


# -- jobs and runs --------------------------------------------------------------------------------------


def job(emu: Emu, token: str | None = None, *tasks: dict[str, Any], **settings: Any) -> int:
    body = {"name": "etl", "tasks": list(tasks) or [nb_task("main", "/Shared/none")], **settings}
    response = emu.post(f"{JOBS}/create", json=body, **by(token))
    return int(ok(response)["job_id"])


@pytest.mark.parametrize(
    ("action", "extra"),
    [
        ("delete", {}),
        ("reset", {"new_settings": {"name": "mine"}}),
        ("update", {"new_settings": {"name": "x"}}),
    ],
)
def test_user_cannot_change_another_users_job(emu: Emu, action: str, extra: dict[str, Any]):
    """Alice deleting, resetting or updating the admin's job is refused; the job is unchanged."""
    job_id = job(emu)
    response = emu.post(f"{JOBS}/{action}", json={"job_id": job_id, **extra}, token=ALICE_TOKEN)
    denied(response, f"User {ALICE} does not have Admin or Manage or Owner permissions on job {job_id}.")
    assert ok(emu.get(f"{JOBS}/get", params={"job_id": job_id}))["settings"]["name"] == "etl"


def test_user_cannot_run_another_users_job(emu: Emu):
    """Alice triggering the admin's job is refused and no run starts."""
    job_id = job(emu)
    response = emu.post(f"{JOBS}/run-now", json={"job_id": job_id}, token=ALICE_TOKEN)
    denied(response, f"does not have Admin or Manage or Manage Run or Owner permissions on job {job_id}.")
    assert ok(emu.get(f"{JOBS}/runs/list")).get("runs") is None


def test_another_users_job_is_neither_listed_nor_readable(emu: Emu):
    """Without a grant Alice does not see the admin's job: get is 403 and list leaves it out."""
    job_id = job(emu)
    mine = job(emu, ALICE_TOKEN)
    denied(emu.get(f"{JOBS}/get", params={"job_id": job_id}, token=ALICE_TOKEN), "or View permissions")
    listed = ok(emu.get(f"{JOBS}/list", token=ALICE_TOKEN))["jobs"]
    assert [j["job_id"] for j in listed] == [mine]
    assert {j["job_id"] for j in ok(emu.get(f"{JOBS}/list"))["jobs"]} == {job_id, mine}


def test_creator_manages_their_job_and_admin_may_delete_it(emu: Emu):
    """Alice updates her own job; the admin deletes it."""
    job_id = job(emu, ALICE_TOKEN)
    ok(emu.post(f"{JOBS}/update", json={"job_id": job_id, "new_settings": {"name": "x"}}, token=ALICE_TOKEN))
    ok(emu.post(f"{JOBS}/delete", json={"job_id": job_id}))


def test_only_an_admin_may_create_a_job_that_runs_as_someone_else(emu: Emu):
    """A user setting run_as to another principal is refused; an admin may."""
    run_as = {"run_as": {"user_name": ADMIN}}
    denied(
        emu.post(f"{JOBS}/create", json={"name": "x", **run_as}, token=ALICE_TOKEN),
        "only workspace admins can set run_as",
    )
    job_id = job(emu, None, run_as={"user_name": ALICE})
    assert ok(emu.get(f"{JOBS}/get", params={"job_id": job_id}))["run_as_user_name"] == ALICE


def test_a_run_cannot_use_a_cluster_its_principal_may_not_attach_to(emu: Emu):
    """Alice's job on the admin's existing cluster is refused at run-now; no run starts."""
    cluster_id = cluster(emu)
    job_id = job(emu, ALICE_TOKEN, nb_task("main", "/Shared/none", existing_cluster_id=cluster_id))
    response = emu.post(f"{JOBS}/run-now", json={"job_id": job_id}, token=ALICE_TOKEN)
    denied(
        response, f"does not have Admin or Attach To or Manage or Restart permissions on cluster {cluster_id}"
    )
    submit = {"tasks": [nb_task("main", "/Shared/none", existing_cluster_id=cluster_id)]}
    denied(emu.post(f"{JOBS}/runs/submit", json=submit, token=ALICE_TOKEN), f"on cluster {cluster_id}")
    assert ok(emu.get(f"{JOBS}/runs/list")).get("runs") is None


def finished_run(emu: Emu, token: str | None = None) -> tuple[int, int]:
    """A job of ``token``'s principal and a run of it that has ended (its notebook does not exist)."""
    job_id = job(emu, token)
    run_id = int(ok(emu.post(f"{JOBS}/run-now", json={"job_id": job_id}, **by(token)))["run_id"])
    wait_run(emu, run_id)
    return job_id, run_id


@pytest.mark.parametrize(
    ("method", "endpoint", "level"),
    [
        ("GET", "runs/get", "Admin or Manage or Manage Run or Owner or View"),
        ("GET", "runs/get-output", "Admin or Manage or Manage Run or Owner or View"),
        ("POST", "runs/cancel", "Admin or Manage or Manage Run or Owner"),
        ("POST", "runs/repair", "Admin or Manage or Manage Run or Owner"),
        ("POST", "runs/delete", "Admin or Manage or Manage Run or Owner"),
    ],
)
def test_user_cannot_see_or_act_on_another_users_run(emu: Emu, method: str, endpoint: str, level: str):
    """Alice reading, cancelling, repairing or deleting a run of the admin's job is refused."""
    job_id, run_id = finished_run(emu)
    body = {"run_id": run_id, "rerun_all_failed_tasks": True}
    if method == "GET":
        response = emu.get(f"{JOBS}/{endpoint}", params={"run_id": run_id}, token=ALICE_TOKEN)
    else:
        response = emu.post(f"{JOBS}/{endpoint}", json=body, token=ALICE_TOKEN)
    denied(response, f"User {ALICE} does not have {level} permissions on job {job_id}.")
    assert ok(emu.get(f"{JOBS}/runs/get", params={"run_id": run_id}))["run_id"] == run_id


def test_runs_list_leaves_out_runs_the_caller_may_not_view(emu: Emu):
    """Alice's runs/list holds her own run only; the admin's holds both."""
    _, theirs = finished_run(emu)
    _, mine = finished_run(emu, ALICE_TOKEN)
    assert [r["run_id"] for r in ok(emu.get(f"{JOBS}/runs/list", token=ALICE_TOKEN))["runs"]] == [mine]
    assert {r["run_id"] for r in ok(emu.get(f"{JOBS}/runs/list"))["runs"]} == {theirs, mine}


def test_a_submitted_run_belongs_to_its_submitter(emu: Emu):
    """Alice sees her runs/submit run; Bob may neither read nor cancel it."""
    submit = {"run_name": "once", "tasks": [nb_task("main", "/Shared/none")]}
    run_id = int(ok(emu.post(f"{JOBS}/runs/submit", json=submit, token=ALICE_TOKEN))["run_id"])
    assert ok(emu.get(f"{JOBS}/runs/get", params={"run_id": run_id}, token=ALICE_TOKEN))["run_id"] == run_id
    denied(emu.post(f"{JOBS}/runs/cancel", json={"run_id": run_id}, token=BOB_TOKEN), "Manage Run")
    wait_run(emu, run_id)


def test_cancel_all_queued_runs_by_a_user_spares_other_users_runs(emu: Emu):
    """all_queued_runs from Alice cancels none of the admin's queued runs; cancel-all on his job is 403."""
    path = upload(emu, "/Shared/block", notebook(BLOCK))
    job_id = job(emu, None, nb_task("main", path), max_concurrent_runs=1)
    first = int(ok(emu.post(f"{JOBS}/run-now", json={"job_id": job_id}))["run_id"])
    second = int(ok(emu.post(f"{JOBS}/run-now", json={"job_id": job_id}))["run_id"])
    wait_run(emu, second, lambda run: run["state"]["life_cycle_state"] == "QUEUED")
    ok(emu.post(f"{JOBS}/runs/cancel-all", json={"all_queued_runs": True}, token=ALICE_TOKEN))
    denied(emu.post(f"{JOBS}/runs/cancel-all", json={"job_id": job_id}, token=ALICE_TOKEN), "Manage Run")
    queued = ok(emu.get(f"{JOBS}/runs/get", params={"run_id": second}))
    assert queued["state"]["life_cycle_state"] == "QUEUED"
    ok(emu.post(f"{JOBS}/runs/cancel-all", json={"job_id": job_id}))
    wait_run(emu, first)
