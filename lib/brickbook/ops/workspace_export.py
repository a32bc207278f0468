"""Export workspace objects to local files: one (``export_file``), or a folder planned then applied.

For a folder (``workspace.export-dir``) the plan walks it, checks every local target before any
download (a file where a folder goes or the reverse, a name too long, a link leading out of the
destination), downloads each notebook (SOURCE, with its language's extension) and file concurrently,
and compares it with the local file: ``create``, ``update`` or ``unchanged``. Apply writes the
differences atomically (``brickbook.localfs``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from brickbook.api import workspace
from brickbook.api.workspace import ImportFormat, ObjectInfo, ObjectType
from brickbook.change import Action, Change
from brickbook.context import Context
from brickbook.errors import LocalConflict, UsageError
from brickbook.localfs import check_target, make_dirs, write_atomically
from brickbook.ops.notebooks import LANGUAGE_EXTENSION, same_content
from brickbook.ops.pool import run_bounded
from brickbook.ops.workspace import check_unique, kind_of, walk
from brickbook.paths import printable, workspace_path

__all__ = ["apply_export_dir", "export_file", "plan_export_dir"]


def export_file(
    ctx: Context, path: str, dest: Path, *, format: ImportFormat, overwrite: bool
) -> dict[str, object]:
    """Export one object to a local file, written atomically; an existing file needs ``overwrite``.

    The local target is checked before the request (a folder or a file in the way, an existing file).
    """
    path = workspace_path(path)
    check_target(dest, overwrite=overwrite)
    content = workspace.export(ctx.client, path, format=format)
    write_atomically(dest, content)
    return {"exported": path, "dest": str(dest), "bytes": len(content)}


@dataclass(frozen=True)
class _Export:
    """What applying an export change writes (a Change payload)."""

    target: Path
    content: bytes
    within: Path


def _local_target(item: ObjectInfo, source: str, dest: Path) -> Path:
    relative = PurePosixPath(item.path).relative_to(source)
    name = relative.name
    if item.object_type == ObjectType.NOTEBOOK and item.language is not None:
        name += LANGUAGE_EXTENSION.get(item.language, "")
    return dest / relative.parent / name


def _fetch(ctx: Context, item: ObjectInfo, target: Path, dest: Path) -> Change:
    content = workspace.export(ctx.client, item.path, format=ImportFormat.SOURCE)
    payload = _Export(target, content, dest)
    if not target.exists():
        return Change(Action.CREATE, str(target), reason="not on disk", payload=payload)
    # A FIFO or device is written in place, never compared.
    if target.is_file() and same_content(target.read_bytes(), content):
        return Change(Action.UNCHANGED, str(target), reason="same content", payload=payload)
    return Change(Action.UPDATE, str(target), ("content",), "content differs", payload=payload)


def plan_export_dir(ctx: Context, source: str, dest: Path) -> list[Change]:
    """Plan exporting a workspace folder to a local one; notebooks get their language's extension.

    Every local target is checked first: a file where a folder goes (or the reverse), a name too long,
    a link leading out of ``dest`` stop the plan before any download.
    """
    source = workspace_path(source)
    if dest.exists() and not dest.is_dir():
        raise LocalConflict(f"{printable(str(dest))} exists and is not a directory")
    info = workspace.get_status(ctx.client, source)
    if not info.is_directory:
        raise UsageError(f"{source} is a {kind_of(info)}, not a folder").with_hint("use workspace.export")
    items = [i for i in walk(ctx, source) if i.object_type in (ObjectType.NOTEBOOK, ObjectType.FILE)]
    targets = [_local_target(i, source, dest) for i in items]
    check_unique([str(t) for t in targets], "workspace objects map to the same local file")
    for target in targets:
        check_target(target, overwrite=True, within=dest)
    calls = [functools.partial(_fetch, ctx, i, t, dest) for i, t in zip(items, targets, strict=True)]
    return run_bounded(ctx, calls, label="exporting")


def apply_export_dir(ctx: Context, changes: list[Change]) -> list[Change]:
    """Write the create and update changes of an export plan (atomically); return every change."""
    todo = [c.payload for c in changes if c.changed and isinstance(c.payload, _Export)]
    for payload in todo[:1]:
        make_dirs(payload.within)
    for payload in todo:
        write_atomically(payload.target, payload.content, within=payload.within)
    return list(changes)
