"""DBFS operations: copy, one-file sync, delete; streams that never leave a half-written file behind.

- Upload and download stream block by block in constant memory, one block read ahead
  (``brickbook.ops.dbfs_stream``, re-exported here): an expired handle or a wrong final size restarts
  an upload; a download lands through ``localfs.atomic_writer`` (a FIFO or device target is written in
  place, a link through to what it points to).
- Copy (``copy``: planned, then applied unless ``dry_run``) checks every destination before the first
  byte moves: without ``overwrite`` an existing one stops the whole copy (exit 5), and so does a local
  folder where a file goes or a file where a folder goes, so nothing is half-copied. A local source
  folder is walked without leaving it (links out, broken links and loops are skipped and reported).
  While it runs, ``ctx.progress`` shows files done of total, bytes, rate and ETA, and
  ``transfer.progress`` is logged every few seconds (``brickbook.ops.transfer``); the result gives the
  totals and the effective rate (``bytes``, ``seconds``, ``bytes_per_second``).
- Sync one file (``plan_upload`` / ``apply_upload``): unchanged when the DBFS file has the same size and
  the same bytes. DBFS keeps no checksum, so the plan reads the remote file back and compares it with
  the local one block by block, stopping at the first difference; a different size is an update without
  reading anything. Reading back costs no more than the upload it may save, whatever the size, and a
  digest recorded by brickbook instead would go stale as soon as anyone else wrote the file.
- Delete: a large recursive delete answers 503 PARTIAL_DELETE while it proceeds; it is called again,
  at once, until done (``brickbook.retry.is_partial_delete``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from brickbook.api import dbfs
from brickbook.api.dbfs import FileInfo
from brickbook.change import Action, Change
from brickbook.context import Context
from brickbook.errors import (
    ApiError,
    DestinationExists,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    TransferFailed,
    UsageError,
)
from brickbook.localfs import OVERWRITE_HINT, Skipped, check_target, local_path, walk_files
from brickbook.ops.dbfs_stream import cat, copy_remote_file, download_file, read_ranges, upload_file
from brickbook.ops.pool import run_bounded
from brickbook.ops.transfer import TransferProgress
from brickbook.paths import dbfs_path, is_dbfs, printable
from brickbook.retry import is_partial_delete

__all__ = [
    "apply_upload",
    "cat",
    "copy",
    "delete",
    "download_file",
    "plan_upload",
    "upload_file",
    "walk",
]

MAX_DELETE_CALLS = 10_000
MB = 1024 * 1024


def walk(ctx: Context, remote: str) -> Iterator[FileInfo]:
    """Yield every file and directory below a DBFS directory, depth first."""
    for item in dbfs.list_(ctx.client, remote):
        yield item
        if item.is_dir:
            yield from walk(ctx, item.path)


def delete(ctx: Context, remote: str, *, recursive: bool) -> int:
    """Delete a path, calling again while the service answers 503 PARTIAL_DELETE; return the calls made.

    A missing path is an error here (the API itself would succeed silently), and so is a non-empty
    directory without ``recursive``. Any other transient failure is the client's retry policy's.
    """
    info = dbfs.get_status(ctx.client, remote)
    if info.is_dir and not recursive and dbfs.list_(ctx.client, remote):
        raise UsageError(f"dbfs:{remote} is a directory that is not empty").with_hint(
            "add --recursive to delete it"
        )
    for call in range(1, MAX_DELETE_CALLS + 1):
        try:
            dbfs.delete(ctx.client, remote, recursive=recursive)
            return call
        except ApiError as error:
            if not is_partial_delete(error):
                raise
            ctx.log.info("dbfs.delete_continues", path=remote, call=call, reason=error.message)
            ctx.progress.update(f"deleting dbfs:{remote}: {call} calls so far")
    raise TransferFailed(f"dbfs:{remote} was still being deleted after {MAX_DELETE_CALLS} calls")


# -- sync one file --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Upload:
    """What applying an upload change sends (a Change payload)."""

    local: Path
    remote: str


def _local_size(local: Path) -> int:
    try:
        info = local.stat()
    except OSError as error:
        raise UsageError(f"cannot read {printable(str(local))}: {error.strerror or error}") from None
    if local.is_dir():
        raise UsageError(f"{printable(str(local))} is a directory, not a file")
    return info.st_size


def _same_bytes(ctx: Context, local: Path, remote: str, size: int) -> bool:
    """Compare a local file with a DBFS file of the same size, range by range; stop at a difference."""
    try:
        with local.open("rb") as handle:
            for chunk in read_ranges(ctx, remote, size):
                if handle.read(len(chunk)) != chunk:
                    return False
            return handle.read(1) == b""
    except OSError as error:
        raise UsageError(f"cannot read {printable(str(local))}: {error.strerror or error}") from None


def plan_upload(ctx: Context, local: Path, remote: str) -> Change:
    """Plan making the DBFS file ``remote`` hold ``local``'s bytes: create, update or unchanged (reads only).

    A DBFS directory at ``remote`` is a ``DestinationExists``: no file replaces it.
    """
    remote = dbfs_path(remote)
    size = _local_size(local)
    payload = _Upload(local, remote)
    target = f"dbfs:{remote}"
    try:
        info = dbfs.get_status(ctx.client, remote)
    except ResourceDoesNotExist:
        return Change(Action.CREATE, target, reason="not in DBFS", payload=payload)
    if info.is_dir:
        raise DestinationExists(f"{target} is a directory: a file cannot replace it")
    if info.file_size != size:
        return Change(Action.UPDATE, target, ("content",), f"size {info.file_size} != {size}", payload)
    if _same_bytes(ctx, local, remote, size):
        return Change(Action.UNCHANGED, target, reason="same bytes", payload=payload)
    return Change(Action.UPDATE, target, ("content",), "content differs", payload=payload)


def apply_upload(ctx: Context, change: Change) -> Change:
    """Upload the file of a change planned by ``plan_upload`` (nothing for ``unchanged``); return it.

    The upload replaces whatever is there (``overwrite``), so it is safe to retry and to run twice.
    """
    payload = change.payload
    if change.changed and isinstance(payload, _Upload):
        dbfs.mkdirs(ctx.client, str(PurePosixPath(payload.remote).parent))
        upload_file(ctx, payload.local, payload.remote, overwrite=True)
    return change


# -- copy -----------------------------------------------------------------------------------------------


def _remote_kind(ctx: Context, path: str) -> str | None:
    """Return ``"dir"``, ``"file"`` or None when nothing is at ``path``."""
    try:
        return "dir" if dbfs.get_status(ctx.client, path).is_dir else "file"
    except ResourceDoesNotExist:
        return None


@dataclass(frozen=True)
class _Copy:
    """A copy's plan: the (source, destination) file pairs and what the walk skipped."""

    src: str
    dst: str
    src_remote: bool
    dst_remote: bool
    pairs: list[tuple[str, str]]
    skipped: list[Skipped]
    reads: dict[str, Path]
    within: Path | None
    sizes: dict[str, int]  # a remote source file's size, from the walk (for the ETA)


def copy(
    ctx: Context, source: str, dest: str, *, recursive: bool, overwrite: bool, dry_run: bool = False
) -> dict[str, Any]:
    """Copy between the local disk and DBFS (``dbfs:`` marks the remote side); return what was copied.

    Arguments are checked before any request, every destination before the first transfer. With
    ``dry_run`` nothing is copied: each file comes back with the ``action`` a copy would take.
    """
    plan = _plan_copy(ctx, source, dest, recursive=recursive)
    existing = _check_destinations(ctx, plan, overwrite=overwrite, look=dry_run)
    result: dict[str, Any] = {
        "copied": _label(plan.src, plan.src_remote),
        "to": _label(plan.dst, plan.dst_remote),
    }
    skipped = [{"path": s.path, "reason": s.reason} for s in plan.skipped]
    if dry_run:
        files = [
            {
                "source": _label(a, plan.src_remote),
                "destination": _label(b, plan.dst_remote),
                "action": str(Action.UPDATE if b in existing else Action.CREATE),
            }
            for a, b in plan.pairs
        ]
        return {**result, "files": files, "skipped": skipped, "dry_run": True}
    progress = TransferProgress(ctx, files=len(plan.pairs), total_bytes=_total_bytes(plan))
    try:
        sizes = _transfer(ctx, plan, overwrite, progress)
    finally:
        progress.close()
    copied: list[dict[str, Any]] = [
        {"source": _label(a, plan.src_remote), "destination": _label(b, plan.dst_remote), "bytes": n}
        for (a, b), n in zip(plan.pairs, sizes, strict=True)
    ]
    return {**result, "files": copied, **progress.result(sum(sizes)), "skipped": skipped}


def _total_bytes(plan: _Copy) -> int | None:
    """Return the size of everything a copy moves (for the ETA), or None when a local file cannot tell."""
    if plan.src_remote:
        return sum(plan.sizes.get(a, 0) for a, _ in plan.pairs)
    try:
        return sum(plan.reads.get(a, Path(a)).stat().st_size for a, _ in plan.pairs)
    except OSError:
        return None  # the transfer itself reports the unreadable file


def _counted(call: Callable[[], int], progress: TransferProgress) -> Callable[[], int]:
    def run() -> int:
        count = call()
        progress.file_done()
        return count

    return run


def _transfer(ctx: Context, plan: _Copy, overwrite: bool, progress: TransferProgress) -> list[int]:
    if plan.dst_remote:
        for directory in sorted({str(PurePosixPath(b).parent) for _, b in plan.pairs}):
            dbfs.mkdirs(ctx.client, directory)
    calls: list[Callable[[], int]] = []
    for a, b in plan.pairs:
        if plan.src_remote and plan.dst_remote:
            call = functools.partial(copy_remote_file, ctx, a, b, overwrite, progress)
        elif plan.src_remote:
            call = functools.partial(
                download_file, ctx, a, Path(b), overwrite=True, within=plan.within, progress=progress
            )
        else:
            read = plan.reads.get(a, Path(a))
            call = functools.partial(upload_file, ctx, read, b, overwrite=overwrite, progress=progress)
        calls.append(_counted(call, progress))
    try:
        return run_bounded(ctx, calls)  # the live line is the progress's: files, bytes, rate, ETA
    except ResourceAlreadyExists as error:  # created by someone else since the check
        raise DestinationExists(error.message, error_code=error.error_code).with_hint(
            OVERWRITE_HINT
        ) from error


def _check_destinations(ctx: Context, plan: _Copy, *, overwrite: bool, look: bool) -> set[str]:
    """Raise before any transfer when a destination is in the way; return those that exist.

    Remote destinations are looked up only when it matters: without ``overwrite``, or with ``look``.
    """
    existing = set()
    for _, target in plan.pairs:
        if not plan.dst_remote:
            if Path(target).exists():
                existing.add(target)
            check_target(Path(target), overwrite=overwrite, within=plan.within)
        elif (look or not overwrite) and _remote_kind(ctx, target) is not None:
            if not overwrite:
                raise DestinationExists(f"dbfs:{target} exists").with_hint(OVERWRITE_HINT)
            existing.add(target)
    return existing


def _plan_copy(ctx: Context, source: str, dest: str, *, recursive: bool) -> _Copy:
    """Return the (source file, destination file) pairs, the skipped local entries and what to read.

    A directory destination receives the source under its own name. A local source folder is walked
    with ``localfs.walk_files``; its files are read from the real path the walk checked (``reads``).
    """
    src_remote, dst_remote = is_dbfs(source), is_dbfs(dest)
    if not src_remote and not dst_remote:
        raise UsageError("one of SRC and DEST must be a DBFS path (dbfs:/...)")
    src = dbfs_path(source) if src_remote else str(local_path(source))
    dst = dbfs_path(dest) if dst_remote else str(local_path(dest))
    files: list[tuple[str, str]] | None = None
    skipped: list[Skipped] = []
    reads: dict[str, Path] = {}
    sizes: dict[str, int] = {}
    if src_remote:
        info = dbfs.get_status(ctx.client, src)
        sizes[src] = info.file_size
        if info.is_dir:
            found = [i for i in walk(ctx, src) if not i.is_dir]
            sizes = {i.path: i.file_size for i in found}
            files = [(i.path, PurePosixPath(i.path).relative_to(src).as_posix()) for i in found]
        name = PurePosixPath(src).name
    else:
        local = Path(src)
        if not local.exists():
            raise UsageError(f"{printable(src)} does not exist")
        if local.is_dir():
            if not recursive:
                raise UsageError(f"{printable(src)} is a directory").with_hint("add --recursive to copy it")
            tree = walk_files(local)
            files, skipped = [(str(f.path), f.relative) for f in tree.files], tree.skipped
            reads = {str(f.path): f.real for f in tree.files}
            if dst_remote:  # local names become DBFS paths: refuse control characters before any request
                for _, rel in files:
                    dbfs_path(str(PurePosixPath(dst) / rel))
        name = local.name

    def join(base: str, rel: str) -> str:
        return str(PurePosixPath(base) / rel) if dst_remote else str(Path(base) / rel)

    dst_is_dir = _remote_kind(ctx, dst) == "dir" if dst_remote else Path(dst).is_dir()
    if files is None:
        pairs = [(src, join(dst, name) if dst_is_dir else dst)]
    elif not recursive:
        raise UsageError(f"{_label(src, src_remote)} is a directory").with_hint("add --recursive to copy it")
    else:
        pairs = [(path, join(dst, rel)) for path, rel in files]
    # Files of a folder copy must land inside DEST: a link there that leads out of it is refused.
    within = Path(dst) if len(pairs) > 1 or recursive else None
    return _Copy(src, dst, src_remote, dst_remote, pairs, skipped, reads, within, sizes)


def _label(path: str, remote: bool) -> str:
    """Return a path as the user wrote it (``dbfs:`` on the remote side)."""
    return f"dbfs:{path}" if remote else path
