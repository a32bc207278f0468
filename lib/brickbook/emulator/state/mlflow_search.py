"""MLflow's search grammar: ``filter`` strings and ``order_by`` clauses for experiments and runs.

A filter is clauses joined by ``AND`` (MLflow has no ``OR``): ``<entity> <op> <value>``. The entity is
``metrics.<key>``, ``params.<key>``, ``tags.<key>`` or ``attributes.<name>`` (``attribute.``/``attr.``,
or a bare attribute name); a key may be quoted with backticks or double quotes. Operators: ``=``,
``!=``, ``<``, ``<=``, ``>``, ``>=``, ``LIKE``, ``ILIKE``, ``IN``, ``NOT IN``. Metrics and the time
attributes compare as numbers; everything else as strings in single or double quotes. Anything else
is 400 INVALID_PARAMETER_VALUE with MLflow's "Invalid clause(s) in filter string" wording.

An ``order_by`` item is ``<entity> [ASC|DESC]``; items without a value sort last, as MLflow does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from brickbook.emulator.errors import invalid

__all__ = ["Clause", "Lookup", "matches", "parse_filter", "parse_order_by", "sort_records"]

MAX_FILTER_CHARS = 4096

# A lookup reads one entity from a record: ("metrics", "rmse") -> 0.3, or None when it is absent.
Lookup = Callable[[dict[str, Any], str, str], Any]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>!=|<=|>=|=|<|>)
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
      | (?P<tuple>\((?:[^()'"]|'[^']*'|"[^"]*")*\))
      | (?P<word>(?:[A-Za-z_][\w]*\.)?(?:`[^`]+`|"[^"]+"|[\w.\-/]+)|[A-Za-z_]\w*)
    )""",
    re.VERBOSE,
)
_ENTITY_TYPES = {
    "metric": "metrics",
    "metrics": "metrics",
    "param": "params",
    "params": "params",
    "parameter": "params",
    "parameters": "params",
    "tag": "tags",
    "tags": "tags",
    "attribute": "attributes",
    "attributes": "attributes",
    "attr": "attributes",
    "run": "attributes",
}
_NUMERIC_ATTRIBUTES = {"start_time", "end_time", "creation_time", "last_update_time"}
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
}


@dataclass(frozen=True)
class Clause:
    """One ``<entity> <op> <value>`` comparison."""

    kind: str  # metrics | params | tags | attributes
    key: str
    op: str
    value: Any


def _bad(text: str, why: str) -> Exception:
    return invalid(f"Invalid clause(s) in filter string: '{text[:200]}'. {why}")


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "`\"'":
        return text[1:-1]
    return text


def _entity(word: str) -> tuple[str, str]:
    head, dot, rest = word.partition(".")
    if dot and head.lower() in _ENTITY_TYPES:
        return _ENTITY_TYPES[head.lower()], _unquote(rest)
    return "attributes", _unquote(word)


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _bad(text, f"Unexpected text at position {position}.")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def _literal(kind: str, raw: str, text: str) -> Any:
    if kind == "string":
        return raw[1:-1]
    if kind == "number":
        return float(raw)
    if kind == "tuple":
        items = re.findall(r"'([^']*)'|\"([^\"]*)\"", raw)
        if not items:
            raise _bad(text, "IN needs a parenthesised list of quoted strings.")
        return tuple(a or b for a, b in items)
    raise _bad(text, f"Expected a value, got {raw!r}.")


def _comparator(tokens: list[tuple[str, str]], index: int, text: str) -> tuple[str, int]:
    """The comparator at ``index`` and how many tokens after the entity its value starts."""
    op_kind, op = tokens[index]
    step = 2
    if op_kind == "word" and op.upper() == "NOT" and index + 1 < len(tokens):
        op_kind, op, step = "op", "NOT IN", 3
        if tokens[index + 1][1].upper() != "IN":
            raise _bad(text, "Expected IN after NOT.")
    elif op_kind == "word" and op.upper() in ("LIKE", "ILIKE", "IN"):
        op_kind, op = "op", op.upper()
    if op_kind != "op" or index - 1 + step >= len(tokens):
        raise _bad(text, f"Unknown comparator {op!r}.")
    return op, step


def parse_filter(text: object) -> list[Clause]:
    """Parse a filter string (absent or empty: no clauses)."""
    if text is None or text == "":
        return []
    if not isinstance(text, str):
        raise invalid("filter must be a string.")
    if len(text) > MAX_FILTER_CHARS:
        raise invalid(f"filter is longer than {MAX_FILTER_CHARS} characters.")
    tokens = _tokens(text)
    clauses: list[Clause] = []
    index = 0
    while index < len(tokens):
        if len(tokens) - index < 3 or tokens[index][0] != "word":
            raise _bad(text, "Expected '<entity> <comparator> <value>'.")
        kind, key = _entity(tokens[index][1])
        op, step = _comparator(tokens, index + 1, text)
        value = _literal(*tokens[index + step], text)
        numeric = kind == "metrics" or (kind == "attributes" and key in _NUMERIC_ATTRIBUTES)
        if numeric != isinstance(value, float) or (op in ("IN", "NOT IN")) != isinstance(value, tuple):
            raise _bad(text, f"The value for {kind}.{key} has the wrong type for {op}.")
        clauses.append(Clause(kind, key, op, value))
        index += step + 1
        if index < len(tokens):
            if tokens[index][1].upper() != "AND":
                raise _bad(text, "Clauses must be joined with AND.")
            index += 1
            if index == len(tokens):
                raise _bad(text, "A clause must follow AND.")
    return clauses


def _like(pattern: str, value: str, *, fold: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if fold else re.DOTALL) is not None


def matches(record: dict[str, Any], clauses: Sequence[Clause], lookup: Lookup) -> bool:
    """Whether the record satisfies every clause (an absent entity satisfies none)."""
    for clause in clauses:
        have = lookup(record, clause.kind, clause.key)
        if have is None:
            return False
        if clause.op in ("IN", "NOT IN"):
            ok = (str(have) in clause.value) == (clause.op == "IN")
        elif clause.op in ("LIKE", "ILIKE"):
            ok = _like(str(clause.value), str(have), fold=clause.op == "ILIKE")
        elif isinstance(clause.value, float):
            ok = _COMPARISONS[clause.op](float(have), clause.value)
        else:
            ok = _COMPARISONS[clause.op](str(have), clause.value)
        if not ok:
            return False
    return True


def parse_order_by(items: object) -> list[tuple[str, str, bool]]:
    """``["metrics.rmse DESC", "name"]`` -> ``[(kind, key, descending)]``."""
    if items is None:
        return []
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list) or len(items) > 20:
        raise invalid("order_by must be a list of at most 20 strings.")
    parsed = []
    for item in items:
        if not isinstance(item, str) or not item.strip() or len(item) > 500:
            raise invalid(f"Invalid order_by clause: {str(item)[:100]!r}")
        words = item.strip().rsplit(None, 1)
        descending = False
        entity = item.strip()
        if len(words) == 2 and words[1].upper() in ("ASC", "DESC"):
            descending = words[1].upper() == "DESC"
            entity = words[0]
        kind, key = _entity(entity)
        parsed.append((kind, key, descending))
    return parsed


def sort_records(
    records: list[dict[str, Any]], order: Sequence[tuple[str, str, bool]], lookup: Lookup
) -> list[dict[str, Any]]:
    """Sort by each order item in turn (the last item applied first); absent values go last."""
    result = list(records)
    for kind, key, descending in reversed(order):
        present = [r for r in result if lookup(r, kind, key) is not None]
        absent = [r for r in result if lookup(r, kind, key) is None]
        present.sort(key=lambda r: lookup(r, kind, key), reverse=descending)
        result = present + absent
    return result
