"""Validate and normalise remote paths before any request, with one clear usage error when wrong.

A path that reaches the API is absolute, has no ``..``, and holds no control character (C0, DEL or
C1): a newline in a workspace name breaks every listing that shows it, and nothing legitimate needs
one. A command-line argument that was not valid UTF-8 arrives as a str with surrogate escapes; it is
refused here, named in an escaped form, instead of failing later with ``UnicodeEncodeError``.
``printable`` is that escaped (and shortened) form, for any path a message must show.
"""

from __future__ import annotations

import posixpath
import re

from brickbook.errors import UsageError

__all__ = [
    "dbfs_path",
    "has_control_characters",
    "is_dbfs",
    "is_valid_utf8",
    "printable",
    "workspace_path",
]

DBFS_SCHEME = "dbfs:"
# C0 controls, DEL and C1 controls.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# Messages show at most this many characters of a path (a 5 KB name must not make a 5 KB line).
MAX_SHOWN = 120


def printable(text: str, *, limit: int = MAX_SHOWN, quoted: bool = True) -> str:
    """Return ``text`` quoted, with anything unprintable escaped and the middle cut when it is long.

    Undecodable bytes from the file system or argv (surrogate escapes) show as ``\\xff``, controls as
    ``\\n`` or ``\\x1b``, so a message stays one readable line whatever the name holds. ``quoted=False``
    leaves out the quotes (for log fields, which are quoted by their renderer).
    """
    raw = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    shown = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in raw)
    quote = "'" if quoted else ""
    if len(shown) > limit:
        return f"{quote}{shown[: limit - 20]}…{shown[-12:]}{quote} ({len(raw)} characters)"
    return f"{quote}{shown}{quote}"


def has_control_characters(text: str) -> bool:
    """Tell whether ``text`` holds a C0, DEL or C1 control character."""
    return _CONTROL.search(text) is not None


def is_valid_utf8(text: str) -> bool:
    """Tell whether ``text`` came from valid UTF-8 (argv and file names carry bad bytes as surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _normalise(path: str, what: str, example: str) -> str:
    if not is_valid_utf8(path):
        raise UsageError(f"{what} {printable(path)} is not valid UTF-8: name it in UTF-8")
    if has_control_characters(path):
        raise UsageError(
            f"{what} {printable(path)} contains a control character (newline, tab, escape, ...): remove it"
        )
    path = path.strip(" ")
    if not path.startswith("/"):
        raise UsageError(f"{what} must be absolute (start with /), got {printable(path)}: e.g. {example}")
    if any(part == ".." for part in path.split("/")):
        raise UsageError(f"{what} must not contain '..', got {printable(path)}")
    normal = posixpath.normpath(path)
    # normpath keeps a leading '//' (POSIX allows it to mean something else): the API does not.
    return "/" + normal.lstrip("/")


def workspace_path(path: str) -> str:
    """Return an absolute workspace path, or raise UsageError saying what is wrong."""
    return _normalise(path, "workspace path", "/Users/me@example.com/etl")


def is_dbfs(path: str) -> bool:
    """Tell whether a command-line path names the DBFS side (``dbfs:/...``)."""
    return path.strip(" ").startswith(DBFS_SCHEME)


def dbfs_path(path: str) -> str:
    """Return the absolute DBFS path for ``dbfs:/x`` or ``/x``, or raise UsageError."""
    raw = path.strip(" ")
    if raw.startswith(DBFS_SCHEME):
        raw = raw[len(DBFS_SCHEME) :]
    return _normalise(raw, "DBFS path", "dbfs:/tmp/data.csv")
