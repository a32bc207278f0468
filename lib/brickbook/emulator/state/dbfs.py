"""DBFS: a directory tree in the store, file bytes in files on disk (DBFS API 2.0, ``/api/2.0/dbfs/*``).

Storage layout:

- The tree lives in the store, one record per entry: kind ``dbfs:<parent directory>``, key the entry's
  name, value ``{"is_dir", "modification_time"}`` plus ``"file_size"`` and ``"blob"`` for a file. So a
  directory's children are one indexed ``items()`` call. The root ``/`` always exists and has no record.
- Bytes live under a blob root: ``<data_dir>/dbfs/`` with ``--data-dir``, else a temporary directory
  this object owns and removes when it is collected or the process exits. Below it,
  ``blobs/<uuid>`` holds committed files and ``incoming/<uuid>`` uploads in progress. ``reset()`` (the
  control API's reset, after the store was cleared) drops every blob, upload and open stream.
- Crash safety with ``--data-dir``: the bytes are written and fsynced, renamed into ``blobs/`` (and the
  directory fsynced) before the record that points to them is committed, so a record never points to
  missing bytes. The worst a ``kill -9`` leaves is an unreferenced blob.

Other areas (the Jobs runner reading a ``spark_python_task`` file) use this emulator's one instance,
``context.services.dbfs``, and call ``read_file(path) -> bytes``; a second instance on the same store
would not see the bytes when they live in a temporary directory.

Write streams (``create`` / ``add-block`` / ``close``): the handle is a random int64 (below 2**53 so
every JSON parser keeps it exact), held in memory; it expires after 10 idle minutes on the injected
clock. The file appears only at ``close``, atomically: a partially written stream is not visible to
list, get-status or read, and an existing file keeps its old bytes until then. Open streams do not
survive a restart; the client sees RESOURCE_DOES_NOT_EXIST, as for an expired handle.

A fresh workspace's root is not empty: ``/FileStore``, ``/databricks-datasets`` (a README and a tiny
CSV standing in for the real sample data), ``/tmp`` and ``/user/hive/warehouse`` are made on first
start and after a reset (a marker record remembers it, so what a user deletes stays deleted).

Quirks copied from the real service: ``delete`` of a missing path succeeds (the Databricks CLI checks
get-status first for that reason); a recursive delete removes at most ``dbfs_delete_batch`` files per
call and then answers 503 ``PARTIAL_DELETE`` "The requested operation has deleted N files...", so the
client must call again (the databricks-cli loops on that code).
"""

from __future__ import annotations

import os
import posixpath
import secrets
import shutil
import tempfile
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brickbook.emulator.errors import ApiError
from brickbook.emulator.errors import invalid as _bad
from brickbook.emulator.state.store import Store

__all__ = ["BLOCK_LIMIT", "DEFAULT_READ_LENGTH", "HANDLE_IDLE_SECONDS", "DbfsState", "Upload"]

BLOCK_LIMIT = 1024 * 1024  # put contents, each add-block, each read
DEFAULT_READ_LENGTH = 512 * 1024
HANDLE_IDLE_SECONDS = 600
_SEED_KIND = "dbfs_seeded"
# "/tmp" here is a DBFS path, not a local temporary directory.
_ROOT_DIRS = ("/FileStore", "/databricks-datasets/samples", "/tmp", "/user/hive/warehouse")  # noqa: S108
_ROOT_FILES = {
    "/databricks-datasets/README.md": (
        b"# Databricks datasets (brickbook emulator)\n\n"
        b"A few tiny sample files standing in for the datasets a real workspace mounts here.\n"
    ),
    "/databricks-datasets/samples/population-vs-price/data_geo.csv": (
        b"2014 rank,City,State,State Code,2014 Population estimate,2015 median sales price\n"
        b"1,Springfield,Illinois,IL,116250,120.5\n"
        b"2,Riverside,California,CA,319504,335.0\n"
        b"3,Franklin,Tennessee,TN,72990,410.2\n"
    ),
}


def normalise(path: object) -> str:
    """Return the absolute DBFS path for ``dbfs:/x`` or ``/x``; INVALID_PARAMETER_VALUE otherwise."""
    if not isinstance(path, str) or not path:
        raise _bad("Path must be a non-empty string.")
    raw = path[len("dbfs:") :] if path.startswith("dbfs:") else path
    if not raw.startswith("/") or "\x00" in raw:
        raise _bad(f"Path must be absolute: {path}")
    return "/" + posixpath.normpath(raw).lstrip("/")


def _split(path: str) -> tuple[str, str]:
    parent, name = posixpath.split(path)
    return "dbfs:" + parent, name


def _missing(path: str) -> ApiError:
    return ApiError("RESOURCE_DOES_NOT_EXIST", f"No file or directory exists on path {path}.")


def _exists(path: str) -> ApiError:
    return ApiError(
        "RESOURCE_ALREADY_EXISTS", f"A file or directory already exists at the input path {path}."
    )


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Upload:
    """Bytes being written to ``incoming/`` before they are committed to a path."""

    part: Path
    size: int = 0

    def write(self, data: bytes) -> None:
        with self.part.open("ab") as sink:
            sink.write(data)
        self.size += len(data)


@dataclass
class _Stream:
    path: str
    overwrite: bool
    upload: Upload
    touched: float


class DbfsState:
    """The DBFS tree and its bytes; every method raises ``ApiError`` as the real service answers."""

    def __init__(
        self, store: Store, clock: Callable[[], float], data_dir: Path | str | None, delete_batch: int
    ) -> None:
        self.store = store
        self.clock = clock
        self.delete_batch = delete_batch
        self.durable = data_dir is not None
        if data_dir is None:
            self.root = Path(tempfile.mkdtemp(prefix="brickbook-emulator-dbfs-"))
            weakref.finalize(self, shutil.rmtree, self.root, True)
        else:
            self.root = Path(data_dir) / "dbfs"
            self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._streams: dict[int, _Stream] = {}
        (self.root / "blobs").mkdir(parents=True, exist_ok=True)
        for stale in self.root.iterdir():  # uploads a previous process left, and older layouts
            if stale.name == "blobs":
                continue
            if (stale / "blobs").is_dir():  # an older version's <volume>/blobs: adopt its files
                for blob in (stale / "blobs").iterdir():
                    blob.replace(self.root / "blobs" / blob.name)
            shutil.rmtree(stale, ignore_errors=True)
        (self.root / "incoming").mkdir(parents=True, exist_ok=True)
        self._seed_root()

    def _seed_root(self) -> None:
        """Make what a fresh workspace's DBFS root holds, once per store (first start, reset)."""
        if self.store.get(_SEED_KIND, "/") is not None:
            return
        now = self._now_ms()
        with self.store.transaction():
            for directory in _ROOT_DIRS:
                self._mkdirs(directory, now)
        for path, data in _ROOT_FILES.items():
            self.write_file(path, data, overwrite=True)
        self.store.put(_SEED_KIND, "/", {"seeded_at": now})

    def reset(self) -> None:
        """Drop every file's bytes, upload and open stream (the store's records went with a reset)."""
        with self._lock:
            self._streams.clear()
            for sub in ("blobs", "incoming"):
                shutil.rmtree(self.root / sub, ignore_errors=True)
                (self.root / sub).mkdir(parents=True, exist_ok=True)
            self._seed_root()

    def shutdown(self) -> None:
        """Forget open streams (they never survive a restart); the bytes stay for the next process."""
        with self._lock:
            self._streams.clear()

    # -- storage ----------------------------------------------------------------------------------

    def _volume_dir(self) -> Path:
        """The directory that holds ``blobs/`` and ``incoming/``."""
        return self.root

    def _blob(self, blob: str) -> Path:
        return self._volume_dir() / "blobs" / blob

    def _entry(self, path: str) -> dict[str, Any] | None:
        if path == "/":
            return {"is_dir": True, "modification_time": 0}
        return self.store.get(*_split(path))

    def _children(self, path: str) -> list[tuple[str, dict[str, Any]]]:
        kind = "dbfs:" + path
        return sorted((posixpath.join(path, name), entry) for name, entry in self.store.items(kind))

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    @staticmethod
    def _info(path: str, entry: dict[str, Any]) -> dict[str, Any]:
        return {
            "path": path,
            "is_dir": bool(entry["is_dir"]),
            "file_size": int(entry.get("file_size", 0)),
            "modification_time": int(entry["modification_time"]),
        }

    # -- reads ------------------------------------------------------------------------------------

    def get_status(self, path: str) -> dict[str, Any]:
        """``get-status``: the FileInfo of a path."""
        path = normalise(path)
        entry = self._entry(path)
        if entry is None:
            raise _missing(path)
        return self._info(path, entry)

    def list(self, path: str) -> list[dict[str, Any]]:
        """``list``: a directory's children, or a file's own FileInfo."""
        info = self.get_status(path)
        if not info["is_dir"]:
            return [info]
        return [self._info(p, e) for p, e in self._children(info["path"])]

    def read(self, path: str, offset: int, length: int) -> bytes:
        """``read``: up to ``length`` bytes at ``offset``; past the end gives what is there (maybe none)."""
        if offset < 0 or length < 0:
            raise _bad("offset and length must not be negative.")
        if length > BLOCK_LIMIT:
            raise ApiError(
                "MAX_READ_SIZE_EXCEEDED",
                f"Cannot read more than {BLOCK_LIMIT} bytes per call; length was {length}.",
                status=400,
            )
        path = normalise(path)
        with self._lock:
            entry = self._entry(path)
            if entry is None:
                raise _missing(path)
            if entry["is_dir"]:
                raise _bad(f"Cannot read {path}: it is a directory.")
            with self._blob(entry["blob"]).open("rb") as source:
                source.seek(offset)
                return source.read(length)

    def read_file(self, path: str) -> bytes:
        """Return a whole file's bytes (for in-process callers, e.g. a spark_python_task runner)."""
        path = normalise(path)
        with self._lock:
            entry = self._entry(path)
            if entry is None:
                raise _missing(path)
            if entry["is_dir"]:
                raise _bad(f"Cannot read {path}: it is a directory.")
            return self._blob(entry["blob"]).read_bytes()

    # -- writes -----------------------------------------------------------------------------------

    def begin_upload(self) -> Upload:
        """Start bytes for a future file in ``incoming/``; pass it to ``commit`` or ``discard``."""
        part = self._volume_dir() / "incoming" / uuid.uuid4().hex
        part.touch()
        return Upload(part)

    def discard(self, upload: Upload) -> None:
        upload.part.unlink(missing_ok=True)

    def _check_target(self, path: str, overwrite: bool) -> None:
        if path == "/":
            raise _exists(path)
        entry = self._entry(path)
        if entry is not None and (entry["is_dir"] or not overwrite):
            raise _exists(path)
        probe = posixpath.dirname(path)
        while probe != "/":
            above = self._entry(probe)
            if above is not None and not above["is_dir"]:
                raise _exists(probe)
            probe = posixpath.dirname(probe)

    def _mkdirs(self, path: str, now: int) -> None:
        """mkdir -p inside the caller's transaction; a file on the way is RESOURCE_ALREADY_EXISTS."""
        missing: list[str] = []
        probe = path
        while probe != "/":
            entry = self._entry(probe)
            if entry is not None:
                if not entry["is_dir"]:
                    raise _exists(probe)
                break
            missing.append(probe)
            probe = posixpath.dirname(probe)
        for directory in reversed(missing):
            self.store.put(*_split(directory), {"is_dir": True, "modification_time": now})

    def commit(self, upload: Upload, path: str, *, overwrite: bool) -> None:
        """Make ``upload`` the file at ``path``: fsync, rename into ``blobs/``, then the record."""
        path = normalise(path)
        if self.durable:
            with upload.part.open("rb") as handle:
                os.fsync(handle.fileno())
        with self._lock:
            try:
                self._check_target(path, overwrite)
            except ApiError:
                self.discard(upload)
                raise
            blob = uuid.uuid4().hex
            final = self._blob(blob)
            upload.part.replace(final)
            if self.durable:
                _fsync_dir(final.parent)
            now = self._now_ms()
            try:
                with self.store.transaction():
                    self._mkdirs(posixpath.dirname(path), now)
                    old = self.store.get(*_split(path))
                    record = {
                        "is_dir": False,
                        "file_size": upload.size,
                        "modification_time": now,
                        "blob": blob,
                    }
                    self.store.put(*_split(path), record)
            except BaseException:
                final.unlink(missing_ok=True)
                raise
            if old is not None and old.get("blob"):
                self._blob(old["blob"]).unlink(missing_ok=True)

    def write_file(self, path: str, data: bytes, *, overwrite: bool) -> None:
        """Write a whole file in one go (``put`` with inline contents)."""
        upload = self.begin_upload()
        upload.write(data)
        self.commit(upload, path, overwrite=overwrite)

    def create(self, path: str, *, overwrite: bool) -> int:
        """``create``: open a write stream and return its handle."""
        path = normalise(path)
        with self._lock:
            self._expire_streams()
            self._check_target(path, overwrite)
            handle = secrets.randbelow(2**53 - 1) + 1
            self._streams[handle] = _Stream(path, overwrite, self.begin_upload(), self.clock())
        return handle

    def _expire_streams(self) -> None:
        cutoff = self.clock() - HANDLE_IDLE_SECONDS
        for handle, stream in list(self._streams.items()):
            if stream.touched < cutoff:
                del self._streams[handle]
                self.discard(stream.upload)

    def _stream(self, handle: int) -> _Stream:
        self._volume_dir()  # a reset drops every stream
        self._expire_streams()
        stream = self._streams.get(handle)
        if stream is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"Handle {handle} does not exist or has expired.")
        stream.touched = self.clock()
        return stream

    def add_block(self, handle: int, data: bytes) -> None:
        """``add-block``: append at most 1 MB to an open stream."""
        if len(data) > BLOCK_LIMIT:
            raise ApiError(
                "MAX_BLOCK_SIZE_EXCEEDED",
                f"A block may hold at most {BLOCK_LIMIT} bytes; this one has {len(data)}.",
                status=400,
            )
        with self._lock:
            self._stream(handle).upload.write(data)

    def close(self, handle: int) -> None:
        """``close``: the file appears now, atomically."""
        with self._lock:
            stream = self._stream(handle)
            del self._streams[handle]
            self.commit(stream.upload, stream.path, overwrite=stream.overwrite)

    def mkdirs(self, path: str) -> None:
        """``mkdirs``: mkdir -p; a file anywhere on the path is RESOURCE_ALREADY_EXISTS."""
        path = normalise(path)
        with self._lock, self.store.transaction():
            self._mkdirs(path, self._now_ms())

    def _walk(self, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every entry below ``path``, children before their directory (post-order)."""
        for child, entry in self._children(path):
            if entry["is_dir"]:
                yield from self._walk(child)
            yield child, entry

    def delete(self, path: str, *, recursive: bool) -> None:
        """``delete``; a missing path succeeds; a large recursive delete is partial (503, call again)."""
        path = normalise(path)
        if path == "/":
            raise _bad("Cannot delete the root directory.")
        with self._lock:
            entry = self._entry(path)
            if entry is None:
                return
            if entry["is_dir"] and self._children(path) and not recursive:
                raise ApiError("IO_ERROR", f"Directory {path} is not empty; use recursive=true.", status=400)
            doomed = [*self._walk(path), (path, entry)] if entry["is_dir"] else [(path, entry)]
            files = 0
            blobs: list[str] = []
            partial = False
            with self.store.transaction():
                for victim, item in doomed:
                    if not item["is_dir"]:
                        if files == self.delete_batch:
                            partial = True
                            continue
                        files += 1
                        blobs.append(item["blob"])
                    elif self._children(victim):
                        continue  # it still holds files beyond this call's batch
                    self.store.delete(*_split(victim))
            for blob in blobs:
                self._blob(blob).unlink(missing_ok=True)
        if partial:
            raise ApiError(
                "PARTIAL_DELETE",
                f"The requested operation has deleted {files} files. There are more files remaining. "
                "You must make another request to delete more.",
                status=503,
            )

    def move(self, source: str, destination: str) -> None:
        """``move``: rename a file or a whole directory; the bytes stay where they are."""
        source, destination = normalise(source), normalise(destination)
        with self._lock:
            entry = self._entry(source)
            if entry is None or source == "/":
                raise _missing(source)
            if self._entry(destination) is not None:
                raise _exists(destination)
            if destination.startswith(source.rstrip("/") + "/"):
                raise _bad(f"Cannot move {source} into itself ({destination}).")
            moved = [*self._walk(source), (source, entry)] if entry["is_dir"] else [(source, entry)]
            with self.store.transaction():
                self._mkdirs(posixpath.dirname(destination), self._now_ms())
                for old, item in reversed(moved):  # parents first
                    self.store.put(*_split(destination + old[len(source) :]), item)
                for old, _ in moved:
                    self.store.delete(*_split(old))
