"""DBFS transfers that stream in constant memory and never leave a half-written file behind.

- Upload: up to 1 MB in one ``put``; larger files block by block (1 MB raw) through create / add-block /
  close, reading the file one block at a time. A failed block is resent by the client's retry policy;
  an expired handle restarts the upload from the beginning; the final size is checked against the
  source, and a mismatch (a duplicated block after a lost response) restarts the upload too.
- Download: 1 MB ranges into a temporary file beside the target, renamed into place only when complete
  and of the expected size.
- Delete: a large recursive delete answers 503 while it proceeds; it is called again until done.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from brickbook.api import dbfs
from brickbook.api.dbfs import BLOCK_SIZE, FileInfo
from brickbook.client import Client
from brickbook.errors import (
    BrickbookError,
    LocalConflict,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    TemporarilyUnavailable,
    UsageError,
)
from brickbook.log import get_logger

__all__ = ["cat", "copy", "delete", "download_file", "upload_file", "walk"]

MAX_UPLOAD_RESTARTS = 3
MAX_DELETE_CALLS = 10_000


class UploadFailed(BrickbookError):
    """An upload could not be completed with the expected size, even after restarts."""

    exit_code = 6


def _blocks(handle: BinaryIO) -> Iterator[bytes]:
    while block := handle.read(BLOCK_SIZE):
        yield block


def _upload_blocks(
    client: Client, blocks: Callable[[], Iterable[bytes]], remote: str, overwrite: bool
) -> int:
    """Stream ``blocks()`` to ``remote``; return the bytes sent. ``blocks`` is called again on restart."""
    log = get_logger(path=remote)
    for attempt in range(1, MAX_UPLOAD_RESTARTS + 1):
        # After a first attempt created (part of) the file, replacing it is ours to do.
        handle = dbfs.create(client, remote, overwrite=overwrite or attempt > 1)
        sent = 0
        try:
            for block in blocks():
                dbfs.add_block(client, handle, block)
                sent += len(block)
            dbfs.close(client, handle)
        except ResourceDoesNotExist:
            log.warning("dbfs.upload_restarted", reason="the upload handle expired", attempt=attempt)
            continue
        actual = dbfs.get_status(client, remote).file_size
        if actual == sent:
            return sent
        log.warning("dbfs.upload_restarted", reason=f"size {actual} != {sent} sent", attempt=attempt)
    raise UploadFailed(f"upload to dbfs:{remote} did not complete after {MAX_UPLOAD_RESTARTS} attempts")


def upload_file(client: Client, local: Path, remote: str, *, overwrite: bool) -> int:
    """Upload a local file to DBFS in constant memory; return its size."""
    try:
        size = local.stat().st_size
    except OSError as error:
        raise UsageError(f"cannot read {local}: {error.strerror}") from None
    if size <= BLOCK_SIZE:
        dbfs.put(client, remote, local.read_bytes(), overwrite=overwrite)
        return size

    def blocks() -> Iterator[bytes]:
        with local.open("rb") as handle:
            yield from _blocks(handle)

    sent = _upload_blocks(client, blocks, remote, overwrite)
    if sent != size:
        raise UploadFailed(f"{local} changed while it was uploaded ({sent} of {size} bytes sent)")
    return sent


def _ranges(client: Client, remote: str, size: int) -> Iterator[bytes]:
    offset = 0
    while offset < size:
        chunk = dbfs.read(client, remote, offset=offset, length=min(BLOCK_SIZE, size - offset))
        if not chunk:
            break
        offset += len(chunk)
        yield chunk


def download_file(client: Client, remote: str, local: Path, *, overwrite: bool) -> int:
    """Download a DBFS file through a temporary file renamed into place; return its size."""
    info = dbfs.get_status(client, remote)
    if info.is_dir:
        raise UsageError(f"dbfs:{remote} is a directory: add --recursive to copy it")
    if local.exists() and not overwrite:
        raise LocalConflict(f"{local} exists: add --overwrite to replace it")
    local.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=local.parent, prefix=f".{local.name}.", suffix=".part")
    try:
        written = 0
        with os.fdopen(fd, "wb") as handle:
            for chunk in _ranges(client, remote, info.file_size):
                handle.write(chunk)
                written += len(chunk)
        if written != info.file_size:
            raise UploadFailed(f"dbfs:{remote}: read {written} of {info.file_size} bytes")
        Path(temp).replace(local)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return written


def cat(client: Client, remote: str, sink: BinaryIO) -> int:
    """Stream a DBFS file into ``sink``; return the bytes written."""
    info = dbfs.get_status(client, remote)
    if info.is_dir:
        raise UsageError(f"dbfs:{remote} is a directory")
    written = 0
    for chunk in _ranges(client, remote, info.file_size):
        sink.write(chunk)
        written += len(chunk)
    return written


def walk(client: Client, remote: str) -> Iterator[FileInfo]:
    """Yield every file and directory below a DBFS directory, depth first."""
    for item in dbfs.list_(client, remote):
        yield item
        if item.is_dir:
            yield from walk(client, item.path)


def delete(client: Client, remote: str, *, recursive: bool) -> int:
    """Delete a path, calling again while the service answers 503 for a partial delete; return calls."""
    log = get_logger(path=remote)
    for call in range(1, MAX_DELETE_CALLS + 1):
        try:
            dbfs.delete(client, remote, recursive=recursive)
            return call
        except TemporarilyUnavailable as error:
            log.info("dbfs.delete_continues", call=call, reason=error.message)
    raise UploadFailed(f"dbfs:{remote} was still being deleted after {MAX_DELETE_CALLS} calls")


def _copy_remote_file(client: Client, source: str, dest: str, overwrite: bool) -> int:
    size = dbfs.get_status(client, source).file_size
    if size <= BLOCK_SIZE:
        dbfs.put(client, dest, b"".join(_ranges(client, source, size)), overwrite=overwrite)
        return size
    return _upload_blocks(client, lambda: _ranges(client, source, size), dest, overwrite)


def _run_all(client: Client, jobs: Sequence[Callable[[], int]]) -> list[int]:
    with ThreadPoolExecutor(max_workers=max(1, client.throttle.max_concurrency)) as pool:
        return list(pool.map(lambda job: job(), jobs))


def copy(
    client: Client, source: str, dest: str, *, recursive: bool, overwrite: bool
) -> list[dict[str, object]]:
    """Copy between the local disk and DBFS (``dbfs:`` marks the remote side); return what was copied."""
    from brickbook.paths import dbfs_path, is_dbfs

    src_remote, dst_remote = is_dbfs(source), is_dbfs(dest)
    if not src_remote and not dst_remote:
        raise UsageError("one of SRC and DEST must be a DBFS path (dbfs:/...)")
    src = dbfs_path(source) if src_remote else source
    dst = dbfs_path(dest) if dst_remote else dest
    pairs = _plan(client, src, dst, src_remote=src_remote, dst_remote=dst_remote, recursive=recursive)
    jobs: list[Callable[[], int]] = []
    for a, b in pairs:
        if src_remote and dst_remote:
            jobs.append(functools.partial(_copy_remote_file, client, a, b, overwrite))
        elif src_remote:
            jobs.append(functools.partial(download_file, client, a, Path(b), overwrite=overwrite))
        else:
            jobs.append(functools.partial(upload_file, client, Path(a), b, overwrite=overwrite))
    try:
        sizes = _run_all(client, jobs)
    except ResourceAlreadyExists as error:
        error.args = (f"{error.message}: add --overwrite to replace it",)
        raise
    return [{"source": a, "destination": b, "bytes": n} for (a, b), n in zip(pairs, sizes, strict=True)]


def _plan(
    client: Client, src: str, dst: str, *, src_remote: bool, dst_remote: bool, recursive: bool
) -> list[tuple[str, str]]:
    """Return (source file, destination file) pairs; create destination directories as needed."""
    if src_remote:
        info = dbfs.get_status(client, src)
        files = (
            [
                (i.path, PurePosixPath(i.path).relative_to(src).as_posix())
                for i in walk(client, src)
                if not i.is_dir
            ]
            if info.is_dir
            else None
        )
    else:
        local = Path(src)
        if not local.exists():
            raise UsageError(f"{src} does not exist")
        files = (
            [(str(p), p.relative_to(local).as_posix()) for p in sorted(local.rglob("*")) if p.is_file()]
            if local.is_dir()
            else None
        )
    if files is None:
        return [(src, dst)]
    if not recursive:
        raise UsageError(f"{src} is a directory: add --recursive to copy it")

    def join(rel: str) -> str:
        return str(PurePosixPath(dst) / rel) if dst_remote else str(Path(dst) / rel)

    if dst_remote:
        for directory in sorted({str(PurePosixPath(join(rel)).parent) for _, rel in files} | {dst}):
            dbfs.mkdirs(client, directory)
    return [(path, join(rel)) for path, rel in files]
