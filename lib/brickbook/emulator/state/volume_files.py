"""Files in Unity Catalog volumes: the rules of the Files API (``/api/2.0/fs/files``, ``fs/directories``).

A volume path is ``/Volumes/<catalog>/<schema>/<volume>/<path>``. Its files are plain files on disk under
the directory the volume catalog gives (``Volumes.volume_root``); this module only maps API paths onto
that directory and enforces the API's rules:

- Paths are confined to the volume's directory: a ``.`` or ``..`` segment, an empty segment, a NUL or
  any control character is INVALID_PARAMETER_VALUE before the disk is touched, and every resolved path
  is checked to lie inside the volume's real directory, so a symbolic link placed on the disk cannot
  lead out of it (the API itself never creates links).
- Uploads land atomically: the body streams into a hidden temporary file beside the target
  (``.brickbook-upload-*``, never listed), which is renamed over the target only when the body is
  complete; a broken upload removes it, so no reader ever sees half a file. Missing parent directories
  are created, as by the real service. ``overwrite`` false and an existing file: 409 ALREADY_EXISTS
  ("The file being created already exists.", the SDK's own wording for it).
- A file operation on a directory, or a directory operation on a file, is 404 NOT_FOUND (the SDK's
  ``exists()`` and ``is_dir`` probes rely on it); a file or directory where the other is needed on the
  way is 409 ALREADY_EXISTS; deleting a directory that is not empty is 400 DIRECTORY_NOT_EMPTY.
- Listing pages hold at most 1000 entries (the default), in name order; the page token is opaque.

The volume catalog is a narrow protocol (``Volumes``), which Unity Catalog implements: which volumes
exist, where their files live, and whether a principal may read or write them. A volume's files go
with it: deleting the volume (or a control-API reset) is Unity Catalog's business.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.paging import decode_after, encode_after

__all__ = [
    "MAX_PAGE_SIZE",
    "MAX_UPLOAD_BYTES",
    "UPLOAD_PREFIX",
    "FileMeta",
    "Place",
    "Upload",
    "VolumeFiles",
    "Volumes",
]

MAX_PAGE_SIZE = 1000
MAX_UPLOAD_BYTES = 5 * 1024**3  # one PUT carries at most 5 GiB
UPLOAD_PREFIX = ".brickbook-upload-"
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
MAX_PATH_CHARS = 4096


class Volumes(Protocol):
    """The volume catalog the Files API needs (Unity Catalog supplies it)."""

    def volume_root(self, catalog: str, schema: str, volume: str) -> Path:
        """The directory holding the volume's files; NOT_FOUND (or the catalog's code) when none."""
        ...

    def require_volume(
        self, principal: Principal, catalog: str, schema: str, volume: str, *, write: bool
    ) -> None:
        """Raise PERMISSION_DENIED unless ``principal`` may read (or, with ``write``, write) the volume."""
        ...


def _not_found(path: str, what: str = "file or directory") -> ApiError:
    return ApiError("NOT_FOUND", f"The {what} {path} does not exist.")


def _exists(message: str) -> ApiError:
    return ApiError("ALREADY_EXISTS", message)


@dataclass(frozen=True)
class Place:
    """An API path resolved to the disk: the volume's directory and the entry below it."""

    api_path: str
    volume: tuple[str, str, str]
    root: Path
    disk: Path

    @property
    def is_root(self) -> bool:
        return self.disk == self.root


@dataclass(frozen=True)
class FileMeta:
    """What HEAD and GET tell about a file."""

    size: int
    last_modified: float  # epoch seconds


@dataclass
class Upload:
    """A body being written to a hidden file beside its target."""

    place: Place
    overwrite: bool
    part: Path
    handle: BinaryIO
    size: int = 0

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > MAX_UPLOAD_BYTES:
            raise invalid(f"A single upload may carry at most {MAX_UPLOAD_BYTES} bytes.")
        self.handle.write(data)


def _split(path: object) -> tuple[str, list[str]]:
    """Check an API path and return it with its segments below ``/Volumes``."""
    if not isinstance(path, str) or not path:
        raise invalid("A path is required.")
    if len(path) > MAX_PATH_CHARS:
        raise invalid(f"The path is longer than {MAX_PATH_CHARS} characters.")
    if _CONTROL.search(path):
        raise invalid("The path contains a control character.")
    trimmed = path.rstrip("/") if path != "/" else path
    parts = trimmed.split("/")
    if parts[:2] != ["", "Volumes"] or len(parts) < 5:
        raise invalid(f"Path {path} is not in a volume: use /Volumes/<catalog>/<schema>/<volume>/...")
    below = parts[2:]
    if any(part in ("", ".", "..") for part in below):
        raise invalid(f"Path {path} must be absolute and normalised (no empty, '.' or '..' segments).")
    if any(part.startswith(UPLOAD_PREFIX) for part in below):
        raise invalid(f"Path {path} uses a reserved name.")
    return trimmed, below


class VolumeFiles:
    """The Files API over a volume catalog; every method raises ``ApiError`` as the real service answers."""

    def __init__(self, volumes: Volumes, clock: Callable[[], float]) -> None:
        self.volumes = volumes
        self.clock = clock
        self._lock = threading.RLock()

    # -- paths ------------------------------------------------------------------------------------

    def place(self, principal: Principal, path: object, *, write: bool) -> Place:
        """Resolve ``path`` inside its volume after checking the caller's privilege on the volume."""
        api_path, below = _split(path)
        catalog, schema, volume, *rest = below
        self.volumes.require_volume(principal, catalog, schema, volume, write=write)
        root = self.volumes.volume_root(catalog, schema, volume)
        root.mkdir(parents=True, exist_ok=True)
        root = root.resolve()
        disk = root.joinpath(*rest)
        # A link on the disk must not lead out of the volume: check the real path of what exists.
        probe = disk
        while not (probe.exists() or probe.is_symlink()) and probe != root:  # a dangling link counts
            probe = probe.parent
        real = probe.resolve()
        if real != root and root not in real.parents:
            raise invalid(f"Path {api_path} leads outside its volume.")
        return Place(api_path, (catalog, schema, volume), root, disk)

    # -- files ------------------------------------------------------------------------------------

    def begin_upload(self, place: Place, *, overwrite: bool) -> Upload:
        """Check the target and open a hidden file beside it for the body."""
        if place.is_root:
            raise _exists(f"{place.api_path} is a volume, not a file.")
        with self._lock:
            self._check_file_target(place, overwrite=overwrite)
            self._make_parents(place, place.disk.parent)
            part = place.disk.parent / f"{UPLOAD_PREFIX}{secrets.token_hex(8)}.part"
            handle = part.open("xb")
        return Upload(place, overwrite, part, handle)

    def commit(self, upload: Upload) -> None:
        """Move a complete body into place (ALREADY_EXISTS if a file appeared meanwhile, no overwrite)."""
        upload.handle.flush()
        os.fsync(upload.handle.fileno())  # with --data-dir an acknowledged upload survives a crash
        upload.handle.close()
        now = self.clock()
        os.utime(upload.part, (now, now))
        with self._lock:
            try:
                self._check_file_target(upload.place, overwrite=upload.overwrite)
                upload.part.replace(upload.place.disk)
            finally:
                upload.part.unlink(missing_ok=True)

    @staticmethod
    def discard(upload: Upload) -> None:
        """Drop an unfinished body."""
        upload.handle.close()
        upload.part.unlink(missing_ok=True)

    def _check_file_target(self, place: Place, *, overwrite: bool) -> None:
        if place.disk.is_dir():
            raise _exists(f"A directory exists at {place.api_path}.")
        if place.disk.exists() and not overwrite:
            raise _exists("The file being created already exists.")

    def _make_parents(self, place: Place, directory: Path) -> None:
        """``mkdir -p`` below the volume's directory; a file on the way is ALREADY_EXISTS."""
        missing: list[Path] = []
        probe = directory
        while probe != place.root and not probe.is_dir():
            if probe.exists():
                shown = "/Volumes/" + "/".join(place.volume) + "/" + probe.relative_to(place.root).as_posix()
                raise _exists(f"A file exists at {shown}, where a directory is needed.")
            missing.append(probe)
            probe = probe.parent
        for created in reversed(missing):
            created.mkdir(exist_ok=True)

    def file_meta(self, place: Place) -> FileMeta:
        """Size and modification time of a file (NOT_FOUND for a directory or nothing)."""
        if not place.disk.is_file():
            raise _not_found(place.api_path, "file")
        info = place.disk.stat()
        return FileMeta(size=info.st_size, last_modified=info.st_mtime)

    def open_file(self, place: Place) -> tuple[BinaryIO, FileMeta]:
        """Open a file for reading; the open handle keeps its bytes even if the file is replaced."""
        with self._lock:
            meta = self.file_meta(place)
            return place.disk.open("rb"), meta

    def delete_file(self, place: Place) -> None:
        with self._lock:
            if not place.disk.is_file():
                raise _not_found(place.api_path, "file")
            place.disk.unlink()

    # -- directories ------------------------------------------------------------------------------

    def create_directory(self, place: Place) -> None:
        """``mkdir -p``; succeeds when the directory exists."""
        with self._lock:
            if place.disk.exists() and not place.disk.is_dir():
                raise _exists(f"A file exists at {place.api_path}.")
            self._make_parents(place, place.disk)

    def directory_exists(self, place: Place) -> None:
        if not place.disk.is_dir():
            raise _not_found(place.api_path, "directory")

    def delete_directory(self, place: Place) -> None:
        with self._lock:
            self.directory_exists(place)
            if place.is_root:
                raise invalid(f"{place.api_path} is a volume: delete it through Unity Catalog.")
            if any(True for _ in place.disk.iterdir()):
                raise ApiError("DIRECTORY_NOT_EMPTY", f"The directory {place.api_path} is not empty.")
            place.disk.rmdir()

    def list_directory(
        self, place: Place, *, page_size: int, page_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of at most ``page_size`` entries in name order, and the token of the next page."""
        size = page_size
        after = decode_after(page_token) or None
        with self._lock:
            self.directory_exists(place)
            names = sorted(
                name
                for name in (entry.name for entry in place.disk.iterdir())
                if not name.startswith(UPLOAD_PREFIX) and (after is None or name > after)
            )
            page = names[:size]
            contents = [self._entry(place, name) for name in page]
        more = len(names) > size
        return [c for c in contents if c is not None], (encode_after(page[-1]) if more else None)

    def _entry(self, place: Place, name: str) -> dict[str, Any] | None:
        disk = place.disk / name
        try:
            info = disk.lstat()
        except FileNotFoundError:
            return None  # removed since the listing
        is_dir = disk.is_dir() and not disk.is_symlink()
        entry: dict[str, Any] = {
            "path": f"{place.api_path}/{name}",
            "name": name,
            "is_directory": is_dir,
            "last_modified": int(info.st_mtime * 1000),
        }
        if not is_dir:
            entry["file_size"] = info.st_size
        return entry
