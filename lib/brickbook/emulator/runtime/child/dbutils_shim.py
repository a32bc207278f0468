"""``dbutils`` for code the emulator runs: widgets, notebook, fs, secrets, jobs.taskValues.

A stand-in for the Databricks Runtime's ``dbutils`` with the same call shapes, backed by the emulator's
REST API (``/api/2.0/dbfs/*``, ``/api/2.0/secrets/*``) through the run's context token. Secret values
the code reads are registered with ``Redactor`` so they print as ``[REDACTED]``, as on Databricks.
Exception class names mimic the runtime's (``com.databricks.dbutils_v1.InputWidgetNotDefined``).
``fs.mounts()`` lists the mounts every fresh workspace has (``MountInfo(mountPoint, source,
encryptionType)``); the emulator mounts nothing else.
"""

from __future__ import annotations

import base64
import contextlib
import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from brickbook.emulator.runtime.child.rest import ApiCallError, RestClient
else:  # the child imports its siblings as top-level modules (it must not import brickbook)
    from rest import ApiCallError, RestClient

__all__ = ["DBUtils", "InputWidgetNotDefined", "NotebookExit", "Redactor"]

MAX_EXIT_BYTES = 5 * 1024 * 1024
_BLOCK = 1024 * 1024  # DBFS add-block and read move at most 1 MB at a time
REDACTED = "[REDACTED]"


class InputWidgetNotDefined(Exception):
    """Raised by ``dbutils.widgets.get`` for a widget nobody defined or passed."""


InputWidgetNotDefined.__module__ = "com.databricks.dbutils_v1"


class NotebookExit(BaseException):
    """``dbutils.notebook.exit``: unwinds the notebook; not an error, so not an Exception."""

    def __init__(self, value: str, truncated: bool) -> None:
        super().__init__(value[:80])
        self.value = value
        self.truncated = truncated


class Redactor:
    """The secret values read so far; ``redact`` replaces each with ``[REDACTED]``."""

    def __init__(self) -> None:
        self.values: set[str] = set()

    def add(self, value: str) -> None:
        if value:
            self.values.add(value)

    def redact(self, text: str) -> str:
        for value in sorted(self.values, key=len, reverse=True):
            text = text.replace(value, REDACTED)
        return text


class FileInfo(NamedTuple):
    path: str
    name: str
    size: int
    modificationTime: int


class MountInfo(NamedTuple):
    mountPoint: str
    source: str
    encryptionType: str


# What ``dbutils.fs.mounts()`` lists in a fresh workspace (no user mounts), in the runtime's order.
FRESH_MOUNTS = (
    MountInfo("/databricks-datasets", "databricks-datasets", ""),
    MountInfo("/Volumes", "UnityCatalogVolumes", ""),
    MountInfo("/databricks/mlflow-tracking", "databricks/mlflow-tracking", ""),
    MountInfo("/databricks-results", "databricks-results", ""),
    MountInfo("/databricks/mlflow-registry", "databricks/mlflow-registry", ""),
    MountInfo("/Volume", "DbfsReserved", ""),
    MountInfo("/volumes", "DbfsReserved", ""),
    MountInfo("/", "DatabricksRoot", ""),
    MountInfo("/volume", "DbfsReserved", ""),
)


class SecretScope(NamedTuple):
    name: str


class SecretMetadata(NamedTuple):
    key: str


def _dbfs_path(path: str) -> str:
    if path.startswith("dbfs:"):
        path = path[len("dbfs:") :]
    if not path.startswith("/"):
        raise ValueError(
            f"Unsupported path {path!r}: the emulator's dbutils.fs takes dbfs:/ or absolute paths"
        )
    return posixpath.normpath(path)


class Widgets:
    def __init__(self, values: dict[str, str]) -> None:
        self._values = dict(values)

    def get(self, name: str) -> str:
        if name not in self._values:
            raise InputWidgetNotDefined(f"No input widget named {name} is defined")
        return self._values[name]

    def getArgument(self, name: str, default: str | None = None) -> str | None:
        return self._values.get(name, default)

    def getAll(self) -> dict[str, str]:
        return dict(self._values)

    def text(self, name: str, defaultValue: str = "", label: str | None = None) -> None:
        self._values.setdefault(name, str(defaultValue))

    def dropdown(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        if defaultValue not in choices:
            raise ValueError(f"Default value {defaultValue!r} is not one of the choices of widget {name}")
        self._values.setdefault(name, str(defaultValue))

    def combobox(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        self._values.setdefault(name, str(defaultValue))

    def multiselect(self, name: str, defaultValue: str, choices: list[str], label: str | None = None) -> None:
        self._values.setdefault(name, str(defaultValue))

    def remove(self, name: str) -> None:
        self._values.pop(name, None)

    def removeAll(self) -> None:
        self._values.clear()


class Notebook:
    def __init__(
        self, run: Callable[[str, int, dict[str, str]], str | None], entry_point: Any = None
    ) -> None:
        self._run = run
        self.entry_point = entry_point  # the notebook context's way in (notebook_context.EntryPoint)

    def exit(self, value: Any) -> None:
        """Stop the notebook; ``str(value)`` (first 5 MB) becomes the run's notebook_output.result."""
        text = str(value)
        data = text.encode()
        truncated = len(data) > MAX_EXIT_BYTES
        if truncated:
            text = data[:MAX_EXIT_BYTES].decode(errors="ignore")
        raise NotebookExit(text, truncated)

    def run(self, path: str, timeout_seconds: int = 0, arguments: dict[str, str] | None = None) -> str | None:
        """Run another notebook with ``arguments`` as its widgets; return its exit value (None if none)."""
        return self._run(path, timeout_seconds, {k: str(v) for k, v in (arguments or {}).items()})


class Fs:
    def __init__(self, client: RestClient) -> None:
        self._client = client

    def ls(self, path: str) -> list[FileInfo]:
        listing = self._client.get("/api/2.0/dbfs/list", path=_dbfs_path(path))
        infos = []
        for entry in listing.get("files", []):
            suffix = "/" if entry.get("is_dir") else ""
            infos.append(
                FileInfo(
                    path=f"dbfs:{entry['path']}{suffix}",
                    name=posixpath.basename(entry["path"]) + suffix,
                    size=int(entry.get("file_size", 0)),
                    modificationTime=int(entry.get("modification_time", 0)),
                )
            )
        return infos

    def _read(self, path: str, limit: int | None = None) -> bytes:
        chunks: list[bytes] = []
        offset = 0
        while limit is None or offset < limit:
            length = _BLOCK if limit is None else min(_BLOCK, limit - offset)
            answer = self._client.get("/api/2.0/dbfs/read", path=path, offset=offset, length=length)
            data = base64.b64decode(answer.get("data", ""))
            chunks.append(data)
            offset += len(data)
            if int(answer.get("bytes_read", len(data))) < length or not data:
                break
        return b"".join(chunks)

    def _write(self, path: str, data: bytes, overwrite: bool) -> None:
        handle = self._client.post("/api/2.0/dbfs/create", {"path": path, "overwrite": overwrite})["handle"]
        for start in range(0, len(data), _BLOCK):
            block = base64.b64encode(data[start : start + _BLOCK]).decode()
            self._client.post("/api/2.0/dbfs/add-block", {"handle": handle, "data": block})
        self._client.post("/api/2.0/dbfs/close", {"handle": handle})

    def head(self, file: str, maxBytes: int = 65536) -> str:
        return self._read(_dbfs_path(file), maxBytes).decode(errors="replace")

    def put(self, file: str, contents: str, overwrite: bool = False) -> bool:
        data = contents.encode()
        self._write(_dbfs_path(file), data, overwrite)
        print(f"Wrote {len(data)} bytes.")
        return True

    def mkdirs(self, dir: str) -> bool:
        self._client.post("/api/2.0/dbfs/mkdirs", {"path": _dbfs_path(dir)})
        return True

    def _status(self, path: str) -> dict[str, Any] | None:
        try:
            return self._client.get("/api/2.0/dbfs/get-status", path=path)
        except ApiCallError as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise

    def rm(self, dir: str, recurse: bool = False) -> bool:
        path = _dbfs_path(dir)
        if self._status(path) is None:
            return False
        self._client.post("/api/2.0/dbfs/delete", {"path": path, "recursive": recurse})
        return True

    def mv(self, from_: str, to: str, recurse: bool = False) -> bool:
        body = {"source_path": _dbfs_path(from_), "destination_path": _dbfs_path(to)}
        self._client.post("/api/2.0/dbfs/move", body)
        return True

    def cp(self, from_: str, to: str, recurse: bool = False) -> bool:
        source, target = _dbfs_path(from_), _dbfs_path(to)
        status = self._status(source)
        if status is None:
            raise FileNotFoundError(f"No such file or directory: dbfs:{source}")
        if not status.get("is_dir"):
            self._write(target, self._read(source), overwrite=True)
            return True
        if not recurse:
            raise IsADirectoryError(f"dbfs:{source} is a directory: pass recurse=True")
        self.mkdirs(target)
        for info in self.ls(source):
            name = info.name.rstrip("/")
            self.cp(f"{source}/{name}", f"{target}/{name}", recurse=True)
        return True

    def mounts(self) -> list[MountInfo]:
        """The mounts of a fresh workspace: the emulator has no cloud storage to mount."""
        return list(FRESH_MOUNTS)

    def refreshMounts(self) -> bool:
        return True


class Secrets:
    def __init__(self, client: RestClient, redactor: Redactor) -> None:
        self._client = client
        self._redactor = redactor

    def getBytes(self, scope: str, key: str) -> bytes:
        answer = self._client.get("/api/2.0/secrets/get", scope=scope, key=key)
        value = base64.b64decode(answer.get("value", ""))
        with contextlib.suppress(UnicodeDecodeError):
            self._redactor.add(value.decode())
        return value

    def get(self, scope: str, key: str) -> str:
        return self.getBytes(scope, key).decode()

    def listScopes(self) -> list[SecretScope]:
        answer = self._client.get("/api/2.0/secrets/scopes/list")
        return [SecretScope(name=item["name"]) for item in answer.get("scopes", [])]

    def list(self, scope: str) -> list[SecretMetadata]:
        answer = self._client.get("/api/2.0/secrets/list", scope=scope)
        return [SecretMetadata(key=item["key"]) for item in answer.get("secrets", [])]


class TaskValues:
    def __init__(self, upstream: dict[str, dict[str, Any]], collected: dict[str, Any]) -> None:
        self._upstream = upstream
        self._collected = collected

    def set(self, key: str, value: Any) -> None:
        json.dumps(value)  # a TypeError here is what the runtime raises for a non-JSON value
        self._collected[key] = value

    def get(self, taskKey: str, key: str, default: Any = None, debugValue: Any = None) -> Any:
        values = self._upstream.get(taskKey, {})
        if key in values:
            return values[key]
        if default is not None:
            return default
        raise ValueError(f"Could not find task value {key!r} of task {taskKey!r} in this run")


class Jobs:
    def __init__(self, task_values: TaskValues) -> None:
        self.taskValues = task_values


@dataclass
class DBUtils:
    """The ``dbutils`` global: one per notebook (``notebook.run`` children get their own widgets)."""

    widgets: Widgets
    notebook: Notebook
    fs: Fs
    secrets: Secrets
    jobs: Jobs

    def help(self) -> None:
        print("dbutils in the brickbook emulator: widgets, notebook, fs, secrets, jobs.taskValues")


__all__ += ["Fs", "Jobs", "Notebook", "Secrets", "TaskValues", "Widgets"]
