"""Workspace tasks: list, get-status, mkdirs, delete, import, export, import-dir, export-dir."""

from __future__ import annotations

import sys
from pathlib import Path
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
    summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items())) or "nothing to do"
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
    items = list(walk(inv.client, path)) if recursive else workspace.list_(inv.client, path)
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

    workspace.delete(inv.client, workspace_path(path), recursive=recursive)


@command(
    help={
        "src": "Local file to import ('-' reads stdin).",
        "dest": "Absolute workspace path to create.",
        "language": f"Notebook language: {LANGUAGES}. Default: inferred from SRC's extension.",
        "format": f"Import format: {FORMATS}. Default: SOURCE.",
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
    """Import a local file as a notebook or workspace file."""
    from brickbook.api import workspace
    from brickbook.api.workspace import ImportFormat, Language
    from brickbook.errors import ResourceAlreadyExists
    from brickbook.ops.workspace import EXTENSION_LANGUAGE

    dest = workspace_path(dest)
    fmt = ImportFormat(_choice(format, FORMATS, "--format") or "SOURCE")
    lang = _choice(language, LANGUAGES, "--language")
    if lang is None and fmt == ImportFormat.SOURCE:
        inferred = EXTENSION_LANGUAGE.get(Path(src).suffix.lower())
        if inferred is None:
            raise UsageError(f"cannot tell the language of {src!r}: pass --language ({LANGUAGES})")
        lang = str(inferred)
    try:
        content = sys.stdin.buffer.read() if src == "-" else Path(src).read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {src}: {error.strerror}") from None
    try:
        workspace.import_(
            inv.client,
            dest,
            content,
            format=fmt,
            language=Language(lang) if lang else None,
            overwrite=overwrite,
        )
    except ResourceAlreadyExists as error:
        error.args = (f"{dest} already exists: add --overwrite to replace it",)
        raise
    return {"path": dest, "format": str(fmt), "language": lang, "bytes": len(content)}


@command(
    help={
        "path": "Absolute workspace path to export.",
        "dest": "Local file to write, atomically; '-' (the default) writes to stdout.",
        "format": f"Export format: {FORMATS}. Default: SOURCE.",
    },
    positional=["path", "dest"],
)
def export(inv: Invocation, path: str, dest: str = "-", *, format: str | None = None) -> Any:
    """Export a notebook or file to a local file or stdout."""
    from brickbook.api import workspace
    from brickbook.api.workspace import ExportFormat
    from brickbook.ops.workspace import write_atomically

    fmt = ExportFormat(_choice(format, FORMATS, "--format") or "SOURCE")
    content = workspace.export(inv.client, workspace_path(path), format=fmt)
    if dest == "-":
        sys.stdout.buffer.write(content)
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

    changes = run(inv.client, workspace_path(src), Path(dest))
    return [{"path": c.path, "action": c.action} for c in changes]
