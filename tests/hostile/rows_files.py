"""Hostile-input rows for local files, paths, workspace and DBFS tasks (issue 7 rows 1, 6, 9, 10, 14-16, 19).

Local targets are FIFOs, links and throwaway devices made in the scratch folder, never real ``/dev``
files. Remote objects are made through the emulator's REST API directly.
"""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import threading
from pathlib import Path

from tests.hostile.table import Row, Scene

WS = "/api/2.0/workspace"
NOTEBOOK = b"# Databricks notebook source\nprint('etl')\n"
LONG = "n" * 5000
Done = subprocess.CompletedProcess[bytes]


# -- setup helpers --------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def remote_notebook(scene: Scene, path: str = "/Shared/etl") -> None:
    scene.api("POST", f"{WS}/mkdirs", {"path": str(Path(path).parent)})
    body = {"path": path, "content": _b64(NOTEBOOK), "format": "SOURCE", "language": "PYTHON"}
    scene.api("POST", f"{WS}/import", body)


PAYLOAD = b"\x00\x01payload\xff"


def remote_file(scene: Scene, path: str = "/data/copy.bin", data: bytes = PAYLOAD) -> None:
    scene.api("POST", "/api/2.0/dbfs/put", {"path": path, "contents": _b64(data), "overwrite": True})


def local_notebook(scene: Scene, name: str = "a.py") -> Path:
    path = scene.tmp / name
    path.write_bytes(NOTEBOOK)
    return path


def local_tree(scene: Scene) -> Path:
    """A small source folder: a notebook and a file in a subfolder."""
    root = scene.tmp / "src"
    (root / "lib").mkdir(parents=True)
    (root / "etl.py").write_bytes(NOTEBOOK)
    (root / "lib" / "data.csv").write_bytes(b"a,b\n1,2\n")
    return root


_readers: dict[str, tuple[threading.Thread, list[bytes]]] = {}


def fifo_behind_link(scene: Scene) -> None:
    """A FIFO with a reader, and ``out`` linking to it (what /dev/stdout is to a pipe)."""
    fifo = scene.tmp / "pipe"
    os.mkfifo(fifo)
    (scene.tmp / "out").symlink_to(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    _readers[str(scene.tmp)] = (reader, received)


def fifo_got(expected: bytes):  # type: ignore[no-untyped-def]
    def check(scene: Scene, done: Done) -> None:
        reader, received = _readers.pop(str(scene.tmp))
        reader.join(timeout=10)
        assert received == [expected]
        assert (scene.tmp / "out").is_symlink()
        assert stat.S_ISFIFO((scene.tmp / "pipe").lstat().st_mode)

    return check


def null_device(scene: Scene) -> None:
    """A throwaway null character device in the scratch folder (mknod needs root; else a FIFO stands in)."""
    remote_file(scene)
    try:
        os.mknod(scene.tmp / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        os.mkfifo(scene.tmp / "null")
        threading.Thread(target=(scene.tmp / "null").read_bytes, daemon=True).start()


def still_a_device(scene: Scene, done: Done) -> None:
    mode = (scene.tmp / "null").lstat().st_mode
    assert stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)
    assert [p.name for p in scene.tmp.iterdir()] == ["null"]


def umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def new_file_mode(scene: Scene, done: Done) -> None:
    target = scene.tmp / "etl.py"
    assert target.read_bytes() == NOTEBOOK
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask()


def existing_0640(scene: Scene) -> None:
    remote_notebook(scene)
    (scene.tmp / "etl.py").write_bytes(b"old")
    (scene.tmp / "etl.py").chmod(0o640)


def kept_mode(scene: Scene, done: Done) -> None:
    target = scene.tmp / "etl.py"
    assert (target.read_bytes(), stat.S_IMODE(target.stat().st_mode)) == (NOTEBOOK, 0o640)


def remote_absent(path: str):  # type: ignore[no-untyped-def]
    def check(scene: Scene, done: Done) -> None:
        listed = scene.api("GET", f"{WS}/list?path={Path(path).parent}")
        assert path not in [o["path"] for o in listed.get("objects", [])]

    return check


def still_a_folder(path: str):  # type: ignore[no-untyped-def]
    def check(scene: Scene, done: Done) -> None:
        assert scene.api("GET", f"{WS}/get-status?path={path}")["object_type"] == "DIRECTORY"
        assert scene.api("GET", f"{WS}/list?path={path}").get("objects") is None

    return check


def undecodable_in_tree(scene: Scene) -> None:
    root = local_tree(scene)
    (Path(os.fsdecode(os.fsencode(root) + b"/bad\xff.py"))).write_bytes(b"x = 1\n")


def control_name_in_tree(scene: Scene) -> None:
    root = local_tree(scene)
    (root / "a\nb.txt").write_bytes(b"x")


def links_in_tree(scene: Scene) -> None:
    root = local_tree(scene)
    (root / "passwd").symlink_to("/etc/passwd")
    (root / "broken").symlink_to(root / "missing")
    (root / "loop").symlink_to(root)


def remote_tree(scene: Scene) -> None:
    remote_notebook(scene, "/Shared/p/etl")
    remote_notebook(scene, "/Shared/p/lib/helpers")


def file_where_folder_goes(scene: Scene) -> None:
    remote_tree(scene)
    (scene.tmp / "out").mkdir()
    (scene.tmp / "out" / "lib").write_bytes(b"a file, not a folder")


def folder_where_file_goes(scene: Scene) -> None:
    remote_tree(scene)
    (scene.tmp / "out" / "etl.py").mkdir(parents=True)


def a_py_is_a_file(scene: Scene) -> None:
    remote_file(scene)
    remote_notebook(scene)
    (scene.tmp / "a.py").write_bytes(b"print(1)\n")


def lost_import_answer(scene: Scene) -> None:
    local_tree(scene)
    scene.emulator.fault(pattern=f"POST {WS}/import", status=500, after_handler=True, retry_after=0)


def tree_imported(scene: Scene, done: Done) -> None:
    assert scene.api("GET", f"{WS}/get-status?path=/Shared/p/etl")["object_type"] == "NOTEBOOK"
    assert scene.api("GET", f"{WS}/get-status?path=/Shared/p/lib/data.csv")["object_type"] == "FILE"


def only_the_tree_went_up(scene: Scene, done: Done) -> None:
    listed = scene.api("GET", f"{WS}/list?path=/Shared/p")
    assert sorted(o["path"] for o in listed["objects"]) == ["/Shared/p/etl", "/Shared/p/lib"]


def json_stdout(*pairs: str) -> str:
    """A regex for a pretty-printed JSON object holding these ``"key": value`` pairs, in order."""
    return r"^\{\s*" + r",\s*".join(pairs) + r"[\s\S]*\}\s*$"


ROWS: list[Row] = [
    # -- 1: atomic writes never replace a device, FIFO or link; modes honour the umask ----------------
    Row(
        "files-cp-into-link-to-fifo",
        ["fs.cp", "dbfs:/data/copy.bin", "out", "--overwrite"],
        0,
        refused=False,
        setup=lambda s: (remote_file(s), fifo_behind_link(s)),
        check=fifo_got(PAYLOAD),
    ),
    Row(
        "files-export-into-link-to-fifo",
        ["workspace.export", "/Shared/etl", "--dest", "out"],
        0,
        refused=False,
        setup=lambda s: (remote_notebook(s), fifo_behind_link(s)),
        check=fifo_got(NOTEBOOK),
    ),
    Row(
        "files-cp-into-char-device",
        ["fs.cp", "dbfs:/data/copy.bin", "null", "--overwrite"],
        0,
        refused=False,
        setup=null_device,
        check=still_a_device,
    ),
    Row(
        "files-export-new-file-honours-umask",
        ["workspace.export", "/Shared/etl", "--dest", "etl.py"],
        0,
        refused=False,
        setup=remote_notebook,
        check=new_file_mode,
    ),
    Row(
        "files-export-overwrite-keeps-mode",
        ["workspace.export", "/Shared/etl", "--dest", "etl.py", "--overwrite"],
        0,
        refused=False,
        setup=existing_0640,
        check=kept_mode,
    ),
    Row(
        "files-export-into-dangling-link",
        ["workspace.export", "/Shared/etl", "--dest", "dangling"],
        2,
        r"^error: 'dangling' is a symbolic link to '.*', which does not exist",
        setup=lambda s: (remote_notebook(s), (s.tmp / "dangling").symlink_to(s.tmp / "gone" / "x")),
    ),
    # -- 6: import-dir is retry-safe (lost answers) with and without --overwrite ------------------------
    Row(
        "files-import-dir-overwrite-lost-answer",
        ["workspace.import-dir", "src", "/Shared/p", "--overwrite"],
        0,
        refused=False,
        setup=lost_import_answer,
        check=tree_imported,
    ),
    Row(
        "files-import-dir-lost-answer",
        ["workspace.import-dir", "src", "/Shared/p"],
        0,
        refused=False,
        setup=lost_import_answer,
        check=tree_imported,
    ),
    # -- 9: undecodable names and arguments: exit 2 naming them escaped, before any request -------------
    Row(
        "files-ls-undecodable-dbfs-path",
        ["fs.ls", b"dbfs:/bad\xff"],
        2,
        r"^error: DBFS path '/bad\\xff' is not valid UTF-8",
    ),
    Row(
        "files-list-undecodable-workspace-path",
        ["workspace.list", b"/Shared/\xff\xfe"],
        2,
        r"^error: workspace path '/Shared/\\xff\\xfe' is not valid UTF-8",
    ),
    Row(
        "files-import-undecodable-src",
        ["workspace.import", b"bad\xff.py", "/Shared/x"],
        2,
        r"^error: local path 'bad\\xff\.py' is not valid UTF-8",
    ),
    Row(
        "files-import-dir-undecodable-name",
        ["workspace.import-dir", "src", "/Shared/p"],
        2,
        r"^error: local name 'src/bad\\xff\.py' is not valid UTF-8",
        setup=undecodable_in_tree,
    ),
    Row(
        "files-cp-r-undecodable-name",
        ["fs.cp", "src", "dbfs:/t", "--recursive"],
        2,
        r"^error: local name 'src/bad\\xff\.py' is not valid UTF-8",
        setup=undecodable_in_tree,
    ),
    Row(
        "files-cp-undecodable-dest",
        ["fs.cp", "dbfs:/data/copy.bin", b"out\xff.bin"],
        2,
        r"^error: local path 'out\\xff\.bin' is not valid UTF-8",
        setup=remote_file,
    ),
    # -- 10: export-dir with the wrong kind in the way or a name too long: exit 5 or 2, short ------------
    Row(
        "files-export-dir-file-where-folder-goes",
        ["workspace.export-dir", "/Shared/p", "out"],
        5,
        r"^error: cannot write 'out/lib/helpers\.py': 'out/lib' is a file, not a directory$",
        setup=file_where_folder_goes,
    ),
    Row(
        "files-export-dir-folder-where-file-goes",
        ["workspace.export-dir", "/Shared/p", "out"],
        5,
        r"^error: 'out/etl\.py' is a directory",
        setup=folder_where_file_goes,
    ),
    Row(
        "files-export-dir-dest-is-a-file",
        ["workspace.export-dir", "/Shared/p", "a.py"],
        5,
        r"^error: 'a\.py' exists and is not a directory",
        setup=lambda s: (remote_tree(s), local_notebook(s)),
    ),
    Row(
        "files-export-dir-name-too-long",
        ["workspace.export-dir", "/Shared/p", LONG],
        2,
        r"^error: local path 'n+…n+' \(5000 characters\) is too long for the file system",
        setup=remote_tree,
    ),
    Row(
        "files-export-dest-name-too-long",
        ["workspace.export", "/Shared/etl", "--dest", f"{LONG}.py"],
        2,
        r"too long for the file system",
        setup=remote_notebook,
    ),
    Row(
        "files-cp-dest-name-too-long",
        ["fs.cp", "dbfs:/data/copy.bin", f"sub/{LONG}"],
        2,
        r"too long for the file system",
        setup=remote_file,
    ),
    Row(
        "files-import-src-name-too-long",
        ["workspace.import", f"{LONG}.py", "/Shared/x"],
        2,
        r"too long for the file system",
    ),
    # -- 14: control characters in workspace and DBFS paths: exit 2 -------------------------------------
    Row(
        "files-mkdirs-newline-path",
        ["workspace.mkdirs", "/Shared/t/a\nb"],
        2,
        r"^error: workspace path '/Shared/t/a\\nb' contains a control character",
    ),
    Row(
        "files-import-escape-in-dest",
        ["workspace.import", "a.py", "/Shared/\x1b[31mred"],
        2,
        r"control character",
        setup=local_notebook,
    ),
    Row(
        "files-dbfs-mkdirs-cr-path",
        ["fs.mkdirs", "dbfs:/t/a\rb"],
        2,
        r"^error: DBFS path '/t/a\\rb' contains",
    ),
    Row("files-dbfs-ls-c1-path", ["fs.ls", "dbfs:/a\u0085b"], 2, r"^error: DBFS path '/a\\x85b' contains"),
    Row("files-dbfs-rm-tab-path", ["fs.rm", "dbfs:/tmp/\tx"], 2, r"contains a control character"),
    Row(
        "files-import-dir-control-name",
        ["workspace.import-dir", "src", "/Shared/p"],
        2,
        r"^error: workspace path '/Shared/p/a\\nb\.txt' contains a control character",
        setup=control_name_in_tree,
    ),
    Row(
        "files-cp-r-control-name",
        ["fs.cp", "src", "dbfs:/t", "-r"],
        2,
        r"^error: DBFS path '/t/a\\nb\.txt' contains a control character",
        setup=control_name_in_tree,
    ),
    # -- 15: walks never leave the source folder; skips are listed -----------------------------------------
    Row(
        "files-import-dir-skips-links-out",
        ["workspace.import-dir", "src", "/Shared/p"],
        0,
        refused=False,
        setup=links_in_tree,
        check=only_the_tree_went_up,
        stdout=r"(?s)skipped\s+src/broken\s+broken symbolic link.*skipped\s+src/loop\s+symbolic link loop.*"
        r"skipped\s+src/passwd\s+symbolic link to outside the source folder.*2 created, 3 skipped",
    ),
    Row(
        "files-cp-r-skips-links-out",
        ["fs.cp", "src", "dbfs:/t", "--recursive", "-o", "json"],
        0,
        refused=False,
        setup=links_in_tree,
        stdout=r'"path": "src/passwd",\s*"reason": "symbolic link to outside the source folder"',
    ),
    # -- 16: messages that name the real obstacle -------------------------------------------------------
    Row(
        "files-import-over-folder-with-overwrite",
        ["workspace.import", "a.py", "/Shared/t/sub", "--overwrite"],
        5,
        r"^error: /Shared/t/sub is a directory: a file or notebook cannot replace it; import to a path "
        r"inside it, e.g. /Shared/t/sub/name$",
        refused=False,  # the refused import itself is a request; nothing changes remotely
        setup=lambda s: (local_notebook(s), s.api("POST", f"{WS}/mkdirs", {"path": "/Shared/t/sub"})),
        check=still_a_folder("/Shared/t/sub"),
    ),
    Row(
        "files-import-to-root",
        ["workspace.import", "a.py", "/"],
        2,
        r"name a path below it",
        setup=local_notebook,
    ),
    Row(
        "files-import-to-workspace-root-alias",
        ["workspace.import", "a.py", "/Workspace/"],
        2,
        r"^error: cannot import to the workspace root /Workspace",
        setup=local_notebook,
    ),
    Row(
        "files-import-under-notebook",
        ["workspace.import", "a.py", "/Shared/etl/child"],
        5,
        r"^error: cannot import /Shared/etl/child: /Shared/etl is a notebook, not a folder",
        refused=False,
        setup=lambda s: (local_notebook(s), remote_notebook(s)),
        check=remote_absent("/Shared/etl/child"),
    ),
    Row(
        "files-download-below-a-file",
        ["fs.cp", "dbfs:/data/copy.bin", "a.py/child.bin"],
        5,
        r"^error: cannot write 'a\.py/child\.bin': 'a\.py' is a file, not a directory$",
        setup=a_py_is_a_file,
    ),
    Row(
        "files-export-below-a-file",
        ["workspace.export", "/Shared/etl", "--dest", "a.py/child.py"],
        5,
        r"'a\.py' is a file, not a directory$",
        setup=a_py_is_a_file,
    ),
    # -- 19: one JSON value per task; one rule for existing local files ---------------------------------
    Row(
        "files-json-workspace-mkdirs",
        ["workspace.mkdirs", "/Shared/a", "-o", "json"],
        0,
        refused=False,
        stdout=json_stdout('"created": "/Shared/a"'),
    ),
    Row(
        "files-json-workspace-delete",
        ["workspace.delete", "/Shared/etl", "-o", "json"],
        0,
        refused=False,
        setup=remote_notebook,
        stdout=json_stdout('"deleted": "/Shared/etl"', '"recursive": false'),
    ),
    Row(
        "files-json-workspace-import",
        ["workspace.import", "a.py", "/Shared/a", "-o", "json"],
        0,
        refused=False,
        setup=local_notebook,
        stdout=json_stdout('"imported": "/Shared/a"', '"format": "SOURCE"', '"language": "PYTHON"'),
    ),
    Row(
        "files-json-workspace-export",
        ["workspace.export", "/Shared/etl", "-o", "json"],
        0,
        setup=remote_notebook,
        stdout=json_stdout(
            '"path": "/Shared/etl"', '"encoding": "utf-8"', r'"content": "# Databricks notebook source\\n'
        ),
    ),
    Row(
        "files-json-fs-mkdirs",
        ["fs.mkdirs", "dbfs:/d", "-o", "json"],
        0,
        refused=False,
        stdout=json_stdout('"created": "dbfs:/d"'),
    ),
    Row(
        "files-json-fs-rm",
        ["fs.rm", "dbfs:/data/copy.bin", "-o", "json"],
        0,
        refused=False,
        setup=remote_file,
        stdout=json_stdout('"deleted": "dbfs:/data/copy.bin"', '"recursive": false'),
    ),
    Row(
        "files-json-fs-cp",
        ["fs.cp", "dbfs:/data/copy.bin", "copy.bin", "-o", "json"],
        0,
        refused=False,
        setup=remote_file,
        stdout=json_stdout('"copied": "dbfs:/data/copy.bin"', '"to": "copy.bin"', '"files": '),
    ),
    Row(
        "files-json-fs-cat-binary",
        ["fs.cat", "dbfs:/data/copy.bin", "-o", "json"],
        0,
        setup=remote_file,
        stdout=json_stdout(
            '"path": "dbfs:/data/copy.bin"',
            '"encoding": "base64"',
            f'"content": "{_b64(PAYLOAD)}"',
        ),
    ),
    Row(
        "files-export-keeps-existing-file",
        ["workspace.export", "/Shared/etl", "--dest", "a.py"],
        5,
        r"^error: 'a\.py' exists; add --overwrite to replace it$",
        setup=lambda s: (remote_notebook(s), local_notebook(s)),
    ),
    Row(
        "files-cp-keeps-existing-file",
        ["fs.cp", "dbfs:/data/copy.bin", "a.py"],
        5,
        r"^error: 'a\.py' exists; add --overwrite to replace it$",
        setup=lambda s: (remote_file(s), local_notebook(s)),
    ),
    # -- closed stdin for 'workspace.import -' --------------------------------------------------------------
    Row(
        "files-import-from-closed-stdin",
        ["workspace.import", "-", "/Shared/x.py"],
        2,
        r"^error: stdin is closed: pass a file as SRC instead of '-'$",
        stdin=None,
    ),
]
