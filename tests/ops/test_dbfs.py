"""DBFS ops called directly with a Context on a real client: one-file sync, copy dry-run, deletes."""

from __future__ import annotations

import base64
import io
import itertools
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from brickbook.change import Action
from brickbook.context import Context
from brickbook.errors import DestinationExists, UsageError
from brickbook.ops.dbfs import apply_upload, copy, delete, plan_upload
from brickbook.output import ProgressLine
from tests.conftest import Emulator
from tests.ops.emulator_api import api

DBFS = "/api/2.0/dbfs"
MB = 1024 * 1024


def blob(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def remote_bytes(emulator: Emulator, path: str) -> bytes:
    size = api(emulator, "GET", f"{DBFS}/get-status", {"path": path})["file_size"]
    data = b""
    while len(data) < size:
        chunk = api(emulator, "GET", f"{DBFS}/read", {"path": path, "offset": len(data), "length": MB})
        data += base64.b64decode(chunk["data"])
    return data


def remote_put(emulator: Emulator, path: str, data: bytes) -> None:
    api(
        emulator,
        "POST",
        f"{DBFS}/put",
        {"path": path, "contents": base64.b64encode(data).decode(), "overwrite": True},
    )


def writes(emulator: Emulator) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in emulator.requests(DBFS) if r["method"] != "GET"]


def reads(emulator: Emulator) -> int:
    return len(emulator.requests(f"{DBFS}/read"))


@pytest.fixture
def local(tmp_path: Path) -> Path:
    path = tmp_path / "conf.json"
    path.write_bytes(b'{"env": "prod"}\n')
    return path


def test_plan_upload_of_a_new_file_is_a_create_and_reads_only(ctx: Context, emulator: Emulator, local: Path):
    """Nothing at the remote path: a create, and no write request."""
    change = plan_upload(ctx, local, "dbfs:/etl/conf.json")
    assert (change.action, change.target) == (Action.CREATE, "dbfs:/etl/conf.json")
    assert writes(emulator) == []


def test_apply_upload_then_plan_again_is_unchanged(ctx: Context, emulator: Emulator, local: Path):
    """Apply makes the parent folder and uploads; a second plan compares the bytes and finds them equal."""
    apply_upload(ctx, plan_upload(ctx, local, "dbfs:/etl/conf.json"))
    assert remote_bytes(emulator, "/etl/conf.json") == local.read_bytes()
    emulator.control("DELETE", "requests")
    again = plan_upload(ctx, local, "dbfs:/etl/conf.json")
    assert (again.action, again.reason) == (Action.UNCHANGED, "same bytes")
    assert apply_upload(ctx, again) == again
    assert writes(emulator) == []


def test_a_different_size_is_an_update_without_reading_back(ctx: Context, emulator: Emulator, local: Path):
    """A size that differs decides at once: an update of the content, no read request."""
    remote_put(emulator, "/etl/conf.json", b"{}\n")
    emulator.control("DELETE", "requests")
    change = plan_upload(ctx, local, "/etl/conf.json")
    assert (change.action, change.fields) == (Action.UPDATE, ("content",))
    assert reads(emulator) == 0


def test_same_size_other_bytes_is_an_update_found_at_the_first_difference(
    ctx: Context, emulator: Emulator, tmp_path: Path
):
    """Files of equal size are compared range by range; the comparison stops at the first difference."""
    data = blob(3 * MB)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    apply_upload(ctx, plan_upload(ctx, source, "dbfs:/big.bin"))
    source.write_bytes(b"X" + data[1:])
    emulator.control("DELETE", "requests")
    change = plan_upload(ctx, source, "dbfs:/big.bin")
    assert (change.action, change.reason) == (Action.UPDATE, "content differs")
    assert reads(emulator) == 1
    apply_upload(ctx, change)
    assert remote_bytes(emulator, "/big.bin") == b"X" + data[1:]
    assert plan_upload(ctx, source, "dbfs:/big.bin").action is Action.UNCHANGED


def test_a_remote_directory_cannot_be_replaced_by_a_file(ctx: Context, emulator: Emulator, local: Path):
    """A DBFS directory at the destination is DestinationExists at plan time."""
    api(emulator, "POST", f"{DBFS}/mkdirs", {"path": "/etl/conf.json"})
    with pytest.raises(DestinationExists, match=r"dbfs:/etl/conf\.json is a directory"):
        plan_upload(ctx, local, "dbfs:/etl/conf.json")


def test_plan_upload_of_a_missing_local_file_is_a_usage_error(
    ctx: Context, emulator: Emulator, tmp_path: Path
):
    """An unreadable local file is refused before any request."""
    with pytest.raises(UsageError, match="cannot read"):
        plan_upload(ctx, tmp_path / "nope", "dbfs:/x")
    assert emulator.requests(DBFS) == []


def test_copy_dry_run_checks_and_lists_without_writing(ctx: Context, emulator: Emulator, tmp_path: Path):
    """A dry-run copy names each file's action (create or update) and sends no write."""
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a.txt").write_bytes(b"a")
    (tree / "b.txt").write_bytes(b"b")
    remote_put(emulator, "/t/b.txt", b"old")
    emulator.control("DELETE", "requests")
    planned = copy(ctx, str(tree), "dbfs:/t", recursive=True, overwrite=True, dry_run=True)
    assert planned["dry_run"] is True
    assert [(f["destination"], f["action"]) for f in planned["files"]] == [
        ("dbfs:/t/a.txt", "create"),
        ("dbfs:/t/b.txt", "update"),
    ]
    assert writes(emulator) == []


def test_copy_dry_run_still_refuses_an_existing_file_without_overwrite(
    ctx: Context, emulator: Emulator, local: Path
):
    """Every check runs in a dry run: an existing destination without overwrite is DestinationExists."""
    remote_put(emulator, "/conf.json", b"old")
    with pytest.raises(DestinationExists, match=r"dbfs:/conf\.json exists"):
        copy(ctx, str(local), "dbfs:/conf.json", recursive=False, overwrite=False, dry_run=True)


def test_delete_calls_again_through_partial_deletes(ctx: Context, emulator: Emulator):
    """While delete answers 503 PARTIAL_DELETE the op calls again at once; it returns the calls made."""
    remote_put(emulator, "/d/f", b"x")
    partial = {
        "error_code": "PARTIAL_DELETE",
        "message": "deleted 10000 files. There are more files remaining.",
    }
    emulator.fault(pattern=f"POST {DBFS}/delete", status=503, body=partial, times=2)
    assert delete(ctx, "/d", recursive=True) == 3
    assert ctx.clock() == 0  # no back-off between the calls


def test_delete_of_a_non_empty_directory_needs_recursive(ctx: Context, emulator: Emulator):
    """A directory with files is not deleted without recursive; the hint says what to add."""
    remote_put(emulator, "/d/f", b"x")
    with pytest.raises(UsageError, match="not empty") as caught:
        delete(ctx, "/d", recursive=False)
    assert caught.value.hint == "add --recursive to delete it"
    assert remote_bytes(emulator, "/d/f") == b"x"


# -- transfers: read-ahead and progress -----------------------------------------------------------------


class Lines:
    """A progress sink that keeps every line (a TTY would show each in place)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def update(self, text: str) -> None:
        self.lines.append(text)

    def clear(self) -> None:
        pass

    def close(self) -> None:
        pass


def stepping(seconds: float) -> Callable[[], float]:
    """A clock that moves ``seconds`` on every reading (a transfer that takes time, without sleeping)."""
    now = [0.0]

    def clock() -> float:
        now[0] += seconds
        return now[0]

    return clock


def test_upload_and_download_with_read_ahead_keep_every_byte_in_order(
    ctx: Context, emulator: Emulator, tmp_path: Path
):
    """A 5.5 MB file of distinct blocks goes up and comes back byte for byte, blocks in order."""
    data = blob(5 * MB + MB // 2, seed=3)
    source, back = tmp_path / "up.bin", tmp_path / "back.bin"
    source.write_bytes(data)
    copy(ctx, str(source), "dbfs:/ra/up.bin", recursive=False, overwrite=False)
    assert remote_bytes(emulator, "/ra/up.bin") == data
    copy(ctx, "dbfs:/ra/up.bin", str(back), recursive=False, overwrite=False)
    assert back.read_bytes() == data


def test_copy_shows_files_bytes_rate_and_eta_and_returns_the_effective_rate(ctx: Context, tmp_path: Path):
    """The live line counts bytes block by block with a rate and an ETA; the result gives the totals."""
    source = tmp_path / "three.bin"
    source.write_bytes(blob(3 * MB))
    sink = Lines()
    timed = replace(ctx, progress=sink, clock=stepping(0.5))
    result = copy(timed, str(source), "dbfs:/p/three.bin", recursive=False, overwrite=False)
    assert sink.lines[0].startswith("copying 0/1 files, 1.0 MiB of 3.0 MiB, ")
    assert "MiB/s, ETA " in sink.lines[0]
    assert sink.lines[-1].startswith("copying 1/1 files, 3.0 MiB of 3.0 MiB, ")
    assert result["bytes"] == 3 * MB and result["seconds"] > 0
    assert result["bytes_per_second"] == round(3 * MB / result["seconds"])


def test_recursive_copy_counts_files_done_of_total(ctx: Context, tmp_path: Path):
    """fs.cp -r of many small files shows files done of the total, ending at total/total."""
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(12):
        (folder / f"f{n:02d}.txt").write_bytes(b"x" * (n + 1))
    sink = Lines()
    result = copy(replace(ctx, progress=sink), str(folder), "dbfs:/many", recursive=True, overwrite=False)
    assert len(result["files"]) == 12 and result["bytes"] == sum(range(1, 13))
    done = [line.split(" files")[0] for line in sink.lines if line.startswith("copying")]
    assert done[-1] == "copying 12/12"
    assert all(f"of {sum(range(1, 13))} B" in line for line in sink.lines)


def test_download_logs_transfer_progress_at_most_every_five_seconds(
    ctx: Context, emulator: Emulator, tmp_path: Path
):
    """Each clock reading moves 2 s: a 6 MB download logs transfer.progress, never twice within 5 s."""
    source = tmp_path / "six.bin"
    source.write_bytes(blob(6 * MB))
    copy(ctx, str(source), "dbfs:/p/six.bin", recursive=False, overwrite=False)
    with capture_logs() as logs:
        copy(
            replace(ctx, clock=stepping(2)),
            "dbfs:/p/six.bin",
            str(tmp_path / "six.back"),
            recursive=False,
            overwrite=False,
        )
    events = [e for e in logs if e["event"] == "transfer.progress"]
    assert events, "no transfer.progress event"
    assert all(b["seconds"] - a["seconds"] >= 5 for a, b in itertools.pairwise(events))
    assert {"files_done", "files", "bytes", "total_bytes", "bytes_per_second", "eta_seconds"} <= set(
        events[0]
    )
    assert events[0]["total_bytes"] == 6 * MB


class Tty(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_copy_draws_a_live_line_on_a_terminal_and_blanks_it_at_the_end(ctx: Context, tmp_path: Path):
    """On a TTY the line is rewritten in place (carriage return, erase) and blanked when the copy ends."""
    source = tmp_path / "two.bin"
    source.write_bytes(blob(2 * MB))
    screen = Tty()
    timed = replace(ctx, progress=ProgressLine(screen), clock=stepping(0.5))
    copy(timed, str(source), "dbfs:/tty/two.bin", recursive=False, overwrite=False)
    drawn = screen.getvalue()
    assert "\r\x1b[Kcopying 0/1 files, 1.0 MiB of 2.0 MiB, " in drawn
    assert "\r\x1b[Kcopying 1/1 files, 2.0 MiB of 2.0 MiB, " in drawn
    assert drawn.endswith("\r\x1b[K")
