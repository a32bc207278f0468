"""Workspace API in the emulator: list, get-status, import, export, mkdirs, delete."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx

from brickbook.emulator.server import start_in_thread
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.store import Store
from brickbook.emulator.state.workspace import MAX_CONTENT_BYTES, WorkspaceState
from tests.emulator.harness import ADMIN, ALICE, Emu, FakeClock, make_settings

WS = "/api/2.0/workspace"
HEADER = b"# Databricks notebook source\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def import_(emu: Emu, path: str, content: bytes, **fields: Any) -> httpx.Response:
    return emu.post(f"{WS}/import", json={"path": path, "content": b64(content), **fields})


def status(emu: Emu, path: str) -> httpx.Response:
    return emu.get(f"{WS}/get-status", params={"path": path})


def export(emu: Emu, path: str, **params: str) -> httpx.Response:
    return emu.get(f"{WS}/export", params={"path": path, **params})


def assert_error(response: httpx.Response, status_code: int, code: str, fragment: str) -> None:
    assert response.status_code == status_code, response.text
    body = response.json()
    assert body["error_code"] == code
    assert fragment in body["message"]


def test_root_lists_the_top_folders(emu: Emu):
    """The root holds /Repos, /Shared and /Users, sorted, each a plain directory."""
    objects = emu.get(f"{WS}/list", params={"path": "/"}).json()["objects"]
    assert [o["path"] for o in objects] == ["/Repos", "/Shared", "/Users"]
    assert all(o["directory_info"] == {"is_git_folder": False} for o in objects)


def test_every_principal_has_a_home_folder(emu: Emu):
    """/Users/<name> exists for the admin and each configured user."""
    paths = [o["path"] for o in emu.get(f"{WS}/list", params={"path": "/Users"}).json()["objects"]]
    assert f"/Users/{ADMIN}" in paths and f"/Users/{ALICE}" in paths


def test_empty_directory_leaves_objects_out(emu: Emu):
    """Listing an empty directory answers {} with no 'objects' key."""
    assert emu.post(f"{WS}/mkdirs", json={"path": "/Shared/empty"}).status_code == 200
    response = emu.get(f"{WS}/list", params={"path": "/Shared/empty"})
    assert response.status_code == 200 and response.json() == {}


def test_list_of_a_notebook_returns_that_notebook(emu: Emu):
    """Listing a non-directory returns the object itself."""
    import_(emu, "/Shared/nb", b"x = 1\n", language="PYTHON")
    objects = emu.get(f"{WS}/list", params={"path": "/Shared/nb"}).json()["objects"]
    assert [(o["path"], o["object_type"]) for o in objects] == [("/Shared/nb", "NOTEBOOK")]


def test_list_of_a_missing_path_is_404(emu: Emu):
    """A missing path is 404 RESOURCE_DOES_NOT_EXIST."""
    response = emu.get(f"{WS}/list", params={"path": "/Shared/nope"})
    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "/Shared/nope")


def test_relative_path_is_invalid(emu: Emu):
    """A path that is not absolute is 400 INVALID_PARAMETER_VALUE."""
    assert_error(status(emu, "Shared"), 400, "INVALID_PARAMETER_VALUE", "not absolute")


def test_get_status_of_a_notebook(emu: Emu):
    """A notebook has an int64 object_id, the same resource_id as a string, its language and no size."""
    import_(emu, "/Shared/nb", b"select 1", language="SQL")
    info = status(emu, "/Shared/nb").json()
    assert info["object_type"] == "NOTEBOOK" and info["language"] == "SQL"
    assert isinstance(info["object_id"], int) and info["resource_id"] == str(info["object_id"])
    assert "size" not in info and "directory_info" not in info


def test_get_status_of_a_file_has_size_and_times(emu: Emu):
    """A workspace file reports size and created_at/modified_at in epoch ms from the clock."""
    import_(emu, "/Shared/data.csv", b"a,b\n1,2\n", format="AUTO")
    info = status(emu, "/Shared/data.csv").json()
    assert info["object_type"] == "FILE" and info["size"] == 8 and "language" not in info
    assert info["created_at"] == info["modified_at"] == int(emu.clock.now * 1000)


def test_workspace_prefix_is_an_alias(emu: Emu):
    """/Workspace/Shared/x names the same object as /Shared/x."""
    import_(emu, "/Workspace/Shared/nb", b"1", language="PYTHON")
    assert status(emu, "/Shared/nb").json()["path"] == "/Shared/nb"


def test_source_export_adds_the_header(emu: Emu):
    """A notebook imported without a header exports with the '# Databricks notebook source' line."""
    import_(emu, "/Shared/nb", b"print(1)\n", language="PYTHON")
    data = export(emu, "/Shared/nb").json()
    assert base64.b64decode(data["content"]) == HEADER + b"print(1)\n"
    assert data["file_type"] == "py"


def test_source_round_trip_is_byte_equal(emu: Emu):
    """Importing SOURCE that has the header and exporting it gives the same bytes."""
    source = b"-- Databricks notebook source\nselect 1\n\n-- COMMAND ----------\n\nselect 2\n"
    import_(emu, "/Shared/q", source, format="SOURCE", language="SQL")
    assert base64.b64decode(export(emu, "/Shared/q").json()["content"]) == source


def test_source_without_language_is_invalid(emu: Emu):
    """A single file in SOURCE format without language is 400 INVALID_PARAMETER_VALUE."""
    response = import_(emu, "/Shared/nb", b"print(1)", format="SOURCE")
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "language")


def test_existing_path_without_overwrite_is_400(emu: Emu):
    """Importing over an existing path without overwrite is 400 RESOURCE_ALREADY_EXISTS."""
    import_(emu, "/Shared/nb", b"1", language="PYTHON")
    response = import_(emu, "/Shared/nb", b"2", language="PYTHON")
    assert_error(response, 400, "RESOURCE_ALREADY_EXISTS", "/Shared/nb")


def test_overwrite_replaces_content_and_keeps_the_id(emu: Emu):
    """overwrite=true replaces the content; the object keeps its id."""
    import_(emu, "/Shared/nb", b"1", language="PYTHON")
    before = status(emu, "/Shared/nb").json()["object_id"]
    assert import_(emu, "/Shared/nb", b"2", language="PYTHON", overwrite=True).status_code == 200
    assert status(emu, "/Shared/nb").json()["object_id"] == before
    assert export(emu, "/Shared/nb", direct_download="true").content == HEADER + b"2"


def test_overwrite_cannot_replace_a_directory(emu: Emu):
    """A directory is never replaced by an import, even with overwrite."""
    response = import_(emu, "/Shared", b"1", language="PYTHON", overwrite=True)
    assert_error(response, 400, "RESOURCE_ALREADY_EXISTS", "/Shared")


def test_content_over_10_mb_is_refused(emu: Emu):
    """Base64 content over 10 MB is 400 MAX_NOTEBOOK_SIZE_EXCEEDED."""
    big = b"x" * (MAX_CONTENT_BYTES // 4 * 3 + 3)
    response = import_(emu, "/Shared/big.txt", big, format="AUTO")
    assert_error(response, 400, "MAX_NOTEBOOK_SIZE_EXCEEDED", "maximum allowed size")


def test_missing_parent_is_404(emu: Emu):
    """Importing into a folder that does not exist is 404; the service does not create parents."""
    response = import_(emu, "/Shared/a/b/nb", b"1", language="PYTHON")
    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "parent folder (/Shared/a/b)")


def test_auto_with_header_makes_a_notebook_without_extension(emu: Emu):
    """AUTO turns etl.py with the header into the notebook 'etl'."""
    import_(emu, "/Shared/etl.py", HEADER + b"x = 1\n", format="AUTO")
    info = status(emu, "/Shared/etl").json()
    assert (info["object_type"], info["language"]) == ("NOTEBOOK", "PYTHON")
    assert status(emu, "/Shared/etl.py").status_code == 404


def test_auto_without_header_makes_a_file(emu: Emu):
    """AUTO keeps a .py without the header as the file etl.py, byte for byte."""
    import_(emu, "/Shared/etl.py", b"x = 1\n", format="AUTO")
    assert status(emu, "/Shared/etl.py").json()["object_type"] == "FILE"
    assert export(emu, "/Shared/etl.py", direct_download="true").content == b"x = 1\n"


def test_auto_ipynb_makes_a_python_notebook(emu: Emu):
    """AUTO turns report.ipynb into the Python notebook 'report'."""
    document = {"cells": [{"cell_type": "code", "source": ["print(1)"]}], "metadata": {}, "nbformat": 4}
    import_(emu, "/Shared/report.ipynb", json.dumps(document).encode(), format="AUTO")
    info = status(emu, "/Shared/report").json()
    assert (info["object_type"], info["language"]) == ("NOTEBOOK", "PYTHON")


def test_jupyter_round_trip_keeps_the_cells(emu: Emu):
    """A JUPYTER import exported as JUPYTER has the same cells; as SOURCE, the cells in COMMAND blocks."""
    cells = [
        {"cell_type": "markdown", "source": ["# Title"]},
        {"cell_type": "code", "source": ["x = 1\n", "print(x)"]},
    ]
    import_(emu, "/Shared/nb", json.dumps({"cells": cells}).encode(), format="JUPYTER")
    exported = json.loads(base64.b64decode(export(emu, "/Shared/nb", format="JUPYTER").json()["content"]))
    assert [(c["cell_type"], "".join(c["source"])) for c in exported["cells"]] == [
        ("markdown", "# Title"),
        ("code", "x = 1\nprint(x)"),
    ]
    source = export(emu, "/Shared/nb", direct_download="true").content
    assert source == HEADER + b"# MAGIC %md\n# MAGIC # Title\n\n# COMMAND ----------\n\nx = 1\nprint(x)"


def test_invalid_jupyter_is_invalid(emu: Emu):
    """JUPYTER content that is not a notebook document is 400 INVALID_PARAMETER_VALUE."""
    response = import_(emu, "/Shared/nb", b"not json", format="JUPYTER")
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "Jupyter")


def test_multipart_import_keeps_bytes_exact(emu: Emu):
    """A multipart form with a 'content' file part imports the bytes unchanged (the SDK upload())."""
    payload = bytes(range(256)) + b"\r\n--not-a-boundary\r\n"
    response = emu.post(
        f"{WS}/import",
        data={"path": "/Shared/blob.bin", "format": "AUTO", "overwrite": "true"},
        files={"content": ("content", payload)},
    )
    assert response.status_code == 200, response.text
    assert export(emu, "/Shared/blob.bin", direct_download="true").content == payload


def test_direct_download_returns_raw_bytes(emu: Emu):
    """export with direct_download=true answers the raw bytes, not JSON."""
    import_(emu, "/Shared/f.txt", b"hello", format="AUTO")
    response = export(emu, "/Shared/f.txt", direct_download="true")
    assert response.content == b"hello"
    assert response.headers["content-type"] == "application/octet-stream"


def test_jupyter_export_of_a_file_is_invalid(emu: Emu):
    """A workspace file cannot be exported as JUPYTER."""
    import_(emu, "/Shared/f.txt", b"hello", format="AUTO")
    response = export(emu, "/Shared/f.txt", format="JUPYTER")
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "not a notebook")


def test_unknown_format_is_invalid(emu: Emu):
    """A format outside the enum (formats are case-sensitive) is 400 INVALID_PARAMETER_VALUE."""
    response = import_(emu, "/Shared/nb", b"1", format="source", language="PYTHON")
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "format")


def test_html_format_is_not_implemented(emu: Emu):
    """HTML, DBC and R_MARKDOWN are answered 501 NOT_IMPLEMENTED, never a silent success."""
    import_(emu, "/Shared/nb", b"1", language="PYTHON")
    assert_error(export(emu, "/Shared/nb", format="HTML"), 501, "NOT_IMPLEMENTED", "HTML")


def test_dbc_with_overwrite_is_invalid(emu: Emu):
    """overwrite is not supported with DBC."""
    response = import_(emu, "/Shared/d", b"PK", format="DBC", overwrite=True)
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "DBC")


def test_mkdirs_creates_parents_and_is_idempotent(emu: Emu):
    """mkdirs works like mkdir -p and succeeds again on an existing directory."""
    for _ in range(2):
        assert emu.post(f"{WS}/mkdirs", json={"path": "/Shared/a/b/c"}).json() == {}
    assert status(emu, "/Shared/a/b").json()["object_type"] == "DIRECTORY"


def test_mkdirs_through_a_notebook_is_400(emu: Emu):
    """A notebook on the prefix is 400 RESOURCE_ALREADY_EXISTS (the legacy 2.0 status)."""
    emu.post(f"{WS}/mkdirs", json={"path": "/Shared/a"})
    import_(emu, "/Shared/a/nb", b"1", language="PYTHON")
    response = emu.post(f"{WS}/mkdirs", json={"path": "/Shared/a/nb/sub"})
    assert_error(response, 400, "RESOURCE_ALREADY_EXISTS", "/Shared/a/nb")


def test_delete_of_a_non_empty_directory_needs_recursive(emu: Emu):
    """A non-empty directory is 400 DIRECTORY_NOT_EMPTY without recursive, and is kept."""
    emu.post(f"{WS}/mkdirs", json={"path": "/Shared/a/b"})
    response = emu.post(f"{WS}/delete", json={"path": "/Shared/a"})
    assert_error(response, 400, "DIRECTORY_NOT_EMPTY", "/Shared/a")
    assert status(emu, "/Shared/a/b").status_code == 200


def test_recursive_delete_removes_the_tree(emu: Emu):
    """recursive=true removes the directory and everything below it."""
    emu.post(f"{WS}/mkdirs", json={"path": "/Shared/a/b"})
    import_(emu, "/Shared/a/b/nb", b"1", language="PYTHON")
    assert emu.post(f"{WS}/delete", json={"path": "/Shared/a", "recursive": True}).json() == {}
    assert status(emu, "/Shared/a/b/nb").status_code == 404


def test_delete_of_a_missing_path_is_404(emu: Emu):
    """Deleting a missing path is 404 RESOURCE_DOES_NOT_EXIST."""
    response = emu.post(f"{WS}/delete", json={"path": "/Shared/nope"})
    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "/Shared/nope")


def test_notebooks_modified_after_filters_older_notebooks(emu: Emu):
    """notebooks_modified_after leaves out notebooks modified at or before that time."""
    import_(emu, "/Shared/old", b"1", language="PYTHON")
    cutoff = int(emu.clock.now * 1000)
    emu.clock.advance(5)
    import_(emu, "/Shared/new", b"1", language="PYTHON")
    objects = emu.get(f"{WS}/list", params={"path": "/Shared", "notebooks_modified_after": cutoff}).json()
    assert [o["path"] for o in objects["objects"]] == ["/Shared/new"]


def test_directory_export_and_import_as_zip(emu: Emu):
    """A directory exports as a zip of sources; a SOURCE import of that zip without language recreates it."""
    emu.post(f"{WS}/mkdirs", json={"path": "/Shared/src/sub"})
    import_(emu, "/Shared/src/nb", b"1", language="PYTHON")
    import_(emu, "/Shared/src/sub/f.txt", b"data", format="AUTO")
    archive = export(emu, "/Shared/src", direct_download="true").content
    assert sorted(zipfile.ZipFile(io.BytesIO(archive)).namelist()) == ["nb.py", "sub/f.txt"]
    assert import_(emu, "/Shared/copy", archive, format="SOURCE").status_code == 200
    assert status(emu, "/Shared/copy/nb").json()["object_type"] == "NOTEBOOK"
    assert export(emu, "/Shared/copy/sub/f.txt", direct_download="true").content == b"data"


def test_reset_restores_the_initial_tree(emu: Emu):
    """The control API's reset forgets imports and brings back the top folders."""
    import_(emu, "/Shared/nb", b"1", language="PYTHON")
    emu.control("POST", "reset")
    assert status(emu, "/Shared/nb").status_code == 404
    assert status(emu, "/Shared").status_code == 200


def test_writes_survive_a_restart(tmp_path: Path):
    """With a data dir, a new emulator over the same directory sees earlier imports and ids."""
    settings = make_settings(FakeClock(), data_dir=tmp_path)
    with start_in_thread(settings) as running:
        first = Emu(url=running.url, clock=FakeClock())
        import_(first, "/Shared/nb", b"print(1)\n", language="PYTHON")
        object_id = status(first, "/Shared/nb").json()["object_id"]
        first.close()
    with start_in_thread(settings) as running:
        second = Emu(url=running.url, clock=FakeClock())
        assert status(second, "/Shared/nb").json()["object_id"] == object_id
        assert export(second, "/Shared/nb", direct_download="true").content == HEADER + b"print(1)\n"
        second.close()


def test_read_notebook_gives_language_and_source():
    """Other areas read a notebook's language and SOURCE text (header included) from the state."""
    state = WorkspaceState(Store(), FakeClock())
    writer = Principal(ALICE, is_admin=False)
    state.import_(writer, "/Shared/nb", b"select 1", format="SOURCE", language="SQL", overwrite=False)
    assert state.read_notebook("/Shared/nb") == ("SQL", b"-- Databricks notebook source\nselect 1")


def test_read_file_gives_the_bytes():
    """Other areas read a workspace file's bytes from the state."""
    state = WorkspaceState(Store(), FakeClock())
    writer = Principal(ALICE, is_admin=False)
    state.import_(writer, "/Shared/f.json", b"{}", format="AUTO", language=None, overwrite=False)
    assert state.read_file("/Shared/f.json") == b"{}"
