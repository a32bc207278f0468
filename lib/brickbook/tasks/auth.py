"""Tasks about credentials: ``auth.check``."""

from __future__ import annotations

from typing import Any

from brickbook.command import Invocation, command

__all__ = ["check"]


@command()
def check(inv: Invocation) -> dict[str, Any]:
    """Check the configured credentials: print host, profile, auth type and the calling user."""
    from brickbook.api import identity

    user = identity.me(inv.client)
    config = inv.config
    return {
        "host": config.host,
        "profile": config.profile,
        "auth_type": config.auth_type,
        "user_name": user.user_name,
        "display_name": user.display_name,
        "user_id": user.id,
        "groups": list(user.groups),
    }
