"""Workspace operations: one object (import, export, delete), a walk, and syncs planned then applied.

A sync is two stages. ``plan_*`` reads both sides (concurrently) and returns one
``brickbook.change.Change`` per object: ``create``, ``update`` (the ``fields`` that differ: ``content``,
``object_type`` or ``language``), ``unchanged`` or, for prune, ``delete``; nothing is written until the
whole plan is known, so a conflict (other content without ``overwrite``, a folder where a notebook
goes, two local files for one workspace name) fails before anything changes. ``apply_*`` sends only
the differences, concurrently (``brickbook.ops.pool``). Applying the same plan twice, or two identical
syncs at once, changes nothing the second time: an import that finds its path taken by the very
content it carries (another run's, or its own resent request's) has succeeded.

How local files map to workspace objects and how contents are compared: ``brickbook.ops.notebooks``.
Local entries a folder walk leaves out (links out of the folder, broken links, loops; see
``brickbook.localfs``) come back as ``unchanged`` changes that ``skipped()`` recognises. Exporting to
local files: ``brickbook.ops.workspace_export``.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from brickbook.api import workspace
from brickbook.api.workspace import ImportFormat, Language, ObjectInfo, ObjectType
from brickbook.change import Action, Change
from brickbook.context import Context
from brickbook.errors import (
    BadRequest,
    BrickbookError,
    DestinationExists,
    MissingParent,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    UsageError,
)
from brickbook.localfs import OVERWRITE_HINT, walk_files
from brickbook.ops.notebooks import NotebookSource, classify_local, import_kind, same_content
from brickbook.ops.pool import run_bounded
from brickbook.paths import printable, workspace_path
from brickbook.retry import maybe_applied

__all__ = [
    "apply_import_dir",
    "apply_import_file",
    "apply_prune",
    "check_unique",
    "delete",
    "import_file",
    "kind_of",
    "plan_import_dir",
    "plan_import_file",
    "plan_prune",
    "skipped",
    "walk",
]

# Where an import is refused before any request: the workspace root and its /Workspace alias.
_ROOTS = ("/", "/Workspace")
_SKIPPED = object()  # the payload of a change that stands for a local entry the walk left out


@dataclass(frozen=True)
class _Import:
    """What applying an import change sends (a Change payload)."""

    remote: str
    kind: NotebookSource
    content: bytes
    overwrite: bool  # sent with overwrite=true: an update, or the caller allowed replacing


def walk(ctx: Context, path: str, *, into_repos: bool = True) -> Iterator[ObjectInfo]:
    """Yield every object below ``path``, depth first (Workspace API ``list`` gives one level per call)."""
    for item in workspace.list_(ctx.client, path):
        yield item
        if item.object_type == ObjectType.DIRECTORY or (into_repos and item.is_directory):
            yield from walk(ctx, item.path, into_repos=into_repos)


def skipped(change: Change) -> bool:
    """Tell whether a change stands for a local entry a folder walk left out (its reason says why)."""
    return change.payload is _SKIPPED


def kind_of(info: ObjectInfo) -> str:
    """Name an object's type for a message: ``notebook``, ``directory``, ``file``, ``repo``, ..."""
    return str(info.object_type or "object").lower()


# -- one object -----------------------------------------------------------------------------------------


def _import_dest(dest: str) -> str:
    dest = workspace_path(dest)
    if dest in _ROOTS:
        raise UsageError(
            f"cannot import to the workspace root {dest}: name a path below it, e.g. /Shared/etl"
        )
    return dest


def _folder_in_the_way(dest: str, info: ObjectInfo, error_code: str | None = None) -> BrickbookError:
    return DestinationExists(
        f"{dest} is a {kind_of(info)}: a file or notebook cannot replace it", error_code=error_code
    ).with_hint(f"import to a path inside it, e.g. {PurePosixPath(dest) / 'name'}")


def _status(ctx: Context, path: str) -> ObjectInfo | None:
    try:
        return workspace.get_status(ctx.client, path)
    except ResourceDoesNotExist:
        return None


def _missing_parent(ctx: Context, dest: str, error: ResourceDoesNotExist) -> BrickbookError:
    """Say why an import's parent is missing: nothing is there, or a notebook or file is in the way."""
    for ancestor in PurePosixPath(dest).parents:
        info = _status(ctx, str(ancestor))
        if info is None:
            continue
        if info.is_directory:
            break
        return DestinationExists(
            f"cannot import {dest}: {ancestor} is a {kind_of(info)}, not a folder",
            error_code=error.error_code,
        ).with_hint("import into a folder")
    parent = str(PurePosixPath(dest).parent)
    return MissingParent(f"the folder {parent} does not exist", error_code=error.error_code).with_hint(
        f"create it with workspace.mkdirs {parent}"
    )


def _same_there(ctx: Context, upload: _Import) -> bool:
    """Tell whether the object at the upload's path already holds its content."""
    kind = upload.kind
    try:
        # A notebook is compared with its SOURCE (header included) or JUPYTER export, a file as it is.
        current = workspace.export(
            ctx.client, upload.remote, format=ImportFormat.SOURCE if kind.language else kind.format
        )
    except ResourceDoesNotExist:
        return False
    return same_content(current, upload.content, jupyter=kind.format == ImportFormat.JUPYTER)


def _send(ctx: Context, upload: _Import) -> None:
    """Send one import; settle a refusal as RESOURCE_ALREADY_EXISTS by comparing the content there.

    With ``overwrite`` the client retries the import itself (``brickbook.retry``). Without it, a create
    whose answer was lost (it may have been applied) is sent once more here: a second copy cannot
    change anything, and its refusal is settled like any other, so our own first copy, or an identical
    run's, is success and other content a conflict.
    """
    for attempt in (1, 2):
        try:
            workspace.import_(
                ctx.client,
                upload.remote,
                upload.content,
                format=upload.kind.format,
                language=upload.kind.language,
                overwrite=upload.overwrite,
            )
            return
        except ResourceAlreadyExists as error:
            if not _same_there(ctx, upload):
                raise DestinationExists(
                    f"{upload.remote} was created meanwhile with other content", error_code=error.error_code
                ).with_hint(OVERWRITE_HINT) from error
            ctx.log.info(
                "workspace.import_found_done", path=upload.remote, reason="same content already there"
            )
            return
        except ResourceDoesNotExist as error:
            raise _missing_parent(ctx, upload.remote, error) from error
        except BrickbookError as error:
            if upload.overwrite or attempt > 1 or not maybe_applied(error):
                raise
            ctx.log.warning("workspace.import_resent", path=upload.remote, reason=error.message)


def import_file(
    ctx: Context,
    content: bytes,
    dest: str,
    *,
    format: ImportFormat,
    language: Language | None,
    overwrite: bool,
) -> dict[str, object]:
    """Import content at ``dest`` (the ``workspace.import`` task); return what was imported.

    Unlike ``plan_import_file`` an existing object is an error without ``overwrite``, whatever its
    content. The message names the real obstacle: a folder at ``dest`` (nothing replaces it), a
    notebook or file where the parent folder should be, or a missing parent folder.
    """
    dest = _import_dest(dest)
    try:
        workspace.import_(ctx.client, dest, content, format=format, language=language, overwrite=overwrite)
    except ResourceAlreadyExists as error:
        info = _status(ctx, dest)
        if info is not None and info.is_directory:
            raise _folder_in_the_way(dest, info, error.error_code) from error
        raise DestinationExists(f"{dest} already exists", error_code=error.error_code).with_hint(
            OVERWRITE_HINT
        ) from error
    except ResourceDoesNotExist as error:
        raise _missing_parent(ctx, dest, error) from error
    return {
        "imported": dest,
        "format": str(format),
        "language": str(language) if language else None,
        "bytes": len(content),
        "overwrite": overwrite,
    }


def delete(ctx: Context, path: str, *, recursive: bool) -> dict[str, object]:
    """Delete an object; a non-empty folder needs ``recursive`` (DIRECTORY_NOT_EMPTY otherwise)."""
    path = workspace_path(path)
    try:
        workspace.delete(ctx.client, path, recursive=recursive)
    except BadRequest as error:
        if error.error_code == "DIRECTORY_NOT_EMPTY" and error.hint is None:
            error.with_hint("add --recursive to delete it and everything in it")
        raise
    return {"deleted": path, "recursive": recursive}


# -- plan and apply imports -----------------------------------------------------------------------------


def _plan_one(ctx: Context, upload: _Import, info: ObjectInfo | None) -> Change:
    """Compare one local file with what is at its path (``info``; None when nothing is)."""
    if info is None:
        return Change(Action.CREATE, upload.remote, reason="not in the workspace", payload=upload)
    if info.is_directory:
        raise _folder_in_the_way(upload.remote, info)
    wanted = ObjectType.NOTEBOOK if upload.kind.notebook else ObjectType.FILE
    if upload.kind.format != ImportFormat.AUTO and info.object_type != wanted:
        fields, reason = ("object_type",), f"a {kind_of(info)} is there, a {str(wanted).lower()} goes there"
    elif upload.kind.language is not None and info.language not in (None, upload.kind.language):
        fields, reason = ("language",), f"the notebook there is in {info.language}"
    elif _same_there(ctx, upload):
        return Change(Action.UNCHANGED, upload.remote, reason="same content", payload=upload)
    else:
        fields, reason = ("content",), "content differs"
    return Change(Action.UPDATE, upload.remote, fields, reason, payload=replace(upload, overwrite=True))


def _refuse_updates(changes: Sequence[Change]) -> None:
    conflicts = [c.target for c in changes if c.action is Action.UPDATE]
    if len(conflicts) == 1:
        raise DestinationExists(f"{conflicts[0]} exists with other content").with_hint(OVERWRITE_HINT)
    if conflicts:
        shown = ", ".join(conflicts[:3]) + (f" and {len(conflicts) - 3} more" if len(conflicts) > 3 else "")
        raise DestinationExists(
            f"{len(conflicts)} workspace objects exist with other content ({shown})"
        ).with_hint("add --overwrite to replace them")


def _read(path: Path, shown: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {printable(shown)}: {error.strerror or error}") from None


def plan_import_file(ctx: Context, source: Path, dest: str, *, overwrite: bool) -> Change:
    """Plan importing one local notebook or file at ``dest``: create, update or unchanged (reads only).

    Other content at ``dest`` without ``overwrite``, or a folder there, is a ``DestinationExists``.
    """
    dest = _import_dest(dest)
    content = _read(source, str(source))
    format, language = import_kind(source.name)
    workspace.check_import_size(printable(str(source)), content)
    upload = _Import(dest, NotebookSource(PurePosixPath(dest).name, format, language), content, overwrite)
    change = _plan_one(ctx, upload, _status(ctx, dest))
    if not overwrite:
        _refuse_updates([change])
    return change


def apply_import_file(ctx: Context, change: Change) -> Change:
    """Apply a change planned by ``plan_import_file`` (nothing for ``unchanged``); return it."""
    return apply_import_dir(ctx, [change])[0]


def check_unique(names: Sequence[str], what: str) -> None:
    clashes = sorted(name for name, count in Counter(names).items() if count > 1)
    if clashes:
        raise UsageError(f"{what}: {', '.join(printable(c) for c in clashes[:3])}; rename one of them")


def _local_imports(source: Path, dest: str, overwrite: bool) -> tuple[list[_Import], list[Change]]:
    """Read every file to import and name its remote path; refuse bad names and sizes (no request)."""
    tree = walk_files(source, skip_hidden=True)
    uploads = []
    for found in tree.files:
        content = _read(found.real, str(found.path))
        kind = classify_local(found.path.name, content[:200])
        parent = PurePosixPath(dest) / PurePosixPath(found.relative).parent
        workspace.check_import_size(printable(str(found.path)), content)
        uploads.append(_Import(workspace_path(str(parent / kind.remote_name)), kind, content, overwrite))
    check_unique([u.remote for u in uploads], "local files map to the same workspace path")
    skips = [Change(Action.UNCHANGED, s.path, reason=s.reason, payload=_SKIPPED) for s in tree.skipped]
    return uploads, skips


def _remote_objects(ctx: Context, dest: str) -> dict[str, ObjectInfo]:
    """Every object below ``dest`` by canonical path (none when ``dest`` does not exist yet)."""
    there = _status(ctx, dest)
    if there is None:
        return {}
    if not there.is_directory:
        raise DestinationExists(f"{dest} is a {kind_of(there)}, not a folder").with_hint(
            "import into a folder"
        )
    return {_canonical(info.path): info for info in walk(ctx, dest)}


def plan_import_dir(ctx: Context, source: Path, dest: str, *, overwrite: bool) -> list[Change]:
    """Plan importing a local folder into ``dest``: one change per file, then one per skipped entry.

    Reads the local tree (hidden names left out), lists ``dest`` once and exports only the objects that
    may be unchanged. Without ``overwrite``, any object with other content stops the plan.
    """
    dest = workspace_path(dest)
    uploads, skips = _local_imports(source, dest, overwrite)
    remote = _remote_objects(ctx, dest)
    for upload in uploads:
        for ancestor in PurePosixPath(upload.remote).parents:
            blocking = remote.get(_canonical(str(ancestor)))
            if blocking is not None and not blocking.is_directory:
                raise DestinationExists(
                    f"cannot import {upload.remote}: {ancestor} is a {kind_of(blocking)}, not a folder"
                ).with_hint("import into a folder")
    calls = [functools.partial(_plan_one, ctx, u, remote.get(_canonical(u.remote))) for u in uploads]
    plan = run_bounded(ctx, calls, label="comparing")
    if not overwrite:
        _refuse_updates(plan)
    return plan + skips


def _leaf_dirs(dirs: set[str]) -> list[str]:
    """The directories no other one lies below (``mkdirs`` creates the parents)."""
    return sorted(d for d in dirs if not any(o != d and o.startswith(d.rstrip("/") + "/") for o in dirs))


def apply_import_dir(ctx: Context, changes: list[Change]) -> list[Change]:
    """Send the create and update changes of an import plan, concurrently; return every change, in order.

    Folders that new objects go into are created first (``mkdirs``).
    """
    todo = [c for c in changes if c.changed and isinstance(c.payload, _Import)]
    new_dirs = {str(PurePosixPath(c.target).parent) for c in todo if c.action is Action.CREATE}
    for directory in _leaf_dirs(new_dirs):
        workspace.mkdirs(ctx.client, directory)
    run_bounded(ctx, [functools.partial(_send, ctx, c.payload) for c in todo], label="importing")
    return list(changes)


# -- prune ----------------------------------------------------------------------------------------------


def _canonical(path: str) -> str:
    """A workspace path without the ``/Workspace`` prefix the API also accepts."""
    return (
        path[len("/Workspace") :] or "/" if path == "/Workspace" or path.startswith("/Workspace/") else path
    )


def _below(path: str, root: str) -> bool:
    return _canonical(path).startswith(_canonical(root).rstrip("/") + "/")


def plan_prune(ctx: Context, root: str, keep: Collection[str]) -> list[Change]:
    """Plan deleting the notebooks and files below ``root`` whose path is not in ``keep`` (reads only).

    Only notebooks and files strictly below ``root`` are considered: never ``root`` itself, never a
    folder, and nothing inside a Git folder (repo). A missing ``root`` plans nothing. ``keep`` holds
    workspace paths, e.g. the targets of an import plan's changes that are not ``skipped()`` (a skipped
    entry's target is a local path); anything else in it is a UsageError, never silently ignored.
    """
    root = workspace_path(root)
    if _canonical(root) == "/":
        raise UsageError("cannot prune the whole workspace: name the folder a sync manages")
    kept = {_canonical(workspace_path(k)) for k in keep}
    if _status(ctx, root) is None:
        return []
    return [
        Change(Action.DELETE, item.path, reason="not in the source", payload=root)
        for item in walk(ctx, root, into_repos=False)
        if item.object_type in (ObjectType.NOTEBOOK, ObjectType.FILE)
        and _canonical(item.path) not in kept
        and _below(item.path, root)
    ]


def _delete_one(ctx: Context, change: Change) -> None:
    if not (isinstance(change.payload, str) and _below(change.target, change.payload)):
        raise UsageError(f"refusing to delete {change.target}: it is not below the pruned folder")
    try:
        workspace.delete(ctx.client, change.target)
    except ResourceDoesNotExist:
        ctx.log.info("workspace.prune_found_done", path=change.target, reason="already gone")


def apply_prune(ctx: Context, changes: list[Change]) -> list[Change]:
    """Delete what ``plan_prune`` planned, concurrently; return the changes."""
    todo = [c for c in changes if c.action is Action.DELETE]
    run_bounded(ctx, [functools.partial(_delete_one, ctx, c) for c in todo], label="deleting")
    return list(changes)
