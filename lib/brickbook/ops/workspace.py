"""Workspace syncs planned then applied: a folder or one file imported, a folder pruned.

A sync is two stages. ``plan_*`` reads both sides (one ``list`` per folder, concurrently) and returns one
``brickbook.change.Change`` per object: ``create``, ``update`` (the ``fields`` that differ: ``content``,
``object_type`` or ``language``), ``unchanged`` or, for prune, ``delete``; nothing is written until the
whole plan is known, so a conflict (other content without ``overwrite``, a folder where a notebook
goes, two local files for one workspace name) fails before anything changes. ``apply_*`` sends only
the differences, concurrently (``brickbook.ops.pool``). Applying the same plan twice, or two identical
syncs at once, changes nothing the second time: an import that finds its path taken by the very
content it carries (another run's, or its own resent request's) has succeeded.

How local files map to workspace objects and how contents are compared: ``brickbook.ops.notebooks``.
Local entries a folder walk leaves out (links out of the folder, broken links, loops; see
``brickbook.localfs``) come back as ``unchanged`` changes that ``skipped()`` recognises. One object
(import, delete, the walk): ``brickbook.ops.workspace_objects``, whose ``import_file``, ``delete``,
``walk`` and ``kind_of`` are also offered here. What a folder import last deployed, so that a rerun
needs no export: ``brickbook.ops.deployed``. Exporting to local files: ``brickbook.ops.workspace_export``.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

from brickbook.api import workspace
from brickbook.api.workspace import ImportFormat, ObjectInfo, ObjectType
from brickbook.change import Action, Change
from brickbook.context import Context
from brickbook.errors import DestinationExists, ResourceDoesNotExist, UsageError
from brickbook.localfs import OVERWRITE_HINT, walk_files
from brickbook.ops.deployed import Deployed, DeployRecord
from brickbook.ops.notebooks import NotebookSource, classify_local, import_kind
from brickbook.ops.pool import run_bounded
from brickbook.ops.workspace_archive import pack, send_archive
from brickbook.ops.workspace_objects import (
    Import,
    canonical,
    delete,
    folder_in_the_way,
    import_dest,
    import_file,
    kind_of,
    same_there,
    send,
    status,
    walk,
)
from brickbook.paths import printable, workspace_path

__all__ = [
    "REMOTE_EDIT",
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

_SKIPPED = object()  # the payload of a change that stands for a local entry the walk left out
REMOTE_EDIT = "changed in the workspace since the last deploy"  # the reason of such an update


def skipped(change: Change) -> bool:
    """Tell whether a change stands for a local entry a folder walk left out (its reason says why)."""
    return change.payload is _SKIPPED


# -- plan and apply imports -----------------------------------------------------------------------------


def _plan_from_record(upload: Import, info: ObjectInfo) -> Change | None:
    """Decide from the listing and the deploy record alone; None when only the content can tell."""
    if upload.record is None:
        return None
    last = upload.record.objects.get(canonical(upload.remote))
    fields: tuple[str, ...]
    if last is not None and last.still(info):
        if last.sha256 == upload.digest:
            return Change(Action.UNCHANGED, upload.remote, reason="as last deployed", payload=upload)
        fields, reason = ("content",), "changed locally since the last deploy"
    elif not upload.overwrite:
        return None  # compare: the same content may be there (another deploy's, or edited back)
    else:
        # With overwrite an import is one idempotent request: cheaper than an export to compare first.
        fields, reason = (), REMOTE_EDIT if last is not None else "not recorded as deployed"
    return Change(Action.UPDATE, upload.remote, fields, reason, payload=replace(upload, overwrite=True))


def _plan_one(ctx: Context, upload: Import, info: ObjectInfo | None) -> Change:
    """Compare one local file with what is at its path (``info``; None when nothing is)."""
    if info is None:
        return Change(Action.CREATE, upload.remote, reason="not in the workspace", payload=upload)
    if info.is_directory:
        raise folder_in_the_way(upload.remote, info)
    upload = replace(upload, seen=info)
    wanted = ObjectType.NOTEBOOK if upload.kind.notebook else ObjectType.FILE
    known = _plan_from_record(upload, info)
    fields: tuple[str, ...]
    if upload.kind.format != ImportFormat.AUTO and info.object_type != wanted:
        fields, reason = ("object_type",), f"a {kind_of(info)} is there, a {str(wanted).lower()} goes there"
    elif upload.kind.language is not None and info.language not in (None, upload.kind.language):
        fields, reason = ("language",), f"the notebook there is in {info.language}"
    elif known is not None:
        fields, reason = known.fields, known.reason
        if known.action is Action.UNCHANGED:
            return known
    elif same_there(ctx, upload):
        return Change(Action.UNCHANGED, upload.remote, reason="same content", payload=upload)
    elif upload.record and canonical(upload.remote) in upload.record.objects:
        fields, reason = ("content",), REMOTE_EDIT
    else:
        fields, reason = ("content",), "content differs"
    if reason == REMOTE_EDIT:
        ctx.log.warning("workspace.remote_edit", path=upload.remote, reason=reason)
    return Change(Action.UPDATE, upload.remote, fields, reason, payload=replace(upload, overwrite=True))


def _some(paths: Sequence[str]) -> str:
    return ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def _refuse_updates(changes: Sequence[Change]) -> None:
    """Stop a plan without overwrite that would replace anything; remote edits are named first."""
    updates = [c for c in changes if c.action is Action.UPDATE]
    edited = [c.target for c in updates if c.reason == REMOTE_EDIT]
    conflicts = [c.target for c in updates if c.reason != REMOTE_EDIT]
    if len(edited) == 1:
        raise DestinationExists(f"{edited[0]} {REMOTE_EDIT}").with_hint(OVERWRITE_HINT)
    if edited:
        raise DestinationExists(f"{len(edited)} workspace objects {REMOTE_EDIT} ({_some(edited)})").with_hint(
            "add --overwrite to replace them"
        )
    if len(conflicts) == 1:
        raise DestinationExists(f"{conflicts[0]} exists with other content").with_hint(OVERWRITE_HINT)
    if conflicts:
        raise DestinationExists(
            f"{len(conflicts)} workspace objects exist with other content ({_some(conflicts)})"
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
    dest = import_dest(dest)
    content = _read(source, str(source))
    format, language = import_kind(source.name)
    workspace.check_import_size(printable(str(source)), content)
    upload = Import(dest, NotebookSource(PurePosixPath(dest).name, format, language), content, overwrite)
    change = _plan_one(ctx, upload, status(ctx, dest))
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


def _local_imports(
    source: Path, dest: str, overwrite: bool, record: DeployRecord | None
) -> tuple[list[Import], list[Change]]:
    """Read every file to import and name its remote path; refuse bad names and sizes (no request)."""
    tree = walk_files(source, skip_hidden=True)
    uploads = []
    for found in tree.files:
        content = _read(found.real, str(found.path))
        kind = classify_local(found.path.name, content[:200])
        parent = PurePosixPath(dest) / PurePosixPath(found.relative).parent
        workspace.check_import_size(printable(str(found.path)), content)
        remote = workspace_path(str(parent / kind.remote_name))
        uploads.append(Import(remote, kind, content, overwrite, record))
    check_unique([u.remote for u in uploads], "local files map to the same workspace path")
    skips = [Change(Action.UNCHANGED, s.path, reason=s.reason, payload=_SKIPPED) for s in tree.skipped]
    return uploads, skips


def _remote_objects(ctx: Context, dest: str, folders: Collection[str]) -> dict[str, ObjectInfo] | None:
    """The objects in ``dest`` and in those of its subfolders named in ``folders``, by canonical path.

    One ``list`` per folder that exists (the folders of one level concurrently); folders the local tree
    does not have are not listed. None when ``dest`` does not exist yet.
    """
    try:
        top = workspace.list_(ctx.client, dest)
    except ResourceDoesNotExist:
        return None
    # Listing a notebook or file answers the object itself.
    if len(top) == 1 and canonical(top[0].path) == canonical(dest) and not top[0].is_directory:
        raise DestinationExists(f"{dest} is a {kind_of(top[0])}, not a folder").with_hint(
            "import into a folder"
        )
    found: dict[str, ObjectInfo] = {}
    level = [top]
    while level:
        below = [i for items in level for i in items]
        found.update((canonical(i.path), i) for i in below)
        more = [i.path for i in below if i.is_directory and canonical(i.path) in folders]
        level = run_bounded(ctx, [functools.partial(workspace.list_, ctx.client, p) for p in more])
    return found


def _new_folder(dest: str, remote: str, listed: dict[str, ObjectInfo] | None) -> str | None:
    """The top folder between ``dest`` (included) and ``remote`` that the listing showed missing."""
    if listed is None:
        return dest
    below = PurePosixPath(remote).relative_to(dest).parent.parts
    folder = PurePosixPath(dest)
    for part in below:
        folder = folder / part
        if canonical(str(folder)) not in listed:
            return str(folder)
    return None


def plan_import_dir(
    ctx: Context, source: Path, dest: str, *, overwrite: bool, state_dir: Path | None = None
) -> list[Change]:
    """Plan importing a local folder into ``dest``: one change per file, then one per skipped entry.

    Reads the local tree (hidden names left out) and lists the folders of ``dest`` it maps to. A new
    object is a create, a notebook or file of the wrong type or language an update. With ``state_dir``
    the folder's deploy record (``brickbook.ops.deployed``) decides the rest without an export: an
    object still as the last deploy left it is unchanged or, when the local file changed since, an
    update; with ``overwrite`` any other one is an update too (an import with overwrite is one
    idempotent request, cheaper than comparing first), reported as changed in the workspace since the
    last deploy when the record knew it. Only without ``overwrite``, or without ``state_dir``, is the
    content exported and compared, because the listing carries no content hash: an identical object
    put there by someone else, or edited back, is unchanged, not a conflict. Without ``overwrite`` any
    update stops the plan (remote edits named first). The record is read here and written by
    ``apply_import_dir`` (not in a dry run, which stops after the plan).
    """
    dest = workspace_path(dest)
    record = None
    if state_dir is not None:
        host = ctx.client.config.host
        record = DeployRecord.load(state_dir, kind="import", host=host, folder=canonical(dest))
    uploads, skips = _local_imports(source, dest, overwrite, record)
    folders = {canonical(str(a)) for u in uploads for a in PurePosixPath(u.remote).parents}
    listed = _remote_objects(ctx, dest, folders)
    remote = listed or {}
    uploads = [replace(u, new_folder=_new_folder(dest, u.remote, listed)) for u in uploads]
    for upload in uploads:
        for ancestor in PurePosixPath(upload.remote).parents:
            blocking = remote.get(canonical(str(ancestor)))
            if blocking is not None and not blocking.is_directory:
                raise DestinationExists(
                    f"cannot import {upload.remote}: {ancestor} is a {kind_of(blocking)}, not a folder"
                ).with_hint("import into a folder")
    calls = [functools.partial(_plan_one, ctx, u, remote.get(canonical(u.remote))) for u in uploads]
    plan = run_bounded(ctx, calls, label="comparing")
    if not overwrite:
        _refuse_updates(plan)
    return plan + skips


def _leaf_dirs(dirs: set[str]) -> list[str]:
    """The directories no other one lies below (``mkdirs`` creates the parents)."""
    return sorted(d for d in dirs if not any(o != d and o.startswith(d.rstrip("/") + "/") for o in dirs))


def _remember(ctx: Context, changes: list[Change]) -> None:
    """Write the deploy record of an applied import plan: each object's digest, id and modified time.

    Import answers nothing, so the folders that received imports are listed once more; an object not
    found there (the service named it otherwise) is left out, to be compared next time. An edit made by
    someone else between our import and that listing would be taken for ours: the window is one
    request long, and ``modified_at`` has millisecond resolution, so edits in the deploy's own
    millisecond are not told apart either.
    """
    uploads = [c for c in changes if isinstance(c.payload, Import) and c.payload.record is not None]
    if not uploads:
        return
    record: DeployRecord = uploads[0].payload.record
    parents = sorted({str(PurePosixPath(c.target).parent) for c in uploads if c.changed})
    listings = run_bounded(ctx, [functools.partial(workspace.list_, ctx.client, p) for p in parents])
    now = {canonical(i.path): i for items in listings for i in items}
    objects: dict[str, Deployed] = {}
    for change in uploads:
        upload: Import = change.payload
        info = now.get(canonical(upload.remote)) if change.changed else upload.seen
        if info is not None and not info.is_directory:
            objects[canonical(upload.remote)] = Deployed.of(upload.digest, info)
    if objects != record.objects:
        record.save(objects)


def apply_import_dir(ctx: Context, changes: list[Change]) -> list[Change]:
    """Send the create and update changes of an import plan, concurrently; return every change, in order.

    A folder the plan found missing is imported whole, as zip archives (``brickbook.ops.workspace_archive``:
    one request per folder under the 10 MB limit instead of one per file); anything else is imported
    file by file, into folders created first (``mkdirs``). A plan made with a ``state_dir`` then
    records what is deployed (``brickbook.ops.deployed``), even when nothing changed.
    """
    todo = [c.payload for c in changes if c.changed and isinstance(c.payload, Import)]
    grouped: dict[str, list[Import]] = defaultdict(list)
    for upload in todo:
        if upload.new_folder is not None:
            grouped[upload.new_folder].append(upload)
    singles = [u for u in todo if u.new_folder is None]
    archives = []
    for root, uploads in sorted(grouped.items()):
        packed, rest = pack(root, uploads)
        archives += packed
        singles += rest
    # Parents first: a subfolder's archive needs the folder its parent's archive creates.
    for depth in sorted({a.depth for a in archives}):
        level = [functools.partial(send_archive, ctx, a) for a in archives if a.depth == depth]
        run_bounded(ctx, level, label="importing folders")
    new_dirs = {str(PurePosixPath(u.remote).parent) for u in singles if u.seen is None}
    for directory in _leaf_dirs(new_dirs):
        workspace.mkdirs(ctx.client, directory)
    run_bounded(ctx, [functools.partial(send, ctx, u) for u in singles], label="importing")
    _remember(ctx, changes)
    return list(changes)


# -- prune ----------------------------------------------------------------------------------------------


def _below(path: str, root: str) -> bool:
    return canonical(path).startswith(canonical(root).rstrip("/") + "/")


def plan_prune(ctx: Context, root: str, keep: Collection[str]) -> list[Change]:
    """Plan deleting the notebooks and files below ``root`` whose path is not in ``keep`` (reads only).

    Only notebooks and files strictly below ``root`` are considered: never ``root`` itself, never a
    folder, and nothing inside a Git folder (repo). A missing ``root`` plans nothing. ``keep`` holds
    workspace paths, e.g. the targets of an import plan's changes that are not ``skipped()`` (a skipped
    entry's target is a local path); anything else in it is a UsageError, never silently ignored.
    """
    root = workspace_path(root)
    if canonical(root) == "/":
        raise UsageError("cannot prune the whole workspace: name the folder a sync manages")
    kept = {canonical(workspace_path(k)) for k in keep}
    if status(ctx, root) is None:
        return []
    return [
        Change(Action.DELETE, item.path, reason="not in the source", payload=root)
        for item in walk(ctx, root, into_repos=False)
        if item.object_type in (ObjectType.NOTEBOOK, ObjectType.FILE)
        and canonical(item.path) not in kept
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
