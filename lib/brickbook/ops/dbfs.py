"""DBFS transfers that stream in constant memory and never leave a half-written file behind.

- Upload: up to 1 MB in one ``put``; larger files block by block (1 MB raw) through create / add-block /
  close, reading the source one block at a time. A failed block is resent by the client's retry
  policy; an expired handle restarts the upload from the beginning; the final size is checked against
  what was sent, and a mismatch (a block appended twice after a lost response) restarts it too.
- Download: 1 MB ranges through ``brickbook.localfs.atomic_writer``: into a temporary file beside the
  target, renamed into place only when complete and of the expected size (any failure removes it); a
  FIFO or device target is written in place, a link through to what it points to.
- Copy checks every destination before the first byte moves: without ``overwrite`` an existing one
  stops the whole copy (exit 5), and so does a local folder where a file goes or a file where a folder
  goes, so nothing is half-copied. A local source folder is walked without leaving it (links out,
  broken links and loops are skipped and reported).
- Delete: a large recursive delete answers 503 PARTIAL_DELETE while it proceeds; it is called again,
  at once, until done.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any

from brickbook.api import dbfs
from brickbook.api.dbfs import BLOCK_SIZE, FileInfo
from brickbook.client import Client
from brickbook.errors import (
    ApiError,
    DestinationExists,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    TransferFailed,
    TransportError,
    UsageError,
)
from brickbook.localfs import OVERWRITE_HINT, Skipped, atomic_writer, check_target, local_path, walk_files
from brickbook.log import get_logger
from brickbook.paths import dbfs_path, is_dbfs, printable

__all__ = [
    "cat",
    "copy",
    "delete",
    "download_file",
    "upload_file",
    "walk",
]

MAX_UPLOAD_RESTARTS = 3
MAX_DELETE_CALLS = 10_000


def _file_blocks(local: Path) -> Iterator[bytes]:
    with local.open("rb") as handle:
        while block := handle.read(BLOCK_SIZE):
            yield block


def _upload_blocks(
    client: Client, blocks: Callable[[], Iterable[bytes]], remote: str, overwrite: bool
) -> int:
    """Stream ``blocks()`` to ``remote``; return the bytes sent. ``blocks`` is called again on restart."""
    log = get_logger(path=remote)
    for attempt in range(1, MAX_UPLOAD_RESTARTS + 1):
        # After a first attempt, a file at the target may be our own partial work: replacing it is ours.
        handle = dbfs.create(client, remote, overwrite=overwrite or attempt > 1)
        sent = 0
        try:
            for block in blocks():
                dbfs.add_block(client, handle, block)
                sent += len(block)
        except ResourceDoesNotExist:
            log.warning("dbfs.upload_restarted", reason="the upload handle expired", attempt=attempt)
            continue
        # A resent close whose first answer was lost, or an expired handle: the size check tells.
        with contextlib.suppress(ResourceDoesNotExist):
            dbfs.close(client, handle)
        try:
            actual = dbfs.get_status(client, remote).file_size
        except ResourceDoesNotExist:
            actual = -1
        if actual == sent:
            return sent
        log.warning("dbfs.upload_restarted", reason=f"size {actual} != {sent} sent", attempt=attempt)
    raise TransferFailed(f"upload to dbfs:{remote} did not complete after {MAX_UPLOAD_RESTARTS} attempts")


def upload_file(client: Client, local: Path, remote: str, *, overwrite: bool) -> int:
    """Upload a local file to DBFS in constant memory; return its size."""
    try:
        size = local.stat().st_size
        if size <= BLOCK_SIZE:
            dbfs.put(client, remote, local.read_bytes(), overwrite=overwrite)
            return size
        sent = _upload_blocks(client, functools.partial(_file_blocks, local), remote, overwrite)
    except OSError as error:
        raise UsageError(f"cannot read {printable(str(local))}: {error.strerror or error}") from None
    if sent != size:
        raise TransferFailed(
            f"{printable(str(local))} changed while it was uploaded ({sent} of {size} bytes sent)"
        )
    return sent


def _ranges(client: Client, remote: str, size: int) -> Iterator[bytes]:
    offset = 0
    while offset < size:
        chunk = dbfs.read(client, remote, offset=offset, length=min(BLOCK_SIZE, size - offset))
        if not chunk:
            break
        offset += len(chunk)
        yield chunk


def download_file(
    client: Client, remote: str, local: Path, *, overwrite: bool, within: Path | None = None
) -> int:
    """Download a DBFS file through ``localfs.atomic_writer`` (renamed into place when complete)."""
    info = dbfs.get_status(client, remote)
    if info.is_dir:
        raise UsageError(f"dbfs:{remote} is a directory: add --recursive to copy it")
    check_target(local, overwrite=overwrite, within=within)
    written = 0
    with atomic_writer(local, within=within) as handle:
        for chunk in _ranges(client, remote, info.file_size):
            handle.write(chunk)
            written += len(chunk)
        if written != info.file_size:
            raise TransferFailed(f"dbfs:{remote}: read {written} of {info.file_size} bytes")
    return written


def cat(client: Client, remote: str) -> Iterator[bytes]:
    """Yield a DBFS file's bytes, 1 MB at a time (the status check runs on the first ``next``)."""
    info = dbfs.get_status(client, remote)
    if info.is_dir:
        raise UsageError(f"dbfs:{remote} is a directory")
    yield from _ranges(client, remote, info.file_size)


def walk(client: Client, remote: str) -> Iterator[FileInfo]:
    """Yield every file and directory below a DBFS directory, depth first."""
    for item in dbfs.list_(client, remote):
        yield item
        if item.is_dir:
            yield from walk(client, item.path)


def _transient(error: BaseException) -> bool:
    if isinstance(error, TransportError):
        return True
    return isinstance(error, ApiError) and (error.http_status or 0) in (429, 500, 502, 503, 504)


def delete(client: Client, remote: str, *, recursive: bool) -> int:
    """Delete a path, calling again while the service answers 503 PARTIAL_DELETE; return the calls made.

    A missing path is an error here (the API itself would succeed silently), and so is a non-empty
    directory without ``recursive``. Each call first fails fast on a 5xx so that a partial delete is
    called again at once; any other transient failure is handed to the client's retry policy.
    """
    info = dbfs.get_status(client, remote)
    if info.is_dir and not recursive and dbfs.list_(client, remote):
        raise UsageError(f"dbfs:{remote} is a directory that is not empty: add --recursive to delete it")
    log = get_logger(path=remote)
    patient = False
    for call in range(1, MAX_DELETE_CALLS + 1):
        try:
            dbfs.delete(client, remote, recursive=recursive, retry_transient=patient)
            return call
        except (ApiError, TransportError) as error:
            if dbfs.is_partial_delete(error):
                log.info("dbfs.delete_continues", call=call, reason=str(error))
                patient = False
            elif _transient(error) and not patient:
                patient = True
            else:
                raise
    raise TransferFailed(f"dbfs:{remote} was still being deleted after {MAX_DELETE_CALLS} calls")


def _copy_remote_file(client: Client, source: str, dest: str, overwrite: bool) -> int:
    size = dbfs.get_status(client, source).file_size
    if size <= BLOCK_SIZE:
        dbfs.put(client, dest, b"".join(_ranges(client, source, size)), overwrite=overwrite)
        return size
    return _upload_blocks(client, lambda: _ranges(client, source, size), dest, overwrite)


def _run_all(client: Client, jobs: Sequence[Callable[[], int]]) -> list[int]:
    if len(jobs) == 1:
        return [jobs[0]()]
    with ThreadPoolExecutor(max_workers=max(1, client.throttle.max_concurrency)) as pool:
        return list(pool.map(lambda job: job(), jobs))


def _remote_kind(client: Client, path: str) -> str | None:
    """Return ``"dir"``, ``"file"`` or None when nothing is at ``path``."""
    try:
        return "dir" if dbfs.get_status(client, path).is_dir else "file"
    except ResourceDoesNotExist:
        return None


def copy(client: Client, source: str, dest: str, *, recursive: bool, overwrite: bool) -> dict[str, Any]:
    """Copy between the local disk and DBFS (``dbfs:`` marks the remote side); return what was copied.

    Arguments are checked before any request; every destination before the first transfer.
    """
    src_remote, dst_remote = is_dbfs(source), is_dbfs(dest)
    if not src_remote and not dst_remote:
        raise UsageError("one of SRC and DEST must be a DBFS path (dbfs:/...)")
    src = dbfs_path(source) if src_remote else str(local_path(source))
    dst = dbfs_path(dest) if dst_remote else str(local_path(dest))
    pairs, skipped, reads = _plan(
        client, src, dst, src_remote=src_remote, dst_remote=dst_remote, recursive=recursive
    )
    # Files of a folder copy must land inside DEST: a link there that leads out of it is refused.
    within = Path(dst) if len(pairs) > 1 or recursive else None
    _check_destinations(
        client, [b for _, b in pairs], dst_remote=dst_remote, overwrite=overwrite, within=within
    )
    if dst_remote:
        for directory in sorted({str(PurePosixPath(b).parent) for _, b in pairs}):
            dbfs.mkdirs(client, directory)
    jobs: list[Callable[[], int]] = []
    for a, b in pairs:
        if src_remote and dst_remote:
            jobs.append(functools.partial(_copy_remote_file, client, a, b, overwrite))
        elif src_remote:
            jobs.append(functools.partial(download_file, client, a, Path(b), overwrite=True, within=within))
        else:
            jobs.append(functools.partial(upload_file, client, reads.get(a, Path(a)), b, overwrite=overwrite))
    try:
        sizes = _run_all(client, jobs)
    except ResourceAlreadyExists as error:  # created by someone else since the check above
        raise DestinationExists(error.message, error_code=error.error_code).with_hint(
            OVERWRITE_HINT
        ) from error
    files = [
        {"source": _label(a, src_remote), "destination": _label(b, dst_remote), "bytes": n}
        for (a, b), n in zip(pairs, sizes, strict=True)
    ]
    return {
        "copied": _label(src, src_remote),
        "to": _label(dst, dst_remote),
        "files": files,
        "bytes": sum(sizes),
        "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
    }


def _check_destinations(
    client: Client, targets: list[str], *, dst_remote: bool, overwrite: bool, within: Path | None
) -> None:
    """Raise before any transfer when a destination is in the way (or exists, without ``overwrite``)."""
    for target in targets:
        if not dst_remote:
            check_target(Path(target), overwrite=overwrite, within=within)
        elif not overwrite and _remote_kind(client, target) is not None:
            raise DestinationExists(f"dbfs:{target} exists").with_hint(OVERWRITE_HINT)


def _plan(
    client: Client, src: str, dst: str, *, src_remote: bool, dst_remote: bool, recursive: bool
) -> tuple[list[tuple[str, str]], list[Skipped], dict[str, Path]]:
    """Return (source file, destination file) pairs, the skipped local entries and what to read.

    A directory destination receives the source under its own name. A local source folder is walked
    with ``localfs.walk_files``; its files are read from the real path the walk checked (``reads``).
    """
    files: list[tuple[str, str]] | None = None
    skipped: list[Skipped] = []
    reads: dict[str, Path] = {}
    if src_remote:
        if dbfs.get_status(client, src).is_dir:
            files = [
                (i.path, PurePosixPath(i.path).relative_to(src).as_posix())
                for i in walk(client, src)
                if not i.is_dir
            ]
        name = PurePosixPath(src).name
    else:
        local = Path(src)
        if not local.exists():
            raise UsageError(f"{printable(src)} does not exist")
        if local.is_dir():
            if not recursive:
                raise UsageError(f"{printable(src)} is a directory: add --recursive to copy it")
            tree = walk_files(local)
            files, skipped = [(str(f.path), f.relative) for f in tree.files], tree.skipped
            reads = {str(f.path): f.real for f in tree.files}
            if dst_remote:  # local names become DBFS paths: refuse control characters before any request
                for _, rel in files:
                    dbfs_path(str(PurePosixPath(dst) / rel))
        name = local.name

    def join(base: str, rel: str) -> str:
        return str(PurePosixPath(base) / rel) if dst_remote else str(Path(base) / rel)

    dst_is_dir = _remote_kind(client, dst) == "dir" if dst_remote else Path(dst).is_dir()
    if files is None:
        return [(src, join(dst, name) if dst_is_dir else dst)], skipped, reads
    if not recursive:
        raise UsageError(f"{_label(src, src_remote)} is a directory: add --recursive to copy it")
    return [(path, join(dst, rel)) for path, rel in files], skipped, reads


def _label(path: str, remote: bool) -> str:
    """Return a path as the user wrote it (``dbfs:`` on the remote side)."""
    return f"dbfs:{path}" if remote else path
