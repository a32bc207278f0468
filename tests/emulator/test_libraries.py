"""The emulator's Libraries API over HTTP: statuses, real installs into each cluster's environment, errors.

Installs run pip for real in the background, so a test polls ``cluster-status`` with a deadline (waiting
for a process, not for emulated time, which moves with ``emu.clock.advance``).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.harness import ALICE_TOKEN, Emu, serving
from tests.emulator.jobs_harness import (
    HOME,
    create_job,
    nb_task,
    notebook,
    output,
    put_dbfs,
    run_now,
    upload,
    wait_run,
)
from tests.emulator.test_clusters import action, get, running, terminated
from tests.volumes import create_volume
from tests.wheels import offline_pip, wheel

LIBS = "/api/2.0/libraries"
WAIT_SECONDS = 60


def install(emu: Emu, cluster_id: str, *libraries: dict[str, Any], token: str | None = None) -> Any:
    body = {"cluster_id": cluster_id, "libraries": list(libraries)}
    return emu.post(f"{LIBS}/install", json=body, **({"token": token} if token else {}))


def statuses(emu: Emu, cluster_id: str) -> list[dict[str, Any]]:
    response = emu.get(f"{LIBS}/cluster-status", params={"cluster_id": cluster_id})
    assert response.status_code == 200, response.text
    assert response.json()["cluster_id"] == cluster_id
    found: list[dict[str, Any]] = response.json().get("library_statuses", [])
    return found


def wait_statuses(
    emu: Emu, cluster_id: str, until: Callable[[list[dict[str, Any]]], bool] | None = None
) -> list[dict[str, Any]]:
    """Poll until no library is PENDING or INSTALLING (or ``until``); fail at the deadline."""
    check = until or (lambda found: all(s["status"] not in ("PENDING", "INSTALLING") for s in found))
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = statuses(emu, cluster_id)
        if check(found):
            return found
        assert time.monotonic() < deadline, f"libraries stuck: {found}"
        time.sleep(0.05)  # waiting for pip, not for emulated time


def put_wheel(emu: Emu, folder: str = "dbfs:/FileStore/wheels", **kwargs: Any) -> str:
    name, data = wheel(**kwargs)
    put_dbfs(emu, f"{folder.removeprefix('dbfs:')}/{name}", data)
    return f"{folder}/{name}"


def import_on(emu: Emu, cluster_id: str, code: str) -> dict[str, Any]:
    """Run a one-cell notebook on the cluster; return its task output."""
    path = upload(emu, f"{HOME}/probe", notebook(code))
    job_id = create_job(emu, nb_task("probe", path, existing_cluster_id=cluster_id))
    run = wait_run(emu, run_now(emu, job_id))
    return output(emu, run["tasks"][0]["run_id"])


def test_a_wheel_from_dbfs_installs_and_notebooks_on_the_cluster_import_it(emu: Emu):
    """A DBFS wheel goes PENDING -> INSTALLED on a running cluster; its notebooks can import it."""
    cluster_id = running(emu)
    uri = put_wheel(emu)
    assert install(emu, cluster_id, {"whl": uri}).status_code == 200
    first = statuses(emu, cluster_id)
    assert [s["library"] for s in first] == [{"whl": uri}]
    assert first[0]["status"] in ("PENDING", "INSTALLING", "INSTALLED")
    assert first[0]["is_library_for_all_clusters"] is False
    assert [s["status"] for s in wait_statuses(emu, cluster_id)] == ["INSTALLED"]
    out = import_on(emu, cluster_id, "import greet_emu\ndbutils.notebook.exit(greet_emu.__name__)")
    assert out["notebook_output"]["result"] == "greet_emu"


def test_a_cluster_without_the_library_cannot_import_it(emu: Emu):
    """Environments are per cluster: a second cluster does not see the first one's wheel."""
    first, second = running(emu), running(emu)
    assert install(emu, first, {"whl": put_wheel(emu)}).status_code == 200
    wait_statuses(emu, first)
    out = import_on(emu, second, "import greet_emu")
    assert "No module named 'greet_emu'" in out["error"]


def test_wheels_install_from_a_workspace_file_and_a_volume(emu: Emu):
    """``/Workspace/...`` and ``/Volumes/...`` wheels are read from the emulator's state and installed."""
    cluster_id = running(emu)
    name, data = wheel("ws_emu")
    body = {"path": f"{HOME}/libs/{name}", "format": "AUTO", "content": base64.b64encode(data).decode()}
    emu.post("/api/2.0/workspace/mkdirs", json={"path": f"{HOME}/libs"})
    assert emu.post("/api/2.0/workspace/import", json=body).status_code == 200
    create_volume(emu.url, "emu-admin-token-1f2e3d4c")
    vol_name, vol_data = wheel("vol_emu")
    put = emu.request("PUT", f"/api/2.0/fs/files/Volumes/main/default/vol/{vol_name}", content=vol_data)
    assert put.status_code == 204, put.text
    libraries = [{"whl": f"/Workspace{HOME}/libs/{name}"}, {"whl": f"/Volumes/main/default/vol/{vol_name}"}]
    assert install(emu, cluster_id, *libraries).status_code == 200
    assert [s["status"] for s in wait_statuses(emu, cluster_id)] == ["INSTALLED", "INSTALLED"]
    out = import_on(emu, cluster_id, "import ws_emu, vol_emu")
    assert "error" not in out


def test_pypi_without_a_reachable_index_fails_with_pips_message(emu: Emu, monkeypatch: pytest.MonkeyPatch):
    """A PyPI package with no index to reach ends FAILED, its message the installer's own."""
    offline_pip(monkeypatch)
    cluster_id = running(emu)
    assert install(emu, cluster_id, {"pypi": {"package": "simplejson==3.19.2"}}).status_code == 200
    (found,) = wait_statuses(emu, cluster_id)
    assert found["status"] == "FAILED"
    assert "simplejson" in found["messages"][0]
    assert "ERROR:" in found["messages"][0]


def test_a_requirements_file_from_the_workspace_goes_through_pip(emu: Emu, monkeypatch: pytest.MonkeyPatch):
    """A workspace requirements file is read and handed to pip; with no index its package FAILS by name."""
    offline_pip(monkeypatch)
    cluster_id = running(emu)
    text = b"# pinned\nsimplejson==3.19.2\n"
    body = {"path": f"{HOME}/requirements.txt", "format": "AUTO", "content": base64.b64encode(text).decode()}
    assert emu.post("/api/2.0/workspace/import", json=body).status_code == 200
    assert install(emu, cluster_id, {"requirements": f"/Workspace{HOME}/requirements.txt"}).status_code == 200
    (found,) = wait_statuses(emu, cluster_id)
    assert found["status"] == "FAILED"
    assert "simplejson==3.19.2" in found["messages"][0]


def test_kinds_the_emulator_cannot_install_fail_naming_the_kind(emu: Emu):
    """jar, maven and cran libraries end FAILED with a message naming their kind."""
    cluster_id = running(emu)
    libraries = [
        {"jar": "dbfs:/FileStore/x.jar"},
        {"maven": {"coordinates": "org.jsoup:jsoup:1.7.2"}},
        {"cran": {"package": "ada"}},
    ]
    assert install(emu, cluster_id, *libraries).status_code == 200
    found = wait_statuses(emu, cluster_id)
    assert [s["status"] for s in found] == ["FAILED"] * 3
    for kind, status in zip(("jar", "maven", "cran"), found, strict=True):
        assert f"cannot install {kind} libraries" in status["messages"][0]


def test_a_missing_wheel_fails_naming_the_file(emu: Emu):
    """A wheel that is not on DBFS ends FAILED saying it could not be read."""
    cluster_id = running(emu)
    assert install(emu, cluster_id, {"whl": "dbfs:/FileStore/none.whl"}).status_code == 200
    (found,) = wait_statuses(emu, cluster_id)
    assert found["status"] == "FAILED"
    assert "Could not read dbfs:/FileStore/none.whl" in found["messages"][0]


def test_a_library_on_a_terminated_cluster_is_installed_when_it_starts(emu: Emu):
    """On a terminated cluster the library stays PENDING; starting the cluster installs it."""
    cluster_id = terminated(emu)
    assert install(emu, cluster_id, {"whl": put_wheel(emu)}).status_code == 200
    time.sleep(0.2)  # give a (wrongly) eager installer the chance to act
    assert [s["status"] for s in statuses(emu, cluster_id)] == ["PENDING"]
    assert action(emu, "start", cluster_id).status_code == 200
    emu.clock.advance(1)
    assert get(emu, cluster_id)["state"] == "RUNNING"
    assert [s["status"] for s in wait_statuses(emu, cluster_id)] == ["INSTALLED"]


def test_uninstall_waits_for_a_restart(emu: Emu):
    """Uninstall marks the library UNINSTALL_ON_RESTART (listed last); the restart removes it."""
    cluster_id = running(emu)
    keep, drop = put_wheel(emu, name="keep_emu"), put_wheel(emu, name="drop_emu")
    assert install(emu, cluster_id, {"whl": drop}, {"whl": keep}).status_code == 200
    wait_statuses(emu, cluster_id)
    body = {"cluster_id": cluster_id, "libraries": [{"whl": drop}]}
    assert emu.post(f"{LIBS}/uninstall", json=body).status_code == 200
    found = statuses(emu, cluster_id)
    assert [(s["library"]["whl"], s["status"]) for s in found] == [
        (keep, "INSTALLED"),
        (drop, "UNINSTALL_ON_RESTART"),
    ]
    assert action(emu, "restart", cluster_id).status_code == 200
    emu.clock.advance(1)
    assert get(emu, cluster_id)["state"] == "RUNNING"
    found = wait_statuses(emu, cluster_id, lambda f: [s["status"] for s in f] == ["INSTALLED"])
    assert [s["library"]["whl"] for s in found] == [keep]
    out = import_on(emu, cluster_id, "import keep_emu\nimport drop_emu")
    assert "No module named 'drop_emu'" in out["error"]


def test_all_cluster_statuses_lists_each_cluster_with_libraries(emu: Emu):
    """``all-cluster-statuses`` holds one entry per cluster that has libraries."""
    with_libs, _without = terminated(emu), terminated(emu)
    assert install(emu, with_libs, {"pypi": {"package": "simplejson"}}).status_code == 200
    response = emu.get(f"{LIBS}/all-cluster-statuses")
    assert response.status_code == 200
    assert [s["cluster_id"] for s in response.json()["statuses"]] == [with_libs]
    assert response.json()["statuses"][0]["library_statuses"][0]["status"] == "PENDING"


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"libraries": [{"whl": "dbfs:/a.whl"}]}, "Missing required field: cluster_id"),
        ({"cluster_id": "CLUSTER", "libraries": []}, "libraries must be a non-empty list"),
        ({"cluster_id": "CLUSTER", "libraries": [{"whl": "a", "jar": "b"}]}, "exactly one of"),
        ({"cluster_id": "CLUSTER", "libraries": [{"pypi": {}}]}, "libraries[0].pypi.package"),
        ({"cluster_id": "CLUSTER", "libraries": [{"whl": "dbfs:/a\nb.whl"}]}, "printable"),
        ({"cluster_id": "CLUSTER", "libraries": [{"whl": "x"}] * 101}, "At most 100 libraries"),
        ({"cluster_id": "nope", "libraries": [{"whl": "dbfs:/a.whl"}]}, "Cluster nope does not exist"),
    ],
)
def test_bad_install_requests_are_refused(emu: Emu, body: dict[str, Any], text: str):
    """A malformed install is 400 INVALID_PARAMETER_VALUE and records nothing."""
    cluster_id = terminated(emu)
    if body.get("cluster_id") == "CLUSTER":
        body = {**body, "cluster_id": cluster_id}
    response = emu.post(f"{LIBS}/install", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert text in response.json()["message"]
    assert statuses(emu, cluster_id) == []


def test_installing_needs_can_manage_on_the_cluster(emu: Emu):
    """A user without CAN_MANAGE on the cluster is refused (403); reading statuses is open."""
    cluster_id = terminated(emu)
    response = install(emu, cluster_id, {"pypi": {"package": "x"}}, token=ALICE_TOKEN)
    assert response.status_code == 403, response.text
    assert response.json()["error_code"] == "PERMISSION_DENIED"
    read = emu.get(f"{LIBS}/cluster-status", params={"cluster_id": cluster_id}, token=ALICE_TOKEN)
    assert read.status_code == 200


@pytest.fixture
def data_emu(tmp_path: Path) -> Iterator[Emu]:
    with serving(data_dir=tmp_path) as emu:
        yield emu


def test_the_environment_lives_under_the_data_dir_until_permanent_delete(data_emu: Emu, tmp_path: Path):
    """A cluster's environment is made under ``<data dir>/cluster-envs`` and removed at permanent-delete."""
    cluster_id = running(data_emu)
    assert install(data_emu, cluster_id, {"whl": put_wheel(data_emu)}).status_code == 200
    wait_statuses(data_emu, cluster_id)
    env = tmp_path / "cluster-envs" / cluster_id
    assert (env / "venv" / "bin" / "python").exists()
    assert action(data_emu, "permanent-delete", cluster_id).status_code == 200
    deadline = time.monotonic() + WAIT_SECONDS
    while env.exists():
        assert time.monotonic() < deadline, "environment not removed"
        time.sleep(0.05)
    assert data_emu.get(f"{LIBS}/all-cluster-statuses").json() == {"statuses": []}


def test_installed_libraries_survive_an_emulator_restart(tmp_path: Path):
    """With a data dir, a cluster's libraries and environment outlive the emulator process."""
    with serving(data_dir=tmp_path) as first:
        cluster_id = running(first)
        assert install(first, cluster_id, {"whl": put_wheel(first)}).status_code == 200
        wait_statuses(first, cluster_id)
    with serving(data_dir=tmp_path) as second:
        assert [s["status"] for s in statuses(second, cluster_id)] == ["INSTALLED"]
        out = import_on(second, cluster_id, "import greet_emu")
        assert "error" not in out
