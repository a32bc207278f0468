"""What a plan says about one resource: ``Change(action, target, fields, reason)``, and ``Unknown``.

An "ensure" operation first plans (reads only) and returns a list of ``Change`` values, then applies
them; dry-run prints the plan and stops. ``fields`` names the fields that differ (never their values:
a field may hold a secret). ``Unknown`` stands for a value that exists only once an earlier change is
applied (a new job's id), so a plan can say so instead of guessing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Action", "Change", "Unknown", "is_change"]


class Action(StrEnum):
    """What applying a change does to its target."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Change:
    """One resource's difference between what is and what should be."""

    action: Action
    target: str  # what it applies to, e.g. "job 'nightly'" or "/Shared/etl/main"
    fields: tuple[str, ...] = ()  # for an update: the names of the fields that differ
    reason: str = ""  # why, in a few words ("settings differ", "not in the deployment file")
    # What ``apply`` needs to perform the change (the new settings, the local file, the object id):
    # for the op that planned it only; never shown, serialised or compared (it may hold a secret).
    payload: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Accept the plain strings the API layer speaks ("create") as well as the enum.
        object.__setattr__(self, "action", Action(self.action))
        object.__setattr__(self, "fields", tuple(self.fields))

    @property
    def changed(self) -> bool:
        """Tell whether applying this change does anything."""
        return self.action is not Action.UNCHANGED

    def describe(self) -> str:
        """Return one readable line: ``update job 'nightly' (timeout_seconds, tasks): settings differ``."""
        text = f"{self.action.value} {self.target}"
        if self.fields:
            text += f" ({', '.join(self.fields)})"
        return f"{text}: {self.reason}" if self.reason else text

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form used in reports and journals."""
        return {
            "action": self.action.value,
            "target": self.target,
            "fields": list(self.fields),
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        """Read the JSON form back (raises ValueError or KeyError when it is not one)."""
        fields = data.get("fields") or []
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise ValueError("fields must be a list of names")
        return cls(
            action=Action(data["action"]),
            target=str(data["target"]),
            fields=tuple(fields),
            reason=str(data.get("reason") or ""),
        )


def is_change(changes: Iterable[Change]) -> bool:
    """Tell whether any of ``changes`` does something."""
    return any(change.changed for change in changes)


@dataclass(frozen=True)
class Unknown:
    """A value known only after an earlier step acts, e.g. ``Unknown("job id, known after apply")``."""

    what: str

    def __str__(self) -> str:
        return f"({self.what})"

    def to_dict(self) -> dict[str, str]:
        """Return the JSON form: ``{"unknown": what}``."""
        return {"unknown": self.what}
