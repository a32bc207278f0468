"""Export workspace objects to local files: one (``export_file``), or a folder planned then applied.

For a folder (``workspace.export-dir``) the plan walks it, checks every local target before any
download (a file where a folder goes or the reverse, a name too long, a link leading out of the
destination), downloads each notebook (SOURCE, with its language's extension) and file concurrently,
and compares it with the local file: ``create``, ``update`` or ``unchanged``. Apply writes the
differences atomically (``brickbook.localfs``). With a state dir the export is recorded
(``brickbook.ops.deployed``): an object whose listing still shows the id, modified time and size it had
when last exported to the same folder, and whose local file still holds what was written, is unchanged
without a download.
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
from brickbook.ops.deployed import Deployed, DeployRecord, content_digest
from brickbook.ops.notebooks import LANGUAGE_EXTENSION, same_content
from brickbook.ops.pool import run_bounded
from brickbook.ops.workspace import check_unique
from brickbook.ops.workspace_objects import canonical, kind_of, walk
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
    """What applying an export change writes (a Change payload), and what to record afterwards."""

    target: Path
    content: bytes | None  # None: unchanged, known from the record without a download
    within: Path
    info: ObjectInfo
    digest: str  # of the local file once the change is applied
    record: DeployRecord | None


def _local_target(item: ObjectInfo, source: str, dest: Path) -> Path:
    relative = PurePosixPath(item.path).relative_to(source)
    name = relative.name
    if item.object_type == ObjectType.NOTEBOOK and item.language is not None:
        name += LANGUAGE_EXTENSION.get(item.language, "")
    return dest / relative.parent / name


def _as_left(item: ObjectInfo, target: Path, record: DeployRecord | None) -> str | None:
    """The digest of ``target`` when both it and the object are as the last export left them."""
    last = record.objects.get(canonical(item.path)) if record else None
    if last is None or not last.still(item) or not target.is_file():
        return None
    digest = content_digest(target.read_bytes())
    return digest if digest == last.sha256 else None


def _fetch(ctx: Context, item: ObjectInfo, target: Path, dest: Path, record: DeployRecord | None) -> Change:
    known = _as_left(item, target, record)
    if known is not None:
        payload = _Export(target, None, dest, item, known, record)
        return Change(Action.UNCHANGED, str(target), reason="as last exported", payload=payload)
    content = workspace.export(ctx.client, item.path, format=ImportFormat.SOURCE)
    payload = _Export(target, content, dest, item, content_digest(content), record)
    if not target.exists():
        return Change(Action.CREATE, str(target), reason="not on disk", payload=payload)
    # A FIFO or device is written in place, never compared.
    if target.is_file():
        local = target.read_bytes()
        if same_content(local, content):
            payload = _Export(target, None, dest, item, content_digest(local), record)
            return Change(Action.UNCHANGED, str(target), reason="same content", payload=payload)
    return Change(Action.UPDATE, str(target), ("content",), "content differs", payload=payload)


def plan_export_dir(ctx: Context, source: str, dest: Path, *, state_dir: Path | None = None) -> list[Change]:
    """Plan exporting a workspace folder to a local one; notebooks get their language's extension.

    Every local target is checked first: a file where a folder goes (or the reverse), a name too long,
    a link leading out of ``dest`` stop the plan before any download. With ``state_dir`` the record of
    the last export from ``source`` to ``dest`` spares the download of what has not changed since.
    """
    source = workspace_path(source)
    if dest.exists() and not dest.is_dir():
        raise LocalConflict(f"{printable(str(dest))} exists and is not a directory")
    record = None
    if state_dir is not None:
        folder = f"{canonical(source)} -> {dest.absolute()}"
        record = DeployRecord.load(state_dir, kind="export", host=ctx.client.config.host, folder=folder)
    info = workspace.get_status(ctx.client, source)
    if not info.is_directory:
        raise UsageError(f"{source} is a {kind_of(info)}, not a folder").with_hint("use workspace.export")
    items = [i for i in walk(ctx, source) if i.object_type in (ObjectType.NOTEBOOK, ObjectType.FILE)]
    targets = [_local_target(i, source, dest) for i in items]
    check_unique([str(t) for t in targets], "workspace objects map to the same local file")
    for target in targets:
        check_target(target, overwrite=True, within=dest)
    calls = [functools.partial(_fetch, ctx, i, t, dest, record) for i, t in zip(items, targets, strict=True)]
    return run_bounded(ctx, calls, label="exporting")


def apply_export_dir(ctx: Context, changes: list[Change]) -> list[Change]:
    """Write the create and update changes of an export plan (atomically); return every change.

    A plan made with a ``state_dir`` then records what the local files hold (``brickbook.ops.deployed``).
    """
    payloads = [c.payload for c in changes if isinstance(c.payload, _Export)]
    todo = [p for p in payloads if p.content is not None]
    for payload in todo[:1]:
        make_dirs(payload.within)
    for payload in todo:
        assert payload.content is not None
        write_atomically(payload.target, payload.content, within=payload.within)
    records = [p.record for p in payloads if p.record is not None]
    if records:
        objects = {canonical(p.info.path): Deployed.of(p.digest, p.info) for p in payloads}
        if objects != records[0].objects:
            records[0].save(objects)
    return list(changes)
