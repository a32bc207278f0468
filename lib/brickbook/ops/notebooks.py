"""How local files become workspace objects, and when two versions of one are the same.

In a folder (``classify_local``), a source file that starts with the notebook header becomes a notebook
(extension dropped), an ``.ipynb`` a Jupyter notebook, anything else a workspace file under its own
name, as the Databricks CLI's import-dir does. A single file (``import_kind``) is a notebook when its
extension is a notebook language's. Contents are compared (``same_content``) ignoring a byte-order
mark, the notebook header line (a Workspace API SOURCE export adds it) and trailing whitespace; Jupyter
notebooks by their cells' types and sources only (outputs and metadata differ run to run).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePosixPath

from brickbook.api.workspace import ImportFormat, Language
from brickbook.errors import UsageError
from brickbook.paths import printable

__all__ = [
    "EXTENSION_LANGUAGE",
    "LANGUAGE_EXTENSION",
    "NOTEBOOK_HEADERS",
    "NotebookSource",
    "classify_local",
    "import_kind",
    "same_content",
]

EXTENSION_LANGUAGE = {
    ".py": Language.PYTHON,
    ".sql": Language.SQL,
    ".scala": Language.SCALA,
    ".r": Language.R,
}
LANGUAGE_EXTENSION = {language: ext for ext, language in EXTENSION_LANGUAGE.items()}
NOTEBOOK_HEADERS = (
    b"# Databricks notebook source",
    b"-- Databricks notebook source",
    b"// Databricks notebook source",
)


@dataclass(frozen=True)
class NotebookSource:
    """How a local file is imported: its remote name, format and language."""

    remote_name: str
    format: ImportFormat
    language: Language | None

    @property
    def notebook(self) -> bool:
        """Tell whether the import makes a notebook for sure (SOURCE or JUPYTER; AUTO decides remotely)."""
        return self.format in (ImportFormat.SOURCE, ImportFormat.JUPYTER)


def classify_local(name: str, head: bytes) -> NotebookSource:
    """Decide how a file found in a folder is imported, as the Databricks CLI's import-dir does."""
    suffix = PurePosixPath(name).suffix
    stem = name[: len(name) - len(suffix)]
    language = EXTENSION_LANGUAGE.get(suffix.lower())
    if language is not None and head.lstrip(b"\xef\xbb\xbf").startswith(NOTEBOOK_HEADERS):
        return NotebookSource(stem, ImportFormat.SOURCE, language)
    if suffix.lower() == ".ipynb":
        return NotebookSource(stem, ImportFormat.JUPYTER, None)
    return NotebookSource(name, ImportFormat.AUTO, None)


def import_kind(
    name: str, format: ImportFormat | None = None, language: Language | None = None
) -> tuple[ImportFormat, Language | None]:
    """Choose the format and language of a single file's import from what was given and its extension.

    Default: SOURCE in the extension's language (``.py``, ``.sql``, ``.scala``, ``.r``), JUPYTER for
    ``.ipynb``, AUTO (a workspace file) otherwise. SOURCE needs a language (Workspace API import).
    """
    suffix = PurePosixPath(name).suffix.lower()
    inferred = EXTENSION_LANGUAGE.get(suffix)
    if format is None:
        format = (
            ImportFormat.JUPYTER
            if suffix == ".ipynb"
            else ImportFormat.SOURCE
            if language or inferred
            else ImportFormat.AUTO
        )
    if format == ImportFormat.SOURCE and language is None:
        if inferred is None:
            raise UsageError(f"cannot tell the notebook language of {printable(name)}").with_hint(
                "pass --language (PYTHON, SQL, SCALA or R)"
            )
        language = inferred
    return format, language


def _normal(content: bytes) -> bytes:
    """Content as compared: no byte-order mark, no notebook header line, no trailing whitespace."""
    text = content.lstrip(b"\xef\xbb\xbf")
    if text.startswith(NOTEBOOK_HEADERS):
        text = text.partition(b"\n")[2]
    return text.rstrip()


def _jupyter_cells(content: bytes) -> list[tuple[str, str]] | None:
    try:
        document = json.loads(content)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return None
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        return None
    return [
        (str(c.get("cell_type")), "".join(c.get("source") or []).strip())
        for c in cells
        if isinstance(c, dict)
    ]


def same_content(a: bytes, b: bytes, *, jupyter: bool = False) -> bool:
    """Tell whether two versions are the same (see the module docstring for what is ignored)."""
    if jupyter:
        cells = _jupyter_cells(a)
        if cells is not None:
            return cells == _jupyter_cells(b)
    return _normal(a) == _normal(b)
