"""Workspace tasks: list, get-status, mkdirs, delete, import, export, import-dir, export-dir."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from brickbook.command import Invocation, command
from brickbook.errors import UsageError
from brickbook.output import render_table
from brickbook.paths import printable, workspace_path

__all__ = ["delete", "export", "export_dir", "get_status", "import_", "import_dir", "list_", "mkdirs"]

FORMATS = "SOURCE, AUTO, JUPYTER, HTML, DBC, R_MARKDOWN or RAW"
LANGUAGES = "PYTHON, SQL, SCALA or R"


def _objects_table(rows: list[dict[str, Any]]) -> str:
    return render_table(rows, ["object_type", "language", "object_id", "path"])


def _changes_table(rows: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["action"]] = counts.get(row["action"], 0) + 1
    order = {"created": 0, "updated": 1, "unchanged": 2, "skipped": 3}
    ranked = sorted(counts.items(), key=lambda item: order.get(item[0], 4))
    summary = ", ".join(f"{n} {action}" for action, n in ranked) or "nothing to do"
    changed = [r for r in rows if r["action"] != "unchanged"]
    columns = ["action", "path"] + (["reason"] if any(r.get("reason") for r in changed) else [])
    return (render_table(changed, columns) + "\n" if changed else "") + summary


def _change_rows(changes: list[Any]) -> list[dict[str, str]]:
    rows = []
    for change in changes:
        row = {"path": change.path, "action": change.action}
        if change.reason:
            row["reason"] = change.reason
        rows.append(row)
    return rows


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
def mkdirs(inv: Invocation, path: str) -> dict[str, Any]:
    """Create a workspace directory and its parents (succeeds if it exists)."""
    from brickbook.api import workspace

    path = workspace_path(path)
    workspace.mkdirs(inv.client, path)
    return {"created": path}


@command(help={"path": "Absolute workspace path to delete.", "recursive": "Delete a non-empty directory."})
def delete(inv: Invocation, path: str, *, recursive: bool = False) -> dict[str, Any]:
    """Delete a workspace object (a non-empty directory needs --recursive)."""
    from brickbook.ops import workspace

    return workspace.delete(inv.client, workspace_path(path), recursive=recursive)


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
    DEST and is safe to retry. A folder at DEST is never replaced.
    """
    from brickbook.api.workspace import ImportFormat, Language
    from brickbook.ops import workspace

    dest = workspace_path(dest)
    fmt, lang = _import_kind(
        src, _choice(format, FORMATS, "--format"), _choice(language, LANGUAGES, "--language")
    )
    content = _read_source(src)
    return workspace.import_file(
        inv.client,
        content,
        dest,
        format=ImportFormat(fmt),
        language=Language(lang) if lang else None,
        overwrite=overwrite,
    )


def _read_source(src: str) -> bytes:
    """Read SRC, or stdin for '-'; a closed stdin or an unreadable file is a usage error."""
    from brickbook.localfs import local_path

    if src == "-":
        if sys.stdin is None:  # fd 0 was closed (`<&-`)
            raise UsageError("stdin is closed: pass a file as SRC instead of '-'")
        buffer = getattr(sys.stdin, "buffer", None)
        return buffer.read() if buffer is not None else sys.stdin.read().encode("utf-8")
    path = local_path(src)
    try:
        return path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {printable(src)}: {error.strerror or error}") from None


def _import_kind(src: str, fmt: str | None, lang: str | None) -> tuple[str, str | None]:
    """Choose the import format and language from the options and SRC's extension."""
    from brickbook.ops.workspace import EXTENSION_LANGUAGE

    suffix = Path(src).suffix.lower()
    inferred = EXTENSION_LANGUAGE.get(suffix)
    if fmt is None:
        fmt = "JUPYTER" if suffix == ".ipynb" else "SOURCE" if lang or inferred else "AUTO"
    if fmt == "SOURCE" and lang is None:
        if inferred is None:
            raise UsageError(f"cannot tell the language of {printable(src)}: pass --language ({LANGUAGES})")
        lang = str(inferred)
    return fmt, lang


@command(
    help={
        "path": "Absolute workspace path to export.",
        "dest": "Local file to write, atomically. Default: stdout.",
        "format": f"Export format: {FORMATS}. Default: SOURCE.",
        "overwrite": "Replace DEST if it exists.",
    },
    # invoke has no optional positional arguments: DEST is the --dest option.
    positional=["path"],
)
def export(
    inv: Invocation, path: str, *, dest: str = "-", format: str | None = None, overwrite: bool = False
) -> Any:
    """Export a notebook or file to a local file (--dest) or stdout.

    An existing local file is kept unless --overwrite is given (exit 5), as fs.cp does. With -o json
    and no --dest it prints {"path", "encoding": "utf-8" or "base64", "content"}.
    """
    from brickbook.api import workspace
    from brickbook.api.workspace import ExportFormat
    from brickbook.localfs import local_path
    from brickbook.ops.workspace import export_file
    from brickbook.tasks.fs import content_result, write_stdout

    path = workspace_path(path)
    fmt = ExportFormat(_choice(format, FORMATS, "--format") or "SOURCE")
    if dest != "-":
        return export_file(inv.client, path, local_path(dest), format=fmt, overwrite=overwrite)
    content = workspace.export(inv.client, path, format=fmt)
    if inv.output == "json":
        return content_result(path, content)
    write_stdout([content])
    return None


@command(
    help={
        "src": "Local directory to import.",
        "dest": "Absolute workspace directory to import into.",
        "overwrite": "Replace workspace objects whose content differs (every import is then retry-safe).",
    },
    text=_changes_table,
)
def import_dir(inv: Invocation, src: str, dest: str, *, overwrite: bool = False) -> list[dict[str, str]]:
    """Import a local folder; unchanged files are skipped, changes reported.

    The folder is walked without leaving it: symbolic links that lead outside it, broken links and
    loops are skipped and listed (action "skipped", with the reason). Hidden names are left out.
    """
    from brickbook.localfs import local_path
    from brickbook.ops.workspace import import_dir as run

    dest = workspace_path(dest)
    return _change_rows(run(inv.client, local_path(src), dest, overwrite=overwrite))


@command(
    help={"src": "Absolute workspace directory to export.", "dest": "Local directory to write into."},
    text=_changes_table,
)
def export_dir(inv: Invocation, src: str, dest: str) -> list[dict[str, str]]:
    """Export a workspace folder; notebooks get their language's extension, unchanged files are skipped."""
    from brickbook.localfs import local_path
    from brickbook.ops.workspace import export_dir as run

    src = workspace_path(src)
    return _change_rows(run(inv.client, src, local_path(dest)))
