"""Dynamic value references and ``condition_task`` evaluation (Jobs API), as pure functions.

References are ``{{tasks.<key>.values.<name>}}`` (a task value set with ``dbutils.jobs.taskValues``),
``{{job.parameters.<name>}}``, ``{{job.id}}`` and ``{{job.run_id}}``; an unknown one is an error, as
on the real service. ``EQUAL_TO``/``NOT_EQUAL`` compare strings ("12.0" != "12"); the other operators
compare numbers and fail on an operand that is not one. A boolean task value compares as
``"true"``/``"false"``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["OPS", "ReferenceError_", "evaluate", "resolve"]

_REFERENCE = re.compile(r"\{\{\s*([\w.\-]+)\s*\}\}")
OPS = (
    "EQUAL_TO",
    "NOT_EQUAL",
    "GREATER_THAN",
    "GREATER_THAN_OR_EQUAL",
    "LESS_THAN",
    "LESS_THAN_OR_EQUAL",
)


class ReferenceError_(ValueError):
    """A reference that names nothing, or a condition that cannot be evaluated."""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _lookup(name: str, run: Mapping[str, Any]) -> str:
    parts = name.split(".")
    if parts[:1] == ["tasks"] and len(parts) == 4 and parts[2] == "values":
        values = run.get("_task_values", {}).get(parts[1], {})
        if parts[3] in values:
            return _text(values[parts[3]])
    elif parts[:2] == ["job", "parameters"] and len(parts) == 3:
        for param in run.get("job_parameters", []):
            if param["name"] == parts[2]:
                return str(param["value"])
    elif name == "job.id":
        return str(run["job_id"])
    elif name == "job.run_id":
        return str(run["run_id"])
    raise ReferenceError_(f"The reference {{{{{name}}}}} could not be resolved.")


def resolve(text: str, run: Mapping[str, Any]) -> str:
    """``text`` with every ``{{...}}`` reference replaced by its value in ``run``."""
    return _REFERENCE.sub(lambda m: _lookup(m.group(1), run), text)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise ReferenceError_(f"Cannot compare {text!r} numerically: it is not a number.") from exc


def evaluate(op: str, left: str, right: str) -> bool:
    """The outcome of ``left op right`` (operands already resolved)."""
    if op == "EQUAL_TO":
        return left == right
    if op == "NOT_EQUAL":
        return left != right
    if op not in OPS:
        raise ReferenceError_(f"Unknown condition operator {op}: use one of {', '.join(OPS)}.")
    a, b = _number(left), _number(right)
    return {
        "GREATER_THAN": a > b,
        "GREATER_THAN_OR_EQUAL": a >= b,
        "LESS_THAN": a < b,
        "LESS_THAN_OR_EQUAL": a <= b,
    }[op]
