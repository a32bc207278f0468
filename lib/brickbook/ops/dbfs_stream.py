"""DBFS streams: files up and down, block by block, in constant memory, one block read ahead.

- Upload: up to 1 MB in one ``put``; larger files block by block (1 MB raw) through create / add-block /
  close, reading the next block and building its body (``read_ahead``) while the previous add-block is
  in flight: appends must arrive in order, so the service's work on one block overlaps only the
  client's work on the next. A failed
  block is resent by the client's retry policy; an expired handle restarts the upload from the
  beginning; the final size is checked against what was sent, and a mismatch (a block appended twice
  after a lost answer) restarts it too.
- Download: 1 MB ranges, ``RANGES_IN_FLIGHT`` of them requested at once (``read`` takes an offset, so
  the service encodes one range while the client decodes the previous one), written in order through
  ``brickbook.localfs.atomic_writer``: into a temporary file beside the target, renamed into place only
  when complete and of the expected size (any failure removes it); a FIFO or device target is written
  in place, a link through to what it points to.
- Every stream counts its bytes on an optional ``TransferProgress`` (``brickbook.ops.transfer``).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from brickbook.api import dbfs
from brickbook.api.dbfs import BLOCK_SIZE
from brickbook.context import Context
from brickbook.errors import ResourceDoesNotExist, TransferFailed, UsageError
from brickbook.localfs import atomic_writer, check_target
from brickbook.ops.transfer import TransferProgress, read_ahead
from brickbook.paths import printable

__all__ = [
    "MAX_UPLOAD_RESTARTS",
    "RANGES_IN_FLIGHT",
    "cat",
    "copy_remote_file",
    "download_file",
    "read_ranges",
    "upload_blocks",
    "upload_file",
]

MAX_UPLOAD_RESTARTS = 3
RANGES_IN_FLIGHT = 2  # the service encodes one while the client decodes the other; a third bought nothing


def _file_blocks(local: Path) -> Iterator[bytes]:
    with local.open("rb") as handle:
        while block := handle.read(BLOCK_SIZE):
            yield block


def _bodies(blocks: Iterable[bytes], handle: int) -> Iterator[tuple[int, bytes]]:
    for block in blocks:
        yield len(block), dbfs.add_block_body(handle, block)


def upload_blocks(
    ctx: Context,
    blocks: Callable[[], Iterable[bytes]],
    remote: str,
    overwrite: bool,
    progress: TransferProgress | None = None,
) -> int:
    """Stream ``blocks()`` to ``remote``; return the bytes sent. ``blocks`` is called again on restart.

    The next block is read and its body built (``read_ahead``) while the previous add-block is in flight.
    """
    log = ctx.log.bind(path=remote)
    for attempt in range(1, MAX_UPLOAD_RESTARTS + 1):
        # After a first attempt, a file at the target may be our own partial work: replacing it is ours.
        handle = dbfs.create(ctx.client, remote, overwrite=overwrite or attempt > 1)
        sent = 0
        try:
            with contextlib.closing(read_ahead(_bodies(blocks(), handle))) as stream:
                for size, body in stream:
                    dbfs.send_block(ctx.client, body)
                    del body  # the next body is being built: keep two alive, not three
                    sent += size
                    if progress is not None:
                        progress.add(size)
        except ResourceDoesNotExist:
            log.warning("dbfs.upload_restarted", reason="the upload handle expired", attempt=attempt)
            continue
        # A resent close whose first answer was lost, or an expired handle: the size check tells.
        with contextlib.suppress(ResourceDoesNotExist):
            dbfs.close(ctx.client, handle)
        try:
            actual = dbfs.get_status(ctx.client, remote).file_size
        except ResourceDoesNotExist:
            actual = -1
        if actual == sent:
            return sent
        log.warning("dbfs.upload_restarted", reason=f"size {actual} != {sent} sent", attempt=attempt)
    raise TransferFailed(f"upload to dbfs:{remote} did not complete after {MAX_UPLOAD_RESTARTS} attempts")


def upload_file(
    ctx: Context, local: Path, remote: str, *, overwrite: bool, progress: TransferProgress | None = None
) -> int:
    """Upload a local file to DBFS in constant memory; return its size (bytes counted on ``progress``)."""
    try:
        size = local.stat().st_size
        if size <= BLOCK_SIZE:
            dbfs.put(ctx.client, remote, local.read_bytes(), overwrite=overwrite)
            if progress is not None:
                progress.add(size)
            return size
        sent = upload_blocks(ctx, functools.partial(_file_blocks, local), remote, overwrite, progress)
    except OSError as error:
        raise UsageError(f"cannot read {printable(str(local))}: {error.strerror or error}") from None
    if sent != size:
        raise TransferFailed(
            f"{printable(str(local))} changed while it was uploaded ({sent} of {size} bytes sent)"
        )
    return sent


def read_ranges(ctx: Context, remote: str, size: int, *, start: int = 0) -> Iterator[bytes]:
    """Yield a file's bytes from ``start`` to ``size``, one range at a time."""
    offset = start
    while offset < size:
        chunk = dbfs.read(ctx.client, remote, offset=offset, length=min(BLOCK_SIZE, size - offset))
        if not chunk:
            break
        offset += len(chunk)
        yield chunk


def _ranges_ahead(ctx: Context, remote: str, size: int) -> Generator[bytes, None, None]:
    """Yield a file's ranges in order, ``RANGES_IN_FLIGHT`` requested at once while the caller uses one.

    At most ``RANGES_IN_FLIGHT`` ranges are requested or waiting, plus the one the caller holds. A range
    shorter than asked (the file changed, or the service stopped early) ends the overlap: the ranges
    requested beyond it are dropped and the rest is read one at a time from where it ended. A file of
    one range has nothing to overlap: no helper threads for it (``fs.cp -r`` of small files).
    """
    if size <= BLOCK_SIZE:
        yield from read_ranges(ctx, remote, size)
        return
    context = contextvars.copy_context()  # log fields bound by the caller reach what the helpers log

    def fetch(offset: int, length: int) -> bytes:
        return context.copy().run(dbfs.read, ctx.client, remote, offset=offset, length=length)

    pending: deque[tuple[int, int, Future[bytes]]] = deque()
    with ThreadPoolExecutor(max_workers=RANGES_IN_FLIGHT, thread_name_prefix="brickbook-read") as pool:
        try:
            offset = 0
            while pending or offset < size:
                while len(pending) < RANGES_IN_FLIGHT and offset < size:
                    length = min(BLOCK_SIZE, size - offset)
                    pending.append((offset, length, pool.submit(fetch, offset, length)))
                    offset += length
                start, length, future = pending.popleft()
                chunk = future.result()
                if len(chunk) != length:
                    for *_, dropped in pending:
                        dropped.cancel()
                    pending.clear()
                    if chunk:
                        yield chunk
                        yield from read_ranges(ctx, remote, size, start=start + len(chunk))
                    return
                yield chunk
                del chunk
        finally:
            for *_, left in pending:  # closed early or failed: stop what has not started
                left.cancel()


def download_file(
    ctx: Context,
    remote: str,
    local: Path,
    *,
    overwrite: bool,
    within: Path | None = None,
    progress: TransferProgress | None = None,
) -> int:
    """Download a DBFS file through ``localfs.atomic_writer`` (renamed into place when complete).

    The next ranges are requested (``_ranges_ahead``) while the previous one is written to disk.
    """
    info = dbfs.get_status(ctx.client, remote)
    if info.is_dir:
        raise UsageError(f"dbfs:{remote} is a directory").with_hint("add --recursive to copy it")
    check_target(local, overwrite=overwrite, within=within)
    written = 0
    with (
        atomic_writer(local, within=within) as handle,
        contextlib.closing(_ranges_ahead(ctx, remote, info.file_size)) as chunks,
    ):
        for chunk in chunks:
            handle.write(chunk)
            written += len(chunk)
            if progress is not None:
                progress.add(len(chunk))
        if written != info.file_size:
            raise TransferFailed(f"dbfs:{remote}: read {written} of {info.file_size} bytes")
    return written


def cat(ctx: Context, remote: str) -> Iterator[bytes]:
    """Yield a DBFS file's bytes, 1 MB at a time (the status check runs on the first ``next``)."""
    info = dbfs.get_status(ctx.client, remote)
    if info.is_dir:
        raise UsageError(f"dbfs:{remote} is a directory")
    with contextlib.closing(_ranges_ahead(ctx, remote, info.file_size)) as chunks:
        yield from chunks


def copy_remote_file(
    ctx: Context, source: str, dest: str, overwrite: bool, progress: TransferProgress | None = None
) -> int:
    size = dbfs.get_status(ctx.client, source).file_size
    if size <= BLOCK_SIZE:
        dbfs.put(ctx.client, dest, b"".join(read_ranges(ctx, source, size)), overwrite=overwrite)
        if progress is not None:
            progress.add(size)
        return size
    return upload_blocks(ctx, lambda: read_ranges(ctx, source, size), dest, overwrite, progress)
