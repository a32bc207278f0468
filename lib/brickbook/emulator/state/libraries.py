"""Cluster libraries: what each cluster should have installed, and how far each library got. No HTTP here.

The Libraries API 2.0 (``install``, ``uninstall``, ``cluster-status``, ``all-cluster-statuses``) keeps, per
cluster, the libraries in the order they were requested, each with a ``LibraryInstallStatus``:

- ``install`` adds each library not already there as PENDING (a library the cluster has is ignored, as
  the real service ignores it); the installer (runtime/envs.py) moves PENDING -> INSTALLING ->
  INSTALLED or FAILED (``messages`` holds the installer's message) once the cluster is RUNNING, so a
  library requested on a terminated cluster is installed when it starts.
- ``uninstall`` marks an installed (or installing) library UNINSTALL_ON_RESTART: it stays importable
  until the cluster restarts, when it is dropped; a library that never got installed (PENDING, FAILED)
  is dropped at once. Uninstalling a library the cluster does not have is ignored.
- ``cluster-status`` lists the libraries to be installed first, in request order, then those marked for
  removal (the order the SDK's ``LibrariesAPI.cluster_status`` documents).

Install and uninstall need CAN_MANAGE on the cluster; the statuses are open to every user, as cluster
reads are. A library is one of ``whl``, ``requirements``, ``egg``, ``jar`` (URIs), ``pypi
{package, repo}``, ``maven {coordinates, repo, exclusions}`` or ``cran {package, repo}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from brickbook.emulator.errors import invalid
from brickbook.emulator.state.store import Store

__all__ = [
    "KIND",
    "LIBRARY_KINDS",
    "LibrariesState",
    "describe",
    "library_kind",
    "parse_libraries",
]

KIND = "cluster_libraries"
LIBRARY_KINDS = ("whl", "requirements", "pypi", "egg", "jar", "maven", "cran")
_URI_KINDS = frozenset({"whl", "requirements", "egg", "jar"})
_PACKAGE_FIELDS = {"pypi": "package", "maven": "coordinates", "cran": "package"}
MAX_LIBRARIES = 100  # the emulator's bound on one request
MAX_FIELD_CHARS = 4096
_REMOVED = "UNINSTALL_ON_RESTART"


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{what} must be a non-empty string.")
    if len(value) > MAX_FIELD_CHARS or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise invalid(f"{what} must be at most {MAX_FIELD_CHARS} printable characters.")
    return value


def library_kind(library: dict[str, Any]) -> str:
    """The library's kind: its one field among ``LIBRARY_KINDS``."""
    return next(k for k in LIBRARY_KINDS if k in library)


def _parse_library(value: object, index: int) -> dict[str, Any]:
    what = f"libraries[{index}]"
    if not isinstance(value, dict):
        raise invalid(f"{what} must be an object.")
    kinds = [k for k in LIBRARY_KINDS if value.get(k) is not None]
    if len(kinds) != 1:
        raise invalid(f"{what} must specify exactly one of: {', '.join(LIBRARY_KINDS)}.")
    kind = kinds[0]
    body = value[kind]
    if kind in _URI_KINDS:
        return {kind: _text(body, f"{what}.{kind}")}
    if not isinstance(body, dict):
        raise invalid(f"{what}.{kind} must be an object.")
    field = _PACKAGE_FIELDS[kind]
    spec: dict[str, Any] = {field: _text(body.get(field), f"{what}.{kind}.{field}")}
    if body.get("repo") is not None:
        spec["repo"] = _text(body["repo"], f"{what}.{kind}.repo")
    if kind == "maven" and body.get("exclusions") is not None:
        exclusions = body["exclusions"]
        if not isinstance(exclusions, list) or len(exclusions) > MAX_LIBRARIES:
            raise invalid(f"{what}.maven.exclusions must be a list of strings.")
        spec["exclusions"] = [_text(e, f"{what}.maven.exclusions[]") for e in exclusions]
    return {kind: spec}


def parse_libraries(value: object) -> list[dict[str, Any]]:
    """The request's ``libraries``: 1 to ``MAX_LIBRARIES`` valid library objects (else 400)."""
    if not isinstance(value, list) or not value:
        raise invalid("libraries must be a non-empty list.")
    if len(value) > MAX_LIBRARIES:
        raise invalid(f"At most {MAX_LIBRARIES} libraries can be given in one request.")
    return [_parse_library(item, i) for i, item in enumerate(value)]


def describe(library: dict[str, Any]) -> str:
    """A short name for messages: ``whl: "dbfs:/x.whl"``, ``pypi: "simplejson"``."""
    kind = library_kind(library)
    body = library[kind]
    name = body if isinstance(body, str) else body.get(_PACKAGE_FIELDS.get(kind, ""), "")
    return f'{kind}: "{name}"'


def _key(library: dict[str, Any]) -> str:
    return json.dumps(library, sort_keys=True)


class LibrariesState:
    """The libraries of every cluster, one store record per cluster that has any."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def _record(self, cluster_id: str) -> dict[str, Any]:
        return self._store.get(KIND, cluster_id) or {"cluster_id": cluster_id, "entries": []}

    def _save(self, record: dict[str, Any]) -> None:
        if record["entries"]:
            self._store.put(KIND, record["cluster_id"], record)
        else:
            self._store.delete(KIND, record["cluster_id"])

    def add(self, cluster_id: str, libraries: list[dict[str, Any]], user_name: str) -> list[dict[str, Any]]:
        """Add the libraries the cluster lacks as PENDING (read as ``user_name``); return all asked."""
        with self._store.transaction():
            record = self._record(cluster_id)
            known = {_key(e["library"]): e for e in record["entries"]}
            for library in libraries:
                entry = known.get(_key(library))
                if entry is None:
                    entry = {"library": library, "status": "PENDING", "messages": [], "user": user_name}
                    record["entries"].append(entry)
                    known[_key(library)] = entry
                elif entry["status"] == _REMOVED:  # asked again before the restart: keep it
                    entry["status"] = "INSTALLED"
            self._save(record)
            return [known[_key(library)] for library in libraries]

    def remove(self, cluster_id: str, libraries: list[dict[str, Any]]) -> None:
        """``uninstall``: mark installed libraries UNINSTALL_ON_RESTART, drop those never installed."""
        wanted = {_key(library) for library in libraries}
        with self._store.transaction():
            record = self._record(cluster_id)
            kept = []
            for entry in record["entries"]:
                if _key(entry["library"]) in wanted:
                    if entry["status"] in ("PENDING", "FAILED"):
                        continue
                    entry["status"] = _REMOVED
                kept.append(entry)
            record["entries"] = kept
            self._save(record)

    def entries(self, cluster_id: str) -> list[dict[str, Any]]:
        """The cluster's entries in request order (each ``{library, status, messages, user}``)."""
        return list(self._record(cluster_id)["entries"])

    def statuses(self, cluster_id: str) -> list[dict[str, Any]]:
        """``library_statuses``: libraries to install first, then those marked for removal."""
        entries = self.entries(cluster_id)
        ordered = [e for e in entries if e["status"] != _REMOVED] + [
            e for e in entries if e["status"] == _REMOVED
        ]
        return [
            {
                "library": e["library"],
                "status": e["status"],
                "messages": list(e["messages"]),
                "is_library_for_all_clusters": False,
            }
            for e in ordered
        ]

    def cluster_ids(self) -> Iterator[str]:
        """Every cluster that has libraries, in the order they first got one."""
        for key, _ in self._store.items(KIND):
            yield key

    def set_status(
        self, cluster_id: str, library: dict[str, Any], status: str, messages: list[str], *, only_from: str
    ) -> bool:
        """Move one library from ``only_from`` to ``status``; False if it is gone or was moved meanwhile."""
        with self._store.transaction():
            record = self._store.get(KIND, cluster_id)
            for entry in (record or {}).get("entries", []):
                if _key(entry["library"]) == _key(library) and entry["status"] == only_from:
                    entry["status"], entry["messages"] = status, messages
                    self._store.put(KIND, cluster_id, record)  # type: ignore[arg-type]
                    return True
            return False

    def restarted(self, cluster_id: str) -> bool:
        """The cluster restarted: drop UNINSTALL_ON_RESTART libraries; True (and all PENDING) if any went."""
        with self._store.transaction():
            record = self._record(cluster_id)
            kept = [e for e in record["entries"] if e["status"] != _REMOVED]
            if len(kept) == len(record["entries"]):
                return False
            for entry in kept:  # the environment is rebuilt: everything is installed again
                entry["status"], entry["messages"] = "PENDING", []
            record["entries"] = kept
            self._save(record)
            return True

    def interrupted(self) -> list[str]:
        """After a restart of the emulator: INSTALLING becomes PENDING again; the clusters to revisit."""
        found = []
        with self._store.transaction():
            for key, record in self._store.items(KIND):
                for entry in record["entries"]:
                    if entry["status"] == "INSTALLING":
                        entry["status"] = "PENDING"
                self._store.put(KIND, key, record)
                if any(e["status"] == "PENDING" for e in record["entries"]):
                    found.append(key)
        return found

    def forget(self, cluster_id: str) -> None:
        """The cluster is gone (permanently deleted, or a job cluster that ended)."""
        with self._store.transaction():
            self._store.delete(KIND, cluster_id)
