"""Rows for issue 7 row 7: a non-admin user acting on what belongs to the admin (area ``perms``).

Each row runs ``brickbook`` as alice (``USER_TOKEN``) against objects the admin created in its setup.
The emulator refuses with 403 PERMISSION_DENIED, so the command exits 3 with one ``error:`` line, and
the check confirms through the admin's token that the object is still there, unchanged. Rows whose
refused request is a mutation cannot be ``refused`` in the table's sense (the POST reached the emulator
and was answered 403); they check the remote state themselves.
"""

from __future__ import annotations

import subprocess
from typing import Any

import httpx

from tests.conftest import ADMIN_TOKEN, USER_TOKEN
from tests.hostile.table import Row, Scene

ADMIN = "admin@example.com"
ALICE = "alice@example.com"
ADMIN_HOME = f"/Users/{ADMIN}"
AS_ALICE = {"DATABRICKS_TOKEN": USER_TOKEN}
JOBS = "/api/2.2/jobs"
CLUSTERS = "/api/2.1/clusters"
WS = "/api/2.0/workspace"
SPEC = {
    "cluster_name": "admins",
    "spark_version": "15.4.x-scala2.12",
    "node_type_id": "i3.xlarge",
    "num_workers": 1,
}
NOTEBOOK = (
    "IyBEYXRhYnJpY2tzIG5vdGVib29rIHNvdXJjZQpwcmludCgxKQo="  # "# Databricks notebook source\nprint(1)\n"
)
Done = subprocess.CompletedProcess[bytes]


def _status(scene: Scene, path: str) -> int:
    """The HTTP status of the admin's get-status on ``path``."""
    response = httpx.get(
        f"{scene.emulator.url}{WS}/get-status",
        params={"path": path},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    return response.status_code


def admin_job(scene: Scene) -> None:
    task = {"task_key": "main", "notebook_task": {"notebook_path": "/Shared/etl"}}
    created = scene.api("POST", f"{JOBS}/create", {"name": "admins-job", "tasks": [task]})
    scene.values["job"] = str(created["job_id"])


def admin_job_untouched(scene: Scene, done: Done) -> None:
    job: dict[str, Any] = scene.api("GET", f"{JOBS}/get?job_id={scene.values['job']}")
    assert job["settings"]["name"] == "admins-job"
    assert job["creator_user_name"] == ADMIN
    assert "runs" not in scene.api("GET", f"{JOBS}/runs/list?job_id={scene.values['job']}")


def admin_cluster(scene: Scene) -> None:
    scene.values["cluster"] = scene.api("POST", f"{CLUSTERS}/create", SPEC)["cluster_id"]


def admin_cluster_untouched(scene: Scene, done: Done) -> None:
    cluster: dict[str, Any] = scene.api("GET", f"{CLUSTERS}/get?cluster_id={scene.values['cluster']}")
    assert cluster["state"] not in ("TERMINATING", "TERMINATED"), cluster["state"]
    assert cluster["num_workers"] == 1


def admin_notebook(scene: Scene) -> None:
    body = {"path": f"{ADMIN_HOME}/nb", "content": NOTEBOOK, "format": "SOURCE", "language": "PYTHON"}
    scene.api("POST", f"{WS}/import", body)
    (scene.tmp / "a.py").write_text("print('alice')\n")
    (scene.tmp / "src").mkdir()
    (scene.tmp / "src" / "b.py").write_text("print('b')\n")


def admin_notebook_untouched(scene: Scene, done: Done) -> None:
    assert _status(scene, f"{ADMIN_HOME}/nb") == 200
    for path in (f"{ADMIN_HOME}/a.py", f"{ADMIN_HOME}/a", f"{ADMIN_HOME}/dst", f"{ADMIN_HOME}/x"):
        assert _status(scene, path) == 404, path


def no_repo_created(scene: Scene, done: Done) -> None:
    assert _status(scene, f"/Repos/{ADMIN}/etl") == 404


def _denied(levels: str, target: str) -> str:
    """The one error line for a refusal naming ``levels`` on ``target`` (a regex)."""
    return rf"^error: .*User alice@example\.com does not have {levels} permissions on {target}"


JOB_MANAGE = _denied("Admin or Manage or Owner", r"job \d+")
JOB_VIEW = _denied("Admin or Manage or Manage Run or Owner or View", r"job \d+")
CLUSTER_RESTART = _denied("Admin or Manage or Restart", r"cluster [0-9a-z-]+")
CLUSTER_MANAGE = _denied("Admin or Manage", r"cluster [0-9a-z-]+")
HOME_EDIT = _denied("Admin or Edit or Manage", rf"{ADMIN_HOME}/")

ROWS = [
    # Jobs: the admin's job cannot be deleted, reset, run or even read by alice.
    Row(
        "perms-delete-admin-job",
        ["jobs.delete", "{job}"],
        3,
        JOB_MANAGE,
        refused=False,
        setup=admin_job,
        check=admin_job_untouched,
        env=AS_ALICE,
    ),
    Row(
        "perms-reset-admin-job",
        ["jobs.reset", "{job}", "--json", '{{"name": "alices-now"}}'],
        3,
        JOB_MANAGE,
        refused=False,
        setup=admin_job,
        check=admin_job_untouched,
        env=AS_ALICE,
    ),
    Row(
        "perms-run-admin-job",
        ["jobs.run-now", "{job}", "--no-wait"],
        3,
        JOB_VIEW,
        setup=admin_job,
        check=admin_job_untouched,
        env=AS_ALICE,
    ),
    Row("perms-get-admin-job", ["jobs.get", "{job}"], 3, JOB_VIEW, setup=admin_job, env=AS_ALICE),
    # Clusters: the admin's cluster cannot be terminated, removed or edited by alice.
    Row(
        "perms-terminate-admin-cluster",
        ["clusters.delete", "{cluster}"],
        3,
        CLUSTER_RESTART,
        refused=False,
        setup=admin_cluster,
        check=admin_cluster_untouched,
        env=AS_ALICE,
    ),
    Row(
        "perms-stop-admin-cluster",
        ["clusters.stop", "{cluster}"],
        3,
        CLUSTER_RESTART,
        refused=False,
        setup=admin_cluster,
        check=admin_cluster_untouched,
        env=AS_ALICE,
    ),
    Row(
        "perms-permanent-delete-admin-cluster",
        ["clusters.permanent-delete", "{cluster}"],
        3,
        CLUSTER_MANAGE,
        refused=False,
        setup=admin_cluster,
        check=admin_cluster_untouched,
        env=AS_ALICE,
    ),
    # Workspace: the admin's home folder is neither writable nor readable by alice.
    Row(
        "perms-import-into-admin-home",
        ["workspace.import", "a.py", f"{ADMIN_HOME}/a.py"],
        3,
        _denied(r"Admin or \w+ or Manage( or \w+)*", rf"{ADMIN_HOME}/a"),
        refused=False,
        setup=admin_notebook,
        check=admin_notebook_untouched,
        env=AS_ALICE,
    ),
    Row(
        "perms-import-over-admin-notebook",
        ["workspace.import", "a.py", f"{ADMIN_HOME}/nb", "--overwrite"],
        3,
        _denied(r"Admin or \w+ or Manage( or \w+)*", rf"{ADMIN_HOME}/nb"),
        refused=False,
        setup=admin_notebook,
        check=admin_notebook_untouched,
        env=AS_ALICE,
    ),
    Row(
        "perms-import-dir-into-admin-home",
        ["workspace.import-dir", "src", f"{ADMIN_HOME}/dst"],
        3,
        _denied(r"Admin or \w+ or Manage( or \w+)*", rf"{ADMIN_HOME}/dst"),
        refused=False,
        setup=admin_notebook,
        check=admin_notebook_untouched,
        env=AS_ALICE,
    ),
    Row(
        "perms-mkdirs-in-admin-home",
        ["workspace.mkdirs", f"{ADMIN_HOME}/x"],
        3,
        HOME_EDIT + "x",
        refused=False,
        setup=admin_notebook,
        check=admin_notebook_untouched,
        env=AS_ALICE,
    ),
    Row(
        "perms-delete-admin-notebook",
        ["workspace.delete", f"{ADMIN_HOME}/nb"],
        3,
        _denied("Admin or Manage", rf"{ADMIN_HOME}/nb"),
        refused=False,
        setup=admin_notebook,
        check=admin_notebook_untouched,
        env=AS_ALICE,
    ),
    Row(
        "perms-export-admin-notebook",
        ["workspace.export", f"{ADMIN_HOME}/nb", "--dest", "nb.py"],
        3,
        _denied(r"Admin or Edit or Manage or Read or Run", rf"{ADMIN_HOME}/nb"),
        setup=admin_notebook,
        env=AS_ALICE,
    ),
    Row(
        "perms-list-admin-home",
        ["workspace.list", ADMIN_HOME],
        3,
        _denied(r"Admin or Edit or Manage or Read or Run", ADMIN_HOME),
        setup=admin_notebook,
        env=AS_ALICE,
    ),
    # Listing /Users as alice shows her own home and nothing of the admin's.
    Row(
        "perms-list-users-hides-other-homes",
        ["workspace.list", "/Users"],
        0,
        None,
        setup=admin_notebook,
        env=AS_ALICE,
        stdout=r"^(?![\s\S]*admin@example\.com)[\s\S]*/Users/alice@example\.com",
    ),
    # Repos: a Git folder under the admin's /Repos folder is refused before anything is cloned.
    Row(
        "perms-repo-in-admin-repos-folder",
        ["repos.create", "https://github.com/example/etl.git", "--path", f"/Repos/{ADMIN}/etl"],
        3,
        _denied(r"Admin or Edit or Manage", rf"/Repos/{ADMIN}/etl"),
        refused=False,
        check=no_repo_created,
        env=AS_ALICE,
    ),
]
