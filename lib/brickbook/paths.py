"""Validate and normalise remote paths before any request, with one clear usage error when wrong.

A path that reaches the API is absolute, has no ``..``, and holds no control character (C0, DEL or
C1): a newline in a workspace name breaks every listing that shows it, and nothing legitimate needs
one. A command-line argument that was not valid UTF-8 arrives as a str with surrogate escapes; it is
refused here, named in an escaped form, instead of failing later with ``UnicodeEncodeError``.
``printable`` is that escaped (and shortened) form, for any path a message must show.

Which service a remote path goes to is decided here, once: ``/Volumes/<catalog>/<schema>/<volume>/...``
(also written ``dbfs:/Volumes/...``, as the SDK and ``dbutils.fs`` accept it) names a Unity Catalog
volume, served by the Files API (``is_volume``, ``volume_path``); any other ``dbfs:/`` path is DBFS. A
local folder under ``/Volumes`` (macOS mounts disks there) is named relatively (``./``) or through a link.
"""

from __future__ import annotations

import posixpath
import re

from brickbook.errors import UsageError

__all__ = [
    "dbfs_path",
    "has_control_characters",
    "is_dbfs",
    "is_remote",
    "is_valid_utf8",
    "is_volume",
    "printable",
    "volume_path",
    "workspace_path",
]

DBFS_SCHEME = "dbfs:"
VOLUMES = "/Volumes"
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


def _bare(path: str) -> str:
    raw = path.strip(" ")
    return raw[len(DBFS_SCHEME) :] if raw.startswith(DBFS_SCHEME) else raw


def is_volume(path: str) -> bool:
    """Tell whether a command-line path names a Unity Catalog volume (``[dbfs:]/Volumes/...``)."""
    bare = _bare(path)
    return bare == VOLUMES or bare.startswith(VOLUMES + "/")


def is_remote(path: str) -> bool:
    """Tell whether a command-line path of a copy names the workspace side (DBFS or a volume)."""
    return is_dbfs(path) or is_volume(path)


def volume_path(path: str) -> str:
    """Return the normalised ``/Volumes/<catalog>/<schema>/<volume>[/...]`` path, or raise UsageError."""
    example = "/Volumes/main/default/landing/data.csv"
    normal = _normalise(_bare(path), "volume path", example)
    if (
        not normal.startswith(VOLUMES + "/") or len(normal.split("/")) < 5
    ):  # "", Volumes, catalog, schema, volume
        raise UsageError(
            f"volume path {printable(normal)} must name a volume: /Volumes/<catalog>/<schema>/<volume>/..., "
            f"e.g. {example}"
        )
    return normal
