"""Rendering for stdout: ``-o json`` for jq, ``-o text`` for people, and the JSON error envelope.

Everything printed passes through the redactor: a secret the invocation knows never reaches stdout.
Text output shows what it cannot print safely as an escape (``printable``): a name from the server
holding a newline or an ANSI escape sequence cannot break a table or drive the terminal. JSON output
needs nothing more (``json.dumps`` escapes control characters); content (``fs.cat``) is not rendered
here and stays byte for byte.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TextIO

from brickbook.errors import ApiError, BrickbookError
from brickbook.redaction import redact

__all__ = [
    "OutputFormat",
    "ProgressLine",
    "discard_stdout",
    "documented_error_code",
    "error_envelope",
    "printable",
    "render",
    "render_table",
    "render_text",
]

OutputFormat = Literal["json", "text"]
TextRenderer = Callable[[Any], str]
MAX_CELL = 60


# The error_code the platform documents for each status (the SDK's errors/mapping.py status table), for
# answers that carry none or only the front door's integer: a script can branch on error_code alone.
_CODE_FOR_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "RESOURCE_CONFLICT",
    429: "REQUEST_LIMIT_EXCEEDED",
    499: "CANCELLED",
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """Return ``text`` with every character a terminal would act on or not show written as an escape.

    Control characters (``\\n``, ``\\x1b``), format characters such as bidirectional overrides
    (``\\u202e``), line and paragraph separators and unpaired surrogates become ``\\n``, ``\\x1b``,
    ``\\u202e`` ...; ordinary text, including non-ASCII letters and the space, is unchanged.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def documented_error_code(error: BaseException) -> str | None:
    """Return the error's error_code; for a service answer without one, the code documented for its status."""
    if not isinstance(error, BrickbookError):
        return None
    if error.error_code or not isinstance(error, ApiError):
        return error.error_code
    status = error.http_status or 0
    return _CODE_FOR_STATUS.get(status) or ("INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST")


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
    text = printable(text)
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
    headers = [printable(str(col)).upper() for col in columns]
    widths = [max(len(header), *(len(r[i]) for r in cells)) for i, header in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def render_text(data: Any) -> str:
    """Render data readably: a mapping as ``key: value`` lines, a list of mappings as a table."""
    if isinstance(data, Mapping):
        keys = [printable(str(k)) for k in data]
        width = max((len(k) for k in keys), default=0)
        return "\n".join(
            f"{k + ':':<{width + 1}} {_scalar(v)}" for k, v in zip(keys, data.values(), strict=True)
        )
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
        "error_code": documented_error_code(error),
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
    elif isinstance(result, list):  # several runs waited on together (jobs.wait-runs)
        envelope["runs"] = result
    return envelope


def discard_stdout() -> None:
    """Point fd 1 at /dev/null once its reader is gone, so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


class ProgressLine:
    """One live status line on a TTY (rewritten in place); silent when the stream is not a terminal."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._active = self._stream.isatty()
        self._shown = False
        self._stop_clearing: Callable[[], None] | None = None

    def update(self, text: str) -> None:
        """Replace the line with ``text``; any log line written while it shows blanks it first."""
        if self._active:
            if self._stop_clearing is None:
                from brickbook.log import before_each_line  # here, not at import: --help stays light

                self._stop_clearing = before_each_line(self.clear)
            self._stream.write("\r\x1b[K" + printable(redact(text)))
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
        if self._stop_clearing is not None:
            self._stop_clearing()
            self._stop_clearing = None
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()
            self._shown = False
