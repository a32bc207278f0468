"""File tasks: ls, cp, rm, mkdirs, cat on DBFS and on Unity Catalog volumes.

``dbfs:/`` marks the DBFS side, as in the Databricks CLI; ``/Volumes/<catalog>/<schema>/<volume>/...``
(or ``dbfs:/Volumes/...``) a volume, served by the Files API (``brickbook.paths.is_volume`` decides).
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterable
from typing import Any

from brickbook.command import Invocation, command
from brickbook.output import render_table
from brickbook.paths import dbfs_path, is_volume, volume_path

__all__ = ["cat", "content_result", "cp", "ls", "mkdirs", "rm", "write_stdout"]


def content_result(path: str, content: bytes) -> dict[str, str]:
    """Return content as ``-o json`` shows it: text when it is UTF-8, else base64, with its path."""
    try:
        return {"path": path, "encoding": "utf-8", "content": content.decode("utf-8")}
    except UnicodeDecodeError:
        return {"path": path, "encoding": "base64", "content": base64.b64encode(content).decode("ascii")}


def write_stdout(chunks: Iterable[bytes]) -> None:
    """Write bytes to stdout as they are (UTF-8 text, replacing errors, when stdout takes only text)."""
    import codecs

    if sys.stdout is None:  # fd 1 was closed before we started: the reader is gone, as for a pipe
        raise BrokenPipeError("stdout is closed")
    binary = getattr(sys.stdout, "buffer", None)
    if binary is not None:
        sys.stdout.flush()
        for chunk in chunks:
            binary.write(chunk)
        binary.flush()
        return
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    for chunk in chunks:
        sys.stdout.write(decoder.decode(chunk))
    sys.stdout.write(decoder.decode(b"", final=True))
    sys.stdout.flush()


def _files_table(rows: list[dict[str, Any]]) -> str:
    return render_table(rows, ["is_dir", "file_size", "modification_time", "path"])


def _copies_text(result: dict[str, Any]) -> str:
    files, skipped = result["files"], result["skipped"]
    dry = bool(result.get("dry_run"))
    columns = ["action" if dry else "bytes", "source", "destination"]
    lines = [render_table(files, columns)] if files else []
    if skipped:
        rows = [{"skipped": s["path"], "reason": s["reason"]} for s in skipped]
        lines.append(render_table(rows, ["skipped", "reason"]))
    summary = f"{len(files)} file(s) to copy" if dry else f"{len(files)} file(s), {result['bytes']} bytes"
    summary += f", {len(skipped)} skipped" if skipped else ""
    lines.append(summary + (" (dry run: nothing copied)" if dry else ""))
    return "\n".join(lines)


@command(help={"path": "DBFS path (dbfs:/... or /...) or volume path (/Volumes/...)."}, text=_files_table)
def ls(inv: Invocation, path: str) -> list[Any]:
    """List a DBFS or volume directory (or describe a file)."""
    if is_volume(path):
        from brickbook.ops import files

        return files.list_(inv.context, volume_path(path))
    from brickbook.api import dbfs

    return [f.raw for f in dbfs.list_(inv.client, dbfs_path(path))]


@command(
    help={
        "src": "Source: a local path, dbfs:/... or /Volumes/...",
        "dest": "Destination: a local path, dbfs:/... or /Volumes/...",
        "recursive": "Copy a directory and everything below it.",
        "overwrite": "Replace existing destination files (local or remote).",
        "dry_run": "Check and list what would be copied (action create or update), and copy nothing.",
    },
    text=_copies_text,
)
def cp(
    inv: Invocation,
    src: str,
    dest: str,
    *,
    recursive: bool = False,
    overwrite: bool = False,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Copy files to, from or within DBFS or a volume, streaming in constant memory.

    An existing destination file, local or remote, is kept unless --overwrite is given (exit 5). A
    local source folder is copied without leaving it: symbolic links that lead outside it, broken
    links and loops are skipped and listed. With --dry-run every check runs and nothing is copied.
    """
    from brickbook.ops import dbfs, files

    op = files.copy if is_volume(src) or is_volume(dest) else dbfs.copy
    return op(inv.context, src, dest, recursive=recursive, overwrite=overwrite, dry_run=dry_run)


@command(help={"path": "DBFS or volume path to delete.", "recursive": "Delete a directory and its contents."})
def rm(inv: Invocation, path: str, *, recursive: bool = False) -> dict[str, Any]:
    """Delete a DBFS or volume file or directory (large DBFS deletes are continued until done)."""
    if is_volume(path):
        from brickbook.ops import files

        remote = volume_path(path)
        files.delete(inv.context, remote, recursive=recursive)
        return {"deleted": remote, "recursive": recursive}
    from brickbook.ops import dbfs

    remote = dbfs_path(path)
    dbfs.delete(inv.context, remote, recursive=recursive)
    return {"deleted": f"dbfs:{remote}", "recursive": recursive}


@command(help={"path": "DBFS or volume directory to create, with its parents."})
def mkdirs(inv: Invocation, path: str) -> dict[str, Any]:
    """Create a DBFS or volume directory and its parents (succeeds if it exists)."""
    if is_volume(path):
        from brickbook.ops import files

        remote = volume_path(path)
        files.mkdirs(inv.context, remote)
        return {"created": remote}
    from brickbook.api import dbfs

    remote = dbfs_path(path)
    dbfs.mkdirs(inv.client, remote)
    return {"created": f"dbfs:{remote}"}


@command(help={"path": "DBFS or volume file to print."})
def cat(inv: Invocation, path: str) -> dict[str, str] | None:
    """Print a DBFS or volume file to stdout, streaming (bytes as they are).

    With -o json it prints one object, {"path", "encoding": "utf-8" or "base64", "content"}, which
    holds the whole file in memory.
    """
    from brickbook.ops import dbfs, files

    if is_volume(path):
        label = volume_path(path)
        chunks = files.cat(inv.context, label)
    else:
        label = f"dbfs:{dbfs_path(path)}"
        chunks = dbfs.cat(inv.context, label[len("dbfs:") :])
    if inv.output == "json":
        return content_result(label, b"".join(chunks))
    write_stdout(chunks)
    return None
