"""The limits every spec input is held to, and the text helpers its one-line errors are built with.

At most ``MAX_SPEC_BYTES`` (1 MiB; a 1,000-task job is about 300 KB) and ``MAX_DEPTH`` (64) levels of
nesting, in JSON and YAML alike. Error lines name field paths (``tasks[1].depends_on[0].task_key``),
escaped and cut so that a hostile spec cannot flood or break the terminal.
"""

from __future__ import annotations

__all__ = ["MAX_DEPTH", "MAX_SPEC_BYTES", "join", "printable", "short", "shown", "too_deep"]

MAX_SPEC_BYTES = 1024 * 1024
MAX_DEPTH = 64


def printable(text: str) -> str:
    """Text fit for the one error line: the unprintable (newlines, undecodable bytes) escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def short(path: str) -> str:
    """A field path fit for the one error line: escaped, and cut (a path 64 levels deep is long)."""
    path = printable(path)
    return path if len(path) <= 80 else path[:79] + "…"


def shown(value: object) -> str:
    """A value fit for the one error line: its repr, cut."""
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def join(path: str, key: object) -> str:
    """Extend a field path by a list index (``tasks[0]``) or a key (``tasks[0].task_key``)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def too_deep(source: str, where: str) -> str:
    """The message for a spec nested deeper than MAX_DEPTH (``where`` may be empty)."""
    at = f" (at {short(where)})" if where else ""
    return f"{source}: the spec is nested deeper than {MAX_DEPTH} levels{at}; specs are not that deep"
