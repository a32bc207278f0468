"""What every long transfer shares: reading one block ahead, and reporting how far it has come.

- ``read_ahead(blocks)`` yields the blocks of an iterable while a helper thread produces the next one,
  so reading the next block from disk (or requesting the next DBFS range) overlaps the request or the
  write in progress. At most two blocks are alive at once: the one the caller holds and the one being
  produced; nothing is queued beyond that. A failure producing a block is raised where the caller asks
  for it, and closing the generator early waits for the one block being produced, then stops.
- ``TransferProgress`` counts files and bytes across the threads of a copy and shows them through
  ``ctx.progress`` (files done of total, bytes, rate, ETA: a live line on a TTY, redrawn at most every
  LINE_INTERVAL seconds and when the last file is done; nothing elsewhere), logs ``transfer.progress``
  at most every ``LOG_INTERVAL`` seconds on ``ctx.clock``, and gives the totals and the effective rate
  at the end (``bytes``, ``seconds``, ``bytes_per_second``).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Generator, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from brickbook.context import Context

__all__ = ["LINE_INTERVAL", "LOG_INTERVAL", "TransferProgress", "format_bytes", "read_ahead"]

T = TypeVar("T")
LOG_INTERVAL = 5.0  # seconds between two transfer.progress events
LINE_INTERVAL = 0.1  # seconds between two redraws of the live line (10,000 small files: not 20,000 writes)
_END = object()


def read_ahead(items: Iterable[T]) -> Generator[T, None, None]:
    """Yield ``items`` in order while a helper thread produces the next one (at most two alive at once)."""
    source = iter(items)
    context = contextvars.copy_context()  # log fields bound by the caller reach what the helper logs

    def produce() -> Any:
        return context.run(next, source, _END)

    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="brickbook-read-ahead") as pool:
            pending = pool.submit(produce)
            while (item := pending.result()) is not _END:
                pending = pool.submit(produce)
                yield item
                del item  # the caller is done with it: only the block being produced stays alive
    finally:
        close = getattr(source, "close", None)
        if close is not None:  # a generator source: end it here, not whenever it is collected
            close()


def format_bytes(count: float) -> str:
    """Return a byte count for people: ``512 B``, ``1.5 KiB``, ``64.0 MiB``, ``1.2 GiB``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def _format_seconds(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class TransferProgress:
    """Files and bytes moved so far, shown through ``ctx.progress`` and logged every few seconds.

    Thread-safe: the workers of a copy call ``add`` and ``file_done`` concurrently. ``total_bytes`` may
    be None when unknown (no ETA then). ``bytes`` counts what went over the wire, so a restarted
    upload counts its blocks again: the rate is the wire's, the totals in ``result`` are the files'.
    """

    def __init__(self, ctx: Context, *, files: int, total_bytes: int | None, label: str = "copying") -> None:
        self._ctx = ctx
        self._label = label
        self.files = files
        self.total_bytes = total_bytes
        self.files_done = 0
        self.bytes = 0
        self._lock = threading.Lock()
        self._started = ctx.clock()
        self._logged = self._started
        self._drawn: float | None = None

    def add(self, count: int) -> None:
        """Record ``count`` more bytes moved; refresh the line, and log when LOG_INTERVAL has passed."""
        with self._lock:
            self.bytes += count
            self._report()

    def file_done(self) -> None:
        """Record one more file complete."""
        with self._lock:
            self.files_done += 1
            self._report()

    def snapshot(self) -> dict[str, Any]:
        """Return where the transfer stands: files, bytes, rate and ETA (None when unknown)."""
        seconds = max(self._ctx.clock() - self._started, 0.0)
        rate = self.bytes / seconds if seconds > 0 else None
        eta = None
        if rate and self.total_bytes is not None:
            eta = max(self.total_bytes - self.bytes, 0) / rate
        return {
            "files_done": self.files_done,
            "files": self.files,
            "bytes": self.bytes,
            "total_bytes": self.total_bytes,
            "seconds": round(seconds, 3),
            "bytes_per_second": round(rate) if rate is not None else None,
            "eta_seconds": round(eta, 1) if eta is not None else None,
        }

    def line(self) -> str:
        """Return the live line: ``copying 3/10 files, 12.0 MiB of 64.0 MiB, 40.1 MiB/s, ETA 2s``."""
        state = self.snapshot()
        parts = [f"{self._label} {state['files_done']}/{state['files']} files"]
        moved = format_bytes(state["bytes"])
        if state["total_bytes"] is not None:
            moved += f" of {format_bytes(state['total_bytes'])}"
        parts.append(moved)
        if state["bytes_per_second"] is not None:
            parts.append(f"{format_bytes(state['bytes_per_second'])}/s")
        if state["eta_seconds"] is not None:
            parts.append(f"ETA {_format_seconds(state['eta_seconds'])}")
        return ", ".join(parts)

    def result(self, total_bytes: int) -> dict[str, Any]:
        """Return the totals and the effective rate of the whole transfer (``total_bytes`` / elapsed)."""
        seconds = max(self._ctx.clock() - self._started, 0.0)
        return {
            "bytes": total_bytes,
            "seconds": round(seconds, 3),
            "bytes_per_second": round(total_bytes / seconds) if seconds > 0 else None,
        }

    def close(self) -> None:
        """Blank the live line."""
        self._ctx.progress.clear()

    def _report(self) -> None:
        now = self._ctx.clock()
        last = self.files_done == self.files
        if self._drawn is None or now - self._drawn >= LINE_INTERVAL or last:
            self._drawn = now
            self._ctx.progress.update(self.line())
        if now - self._logged >= LOG_INTERVAL:
            self._logged = now
            self._ctx.log.info("transfer.progress", **self.snapshot())
