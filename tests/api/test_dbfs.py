"""DBFS API primitives (``brickbook.api.dbfs``) against the emulator over loopback HTTP."""

from __future__ import annotations

import random
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest

from brickbook.api import dbfs
from brickbook.api.dbfs import BLOCK_SIZE
from brickbook.client import Client
from brickbook.context import Context
from brickbook.errors import (
    BadRequest,
    InvalidParameterValue,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    TemporarilyUnavailable,
)
from brickbook.ops import dbfs as ops_dbfs
from brickbook.retry import is_partial_delete
from tests.api.test_wire import make_client, pat_config
from tests.conftest import ADMIN_TOKEN, Emulator
from tests.fakes import FakeClock, FakeTime

BASE = "/api/2.0/dbfs"
HANDLE_IDLE_SECONDS = 10 * 60


def statuses(emulator: Emulator, endpoint: str) -> list[object]:
    return [r["status"] for r in emulator.requests(f"{BASE}/{endpoint}")]


def test_put_then_get_status_is_typed(client: Client, emulator: Emulator):
    """get_status of a file put there returns a FileInfo with its size and an epoch-ms modification time."""
    dbfs.put(client, "/data/a.txt", b"hello")
    info = dbfs.get_status(client, "/data/a.txt")
    assert (info.path, info.is_dir, info.file_size) == ("/data/a.txt", False, 5)
    assert info.modification_time == pytest.approx(emulator.clock() * 1000, abs=1000)


def test_put_over_an_existing_file_is_resource_already_exists(client: Client):
    """put without overwrite onto a file is the legacy 400 RESOURCE_ALREADY_EXISTS (ResourceAlreadyExists)."""
    dbfs.put(client, "/data/a.txt", b"one")
    with pytest.raises(ResourceAlreadyExists) as info:
        dbfs.put(client, "/data/a.txt", b"two")
    assert (info.value.http_status, info.value.error_code) == (400, "RESOURCE_ALREADY_EXISTS")
    assert "already exists at the input path /data/a.txt" in info.value.message


def test_put_with_overwrite_replaces_the_bytes(client: Client):
    """put with overwrite replaces an existing file's content."""
    dbfs.put(client, "/data/a.txt", b"one")
    dbfs.put(client, "/data/a.txt", b"second", overwrite=True)
    assert dbfs.read(client, "/data/a.txt", offset=0) == b"second"


def test_put_over_one_mb_is_max_block_size_exceeded(client: Client):
    """Inline put contents over 1 MB are refused with 400 MAX_BLOCK_SIZE_EXCEEDED (a BadRequest)."""
    with pytest.raises(BadRequest) as info:
        dbfs.put(client, "/data/big.bin", b"x" * (BLOCK_SIZE + 1))
    assert info.value.error_code == "MAX_BLOCK_SIZE_EXCEEDED"
    assert "at most 1048576 bytes inline" in info.value.message


def test_put_with_overwrite_is_resent_after_a_lost_answer(client: Client, emulator: Emulator):
    """An overwriting put whose answer is lost is sent again: a second copy leaves the same file."""
    emulator.fault(pattern=f"POST {BASE}/put", status=503, after_handler=True, retry_after="0")
    dbfs.put(client, "/data/a.txt", b"same", overwrite=True)
    assert statuses(emulator, "put") == [503, 200]


def test_put_without_overwrite_is_not_resent_after_a_lost_answer(client: Client, emulator: Emulator):
    """A put without overwrite whose answer is lost surfaces at once instead of failing on its own file."""
    emulator.fault(pattern=f"POST {BASE}/put", status=503, after_handler=True, retry_after="0")
    with pytest.raises(TemporarilyUnavailable):
        dbfs.put(client, "/data/a.txt", b"once")
    assert statuses(emulator, "put") == [503]


@pytest.mark.parametrize("size", [0, 1, 2, 3, 1000, BLOCK_SIZE - 1, BLOCK_SIZE])
def test_put_body_template_round_trips_random_bytes_exactly(client: Client, size: int):
    """put's spliced body carries random bytes of any length to the emulator byte for byte."""
    data = random.Random(size).randbytes(size)
    dbfs.put(client, "/data/random.bin", data, overwrite=True)
    back = b"".join(
        dbfs.read(client, "/data/random.bin", offset=o) for o in range(0, max(size, 1), BLOCK_SIZE)
    )
    assert back == data


def test_add_block_body_template_round_trips_random_blocks_exactly(client: Client):
    """Blocks of odd sizes sent through the spliced add-block body make the file byte for byte."""
    blocks = [random.Random(n).randbytes(n) for n in (BLOCK_SIZE, 1, 2, 3, 77_777, BLOCK_SIZE)]
    handle = dbfs.create(client, "/data/blocks.bin")
    for block in blocks:
        dbfs.add_block(client, handle, block)
    dbfs.close(client, handle)
    expected = b"".join(blocks)
    back = b"".join(
        dbfs.read(client, "/data/blocks.bin", offset=o) for o in range(0, len(expected), BLOCK_SIZE)
    )
    assert back == expected


def test_add_block_with_a_raw_body_is_retried_like_any_call(client: Client, emulator: Emulator):
    """A refused add-block (503 before the handler) is resent by the client with the same bytes."""
    handle = dbfs.create(client, "/data/retried.bin")
    emulator.fault(pattern=f"POST {BASE}/add-block", status=503, retry_after="0")
    dbfs.add_block(client, handle, b"\x00\xffpayload")
    dbfs.close(client, handle)
    assert statuses(emulator, "add-block") == [503, 200]
    assert dbfs.read(client, "/data/retried.bin", offset=0) == b"\x00\xffpayload"


def test_add_block_errors_map_as_before_with_a_raw_body(client: Client, emulator: Emulator):
    """An error answer to a raw body is mapped to the same typed error, with its code and message."""
    body = {"error_code": "INVALID_PARAMETER_VALUE", "message": "refused by a fault"}
    emulator.fault(pattern=f"POST {BASE}/add-block", status=400, body=body)
    handle = dbfs.create(client, "/data/refused.bin")
    with pytest.raises(InvalidParameterValue) as info:
        dbfs.add_block(client, handle, b"x")
    assert (info.value.http_status, info.value.error_code) == (400, "INVALID_PARAMETER_VALUE")
    assert "refused by a fault" in info.value.message


def test_a_raw_body_and_a_body_together_are_refused(client: Client):
    """Client.request takes a mapping body or pre-encoded JSON bytes, not both."""
    with pytest.raises(ValueError, match="not both"):
        client.request("POST", f"{BASE}/mkdirs", body={"path": "/x"}, raw_json=b'{"path":"/x"}')


def test_get_status_of_a_missing_path_is_resource_does_not_exist(client: Client):
    """get-status of a missing path is 404 RESOURCE_DOES_NOT_EXIST (ResourceDoesNotExist)."""
    with pytest.raises(ResourceDoesNotExist) as info:
        dbfs.get_status(client, "/nope")
    assert (info.value.http_status, info.value.error_code) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert "No file or directory exists on path /nope." in info.value.message


def test_list_of_an_empty_directory_is_empty(client: Client):
    """dbfs/list leaves out ``files`` for an empty directory, and list_ returns []."""
    dbfs.mkdirs(client, "/empty")
    assert dbfs.list_(client, "/empty") == []


def test_list_of_a_directory_types_its_children(client: Client):
    """list_ returns one FileInfo per child, directories flagged is_dir."""
    dbfs.put(client, "/data/a.txt", b"abc")
    dbfs.mkdirs(client, "/data/sub")
    listed = sorted(dbfs.list_(client, "/data"), key=lambda f: f.path)
    assert [(f.path, f.is_dir, f.file_size) for f in listed] == [
        ("/data/a.txt", False, 3),
        ("/data/sub", True, 0),
    ]


def test_list_of_a_file_describes_the_file(client: Client):
    """dbfs/list on a file answers with that file alone."""
    dbfs.put(client, "/data/a.txt", b"abc")
    assert [f.path for f in dbfs.list_(client, "/data/a.txt")] == ["/data/a.txt"]


def test_list_of_a_missing_path_is_resource_does_not_exist(client: Client):
    """dbfs/list of a missing path is 404 RESOURCE_DOES_NOT_EXIST (ResourceDoesNotExist)."""
    with pytest.raises(ResourceDoesNotExist) as info:
        dbfs.list_(client, "/nope")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "/nope" in info.value.message


def test_read_returns_the_bytes_at_an_offset(client: Client, emulator: Emulator):
    """read returns ``length`` bytes from ``offset``, sent as query parameters."""
    dbfs.put(client, "/data/digits", b"0123456789")
    assert dbfs.read(client, "/data/digits", offset=3, length=4) == b"3456"
    query = parse_qs(str(emulator.requests(f"{BASE}/read")[0]["query"]))
    assert query == {"path": ["/data/digits"], "offset": ["3"], "length": ["4"]}


def test_read_past_the_end_returns_nothing(client: Client):
    """A read that starts past the end of the file returns b''."""
    dbfs.put(client, "/data/digits", b"0123456789")
    assert dbfs.read(client, "/data/digits", offset=10) == b""


def test_read_over_one_mb_is_max_read_size_exceeded(client: Client):
    """A read length over 1 MB is refused with 400 MAX_READ_SIZE_EXCEEDED (a BadRequest)."""
    dbfs.put(client, "/data/digits", b"0123456789")
    with pytest.raises(BadRequest) as info:
        dbfs.read(client, "/data/digits", offset=0, length=BLOCK_SIZE + 1)
    assert info.value.error_code == "MAX_READ_SIZE_EXCEEDED"
    assert "Cannot read more than 1048576 bytes per call" in info.value.message


def test_read_of_a_directory_is_invalid_parameter_value(client: Client):
    """Reading a directory is 400 INVALID_PARAMETER_VALUE (InvalidParameterValue)."""
    dbfs.mkdirs(client, "/data")
    with pytest.raises(InvalidParameterValue) as info:
        dbfs.read(client, "/data", offset=0)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "it is a directory" in info.value.message


def test_odd_path_characters_travel_intact_in_the_query_string(client: Client):
    """A path with spaces, '&', '=', '#', '%', '+', '?' and non-ASCII survives put, list and read."""
    odd = "/odd dir/a b&c=d#e%f+g?ü.txt"
    dbfs.put(client, odd, b"0123456789")
    assert [f.path for f in dbfs.list_(client, "/odd dir")] == [odd]
    assert dbfs.read(client, odd, offset=2, length=3) == b"234"


def test_stream_appears_only_at_close(client: Client):
    """A file written with create / add_block / close is invisible until close, then whole."""
    handle = dbfs.create(client, "/data/stream.bin")
    dbfs.add_block(client, handle, b"a" * 10)
    dbfs.add_block(client, handle, b"b" * 5)
    with pytest.raises(ResourceDoesNotExist):
        dbfs.get_status(client, "/data/stream.bin")
    dbfs.close(client, handle)
    assert dbfs.get_status(client, "/data/stream.bin").file_size == 15
    assert dbfs.read(client, "/data/stream.bin", offset=8, length=4) == b"aabb"


def test_add_block_over_one_mb_is_max_block_size_exceeded(client: Client):
    """A block over 1 MB of raw bytes is refused with 400 MAX_BLOCK_SIZE_EXCEEDED (a BadRequest)."""
    handle = dbfs.create(client, "/data/stream.bin")
    with pytest.raises(BadRequest) as info:
        dbfs.add_block(client, handle, b"x" * (BLOCK_SIZE + 1))
    assert info.value.error_code == "MAX_BLOCK_SIZE_EXCEEDED"
    assert "at most 1048576 bytes" in info.value.message


def test_add_block_to_an_unknown_handle_is_resource_does_not_exist(client: Client):
    """A handle the service never gave out is 404 RESOURCE_DOES_NOT_EXIST (ResourceDoesNotExist)."""
    with pytest.raises(ResourceDoesNotExist) as info:
        dbfs.add_block(client, 12345, b"x")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "Handle 12345 does not exist or has expired." in info.value.message


def test_handle_expires_after_ten_idle_minutes(client: Client, emulator: Emulator):
    """A write stream left idle for ten minutes is gone: close is ResourceDoesNotExist."""
    handle = dbfs.create(client, "/data/stream.bin")
    emulator.clock.advance(HANDLE_IDLE_SECONDS + 1)
    with pytest.raises(ResourceDoesNotExist, match="does not exist or has expired"):
        dbfs.close(client, handle)


def test_create_over_an_existing_file_is_resource_already_exists(client: Client):
    """create without overwrite on an existing file is 400 RESOURCE_ALREADY_EXISTS (ResourceAlreadyExists)."""
    dbfs.put(client, "/data/a.txt", b"abc")
    with pytest.raises(ResourceAlreadyExists) as info:
        dbfs.create(client, "/data/a.txt")
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert "/data/a.txt" in info.value.message


def test_create_with_overwrite_is_resent_after_a_lost_answer(client: Client, emulator: Emulator):
    """An overwriting create whose answer is lost is sent again and returns a usable handle."""
    emulator.fault(pattern=f"POST {BASE}/create", status=503, after_handler=True, retry_after="0")
    handle = dbfs.create(client, "/data/stream.bin", overwrite=True)
    dbfs.add_block(client, handle, b"ok")
    dbfs.close(client, handle)
    assert statuses(emulator, "create") == [503, 200]
    assert dbfs.read(client, "/data/stream.bin", offset=0) == b"ok"


def test_create_without_overwrite_is_not_resent_after_a_lost_answer(client: Client, emulator: Emulator):
    """A create without overwrite whose answer is lost surfaces at once."""
    emulator.fault(pattern=f"POST {BASE}/create", status=503, after_handler=True, retry_after="0")
    with pytest.raises(TemporarilyUnavailable):
        dbfs.create(client, "/data/stream.bin")
    assert statuses(emulator, "create") == [503]


def test_delete_of_a_missing_path_succeeds(client: Client, emulator: Emulator):
    """Deleting a path that does not exist is not an error, as on the service."""
    dbfs.delete(client, "/nope", recursive=True)
    assert statuses(emulator, "delete") == [200]


def test_delete_of_a_non_empty_directory_is_io_error(client: Client):
    """A non-recursive delete of a directory with content is 400 IO_ERROR (a BadRequest)."""
    dbfs.put(client, "/data/a.txt", b"abc")
    with pytest.raises(BadRequest) as info:
        dbfs.delete(client, "/data")
    assert info.value.error_code == "IO_ERROR"
    assert "Directory /data is not empty" in info.value.message


def test_recursive_delete_removes_the_tree(client: Client):
    """A recursive delete removes a directory and everything below it."""
    dbfs.put(client, "/data/sub/a.txt", b"abc")
    dbfs.delete(client, "/data", recursive=True)
    with pytest.raises(ResourceDoesNotExist):
        dbfs.get_status(client, "/data")


def test_mkdirs_creates_the_parents(client: Client):
    """mkdirs works like mkdir -p."""
    dbfs.mkdirs(client, "/a/b/c")
    assert dbfs.get_status(client, "/a/b").is_dir


def test_mkdirs_under_a_file_is_resource_already_exists(client: Client):
    """A file on the prefix makes mkdirs fail with 400 RESOURCE_ALREADY_EXISTS (ResourceAlreadyExists)."""
    dbfs.put(client, "/data/a.txt", b"abc")
    with pytest.raises(ResourceAlreadyExists) as info:
        dbfs.mkdirs(client, "/data/a.txt/sub")
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert "/data/a.txt" in info.value.message


def test_move_renames_a_file(client: Client):
    """After move the bytes are at the destination and the source is gone."""
    dbfs.put(client, "/data/a.txt", b"abc")
    dbfs.move(client, "/data/a.txt", "/data/b.txt")
    assert dbfs.read(client, "/data/b.txt", offset=0) == b"abc"
    with pytest.raises(ResourceDoesNotExist):
        dbfs.get_status(client, "/data/a.txt")


def test_move_of_a_missing_source_is_resource_does_not_exist(client: Client):
    """Moving a path that does not exist is 404 RESOURCE_DOES_NOT_EXIST (ResourceDoesNotExist)."""
    with pytest.raises(ResourceDoesNotExist) as info:
        dbfs.move(client, "/nope", "/data/b.txt")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "/nope" in info.value.message


def test_move_onto_an_existing_path_is_resource_already_exists(client: Client):
    """Moving onto an existing destination is 400 RESOURCE_ALREADY_EXISTS (ResourceAlreadyExists)."""
    dbfs.put(client, "/data/a.txt", b"abc")
    dbfs.put(client, "/data/b.txt", b"def")
    with pytest.raises(ResourceAlreadyExists) as info:
        dbfs.move(client, "/data/a.txt", "/data/b.txt")
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert "/data/b.txt" in info.value.message


# -- large recursive deletes: a separate emulator that deletes two files per call ----------------------


@pytest.fixture(scope="module")
def small_batches() -> Iterator[str]:
    """An emulator whose recursive delete removes at most two files per call, then answers 503."""
    from brickbook.emulator.server import start_in_thread
    from brickbook.emulator.settings import EmulatorSettings

    settings = EmulatorSettings(
        host="127.0.0.1", port=0, admin_token=ADMIN_TOKEN, clock=FakeClock(), dbfs_delete_batch=2
    )
    running = start_in_thread(settings)
    try:
        yield running.url
    finally:
        running.stop()


def five_files(client: Client) -> None:
    for i in range(5):
        dbfs.put(client, f"/bulk/f{i}", b"x", overwrite=True)


def test_partial_delete_surfaces_at_once(small_batches: str):
    """A partial delete is raised at once (never retried by the client) and is_partial_delete knows it."""
    with make_client(pat_config(small_batches), FakeTime()) as client:
        five_files(client)
        with pytest.raises(TemporarilyUnavailable) as info:
            dbfs.delete(client, "/bulk", recursive=True)
        assert (info.value.http_status, info.value.error_code) == (503, "PARTIAL_DELETE")
        assert is_partial_delete(info.value)
        assert len(dbfs.list_(client, "/bulk")) == 3


def test_partial_deletes_are_called_again_until_the_tree_is_gone(small_batches: str):
    """ops.dbfs.delete calls again at once after each partial delete until nothing is left."""
    time = FakeTime()
    with make_client(pat_config(small_batches), time) as client:
        five_files(client)
        calls = ops_dbfs.delete(
            Context(client=client, clock=time.clock, sleep=time.sleep), "/bulk", recursive=True
        )
        with pytest.raises(ResourceDoesNotExist):
            dbfs.get_status(client, "/bulk")
    assert calls == 3 and time.sleeps == []


def test_a_plain_503_is_not_a_partial_delete(client: Client, emulator: Emulator):
    """is_partial_delete tells an outage (503 TEMPORARILY_UNAVAILABLE) from a partial delete."""
    emulator.fault(pattern=f"POST {BASE}/delete", status=503, retry_after="0", times=100)
    with pytest.raises(TemporarilyUnavailable) as info:
        dbfs.delete(client, "/data", recursive=True)
    assert not is_partial_delete(info.value)
