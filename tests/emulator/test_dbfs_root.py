"""A fresh workspace's DBFS root: /FileStore, /databricks-datasets, /tmp, /user, again after a reset."""

from __future__ import annotations

import base64
from pathlib import Path

from brickbook.emulator.server import start_in_thread
from tests.emulator.harness import Emu, FakeClock, make_settings

LIST = "/api/2.0/dbfs/list"
TMP = "/" + "tmp"  # a DBFS path, not a local temporary directory (ruff S108)


def _names(emu: Emu, path: str) -> set[str]:
    response = emu.get(LIST, params={"path": path})
    assert response.status_code == 200, response.text
    return {f["path"] for f in response.json().get("files", [])}


def test_fresh_root_has_the_workspace_folders(emu: Emu):
    """The root lists /FileStore, /databricks-datasets, /tmp and /user, each a directory."""
    response = emu.get(LIST, params={"path": "/"})
    entries = {f["path"]: f["is_dir"] for f in response.json()["files"]}
    assert entries == {
        "/FileStore": True,
        "/databricks-datasets": True,
        TMP: True,
        "/user": True,
    }


def test_sample_datasets_can_be_read(emu: Emu):
    """/databricks-datasets holds a README and a small CSV whose bytes read back."""
    assert "/databricks-datasets/README.md" in _names(emu, "/databricks-datasets")
    csv = "/databricks-datasets/samples/population-vs-price/data_geo.csv"
    response = emu.get("/api/2.0/dbfs/read", params={"path": csv})
    assert response.status_code == 200, response.text
    text = base64.b64decode(response.json()["data"]).decode()
    assert text.startswith("2014 rank,City,State")
    assert len(text.splitlines()) == 4


def test_reset_brings_the_root_back(emu: Emu):
    """After /tmp is deleted, the control API's reset makes it again."""
    assert emu.post("/api/2.0/dbfs/delete", json={"path": TMP, "recursive": True}).status_code == 200
    assert TMP not in _names(emu, "/")
    assert emu.control("POST", "reset").status_code == 200
    assert TMP in _names(emu, "/")


def test_a_deleted_folder_stays_deleted_across_a_restart(tmp_path: Path):
    """With --data-dir the root is made once: a folder the user deleted does not come back on restart."""
    clock = FakeClock()
    with start_in_thread(make_settings(clock, data_dir=tmp_path)) as running:
        emu = Emu(url=running.url, clock=clock)
        assert (
            emu.post("/api/2.0/dbfs/delete", json={"path": "/FileStore", "recursive": True}).status_code
            == 200
        )
        emu.close()
    with start_in_thread(make_settings(clock, data_dir=tmp_path)) as running:
        emu = Emu(url=running.url, clock=clock)
        names = _names(emu, "/")
        emu.close()
    assert "/FileStore" not in names
    assert "/databricks-datasets" in names
