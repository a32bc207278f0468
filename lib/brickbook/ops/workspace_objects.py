"""Workspace operations on one object: import (sent, resent, settled), delete, status, and a walk.

``brickbook.ops.workspace`` plans and applies folder syncs from these pieces. An import without
overwrite whose answer was lost is resent once and its refusal settled by comparing the content there
(``same_content``); a missing parent is named (a missing folder, or a notebook or file in its place).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from brickbook.api import workspace
from brickbook.api.workspace import ImportFormat, Language, ObjectInfo, ObjectType
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
from brickbook.localfs import OVERWRITE_HINT
from brickbook.ops.deployed import DeployRecord, content_digest
from brickbook.ops.notebooks import NotebookSource, same_content
from brickbook.paths import workspace_path
from brickbook.retry import maybe_applied

__all__ = [
    "Import",
    "canonical",
    "delete",
    "folder_in_the_way",
    "import_dest",
    "import_file",
    "kind_of",
    "same_there",
    "send",
    "status",
    "walk",
]

# Where an import is refused before any request: the workspace root and its /Workspace alias.
_ROOTS = ("/", "/Workspace")


@dataclass(frozen=True)
class Import:
    """What applying an import change sends (a Change payload)."""

    remote: str
    kind: NotebookSource
    content: bytes
    overwrite: bool  # sent with overwrite=true: an update, or the caller allowed replacing
    record: DeployRecord | None = None  # the folder's deploy record (shared), written after apply
    seen: ObjectInfo | None = None  # what the plan's listing showed at ``remote``
    new_folder: str | None = None  # the top folder above ``remote`` that the plan found missing

    @property
    def digest(self) -> str:
        """The SHA-256 of the content and of how it is imported (format, language)."""
        return content_digest(self.content, str(self.kind.format), str(self.kind.language or ""))


def walk(ctx: Context, path: str, *, into_repos: bool = True) -> Iterator[ObjectInfo]:
    """Yield every object below ``path``, depth first (Workspace API ``list`` gives one level per call)."""
    for item in workspace.list_(ctx.client, path):
        yield item
        if item.object_type == ObjectType.DIRECTORY or (into_repos and item.is_directory):
            yield from walk(ctx, item.path, into_repos=into_repos)


def kind_of(info: ObjectInfo) -> str:
    """Name an object's type for a message: ``notebook``, ``directory``, ``file``, ``repo``, ..."""
    return str(info.object_type or "object").lower()


def canonical(path: str) -> str:
    """A workspace path without the ``/Workspace`` prefix the API also accepts."""
    return (
        path[len("/Workspace") :] or "/" if path == "/Workspace" or path.startswith("/Workspace/") else path
    )


# -- one object -----------------------------------------------------------------------------------------


def import_dest(dest: str) -> str:
    dest = workspace_path(dest)
    if dest in _ROOTS:
        raise UsageError(
            f"cannot import to the workspace root {dest}: name a path below it, e.g. /Shared/etl"
        )
    return dest


def folder_in_the_way(dest: str, info: ObjectInfo, error_code: str | None = None) -> BrickbookError:
    return DestinationExists(
        f"{dest} is a {kind_of(info)}: a file or notebook cannot replace it", error_code=error_code
    ).with_hint(f"import to a path inside it, e.g. {PurePosixPath(dest) / 'name'}")


def status(ctx: Context, path: str) -> ObjectInfo | None:
    try:
        return workspace.get_status(ctx.client, path)
    except ResourceDoesNotExist:
        return None


def missing_parent(ctx: Context, dest: str, error: ResourceDoesNotExist) -> BrickbookError:
    """Say why an import's parent is missing: nothing is there, or a notebook or file is in the way."""
    for ancestor in PurePosixPath(dest).parents:
        info = status(ctx, str(ancestor))
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


def same_there(ctx: Context, upload: Import) -> bool:
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


def send(ctx: Context, upload: Import) -> None:
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
            if not same_there(ctx, upload):
                raise DestinationExists(
                    f"{upload.remote} was created meanwhile with other content", error_code=error.error_code
                ).with_hint(OVERWRITE_HINT) from error
            ctx.log.info(
                "workspace.import_found_done", path=upload.remote, reason="same content already there"
            )
            return
        except ResourceDoesNotExist as error:
            raise missing_parent(ctx, upload.remote, error) from error
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
    dest = import_dest(dest)
    try:
        workspace.import_(ctx.client, dest, content, format=format, language=language, overwrite=overwrite)
    except ResourceAlreadyExists as error:
        info = status(ctx, dest)
        if info is not None and info.is_directory:
            raise folder_in_the_way(dest, info, error.error_code) from error
        raise DestinationExists(f"{dest} already exists", error_code=error.error_code).with_hint(
            OVERWRITE_HINT
        ) from error
    except ResourceDoesNotExist as error:
        raise missing_parent(ctx, dest, error) from error
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
