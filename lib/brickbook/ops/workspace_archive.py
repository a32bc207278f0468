"""New workspace folders imported whole: one zip per folder (split by subfolder under the size limit).

The Workspace API ``import`` takes a folder as ``format=SOURCE`` with no ``language`` and a zip of the
folder's notebooks (source files with their extension and notebook header) and files as ``content``,
as a folder exports; ``content`` is at most 10 MB in base64. So a folder that does not exist yet costs
one request instead of one per file. A zip is only ever sent to a path where nothing is (how a zip
merges into an existing folder is not documented), without ``overwrite``:

- ``pack`` splits the uploads below a new folder into archives: the folder's own files, then whole
  subfolders while they fit; a subfolder that does not fit becomes an archive of its own, sent after
  its parent's (``Archive.depth``). A file that cannot go into a zip (a Jupyter notebook, a notebook
  whose first line is not exactly its language's header, one too large to share an archive) is left
  to the per-file import, as a change in an existing folder is.
- ``send_archive`` imports one archive. Its parent missing (the import's top folder) is created once.
  A refusal as RESOURCE_ALREADY_EXISTS (another run made the folder meanwhile) or a failure without
  verdict (the answer lost: it may have been applied) is settled per file: each is imported alone,
  and a refusal of that is settled by comparing the content there
  (``brickbook.ops.workspace_objects.send``), so our own zip, or an identical run's, is success.
- The layout of the zip's entries (relative to the folder, no top-level folder, as the folder exports)
  is not documented, so an accepted archive is checked with one listing of its folder: if what it
  should have made there is missing, the archive is settled per file too and the surprise is logged
  (``workspace.archive_layout_unexpected``), never trusted silently.
"""

from __future__ import annotations

import functools
import io
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from brickbook.api import workspace
from brickbook.api.workspace import MAX_IMPORT_BYTES, ImportFormat, Language
from brickbook.context import Context
from brickbook.errors import BrickbookError, ResourceAlreadyExists, ResourceDoesNotExist
from brickbook.ops.notebooks import LANGUAGE_EXTENSION
from brickbook.ops.pool import run_bounded
from brickbook.ops.workspace_objects import Import, canonical, send
from brickbook.retry import maybe_applied

__all__ = ["ARCHIVE_BUDGET", "Archive", "pack", "send_archive"]

# The raw bytes one archive may carry: the 10 MB limit is on base64 (4/3), with room for deflate's
# worst case on data that does not compress and for the zip's own headers (counted per entry below).
ARCHIVE_BUDGET = MAX_IMPORT_BYTES * 3 // 4 * 95 // 100
_HEADERS = {
    Language.PYTHON: b"# Databricks notebook source",
    Language.R: b"# Databricks notebook source",
    Language.SQL: b"-- Databricks notebook source",
    Language.SCALA: b"// Databricks notebook source",
}


@dataclass
class Archive:
    """One zip import: the new folder ``root`` and the uploads its entries carry (none: ``mkdirs``)."""

    root: str
    uploads: list[tuple[str, Import]] = field(default_factory=list)  # (entry name, upload)

    @property
    def depth(self) -> int:
        """How deep ``root`` is: an archive goes after those of its parent folders."""
        return len(PurePosixPath(self.root).parts)

    def content(self) -> bytes:
        """The zip as sent."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, upload in self.uploads:
                archive.writestr(name, upload.content)
        return buffer.getvalue()


def _entry_name(relative: PurePosixPath, upload: Import) -> str | None:
    """The name a file takes in a zip (a notebook gets its extension back); None when it cannot go in."""
    kind = upload.kind
    text = str(relative)
    if "\\" in text or not text.isprintable() or text != text.encode("utf-8", "replace").decode("utf-8"):
        return None  # a name a zip might carry otherwise (a separator, bytes that are not UTF-8): alone
    if kind.format == ImportFormat.AUTO:
        # AUTO decides remotely from the name and header, as the zip's unpacking does.
        return None if relative.suffix.lower() == ".ipynb" else str(relative)
    if kind.format != ImportFormat.SOURCE or kind.language not in _HEADERS:
        return None  # a Jupyter notebook is imported alone
    first = upload.content.partition(b"\n")[0].rstrip(b"\r")
    if first != _HEADERS[Language(kind.language)]:
        return None  # e.g. a byte-order mark, or another language's header: let the per-file import decide
    return str(relative) + LANGUAGE_EXTENSION[Language(kind.language)]


def _cost(name: str, upload: Import) -> int:
    # Local header (30) and central directory entry (46) each repeat the name; deflate adds ~0.1%.
    return len(upload.content) + len(upload.content) // 512 + 2 * len(name.encode()) + 128


def pack(
    root: str, uploads: list[Import], *, budget: int = ARCHIVE_BUDGET
) -> tuple[list[Archive], list[Import]]:
    """Split the uploads below the new folder ``root`` into archives; return them and the rest.

    The archives come parents first. The rest (``Import``s that cannot go into a zip) is imported one
    by one after the archives, into folders that may need a ``mkdirs``.
    """
    base = PurePosixPath(root)
    entries: list[tuple[str, Import]] = []
    rest: list[Import] = []
    for upload in uploads:
        name = _entry_name(PurePosixPath(upload.remote).relative_to(base), upload)
        if name is None:
            rest.append(upload)
        else:
            entries.append((name, upload))
    archives: list[Archive] = []
    _split(root, entries, budget, archives, rest)
    archives.sort(key=lambda a: a.depth)
    return archives, rest


def _split(
    root: str, entries: list[tuple[str, Import]], budget: int, archives: list[Archive], rest: list[Import]
) -> None:
    here = Archive(root)
    used = 22  # the end of central directory record
    below: dict[str, list[tuple[str, Import]]] = defaultdict(list)
    for name, upload in entries:
        head, sep, tail = name.partition("/")
        if sep:
            below[head].append((tail, upload))
        elif used + _cost(name, upload) <= budget:
            here.uploads.append((name, upload))
            used += _cost(name, upload)
        else:
            rest.append(upload)
    later = []
    for folder, group in sorted(below.items()):
        size = sum(_cost(f"{folder}/{n}", u) for n, u in group)
        if used + size <= budget:
            here.uploads.extend((f"{folder}/{n}", u) for n, u in group)
            used += size
        else:
            later.append((str(PurePosixPath(root) / folder), group))
    archives.append(here)
    for folder, group in later:
        _split(folder, group, budget, archives, rest)


def _settle_per_file(ctx: Context, archive: Archive, reason: str) -> None:
    ctx.log.warning("workspace.archive_settled_per_file", path=archive.root, reason=reason)
    folders = {str(PurePosixPath(u.remote).parent) for _, u in archive.uploads}
    for folder in sorted(f for f in folders if not any(o.startswith(f + "/") for o in folders)):
        workspace.mkdirs(ctx.client, folder)
    run_bounded(ctx, [functools.partial(send, ctx, u) for _, u in archive.uploads])


def send_archive(ctx: Context, archive: Archive) -> None:
    """Import one archive into its new folder (see the module docstring for how a refusal is settled)."""
    if not archive.uploads:
        workspace.mkdirs(ctx.client, archive.root)
        return
    content = archive.content()
    workspace.check_import_size(archive.root, content)
    for attempt in (1, 2):
        try:
            workspace.import_(
                ctx.client, archive.root, content, format=ImportFormat.SOURCE, language=None, overwrite=False
            )
        except ResourceDoesNotExist:
            if attempt > 1:
                raise
            workspace.mkdirs(ctx.client, str(PurePosixPath(archive.root).parent))
            continue
        except ResourceAlreadyExists as error:
            _settle_per_file(ctx, archive, error.message)
        except BrickbookError as error:
            if not maybe_applied(error):
                raise
            _settle_per_file(ctx, archive, error.message)
        else:
            _check_layout(ctx, archive)
        ctx.log.info("workspace.archive_imported", path=archive.root, files=len(archive.uploads))
        return


def _check_layout(ctx: Context, archive: Archive) -> None:
    """Settle the archive per file when its folder does not hold what the archive should have made."""
    base = PurePosixPath(archive.root)
    expected = {
        canonical(str(base / PurePosixPath(u.remote).relative_to(base).parts[0])) for _, u in archive.uploads
    }
    there = {canonical(item.path) for item in workspace.list_(ctx.client, archive.root)}
    missing = expected - there
    if missing:
        ctx.log.warning("workspace.archive_layout_unexpected", path=archive.root, missing=len(missing))
        _settle_per_file(ctx, archive, f"{len(missing)} entries were not where the archive put them")
