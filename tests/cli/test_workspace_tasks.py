"""Workspace tasks from the command line against the emulator: results, exit codes and messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Emulator, run_cli

WS = "/api/2.0/workspace"
HEADER = b"# Databricks notebook source\n"


def ok(*args: str) -> str:
    result = run_cli(*args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def imports(emulator: Emulator) -> list[dict[str, object]]:
    return emulator.requests(f"{WS}/import")


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    path = tmp_path / "etl.py"
    path.write_bytes(HEADER + b"print('etl')\n")
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A local project: a notebook, a plain .py, a file in a subfolder, a hidden .git folder."""
    root = tmp_path / "project"
    (root / "lib").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "etl.py").write_bytes(HEADER + b"print('etl')\n")
    (root / "lib" / "helpers.py").write_bytes(b"def helper():\n    return 1\n")
    (root / "lib" / "data.csv").write_bytes(b"a,b\n1,2\n")
    (root / ".git" / "HEAD").write_bytes(b"ref: refs/heads/main\n")
    return root


# -- list, get-status, mkdirs, delete ------------------------------------------------------------------


def test_list_prints_a_table(workspace_env: Emulator):
    """workspace.list / prints the top folders as a table."""
    out = ok("workspace.list", "/")
    assert out.splitlines()[0].split() == ["OBJECT_TYPE", "LANGUAGE", "OBJECT_ID", "PATH"]
    assert "/Shared" in out and "/Users" in out


def test_list_recursive_walks_the_tree(workspace_env: Emulator):
    """--recursive lists every object below the path."""
    ok("workspace.mkdirs", "/Shared/a/b")
    paths = [o["path"] for o in json.loads(ok("workspace.list", "/Shared", "--recursive", "-o", "json"))]
    assert paths == ["/Shared/a", "/Shared/a/b"]


def test_relative_path_is_a_usage_error_before_any_request(workspace_env: Emulator):
    """A relative path exits 2 with a hint and sends nothing."""
    result = run_cli("workspace.list", "Shared")
    assert result.exit_code == 2
    assert "must be absolute" in result.stderr
    assert workspace_env.requests(WS) == []


def test_list_of_a_missing_path_exits_4(workspace_env: Emulator):
    """A missing path exits 4 with the service's message."""
    result = run_cli("workspace.list", "/Shared/nope")
    assert result.exit_code == 4
    assert "RESOURCE_DOES_NOT_EXIST" in result.stderr and "/Shared/nope" in result.stderr


def test_get_status_json(workspace_env: Emulator):
    """get-status -o json prints the ObjectInfo."""
    info = json.loads(ok("workspace.get-status", "/Shared", "-o", "json"))
    assert info["object_type"] == "DIRECTORY" and info["path"] == "/Shared"


def test_mkdirs_through_a_notebook_exits_5(workspace_env: Emulator, notebook: Path):
    """mkdirs through a notebook is a conflict: exit 5, RESOURCE_ALREADY_EXISTS."""
    ok("workspace.import", str(notebook), "/Shared/etl")
    result = run_cli("workspace.mkdirs", "/Shared/etl/sub")
    assert result.exit_code == 5
    assert "RESOURCE_ALREADY_EXISTS" in result.stderr


def test_delete_of_a_non_empty_folder_asks_for_recursive(workspace_env: Emulator):
    """Deleting a non-empty folder exits 2 and says to add --recursive; with it the folder goes."""
    ok("workspace.mkdirs", "/Shared/a/b")
    result = run_cli("workspace.delete", "/Shared/a")
    assert result.exit_code == 2
    assert "DIRECTORY_NOT_EMPTY" in result.stderr and "--recursive" in result.stderr
    ok("workspace.delete", "/Shared/a", "--recursive")
    assert run_cli("workspace.get-status", "/Shared/a").exit_code == 4


# -- import / export -----------------------------------------------------------------------------------


def test_import_infers_the_language(workspace_env: Emulator, notebook: Path):
    """A .py file is imported as a Python notebook (SOURCE)."""
    ok("workspace.import", str(notebook), "/Shared/etl")
    info = json.loads(ok("workspace.get-status", "/Shared/etl", "-o", "json"))
    assert (info["object_type"], info["language"]) == ("NOTEBOOK", "PYTHON")


def test_import_of_other_files_makes_a_workspace_file(workspace_env: Emulator, tmp_path: Path):
    """A file with no notebook extension is imported with AUTO, as a workspace file."""
    data = tmp_path / "data.csv"
    data.write_bytes(b"a,b\n")
    ok("workspace.import", str(data), "/Shared/data.csv")
    assert json.loads(ok("workspace.get-status", "/Shared/data.csv", "-o", "json"))["object_type"] == "FILE"


def test_import_over_an_existing_path_needs_overwrite(workspace_env: Emulator, notebook: Path):
    """A second import without --overwrite exits 5 and says to add --overwrite."""
    ok("workspace.import", str(notebook), "/Shared/etl")
    result = run_cli("workspace.import", str(notebook), "/Shared/etl")
    assert result.exit_code == 5
    assert "/Shared/etl already exists; add --overwrite" in result.stderr


def test_import_with_overwrite_is_idempotent(workspace_env: Emulator, notebook: Path):
    """With --overwrite the same import can run again and again."""
    for _ in range(3):
        ok("workspace.import", str(notebook), "/Shared/etl", "--overwrite")
    assert len(imports(workspace_env)) == 3


def test_import_with_overwrite_is_retried_after_a_lost_response(workspace_env: Emulator, notebook: Path):
    """An import with --overwrite whose response was lost is sent again and succeeds."""
    workspace_env.fault(pattern=f"POST {WS}/import", status=500, after_handler=True, retry_after=0)
    ok("workspace.import", str(notebook), "/Shared/etl", "--overwrite")
    assert [r["status"] for r in imports(workspace_env)] == [500, 200]


def test_import_without_a_language_is_a_usage_error(workspace_env: Emulator, tmp_path: Path):
    """--format SOURCE on a file with no language extension exits 2 asking for --language."""
    src = tmp_path / "script"
    src.write_bytes(b"print(1)")
    result = run_cli("workspace.import", str(src), "/Shared/x", "--format", "SOURCE")
    assert result.exit_code == 2 and "--language" in result.stderr
    assert imports(workspace_env) == []


def test_import_with_a_bad_format_is_a_usage_error(workspace_env: Emulator, notebook: Path):
    """An unknown --format exits 2 before any request."""
    result = run_cli("workspace.import", str(notebook), "/Shared/x", "--format", "ZIP")
    assert result.exit_code == 2 and "--format must be one of" in result.stderr
    assert imports(workspace_env) == []


def test_import_of_a_missing_file_is_a_usage_error(workspace_env: Emulator, tmp_path: Path):
    """A source file that does not exist exits 2."""
    result = run_cli("workspace.import", str(tmp_path / "nope.py"), "/Shared/x")
    assert result.exit_code == 2 and "cannot read" in result.stderr


def test_import_into_a_missing_folder_says_to_mkdirs(workspace_env: Emulator, notebook: Path):
    """A missing parent folder exits 4 and names workspace.mkdirs."""
    result = run_cli("workspace.import", str(notebook), "/Shared/a/b/etl")
    assert result.exit_code == 4
    assert "workspace.mkdirs /Shared/a/b" in result.stderr


def test_import_over_10_mb_is_refused_locally(workspace_env: Emulator, tmp_path: Path):
    """Content over the 10 MB (base64) limit exits 2 without sending it."""
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * (8 * 1024 * 1024))
    result = run_cli("workspace.import", str(big), "/Shared/big.csv")
    assert result.exit_code == 2 and "10 MB" in result.stderr
    assert imports(workspace_env) == []


def test_export_to_a_file(workspace_env: Emulator, notebook: Path, tmp_path: Path):
    """export writes the SOURCE (header included) to a local file."""
    ok("workspace.import", str(notebook), "/Shared/etl")
    target = tmp_path / "out" / "etl.py"
    ok("workspace.export", "/Shared/etl", "--dest", str(target))
    assert target.read_bytes() == notebook.read_bytes()


def test_export_to_stdout(workspace_env: Emulator, notebook: Path):
    """Without DEST, export prints the content."""
    ok("workspace.import", str(notebook), "/Shared/etl")
    assert ok("workspace.export", "/Shared/etl") == notebook.read_text()


def test_export_jupyter(workspace_env: Emulator, notebook: Path):
    """--format JUPYTER prints an nbformat document."""
    ok("workspace.import", str(notebook), "/Shared/etl")
    document = json.loads(ok("workspace.export", "/Shared/etl", "--format", "jupyter"))
    assert document["nbformat"] == 4


def test_export_of_a_missing_path_exits_4(workspace_env: Emulator, tmp_path: Path):
    """A missing object exits 4 and writes nothing."""
    result = run_cli("workspace.export", "/Shared/nope", "--dest", str(tmp_path / "x.py"))
    assert result.exit_code == 4
    assert not (tmp_path / "x.py").exists()


def test_export_into_a_directory_is_a_local_conflict(workspace_env: Emulator, tmp_path: Path):
    """DEST naming an existing directory exits 5 (a folder where a file goes) before any request."""
    result = run_cli("workspace.export", "/Shared/etl", "--dest", str(tmp_path))
    assert result.exit_code == 5 and "is a directory" in result.stderr
    assert workspace_env.requests(f"{WS}/export") == []


# -- import-dir / export-dir ---------------------------------------------------------------------------


def test_import_dir_imports_the_tree(workspace_env: Emulator, tree: Path):
    """import-dir creates notebooks and files, skips hidden folders and reports what it created."""
    changes = json.loads(ok("workspace.import-dir", str(tree), "/Shared/project", "-o", "json"))
    assert sorted((c["path"], c["action"]) for c in changes) == [
        ("/Shared/project/etl", "created"),
        ("/Shared/project/lib/data.csv", "created"),
        ("/Shared/project/lib/helpers.py", "created"),
    ]
    assert run_cli("workspace.get-status", "/Shared/project/.git").exit_code == 4


def test_import_dir_twice_changes_nothing(workspace_env: Emulator, tree: Path):
    """A second import-dir reports everything unchanged and sends no import."""
    ok("workspace.import-dir", str(tree), "/Shared/project")
    before = len(imports(workspace_env))
    out = ok("workspace.import-dir", str(tree), "/Shared/project")
    assert out.strip() == "3 unchanged"
    assert len(imports(workspace_env)) == before


def test_import_dir_conflict_fails_before_writing(workspace_env: Emulator, tree: Path):
    """A changed file without --overwrite exits 5, and even the new files are not imported."""
    ok("workspace.import-dir", str(tree), "/Shared/project")
    (tree / "etl.py").write_bytes(HEADER + b"print('v2')\n")
    (tree / "new.txt").write_bytes(b"new")
    before = len(imports(workspace_env))
    result = run_cli("workspace.import-dir", str(tree), "/Shared/project")
    assert result.exit_code == 5
    assert "/Shared/project/etl" in result.stderr and "--overwrite" in result.stderr
    assert len(imports(workspace_env)) == before


def test_import_dir_overwrite_sends_only_changes(workspace_env: Emulator, tree: Path):
    """With --overwrite only the changed file is sent again."""
    ok("workspace.import-dir", str(tree), "/Shared/project")
    (tree / "lib" / "data.csv").write_bytes(b"a,b\n3,4\n")
    out = ok("workspace.import-dir", str(tree), "/Shared/project", "--overwrite")
    assert "updated  /Shared/project/lib/data.csv" in out and "1 updated, 2 unchanged" in out


def test_import_dir_of_a_missing_folder_is_a_usage_error(workspace_env: Emulator, tmp_path: Path):
    """A SRC that is not a local directory exits 2."""
    result = run_cli("workspace.import-dir", str(tmp_path / "nope"), "/Shared/p")
    assert result.exit_code == 2 and "not a local directory" in result.stderr


def test_export_dir_round_trips_import_dir(workspace_env: Emulator, tree: Path, tmp_path: Path):
    """export-dir of an imported tree writes the same files (notebooks with their extension)."""
    ok("workspace.import-dir", str(tree), "/Shared/project")
    out_dir = tmp_path / "exported"
    ok("workspace.export-dir", "/Shared/project", str(out_dir))
    for name in ("etl.py", "lib/helpers.py", "lib/data.csv"):
        assert (out_dir / name).read_bytes() == (tree / name).read_bytes()


def test_export_dir_twice_changes_nothing(workspace_env: Emulator, tree: Path, tmp_path: Path):
    """A second export-dir reports everything unchanged."""
    ok("workspace.import-dir", str(tree), "/Shared/project")
    ok("workspace.export-dir", "/Shared/project", str(tmp_path / "out"))
    assert ok("workspace.export-dir", "/Shared/project", str(tmp_path / "out")).strip() == "3 unchanged"


def test_export_dir_of_a_notebook_is_a_usage_error(workspace_env: Emulator, notebook: Path, tmp_path: Path):
    """export-dir of something that is not a folder exits 2."""
    ok("workspace.import", str(notebook), "/Shared/etl")
    result = run_cli("workspace.export-dir", "/Shared/etl", str(tmp_path / "out"))
    assert result.exit_code == 2 and "not a folder" in result.stderr
