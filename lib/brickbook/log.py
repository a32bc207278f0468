"""Structured logging: readable console lines on a TTY, JSON lines otherwise; secrets never leave.

Configuration happens once, at the edge (the command adapter), never at import time. Logs go to
stderr; results go to stdout. Every secret the invocation knows (token, client secret, OAuth access
tokens, secret values) is registered here and masked in log events, error messages and output.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping, MutableMapping
from typing import Any, Literal, TextIO

import structlog

__all__ = [
    "LogFormat",
    "configure_logging",
    "get_logger",
    "redact",
    "redact_event",
    "register_secret",
]

LogFormat = Literal["auto", "console", "json"]

MASK = "***"
# Keys whose values are secrets whatever they contain.
SENSITIVE_KEYS = frozenset(
    {"token", "access_token", "client_secret", "authorization", "password", "string_value", "bytes_value"}
)
# Shorter strings would mask innocent text; real tokens and secrets are far longer.
_MIN_SECRET_LENGTH = 4

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret so that it is masked wherever it would be printed."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret replaced by ``***``."""
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: MASK if str(k).lower() in SENSITIVE_KEYS else _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    if isinstance(value, BaseException):
        return redact(str(value))
    return value


def redact_event(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Mask secrets in a structlog event (a processor)."""
    for key, value in list(event_dict.items()):
        event_dict[key] = MASK if key.lower() in SENSITIVE_KEYS else _redact_value(value)
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
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Not cached: the factory looks sys.stderr up at each use, so redirection (and pytest capture) works.
        logger_factory=lambda *_: structlog.PrintLogger(file=stream if stream is not None else sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(**context: Any) -> Any:
    """Return a structlog logger bound to ``context``."""
    return structlog.get_logger("brickbook").bind(**context)
