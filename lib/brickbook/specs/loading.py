"""Load a spec from the command line: ``--json`` (inline, or ``@path``) or ``--file`` (.json, .yaml, .yml).

``load_spec`` reads exactly one of the two into a dict. Every problem is a ``UsageError`` (exit 2) whose
one line names the file (with the line for YAML) or the offending field. Every input is bounded: at most
``MAX_SPEC_BYTES``, read without trusting the size a file claims (``@/dev/zero``); at most ``MAX_DEPTH``
levels of nesting; JSON without NaN, infinities or duplicate keys; text that is valid Unicode.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from brickbook.errors import UsageError
from brickbook.specs.bounds import MAX_DEPTH, MAX_SPEC_BYTES, join, printable, short, shown, too_deep
from brickbook.specs.yaml_loader import parse_yaml

__all__ = ["load_spec"]

_JSON_SUFFIXES = (".json",)
_YAML_SUFFIXES = (".yaml", ".yml")


def _parse_json(text: str, source: str) -> Any:
    def refuse_constant(name: str) -> Any:
        raise UsageError(f"{source}: {name} is not a JSON number (JSON has no infinity or NaN)")

    def checked_float(literal: str) -> float:
        number = float(literal)
        if not math.isfinite(number):
            refuse_constant(literal)
        return number

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key, value in pairs:
            if key in data:
                raise UsageError(f"{source}: the key {shown(key)} appears twice in one object")
            data[key] = value
        return data

    try:
        data = json.loads(
            text, parse_constant=refuse_constant, parse_float=checked_float, object_pairs_hook=unique_keys
        )
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{source}: not valid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:  # far deeper than MAX_DEPTH: the parser gave up before we could count
        raise UsageError(too_deep(source, "")) from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise UsageError(f"{source}: not valid JSON: {str(error).split(';')[0]}") from None
    _check_values(data, source)
    return data


def _check_values(data: Any, source: str) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH, or text that is not Unicode, naming where.

    Iterative, so there is no recursion to exhaust. A lone surrogate (``"\\udcff"``, or an argument
    that was not UTF-8) cannot be sent: the service could not store it.
    """
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str) and not _is_unicode(value):
            raise UsageError(f"{source}: {short(path) or 'the top level'} is not valid Unicode text")
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise UsageError(too_deep(source, path))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            if isinstance(key, str) and not _is_unicode(key):
                raise UsageError(
                    f"{source}: a key in {short(path) or 'the top level'} is not valid Unicode text"
                )
            stack.append((child, join(path, key), depth + 1))


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _read(path: str, option: str) -> str:
    """Read a spec file, at most MAX_SPEC_BYTES of it, whatever kind of file it is."""
    shown = printable(path)
    try:
        with Path(path).open("rb") as stream:
            raw = stream.read(MAX_SPEC_BYTES + 1)
    except OSError as error:
        raise UsageError(f"{option}: cannot read {shown}: {error.strerror or error}") from None
    if len(raw) > MAX_SPEC_BYTES:
        raise UsageError(
            f"{option}: {shown} is larger than {MAX_SPEC_BYTES // 1024 // 1024} MiB, the most a spec may be"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{option}: {shown} is not UTF-8 text") from None


def load_spec(json_value: str | None, file: str | None) -> dict[str, Any]:
    """Return the spec given as ``--json '{...}'``, ``--json @spec.json`` or ``--file spec.yaml``.

    Exactly one of the two must be given; the top level must be an object (a mapping).
    """
    if (json_value is None) == (file is None):
        raise UsageError("give the spec with exactly one of --json '{...}' / --json @FILE or --file FILE")
    if json_value == "@" or file == "":
        raise UsageError("--json @FILE and --file FILE need a file name")
    if json_value is not None:
        if json_value.startswith("@"):
            path = json_value[1:]
            source = printable(path)
            data = _parse_json(_read(path, "--json"), source)
        else:
            source = "--json"
            if len(json_value.encode("utf-8", "surrogatepass")) > MAX_SPEC_BYTES:
                raise UsageError(
                    f"--json is larger than {MAX_SPEC_BYTES // 1024 // 1024} MiB, the most a spec may be"
                )
            data = _parse_json(json_value, source)
    else:
        assert file is not None  # the check above guarantees it; mypy cannot see that
        source = printable(file)
        suffix = Path(file).suffix.lower()
        if suffix in _JSON_SUFFIXES:
            data = _parse_json(_read(file, "--file"), source)
        elif suffix in _YAML_SUFFIXES:
            data = parse_yaml(_read(file, "--file"), source)
        else:
            raise UsageError(f"--file {source}: the name must end in .json, .yaml or .yml")
    if not isinstance(data, dict):
        raise UsageError(f"{source}: the spec must be an object (key: value mapping), not {_type_name(data)}")
    return data


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    return {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )
