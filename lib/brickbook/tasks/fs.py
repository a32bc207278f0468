"""DBFS tasks: ls, cp, rm, mkdirs, cat (``dbfs:/`` marks the remote side, as in the Databricks CLI)."""

from __future__ import annotations

import sys
from typing import Any

from brickbook.command import Invocation, command
from brickbook.output import render_table
from brickbook.paths import dbfs_path

__all__ = ["cat", "cp", "ls", "mkdirs", "rm"]


def _files_table(rows: list[dict[str, Any]]) -> str:
    return render_table(rows, ["is_dir", "file_size", "modification_time", "path"])


def _copies_table(rows: list[dict[str, Any]]) -> str:
    total = sum(int(r["bytes"]) for r in rows)
    return render_table(rows, ["bytes", "source", "destination"]) + f"\n{len(rows)} file(s), {total} bytes"


@command(help={"path": "DBFS path (dbfs:/... or /...)."}, text=_files_table)
def ls(inv: Invocation, path: str) -> list[Any]:
    """List a DBFS directory (or describe a file)."""
    from brickbook.api import dbfs

    return [f.raw for f in dbfs.list_(inv.client, dbfs_path(path))]


@command(
    help={
        "src": "Source: a local path or dbfs:/...",
        "dest": "Destination: a local path or dbfs:/...",
        "recursive": "Copy a directory and everything below it.",
        "overwrite": "Replace existing destination files.",
    },
    text=_copies_table,
)
def cp(
    inv: Invocation, src: str, dest: str, *, recursive: bool = False, overwrite: bool = False
) -> list[Any]:
    """Copy files to, from or within DBFS, streaming in constant memory."""
    from brickbook.ops import dbfs

    return dbfs.copy(inv.client, src, dest, recursive=recursive, overwrite=overwrite)


@command(help={"path": "DBFS path to delete.", "recursive": "Delete a directory and its contents."})
def rm(inv: Invocation, path: str, *, recursive: bool = False) -> None:
    """Delete a DBFS file or directory (large deletes are continued until done)."""
    from brickbook.ops import dbfs

    dbfs.delete(inv.client, dbfs_path(path), recursive=recursive)


@command(help={"path": "DBFS directory to create, with its parents."})
def mkdirs(inv: Invocation, path: str) -> None:
    """Create a DBFS directory and its parents."""
    from brickbook.api import dbfs

    dbfs.mkdirs(inv.client, dbfs_path(path))


@command(help={"path": "DBFS file to print."})
def cat(inv: Invocation, path: str) -> None:
    """Print a DBFS file to stdout, streaming (bytes as they are; UTF-8 when stdout takes only text)."""
    import codecs

    from brickbook.ops import dbfs

    chunks = dbfs.cat(inv.client, dbfs_path(path))
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
