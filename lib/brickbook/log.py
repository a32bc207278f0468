"""Structured logging: readable console lines on a TTY, JSON lines otherwise; secrets never leave.

Configuration happens once, at the edge (the command adapter), never at import time. Logs go to
stderr; results go to stdout. Every secret the invocation knows is masked in log events (see
``brickbook.redaction``).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, Literal, TextIO

import structlog

from brickbook.redaction import MASK, SENSITIVE_KEYS, redact, register_secret

__all__ = ["LogFormat", "configure_logging", "get_logger", "redact", "redact_event", "register_secret"]

LogFormat = Literal["auto", "console", "json"]


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


def configure_logging(*, fmt: LogFormat = "auto", level: str = "info", stream: TextIO | None = None) -> None:
    """Configure structlog for this process: JSON lines unless stderr is a TTY (or ``fmt`` says)."""
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


def get_logger(**context: Any) -> Any:
    """Return a structlog logger bound to ``context``.

    A program that uses brickbook as a library without configuring structlog would get structlog's
    defaults (every level, to stdout, where results belong); brickbook then configures its own defaults
    (info and up, to stderr, redacted) at first use. Configure structlog first to choose otherwise.
    """
    if not structlog.is_configured():
        configure_logging()
    return structlog.get_logger("brickbook").bind(**context)
