"""Workspace tasks from the command line against the emulator: results, exit codes and messages."""

from __future__ import annotations

import base64
import json
import threading
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


# -- hardening (issue 7): JSON results, messages, local targets, retry and race safety ------------------


def test_mutations_print_what_they_did_as_json(workspace_env: Emulator, notebook: Path):
    """mkdirs, import and delete each print one JSON object naming what was done."""
    assert json.loads(ok("workspace.mkdirs", "/Shared/a", "-o", "json")) == {"created": "/Shared/a"}
    imported = json.loads(ok("workspace.import", str(notebook), "/Shared/a/etl", "-o", "json"))
    assert (imported["imported"], imported["format"], imported["language"]) == (
        "/Shared/a/etl",
        "SOURCE",
        "PYTHON",
    )
    deleted = json.loads(ok("workspace.delete", "/Shared/a", "--recursive", "-o", "json"))
    assert deleted == {"deleted": "/Shared/a", "recursive": True}


def test_mkdirs_text_output_is_key_value(workspace_env: Emulator):
    """In text, a mutation's result is the usual key: value line."""
    assert ok("workspace.mkdirs", "/Shared/b").strip() == "created: /Shared/b"


def test_export_json_is_a_content_object(workspace_env: Emulator, notebook: Path, tmp_path: Path):
    """export -o json prints {path, encoding, content}: text when UTF-8, base64 otherwise."""
    ok("workspace.import", str(notebook), "/Shared/etl")
    text = json.loads(ok("workspace.export", "/Shared/etl", "-o", "json"))
    assert text == {"path": "/Shared/etl", "encoding": "utf-8", "content": notebook.read_text()}
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\xff\xfe\x00binary")
    ok("workspace.import", str(blob), "/Shared/blob.bin")
    binary = json.loads(ok("workspace.export", "/Shared/blob.bin", "-o", "json"))
    assert binary["encoding"] == "base64"
    assert base64.b64decode(binary["content"]) == b"\xff\xfe\x00binary"


def test_export_keeps_an_existing_local_file_without_overwrite(
    workspace_env: Emulator, notebook: Path, tmp_path: Path
):
    """An existing --dest is kept (exit 5, add --overwrite) before any request; --overwrite replaces it."""
    ok("workspace.import", str(notebook), "/Shared/etl")
    target = tmp_path / "mine.py"
    target.write_bytes(b"mine")
    before = len(workspace_env.requests(f"{WS}/export"))
    result = run_cli("workspace.export", "/Shared/etl", "--dest", str(target))
    assert result.exit_code == 5 and "exists; add --overwrite" in result.stderr
    assert target.read_bytes() == b"mine"
    assert len(workspace_env.requests(f"{WS}/export")) == before
    exported = json.loads(
        ok("workspace.export", "/Shared/etl", "--dest", str(target), "--overwrite", "-o", "json")
    )
    assert exported == {"exported": "/Shared/etl", "dest": str(target), "bytes": len(notebook.read_bytes())}
    assert target.read_bytes() == notebook.read_bytes()


def test_import_over_a_folder_says_it_is_a_folder(workspace_env: Emulator, notebook: Path):
    """Importing onto a folder, even with --overwrite, says DEST is a folder, not 'add --overwrite'."""
    ok("workspace.mkdirs", "/Shared/t/sub")
    result = run_cli("workspace.import", str(notebook), "/Shared/t/sub", "--overwrite")
    assert result.exit_code == 5
    assert "/Shared/t/sub is a directory" in result.stderr and "--overwrite" not in result.stderr
    assert "/Shared/t/sub/name" in result.stderr


def test_import_to_the_root_is_refused_before_any_request(workspace_env: Emulator, notebook: Path):
    """workspace.import a.py / exits 2 saying to name a path below /, sending nothing."""
    for root in ("/", "/Workspace", "//"):
        result = run_cli("workspace.import", str(notebook), root)
        assert result.exit_code == 2 and "name a path below it" in result.stderr
    assert workspace_env.requests(WS) == []


def test_import_under_a_notebook_says_the_parent_is_a_notebook(workspace_env: Emulator, notebook: Path):
    """Importing below a notebook says that the parent is a notebook, not that a folder is missing."""
    ok("workspace.import", str(notebook), "/Shared/etl")
    for dest in ("/Shared/etl/child", "/Shared/etl/deeper/child"):
        result = run_cli("workspace.import", str(notebook), dest)
        assert result.exit_code == 5
        assert "/Shared/etl is a notebook, not a folder" in result.stderr


def test_import_from_a_closed_stdin_says_to_pass_a_file(
    workspace_env: Emulator, monkeypatch: pytest.MonkeyPatch
):
    """With fd 0 closed (sys.stdin is None), 'workspace.import -' exits 2 saying to pass a file."""
    monkeypatch.setattr("sys.stdin", None)
    result = run_cli("workspace.import", "-", "/Shared/x.py")
    assert result.exit_code == 2 and "stdin is closed: pass a file" in result.stderr
    assert imports(workspace_env) == []


def test_import_dir_overwrite_is_retried_after_a_lost_response(workspace_env: Emulator, tree: Path):
    """With --overwrite even new files go with overwrite=true: a lost answer is retried and succeeds."""
    workspace_env.fault(pattern=f"POST {WS}/import", status=500, after_handler=True, retry_after=0)
    ok("workspace.import-dir", str(tree), "/Shared/project", "--overwrite")
    assert sorted(r["status"] for r in imports(workspace_env)) == [200, 200, 200, 500]


def test_import_dir_new_file_with_a_lost_response_is_settled_by_content(workspace_env: Emulator, tree: Path):
    """Without --overwrite, a resent import that finds its own content there succeeds (no exit 5 or 6)."""
    ok("workspace.mkdirs", "/Shared/project/lib")  # folders that exist: their new files go one by one
    workspace_env.fault(pattern=f"POST {WS}/import", status=500, after_handler=True, retry_after=0)
    changes = json.loads(ok("workspace.import-dir", str(tree), "/Shared/project", "-o", "json"))
    assert {c["action"] for c in changes} == {"created"}
    assert sorted(r["status"] for r in imports(workspace_env)) == [200, 200, 400, 500]


def test_import_dir_of_a_new_folder_is_one_zip_and_a_lost_answer_is_settled(
    workspace_env: Emulator, tree: Path
):
    """A new folder is one zip import; its answer lost, each file is found there with our content."""
    changes = json.loads(ok("workspace.import-dir", str(tree), "/Shared/fresh", "-o", "json"))
    assert [c["action"] for c in changes] == ["created"] * 3 and len(imports(workspace_env)) == 1
    workspace_env.control("DELETE", "requests")
    workspace_env.fault(pattern=f"POST {WS}/import", status=500, after_handler=True, retry_after=0)
    changes = json.loads(ok("workspace.import-dir", str(tree), "/Shared/project", "-o", "json"))
    assert {c["action"] for c in changes} == {"created"}
    assert sorted(r["status"] for r in imports(workspace_env)) == [400, 400, 400, 500]


@pytest.mark.parametrize("overwrite", [False, True], ids=["plain", "overwrite"])
def test_concurrent_identical_import_dirs_all_succeed(workspace_env: Emulator, tree: Path, overwrite: bool):
    """Four identical import-dir runs at once all succeed and leave one copy of the tree."""
    from brickbook.client import Client
    from brickbook.config import Config
    from brickbook.context import Context
    from brickbook.ops.workspace import apply_import_dir, plan_import_dir
    from tests.conftest import ADMIN_TOKEN

    config = Config(host=workspace_env.url, auth_type="pat", token=ADMIN_TOKEN)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        with Client(config) as client:
            barrier.wait()
            try:
                ctx = Context(client=client)
                apply_import_dir(ctx, plan_import_dir(ctx, tree, "/Shared/project", overwrite=overwrite))
            except BaseException as error:  # collected and asserted on below
                errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert ok("workspace.import-dir", str(tree), "/Shared/project").strip() == "3 unchanged"


def test_import_dir_skips_links_out_of_the_folder_and_says_so(
    workspace_env: Emulator, tree: Path, tmp_path: Path
):
    """A link to a file outside SRC is not uploaded; it is listed as skipped with its reason."""
    secret = tmp_path / "passwd"
    secret.write_bytes(b"root:x:0:0\n")
    (tree / "passwd").symlink_to(secret)
    (tree / "gone").symlink_to(tree / "missing")
    out = ok("workspace.import-dir", str(tree), "/Shared/project")
    assert "skipped  " in out and "symbolic link to outside the source folder" in out
    assert "broken symbolic link" in out and "3 created, 2 skipped" in out
    assert run_cli("workspace.get-status", "/Shared/project/passwd").exit_code == 4


def test_export_dir_with_a_file_where_a_folder_goes_writes_nothing(
    workspace_env: Emulator, tree: Path, tmp_path: Path
):
    """A local file standing where export-dir needs a folder is exit 5 before anything is written."""
    ok("workspace.import-dir", str(tree), "/Shared/project")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "lib").write_bytes(b"a file")
    result = run_cli("workspace.export-dir", "/Shared/project", str(out_dir))
    assert result.exit_code == 5 and "is a file, not a directory" in result.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ["lib"]


# -- dry runs: plan, print, stop ----------------------------------------------------------------------


def test_import_dir_dry_run_prints_the_plan_and_sends_no_write(workspace_env: Emulator, tree: Path):
    """--dry-run lists what would be created and sends neither an import nor a mkdirs."""
    out = ok("workspace.import-dir", str(tree), "/Shared/project", "--dry-run")
    assert "create  /Shared/project/etl" in out
    assert out.strip().endswith("3 to create (dry run: nothing changed)")
    assert [r for r in workspace_env.requests(WS) if r["method"] != "GET"] == []


def test_import_dir_dry_run_json_names_each_planned_action(workspace_env: Emulator, tree: Path):
    """With -o json each row carries the planned action (create, update, unchanged) and dry_run."""
    ok("workspace.import-dir", str(tree), "/Shared/project")
    (tree / "lib" / "data.csv").write_bytes(b"a,b\n3,4\n")
    rows = json.loads(
        ok("workspace.import-dir", str(tree), "/Shared/project", "--overwrite", "--dry-run", "-o", "json")
    )
    assert sorted((r["path"], r["action"]) for r in rows) == [
        ("/Shared/project/etl", "unchanged"),
        ("/Shared/project/lib/data.csv", "update"),
        ("/Shared/project/lib/helpers.py", "unchanged"),
    ]
    assert all(r["dry_run"] is True for r in rows)
    assert run_cli("workspace.export", "/Shared/project/lib/data.csv").stdout == "a,b\n1,2\n"


def test_export_dir_dry_run_writes_nothing(workspace_env: Emulator, tree: Path, tmp_path: Path):
    """export-dir --dry-run lists the files it would write and creates nothing locally."""
    ok("workspace.import-dir", str(tree), "/Shared/project")
    out = ok("workspace.export-dir", "/Shared/project", str(tmp_path / "out"), "--dry-run")
    assert out.strip().endswith("3 to create (dry run: nothing changed)")
    assert not (tmp_path / "out").exists()


# -- what import-dir remembers in the state dir ---------------------------------------------------------


def fifty_files(root: Path) -> Path:
    """50 notebooks and files in 3 folders."""
    for n in range(50):
        folder = root / ("", "jobs", "lib")[n % 3]
        folder.mkdir(parents=True, exist_ok=True)
        name, body = (f"nb{n}.py", HEADER + b"x = 1\n") if n % 2 else (f"d{n}.csv", b"n\n1\n")
        (folder / name).write_bytes(body)
    return root


def test_import_dir_rerun_unchanged_sends_only_listings(workspace_env: Emulator, tmp_path: Path):
    """A second import-dir of 50 unchanged files in 3 folders: <= 10 requests, no import or export."""
    source = fifty_files(tmp_path / "src")
    ok("workspace.import-dir", str(source), "/Shared/project")
    workspace_env.control("DELETE", "requests")
    assert ok("workspace.import-dir", str(source), "/Shared/project").strip() == "50 unchanged"
    sent = workspace_env.requests()
    assert len(sent) <= 10
    assert {r["path"] for r in sent} <= {f"{WS}/list", f"{WS}/get-status"}


def test_import_dir_names_a_remote_edit_and_keeps_it(workspace_env: Emulator, tree: Path):
    """An object edited in the workspace since the last import-dir: exit 5 naming it, nothing sent."""
    ok("workspace.import-dir", str(tree), "/Shared/project")
    workspace_env.clock.advance(1)
    ok("workspace.import", str(tree / "lib" / "data.csv"), "/Shared/project/lib/helpers.py", "--overwrite")
    workspace_env.control("DELETE", "requests")
    result = run_cli("workspace.import-dir", str(tree), "/Shared/project")
    assert result.exit_code == 5
    assert "/Shared/project/lib/helpers.py changed in the workspace since the last deploy" in result.stderr
    assert "--overwrite" in result.stderr
    assert imports(workspace_env) == []


def test_import_dir_overwrite_replaces_a_remote_edit_and_says_so(workspace_env: Emulator, tree: Path):
    """With --overwrite the edited object is imported again and the report gives the reason."""
    ok("workspace.import-dir", str(tree), "/Shared/project")
    workspace_env.clock.advance(1)
    ok("workspace.import", str(tree / "lib" / "data.csv"), "/Shared/project/lib/helpers.py", "--overwrite")
    out = ok("workspace.import-dir", str(tree), "/Shared/project", "--overwrite")
    assert "/Shared/project/lib/helpers.py  changed in the workspace since the last deploy" in out
    assert out.strip().endswith("1 updated, 2 unchanged")


def test_import_dir_dry_run_keeps_no_record(workspace_env: Emulator, tree: Path, tmp_path: Path):
    """A dry run reads the record but writes none; --state-dir chooses where it is kept."""
    state = tmp_path / "state"
    ok("workspace.import-dir", str(tree), "/Shared/project", "--state-dir", str(state), "--dry-run")
    assert not state.exists()
    ok("workspace.import-dir", str(tree), "/Shared/project", "--state-dir", str(state))
    (record,) = (state / "deployed").glob("import-*.json")
    assert set(json.loads(record.read_bytes())["objects"]) == {
        "/Shared/project/etl",
        "/Shared/project/lib/data.csv",
        "/Shared/project/lib/helpers.py",
    }


def test_import_dir_with_a_corrupt_record_exits_2_naming_it(
    workspace_env: Emulator, tree: Path, tmp_path: Path
):
    """A record that is not JSON stops import-dir before any request (exit 2) and names the file."""
    state = tmp_path / "state"
    ok("workspace.import-dir", str(tree), "/Shared/project", "--state-dir", str(state))
    (record,) = (state / "deployed").glob("import-*.json")
    record.write_bytes(b'{"objects": ')
    workspace_env.control("DELETE", "requests")
    result = run_cli("workspace.import-dir", str(tree), "/Shared/project", "--state-dir", str(state))
    assert result.exit_code == 2
    assert f"deploy record {record} is corrupt" in result.stderr and "delete the file" in result.stderr
    assert workspace_env.requests() == []


def test_import_dir_with_a_state_dir_that_is_a_file_exits_2(
    workspace_env: Emulator, tree: Path, tmp_path: Path
):
    """--state-dir naming a file is a usage error before any request."""
    (tmp_path / "state").write_bytes(b"")
    result = run_cli(
        "workspace.import-dir", str(tree), "/Shared/project", "--state-dir", str(tmp_path / "state")
    )
    assert result.exit_code == 2 and "is not a directory" in result.stderr
    assert workspace_env.requests() == []


def test_export_dir_rerun_downloads_nothing_unchanged(workspace_env: Emulator, tree: Path, tmp_path: Path):
    """A second export-dir of an unchanged folder sends no export."""
    ok("workspace.import-dir", str(tree), "/Shared/project")
    ok("workspace.export-dir", "/Shared/project", str(tmp_path / "out"))
    workspace_env.control("DELETE", "requests")
    assert ok("workspace.export-dir", "/Shared/project", str(tmp_path / "out")).strip() == "3 unchanged"
    assert workspace_env.requests(f"{WS}/export") == []
