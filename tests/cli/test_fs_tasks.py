"""fs.ls, fs.cp, fs.rm, fs.mkdirs and fs.cat from the command line against the emulator over HTTP."""

from __future__ import annotations

import base64
import json
import os
import random
import stat
import threading
from pathlib import Path

from tests.conftest import Emulator, run_cli

DBFS = "/api/2.0/dbfs"
MB = 1024 * 1024


def blob(size: int, seed: int = 7) -> bytes:
    """Deterministic pseudo-random bytes."""
    return random.Random(seed).randbytes(size)


def calls(emulator: Emulator, endpoint: str) -> int:
    return len([r for r in emulator.requests(f"{DBFS}/{endpoint}") if r["path"] == f"{DBFS}/{endpoint}"])


def upload(tmp_path: Path, data: bytes, remote: str, *extra: str) -> tuple[Path, int]:
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    return source, run_cli("fs.cp", str(source), remote, *extra).exit_code


def download(tmp_path: Path, remote: str, name: str = "back.bin") -> bytes:
    target = tmp_path / name
    result = run_cli("fs.cp", remote, str(target))
    assert result.exit_code == 0, result.stderr
    return target.read_bytes()


def test_mkdirs_and_ls(workspace_env: Emulator):
    """fs.mkdirs creates parents; fs.ls lists a directory as a table."""
    assert run_cli("fs.mkdirs", "dbfs:/data/raw/2026").exit_code == 0
    result = run_cli("fs.ls", "dbfs:/data/raw")
    assert result.exit_code == 0, result.stderr
    assert "PATH" in result.stdout and "/data/raw/2026" in result.stdout


def test_ls_json(workspace_env: Emulator, tmp_path: Path):
    """fs.ls -o json prints the API's FileInfo objects."""
    upload(tmp_path, b"abc", "dbfs:/j/a.txt")
    files = json.loads(run_cli("fs.ls", "/j", "-o", "json").stdout)
    assert [(f["path"], f["file_size"], f["is_dir"]) for f in files] == [("/j/a.txt", 3, False)]


def test_ls_missing_is_not_found(workspace_env: Emulator):
    """fs.ls of a missing path exits 4 naming the path."""
    result = run_cli("fs.ls", "dbfs:/nope")
    assert result.exit_code == 4
    assert "RESOURCE_DOES_NOT_EXIST" in result.stderr and "/nope" in result.stderr


def test_bad_path_fails_before_any_request(workspace_env: Emulator):
    """A relative or '..' DBFS path exits 2 without calling the API."""
    for args in (("fs.ls", "dbfs:tmp"), ("fs.rm", "/a/../b"), ("fs.cp", "x.txt", "dbfs:rel/x")):
        result = run_cli(*args)
        assert result.exit_code == 2, args
        assert "DBFS path" in result.stderr
    assert workspace_env.requests(DBFS) == []


def test_cp_needs_a_remote_side(workspace_env: Emulator, tmp_path: Path):
    """fs.cp between two local paths exits 2."""
    result = run_cli("fs.cp", str(tmp_path / "a"), str(tmp_path / "b"))
    assert result.exit_code == 2
    assert "dbfs:/" in result.stderr


def test_small_file_round_trip_uses_put(workspace_env: Emulator, tmp_path: Path):
    """A file up to 1 MB goes up in one put and comes back equal."""
    data = blob(MB)
    _, code = upload(tmp_path, data, "dbfs:/small.bin")
    assert code == 0
    assert (calls(workspace_env, "put"), calls(workspace_env, "create")) == (1, 0)
    assert download(tmp_path, "dbfs:/small.bin") == data


def test_large_file_round_trip_uses_blocks(workspace_env: Emulator, tmp_path: Path):
    """A 3.5 MB file goes up in four 1 MB blocks and comes back equal through 1 MB reads."""
    data = blob(3 * MB + MB // 2)
    _, code = upload(tmp_path, data, "dbfs:/large.bin")
    assert code == 0
    assert [calls(workspace_env, e) for e in ("create", "add-block", "close")] == [1, 4, 1]
    assert download(tmp_path, "dbfs:/large.bin") == data
    assert calls(workspace_env, "read") == 4


def test_cp_into_existing_remote_directory(workspace_env: Emulator, tmp_path: Path):
    """Copying a file to an existing DBFS directory puts it inside under its own name."""
    run_cli("fs.mkdirs", "dbfs:/in")
    upload(tmp_path, b"x", "dbfs:/in")
    assert run_cli("fs.ls", "dbfs:/in/source.bin").exit_code == 0


def test_upload_onto_existing_needs_overwrite(workspace_env: Emulator, tmp_path: Path):
    """An existing DBFS file without --overwrite exits 5 saying to add it, sending nothing."""
    upload(tmp_path, b"old", "dbfs:/f.txt")
    source = tmp_path / "new.txt"
    source.write_bytes(b"new!")
    result = run_cli("fs.cp", str(source), "dbfs:/f.txt")
    assert result.exit_code == 5
    assert "add --overwrite" in result.stderr and "dbfs:/f.txt" in result.stderr
    assert calls(workspace_env, "put") == 1
    assert run_cli("fs.cp", str(source), "dbfs:/f.txt", "--overwrite").exit_code == 0
    assert download(tmp_path, "dbfs:/f.txt") == b"new!"


def test_download_onto_existing_needs_overwrite(workspace_env: Emulator, tmp_path: Path):
    """An existing local file without --overwrite exits 5 and is left untouched."""
    upload(tmp_path, b"remote", "dbfs:/f.txt")
    target = tmp_path / "local.txt"
    target.write_bytes(b"mine")
    result = run_cli("fs.cp", "dbfs:/f.txt", str(target))
    assert result.exit_code == 5
    assert "add --overwrite" in result.stderr
    assert target.read_bytes() == b"mine"
    assert run_cli("fs.cp", "dbfs:/f.txt", str(target), "--overwrite").exit_code == 0
    assert target.read_bytes() == b"remote"


def test_recursive_round_trip(workspace_env: Emulator, tmp_path: Path):
    """--recursive copies a local tree to DBFS and back, file for file."""
    tree = tmp_path / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / "top.txt").write_bytes(b"top")
    (tree / "a" / "b" / "deep.bin").write_bytes(blob(MB + 5))
    up = run_cli("fs.cp", str(tree), "dbfs:/t", "--recursive", "-o", "json")
    assert up.exit_code == 0, up.stderr
    copied = json.loads(up.stdout)
    assert (copied["copied"], copied["to"], copied["skipped"]) == (str(tree), "dbfs:/t", [])
    assert sorted(r["destination"] for r in copied["files"]) == ["dbfs:/t/a/b/deep.bin", "dbfs:/t/top.txt"]
    assert copied["bytes"] == 3 + MB + 5
    back = tmp_path / "back"
    assert run_cli("fs.cp", "dbfs:/t", str(back), "--recursive").exit_code == 0
    assert (back / "a" / "b" / "deep.bin").read_bytes() == blob(MB + 5)
    assert (back / "top.txt").read_bytes() == b"top"


def test_directory_needs_recursive(workspace_env: Emulator, tmp_path: Path):
    """Copying a directory without --recursive exits 2 saying to add it."""
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "f").write_bytes(b"1")
    result = run_cli("fs.cp", str(tmp_path / "dir"), "dbfs:/d")
    assert result.exit_code == 2
    assert "add --recursive" in result.stderr


def test_recursive_upload_conflict_sends_nothing(workspace_env: Emulator, tmp_path: Path):
    """A recursive upload that would replace one file without --overwrite writes none of them."""
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_bytes(b"a")
    (tree / "b.txt").write_bytes(b"b")
    run_cli("fs.cp", str(tree / "b.txt"), "dbfs:/t/b.txt")
    result = run_cli("fs.cp", str(tree), "dbfs:/t", "--recursive")
    assert result.exit_code == 5
    assert "dbfs:/t/b.txt exists; add --overwrite" in result.stderr
    assert run_cli("fs.ls", "dbfs:/t/a.txt").exit_code == 4


def test_copy_within_dbfs(workspace_env: Emulator, tmp_path: Path):
    """fs.cp dbfs:/a dbfs:/b copies a large file inside DBFS."""
    data = blob(2 * MB + 3)
    upload(tmp_path, data, "dbfs:/a.bin")
    assert run_cli("fs.cp", "dbfs:/a.bin", "dbfs:/copy/b.bin").exit_code == 0
    assert download(tmp_path, "dbfs:/copy/b.bin") == data


def test_lost_add_block_answer_restarts_and_verifies(workspace_env: Emulator, tmp_path: Path):
    """A lost add-block answer is resent (a block lands twice); the size check restarts the upload."""
    workspace_env.fault(
        pattern=f"POST {DBFS}/add-block", status=500, after_handler=True, offset=1, retry_after="0"
    )
    data = blob(3 * MB)
    _, code = upload(tmp_path, data, "dbfs:/lost.bin")
    assert code == 0
    assert calls(workspace_env, "create") == 2
    assert download(tmp_path, "dbfs:/lost.bin") == data


def test_lost_close_answer_is_resent_and_verified(workspace_env: Emulator, tmp_path: Path):
    """A lost close answer is resent; its RESOURCE_DOES_NOT_EXIST is settled by the size check."""
    workspace_env.fault(pattern=f"POST {DBFS}/close", status=500, after_handler=True, retry_after="0")
    data = blob(MB + 1)
    _, code = upload(tmp_path, data, "dbfs:/closed.bin")
    assert code == 0
    assert (calls(workspace_env, "create"), calls(workspace_env, "close")) == (1, 2)
    assert download(tmp_path, "dbfs:/closed.bin") == data


def test_expired_handle_restarts_from_the_beginning(workspace_env: Emulator, tmp_path: Path):
    """An expired handle mid-upload makes the upload start over with a new handle."""
    expired = {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Handle 1 does not exist or has expired."}
    workspace_env.fault(pattern=f"POST {DBFS}/add-block", status=404, body=expired, offset=2)
    data = blob(3 * MB + 1)
    _, code = upload(tmp_path, data, "dbfs:/expired.bin")
    assert code == 0
    assert calls(workspace_env, "create") == 2
    assert calls(workspace_env, "add-block") == 3 + 4
    assert download(tmp_path, "dbfs:/expired.bin") == data


def test_failed_download_leaves_no_file(workspace_env: Emulator, tmp_path: Path):
    """A download failing half-way exits non-zero and leaves nothing under the target name."""
    upload(tmp_path, blob(3 * MB), "dbfs:/f.bin")
    workspace_env.fault(pattern=f"GET {DBFS}/read", status=400, offset=1)
    target = tmp_path / "out" / "f.bin"
    result = run_cli("fs.cp", "dbfs:/f.bin", str(target))
    assert result.exit_code == 2
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_cat_prints_the_file(workspace_env: Emulator, tmp_path: Path):
    """fs.cat prints a file's content."""
    upload(tmp_path, "héllo\nworld\n".encode(), "dbfs:/c.txt")
    result = run_cli("fs.cat", "dbfs:/c.txt")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "héllo\nworld\n"


def test_cat_directory_is_a_usage_error(workspace_env: Emulator):
    """fs.cat of a directory exits 2."""
    run_cli("fs.mkdirs", "/d")
    result = run_cli("fs.cat", "/d")
    assert result.exit_code == 2
    assert "is a directory" in result.stderr


def test_rm_file(workspace_env: Emulator, tmp_path: Path):
    """fs.rm deletes a file."""
    upload(tmp_path, b"x", "dbfs:/f")
    assert run_cli("fs.rm", "dbfs:/f").exit_code == 0
    assert run_cli("fs.ls", "dbfs:/f").exit_code == 4


def test_rm_missing_is_not_found(workspace_env: Emulator):
    """fs.rm of a missing path exits 4 (the API alone would succeed silently)."""
    result = run_cli("fs.rm", "dbfs:/nope")
    assert result.exit_code == 4
    assert "/nope" in result.stderr


def test_rm_non_empty_directory_needs_recursive(workspace_env: Emulator, tmp_path: Path):
    """fs.rm of a non-empty directory exits 2 saying to add --recursive, deleting nothing."""
    upload(tmp_path, b"x", "dbfs:/d/f")
    result = run_cli("fs.rm", "dbfs:/d")
    assert result.exit_code == 2
    assert "add --recursive" in result.stderr
    assert calls(workspace_env, "delete") == 0
    assert run_cli("fs.rm", "dbfs:/d", "--recursive").exit_code == 0
    assert run_cli("fs.ls", "dbfs:/d").exit_code == 4


def test_rm_keeps_calling_through_partial_deletes(workspace_env: Emulator, tmp_path: Path):
    """While delete answers 503 PARTIAL_DELETE, fs.rm calls again at once until it succeeds."""
    upload(tmp_path, b"x", "dbfs:/d/f")
    partial = {
        "error_code": "PARTIAL_DELETE",
        "message": "The requested operation has deleted 10000 files. There are more files remaining.",
    }
    workspace_env.fault(pattern=f"POST {DBFS}/delete", status=503, body=partial, times=3)
    result = run_cli("fs.rm", "dbfs:/d", "--recursive")
    assert result.exit_code == 0, result.stderr
    assert calls(workspace_env, "delete") == 4
    assert run_cli("fs.ls", "dbfs:/d").exit_code == 4


def test_rm_hands_other_503s_to_the_retry_policy(workspace_env: Emulator, tmp_path: Path):
    """A plain 503 on delete is retried by the client's policy (Retry-After honoured)."""
    upload(tmp_path, b"x", "dbfs:/f")
    workspace_env.fault(pattern=f"POST {DBFS}/delete", status=503, times=2, retry_after="0")
    assert run_cli("fs.rm", "dbfs:/f").exit_code == 0
    assert calls(workspace_env, "delete") == 3


def test_mkdirs_through_a_file_is_a_conflict(workspace_env: Emulator, tmp_path: Path):
    """fs.mkdirs through an existing file exits 5."""
    upload(tmp_path, b"x", "dbfs:/f")
    result = run_cli("fs.mkdirs", "dbfs:/f/sub")
    assert result.exit_code == 5
    assert "RESOURCE_ALREADY_EXISTS" in result.stderr


# -- hardening (issue 7): JSON results, local targets, links -------------------------------------------


def test_mutations_print_what_they_did_as_json(workspace_env: Emulator, tmp_path: Path):
    """fs.mkdirs, fs.cp and fs.rm each print one JSON object naming what was done."""
    assert json.loads(run_cli("fs.mkdirs", "dbfs:/m/n", "-o", "json").stdout) == {"created": "dbfs:/m/n"}
    source = tmp_path / "one.txt"
    source.write_bytes(b"one")
    copied = json.loads(run_cli("fs.cp", str(source), "dbfs:/m/n", "-o", "json").stdout)
    seconds, rate = copied.pop("seconds"), copied.pop("bytes_per_second")  # the effective rate
    assert isinstance(seconds, float | int) and seconds >= 0
    assert rate is None if seconds == 0 else isinstance(rate, int) and rate > 0
    assert copied == {
        "copied": str(source),
        "to": "dbfs:/m/n",
        "files": [{"source": str(source), "destination": "dbfs:/m/n/one.txt", "bytes": 3}],
        "bytes": 3,
        "skipped": [],
    }
    removed = json.loads(run_cli("fs.rm", "dbfs:/m", "--recursive", "-o", "json").stdout)
    assert removed == {"deleted": "dbfs:/m", "recursive": True}


def test_cat_json_is_a_content_object(workspace_env: Emulator, tmp_path: Path):
    """fs.cat -o json prints {path, encoding, content}: text when UTF-8, base64 otherwise."""
    upload(tmp_path, "héllo\n".encode(), "dbfs:/c.txt")
    assert json.loads(run_cli("fs.cat", "dbfs:/c.txt", "-o", "json").stdout) == {
        "path": "dbfs:/c.txt",
        "encoding": "utf-8",
        "content": "héllo\n",
    }
    data = blob(MB + 9)
    upload(tmp_path, data, "dbfs:/c.bin")
    shown = json.loads(run_cli("fs.cat", "dbfs:/c.bin", "-o", "json").stdout)
    assert shown["encoding"] == "base64" and base64.b64decode(shown["content"]) == data


def test_download_below_a_file_says_not_a_directory(workspace_env: Emulator, tmp_path: Path):
    """Downloading to a.py/child.bin where a.py is a file is exit 5, 'not a directory', nothing read."""
    upload(tmp_path, b"x", "dbfs:/f.bin")
    (tmp_path / "a.py").write_bytes(b"print(1)\n")
    result = run_cli("fs.cp", "dbfs:/f.bin", str(tmp_path / "a.py" / "child.bin"))
    assert result.exit_code == 5
    assert "a.py' is a file, not a directory" in result.stderr
    assert calls(workspace_env, "read") == 0
    assert (tmp_path / "a.py").read_bytes() == b"print(1)\n"


def test_download_through_a_link_to_a_fifo_keeps_both(workspace_env: Emulator, tmp_path: Path):
    """A link to a FIFO as DEST: the bytes go into the FIFO; the link and the FIFO stay what they were."""
    data = blob(MB + 3)
    upload(tmp_path, data, "dbfs:/f.bin")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    link = tmp_path / "out.bin"
    link.symlink_to(fifo)
    result = run_cli("fs.cp", "dbfs:/f.bin", str(link))
    assert result.exit_code == 0, result.stderr
    reader.join(timeout=10)
    assert received == [data]
    assert link.is_symlink() and stat.S_ISFIFO(fifo.lstat().st_mode)


def test_recursive_upload_skips_links_out_of_the_folder(workspace_env: Emulator, tmp_path: Path):
    """fs.cp -r does not follow a link out of SRC; skipped entries are listed with their reason."""
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_bytes(b"a")
    outside = tmp_path / "secret.txt"
    outside.write_bytes(b"secret")
    (tree / "leak").symlink_to(outside)
    (tree / "loop").symlink_to(tree)
    result = run_cli("fs.cp", str(tree), "dbfs:/t", "--recursive", "-o", "json")
    assert result.exit_code == 0, result.stderr
    copied = json.loads(result.stdout)
    assert [f["destination"] for f in copied["files"]] == ["dbfs:/t/a.txt"]
    assert {Path(s["path"]).name: s["reason"] for s in copied["skipped"]} == {
        "leak": "symbolic link to outside the source folder",
        "loop": "symbolic link loop",
    }
    assert run_cli("fs.ls", "dbfs:/t/leak").exit_code == 4
    text = run_cli("fs.cp", str(tree), "dbfs:/u", "--recursive")
    assert "1 file(s), 1 bytes, 2 skipped" in text.stdout and "SKIPPED" in text.stdout


def test_cp_dry_run_lists_the_copy_and_sends_no_write(workspace_env: Emulator, tmp_path: Path):
    """fs.cp --dry-run runs every check, prints each file's action and copies nothing."""
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_bytes(b"a")
    result = run_cli("fs.cp", str(tree), "dbfs:/t", "--recursive", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "create" in result.stdout and "dbfs:/t/a.txt" in result.stdout
    assert result.stdout.strip().endswith("1 file(s) to copy (dry run: nothing copied)")
    assert [r for r in workspace_env.requests(DBFS) if r["method"] != "GET"] == []


def test_a_large_copy_writes_no_progress_when_stderr_is_not_a_terminal(
    workspace_env: Emulator, tmp_path: Path
):
    """Off a TTY fs.cp of several blocks prints its result and nothing else: no progress line."""
    source = tmp_path / "three.bin"
    source.write_bytes(b"z" * (3 * MB + 1))
    result = run_cli("fs.cp", str(source), "dbfs:/quiet/three.bin", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert "copying" not in result.stderr and "\r" not in result.stderr
    assert json.loads(result.stdout)["bytes"] == 3 * MB + 1
