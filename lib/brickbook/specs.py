"""Specs from the command line: ``--json`` (inline, or ``@path``) or ``--file`` (.json, .yaml, .yml).

``load_spec`` reads exactly one of the two into a dict; ``require`` / ``optional`` / ``require_one_of``
check fields before any request is sent. Every problem is a ``UsageError`` (exit 2) whose one line names
the file (with the line for YAML) or the offending field, e.g. ``spec: num_workers must be an integer >=
0, got 'two'``.

Every input is bounded: at most ``MAX_SPEC_BYTES`` (1 MiB; a 1,000-task job is about 300 KB), read without
trusting the size a file claims (``@/dev/zero``); at most ``MAX_DEPTH`` (64) levels of nesting in JSON and
YAML alike; no YAML aliases (nine levels of them grew a 1 KB file to gigabytes).

YAML comes from invoke's vendored PyYAML through a SafeLoader subclass; values are built from the node
tree so that what JSON cannot carry is refused by field path (``!!set``, ``!!binary``, ``!!python/...``,
non-string or duplicate keys, ``.inf``). Dates stay the text written (``2026-11-26``), and in the fields
the API types as strings (``base_parameters``, ``spark_conf``, task ``parameters``, ...) every scalar
keeps its text: ``on`` and ``05`` are not turned into a boolean or a number there.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from invoke.util import yaml as vendored_yaml  # type: ignore[attr-defined]  # invoke's vendored PyYAML

from brickbook.errors import UsageError

yaml: Any = vendored_yaml  # it has no annotations: use it as the untyped module it is

__all__ = [
    "BOOLEAN",
    "INTEGER",
    "LIST",
    "MAX_DEPTH",
    "MAX_SPEC_BYTES",
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

MAX_SPEC_BYTES = 1024 * 1024
MAX_DEPTH = 64
_MISSING = object()
_JSON_SUFFIXES = (".json",)
_YAML_SUFFIXES = (".yaml", ".yml")
# Fields the Jobs and Clusters APIs type as string -> string maps, and as lists of strings: YAML scalars
# there keep the text written. (Job parameters' ``default`` is a string too.)
_STRING_MAPS = frozenset(
    {
        "base_parameters",
        "custom_tags",
        "job_parameters",
        "notebook_params",
        "python_named_params",
        "spark_conf",
        "spark_env_vars",
        "sql_params",
        "tags",
    }
)
_STRING_LISTS = frozenset(
    {"commands", "dbt_commands", "jar_params", "parameters", "python_params", "spark_submit_params"}
)
_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset({"str", "int", "float", "bool", "value"})  # "value" is the plain scalar "="


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
                raise UsageError(f"{source}: the key {_shown(key)} appears twice in one object")
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
        raise UsageError(_too_deep(source, "")) from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise UsageError(f"{source}: not valid JSON: {str(error).split(';')[0]}") from None
    _check_values(data, source)
    return data


def _too_deep(source: str, where: str) -> str:
    at = f" (at {_short(where)})" if where else ""
    return f"{source}: the spec is nested deeper than {MAX_DEPTH} levels{at}; specs are not that deep"


def _check_values(data: Any, source: str) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH, or text that is not Unicode, naming where.

    Iterative, so there is no recursion to exhaust. A lone surrogate (``"\\udcff"``, or an argument
    that was not UTF-8) cannot be sent: the service could not store it.
    """
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str) and not _is_unicode(value):
            raise UsageError(f"{source}: {_short(path) or 'the top level'} is not valid Unicode text")
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise UsageError(_too_deep(source, path))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            if isinstance(key, str) and not _is_unicode(key):
                raise UsageError(
                    f"{source}: a key in {_short(path) or 'the top level'} is not valid Unicode text"
                )
            stack.append((child, _join(path, key), depth + 1))


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(text: str) -> str:
    """Text fit for the one error line: the unprintable (newlines, undecodable bytes) escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _short(path: str) -> str:
    """A field path fit for the one error line: escaped, and cut (a path 64 levels deep is long)."""
    path = _printable(path)
    return path if len(path) <= 80 else path[:79] + "…"


def _join(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


class _Refused(yaml.MarkedYAMLError):  # type: ignore[misc]  # vendored PyYAML has no stubs
    """A YAML feature a spec may not use; reported with its line, not as "not valid YAML"."""


def _without_timestamps() -> dict[str, list[tuple[str, Any]]]:
    """SafeLoader's implicit resolvers minus the timestamp one: ``2026-11-26`` stays a string."""
    return {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != _TAG + "timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


class _SpecLoader(yaml.SafeLoader):  # type: ignore[misc]  # vendored PyYAML has no stubs
    """SafeLoader that refuses aliases, caps nesting at MAX_DEPTH and leaves dates as text."""

    yaml_implicit_resolvers = _without_timestamps()

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(
                problem=f"YAML aliases (*{event.anchor}) are not allowed in specs; write the value out",
                problem_mark=event.start_mark,
            )
        if self.check_event(yaml.ScalarEvent):  # depth counts mappings and lists, as for JSON
            return super().compose_node(parent, index)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Refused(
                    problem=f"the spec is nested deeper than {MAX_DEPTH} levels; specs are not that deep",
                    problem_mark=self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _parse_yaml(text: str, source: str) -> Any:
    loader = _SpecLoader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _Builder(loader, source).value(node, "")
    except _Refused as error:
        mark = error.problem_mark
        raise UsageError(
            f"{source}: line {mark.line + 1} column {mark.column + 1}: {error.problem}"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise UsageError(f"{source}: not valid YAML{where}: {problem}") from None
    finally:
        loader.dispose()


class _Builder:
    """Turn a YAML node tree into JSON values, refusing what JSON cannot carry by its field path.

    ``name`` is the key a node sits under (``parameters[]`` for an item of ``parameters``); it says
    where the API wants strings, so that scalars there keep the text written.
    """

    def __init__(self, loader: _SpecLoader, source: str) -> None:
        self.loader = loader
        self.source = source

    def refuse(self, node: Any, path: str, problem: str) -> UsageError:
        where = _short(path) or "the top level"
        return UsageError(f"{self.source}: {where} (line {node.start_mark.line + 1}): {problem}")

    def value(self, node: Any, path: str, *, name: str = "", text: bool = False) -> Any:
        tag = str(node.tag).removeprefix(_TAG)
        if isinstance(node, yaml.MappingNode) and tag == "map":
            return self.mapping(node, path, name)
        if isinstance(node, yaml.SequenceNode) and tag == "seq":
            text = name in _STRING_LISTS
            return [
                self.value(item, f"{path}[{i}]", name=f"{name}[]", text=text)
                for i, item in enumerate(node.value)
            ]
        if isinstance(node, yaml.ScalarNode) and tag == "null":
            return None
        if isinstance(node, yaml.ScalarNode) and tag in _SCALAR_TAGS:
            return str(node.value) if text or tag in ("str", "value") else self.scalar(node, path)
        shown = f"!!{tag}" if str(node.tag).startswith(_TAG) else str(node.tag)
        raise self.refuse(
            node,
            path,
            f"{shown} cannot be sent to the API as JSON; use plain strings, numbers, lists and mappings",
        )

    def scalar(self, node: Any, path: str) -> Any:
        try:
            built = self.loader.construct_object(node)
        except ValueError as error:  # e.g. an integer of more than 4300 digits
            raise self.refuse(node, path, str(error).split(";")[0]) from None
        if isinstance(built, float) and not math.isfinite(built):
            raise self.refuse(node, path, f"{node.value} cannot be sent: JSON has no infinity or NaN")
        return built

    def mapping(self, node: Any, path: str, name: str) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_tag = str(key_node.tag).removeprefix(_TAG)
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.refuse(key_node, path, "keys must be strings, not lists or mappings")
            if key_tag != "str" and not (name in _STRING_MAPS and key_tag in _SCALAR_TAGS):
                problem = f"keys must be strings, not {_shown(key_node.value)} ({key_tag}); quote it"
                raise self.refuse(key_node, path, problem)
            key = str(key_node.value)
            where = _join(path, key)
            if key in data:
                raise self.refuse(key_node, where, "this key appears twice in one mapping")
            text = name in _STRING_MAPS or (name == "parameters[]" and key == "default")
            data[key] = self.value(value_node, where, name=key, text=text)
        return data


def _read(path: str, option: str) -> str:
    """Read a spec file, at most MAX_SPEC_BYTES of it, whatever kind of file it is."""
    shown = _printable(path)
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
            source = _printable(path)
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
        source = _printable(file)
        suffix = Path(file).suffix.lower()
        if suffix in _JSON_SUFFIXES:
            data = _parse_json(_read(file, "--file"), source)
        elif suffix in _YAML_SUFFIXES:
            data = _parse_yaml(_read(file, "--file"), source)
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
