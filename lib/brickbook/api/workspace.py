"""Workspace API 2.0 primitives (``/api/2.0/workspace/*``): one function per endpoint.

From the Workspace API reference (import, export, list): ``list`` is not paginated and leaves
``objects`` out for an empty directory; import content is base64 and at most 10 MB
(MAX_NOTEBOOK_SIZE_EXCEEDED); a single SOURCE file needs a language; ``AUTO`` picks notebook or file
from the extension and strips it for notebooks.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from brickbook.api.model import ApiObject, OpenEnum
from brickbook.client import Client
from brickbook.errors import UsageError

__all__ = [
    "MAX_IMPORT_BYTES",
    "ExportFormat",
    "ImportFormat",
    "Language",
    "ObjectInfo",
    "ObjectType",
    "check_import_size",
    "delete",
    "export",
    "get_status",
    "import_",
    "list_",
    "mkdirs",
]

BASE = "/api/2.0/workspace"
MAX_IMPORT_BYTES = 10 * 1024 * 1024  # on the base64 content


class ObjectType(OpenEnum):
    NOTEBOOK = "NOTEBOOK"
    DIRECTORY = "DIRECTORY"
    LIBRARY = "LIBRARY"
    FILE = "FILE"
    REPO = "REPO"
    DASHBOARD = "DASHBOARD"


class Language(OpenEnum):
    PYTHON = "PYTHON"
    SQL = "SQL"
    SCALA = "SCALA"
    R = "R"


class ImportFormat(OpenEnum):
    SOURCE = "SOURCE"
    HTML = "HTML"
    JUPYTER = "JUPYTER"
    DBC = "DBC"
    R_MARKDOWN = "R_MARKDOWN"
    AUTO = "AUTO"
    RAW = "RAW"


ExportFormat = ImportFormat


@dataclass(frozen=True)
class ObjectInfo(ApiObject):
    """A workspace object: notebook, directory, file, repo, ..."""

    path: str = ""
    object_type: ObjectType | None = None
    object_id: int | None = None
    resource_id: str | None = None
    language: Language | None = None
    created_at: int | None = None
    modified_at: int | None = None
    size: int | None = None

    @property
    def is_directory(self) -> bool:
        """Tell whether the object can hold others (a directory or a repo)."""
        return self.object_type in (ObjectType.DIRECTORY, ObjectType.REPO)


def list_(client: Client, path: str, *, notebooks_modified_after: int | None = None) -> list[ObjectInfo]:
    """List a directory: ``GET /api/2.0/workspace/list`` (a missing ``objects`` key is empty)."""
    query: dict[str, Any] = {"path": path, "notebooks_modified_after": notebooks_modified_after}
    data = client.get(f"{BASE}/list", query)
    return [ObjectInfo.from_api(o) for o in data.get("objects") or []]


def get_status(client: Client, path: str) -> ObjectInfo:
    """Describe one object: ``GET /api/2.0/workspace/get-status``."""
    return ObjectInfo.from_api(client.get(f"{BASE}/get-status", {"path": path}))


def import_(
    client: Client,
    path: str,
    content: bytes,
    *,
    format: ImportFormat = ImportFormat.SOURCE,
    language: Language | None = None,
    overwrite: bool = False,
) -> None:
    """Import content at ``path``: ``POST /api/2.0/workspace/import`` (JSON, base64 content).

    Retried on transient failures only with ``overwrite`` (``brickbook.retry``): without it a second
    copy would be refused RESOURCE_ALREADY_EXISTS.
    """
    check_import_size(path, content)
    encoded = base64.b64encode(content).decode("ascii")
    body: dict[str, Any] = {"path": path, "content": encoded, "format": str(format), "overwrite": overwrite}
    if language is not None:
        body["language"] = str(language)
    client.post(f"{BASE}/import", body)


def check_import_size(path: str, content: bytes) -> None:
    """Raise UsageError when ``content`` is over the 10 MB import limit (measured in base64)."""
    if 4 * ((len(content) + 2) // 3) > MAX_IMPORT_BYTES:
        raise UsageError(
            f"{path}: content is {len(content)} bytes, over the workspace import limit of 10 MB "
            "(base64); upload large data to DBFS instead"
        )


def export(client: Client, path: str, *, format: ExportFormat = ExportFormat.SOURCE) -> bytes:
    """Export an object's content: ``GET /api/2.0/workspace/export`` (base64 JSON, decoded here)."""
    data = client.get(f"{BASE}/export", {"path": path, "format": str(format)})
    return base64.b64decode(data.get("content") or "")


def mkdirs(client: Client, path: str) -> None:
    """Create a directory and its parents (``mkdir -p``): ``POST /api/2.0/workspace/mkdirs``."""
    client.post(f"{BASE}/mkdirs", {"path": path})


def delete(client: Client, path: str, *, recursive: bool = False) -> None:
    """Delete an object: ``POST /api/2.0/workspace/delete`` (non-empty directory needs recursive)."""
    client.post(f"{BASE}/delete", {"path": path, "recursive": recursive})
