"""Workspace operations: import and export one object, walk a tree, sync whole folders either way.

Folder syncs run in two stages. The plan reads both sides (concurrently) and decides, path by path,
``created``, ``updated`` or ``unchanged``; nothing is written until the whole plan is known, so a
conflict (an object with other content and no ``overwrite``, two remote objects for one local name,
a local file where a folder goes) fails before anything changes. Then only the differences are sent,
concurrently, within the client's rate limit and concurrency cap. Running a sync twice changes nothing
the second time, and so do two identical syncs running at once: an import that finds its path taken
by the very content it carries (another run, or its own resent request) has succeeded.

Local files are read and written through ``brickbook.localfs`` (a walk that stays inside the source
folder and reports what it skipped; writes that never replace a device, FIFO or link).
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TypeVar

from brickbook.api import workspace
from brickbook.api.workspace import ImportFormat, Language, ObjectInfo, ObjectType
from brickbook.client import Client
from brickbook.errors import (
    BadRequest,
    BrickbookError,
    DestinationExists,
    LocalConflict,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    UsageError,
)
from brickbook.localfs import OVERWRITE_HINT, check_target, make_dirs, walk_files, write_atomically
from brickbook.log import get_logger
from brickbook.paths import printable, workspace_path

__all__ = [
    "EXTENSION_LANGUAGE",
    "Change",
    "NotebookSource",
    "classify_local",
    "delete",
    "export_dir",
    "export_file",
    "import_dir",
    "import_file",
    "same_content",
    "walk",
]

EXTENSION_LANGUAGE = {
    ".py": Language.PYTHON,
    ".sql": Language.SQL,
    ".scala": Language.SCALA,
    ".r": Language.R,
}
LANGUAGE_EXTENSION = {language: ext for ext, language in EXTENSION_LANGUAGE.items()}
NOTEBOOK_HEADERS = (
    b"# Databricks notebook source",
    b"-- Databricks notebook source",
    b"// Databricks notebook source",
)
T = TypeVar("T")


@dataclass(frozen=True)
class NotebookSource:
    """How a local file is imported: its remote name, format and language."""

    remote_name: str
    format: ImportFormat
    language: Language | None


@dataclass(frozen=True)
class Change:
    """What a sync did (or found) for one path: ``created``, ``updated``, ``unchanged`` or ``skipped``."""

    path: str
    action: str
    reason: str | None = None


def classify_local(name: str, head: bytes) -> NotebookSource:
    """Decide how a local file is imported, as the Databricks CLI's import-dir does.

    A source file that starts with the notebook header becomes a notebook (extension dropped), an
    ``.ipynb`` a Jupyter notebook, anything else a workspace file under its own name.
    """
    suffix = PurePosixPath(name).suffix
    stem, ext = name[: len(name) - len(suffix)], suffix
    language = EXTENSION_LANGUAGE.get(ext.lower())
    if language is not None and head.lstrip(b"\xef\xbb\xbf").startswith(NOTEBOOK_HEADERS):
        return NotebookSource(stem, ImportFormat.SOURCE, language)
    if ext.lower() == ".ipynb":
        return NotebookSource(stem, ImportFormat.JUPYTER, None)
    return NotebookSource(name, ImportFormat.AUTO, None)


def walk(client: Client, path: str) -> Iterator[ObjectInfo]:
    """Yield every object below ``path``, depth first (the API lists one level per call; repos included)."""
    for item in workspace.list_(client, path):
        yield item
        if item.is_directory:
            yield from walk(client, item.path)


def _jupyter_cells(content: bytes) -> list[tuple[str, str]] | None:
    try:
        document = json.loads(content)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return None
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        return None
    return [
        (str(c.get("cell_type")), "".join(c.get("source") or []).strip())
        for c in cells
        if isinstance(c, dict)
    ]


def same_content(a: bytes, b: bytes, *, jupyter: bool = False) -> bool:
    """Tell whether two versions are the same, ignoring trailing whitespace (and, for ``.ipynb``, outputs)."""
    if jupyter:
        cells = _jupyter_cells(a)
        if cells is not None:
            return cells == _jupyter_cells(b)
    return a.rstrip() == b.rstrip()


def _run_all(client: Client, jobs: Sequence[Callable[[], T]]) -> list[T]:
    """Run calls concurrently, bounded by the client's concurrency cap; keep input order."""
    if not jobs:
        return []
    workers = max(1, min(client.throttle.max_concurrency, len(jobs)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda job: job(), jobs))


# -- one object ---------------------------------------------------------------------------------------

# Where an import is refused before any request: the workspace root and its /Workspace alias.
_ROOTS = ("/", "/Workspace")


def _kind_of(info: ObjectInfo) -> str:
    return str(info.object_type or "object").lower()


def _import_refused(client: Client, dest: str, error: ResourceAlreadyExists) -> BrickbookError:
    """Say why an import found its path taken: a folder is not replaced by any flag, a file is."""
    try:
        info: ObjectInfo | None = workspace.get_status(client, dest)
    except ResourceDoesNotExist:
        info = None
    if info is not None and info.is_directory:
        return DestinationExists(
            f"{dest} is a {_kind_of(info)}: a file or notebook cannot replace it", error_code=error.error_code
        ).with_hint(f"import to a path inside it, e.g. {PurePosixPath(dest) / 'name'}")
    return DestinationExists(f"{dest} already exists", error_code=error.error_code).with_hint(OVERWRITE_HINT)


def _missing_parent(client: Client, dest: str, error: ResourceDoesNotExist) -> BrickbookError:
    """Say why an import's parent is missing: nothing is there, or a notebook or file is in the way."""
    for ancestor in PurePosixPath(dest).parents:
        try:
            info = workspace.get_status(client, str(ancestor))
        except ResourceDoesNotExist:
            continue
        if info.is_directory:
            break
        return DestinationExists(
            f"cannot import {dest}: {ancestor} is a {_kind_of(info)}, not a folder",
            error_code=error.error_code,
        ).with_hint("import into a folder")
    parent = str(PurePosixPath(dest).parent)
    return ResourceDoesNotExist(
        f"the folder {parent} does not exist",
        http_status=error.http_status or 404,
        error_code=error.error_code,
        method=error.method,
        path=error.path,
        request_id=error.request_id,
    ).with_hint(f"create it with workspace.mkdirs {parent}")


def import_file(
    client: Client,
    content: bytes,
    dest: str,
    *,
    format: ImportFormat,
    language: Language | None,
    overwrite: bool,
) -> dict[str, object]:
    """Import one notebook or file at ``dest``; return what was imported.

    Refused before any request: the workspace root as ``dest``. After a refusal the message names the
    real obstacle: a folder at ``dest`` (no flag replaces it), a notebook or file where the parent
    folder should be, or a missing parent folder.
    """
    dest = workspace_path(dest)
    if dest in _ROOTS:
        raise UsageError(
            f"cannot import to the workspace root {dest}: name a path below it, e.g. /Shared/etl"
        )
    try:
        workspace.import_(client, dest, content, format=format, language=language, overwrite=overwrite)
    except ResourceAlreadyExists as error:
        raise _import_refused(client, dest, error) from error
    except ResourceDoesNotExist as error:
        raise _missing_parent(client, dest, error) from error
    return {
        "imported": dest,
        "format": str(format),
        "language": str(language) if language else None,
        "bytes": len(content),
        "overwrite": overwrite,
    }


def export_file(
    client: Client, path: str, dest: Path, *, format: ImportFormat, overwrite: bool
) -> dict[str, object]:
    """Export one object to a local file, written atomically; an existing file needs ``overwrite``.

    The local target is checked before the request (a folder or a file in the way, an existing file).
    """
    path = workspace_path(path)
    check_target(dest, overwrite=overwrite)
    content = workspace.export(client, path, format=format)
    write_atomically(dest, content)
    return {"exported": path, "dest": str(dest), "bytes": len(content)}


def delete(client: Client, path: str, *, recursive: bool) -> dict[str, object]:
    """Delete an object; a non-empty folder needs ``recursive``."""
    path = workspace_path(path)
    try:
        workspace.delete(client, path, recursive=recursive)
    except BadRequest as error:
        if error.error_code == "DIRECTORY_NOT_EMPTY":
            raise error.with_hint("add --recursive to delete it and everything in it") from None
        raise
    return {"deleted": path, "recursive": recursive}


# -- import-dir ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Upload:
    local: Path
    remote: str
    kind: NotebookSource
    content: bytes
    action: str = "created"


def _read_local(source: Path, dest: str) -> tuple[list[_Upload], list[Change]]:
    """Read every file to import and name its remote path; refuse bad names and sizes (no request yet)."""
    tree = walk_files(source, skip_hidden=True)
    uploads = []
    for found in tree.files:
        try:
            content = found.real.read_bytes()
        except OSError as error:
            raise UsageError(f"cannot read {printable(str(found.path))}: {error.strerror or error}") from None
        kind = classify_local(found.path.name, content[:200])
        parent = PurePosixPath(dest) / PurePosixPath(found.relative).parent
        remote = workspace_path(str(parent / kind.remote_name))
        workspace.check_import_size(printable(str(found.path)), content)
        uploads.append(_Upload(found.path, remote, kind, content))
    skipped = [Change(s.path, "skipped", s.reason) for s in tree.skipped]
    return uploads, skipped


def _remote_action(client: Client, upload: _Upload) -> str:
    """Compare the remote object with the local content: ``created`` (none), ``updated`` or ``unchanged``."""
    kind = upload.kind
    try:
        # A notebook is compared with its SOURCE (header included) or JUPYTER export, a file as is.
        current = workspace.export(
            client, upload.remote, format=ImportFormat.SOURCE if kind.language else kind.format
        )
    except ResourceDoesNotExist:
        return "created"
    jupyter = kind.format == ImportFormat.JUPYTER
    return "unchanged" if same_content(current, upload.content, jupyter=jupyter) else "updated"


def _plan_upload(client: Client, upload: _Upload) -> _Upload:
    return _Upload(upload.local, upload.remote, upload.kind, upload.content, _remote_action(client, upload))


def _send(client: Client, upload: _Upload, overwrite: bool) -> Change:
    """Send one import. With ``overwrite`` every import replaces (idempotent, so retried as such).

    Without it a new path is imported with overwrite=false, which the client may resend after a lost
    answer; a path found taken is compared: our own content there (another identical run, or our
    resent request) is success, other content a conflict.
    """
    try:
        workspace.import_(
            client,
            upload.remote,
            upload.content,
            format=upload.kind.format,
            language=upload.kind.language,
            overwrite=overwrite,
            resend_safe=True,
        )
    except ResourceAlreadyExists as error:
        if _remote_action(client, upload) != "unchanged":
            raise DestinationExists(
                f"{upload.remote} was created meanwhile with other content", error_code=error.error_code
            ).with_hint(OVERWRITE_HINT) from error
        get_logger(path=upload.remote).info(
            "workspace.import_found_done", reason="same content already there"
        )
    return Change(upload.remote, upload.action)


def _leaf_dirs(dirs: set[str]) -> list[str]:
    """The directories no other one lies below (``mkdirs`` creates the parents)."""
    return sorted(d for d in dirs if not any(o != d and o.startswith(d.rstrip("/") + "/") for o in dirs))


def import_dir(client: Client, source: Path, dest: str, *, overwrite: bool) -> list[Change]:
    """Import a local folder into the workspace; return what changed (and what did not, or was skipped)."""
    dest = workspace_path(dest)
    local, skipped = _read_local(source, dest)
    _check_unique([u.remote for u in local], "local files map to the same workspace path")
    plan = _run_all(client, [functools.partial(_plan_upload, client, u) for u in local])
    conflicts = [u.remote for u in plan if u.action == "updated"]
    if conflicts and not overwrite:
        shown = ", ".join(conflicts[:3]) + (f" and {len(conflicts) - 3} more" if len(conflicts) > 3 else "")
        raise DestinationExists(
            f"{len(conflicts)} workspace object(s) exist with other content ({shown})",
            error_code="RESOURCE_ALREADY_EXISTS",
        ).with_hint("add --overwrite to replace them")
    remote_dirs = {str(PurePosixPath(u.remote).parent) for u in plan}
    for directory in _leaf_dirs(remote_dirs | {dest}):
        workspace.mkdirs(client, directory)
    changed = _run_all(
        client, [functools.partial(_send, client, u, overwrite) for u in plan if u.action != "unchanged"]
    )
    by_path = {c.path: c for c in changed}
    return [by_path.get(u.remote, Change(u.remote, u.action)) for u in plan] + skipped


def _check_unique(names: Sequence[str], what: str) -> None:
    clashes = sorted(name for name, count in Counter(names).items() if count > 1)
    if clashes:
        raise UsageError(f"{what}: {', '.join(printable(c) for c in clashes[:3])}; rename one of them")


# -- export-dir ---------------------------------------------------------------------------------------


def _local_target(item: ObjectInfo, source: str, dest: Path) -> Path:
    relative = PurePosixPath(item.path).relative_to(source)
    name = relative.name
    if item.object_type == ObjectType.NOTEBOOK and item.language is not None:
        name += LANGUAGE_EXTENSION.get(item.language, "")
    return dest / relative.parent / name


def _fetch(client: Client, item: ObjectInfo, target: Path) -> tuple[Path, bytes, str]:
    content = workspace.export(client, item.path, format=ImportFormat.SOURCE)
    if not target.is_file():  # new, or a FIFO or device that is written in place
        return target, content, "created" if not target.exists() else "updated"
    return target, content, "unchanged" if same_content(target.read_bytes(), content) else "updated"


def export_dir(client: Client, source: str, dest: Path) -> list[Change]:
    """Export a workspace folder to a local one; notebooks get their language's extension.

    Every local target is checked before the first download: a file where a folder goes (or the
    reverse), a name too long, a link leading out of ``dest`` stop the export with nothing written.
    """
    source = workspace_path(source)
    if dest.exists() and not dest.is_dir():
        raise LocalConflict(f"{printable(str(dest))} exists and is not a directory")
    info = workspace.get_status(client, source)
    if not info.is_directory:
        raise UsageError(f"{source} is a {_kind_of(info)}, not a folder: use workspace.export")
    items = [i for i in walk(client, source) if i.object_type in (ObjectType.NOTEBOOK, ObjectType.FILE)]
    targets = [_local_target(i, source, dest) for i in items]
    _check_unique([str(t) for t in targets], "workspace objects map to the same local file")
    for target in targets:
        check_target(target, overwrite=True, within=dest)
    fetched = _run_all(
        client, [functools.partial(_fetch, client, i, t) for i, t in zip(items, targets, strict=True)]
    )
    make_dirs(dest)
    changes = []
    for target, content, action in fetched:
        if action != "unchanged":
            write_atomically(target, content, within=dest)
        changes.append(Change(str(target), action))
    return changes
