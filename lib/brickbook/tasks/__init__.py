"""The invoke namespace shared by ``tasks.py`` and the ``brickbook`` console script.

One collection per area module. ``collection(area)`` imports that area's module alone, so that
``brickbook jobs.list`` pays for the jobs tasks only (see ``brickbook.cli.namespace_for``);
``namespace`` (every area) is built on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from invoke.collection import Collection

__all__ = ["AREAS", "collection", "namespace"]

AREAS = (
    "auth",
    "clusters",
    "emulator",
    "fs",
    "iam",
    "jobs",
    "libraries",
    "mlflow",
    "policies",
    "pools",
    "repos",
    "secrets",
    "sql",
    "uc",
    "workspace",
)


def collection(area: str) -> Collection:
    """Return one area's tasks as a collection named after the area (``jobs``: ``jobs.list``, ...)."""
    return Collection.from_module(importlib.import_module(f"brickbook.tasks.{area}"), name=area)


def build_namespace() -> Collection:
    """Return every area's collection in one namespace."""
    served = Collection()
    for area in AREAS:
        served.add_collection(collection(area))
    return served


def __getattr__(name: str) -> Any:
    # ``namespace`` stays a module attribute for its users, built only when first asked for.
    if name == "namespace":
        globals()["namespace"] = built = build_namespace()
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
