"""Structured logging: readable console lines on a TTY, JSON lines otherwise; secrets never leave.

Configuration happens once, at the edge (the command adapter), never at import time. Logs go to
stderr; results go to stdout. Every secret the invocation knows is masked in log events (see
``brickbook.redaction``).

structlog is imported when the first line is written, not before: a command that logs nothing (most
one-request tasks: ``http.request`` is a debug event) never pays for it. Until then ``get_logger``
hands out a ``DeferredLogger`` that drops events below the configured level itself and passes every
other call to structlog, configured as ``configure_logging`` asked. Once structlog is imported (by a
line, the runbook engine's context variables, or a program or test of its own) everything goes to
structlog directly, so its configuration, ``capture_logs()`` included, decides as before.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Literal, TextIO

from brickbook.redaction import MASK, SENSITIVE_KEYS, redact, register_secret

if TYPE_CHECKING:
    from types import ModuleType

__all__ = [
    "DeferredLogger",
    "LogFormat",
    "configure_logging",
    "get_logger",
    "redact",
    "redact_event",
    "register_secret",
]

LogFormat = Literal["auto", "console", "json"]
# structlog's level numbers (those of the logging module), for filtering before structlog is loaded.
LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "exception": 40, "critical": 50}


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {k: MASK if str(k).lower() in SENSITIVE_KEYS else _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(v) for v in value]
    if isinstance(value, BaseException):
        return redact(str(value))
    # Anything else (bytes, headers, URLs, objects) would be printed through its repr by the renderers:
    # render it here, where the secrets can still be masked.
    return redact(repr(value))


def redact_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Mask secrets in a structlog event (a processor)."""
    for key, value in list(event_dict.items()):
        event_dict[key] = MASK if key.lower() in SENSITIVE_KEYS else _redact_value(value)
    return event_dict


# Called before each log line is written: a live progress line on the same terminal blanks itself first,
# whichever op logs while it is shown (registered by ``output.ProgressLine``).
_before_line: list[Callable[[], None]] = []


def before_each_line(callback: Callable[[], None]) -> Callable[[], None]:
    """Run ``callback`` before every log line is written; return the function that stops it."""
    _before_line.append(callback)

    def stop() -> None:
        with contextlib.suppress(ValueError):
            _before_line.remove(callback)

    return stop


def clear_live_lines(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Let live lines blank themselves before this event is written (a processor)."""
    for callback in list(_before_line):
        callback()
    return event_dict


class _Setup:
    """configure_logging's settings while structlog is not imported yet: applied by the first line."""

    def __init__(self) -> None:
        self.pending: dict[str, Any] | None = None
        self.threshold = LEVELS["info"]
        self.lock = threading.Lock()


_setup = _Setup()


def configure_logging(*, fmt: LogFormat = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Configure structlog for this process: JSON lines unless stderr is a TTY (or ``fmt`` says).

    Before structlog is imported the settings are kept and applied when the first line is written.
    """
    with _setup.lock:
        _setup.threshold = LEVELS[level.lower()]
        if "structlog" in sys.modules:
            _setup.pending = None
            _apply(fmt=fmt, level=level, stream=stream)
        else:
            _setup.pending = {"fmt": fmt, "level": level, "stream": stream}


def _apply(*, fmt: LogFormat, level: str, stream: TextIO | None) -> None:
    import structlog

    target = stream if stream is not None else sys.stderr
    if fmt == "auto":
        fmt = "console" if target.isatty() else "json"
    renderer: structlog.typing.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=target.isatty())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_event,
            clear_live_lines,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Not cached: the factory looks sys.stderr up at each use, so redirection (and pytest capture) works.
        logger_factory=lambda *_: structlog.PrintLogger(file=stream if stream is not None else sys.stderr),
        cache_logger_on_first_use=False,
    )


def _structlog() -> ModuleType:
    """Import structlog, configured: as ``configure_logging`` last asked, else with brickbook's defaults."""
    import structlog

    with _setup.lock:
        if _setup.pending is not None:
            settings, _setup.pending = _setup.pending, None
            _apply(**settings)
        elif not structlog.is_configured():
            _apply(fmt="auto", level="info", stream=None)
    return structlog


class DeferredLogger:
    """A bound logger that imports structlog only for a line that will be written.

    It offers what brickbook calls on a logger (``bind`` and the level methods); each call below the
    configured level returns at once while structlog is not imported, every other one goes to a
    structlog logger bound to the same context.
    """

    def __init__(self, context: dict[str, Any]) -> None:
        self._context = context

    def bind(self, **fields: Any) -> Any:
        if "structlog" in sys.modules:
            return self._real().bind(**fields)
        return DeferredLogger({**self._context, **fields})

    def _real(self) -> Any:
        return _structlog().get_logger("brickbook").bind(**self._context)

    def _log(self, level: str, event: str | None, *args: Any, **fields: Any) -> Any:
        if "structlog" not in sys.modules and LEVELS[level] < _setup.threshold:
            return None
        return getattr(self._real(), level)(event, *args, **fields)

    def debug(self, event: str | None = None, *args: Any, **fields: Any) -> Any:
        return self._log("debug", event, *args, **fields)

    def info(self, event: str | None = None, *args: Any, **fields: Any) -> Any:
        return self._log("info", event, *args, **fields)

    def warning(self, event: str | None = None, *args: Any, **fields: Any) -> Any:
        return self._log("warning", event, *args, **fields)

    warn = warning

    def error(self, event: str | None = None, *args: Any, **fields: Any) -> Any:
        return self._log("error", event, *args, **fields)

    def exception(self, event: str | None = None, *args: Any, **fields: Any) -> Any:
        return self._log("exception", event, *args, **fields)

    def critical(self, event: str | None = None, *args: Any, **fields: Any) -> Any:
        return self._log("critical", event, *args, **fields)


def get_logger(**context: Any) -> Any:
    """Return a structlog logger bound to ``context`` (a ``DeferredLogger`` until structlog is needed).

    A program that uses brickbook as a library without configuring structlog would get structlog's
    defaults (every level, to stdout, where results belong); brickbook then configures its own defaults
    (info and up, to stderr, redacted) at first use. Configure structlog first to choose otherwise.
    """
    if "structlog" in sys.modules:
        return _structlog().get_logger("brickbook").bind(**context)
    return DeferredLogger(dict(context))
