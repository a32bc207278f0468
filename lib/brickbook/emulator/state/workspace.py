"""The workspace tree (directories, notebooks, files, Git folders) and the rules of ``/api/2.0/workspace``.

Store schema (every write goes through the store, so ``--data-dir`` keeps it across restarts):

- kind ``workspace_object``, key = canonical path (``/``, ``/Users/a@example.com/etl``), value
  ``{"object_type": "DIRECTORY"|"NOTEBOOK"|"FILE"|"REPO"|"MLFLOW_EXPERIMENT", "object_id": int,
  "language": str (notebooks), "created_at": ms, "modified_at": ms, "size": int (bytes of the stored
  content; notebooks and files),
  "owner": user name (who created it through the API; absent for seeded folders and Git folder content)}``.
  An ``MLFLOW_EXPERIMENT`` object (state/mlflow_experiments.py) has no content: its object id is the
  experiment id; ``get-status`` and ``list`` show it, ``export`` refuses it (403), and deleting it
  (or a folder above it) tells the MLflow area through ``on_delete``, which deletes the experiment.
- kind ``workspace_content``, key = ``str(object_id)``, value ``{"data": base64}``: a FILE's bytes, or a
  NOTEBOOK's SOURCE body *without* the ``Databricks notebook source`` header line (exports add it back).
- kind ``repo`` (``REPO_KIND``), key = ``str(object_id)`` of a REPO object: the Git folder's metadata,
  written by ``state/repos.py``; deleting the REPO object here deletes it too.

Every API operation takes the calling ``Principal`` first and checks it with state/access.py's rule
(``workspace_object``: home folders are their user's alone, ``/Shared`` is everyone's, elsewhere every
user reads and creators manage); ``list`` and folder exports leave out what the caller may not read.

Other areas use the emulator's one instance, ``context.services.workspace``, and read notebooks with
``read_notebook(path) -> (language, SOURCE bytes with the header)`` and files with
``read_file(path) -> bytes``. Paths are canonical as state/workspace_paths.py says. ``/``, ``/Users``,
``/Shared``, ``/Repos`` and each principal's ``/Users/<name>`` and ``/Repos/<name>`` exist from the
start (also after a control-API reset).

Choices where the public API reference leaves room: importing into a missing parent is 404
RESOURCE_DOES_NOT_EXIST (the real service does not create parents); writes are atomic (a failed mkdirs
creates nothing); a directory exports (SOURCE/AUTO) as a zip of its notebooks' sources and files, and a
SOURCE import without language of such a zip recreates it. The format rules themselves are in
state/workspace_formats.py.
"""

from __future__ import annotations

import base64
import posixpath
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from brickbook.emulator.errors import ApiError
from brickbook.emulator.state import notebooks
from brickbook.emulator.state.access import Resource, may, require, workspace_object
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.permissions import ObjectAcls
from brickbook.emulator.state.store import Store
from brickbook.emulator.state.workspace_formats import (
    MAX_CONTENT_BYTES,
    Exported,
    check_import,
    encoded_size,
    export_notebook_or_file,
    object_info,
    parse_format,
    too_large,
)
from brickbook.emulator.state.workspace_paths import ancestors, canonical_path, home_names

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
EXPERIMENT = "MLFLOW_EXPERIMENT"  # an object another area owns: MLflow keeps the experiment itself
# Real object ids are large int64s; a base keeps ours in that shape while still counting 1, 2, 3...
OBJECT_ID_BASE = 1_000_000_000_000_000
_FOLDERS = ("DIRECTORY", "REPO")


def _not_found(path: str) -> ApiError:
    return ApiError("RESOURCE_DOES_NOT_EXIST", f"Path ({path}) doesn't exist.")


def _exists(path: str) -> ApiError:
    return ApiError("RESOURCE_ALREADY_EXISTS", f"Path ({path}) already exists.")


class WorkspaceState:
    """The workspace tree and its rules; every public method takes request-shaped values."""

    def __init__(self, store: Store, clock: Callable[[], float], home_names: Iterable[str] = ()) -> None:
        self._on_delete: dict[str, Callable[[int], None]] = {}  # object type -> the owning area's hook
        self._store = store
        self._clock = clock
        self._homes = tuple(home_names)
        self._acls = ObjectAcls(store)

    # -- reads ----------------------------------------------------------------------------------------

    def get_status(self, caller: Principal, path: object) -> dict[str, Any]:
        """``get-status``: the object's ObjectInfo."""
        where = self._allowed(caller, path, "CAN_READ")
        return object_info(where, self._record(where))

    def exists(self, path: str) -> bool:
        """Whether an object is at ``path`` (for other areas; no permission check)."""
        self._seed()
        return self._store.get(OBJECT_KIND, canonical_path(path)) is not None

    def list_objects(
        self, caller: Principal, path: object, *, notebooks_modified_after: int | None = None
    ) -> list[dict[str, Any]]:
        """``list``: the folder's children the caller may read (by path), or the object itself."""
        where = self._allowed(caller, path, "CAN_READ")
        record = self._record(where)
        if record["object_type"] not in _FOLDERS:
            return [object_info(where, record)]
        children = [
            (child, rec)
            for child, rec in self._store.items(OBJECT_KIND)
            if child != "/" and posixpath.dirname(child) == where and self._may_read(caller, child)
        ]
        if notebooks_modified_after is not None:
            children = [
                (child, rec)
                for child, rec in children
                if rec["object_type"] != "NOTEBOOK" or rec["modified_at"] > notebooks_modified_after
            ]
        return [object_info(child, rec) for child, rec in sorted(children)]

    def export(
        self, caller: Principal, path: object, format: object = None, *, direct_download: bool = False
    ) -> Exported:
        """``export``: a notebook as SOURCE (header included) or JUPYTER, a file as is, a folder as zip.

        Only the base64 JSON answer is limited (MAX_NOTEBOOK_SIZE_EXCEEDED); raw downloads are not. A
        folder's zip holds only what the caller may read.
        """
        exported = self._export(caller, path, format)
        if not direct_download and encoded_size(len(exported.content)) > MAX_CONTENT_BYTES:
            raise too_large("exported content")
        return exported

    def _export(self, caller: Principal, path: object, format: object) -> Exported:
        fmt = parse_format(format)
        where = self._allowed(caller, path, "CAN_READ")
        record = self._record(where)
        found = export_notebook_or_file(
            where, record["object_type"], fmt, record.get("language"), self._content(record)
        )
        return found or Exported(self._archive(caller, where), "zip")

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

    def mkdirs(self, caller: Principal, path: object) -> None:
        """``mkdirs``: ``mkdir -p``; a non-folder on the way is RESOURCE_ALREADY_EXISTS.

        Creating a folder needs CAN_EDIT there; an existing one only CAN_READ (nothing changes).
        """
        where = canonical_path(path)
        self._allowed(caller, where, "CAN_READ" if self.exists(where) else "CAN_EDIT")
        with self._store.transaction():
            self._seed()
            self._mkdirs(where, caller.user_name)

    def import_(
        self,
        caller: Principal,
        path: object,
        content: bytes,
        *,
        format: object,
        language: object,
        overwrite: bool,
    ) -> None:
        """``import``: create or (with ``overwrite``) replace a notebook, file or, from a zip, a folder."""
        fmt = parse_format(format)
        where = self._allowed(caller, path, "CAN_EDIT")
        owner = caller.user_name
        if check_import(fmt, content, language, overwrite=overwrite):
            self._import_archive(where, content, overwrite=overwrite, owner=owner)
            return
        with self._store.transaction():
            self._seed()
            if fmt == "AUTO":
                self._put_detected(where, content, overwrite, owner=owner)
            elif fmt == "RAW":
                self._put(where, "FILE", content, None, overwrite, owner=owner)
            elif fmt == "JUPYTER":
                body = notebooks.from_jupyter(content)
                self._put(where, "NOTEBOOK", body, "PYTHON", overwrite, owner=owner)
            else:  # SOURCE
                assert isinstance(language, str)
                body = notebooks.strip_header(content)
                self._put(where, "NOTEBOOK", body, language, overwrite, owner=owner)

    def delete(self, caller: Principal, path: object, *, recursive: bool = False) -> None:
        """``delete``: remove an object; a non-empty folder needs ``recursive`` (DIRECTORY_NOT_EMPTY)."""
        where = self._allowed(caller, path, "CAN_MANAGE")
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

    def create_repo_folder(self, caller: Principal, path: str) -> int:
        """Create an empty REPO object at ``path`` (its parent must exist); return its object id."""
        where = self._allowed(caller, path, "CAN_EDIT")
        with self._store.transaction():
            self._seed()
            self._require_parent(where)
            if self._store.get(OBJECT_KIND, where) is not None:
                raise _exists(where)
            return self._new_record(where, "REPO", None, None, caller.user_name)

    # -- objects other areas own (MLflow experiments) -------------------------------------------------

    def new_object_id(self) -> int:
        """A fresh workspace object id, for an object another area creates (an experiment's id)."""
        return OBJECT_ID_BASE + self._store.next_id(OBJECT_KIND)

    def add_object(self, caller: Principal | None, path: str, kind: str, object_id: int) -> None:
        """Place another area's object at ``path``: its parent folder must exist and the path be free.

        The caller needs CAN_EDIT there, as for a notebook; None skips that (a restore by the system).
        """
        where = canonical_path(path) if caller is None else self._allowed(caller, path, "CAN_EDIT")
        with self._store.transaction():
            self._seed()
            self._require_parent(where)
            if self._store.get(OBJECT_KIND, where) is not None:
                raise _exists(where)
            now = self._now()
            record: dict[str, Any] = {"object_id": object_id, "object_type": kind, "created_at": now}
            if caller is not None:
                record["owner"] = caller.user_name
            self._store.put(OBJECT_KIND, where, {**record, "modified_at": now})

    def move_object(self, source: str, target: str) -> None:
        """Move another area's object (a renamed experiment) to ``target`` (parent existing, path free)."""
        old, new = canonical_path(source), canonical_path(target)
        with self._store.transaction():
            record = self._record(old)
            self._require_parent(new)
            if self._store.get(OBJECT_KIND, new) is not None:
                raise _exists(new)
            self._store.delete(OBJECT_KIND, old)
            self._store.put(OBJECT_KIND, new, {**record, "modified_at": self._now()})

    def remove_object(self, path: str) -> None:
        """Take another area's object out of the tree (a deleted experiment); gone already is fine."""
        self._store.delete(OBJECT_KIND, canonical_path(path))

    def path_of(self, object_id: int, kind: str | None = None) -> str | None:
        """Where the object with ``object_id`` (of ``kind``, when given) is, or None."""
        self._seed()
        return next(
            (
                k
                for k, r in self._store.items(OBJECT_KIND)
                if r["object_id"] == object_id and kind in (None, r["object_type"])
            ),
            None,
        )

    def on_delete(self, kind: str, callback: Callable[[int], None]) -> None:
        """Call ``callback(object_id)`` when a ``workspace/delete`` removes an object of ``kind``."""
        self._on_delete[kind] = callback

    def resource(self, path: str) -> Resource:
        """The permission rule's view of ``path`` (state/access.py), which need not exist yet.

        The owners are the creators of the object and of every folder above it: a folder's manager
        manages what is inside. Explicit grants (the Permissions API) on the object and on every
        folder above it are added.
        """
        where = canonical_path(path)
        records = [r for r in (self._store.get(OBJECT_KIND, f) for f in ancestors(where)) if r is not None]
        fixed = workspace_object(where, {r["owner"] for r in records if r.get("owner")})
        return self._acls.merged(fixed, "workspace", (r["object_id"] for r in records))

    def record_at(self, path: str) -> dict[str, Any] | None:
        """The stored object at ``path`` (for other areas; no permission check), or None."""
        self._seed()
        return self._store.get(OBJECT_KIND, canonical_path(path))

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

    def _allowed(self, caller: Principal, path: object, needed: str) -> str:
        """The canonical path, once the caller is known to hold ``needed`` there (else 403).

        Checked before existence, so a missing object in another user's home is 403, not 404.
        """
        where = canonical_path(path)
        require(caller, self.resource(where), needed)
        return where

    def _may_read(self, caller: Principal, where: str) -> bool:
        return caller.is_admin or may(caller, self.resource(where), "CAN_READ")

    def _record(self, where: str) -> dict[str, Any]:
        self._seed()
        record = self._store.get(OBJECT_KIND, where)
        if record is None:
            raise _not_found(where)
        return record

    def _subtree(self, where: str) -> list[tuple[str, dict[str, Any]]]:
        prefix = "/" if where == "/" else where + "/"
        return [(k, r) for k, r in self._store.items(OBJECT_KIND) if k.startswith(prefix) and k != where]

    def _content(self, record: dict[str, Any]) -> bytes:
        blob = self._store.get(CONTENT_KIND, str(record["object_id"]))
        return base64.b64decode(blob["data"]) if blob else b""

    def _require_parent(self, where: str) -> None:
        parent = posixpath.dirname(where)
        record = self._store.get(OBJECT_KIND, parent)
        if where == "/" or record is None or record["object_type"] not in _FOLDERS:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"The parent folder ({parent}) does not exist.")

    def _mkdirs(self, where: str, owner: str | None = None) -> None:
        current = ""
        for part in [p for p in where.split("/") if p]:
            current += "/" + part
            record = self._store.get(OBJECT_KIND, current)
            if record is None:
                self._new_record(current, "DIRECTORY", None, None, owner)
            elif record["object_type"] not in _FOLDERS:
                raise _exists(current)

    def _new_record(
        self, where: str, kind: str, content: bytes | None, language: str | None, owner: str | None = None
    ) -> int:
        object_id = OBJECT_ID_BASE + self._store.next_id(OBJECT_KIND)
        base: dict[str, Any] = {"object_id": object_id, "created_at": self._now()}
        if owner:
            base["owner"] = owner
        self._write(where, base, kind, content, language)
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

    def _put(
        self,
        where: str,
        kind: str,
        content: bytes,
        language: str | None,
        overwrite: bool,
        *,
        owner: str | None,
    ) -> None:
        self._require_parent(where)
        existing = self._store.get(OBJECT_KIND, where)
        if existing is None:
            self._new_record(where, kind, content, language, owner)
            return
        if not overwrite or existing["object_type"] in (*_FOLDERS, EXPERIMENT):
            raise _exists(where)
        # An overwrite keeps the object's id, creation time and owner, as re-importing a notebook does.
        base: dict[str, Any] = {k: existing[k] for k in ("object_id", "created_at", "owner") if k in existing}
        self._write(where, base, kind, content, language)

    def _put_detected(self, where: str, content: bytes, overwrite: bool, *, owner: str | None = None) -> None:
        found = notebooks.detect_auto(where, content)
        if not found.notebook:
            self._put(where, "FILE", content, None, overwrite, owner=owner)
            return
        body = notebooks.from_jupyter(content) if found.jupyter else notebooks.strip_header(content)
        language = "PYTHON" if found.jupyter else found.language
        self._put(found.path, "NOTEBOOK", body, language, overwrite, owner=owner)

    def _drop(self, where: str, record: dict[str, Any]) -> None:
        self._store.delete(OBJECT_KIND, where)
        self._store.delete(CONTENT_KIND, str(record["object_id"]))
        self._acls.drop("workspace", record["object_id"])
        if record["object_type"] == "REPO":
            self._store.delete(REPO_KIND, str(record["object_id"]))
        owner_area = self._on_delete.get(record["object_type"])
        if owner_area is not None:
            owner_area(int(record["object_id"]))

    def _now(self) -> int:
        return int(self._clock() * 1000)

    def _archive(self, caller: Principal, where: str) -> bytes:
        """A folder's SOURCE export: a zip of the notebooks (with extension) and files the caller may read."""
        entries: dict[str, bytes] = {}
        for key, record in sorted(self._subtree(where)):
            if not self._may_read(caller, key):
                continue
            relative = key[len(where) :].lstrip("/")
            if record["object_type"] == "NOTEBOOK":
                name = relative + notebooks.LANGUAGE_EXTENSION[record["language"]]
                entries[name] = notebooks.source_with_header(record["language"], self._content(record))
            elif record["object_type"] == "FILE":
                entries[relative] = self._content(record)
        return notebooks.zip_entries(entries)

    def _import_archive(self, where: str, content: bytes, *, overwrite: bool, owner: str) -> None:
        files = notebooks.unzip_entries(content)
        with self._store.transaction():
            self._seed()
            self._require_parent(where)
            if self._store.get(OBJECT_KIND, where) is not None and not overwrite:
                raise _exists(where)
            self._mkdirs(where, owner)
            for relative, data in sorted(files.items()):
                target = canonical_path(f"{where}/{relative}")
                self._mkdirs(posixpath.dirname(target), owner)
                self._put_detected(target, data, overwrite, owner=owner)
