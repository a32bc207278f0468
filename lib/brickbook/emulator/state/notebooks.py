"""Content formats: the ``Databricks notebook source`` header, cells, Jupyter, AUTO detection, zip.

Pure functions on bytes, no store and no HTTP. A notebook is kept as (language, body): the body is its
SOURCE text *without* the header line. A SOURCE export puts the header back, as the real service does,
so importing a file that starts with the header and exporting it gives the same bytes.
"""

from __future__ import annotations

import io
import json
import posixpath
import zipfile
from dataclasses import dataclass
from typing import Any

from brickbook.emulator.errors import ApiError

__all__ = [
    "EXTENSION_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_EXTENSION",
    "Detected",
    "detect_auto",
    "from_jupyter",
    "header_for",
    "source_with_header",
    "strip_header",
    "to_jupyter",
    "unzip_entries",
    "zip_entries",
]

LANGUAGES = ("PYTHON", "SQL", "SCALA", "R")
# The real service and the SDK's upload() map these suffixes; '.R' is also accepted in lower case.
EXTENSION_LANGUAGE = {".py": "PYTHON", ".sql": "SQL", ".scala": "SCALA", ".r": "R"}
LANGUAGE_EXTENSION = {"PYTHON": ".py", "SQL": ".sql", "SCALA": ".scala", "R": ".r"}
_COMMENT = {"PYTHON": "#", "SQL": "--", "SCALA": "//", "R": "#"}
_HEADER_TEXT = "Databricks notebook source"


def header_for(language: str) -> bytes:
    """The first line of a SOURCE notebook in ``language`` (without its newline)."""
    return f"{_COMMENT[language]} {_HEADER_TEXT}".encode()


def _separator(language: str) -> str:
    return f"\n\n{_COMMENT[language]} COMMAND ----------\n\n"


def _first_line(content: bytes) -> bytes:
    return content.split(b"\n", 1)[0].rstrip(b"\r").strip()


def has_header(content: bytes, language: str) -> bool:
    """Tell whether ``content`` starts with the notebook header of ``language``."""
    return _first_line(content.lstrip(b"\xef\xbb\xbf")) == header_for(language)


def strip_header(content: bytes) -> bytes:
    """Drop a leading notebook header line (any language's) and return the body."""
    text = content.lstrip(b"\xef\xbb\xbf")
    if _first_line(text) in {header_for(lang) for lang in LANGUAGES}:
        _, _, rest = text.partition(b"\n")
        return rest
    return content


def source_with_header(language: str, body: bytes) -> bytes:
    """The SOURCE export of a notebook: the header line, then the body."""
    return header_for(language) + b"\n" + body


@dataclass(frozen=True)
class Detected:
    """What an AUTO import makes of a path and its content."""

    path: str
    notebook: bool
    language: str | None = None
    jupyter: bool = False


def detect_auto(path: str, content: bytes) -> Detected:
    """Decide like ``format=AUTO``: a source file with its header or an ``.ipynb`` is a notebook.

    A notebook loses its extension (``/a/etl.py`` -> ``/a/etl``); anything else is a file, named as given.
    """
    stem, ext = posixpath.splitext(path)
    language = EXTENSION_LANGUAGE.get(ext.lower())
    if language is not None and has_header(content, language):
        return Detected(stem, notebook=True, language=language)
    if ext.lower() == ".ipynb":
        return Detected(stem, notebook=True, language="PYTHON", jupyter=True)
    return Detected(path, notebook=False)


def _cell_source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def from_jupyter(content: bytes) -> bytes:
    """Turn an ``.ipynb`` document into a Python SOURCE body (markdown cells become ``%md`` magics)."""
    try:
        document = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ApiError(
            "INVALID_PARAMETER_VALUE", f"The content is not a valid Jupyter notebook: {exc}"
        ) from exc
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise ApiError("INVALID_PARAMETER_VALUE", "The content is not a valid Jupyter notebook: no 'cells'.")
    parts = []
    for cell in cells:
        if not isinstance(cell, dict):
            continue
        text = _cell_source(cell)
        if cell.get("cell_type") == "markdown":
            lines = ["%md", *text.splitlines()]
            text = "\n".join(f"# MAGIC {line}".rstrip() for line in lines)
        parts.append(text)
    return _separator("PYTHON").join(parts).encode()


def _split_cells(language: str, body: bytes) -> list[str]:
    text = body.decode("utf-8", errors="replace")
    marker = f"{_COMMENT[language]} COMMAND ----------"
    return [part.strip("\n") for part in text.split(marker)]


def to_jupyter(language: str, body: bytes, name: str) -> bytes:
    """Render a notebook as an nbformat 4 document, one cell per ``COMMAND`` block."""
    magic = f"{_COMMENT[language]} MAGIC "
    cells: list[dict[str, Any]] = []
    for part in _split_cells(language, body):
        lines = part.splitlines()
        if (
            lines
            and all(line.startswith(magic.rstrip()) for line in lines)
            and lines[0].startswith(magic + "%md")
        ):
            text = "\n".join(line[len(magic) :] for line in lines)[len("%md") :].lstrip("\n")
            cells.append({"cell_type": "markdown", "metadata": {}, "source": text.splitlines(keepends=True)})
        else:
            cells.append(
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "metadata": {},
                    "outputs": [],
                    "source": part.splitlines(keepends=True),
                }
            )
    document = {
        "cells": cells,
        "metadata": {
            "application/vnd.databricks.v1+notebook": {"language": language.lower(), "notebookName": name},
            "language_info": {"name": language.lower()},
        },
        "nbformat": 4,
        "nbformat_minor": 0,
    }
    return json.dumps(document, indent=1).encode()


def zip_entries(entries: dict[str, bytes]) -> bytes:
    """A zip archive of ``{relative path: bytes}`` (a folder's SOURCE export)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def unzip_entries(content: bytes) -> dict[str, bytes]:
    """The files of a zip archive as ``{relative path: bytes}``; a bad archive is INVALID_PARAMETER_VALUE."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()}
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ApiError("INVALID_PARAMETER_VALUE", f"The content is not a valid zip archive: {exc}") from exc
