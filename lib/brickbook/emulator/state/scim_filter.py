"""SCIM 2.0 list filters (RFC 7644 section 3.4.2.2), the subset the workspace SCIM API documents.

``attr op "value"`` with ``eq``, ``ne``, ``co``, ``sw``, ``ew`` (and ``attr pr``), joined by ``and`` /
``or`` (``and`` binds tighter), no parentheses: "we currently only support simple expressions".
Attribute names and string comparisons are case-insensitive, as SCIM defines them for these
attributes. A filter the emulator cannot parse is a 400 ``invalidFilter``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["MAX_FILTER_CHARS", "FilterError", "compile_filter"]

MAX_FILTER_CHARS = 2000

Predicate = Callable[[Mapping[str, Any]], bool]

_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))')
_OPS: dict[str, Callable[[str, str], bool]] = {
    "eq": lambda have, want: have == want,
    "ne": lambda have, want: have != want,
    "co": lambda have, want: want in have,
    "sw": lambda have, want: have.startswith(want),
    "ew": lambda have, want: have.endswith(want),
}


class FilterError(ValueError):
    """The filter is not one the service understands."""


def _tokens(text: str) -> list[tuple[str, bool]]:
    found: list[tuple[str, bool]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise FilterError(f"Invalid filter: {text[:80]!r}")
        quoted, bare = match.group(1), match.group(2)
        found.append((quoted.replace('\\"', '"') if quoted is not None else bare, quoted is not None))
        position = match.end()
    return found


def _value_of(resource: Mapping[str, Any], attribute: str) -> str | None:
    lowered = {key.lower(): value for key, value in resource.items()}
    value: Any = lowered.get(attribute)
    if value is None and "." in attribute:  # name.givenName, emails.value
        head, _, tail = attribute.partition(".")
        parent = lowered.get(head)
        if isinstance(parent, list):
            parent = parent[0] if parent else None
        if isinstance(parent, Mapping):
            value = {k.lower(): v for k, v in parent.items()}.get(tail)
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value).lower()


def _comparison(attribute: str, op: str, want: str | None) -> Predicate:
    name = attribute.lower()
    if op == "pr":
        return lambda resource: _value_of(resource, name) is not None
    compare = _OPS[op]
    wanted = (want or "").lower()

    def test(resource: Mapping[str, Any]) -> bool:
        have = _value_of(resource, name)
        if have is None:
            return op == "ne"
        return compare(have, wanted)

    return test


def compile_filter(text: str | None) -> Predicate:
    """A predicate over SCIM resources for ``text``; no filter (None or blank) keeps everything."""
    if text is None or not text.strip():
        return lambda resource: True
    if len(text) > MAX_FILTER_CHARS:
        raise FilterError(f"Invalid filter: longer than {MAX_FILTER_CHARS} characters.")
    tokens = _tokens(text)
    alternatives: list[list[Predicate]] = [[]]
    index = 0
    while index < len(tokens):
        attribute, quoted = tokens[index]
        if quoted or index + 1 >= len(tokens):
            raise FilterError(f"Invalid filter: {text[:80]!r}")
        op = tokens[index + 1][0].lower()
        if op == "pr":
            alternatives[-1].append(_comparison(attribute, op, None))
            index += 2
        elif op in _OPS and index + 2 < len(tokens):
            alternatives[-1].append(_comparison(attribute, op, tokens[index + 2][0]))
            index += 3
        else:
            raise FilterError(f"Invalid filter: unsupported operator {tokens[index + 1][0][:20]!r}.")
        if index < len(tokens):
            joiner = tokens[index][0].lower()
            if joiner == "or":
                alternatives.append([])
            elif joiner != "and":
                raise FilterError(f"Invalid filter: expected 'and' or 'or', got {tokens[index][0][:20]!r}.")
            index += 1
            if index >= len(tokens):
                raise FilterError(f"Invalid filter: {text[:80]!r}")
    groups = [tuple(terms) for terms in alternatives]
    return lambda resource: any(all(term(resource) for term in terms) for terms in groups)
