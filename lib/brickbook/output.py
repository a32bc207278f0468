"""Rendering for stdout: ``-o json`` for jq, ``-o text`` for people, and the JSON error envelope.

Everything printed passes through the redactor: a secret the invocation knows never reaches stdout.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TextIO

from brickbook.errors import BrickbookError
from brickbook.redaction import redact

__all__ = ["OutputFormat", "ProgressLine", "error_envelope", "render", "render_table", "render_text"]

OutputFormat = Literal["json", "text"]
TextRenderer = Callable[[Any], str]
MAX_CELL = 60


def _plain(value: Any) -> Any:
    """Return what JSON output shows for a value: typed API results as the API object they came from."""
    raw = getattr(value, "raw", None)
    return raw if isinstance(raw, dict) else str(value)


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping | list | tuple):
        text = json.dumps(value, separators=(",", ":"), default=_plain)
    else:
        text = str(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def render_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Render rows as an aligned table; columns default to the scalar keys of the rows, in order."""
    if not rows:
        return "(none)"
    if columns is None:
        seen: dict[str, None] = {}
        for row in rows:
            for key, value in row.items():
                if not isinstance(value, Mapping | list):
                    seen.setdefault(key, None)
        columns = list(seen)
    cells = [[_scalar(row.get(col)) for col in columns] for row in rows]
    widths = [max(len(col), *(len(r[i]) for r in cells)) for i, col in enumerate(columns)]
    lines = ["  ".join(col.upper().ljust(w) for col, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def render_text(data: Any) -> str:
    """Render data readably: a mapping as ``key: value`` lines, a list of mappings as a table."""
    if isinstance(data, Mapping):
        width = max((len(str(k)) for k in data), default=0)
        return "\n".join(f"{str(k) + ':':<{width + 1}} {_scalar(v)}" for k, v in data.items())
    if isinstance(data, list | tuple) and all(isinstance(r, Mapping) for r in data):
        return render_table(data)
    return _scalar(data)


def render(
    data: Any, fmt: OutputFormat, *, text: TextRenderer | None = None, stream: TextIO | None = None
) -> None:
    """Print ``data`` to stdout as JSON or text."""
    out = stream if stream is not None else sys.stdout
    if fmt == "json":
        rendered = json.dumps(data, indent=2, default=_plain)
    else:
        rendered = (text or render_text)(_plain(data) if hasattr(data, "raw") else data)
    out.write(redact(rendered) + "\n")
    out.flush()


def error_envelope(error: BaseException, exit_code: int, message: str) -> dict[str, Any]:
    """Return the JSON object printed on stdout for a failure under ``-o json``."""
    envelope: dict[str, Any] = {
        "error_code": error.error_code if isinstance(error, BrickbookError) else None,
        "http_status": error.http_status if isinstance(error, BrickbookError) else None,
        "message": redact(message),
        "exit_code": exit_code,
    }
    request_id = getattr(error, "request_id", None)
    if request_id:
        envelope["request_id"] = request_id
    result = getattr(error, "result", None)
    if isinstance(result, Mapping):  # a failed or timed-out run: what it ended as, task by task
        envelope["run"] = result
    return envelope


class ProgressLine:
    """One live status line on a TTY (rewritten in place); silent when the stream is not a terminal."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._active = self._stream.isatty()
        self._shown = False

    def update(self, text: str) -> None:
        """Replace the line with ``text``."""
        if self._active:
            self._stream.write("\r\x1b[K" + redact(text))
            self._stream.flush()
            self._shown = True

    def clear(self) -> None:
        """Blank the line so that a log line written next starts clean (the next update redraws it)."""
        if self._shown:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
            self._shown = False

    def close(self) -> None:
        """End the line so later output starts on a fresh one."""
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()
            self._shown = False
