"""Idempotent workspace operations: walk a tree, and sync whole folders in either direction.

Folder syncs act only on a difference: a file whose content already matches is reported ``unchanged``
and not sent again. Transfers run concurrently within the client's rate limit and concurrency cap.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from brickbook.api import workspace
from brickbook.api.workspace import ImportFormat, Language, ObjectInfo, ObjectType
from brickbook.client import Client
from brickbook.errors import ResourceDoesNotExist, UsageError

__all__ = [
    "Change",
    "NotebookSource",
    "classify_local",
    "export_dir",
    "import_dir",
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


@dataclass(frozen=True)
class NotebookSource:
    """How a local file is imported: its remote name, format and language."""

    remote_name: str
    format: ImportFormat
    language: Language | None


@dataclass(frozen=True)
class Change:
    """What a sync did to one path: ``created``, ``updated`` or ``unchanged``."""

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
    if language is not None and head.lstrip().startswith(NOTEBOOK_HEADERS):
        return NotebookSource(stem, ImportFormat.SOURCE, language)
    if ext.lower() == ".ipynb":
        return NotebookSource(stem, ImportFormat.JUPYTER, None)
    return NotebookSource(name, ImportFormat.AUTO, None)


def walk(client: Client, path: str) -> Iterator[ObjectInfo]:
    """Yield every object below ``path``, depth first (the API lists one level per call)."""
    for item in workspace.list_(client, path):
        yield item
        if item.object_type == ObjectType.DIRECTORY:
            yield from walk(client, item.path)


def _same(a: bytes, b: bytes) -> bool:
    return a.rstrip() == b.rstrip()


def _import_one(client: Client, local: Path, remote_dir: str, overwrite: bool) -> Change:
    content = local.read_bytes()
    kind = classify_local(local.name, content[:200])
    remote = str(PurePosixPath(remote_dir) / kind.remote_name)
    try:
        current = workspace.export(
            client, remote, format=ImportFormat.SOURCE if kind.language else kind.format
        )
    except ResourceDoesNotExist:
        current = None
    if current is not None and _same(current, content):
        return Change(remote, "unchanged")
    if current is not None and not overwrite:
        raise UsageError(f"{remote} exists with other content: add --overwrite to replace it")
    workspace.import_(
        client, remote, content, format=kind.format, language=kind.language, overwrite=current is not None
    )
    return Change(remote, "created" if current is None else "updated")


def _remote_dir(dest: str, source: Path, local: Path) -> str:
    return str(PurePosixPath(dest) / local.parent.relative_to(source).as_posix())


def import_dir(client: Client, source: Path, dest: str, *, overwrite: bool) -> list[Change]:
    """Import a local folder into the workspace; return what changed, path by path."""
    if not source.is_dir():
        raise UsageError(f"{source} is not a local directory")
    files = sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith("."))
    dirs = {_remote_dir(dest, source, p) for p in files} | {dest}
    for directory in sorted(dirs):
        workspace.mkdirs(client, directory)
    jobs = [
        functools.partial(
            _import_one,
            client,
            p,
            str(PurePosixPath(dest) / p.parent.relative_to(source).as_posix()),
            overwrite,
        )
        for p in files
    ]
    return _run_all(client, jobs)


def write_atomically(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        Path(temp).replace(target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _export_one(client: Client, item: ObjectInfo, source: str, dest: Path) -> Change:
    relative = PurePosixPath(item.path).relative_to(source)
    name = relative.name
    if item.object_type == ObjectType.NOTEBOOK and item.language is not None:
        name += LANGUAGE_EXTENSION.get(item.language, "")
    target = dest / relative.parent / name
    content = workspace.export(client, item.path, format=ImportFormat.SOURCE)
    if target.exists() and _same(target.read_bytes(), content):
        return Change(str(target), "unchanged")
    existed = target.exists()
    write_atomically(target, content)
    return Change(str(target), "updated" if existed else "created")


def export_dir(client: Client, source: str, dest: Path) -> list[Change]:
    """Export a workspace folder to a local one; notebooks get their language's extension."""
    items = [i for i in walk(client, source) if i.object_type in (ObjectType.NOTEBOOK, ObjectType.FILE)]
    dest.mkdir(parents=True, exist_ok=True)
    jobs = [functools.partial(_export_one, client, i, source, dest) for i in items]
    return _run_all(client, jobs)


def _run_all(client: Client, jobs: Sequence[Callable[[], Change]]) -> list[Change]:
    """Run transfers concurrently, bounded by the client's concurrency cap; keep input order."""
    if not jobs:
        return []
    with ThreadPoolExecutor(max_workers=client.throttle.max_concurrency) as pool:
        return list(pool.map(lambda job: job(), jobs))
