"""Validate and normalise remote paths before any request, with one clear usage error when wrong."""

from __future__ import annotations

import posixpath

from brickbook.errors import UsageError

__all__ = ["dbfs_path", "is_dbfs", "workspace_path"]

DBFS_SCHEME = "dbfs:"


def _normalise(path: str, what: str, example: str) -> str:
    if not path.startswith("/"):
        raise UsageError(f"{what} must be absolute (start with /), got {path!r}: e.g. {example}")
    if any(part == ".." for part in path.split("/")):
        raise UsageError(f"{what} must not contain '..', got {path!r}")
    if "\x00" in path:
        raise UsageError(f"{what} must not contain NUL characters")
    normal = posixpath.normpath(path)
    # normpath keeps a leading '//' (POSIX allows it to mean something else): the API does not.
    return "/" + normal.lstrip("/")


def workspace_path(path: str) -> str:
    """Return an absolute workspace path, or raise UsageError saying what is wrong."""
    return _normalise(path.strip(), "workspace path", "/Users/me@example.com/etl")


def is_dbfs(path: str) -> bool:
    """Tell whether a command-line path names the DBFS side (``dbfs:/...``)."""
    return path.startswith(DBFS_SCHEME)


def dbfs_path(path: str) -> str:
    """Return the absolute DBFS path for ``dbfs:/x`` or ``/x``, or raise UsageError."""
    raw = path.strip()
    if raw.startswith(DBFS_SCHEME):
        raw = raw[len(DBFS_SCHEME) :]
    return _normalise(raw, "DBFS path", "dbfs:/tmp/data.csv")
