"""The workspace tree (directories, notebooks, files, Git folders) and the rules of ``/api/2.0/workspace``.

Store schema (every write goes through the store, so ``--data-dir`` keeps it across restarts):

- kind ``workspace_object``, key = canonical path (``/``, ``/Users/a@example.com/etl``), value
  ``{"object_type": "DIRECTORY"|"NOTEBOOK"|"FILE"|"REPO", "object_id": int, "language": str (notebooks),
  "created_at": ms, "modified_at": ms, "size": int (bytes of the stored content; notebooks and files)}``.
- kind ``workspace_content``, key = ``str(object_id)``, value ``{"data": base64}``: a FILE's bytes, or a
  NOTEBOOK's SOURCE body *without* the ``Databricks notebook source`` header line (exports add it back).
- kind ``repo`` (``REPO_KIND``), key = ``str(object_id)`` of a REPO object: the Git folder's metadata,
  written by ``state/repos.py``; deleting the REPO object here deletes it too.

Other areas build their own view with ``WorkspaceState(context.store, context.clock,
home_names(context.settings))`` (all state is in the store), then read notebooks with
``read_notebook(path) -> (language, SOURCE bytes with the header)`` and files with
``read_file(path) -> bytes``. Paths: absolute, ``/Workspace/...`` is an alias of ``/...``, a
trailing ``/`` is ignored. ``/``, ``/Users``, ``/Shared``, ``/Repos`` and each principal's
``/Users/<name>`` and ``/Repos/<name>`` exist from the start (also after a control-API reset).

Choices where the facts leave room: importing into a missing parent is 404 RESOURCE_DOES_NOT_EXIST (the
real service does not create parents); writes are atomic (a failed mkdirs creates nothing); HTML, DBC and
R_MARKDOWN are answered 501 NOT_IMPLEMENTED; a directory exports (SOURCE/AUTO) as a zip of its
notebooks' sources and files, and a SOURCE import without language of such a zip recreates it.
"""

from __future__ import annotations

import base64
import posixpath
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from brickbook.emulator.errors import ApiError
from brickbook.emulator.settings import EmulatorSettings
from brickbook.emulator.state import notebooks
from brickbook.emulator.state.store import Store

__all__ = [
    "CONTENT_KIND",
    "MAX_CONTENT_BYTES",
    "OBJECT_KIND",
    "REPO_KIND",
    "Exported",
    "WorkspaceState",
    "canonical_path",
    "encoded_size",
    "home_names",
]

OBJECT_KIND = "workspace_object"
CONTENT_KIND = "workspace_content"
REPO_KIND = "repo"
MAX_CONTENT_BYTES = 10 * 1024 * 1024  # on the base64 content (facts §1)
# Real object ids are large int64s; a base keeps ours in that shape while still counting 1, 2, 3...
OBJECT_ID_BASE = 1_000_000_000_000_000
FORMATS = ("SOURCE", "HTML", "JUPYTER", "DBC", "R_MARKDOWN", "AUTO", "RAW")
_UNSUPPORTED_FORMATS = ("HTML", "DBC", "R_MARKDOWN")
_FOLDERS = ("DIRECTORY", "REPO")
_ZIP_MAGIC = b"PK\x03\x04"


def canonical_path(path: object) -> str:
    """Validate a request path; return it without a ``/Workspace`` prefix or a trailing ``/``."""
    if not isinstance(path, str) or not path:
        raise ApiError("INVALID_PARAMETER_VALUE", "Missing required field: path")
    if not path.startswith("/"):
        raise ApiError("INVALID_PARAMETER_VALUE", f"Path ({path}) is not absolute.")
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") for part in parts) or "\x00" in path:
        raise ApiError("INVALID_PARAMETER_VALUE", f"Path ({path}) is not a valid workspace path.")
    if parts[:1] == ["Workspace"]:
        parts = parts[1:]
    return "/" + "/".join(parts)


def home_names(settings: EmulatorSettings) -> tuple[str, ...]:
    """Every principal's name: each gets ``/Users/<name>`` and ``/Repos/<name>``."""
    return (settings.admin_user, *settings.users, *settings.oauth_clients)


def encoded_size(size: int) -> int:
    """The length of ``size`` bytes in base64, the measure of the 10 MB limit."""
    return 4 * ((size + 2) // 3)


def _not_found(path: str) -> ApiError:
    return ApiError("RESOURCE_DOES_NOT_EXIST", f"Path ({path}) doesn't exist.")


def _exists(path: str) -> ApiError:
    return ApiError("RESOURCE_ALREADY_EXISTS", f"Path ({path}) already exists.")


def _too_large(what: str) -> ApiError:
    return ApiError(
        "MAX_NOTEBOOK_SIZE_EXCEEDED",
        f"The {what} exceeds the maximum allowed size of {MAX_CONTENT_BYTES} bytes.",
        status=400,
    )


def _not_implemented(fmt: str) -> ApiError:
    return ApiError("NOT_IMPLEMENTED", f"brickbook emulator does not implement the {fmt} format.")


@dataclass(frozen=True)
class Exported:
    """An export: the bytes and the ``file_type`` the JSON answer names."""

    content: bytes
    file_type: str


class WorkspaceState:
    """The workspace tree and its rules; every public method takes request-shaped values."""

    def __init__(self, store: Store, clock: Callable[[], float], home_names: Iterable[str] = ()) -> None:
        self._store = store
        self._clock = clock
        self._homes = tuple(home_names)

    # -- reads ----------------------------------------------------------------------------------------

    def get_status(self, path: object) -> dict[str, Any]:
        """``get-status``: the object's ObjectInfo."""
        where = canonical_path(path)
        return self._info(where, self._record(where))

    def list_objects(
        self, path: object, *, notebooks_modified_after: int | None = None
    ) -> list[dict[str, Any]]:
        """``list``: a folder's children (sorted by path), or the object itself for a non-folder."""
        where = canonical_path(path)
        record = self._record(where)
        if record["object_type"] not in _FOLDERS:
            return [self._info(where, record)]
        children = [
            (child, rec)
            for child, rec in self._store.items(OBJECT_KIND)
            if child != "/" and posixpath.dirname(child) == where
        ]
        if notebooks_modified_after is not None:
            children = [
                (child, rec)
                for child, rec in children
                if rec["object_type"] != "NOTEBOOK" or rec["modified_at"] > notebooks_modified_after
            ]
        return [self._info(child, rec) for child, rec in sorted(children)]

    def export(self, path: object, format: object = None, *, direct_download: bool = False) -> Exported:
        """``export``: a notebook as SOURCE (header included) or JUPYTER, a file as is, a folder as zip.

        Only the base64 JSON answer is limited (MAX_NOTEBOOK_SIZE_EXCEEDED); raw downloads are not.
        """
        exported = self._export(path, format)
        if not direct_download and encoded_size(len(exported.content)) > MAX_CONTENT_BYTES:
            raise _too_large("exported content")
        return exported

    def _export(self, path: object, format: object) -> Exported:
        fmt = self._format(format)
        where = canonical_path(path)
        record = self._record(where)
        kind = record["object_type"]
        if fmt in _UNSUPPORTED_FORMATS:
            raise _not_implemented(fmt)
        if kind == "NOTEBOOK":
            language, body = record["language"], self._content(record)
            if fmt == "JUPYTER":
                return Exported(notebooks.to_jupyter(language, body, posixpath.basename(where)), "ipynb")
            ext = notebooks.LANGUAGE_EXTENSION[language].lstrip(".")
            return Exported(notebooks.source_with_header(language, body), ext)
        if fmt == "JUPYTER":
            raise ApiError(
                "INVALID_PARAMETER_VALUE", f"Path ({where}) is not a notebook: export it as SOURCE or AUTO."
            )
        if kind == "FILE":
            return Exported(self._content(record), posixpath.splitext(where)[1].lstrip("."))
        return Exported(self._archive(where), "zip")

    def read_notebook(self, path: str) -> tuple[str, bytes]:
        """Return a notebook's language and SOURCE text (header line included), for other areas."""
        where = canonical_path(path)
        record = self._record(where)
        if record["object_type"] != "NOTEBOOK":
            raise ApiError("INVALID_PARAMETER_VALUE", f"Path ({where}) is not a notebook.")
        return record["language"], notebooks.source_with_header(record["language"], self._content(record))

    def read_file(self, path: str) -> bytes:
        """Return a workspace file's bytes, for other areas."""
        where = canonical_path(path)
        record = self._record(where)
        if record["object_type"] != "FILE":
            raise ApiError("INVALID_PARAMETER_VALUE", f"Path ({where}) is not a file.")
        return self._content(record)

    def object_id(self, path: str) -> int:
        """The object id at ``path`` (404 if there is none)."""
        return int(self._record(canonical_path(path))["object_id"])

    # -- writes ---------------------------------------------------------------------------------------

    def mkdirs(self, path: object) -> None:
        """``mkdirs``: ``mkdir -p``; a non-folder on the way is RESOURCE_ALREADY_EXISTS."""
        where = canonical_path(path)
        with self._store.transaction():
            self._seed()
            self._mkdirs(where)

    def import_(
        self, path: object, content: bytes, *, format: object, language: object, overwrite: bool
    ) -> None:
        """``import``: create or (with ``overwrite``) replace a notebook, file or, from a zip, a folder."""
        fmt = self._format(format)
        where = canonical_path(path)
        if encoded_size(len(content)) > MAX_CONTENT_BYTES:
            raise _too_large("content")
        if language is not None and language not in notebooks.LANGUAGES:
            raise ApiError(
                "INVALID_PARAMETER_VALUE",
                f"Invalid language {language!r}: expected one of {', '.join(notebooks.LANGUAGES)}.",
            )
        if fmt == "DBC" and overwrite:
            raise ApiError("INVALID_PARAMETER_VALUE", "overwrite is not supported with the DBC format.")
        if fmt in _UNSUPPORTED_FORMATS:
            raise _not_implemented(fmt)
        if fmt == "SOURCE" and language is None:
            if not content.startswith(_ZIP_MAGIC):
                raise ApiError(
                    "INVALID_PARAMETER_VALUE",
                    "The language field is required to import a single file in SOURCE format.",
                )
            self._import_archive(where, content, overwrite=overwrite)
            return
        with self._store.transaction():
            self._seed()
            if fmt == "SOURCE":
                assert isinstance(language, str)
                self._put(where, "NOTEBOOK", notebooks.strip_header(content), language, overwrite)
            elif fmt == "JUPYTER":
                self._put(where, "NOTEBOOK", notebooks.from_jupyter(content), "PYTHON", overwrite)
            elif fmt == "AUTO":
                self._put_detected(where, content, overwrite)
            else:  # RAW
                self._put(where, "FILE", content, None, overwrite)

    def delete(self, path: object, *, recursive: bool = False) -> None:
        """``delete``: remove an object; a non-empty folder needs ``recursive`` (DIRECTORY_NOT_EMPTY)."""
        where = canonical_path(path)
        if where == "/":
            raise ApiError("INVALID_PARAMETER_VALUE", "The workspace root cannot be deleted.")
        with self._store.transaction():
            record = self._record(where)
            below = self._subtree(where)
            if below and not recursive:
                raise ApiError("DIRECTORY_NOT_EMPTY", f"Folder ({where}) is not empty.")
            for key, rec in [*below, (where, record)]:
                self._drop(key, rec)

    # -- Git folders (state/repos.py) -----------------------------------------------------------------

    def create_repo_folder(self, path: str) -> int:
        """Create an empty REPO object at ``path`` (its parent must exist); return its object id."""
        where = canonical_path(path)
        with self._store.transaction():
            self._seed()
            self._require_parent(where)
            if self._store.get(OBJECT_KIND, where) is not None:
                raise _exists(where)
            return self._new_record(where, "REPO", None, None)

    def replace_tree(self, root: str, files: Mapping[str, bytes]) -> None:
        """Make the folder ``root`` hold exactly ``files`` (relative POSIX paths), classified as AUTO does."""
        where = canonical_path(root)
        with self._store.transaction():
            self._record(where)
            for key, rec in self._subtree(where):
                self._drop(key, rec)
            for relative, content in sorted(files.items()):
                target = canonical_path(f"{where}/{relative}")
                self._mkdirs(posixpath.dirname(target))
                self._put_detected(target, content, overwrite=True)

    # -- internals ------------------------------------------------------------------------------------

    def _seed(self) -> None:
        """Create the top folders and principals' homes when the tree is empty (new or reset)."""
        if self._store.get(OBJECT_KIND, "/") is not None:
            return
        with self._store.transaction():
            for folder in ("/", "/Users", "/Shared", "/Repos"):
                self._new_record(folder, "DIRECTORY", None, None)
            for name in self._homes:
                self._new_record(f"/Users/{name}", "DIRECTORY", None, None)
                self._new_record(f"/Repos/{name}", "DIRECTORY", None, None)

    def _record(self, where: str) -> dict[str, Any]:
        self._seed()
        record = self._store.get(OBJECT_KIND, where)
        if record is None:
            raise _not_found(where)
        return record

    def _format(self, format: object) -> str:
        fmt = "SOURCE" if format in (None, "") else format
        if fmt not in FORMATS:
            raise ApiError(
                "INVALID_PARAMETER_VALUE", f"Invalid format {format!r}: expected one of {', '.join(FORMATS)}."
            )
        assert isinstance(fmt, str)
        return fmt

    def _subtree(self, where: str) -> list[tuple[str, dict[str, Any]]]:
        prefix = "/" if where == "/" else where + "/"
        return [(k, r) for k, r in self._store.items(OBJECT_KIND) if k.startswith(prefix) and k != where]

    def _content(self, record: dict[str, Any]) -> bytes:
        blob = self._store.get(CONTENT_KIND, str(record["object_id"]))
        return base64.b64decode(blob["data"]) if blob else b""

    def _info(self, where: str, record: dict[str, Any]) -> dict[str, Any]:
        kind = record["object_type"]
        info: dict[str, Any] = {
            "object_type": kind,
            "path": where,
            "object_id": record["object_id"],
            "resource_id": str(record["object_id"]),
        }
        if kind == "NOTEBOOK":
            info["language"] = record["language"]
        elif kind == "FILE":
            info.update(
                created_at=record["created_at"], modified_at=record["modified_at"], size=record["size"]
            )
        elif kind == "DIRECTORY":
            # A REPO object carries no directory_info (SDK DirectoryInfo docs); plain folders say false.
            info["directory_info"] = {"is_git_folder": False}
        return info

    def _require_parent(self, where: str) -> None:
        parent = posixpath.dirname(where)
        record = self._store.get(OBJECT_KIND, parent)
        if where == "/" or record is None or record["object_type"] not in _FOLDERS:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"The parent folder ({parent}) does not exist.")

    def _mkdirs(self, where: str) -> None:
        current = ""
        for part in [p for p in where.split("/") if p]:
            current += "/" + part
            record = self._store.get(OBJECT_KIND, current)
            if record is None:
                self._new_record(current, "DIRECTORY", None, None)
            elif record["object_type"] not in _FOLDERS:
                raise _exists(current)

    def _new_record(self, where: str, kind: str, content: bytes | None, language: str | None) -> int:
        object_id = OBJECT_ID_BASE + self._store.next_id(OBJECT_KIND)
        self._write(where, {"object_id": object_id, "created_at": self._now()}, kind, content, language)
        return object_id

    def _write(
        self,
        where: str,
        base: dict[str, Any],
        kind: str,
        content: bytes | None,
        language: str | None,
    ) -> None:
        record = {**base, "object_type": kind, "modified_at": self._now()}
        if language is not None:
            record["language"] = language
        if content is not None:
            record["size"] = len(content)
            data = base64.b64encode(content).decode("ascii")
            self._store.put(CONTENT_KIND, str(record["object_id"]), {"data": data})
        self._store.put(OBJECT_KIND, where, record)

    def _put(self, where: str, kind: str, content: bytes, language: str | None, overwrite: bool) -> None:
        self._require_parent(where)
        existing = self._store.get(OBJECT_KIND, where)
        if existing is None:
            self._new_record(where, kind, content, language)
            return
        if not overwrite or existing["object_type"] in _FOLDERS:
            raise _exists(where)
        # An overwrite keeps the object's id and creation time, as re-importing a notebook does.
        base = {"object_id": existing["object_id"], "created_at": existing["created_at"]}
        self._write(where, base, kind, content, language)

    def _put_detected(self, where: str, content: bytes, overwrite: bool) -> None:
        found = notebooks.detect_auto(where, content)
        if not found.notebook:
            self._put(where, "FILE", content, None, overwrite)
        elif found.jupyter:
            self._put(found.path, "NOTEBOOK", notebooks.from_jupyter(content), "PYTHON", overwrite)
        else:
            assert found.language is not None
            self._put(found.path, "NOTEBOOK", notebooks.strip_header(content), found.language, overwrite)

    def _drop(self, where: str, record: dict[str, Any]) -> None:
        self._store.delete(OBJECT_KIND, where)
        self._store.delete(CONTENT_KIND, str(record["object_id"]))
        if record["object_type"] == "REPO":
            self._store.delete(REPO_KIND, str(record["object_id"]))

    def _now(self) -> int:
        return int(self._clock() * 1000)

    def _archive(self, where: str) -> bytes:
        """A folder's SOURCE export: a zip of notebooks (with their language's extension) and files."""
        entries: dict[str, bytes] = {}
        for key, record in sorted(self._subtree(where)):
            relative = key[len(where) :].lstrip("/")
            if record["object_type"] == "NOTEBOOK":
                name = relative + notebooks.LANGUAGE_EXTENSION[record["language"]]
                entries[name] = notebooks.source_with_header(record["language"], self._content(record))
            elif record["object_type"] == "FILE":
                entries[relative] = self._content(record)
        return notebooks.zip_entries(entries)

    def _import_archive(self, where: str, content: bytes, *, overwrite: bool) -> None:
        files = notebooks.unzip_entries(content)
        with self._store.transaction():
            self._seed()
            self._require_parent(where)
            if self._store.get(OBJECT_KIND, where) is not None and not overwrite:
                raise _exists(where)
            self._mkdirs(where)
            for relative, data in sorted(files.items()):
                target = canonical_path(f"{where}/{relative}")
                self._mkdirs(posixpath.dirname(target))
                self._put_detected(target, data, overwrite)
