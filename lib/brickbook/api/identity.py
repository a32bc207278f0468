"""Identity: who the configured credentials belong to (SCIM ``Me``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from brickbook.client import Client

__all__ = ["User", "me"]


@dataclass(frozen=True)
class User:
    """The calling principal, as SCIM describes it; unknown fields stay in ``raw``."""

    id: str
    user_name: str
    display_name: str | None
    groups: tuple[str, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> User:
        """Build from a SCIM user object, tolerating missing and unknown fields."""
        groups = tuple(str(g.get("display", "")) for g in data.get("groups") or [] if isinstance(g, dict))
        return cls(
            id=str(data.get("id", "")),
            user_name=str(data.get("userName", "")),
            display_name=data.get("displayName"),
            groups=groups,
            raw=data,
        )


def me(client: Client) -> User:
    """Return the calling principal: ``GET /api/2.0/preview/scim/v2/Me``."""
    return User.from_api(client.get("/api/2.0/preview/scim/v2/Me"))
