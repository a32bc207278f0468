"""Measure what users feel: request overhead, DBFS upload/download throughput and peak memory.

Run with ``invoke bench`` (or ``python -m benchmarks.transfers``). Everything goes through real HTTP on
loopback against an in-process emulator; the numbers are for comparing changes on one machine, not
absolute promises. The memory goal: a transfer's peak traced memory stays flat as the file grows.
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from benchmarks.datafiles import sha256, write_file
from brickbook.api import identity
from brickbook.client import Client
from brickbook.config import Config
from brickbook.context import Context
from brickbook.emulator.server import start_in_thread
from brickbook.emulator.settings import EmulatorSettings
from brickbook.log import configure_logging
from brickbook.ops import dbfs

TOKEN = "bench-admin-token-0123456789"
CHUNK = 1024 * 1024


@contextmanager
def measured() -> Iterator[dict[str, float]]:
    """Time the block and record its peak traced memory (MB above the start)."""
    result: dict[str, float] = {}
    tracemalloc.start()
    start_mem = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - started
        result["peak_mb"] = (tracemalloc.get_traced_memory()[1] - start_mem) / CHUNK
        tracemalloc.stop()


def main(sizes_mb: tuple[int, ...] = (16, 64), requests: int = 500) -> None:
    """Print one line per measurement."""
    configure_logging(level="warning")
    with (
        tempfile.TemporaryDirectory() as work,
        start_in_thread(EmulatorSettings(port=0, admin_token=TOKEN, data_dir=Path(work) / "emu")) as emulator,
    ):
        config = Config(host=emulator.url, auth_type="pat", token=TOKEN)
        # The benchmark measures brickbook, not its politeness: lift the client-side rate limit.
        config = replace(config, rate_limit_per_second=100_000.0)
        with Client(config) as client:
            with measured() as calls:
                for _ in range(requests):
                    identity.me(client)
            per_call_ms = calls["seconds"] / requests * 1000
            print(f"GET /Me x{requests}: {per_call_ms:.2f} ms per call, peak {calls['peak_mb']:.1f} MB")
            for size in sizes_mb:
                source = Path(work) / f"in-{size}.bin"
                target = Path(work) / f"out-{size}.bin"
                expected = write_file(source, size)
                ctx = Context(client=client)
                with measured() as up:
                    dbfs.copy(ctx, str(source), f"dbfs:/bench/{size}.bin", recursive=False, overwrite=True)
                with measured() as down:
                    dbfs.copy(ctx, f"dbfs:/bench/{size}.bin", str(target), recursive=False, overwrite=True)
                assert sha256(target) == expected, "downloaded bytes differ"
                for name, m in (("upload", up), ("download", down)):
                    print(
                        f"fs.cp {name} {size} MB: {size / m['seconds']:.1f} MB/s, "
                        f"peak {m['peak_mb']:.1f} MB above start"
                    )


if __name__ == "__main__":
    main()
