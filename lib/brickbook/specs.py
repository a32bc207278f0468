"""Specs from the command line: ``--json`` (inline, or ``@path``) or ``--file`` (.json, .yaml, .yml).

``load_spec`` reads exactly one of the two into a dict; ``require`` / ``optional`` / ``require_one_of``
check fields before any request is sent. Every problem is a ``UsageError`` (exit 2) whose one line names
the file (with line and column when the parser gives them) or the offending field, e.g.
``spec: num_workers must be an integer >= 0, got 'two'``.

YAML comes from invoke's vendored PyYAML (``safe_load`` only), so no new dependency.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from invoke.util import yaml  # type: ignore[attr-defined]  # invoke re-exports its vendored PyYAML here

from brickbook.errors import UsageError

__all__ = [
    "BOOLEAN",
    "INTEGER",
    "LIST",
    "OBJECT",
    "STRING",
    "Kind",
    "integer",
    "load_spec",
    "one_of",
    "optional",
    "require",
    "require_one_of",
]

_MISSING = object()
_JSON_SUFFIXES = (".json",)
_YAML_SUFFIXES = (".yaml", ".yml")


def _parse_json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{source}: not valid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None


def _parse_yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)  # type: ignore[no-untyped-call]  # vendored PyYAML has no stubs
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise UsageError(f"{source}: not valid YAML{where}: {problem}") from None


def _read(path: str, option: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"{option}: cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{option}: {path} is not UTF-8 text") from None


def load_spec(json_value: str | None, file: str | None) -> dict[str, Any]:
    """Return the spec given as ``--json '{...}'``, ``--json @spec.json`` or ``--file spec.yaml``.

    Exactly one of the two must be given; the top level must be an object (a mapping).
    """
    if (json_value is None) == (file is None):
        raise UsageError("give the spec with exactly one of --json '{...}' / --json @FILE or --file FILE")
    if json_value is not None:
        if json_value.startswith("@"):
            path = json_value[1:]
            source = path
            data = _parse_json(_read(path, "--json"), source)
        else:
            source = "--json"
            data = _parse_json(json_value, source)
    else:
        assert file is not None  # the check above guarantees it; mypy cannot see that
        source = file
        suffix = Path(file).suffix.lower()
        if suffix in _JSON_SUFFIXES:
            data = _parse_json(_read(file, "--file"), source)
        elif suffix in _YAML_SUFFIXES:
            data = _parse_yaml(_read(file, "--file"), source)
        else:
            raise UsageError(f"--file {file}: the name must end in .json, .yaml or .yml")
    if not isinstance(data, dict):
        raise UsageError(f"{source}: the spec must be an object (key: value mapping), not {_type_name(data)}")
    return data


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    return {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


@dataclass(frozen=True)
class Kind:
    """What a field must be: the phrase errors use ("an integer >= 0") and the test."""

    description: str
    accepts: Callable[[object], bool]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is not a count


STRING = Kind("a non-empty string", lambda v: isinstance(v, str) and v != "")
INTEGER = Kind("an integer", _is_int)
BOOLEAN = Kind("true or false", lambda v: isinstance(v, bool))
OBJECT = Kind("an object", lambda v: isinstance(v, dict))
LIST = Kind("a list", lambda v: isinstance(v, list))


def integer(minimum: int | None = None, maximum: int | None = None) -> Kind:
    """An integer within bounds (either may be open)."""
    if minimum is not None and maximum is not None:
        phrase = f"an integer from {minimum} to {maximum}"
    elif minimum is not None:
        phrase = f"an integer >= {minimum}"
    elif maximum is not None:
        phrase = f"an integer <= {maximum}"
    else:
        return INTEGER

    def accepts(value: object) -> bool:
        if not _is_int(value):
            return False
        number = int(value)  # type: ignore[call-overload]  # _is_int checked it
        return (minimum is None or number >= minimum) and (maximum is None or number <= maximum)

    return Kind(phrase, accepts)


def one_of(*values: object) -> Kind:
    """One of a fixed set of values."""
    return Kind("one of " + ", ".join(json.dumps(v) for v in values), lambda v: v in values)


def _lookup(spec: Mapping[str, Any], field_path: str) -> Any:
    """Follow ``a.b[0].c``; return ``_MISSING`` when any step is absent (or null)."""
    current: Any = spec
    for part in field_path.replace("]", "").replace("[", ".").split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return _MISSING if current is None else current


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def optional(spec: Mapping[str, Any], field_path: str, kind: Kind) -> Any:
    """Return the field's value, or None when it is absent; a present value must be of ``kind``."""
    value = _lookup(spec, field_path)
    if value is _MISSING:
        return None
    if not kind.accepts(value):
        raise UsageError(f"spec: {field_path} must be {kind.description}, got {_shown(value)}")
    return value


def require(spec: Mapping[str, Any], field_path: str, kind: Kind) -> Any:
    """Return the field's value; it must be present and of ``kind``."""
    if _lookup(spec, field_path) is _MISSING:
        raise UsageError(f"spec: {field_path} is required")
    return optional(spec, field_path, kind)


def require_one_of(spec: Mapping[str, Any], *field_paths: str, exclusive: bool = True) -> list[str]:
    """Return which of the fields are present: at least one must be, and only one when ``exclusive``."""
    present = [p for p in field_paths if _lookup(spec, p) is not _MISSING]
    names = " or ".join(field_paths)
    if not present:
        raise UsageError(f"spec: one of {names} is required")
    if exclusive and len(present) > 1:
        raise UsageError(f"spec: give only one of {names}, not {' and '.join(present)}")
    return present
