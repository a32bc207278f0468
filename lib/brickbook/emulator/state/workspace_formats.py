"""Workspace formats: import and export (which are served, the size limit, how objects export), ObjectInfo.

The rules of ``/api/2.0/workspace/{import,export}`` that do not depend on the tree (the Workspace API
reference pages "Import a workspace object" and "Export a workspace object"): HTML,
DBC and R_MARKDOWN are answered 501 NOT_IMPLEMENTED; a single file imported as SOURCE needs a
``language`` (without one, SOURCE content must be a zip of a folder); ``overwrite`` is refused with
DBC; the 10 MB limit is on the base64 content (MAX_NOTEBOOK_SIZE_EXCEEDED). state/workspace.py applies
them to the tree.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from brickbook.emulator.errors import ApiError
from brickbook.emulator.state import notebooks

__all__ = [
    "FORMATS",
    "MAX_CONTENT_BYTES",
    "Exported",
    "check_import",
    "encoded_size",
    "export_notebook_or_file",
    "object_info",
    "parse_format",
    "too_large",
]

# The documented 10 MB import limit applies to the base64 ``content``, not to the decoded bytes.
MAX_CONTENT_BYTES = 10 * 1024 * 1024
FORMATS = ("SOURCE", "HTML", "JUPYTER", "DBC", "R_MARKDOWN", "AUTO", "RAW")
_UNSUPPORTED_FORMATS = ("HTML", "DBC", "R_MARKDOWN")
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class Exported:
    """An export: the bytes and the ``file_type`` the JSON answer names."""

    content: bytes
    file_type: str


def encoded_size(size: int) -> int:
    """The length of ``size`` bytes in base64, the measure of the 10 MB limit."""
    return 4 * ((size + 2) // 3)


def too_large(what: str) -> ApiError:
    return ApiError(
        "MAX_NOTEBOOK_SIZE_EXCEEDED",
        f"The {what} exceeds the maximum allowed size of {MAX_CONTENT_BYTES} bytes.",
        status=400,
    )


def _not_implemented(fmt: str) -> ApiError:
    return ApiError("NOT_IMPLEMENTED", f"brickbook emulator does not implement the {fmt} format.")


def parse_format(format: object) -> str:
    """The request's ``format`` (SOURCE when absent), one of ``FORMATS``."""
    fmt = "SOURCE" if format in (None, "") else format
    if fmt not in FORMATS:
        raise ApiError(
            "INVALID_PARAMETER_VALUE", f"Invalid format {format!r}: expected one of {', '.join(FORMATS)}."
        )
    assert isinstance(fmt, str)
    return fmt


def check_import(fmt: str, content: bytes, language: object, *, overwrite: bool) -> bool:
    """Refuse an import the service would refuse; return True when it is a zip of a folder."""
    if encoded_size(len(content)) > MAX_CONTENT_BYTES:
        raise too_large("content")
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
        return True
    return False


def export_notebook_or_file(
    where: str, kind: str, fmt: str, language: str | None, content: bytes
) -> Exported | None:
    """A notebook as SOURCE (header included) or JUPYTER, a file as is; None for a folder (a zip)."""
    if fmt in _UNSUPPORTED_FORMATS:
        raise _not_implemented(fmt)
    if kind == "MLFLOW_EXPERIMENT":
        # The service refuses with 403 (the databricks CLI reports "No access to read file" and now
        # skips experiments in export-dir: databricks/cli#4081); its message is not public.
        raise ApiError(
            "PERMISSION_DENIED", f"Cannot export ({where}): MLflow experiments are not exportable."
        )
    if kind == "NOTEBOOK":
        assert language is not None
        if fmt == "JUPYTER":
            return Exported(notebooks.to_jupyter(language, content, posixpath.basename(where)), "ipynb")
        ext = notebooks.LANGUAGE_EXTENSION[language].lstrip(".")
        return Exported(notebooks.source_with_header(language, content), ext)
    if fmt == "JUPYTER":
        raise ApiError(
            "INVALID_PARAMETER_VALUE", f"Path ({where}) is not a notebook: export it as SOURCE or AUTO."
        )
    if kind == "FILE":
        return Exported(content, posixpath.splitext(where)[1].lstrip("."))
    return None


def object_info(where: str, record: dict[str, Any]) -> dict[str, Any]:
    """The ObjectInfo that ``get-status`` and ``list`` show for the stored ``record`` at ``where``."""
    kind = record["object_type"]
    info: dict[str, Any] = {
        "object_type": kind,
        "path": where,
        "object_id": record["object_id"],
        "resource_id": str(record["object_id"]),
    }
    if kind == "NOTEBOOK":
        info["language"] = record["language"]
        # Documented for files only, yet the service sends both for notebooks too (databricks-sdk-py
        # issue #886 filters a listing's notebooks by modified_at); no size.
        info.update(created_at=record["created_at"], modified_at=record["modified_at"])
    elif kind == "FILE":
        info.update(created_at=record["created_at"], modified_at=record["modified_at"], size=record["size"])
    elif kind == "DIRECTORY":
        # A REPO object carries no directory_info (SDK DirectoryInfo docs); plain folders say false.
        info["directory_info"] = {"is_git_folder": False}
    return info
