"""Idempotent workspace operations: walk a tree, and sync whole folders in either direction.

Folder syncs run in two stages. The plan reads both sides (concurrently) and decides, path by path,
``created``, ``updated`` or ``unchanged``; nothing is written until the whole plan is known, so a
conflict (an object with other content and no ``overwrite``, two remote objects for one local name)
fails before anything changes. Then only the differences are sent, concurrently, within the client's
rate limit and concurrency cap. Running a sync twice changes nothing the second time.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TypeVar

from brickbook.api import workspace
from brickbook.api.workspace import ImportFormat, Language, ObjectInfo, ObjectType
from brickbook.client import Client
from brickbook.errors import ResourceAlreadyExists, ResourceDoesNotExist, UsageError

__all__ = [
    "EXTENSION_LANGUAGE",
    "Change",
    "NotebookSource",
    "classify_local",
    "export_dir",
    "import_dir",
    "same_content",
    "walk",
    "write_atomically",
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
    """What a sync did (or found) for one path: ``created``, ``updated`` or ``unchanged``."""

    path: str
    action: str


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
    except ValueError:
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


# -- import-dir ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Upload:
    local: Path
    remote: str
    kind: NotebookSource
    content: bytes
    action: str


def _local_files(source: Path) -> list[Path]:
    """Files below ``source``, skipping anything under a hidden name (``.git/``, ``.venv/``, ``.env``)."""
    return sorted(
        p
        for p in source.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(source).parts)
    )


def _plan_upload(client: Client, local: Path, remote_dir: str) -> _Upload:
    content = local.read_bytes()
    kind = classify_local(local.name, content[:200])
    remote = str(PurePosixPath(remote_dir) / kind.remote_name)
    try:
        # A notebook is compared with its SOURCE (header included) or JUPYTER export, a file as is.
        current = workspace.export(
            client, remote, format=ImportFormat.SOURCE if kind.language else kind.format
        )
    except ResourceDoesNotExist:
        return _Upload(local, remote, kind, content, "created")
    jupyter = kind.format == ImportFormat.JUPYTER
    action = "unchanged" if same_content(current, content, jupyter=jupyter) else "updated"
    return _Upload(local, remote, kind, content, action)


def _send(client: Client, upload: _Upload) -> Change:
    workspace.import_(
        client,
        upload.remote,
        upload.content,
        format=upload.kind.format,
        language=upload.kind.language,
        overwrite=upload.action == "updated",
    )
    return Change(upload.remote, upload.action)


def _leaf_dirs(dirs: set[str]) -> list[str]:
    """The directories no other one lies below (``mkdirs`` creates the parents)."""
    return sorted(d for d in dirs if not any(o != d and o.startswith(d.rstrip("/") + "/") for o in dirs))


def import_dir(client: Client, source: Path, dest: str, *, overwrite: bool) -> list[Change]:
    """Import a local folder into the workspace; return what changed (and what did not), path by path."""
    if not source.is_dir():
        raise UsageError(f"{source} is not a local directory")
    files = _local_files(source)
    remote_dirs = {str(PurePosixPath(dest) / p.parent.relative_to(source).as_posix()) for p in files}
    plan = _run_all(
        client,
        [
            functools.partial(
                _plan_upload, client, p, str(PurePosixPath(dest) / p.parent.relative_to(source).as_posix())
            )
            for p in files
        ],
    )
    _check_unique([u.remote for u in plan], "local files map to the same workspace path")
    conflicts = [u.remote for u in plan if u.action == "updated"]
    if conflicts and not overwrite:
        shown = ", ".join(conflicts[:3]) + (f" and {len(conflicts) - 3} more" if len(conflicts) > 3 else "")
        raise ResourceAlreadyExists(
            f"{len(conflicts)} workspace object(s) exist with other content ({shown}): "
            "add --overwrite to replace them",
            http_status=400,
            error_code="RESOURCE_ALREADY_EXISTS",
        )
    for directory in _leaf_dirs(remote_dirs | {dest}):
        workspace.mkdirs(client, directory)
    changed = _run_all(client, [functools.partial(_send, client, u) for u in plan if u.action != "unchanged"])
    by_path = {c.path: c for c in changed}
    return [by_path.get(u.remote, Change(u.remote, u.action)) for u in plan]


def _check_unique(names: Sequence[str], what: str) -> None:
    clashes = sorted(name for name, count in Counter(names).items() if count > 1)
    if clashes:
        raise UsageError(f"{what}: {', '.join(clashes)}; rename one of them")


# -- export-dir ---------------------------------------------------------------------------------------


def write_atomically(target: Path, content: bytes) -> None:
    """Write ``content`` to ``target`` through a temporary file in the same directory, then rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        Path(temp).replace(target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _local_target(item: ObjectInfo, source: str, dest: Path) -> Path:
    relative = PurePosixPath(item.path).relative_to(source)
    name = relative.name
    if item.object_type == ObjectType.NOTEBOOK and item.language is not None:
        name += LANGUAGE_EXTENSION.get(item.language, "")
    return dest / relative.parent / name


def _fetch(client: Client, item: ObjectInfo, target: Path) -> tuple[Path, bytes, str]:
    content = workspace.export(client, item.path, format=ImportFormat.SOURCE)
    if not target.exists():
        return target, content, "created"
    return target, content, "unchanged" if same_content(target.read_bytes(), content) else "updated"


def export_dir(client: Client, source: str, dest: Path) -> list[Change]:
    """Export a workspace folder to a local one; notebooks get their language's extension."""
    info = workspace.get_status(client, source)
    if not info.is_directory:
        raise UsageError(f"{source} is a {info.object_type}, not a folder: use workspace.export")
    items = [i for i in walk(client, source) if i.object_type in (ObjectType.NOTEBOOK, ObjectType.FILE)]
    targets = [_local_target(i, source, dest) for i in items]
    _check_unique([str(t) for t in targets], "workspace objects map to the same local file")
    fetched = _run_all(
        client, [functools.partial(_fetch, client, i, t) for i, t in zip(items, targets, strict=True)]
    )
    dest.mkdir(parents=True, exist_ok=True)
    changes = []
    for target, content, action in fetched:
        if action != "unchanged":
            write_atomically(target, content)
        changes.append(Change(str(target), action))
    return changes
