"""Files in Unity Catalog volumes (the Files API): list, copy both ways, mkdirs, delete, cat.

- Upload streams the local file as the request body, 1 MiB at a time, with its Content-Length: one
  request per file, in constant memory. With ``overwrite`` a lost answer is simply resent (the same
  bytes again). Without it a resend could be refused ALREADY_EXISTS by our own first copy, so the
  client does not resend: the upload settles the lost answer itself, by reading back what is there. Our
  bytes there: done. Nothing there: sent once more. Anything else: someone else's file, refused.
- Download streams the answer through ``localfs.atomic_writer`` (a temporary file beside the target,
  renamed into place only when complete and of the size HEAD announced; a FIFO or device is written in
  place). A connection that breaks halfway is resumed with a ``Range`` from the bytes already written.
- Copy plans every pair, then checks every destination before the first byte moves (``overwrite``,
  folder/file conflicts), as DBFS copies do; progress goes through the same transfer line
  (``brickbook.ops.transfer.TransferProgress``). Local to volume, volume to local, volume to volume.
- Delete: the API deletes files and empty directories only; a recursive delete removes the files,
  then the directories deepest first. A volume itself is deleted through Unity Catalog, never here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from brickbook.api import files
from brickbook.api.files import DirectoryEntry
from brickbook.change import Action
from brickbook.client import RawAnswer
from brickbook.context import Context
from brickbook.errors import (
    BrickbookError,
    DestinationExists,
    NotFound,
    ResourceConflict,
    TransferFailed,
    UsageError,
)
from brickbook.localfs import OVERWRITE_HINT, Skipped, atomic_writer, check_target, local_path, walk_files
from brickbook.ops.pool import run_bounded
from brickbook.ops.transfer import TransferProgress
from brickbook.paths import is_dbfs, is_volume, printable, volume_path
from brickbook.retry import maybe_applied

__all__ = [
    "cat",
    "copy",
    "delete",
    "download_file",
    "list_",
    "mkdirs",
    "stat",
    "upload_file",
    "walk",
]

CHUNK = 1024 * 1024
MAX_RESUMES = 3
PARTIAL_CONTENT = 206


# -- looking --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stat:
    """What is at a volume path: ``kind`` is ``"file"``, ``"dir"`` or None (nothing)."""

    kind: str | None
    size: int = 0


def stat(ctx: Context, remote: str) -> Stat:
    """Tell whether a volume path is a file (and its size), a directory, or nothing."""
    try:
        return Stat("file", files.get_metadata(ctx.client, remote).content_length)
    except NotFound:
        pass
    try:
        files.get_directory_metadata(ctx.client, remote)
    except NotFound:
        return Stat(None)
    return Stat("dir")


def _missing(remote: str) -> NotFound:
    """HEAD answers a 404 without a body: say what is missing ourselves."""
    return NotFound(f"no file or directory at {printable(remote)}", http_status=404, error_code="NOT_FOUND")


def walk(ctx: Context, remote: str) -> Iterator[DirectoryEntry]:
    """Yield every file and directory below a volume directory, depth first."""
    for entry in files.list_directory_contents(ctx.client, remote):
        yield entry
        if entry.is_directory:
            yield from walk(ctx, entry.path)


def _row(entry: DirectoryEntry) -> dict[str, Any]:
    """An entry in the shape ``fs.ls`` shows for DBFS too."""
    return {
        "path": entry.path,
        "is_dir": entry.is_directory,
        "file_size": entry.file_size or 0,
        "modification_time": entry.last_modified,
    }


def list_(ctx: Context, remote: str) -> list[dict[str, Any]]:
    """List a volume directory, or describe a file (NotFound when neither)."""
    found = stat(ctx, remote)
    if found.kind == "file":
        return [{"path": remote, "is_dir": False, "file_size": found.size, "modification_time": None}]
    if found.kind is None:
        raise _missing(remote)
    return [_row(entry) for entry in files.list_directory_contents(ctx.client, remote)]


def mkdirs(ctx: Context, remote: str) -> None:
    """Create a volume directory and its parents (succeeds when it exists)."""
    files.create_directory(ctx.client, remote)


def _is_volume_root(remote: str) -> bool:
    return len(PurePosixPath(remote).parts) == 5  # "/", "Volumes", catalog, schema, volume


def delete(ctx: Context, remote: str, *, recursive: bool) -> int:
    """Delete a file or directory of a volume; return how many entries were deleted.

    A directory that is not empty needs ``recursive``; the volume itself is refused before any request.
    """
    if _is_volume_root(remote):
        raise UsageError(
            f"{printable(remote)} is a volume: delete its files, or the volume through Unity Catalog"
        )
    found = stat(ctx, remote)
    if found.kind == "file":
        files.delete(ctx.client, remote)
        return 1
    if found.kind is None:
        raise _missing(remote)
    entries = list(walk(ctx, remote))
    if entries and not recursive:
        raise UsageError(f"{printable(remote)} is a directory that is not empty").with_hint(
            "add --recursive to delete it"
        )
    for entry in entries:
        if not entry.is_directory:
            files.delete(ctx.client, entry.path)
            ctx.progress.update(f"deleting {entry.path}")
    for directory in sorted((e.path for e in entries if e.is_directory), key=len, reverse=True):
        files.delete_directory(ctx.client, directory)
    files.delete_directory(ctx.client, remote)
    return len(entries) + 1


# -- streams --------------------------------------------------------------------------------------------


def _file_chunks(local: Path, progress: TransferProgress | None) -> Iterator[bytes]:
    with local.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if progress is not None:
                progress.add(len(chunk))
            yield chunk


def _holds(ctx: Context, remote: str, local: Path, size: int) -> bool | None:
    """Tell whether ``remote`` holds ``local``'s bytes: True, False, or None when nothing is there."""
    found = stat(ctx, remote)
    if found.kind is None:
        return None
    if found.kind != "file" or found.size != size:
        return False
    with local.open("rb") as handle, files.download(ctx.client, remote) as answer:
        for chunk in answer.chunks:
            if handle.read(len(chunk)) != chunk:
                return False
        return handle.read(1) == b""


def upload_file(
    ctx: Context, local: Path, remote: str, *, overwrite: bool, progress: TransferProgress | None = None
) -> int:
    """Stream a local file to a volume in one request; return its size.

    Without ``overwrite`` an answer lost after sending is settled by reading back what is there.
    """
    try:
        size = local.stat().st_size
        content = functools.partial(_file_chunks, local, progress)
        try:
            files.upload(ctx.client, remote, content, length=size, overwrite=overwrite)
        except ResourceConflict as error:
            raise DestinationExists(f"{remote} exists", error_code=error.error_code).with_hint(
                OVERWRITE_HINT
            ) from error
        except BrickbookError as error:
            if overwrite or not maybe_applied(error):
                raise
            ctx.log.warning("files.upload_unsettled", path=remote, reason=str(error))
            landed = _holds(ctx, remote, local, size)
            if landed is False:
                raise DestinationExists(f"{remote} exists").with_hint(OVERWRITE_HINT) from error
            if landed is None:
                files.upload(ctx.client, remote, content, length=size, overwrite=False)
    except OSError as error:
        raise UsageError(f"cannot read {printable(str(local))}: {error.strerror or error}") from None
    return size


def download_file(
    ctx: Context,
    remote: str,
    local: Path,
    *,
    overwrite: bool,
    within: Path | None = None,
    progress: TransferProgress | None = None,
) -> int:
    """Download a volume file through ``localfs.atomic_writer``; resume a broken stream with ``Range``."""
    found = stat(ctx, remote)
    if found.kind == "dir":
        raise UsageError(f"{printable(remote)} is a directory").with_hint("add --recursive to copy it")
    if found.kind is None:
        raise _missing(remote)
    check_target(local, overwrite=overwrite, within=within)
    written = 0
    with atomic_writer(local, within=within) as handle:
        for chunk in _resumed(ctx, remote, found.size):
            handle.write(chunk)
            written += len(chunk)
            if progress is not None:
                progress.add(len(chunk))
        if written != found.size:
            raise TransferFailed(f"{remote}: read {written} of {found.size} bytes")
    return written


def _resumed(ctx: Context, remote: str, size: int) -> Iterator[bytes]:
    """Yield a file's bytes; a stream that breaks is reopened where it broke (at most MAX_RESUMES times)."""
    offset = 0
    for attempt in range(MAX_RESUMES + 1):
        if offset >= size and attempt:
            return
        try:
            with files.download(ctx.client, remote, offset=offset) as answer:
                _check_answer(remote, answer, offset, size)
                for chunk in answer.chunks:
                    offset += len(chunk)
                    yield chunk
            return
        except BrickbookError as error:
            if isinstance(error, TransferFailed) or attempt == MAX_RESUMES or not maybe_applied(error):
                raise
            ctx.log.warning("files.download_resumed", path=remote, offset=offset, reason=str(error))


def _check_answer(remote: str, answer: RawAnswer, offset: int, size: int) -> None:
    """Refuse an answer that is not the bytes ``offset..size`` of the file HEAD described."""
    if offset and (
        answer.status != PARTIAL_CONTENT
        or not answer.headers.get("content-range", "").startswith(f"bytes {offset}-")
    ):
        raise TransferFailed(f"{remote}: the service did not resume at byte {offset}")
    length = answer.headers.get("content-length")
    if length is not None and length != str(size - offset):
        raise TransferFailed(
            f"{remote}: the service answered {length} bytes where {size - offset} were expected "
            "(the file changed meanwhile?)"
        )


def cat(ctx: Context, remote: str) -> Iterator[bytes]:
    """Yield a volume file's bytes as they arrive (the checks run on the first ``next``)."""
    found = stat(ctx, remote)
    if found.kind == "dir":
        raise UsageError(f"{printable(remote)} is a directory")
    if found.kind is None:
        raise _missing(remote)
    yield from _resumed(ctx, remote, found.size)


def _copy_remote(
    ctx: Context, source: str, dest: str, overwrite: bool, progress: TransferProgress | None = None
) -> int:
    """Copy one volume file to another path, streaming the download into the upload."""
    size = stat(ctx, source).size

    def content() -> Iterator[bytes]:
        with files.download(ctx.client, source) as answer:
            for chunk in answer.chunks:
                if progress is not None:
                    progress.add(len(chunk))
                yield chunk

    try:
        files.upload(ctx.client, dest, content, length=size, overwrite=overwrite)
    except ResourceConflict as error:
        raise DestinationExists(f"{dest} exists", error_code=error.error_code).with_hint(
            OVERWRITE_HINT
        ) from error
    return size


# -- copy -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    src: str
    dst: str
    src_remote: bool
    dst_remote: bool
    pairs: list[tuple[str, str]]
    sizes: dict[str, int]
    skipped: list[Skipped]
    reads: dict[str, Path]
    within: Path | None


def copy(
    ctx: Context, source: str, dest: str, *, recursive: bool, overwrite: bool, dry_run: bool = False
) -> dict[str, Any]:
    """Copy between the local disk and volumes, or between volume paths; return what was copied.

    The result has the shape of a DBFS copy's (``files``, ``bytes``, ``seconds``, ``skipped``).
    """
    plan = _plan(ctx, source, dest, recursive=recursive)
    existing = _check_destinations(ctx, plan, overwrite=overwrite)
    result: dict[str, Any] = {"copied": plan.src, "to": plan.dst}
    skipped = [{"path": s.path, "reason": s.reason} for s in plan.skipped]
    if dry_run:
        rows = [
            {"source": a, "destination": b, "action": str(Action.UPDATE if b in existing else Action.CREATE)}
            for a, b in plan.pairs
        ]
        return {**result, "files": rows, "skipped": skipped, "dry_run": True}
    total = sum(plan.sizes.get(a, 0) for a, _ in plan.pairs)
    progress = TransferProgress(ctx, files=len(plan.pairs), total_bytes=total)
    try:
        if plan.dst_remote:
            for directory in sorted({str(PurePosixPath(b).parent) for _, b in plan.pairs}):
                if not _is_volume_root(directory):
                    files.create_directory(ctx.client, directory)
        sizes = run_bounded(
            ctx,
            [
                _counted(_one(ctx, plan, a, b, overwrite=overwrite, progress=progress), progress)
                for a, b in plan.pairs
            ],
        )
    finally:
        progress.close()
    copied = [
        {"source": a, "destination": b, "bytes": n} for (a, b), n in zip(plan.pairs, sizes, strict=True)
    ]
    return {**result, "files": copied, **progress.result(sum(sizes)), "skipped": skipped}


def _one(
    ctx: Context, plan: _Plan, a: str, b: str, *, overwrite: bool, progress: TransferProgress
) -> Callable[[], int]:
    if plan.src_remote and plan.dst_remote:
        return functools.partial(_copy_remote, ctx, a, b, overwrite, progress)
    if plan.src_remote:
        return functools.partial(
            download_file, ctx, a, Path(b), overwrite=True, within=plan.within, progress=progress
        )
    read = plan.reads.get(a, Path(a))
    return functools.partial(upload_file, ctx, read, b, overwrite=overwrite, progress=progress)


def _counted(call: Callable[[], int], progress: TransferProgress) -> Callable[[], int]:
    def run() -> int:
        count = call()
        progress.file_done()
        return count

    return run


def _check_destinations(ctx: Context, plan: _Plan, *, overwrite: bool) -> set[str]:
    """Raise before any transfer when a destination is in the way; return those that exist."""
    existing: set[str] = set()
    for _, target in plan.pairs:
        if not plan.dst_remote:
            if Path(target).exists():
                existing.add(target)
            check_target(Path(target), overwrite=overwrite, within=plan.within)
            continue
        kind = stat(ctx, target).kind
        if kind == "dir":
            raise DestinationExists(f"{target} is a directory: a file cannot replace it")
        if kind == "file":
            if not overwrite:
                raise DestinationExists(f"{target} exists").with_hint(OVERWRITE_HINT)
            existing.add(target)
    return existing


def _plan(ctx: Context, source: str, dest: str, *, recursive: bool) -> _Plan:
    """Return the (source file, destination file) pairs; a directory destination takes the source's name."""
    src_remote, dst_remote = is_volume(source), is_volume(dest)
    if (is_dbfs(source) and not src_remote) or (is_dbfs(dest) and not dst_remote):
        raise UsageError("copy between DBFS and a volume through a local folder (two copies)")
    if not src_remote and not dst_remote:
        raise UsageError("one of SRC and DEST must be a volume path (/Volumes/...)")
    src = volume_path(source) if src_remote else str(local_path(source))
    dst = volume_path(dest) if dst_remote else str(local_path(dest))
    listed: list[tuple[str, str]] | None = None
    sizes: dict[str, int] = {}
    skipped: list[Skipped] = []
    reads: dict[str, Path] = {}
    if src_remote:
        found = stat(ctx, src)
        if found.kind is None:
            raise _missing(src)
        sizes[src] = found.size
        if found.kind == "dir":
            entries = [e for e in walk(ctx, src) if not e.is_directory]
            sizes = {e.path: e.file_size or 0 for e in entries}
            listed = [(e.path, PurePosixPath(e.path).relative_to(src).as_posix()) for e in entries]
        name = PurePosixPath(src).name
    else:
        listed, sizes, skipped, reads = _local_source(Path(src), dst, recursive=recursive)
        name = Path(src).name

    def join(base: str, rel: str) -> str:
        return str(PurePosixPath(base) / rel) if dst_remote else str(Path(base) / rel)

    dst_is_dir = stat(ctx, dst).kind == "dir" if dst_remote else Path(dst).is_dir()
    if listed is None:
        pairs = [(src, join(dst, name) if dst_is_dir else dst)]
    elif not recursive:
        raise UsageError(f"{src} is a directory").with_hint("add --recursive to copy it")
    else:
        pairs = [(path, join(dst, rel)) for path, rel in listed]
    within = Path(dst) if not dst_remote and (len(pairs) > 1 or recursive) else None
    return _Plan(src, dst, src_remote, dst_remote, pairs, sizes, skipped, reads, within)


def _local_source(
    local: Path, dst: str, *, recursive: bool
) -> tuple[list[tuple[str, str]] | None, dict[str, int], list[Skipped], dict[str, Path]]:
    """A local source: its files (None for a single file), sizes, what the walk skipped, what to read."""
    if not local.exists():
        raise UsageError(f"{printable(str(local))} does not exist")
    if not local.is_dir():
        return None, {str(local): local.stat().st_size}, [], {}
    if not recursive:
        raise UsageError(f"{printable(str(local))} is a directory").with_hint("add --recursive to copy it")
    tree = walk_files(local)
    listed = [(str(f.path), f.relative) for f in tree.files]
    for _, rel in listed:  # local names become volume paths: refuse bad ones before any request
        volume_path(str(PurePosixPath(dst) / rel))
    sizes = {str(f.path): f.real.stat().st_size for f in tree.files}
    return listed, sizes, tree.skipped, {str(f.path): f.real for f in tree.files}
