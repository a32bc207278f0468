"""Read-ahead and transfer progress (``brickbook.ops.transfer``) on fake time; the block body template."""

from __future__ import annotations

import base64
import json
import random
import threading
from collections.abc import Iterator

import pytest
from structlog.testing import capture_logs

from brickbook.api.dbfs import block_body
from brickbook.context import Context
from brickbook.emulator.errors import ApiError as EmulatorApiError
from brickbook.emulator.routes.dbfs import _block, _block_json
from brickbook.ops.transfer import LINE_INTERVAL, LOG_INTERVAL, TransferProgress, format_bytes, read_ahead
from tests.fakes import FakeTime


class Recorder:
    """A progress sink that keeps every line."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.cleared = 0

    def update(self, text: str) -> None:
        self.lines.append(text)

    def clear(self) -> None:
        self.cleared += 1

    def close(self) -> None:
        pass


def context(time: FakeTime, sink: Recorder) -> Context:
    return Context(client=None, clock=time.clock, sleep=time.sleep, progress=sink)  # type: ignore[arg-type]


# -- read_ahead --------------------------------------------------------------------------------------


def test_read_ahead_yields_every_item_in_order():
    """Items come out in the order the source produced them, all of them."""
    assert list(read_ahead(iter(range(100)))) == list(range(100))


def test_read_ahead_produces_the_next_item_while_the_caller_holds_one():
    """While the caller holds item n, item n+1 is produced in the helper thread (and no further)."""
    produced: list[int] = []
    ready = threading.Event()

    def source() -> Iterator[int]:
        for n in range(5):
            produced.append(n)
            if n == 1:
                ready.set()
            yield n

    stream = read_ahead(source())
    assert next(stream) == 0
    assert ready.wait(5), "the next item was not produced while the first was held"
    assert produced == [0, 1]  # one ahead, never two
    assert list(stream) == [1, 2, 3, 4]


def test_read_ahead_keeps_at_most_two_items_alive():
    """At most two blocks exist at once: the one the caller holds and the one being produced."""
    alive: set[int] = set()
    peak = 0
    lock = threading.Lock()

    class Block(bytes):
        def __del__(self) -> None:
            with lock:
                alive.discard(id(self))

    def source() -> Iterator[Block]:
        nonlocal peak
        for _ in range(50):
            block = Block(b"x" * 1024)
            with lock:
                alive.add(id(block))
                peak = max(peak, len(alive))
            yield block
            del block

    for block in read_ahead(source()):
        assert len(block) == 1024
        del block
    assert peak <= 2


def test_read_ahead_raises_a_failure_where_the_caller_asks_for_that_item():
    """An error producing item n reaches the caller after items 0..n-1, as the source raised it."""

    def source() -> Iterator[int]:
        yield 0
        yield 1
        raise OSError("disk gone")

    stream = read_ahead(source())
    assert [next(stream), next(stream)] == [0, 1]
    with pytest.raises(OSError, match="disk gone"):
        next(stream)


def test_closing_read_ahead_early_closes_its_source():
    """A caller that stops early (an expired handle) closes the source generator at once."""
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            yield from range(1000)
        finally:
            closed.set()

    stream = read_ahead(source())
    assert next(stream) == 0
    stream.close()
    assert closed.is_set()


# -- TransferProgress --------------------------------------------------------------------------------


def test_progress_line_shows_files_bytes_rate_and_eta():
    """After 2 s for 4 MiB of 8 MiB: files done of total, bytes of total, 2.0 MiB/s, ETA 2s."""
    time, sink = FakeTime(), Recorder()
    progress = TransferProgress(context(time, sink), files=2, total_bytes=8 << 20)
    progress.file_done()
    time.now += 2
    progress.add(4 << 20)
    assert sink.lines[-1] == "copying 1/2 files, 4.0 MiB of 8.0 MiB, 2.0 MiB/s, ETA 2s"


def test_progress_line_is_redrawn_at_most_every_line_interval_and_at_the_end():
    """Thousands of small files in one instant draw the first line and the last, not one per file."""
    time, sink = FakeTime(), Recorder()
    progress = TransferProgress(context(time, sink), files=1000, total_bytes=1000)
    for _ in range(1000):
        progress.add(1)
        progress.file_done()
    assert len(sink.lines) == 2
    assert sink.lines[-1].startswith("copying 1000/1000 files, 1000 B of 1000 B")
    time.now += LINE_INTERVAL
    progress.add(0)
    assert len(sink.lines) == 3


def test_progress_without_a_total_shows_no_eta():
    """A transfer of unknown size shows bytes and rate but no ETA."""
    time, sink = FakeTime(), Recorder()
    progress = TransferProgress(context(time, sink), files=1, total_bytes=None)
    time.now += 1
    progress.add(1536)
    assert sink.lines[-1] == "copying 0/1 files, 1.5 KiB, 1.5 KiB/s"


def test_progress_is_logged_at_most_every_five_seconds():
    """transfer.progress events come no more often than LOG_INTERVAL on the context's clock."""
    time, sink = FakeTime(), Recorder()
    with capture_logs() as logs:
        progress = TransferProgress(context(time, sink), files=1, total_bytes=100 << 20)
        for _ in range(100):  # one block a second for 100 s
            time.now += 1
            progress.add(1 << 20)
    events = [e for e in logs if e["event"] == "transfer.progress"]
    assert len(events) == 100 // LOG_INTERVAL
    assert events[0]["bytes"] == 5 << 20 and events[0]["seconds"] == 5
    assert events[0]["bytes_per_second"] == 1 << 20 and events[0]["eta_seconds"] == 95
    assert len(sink.lines) == 100  # the live line follows every block


def test_progress_result_gives_totals_and_the_effective_rate():
    """The result carries bytes, seconds and bytes_per_second of the whole transfer."""
    time, sink = FakeTime(), Recorder()
    progress = TransferProgress(context(time, sink), files=3, total_bytes=None)
    time.now += 4
    assert progress.result(10 << 20) == {"bytes": 10 << 20, "seconds": 4, "bytes_per_second": 2621440}
    progress.close()
    assert sink.cleared == 1


def test_progress_result_of_an_instant_transfer_has_no_rate():
    """No time passed: the rate is None rather than a division by zero."""
    progress = TransferProgress(context(FakeTime(), Recorder()), files=1, total_bytes=0)
    assert progress.result(0) == {"bytes": 0, "seconds": 0, "bytes_per_second": None}


def test_format_bytes_picks_a_readable_unit():
    """Bytes below a KiB stay whole; larger counts get one decimal and a binary unit."""
    assert [format_bytes(n) for n in (0, 1023, 1024, 5 << 20, 3 << 30, 5000 << 30)] == [
        "0 B",
        "1023 B",
        "1.0 KiB",
        "5.0 MiB",
        "3.0 GiB",
        "5000.0 GiB",
    ]


# -- the block body template ----------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 1000, 1 << 20])
def test_block_body_is_the_json_of_the_fields_and_the_base64_block(size: int):
    """The spliced body parses to exactly the fields plus the block's standard base64."""
    data = random.Random(size).randbytes(size)
    body = block_body({"handle": 7, "path": '/odd "name"\\é\n'}, "data", data)
    assert json.loads(body) == {
        "handle": 7,
        "path": '/odd "name"\\é\n',
        "data": base64.b64encode(data).decode(),
    }


def test_block_body_refuses_the_block_key_among_the_fields():
    """A field named like the block's key would not come last, where the splice goes: refused."""
    with pytest.raises(ValueError, match="both a field"):
        block_body({"data": "x"}, "data", b"y")


# -- the emulator's fast parse of a block body ---------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "fields", "block"),
    [
        (b'{"handle":1,"data":"QUFB"}', {"handle": 1, "data": ""}, "QUFB"),
        (b'{ "data" : "QUFB" , "handle" : 2 }', {"handle": 2, "data": ""}, "QUFB"),
        # The key inside another key (an escaped quote before it): json.loads decides.
        (b'{"data":"QUFB","p\\"data":"eA=="}', {"data": "QUFB", 'p"data': "eA=="}, "QUFB"),
        # A duplicate key: the last one wins, as json.loads has it.
        (b'{"data":"eA==","data":"QUFB"}', {"data": ""}, "QUFB"),
        # An escape inside the value: json.loads decodes it.
        (b'{"data":"QU\\u0046B"}', {"data": "QUFB"}, "QUFB"),
        (b'{"handle":3}', {"handle": 3}, ""),
    ],
)
def test_emulator_block_parse_agrees_with_json_loads(raw: bytes, fields: dict[str, object], block: str):
    """The fast path returns the same block as ``json.loads`` would, or falls back to it."""
    body, value = _block_json(raw, "data")
    assert body == fields
    assert (bytes(value) if isinstance(value, memoryview) else value) in (block, block.encode())


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b'{"handle":1,"data":"QU\nFB"}', "MALFORMED_REQUEST"),  # a raw newline: not JSON
        (b'{"handle":1,"data":"QU\xffFB"}', "MALFORMED_REQUEST"),  # not UTF-8: not JSON
        (b'{"handle":1,"data":"QU!B"}', "INVALID_PARAMETER_VALUE"),  # JSON, but not base64
    ],
)
def test_emulator_block_errors_are_those_of_a_full_parse(raw: bytes, code: str):
    """A block the fast path cut out but cannot decode is refused as a full parse would refuse it."""
    _fields, value = _block_json(raw, "data")
    assert isinstance(value, memoryview)  # the fast path took it
    with pytest.raises(EmulatorApiError) as info:
        _block(raw, value, "data")
    assert info.value.code == code
