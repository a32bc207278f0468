"""The emulator's DBFS API over raw HTTP: every endpoint, its limits and its error answers."""

from __future__ import annotations

import base64
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from brickbook.emulator.errors import ApiError
from brickbook.emulator.server import start_in_thread
from brickbook.emulator.state.dbfs import normalise
from tests.emulator.harness import ADMIN_TOKEN, Emu, FakeClock, make_settings
from tests.emulator.test_cli import EmulatorProcess

DBFS = "/api/2.0/dbfs"
MB = 1024 * 1024


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def put(emu: Emu, path: str, data: bytes = b"", **extra: Any) -> httpx.Response:
    return emu.post(f"{DBFS}/put", json={"path": path, "contents": b64(data), **extra})


def status(emu: Emu, path: str) -> httpx.Response:
    return emu.get(f"{DBFS}/get-status", params={"path": path})


def read(emu: Emu, path: str, **params: Any) -> httpx.Response:
    return emu.get(f"{DBFS}/read", params={"path": path, **params})


def assert_error(response: httpx.Response, status_code: int, code: str, text: str) -> None:
    assert response.status_code == status_code, response.text
    assert response.json()["error_code"] == code
    assert text in response.json()["message"]


def test_put_then_get_status(emu: Emu):
    """A put file has its size and a modification time in epoch ms from the emulator's clock."""
    assert put(emu, "/data/a.txt", b"hello").json() == {}
    info = status(emu, "/data/a.txt").json()
    assert info == {
        "path": "/data/a.txt",
        "is_dir": False,
        "file_size": 5,
        "modification_time": int(emu.clock.now * 1000),
    }


def test_dbfs_scheme_is_accepted(emu: Emu):
    """dbfs:/x and /x name the same file."""
    put(emu, "dbfs:/data/s.txt", b"x")
    assert status(emu, "/data/s.txt").json()["path"] == "/data/s.txt"
    assert status(emu, "dbfs:/data/s.txt").status_code == 200


def test_put_creates_parent_directories(emu: Emu):
    """Parents of a put file appear as directories."""
    put(emu, "/a/b/c.txt", b"x")
    assert status(emu, "/a/b").json()["is_dir"] is True


def test_put_existing_without_overwrite(emu: Emu):
    """Putting onto an existing file without overwrite is RESOURCE_ALREADY_EXISTS."""
    put(emu, "/f", b"1")
    assert_error(put(emu, "/f", b"2"), 400, "RESOURCE_ALREADY_EXISTS", "/f")
    assert put(emu, "/f", b"22", overwrite=True).status_code == 200
    assert status(emu, "/f").json()["file_size"] == 2


def test_put_inline_limit(emu: Emu):
    """Inline contents over 1 MB are MAX_BLOCK_SIZE_EXCEEDED."""
    assert_error(put(emu, "/big", b"x" * (MB + 1)), 400, "MAX_BLOCK_SIZE_EXCEEDED", "1048576")
    assert put(emu, "/big", b"x" * MB).status_code == 200


def test_put_far_over_limit_is_refused_without_buffering(emu: Emu):
    """A JSON body far beyond the limit is drained and refused, not parsed."""
    response = emu.post(f"{DBFS}/put", content=b'{"path": "/x", "contents": "' + b"A" * (4 * MB) + b'"}')
    assert_error(response, 400, "MAX_BLOCK_SIZE_EXCEEDED", "create, add-block and close")


def test_put_multipart(emu: Emu):
    """A multipart form put streams a file of any size; bytes that look like a boundary survive."""
    data = b"\r\n--boundary-ish\r\n" * 200_000  # 3.6 MB
    response = emu.post(
        f"{DBFS}/put", files={"contents": ("f.bin", data)}, data={"path": "/m/f.bin", "overwrite": "false"}
    )
    assert response.status_code == 200, response.text
    assert status(emu, "/m/f.bin").json()["file_size"] == len(data)
    assert base64.b64decode(read(emu, "/m/f.bin", offset=0, length=36).json()["data"]) == data[:36]


def test_put_multipart_existing_without_overwrite(emu: Emu):
    """A multipart put onto an existing file without overwrite is RESOURCE_ALREADY_EXISTS."""
    put(emu, "/m", b"1")
    response = emu.post(f"{DBFS}/put", files={"contents": ("m", b"2")}, data={"path": "/m"})
    assert_error(response, 400, "RESOURCE_ALREADY_EXISTS", "/m")


def test_missing_path_parameter(emu: Emu):
    """A request without its path is INVALID_PARAMETER_VALUE."""
    assert_error(emu.post(f"{DBFS}/mkdirs", json={}), 400, "INVALID_PARAMETER_VALUE", "path is required")


def test_relative_path_is_invalid(emu: Emu):
    """A relative path is INVALID_PARAMETER_VALUE."""
    assert_error(status(emu, "tmp/x"), 400, "INVALID_PARAMETER_VALUE", "absolute")


def test_get_status_missing(emu: Emu):
    """A missing path is RESOURCE_DOES_NOT_EXIST (404)."""
    assert_error(status(emu, "/nope"), 404, "RESOURCE_DOES_NOT_EXIST", "/nope")


def test_list_directory(emu: Emu):
    """list returns a directory's children with their FileInfo."""
    put(emu, "/d/one", b"1")
    emu.post(f"{DBFS}/mkdirs", json={"path": "/d/sub"})
    files = emu.get(f"{DBFS}/list", params={"path": "/d"}).json()["files"]
    assert [(f["path"], f["is_dir"], f["file_size"]) for f in files] == [
        ("/d/one", False, 1),
        ("/d/sub", True, 0),
    ]


def test_list_file_returns_the_file(emu: Emu):
    """list on a file returns that file's own FileInfo."""
    put(emu, "/d/one", b"1")
    assert [f["path"] for f in emu.get(f"{DBFS}/list", params={"path": "/d/one"}).json()["files"]] == [
        "/d/one"
    ]


def test_list_empty_directory_leaves_out_files(emu: Emu):
    """An empty directory lists as {} (the key is left out)."""
    emu.post(f"{DBFS}/mkdirs", json={"path": "/empty"})
    assert emu.get(f"{DBFS}/list", params={"path": "/empty"}).json() == {}


def test_list_missing(emu: Emu):
    """Listing a missing path is RESOURCE_DOES_NOT_EXIST."""
    assert_error(emu.get(f"{DBFS}/list", params={"path": "/nope"}), 404, "RESOURCE_DOES_NOT_EXIST", "/nope")


def test_stream_appears_at_close(emu: Emu):
    """create / add-block / close writes a file that is invisible until close."""
    handle = emu.post(f"{DBFS}/create", json={"path": "/s/f"}).json()["handle"]
    assert isinstance(handle, int)
    for block in (b"a" * MB, b"c"):
        assert emu.post(f"{DBFS}/add-block", json={"handle": handle, "data": b64(block)}).status_code == 200
    assert status(emu, "/s/f").status_code == 404
    assert emu.post(f"{DBFS}/close", json={"handle": handle}).json() == {}
    assert status(emu, "/s/f").json()["file_size"] == MB + 1


def test_add_block_limit(emu: Emu):
    """A block over 1 MB raw is MAX_BLOCK_SIZE_EXCEEDED."""
    handle = emu.post(f"{DBFS}/create", json={"path": "/s/f"}).json()["handle"]
    response = emu.post(f"{DBFS}/add-block", json={"handle": handle, "data": b64(b"x" * (MB + 1))})
    assert_error(response, 400, "MAX_BLOCK_SIZE_EXCEEDED", "1048576")


def test_create_existing_without_overwrite(emu: Emu):
    """create on an existing file without overwrite is RESOURCE_ALREADY_EXISTS."""
    put(emu, "/f", b"1")
    assert_error(emu.post(f"{DBFS}/create", json={"path": "/f"}), 400, "RESOURCE_ALREADY_EXISTS", "/f")


def test_add_block_bad_base64(emu: Emu):
    """Data that is not base64 is INVALID_PARAMETER_VALUE."""
    handle = emu.post(f"{DBFS}/create", json={"path": "/s/f"}).json()["handle"]
    response = emu.post(f"{DBFS}/add-block", json={"handle": handle, "data": "not base64!"})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", "base64")


def test_unknown_handle(emu: Emu):
    """An unknown handle is RESOURCE_DOES_NOT_EXIST."""
    assert_error(emu.post(f"{DBFS}/close", json={"handle": 42}), 404, "RESOURCE_DOES_NOT_EXIST", "42")


def test_handle_expires_after_ten_idle_minutes(emu: Emu):
    """A handle idle for more than 10 minutes (fake clock) is gone; the file never appears."""
    handle = emu.post(f"{DBFS}/create", json={"path": "/s/f"}).json()["handle"]
    emu.clock.advance(599)
    assert emu.post(f"{DBFS}/add-block", json={"handle": handle, "data": b64(b"x")}).status_code == 200
    emu.clock.advance(601)
    response = emu.post(f"{DBFS}/add-block", json={"handle": handle, "data": b64(b"x")})
    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "expired")
    assert status(emu, "/s/f").status_code == 404


def test_read_range_and_default(emu: Emu):
    """read returns the range asked for; without length it reads 0.5 MB."""
    data = bytes(range(256)) * 4096  # 1 MB
    put(emu, "/r", data)
    part = read(emu, "/r", offset=10, length=5).json()
    assert (part["bytes_read"], base64.b64decode(part["data"])) == (5, data[10:15])
    assert read(emu, "/r").json()["bytes_read"] == 512 * 1024


def test_read_past_end(emu: Emu):
    """Reading past the end returns what is there, then bytes_read 0."""
    put(emu, "/r", b"abc")
    assert read(emu, "/r", offset=1, length=100).json() == {"bytes_read": 2, "data": b64(b"bc")}
    assert read(emu, "/r", offset=10, length=100).json() == {"bytes_read": 0, "data": ""}


@pytest.mark.parametrize(
    ("params", "code", "text"),
    [
        ({"length": MB + 1}, "MAX_READ_SIZE_EXCEEDED", "1048576"),
        ({"offset": -1}, "INVALID_PARAMETER_VALUE", "negative"),
        ({"length": -1}, "INVALID_PARAMETER_VALUE", "negative"),
        ({"length": "x"}, "INVALID_PARAMETER_VALUE", "integer"),
    ],
)
def test_read_bad_parameters(emu: Emu, params: dict[str, Any], code: str, text: str):
    """Out-of-range or malformed read parameters are 400 with the service's error codes."""
    put(emu, "/r", b"abc")
    assert_error(read(emu, "/r", **params), 400, code, text)


def test_read_directory(emu: Emu):
    """Reading a directory is INVALID_PARAMETER_VALUE."""
    emu.post(f"{DBFS}/mkdirs", json={"path": "/d"})
    assert_error(read(emu, "/d"), 400, "INVALID_PARAMETER_VALUE", "directory")


def test_mkdirs_is_mkdir_p(emu: Emu):
    """mkdirs creates every parent and is idempotent."""
    for _ in range(2):
        assert emu.post(f"{DBFS}/mkdirs", json={"path": "/x/y/z"}).status_code == 200
    assert status(emu, "/x/y").json()["is_dir"] is True


def test_mkdirs_through_a_file(emu: Emu):
    """mkdirs through a file is RESOURCE_ALREADY_EXISTS."""
    put(emu, "/x/file", b"1")
    response = emu.post(f"{DBFS}/mkdirs", json={"path": "/x/file/sub"})
    assert_error(response, 400, "RESOURCE_ALREADY_EXISTS", "/x/file")


def test_delete_non_empty_directory_needs_recursive(emu: Emu):
    """Deleting a non-empty directory without recursive is IO_ERROR; with it, the tree goes."""
    put(emu, "/d/a/b", b"1")
    assert_error(emu.post(f"{DBFS}/delete", json={"path": "/d"}), 400, "IO_ERROR", "not empty")
    assert emu.post(f"{DBFS}/delete", json={"path": "/d", "recursive": True}).status_code == 200
    assert status(emu, "/d").status_code == 404


def test_delete_empty_directory_and_file(emu: Emu):
    """An empty directory or a file is deleted without recursive."""
    emu.post(f"{DBFS}/mkdirs", json={"path": "/e"})
    put(emu, "/f", b"1")
    for path in ("/e", "/f"):
        assert emu.post(f"{DBFS}/delete", json={"path": path}).status_code == 200
        assert status(emu, path).status_code == 404


def test_delete_missing_succeeds(emu: Emu):
    """Deleting a missing path succeeds, as on the real service (the Databricks CLI checks first)."""
    assert emu.post(f"{DBFS}/delete", json={"path": "/nope"}).json() == {}


def test_move_file_and_directory(emu: Emu):
    """move renames a file, and a directory with everything below it."""
    put(emu, "/src/a/b.txt", b"bee")
    assert emu.post(f"{DBFS}/move", json={"source_path": "/src", "destination_path": "/dst/x"}).json() == {}
    assert status(emu, "/src").status_code == 404
    assert base64.b64decode(read(emu, "/dst/x/a/b.txt").json()["data"]) == b"bee"


def test_move_missing_source(emu: Emu):
    """Moving a missing source is RESOURCE_DOES_NOT_EXIST."""
    response = emu.post(f"{DBFS}/move", json={"source_path": "/nope", "destination_path": "/x"})
    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST", "/nope")


def test_move_onto_existing(emu: Emu):
    """Moving onto an existing path is RESOURCE_ALREADY_EXISTS."""
    put(emu, "/a", b"1")
    put(emu, "/b", b"2")
    response = emu.post(f"{DBFS}/move", json={"source_path": "/a", "destination_path": "/b"})
    assert_error(response, 400, "RESOURCE_ALREADY_EXISTS", "/b")


def test_reset_forgets_files(emu: Emu):
    """A control-API reset removes every DBFS file."""
    put(emu, "/f", b"1")
    emu.control("POST", "reset")
    assert status(emu, "/f").status_code == 404


def test_normalise_paths():
    """Paths are normalised; non-absolute ones are refused."""
    assert normalise("dbfs:/a//b/./c/") == "/a/b/c"
    with pytest.raises(ApiError):
        normalise("dbfs:a")


@pytest.fixture(scope="module")
def small_batch() -> Iterator[Emu]:
    clock = FakeClock()
    with start_in_thread(make_settings(clock, dbfs_delete_batch=3)) as running:
        emu = Emu(url=running.url, clock=clock)
        yield emu
        emu.close()


def test_large_recursive_delete_is_partial(small_batch: Emu):
    """Over the batch size a recursive delete removes that many files and answers 503 PARTIAL_DELETE."""
    emu = small_batch
    for i in range(7):
        put(emu, f"/big/d{i % 2}/f{i}", b"x")
    answers = [emu.post(f"{DBFS}/delete", json={"path": "/big", "recursive": True}) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert_error(answers[0], 503, "PARTIAL_DELETE", "has deleted 3 files")
    assert status(emu, "/big").status_code == 404


def test_files_survive_a_restart_with_data_dir(tmp_path: Path):
    """With a data directory, files and their bytes are there after a restart."""
    clock = FakeClock()
    for attempt in range(2):
        with start_in_thread(make_settings(clock, data_dir=tmp_path)) as running:
            emu = Emu(url=running.url, clock=clock)
            if attempt == 0:
                put(emu, "/keep/me", b"persisted")
            else:
                assert base64.b64decode(read(emu, "/keep/me").json()["data"]) == b"persisted"
            emu.close()
    assert not list((tmp_path / "dbfs").glob("*/incoming/*"))


def test_files_survive_kill_9_and_the_batch_flag_applies(tmp_path: Path):
    """Files acknowledged before a SIGKILL are intact after a restart; --dbfs-delete-batch is honoured."""
    args = ("--data-dir", str(tmp_path), "--dbfs-delete-batch", "1")
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    data = bytes(range(256)) * 6000  # 1.5 MB, multipart
    first = EmulatorProcess(*args)
    try:
        with httpx.Client(base_url=first.url, headers=auth) as http:
            http.post(f"{DBFS}/put", files={"contents": ("f", data)}, data={"path": "/k/multi"})
            handle = http.post(f"{DBFS}/create", json={"path": "/k/stream"}).json()["handle"]
            http.post(f"{DBFS}/add-block", json={"handle": handle, "data": b64(b"s" * 10)})
            http.post(f"{DBFS}/close", json={"handle": handle})
    finally:
        first.stop(signal.SIGKILL)
    second = EmulatorProcess(*args)
    try:
        with httpx.Client(base_url=second.url, headers=auth) as http:
            tail = http.get(f"{DBFS}/read", params={"path": "/k/multi", "offset": len(data) - 4}).json()
            assert base64.b64decode(tail["data"]) == data[-4:]
            assert http.get(f"{DBFS}/get-status", params={"path": "/k/stream"}).json()["file_size"] == 10
            first_call = http.post(f"{DBFS}/delete", json={"path": "/k", "recursive": True})
            assert (first_call.status_code, first_call.json()["error_code"]) == (503, "PARTIAL_DELETE")
    finally:
        second.stop(signal.SIGTERM)
