"""Workspace tasks: list, get-status, mkdirs, delete, import, export, import-dir, export-dir."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brickbook.command import Invocation, command
from brickbook.errors import UsageError
from brickbook.output import render_table
from brickbook.paths import printable, workspace_path

if TYPE_CHECKING:
    from brickbook.change import Change

__all__ = ["delete", "export", "export_dir", "get_status", "import_", "import_dir", "list_", "mkdirs"]

FORMATS = "SOURCE, AUTO, JUPYTER, HTML, DBC, R_MARKDOWN or RAW"
LANGUAGES = "PYTHON, SQL, SCALA or R"


def _objects_table(rows: list[dict[str, Any]]) -> str:
    return render_table(rows, ["object_type", "language", "object_id", "path"])


# What a change's action is called once done; a dry run shows the plan's own words.
DONE = {"create": "created", "update": "updated", "delete": "deleted", "unchanged": "unchanged"}
ORDER = ("created", "create", "updated", "update", "deleted", "delete", "unchanged", "skipped")


def _changes_table(rows: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["action"]] = counts.get(row["action"], 0) + 1
    ranked = sorted(counts.items(), key=lambda item: ORDER.index(item[0]) if item[0] in ORDER else len(ORDER))
    dry = any(r.get("dry_run") for r in rows)
    summary = ", ".join(
        f"{n} to {action}" if dry and action in DONE and action != "unchanged" else f"{n} {action}"
        for action, n in ranked
    )
    summary = (summary or "nothing to do") + (" (dry run: nothing changed)" if dry else "")
    changed = [r for r in rows if r["action"] != "unchanged"]
    columns = ["action", "path"] + (["reason"] if any(r.get("reason") for r in changed) else [])
    return (render_table(changed, columns) + "\n" if changed else "") + summary


def _change_rows(changes: list[Change], *, dry_run: bool) -> list[dict[str, Any]]:
    """One row per change: the path, what was done (or, in a dry run, what would be) and why."""
    from brickbook.ops.workspace import skipped

    rows: list[dict[str, Any]] = []
    for change in changes:
        action = change.action.value if dry_run else DONE[change.action.value]
        row: dict[str, Any] = {"path": change.target, "action": "skipped" if skipped(change) else action}
        if change.reason:
            row["reason"] = change.reason
        if dry_run:
            row["dry_run"] = True
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
    items = walk(inv.context, path) if recursive else workspace.list_(inv.client, path)
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

    return workspace.delete(inv.context, workspace_path(path), recursive=recursive)


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
    from brickbook.ops.notebooks import import_kind

    dest = workspace_path(dest)
    fmt, lang = _choice(format, FORMATS, "--format"), _choice(language, LANGUAGES, "--language")
    kind, notebook_language = import_kind(
        src, ImportFormat(fmt) if fmt else None, Language(lang) if lang else None
    )
    content = _read_source(src)
    return workspace.import_file(
        inv.context, content, dest, format=kind, language=notebook_language, overwrite=overwrite
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
    from brickbook.ops.workspace_export import export_file
    from brickbook.tasks.fs import content_result, write_stdout

    path = workspace_path(path)
    fmt = ExportFormat(_choice(format, FORMATS, "--format") or "SOURCE")
    if dest != "-":
        return export_file(inv.context, path, local_path(dest), format=fmt, overwrite=overwrite)
    content = workspace.export(inv.client, path, format=fmt)
    if inv.output == "json":
        return content_result(path, content)
    write_stdout([content])
    return None


STATE_DIR_HELP = (
    "Where the record of what was last synced is kept. Default: $XDG_STATE_HOME/brickbook or "
    "~/.local/state/brickbook (the runbooks' state dir)."
)


def _state_dir(option: str | None) -> Path:
    """Resolve --state-dir and check, creating nothing, that it can hold the sync's record."""
    from brickbook.journal import check_state_dir, resolve_state_dir

    return check_state_dir(resolve_state_dir(option))


@command(
    help={
        "src": "Local directory to import.",
        "dest": "Absolute workspace directory to import into.",
        "overwrite": "Replace workspace objects whose content differs, or that changed in the workspace "
        "since the last import-dir (every import is then retry-safe).",
        "dry_run": "Compare only: print what would be created or updated, and change nothing.",
        "state_dir": STATE_DIR_HELP,
    },
    text=_changes_table,
)
def import_dir(
    inv: Invocation,
    src: str,
    dest: str,
    *,
    overwrite: bool = False,
    dry_run: bool = False,
    state_dir: str | None = None,
) -> list[dict[str, Any]]:
    """Import a local folder; unchanged files are skipped, changes reported.

    The folder is walked without leaving it: symbolic links that lead outside it, broken links and
    loops are skipped and listed (action "skipped", with the reason). Hidden names are left out.
    What was imported is remembered in the state dir, so an unchanged rerun costs one listing per
    folder; an object changed in the workspace since is reported and kept unless --overwrite (exit 5).
    With --dry-run the plan is printed (actions create / update / unchanged) and nothing is sent.
    """
    from brickbook.localfs import local_path
    from brickbook.ops.workspace import apply_import_dir, plan_import_dir

    plan = plan_import_dir(
        inv.context,
        local_path(src),
        workspace_path(dest),
        overwrite=overwrite,
        state_dir=_state_dir(state_dir),
    )
    if dry_run:
        return _change_rows(plan, dry_run=True)
    return _change_rows(apply_import_dir(inv.context, plan), dry_run=False)


@command(
    help={
        "src": "Absolute workspace directory to export.",
        "dest": "Local directory to write into.",
        "dry_run": "Compare only: print what would be written, and write nothing.",
        "state_dir": STATE_DIR_HELP,
    },
    text=_changes_table,
)
def export_dir(
    inv: Invocation, src: str, dest: str, *, dry_run: bool = False, state_dir: str | None = None
) -> list[dict[str, Any]]:
    """Export a workspace folder; notebooks get their language's extension, unchanged files are skipped.

    An object not modified since the last export-dir to DEST, whose local file is still as written, is
    not downloaded again (the record is kept in the state dir).
    """
    from brickbook.localfs import local_path
    from brickbook.ops.workspace_export import apply_export_dir, plan_export_dir

    plan = plan_export_dir(
        inv.context, workspace_path(src), local_path(dest), state_dir=_state_dir(state_dir)
    )
    if dry_run:
        return _change_rows(plan, dry_run=True)
    return _change_rows(apply_export_dir(inv.context, plan), dry_run=False)
