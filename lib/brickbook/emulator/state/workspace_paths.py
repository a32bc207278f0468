"""Workspace paths: the canonical form of a request's path, and the folders every principal has.

Paths are absolute; ``/Workspace/...`` is an alias of ``/...``; a trailing ``/`` is ignored; ``.``,
``..`` and NUL are refused. Each principal (the admin, each ``--user``, each OAuth client) has a home
folder ``/Users/<name>`` and a Git folder root ``/Repos/<name>``.
"""

from __future__ import annotations

from brickbook.emulator.errors import ApiError
from brickbook.emulator.settings import EmulatorSettings

__all__ = ["ancestors", "canonical_path", "home_names"]


def canonical_path(path: object) -> str:
    """Validate a request path; return it without a ``/Workspace`` prefix or a trailing ``/``."""
    if not isinstance(path, str) or not path:
        raise ApiError("INVALID_PARAMETER_VALUE", "Missing required field: path")
    if not path.startswith("/"):
        raise ApiError("INVALID_PARAMETER_VALUE", f"Path ({path}) is not absolute.")
    parts = [part for part in path.split("/") if part]
    if any(part in (".", "..") for part in parts) or "\x00" in path:
        raise ApiError("INVALID_PARAMETER_VALUE", f"Path ({path}) is not a valid workspace path.")
    if parts[:1] == ["Workspace"]:
        parts = parts[1:]
    return "/" + "/".join(parts)


def home_names(settings: EmulatorSettings) -> tuple[str, ...]:
    """Every principal's name: each gets ``/Users/<name>`` and ``/Repos/<name>``."""
    return (settings.admin_user, *settings.users, *settings.oauth_clients)


def ancestors(where: str) -> list[str]:
    """A canonical path and every folder above it, root first: ``/a/b`` -> ``["/", "/a", "/a/b"]``."""
    parts = [part for part in where.split("/") if part]
    return ["/", *("/" + "/".join(parts[:i]) for i in range(1, len(parts) + 1))]
