"""Workspace tasks: list, get-status, mkdirs, delete, import, export, import-dir, export-dir."""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath
from typing import Any

from brickbook.command import Invocation, command
from brickbook.errors import UsageError
from brickbook.output import render_table
from brickbook.paths import workspace_path

__all__ = ["delete", "export", "export_dir", "get_status", "import_", "import_dir", "list_", "mkdirs"]

FORMATS = "SOURCE, AUTO, JUPYTER, HTML, DBC, R_MARKDOWN or RAW"
LANGUAGES = "PYTHON, SQL, SCALA or R"


def _objects_table(rows: list[dict[str, Any]]) -> str:
    return render_table(rows, ["object_type", "language", "object_id", "path"])


def _changes_table(rows: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["action"]] = counts.get(row["action"], 0) + 1
    order = {"created": 0, "updated": 1, "unchanged": 2}
    ranked = sorted(counts.items(), key=lambda item: order.get(item[0], 3))
    summary = ", ".join(f"{n} {action}" for action, n in ranked) or "nothing to do"
    changed = [r for r in rows if r["action"] != "unchanged"]
    return (render_table(changed, ["action", "path"]) + "\n" if changed else "") + summary


def _choice(value: str | None, allowed: str, option: str) -> str | None:
    if value is None:
        return None
    upper = value.upper()
    if upper not in allowed.replace(" or ", ", ").split(", "):
        raise UsageError(f"{option} must be one of {allowed}, not {value!r}")
    return upper


@command(
    help={"path": "Absolute workspace path to list.", "recursive": "List the whole tree below PATH."},
    text=_objects_table,
    name="list",
)
def list_(inv: Invocation, path: str, *, recursive: bool = False) -> list[Any]:
    """List the objects in a workspace directory."""
    from brickbook.api import workspace
    from brickbook.ops.workspace import walk

    path = workspace_path(path)
    items = walk(inv.client, path) if recursive else workspace.list_(inv.client, path)
    return [item.raw for item in items]


@command(help={"path": "Absolute workspace path."})
def get_status(inv: Invocation, path: str) -> Any:
    """Show one workspace object: type, id, language, size, times."""
    from brickbook.api import workspace

    return workspace.get_status(inv.client, workspace_path(path)).raw


@command(help={"path": "Absolute workspace directory to create, with its parents."})
def mkdirs(inv: Invocation, path: str) -> None:
    """Create a workspace directory and its parents (succeeds if it exists)."""
    from brickbook.api import workspace

    workspace.mkdirs(inv.client, workspace_path(path))


@command(help={"path": "Absolute workspace path to delete.", "recursive": "Delete a non-empty directory."})
def delete(inv: Invocation, path: str, *, recursive: bool = False) -> None:
    """Delete a workspace object (a non-empty directory needs --recursive)."""
    from brickbook.api import workspace
    from brickbook.errors import BadRequest

    path = workspace_path(path)
    try:
        workspace.delete(inv.client, path, recursive=recursive)
    except BadRequest as error:
        if error.error_code == "DIRECTORY_NOT_EMPTY":
            error.args = (f"{path} is not empty: add --recursive to delete it and everything in it",)
        raise


@command(
    help={
        "src": "Local file to import ('-' reads stdin).",
        "dest": "Absolute workspace path to create.",
        "language": f"Notebook language: {LANGUAGES}. Default: inferred from SRC's extension.",
        "format": f"Import format: {FORMATS}. Default: SOURCE for .py/.sql/.scala/.r, JUPYTER for "
        ".ipynb, AUTO (a workspace file) for anything else.",
        "overwrite": "Replace DEST if it exists (makes the import safe to retry).",
    },
    name="import",
)
def import_(
    inv: Invocation,
    src: str,
    dest: str,
    *,
    language: str | None = None,
    format: str | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Import a local file as a notebook or workspace file.

    Over an existing DEST it fails (exit 5) unless --overwrite is given; with it the import replaces
    DEST and is safe to retry.
    """
    from brickbook.api import workspace
    from brickbook.api.workspace import ImportFormat, Language
    from brickbook.errors import ResourceAlreadyExists, ResourceDoesNotExist

    dest = workspace_path(dest)
    fmt, lang = _import_kind(
        src, _choice(format, FORMATS, "--format"), _choice(language, LANGUAGES, "--language")
    )
    try:
        content = sys.stdin.buffer.read() if src == "-" else Path(src).read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {src}: {error.strerror or error}") from None
    try:
        workspace.import_(
            inv.client,
            dest,
            content,
            format=ImportFormat(fmt),
            language=Language(lang) if lang else None,
            overwrite=overwrite,
        )
    except ResourceAlreadyExists as error:
        error.args = (f"{dest} already exists: add --overwrite to replace it",)
        raise
    except ResourceDoesNotExist as error:
        parent = str(PurePosixPath(dest).parent)
        error.args = (f"the folder {parent} does not exist: create it with workspace.mkdirs {parent}",)
        raise
    return {"path": dest, "format": fmt, "language": lang, "bytes": len(content)}


def _import_kind(src: str, fmt: str | None, lang: str | None) -> tuple[str, str | None]:
    """Choose the import format and language from the options and SRC's extension."""
    from brickbook.ops.workspace import EXTENSION_LANGUAGE

    suffix = Path(src).suffix.lower()
    inferred = EXTENSION_LANGUAGE.get(suffix)
    if fmt is None:
        fmt = "JUPYTER" if suffix == ".ipynb" else "SOURCE" if lang or inferred else "AUTO"
    if fmt == "SOURCE" and lang is None:
        if inferred is None:
            raise UsageError(f"cannot tell the language of {src!r}: pass --language ({LANGUAGES})")
        lang = str(inferred)
    return fmt, lang


@command(
    help={
        "path": "Absolute workspace path to export.",
        "dest": "Local file to write, atomically. Default: stdout.",
        "format": f"Export format: {FORMATS}. Default: SOURCE.",
    },
    # invoke has no optional positional arguments: DEST is the --dest option.
    positional=["path"],
)
def export(inv: Invocation, path: str, *, dest: str = "-", format: str | None = None) -> Any:
    """Export a notebook or file to a local file (--dest) or stdout."""
    from brickbook.api import workspace
    from brickbook.api.workspace import ExportFormat
    from brickbook.ops.workspace import write_atomically

    path = workspace_path(path)
    fmt = ExportFormat(_choice(format, FORMATS, "--format") or "SOURCE")
    if dest != "-" and Path(dest).is_dir():
        raise UsageError(f"{dest} is a directory: name the file to write (or use workspace.export-dir)")
    content = workspace.export(inv.client, path, format=fmt)
    if dest == "-":
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is not None:
            buffer.write(content)
        else:  # stdout replaced by a text stream (tests, embedding)
            sys.stdout.write(content.decode("utf-8", errors="replace"))
        sys.stdout.flush()
        return None
    write_atomically(Path(dest), content)
    return {"path": path, "dest": dest, "bytes": len(content)}


@command(
    help={
        "src": "Local directory to import.",
        "dest": "Absolute workspace directory to import into.",
        "overwrite": "Replace workspace objects whose content differs.",
    },
    text=_changes_table,
)
def import_dir(inv: Invocation, src: str, dest: str, *, overwrite: bool = False) -> list[dict[str, str]]:
    """Import a local folder; unchanged files are skipped, changes reported."""
    from brickbook.ops.workspace import import_dir as run

    changes = run(inv.client, Path(src), workspace_path(dest), overwrite=overwrite)
    return [{"path": c.path, "action": c.action} for c in changes]


@command(
    help={"src": "Absolute workspace directory to export.", "dest": "Local directory to write into."},
    text=_changes_table,
)
def export_dir(inv: Invocation, src: str, dest: str) -> list[dict[str, str]]:
    """Export a workspace folder; notebooks get their language's extension, unchanged files are skipped."""
    from brickbook.ops.workspace import export_dir as run

    src = workspace_path(src)
    if Path(dest).exists() and not Path(dest).is_dir():
        raise UsageError(f"{dest} exists and is not a directory")
    changes = run(inv.client, src, Path(dest))
    return [{"path": c.path, "action": c.action} for c in changes]
