"""Files in Unity Catalog volumes (the Files API): list, copy both ways, mkdirs, delete, cat.

- Streams (``brickbook.ops.files_stream``, re-exported here): upload in one request per file,
  download through ``localfs.atomic_writer`` with resumption, both in constant memory; a lost upload
  answer is settled without a false ALREADY_EXISTS.
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
from brickbook.context import Context
from brickbook.errors import (
    DestinationExists,
    UsageError,
)
from brickbook.localfs import OVERWRITE_HINT, Skipped, check_target, local_path, walk_files
from brickbook.ops.files_stream import (
    Stat,
    cat,
    check_upload_size,
    copy_remote_file,
    download_file,
    missing,
    stat,
    upload_file,
)
from brickbook.ops.pool import run_bounded
from brickbook.ops.transfer import TransferProgress
from brickbook.paths import is_dbfs, is_volume, printable, volume_path

__all__ = [
    "Stat",
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

# -- looking --------------------------------------------------------------------------------------------


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
        return [
            {"path": remote, "is_dir": False, "file_size": found.size, "modification_time": found.modified_ms}
        ]
    if found.kind is None:
        raise missing(ctx, remote)
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
        raise missing(ctx, remote)
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
    if not plan.src_remote:
        for a, _ in plan.pairs:
            check_upload_size(Path(a), plan.sizes.get(a, 0))
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
        return functools.partial(copy_remote_file, ctx, a, b, overwrite, progress)
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
            raise missing(ctx, src)
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
