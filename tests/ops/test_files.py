"""Volume file ops called with a Context on a real client against the emulator: lost answers, resumes."""

from __future__ import annotations

import random
import time
import tracemalloc
from pathlib import Path

import httpx
import pytest

from benchmarks.datafiles import sha256, write_file
from brickbook.context import Context
from brickbook.errors import DestinationExists, TransferFailed
from brickbook.ops import files
from tests.conftest import ADMIN_TOKEN, Emulator
from tests.volumes import create_volume

VOL = "/Volumes/main/default/vol"
FILES = "/api/2.0/fs/files"
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def volume(emulator: Emulator) -> None:
    create_volume(emulator.url, ADMIN_TOKEN)


def blob(size: int, seed: int = 3) -> bytes:
    return random.Random(seed).randbytes(size)


def remote_bytes(emulator: Emulator, path: str) -> bytes:
    response = httpx.get(f"{emulator.url}{FILES}{path}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    response.raise_for_status()
    return response.content


def remote_put(emulator: Emulator, path: str, data: bytes) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    httpx.put(f"{emulator.url}{FILES}{path}", content=data, headers=headers).raise_for_status()


def puts(emulator: Emulator) -> int:
    return len([r for r in emulator.requests(FILES) if r["method"] == "PUT"])


def local_file(tmp_path: Path, data: bytes, name: str = "in.bin") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_lost_answer_without_overwrite_is_settled_not_already_exists(
    ctx: Context, emulator: Emulator, tmp_path: Path
):
    """An upload without overwrite whose answer is lost finds its own bytes there and succeeds."""
    data = blob(200_000)
    emulator.fault(pattern=f"PUT {FILES}/*", status=503, after_handler=True, times=1)
    size = files.upload_file(ctx, local_file(tmp_path, data), f"{VOL}/once.bin", overwrite=False)
    assert size == len(data)
    assert remote_bytes(emulator, f"{VOL}/once.bin") == data
    assert puts(emulator) == 1  # settled by reading back, not by sending again


def test_lost_answer_before_it_landed_is_sent_again(ctx: Context, emulator: Emulator, tmp_path: Path):
    """An upload without overwrite that failed before landing (nothing there) is sent once more."""
    emulator.fault(pattern=f"PUT {FILES}/*", status=503, times=1)
    files.upload_file(ctx, local_file(tmp_path, b"abc"), f"{VOL}/late.bin", overwrite=False)
    assert remote_bytes(emulator, f"{VOL}/late.bin") == b"abc"
    assert puts(emulator) == 2


def test_lost_answer_over_someone_elses_file_is_destination_exists(
    ctx: Context, emulator: Emulator, tmp_path: Path
):
    """When the settle finds other bytes than ours, the upload is refused (exit 5) and they stay."""
    remote_put(emulator, f"{VOL}/theirs.bin", b"theirs")
    emulator.fault(pattern=f"PUT {FILES}/*", status=503, times=1)
    with pytest.raises(DestinationExists, match="exists"):
        files.upload_file(ctx, local_file(tmp_path, b"mine!!"), f"{VOL}/theirs.bin", overwrite=False)
    assert remote_bytes(emulator, f"{VOL}/theirs.bin") == b"theirs"


def test_lost_answer_with_overwrite_is_resent(ctx: Context, emulator: Emulator, tmp_path: Path):
    """With overwrite the client resends the same bytes after a lost answer, streaming them again."""
    data = blob(3 * MB)
    emulator.fault(pattern=f"PUT {FILES}/*", status=503, after_handler=True, times=1)
    files.upload_file(ctx, local_file(tmp_path, data), f"{VOL}/again.bin", overwrite=True)
    assert remote_bytes(emulator, f"{VOL}/again.bin") == data
    assert puts(emulator) == 2


def test_existing_file_without_overwrite_is_destination_exists(
    ctx: Context, emulator: Emulator, tmp_path: Path
):
    """The service's ALREADY_EXISTS becomes DestinationExists carrying its code."""
    remote_put(emulator, f"{VOL}/x", b"old")
    with pytest.raises(DestinationExists) as caught:
        files.upload_file(ctx, local_file(tmp_path, b"new"), f"{VOL}/x", overwrite=False)
    assert caught.value.error_code == "ALREADY_EXISTS"


def test_broken_download_resumes_with_a_range(ctx: Context, emulator: Emulator, tmp_path: Path):
    """A download cut after its first bytes resumes from there with Range and lands complete."""
    # The fault sends these 11 bytes as the body before dropping the connection: make them the file's.
    data = b'{"partial":' + blob(4096 - 11)
    remote_put(emulator, f"{VOL}/r.bin", data)
    emulator.fault(pattern=f"GET {FILES}/*", reset_connection=True, times=1)
    target = tmp_path / "r.bin"
    assert files.download_file(ctx, f"{VOL}/r.bin", target, overwrite=False) == len(data)
    assert target.read_bytes() == data
    ranges = [r for r in emulator.requests(FILES) if r["method"] == "GET"]
    assert len(ranges) == 2


def test_resume_of_a_replaced_file_fails_without_mixing(ctx: Context, emulator: Emulator, tmp_path: Path):
    """A resumed range carries If-Unmodified-Since: a file replaced meanwhile fails, nothing is left."""
    data = b'{"partial":' + blob(4096 - 11)
    remote_put(emulator, f"{VOL}/r.bin", data)
    emulator.fault(pattern=f"GET {FILES}/*", reset_connection=True, times=1)
    chunks = files.cat(ctx, f"{VOL}/r.bin")
    assert next(chunks) == b'{"partial":'  # HEAD, then the first range, cut after these bytes
    emulator.clock.advance(10)  # the replacement is stamped later than the first version
    remote_put(emulator, f"{VOL}/r.bin", blob(4096, seed=9))
    with pytest.raises(TransferFailed, match="changed while it was downloaded"):
        b"".join(chunks)


def test_failed_download_leaves_no_partial_file(ctx: Context, emulator: Emulator, tmp_path: Path):
    """A download whose answer is not the announced size fails and leaves nothing at the target."""
    remote_put(emulator, f"{VOL}/big.bin", blob(100_000))
    emulator.fault(pattern=f"GET {FILES}/*", reset_connection=True, times=0)
    target = tmp_path / "big.bin"
    with pytest.raises(TransferFailed):
        files.download_file(ctx, f"{VOL}/big.bin", target, overwrite=False)
    assert list(tmp_path.iterdir()) == []


def test_copy_result_counts_bytes_and_files(ctx: Context, emulator: Emulator, tmp_path: Path):
    """A recursive copy reports each file and the total bytes, like a DBFS copy."""
    tree = tmp_path / "t"
    (tree / "s").mkdir(parents=True)
    (tree / "a").write_bytes(b"aa")
    (tree / "s" / "b").write_bytes(b"bbb")
    result = files.copy(ctx, str(tree), f"{VOL}/t", recursive=True, overwrite=False)
    assert sorted(f["destination"] for f in result["files"]) == [f"{VOL}/t/a", f"{VOL}/t/s/b"]
    assert result["bytes"] == 5
    assert remote_bytes(emulator, f"{VOL}/t/s/b") == b"bbb"


@pytest.mark.slow
def test_64_mib_round_trip_in_bounded_memory(ctx: Context, emulator: Emulator, tmp_path: Path):
    """64 MiB up and down through the Files API keep traced memory under 16 MiB and every byte."""
    source, target = tmp_path / "big.bin", tmp_path / "back.bin"
    expected = write_file(source, 64)
    started = time.monotonic()
    tracemalloc.start()
    try:
        baseline, _ = tracemalloc.get_traced_memory()
        files.upload_file(ctx, source, f"{VOL}/big.bin", overwrite=True)
        files.download_file(ctx, f"{VOL}/big.bin", target, overwrite=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - baseline < 16 * MB, f"peak {(peak - baseline) / MB:.1f} MiB above start"
    assert sha256(target) == expected
    print(f"64 MiB round trip: {time.monotonic() - started:.1f} s, peak +{(peak - baseline) / MB:.1f} MiB")
