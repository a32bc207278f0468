"""YAML specs: invoke's vendored PyYAML through a SafeLoader subclass, bounded, built into JSON values.

No aliases (nine levels of them grew a 1 KB file to gigabytes), at most ``MAX_DEPTH`` levels of nesting.
Values are built from the node tree so that what JSON cannot carry is refused by field path (``!!set``,
``!!binary``, ``!!python/...``, non-string or duplicate keys, ``.inf``). Dates stay the text written
(``2026-11-26``), and in the fields the API types as strings (``base_parameters``, ``spark_conf``, task
``parameters``, ...) every scalar keeps its text: ``on`` and ``05`` are not turned into a boolean or a
number there.
"""

from __future__ import annotations

import math
from typing import Any

from invoke.util import yaml as vendored_yaml  # type: ignore[attr-defined]  # invoke's vendored PyYAML

from brickbook.errors import UsageError
from brickbook.specs.bounds import MAX_DEPTH, join, short, shown

yaml: Any = vendored_yaml  # it has no annotations: use it as the untyped module it is

__all__ = ["parse_yaml"]

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


def parse_yaml(text: str, source: str) -> Any:
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
        where = short(path) or "the top level"
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
                problem = f"keys must be strings, not {shown(key_node.value)} ({key_tag}); quote it"
                raise self.refuse(key_node, path, problem)
            key = str(key_node.value)
            where = join(path, key)
            if key in data:
                raise self.refuse(key_node, where, "this key appears twice in one mapping")
            text = name in _STRING_MAPS or (name == "parameters[]" and key == "default")
            data[key] = self.value(value_node, where, name=key, text=text)
        return data
