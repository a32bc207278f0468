"""The invoke namespace shared by ``tasks.py`` and the ``brickbook`` console script."""

from __future__ import annotations

from invoke.collection import Collection

from brickbook.tasks import auth, emulator, fs, workspace

__all__ = ["namespace"]

namespace = Collection()
namespace.add_collection(Collection.from_module(auth))
namespace.add_collection(Collection.from_module(emulator))
namespace.add_collection(Collection.from_module(fs))
namespace.add_collection(Collection.from_module(workspace))
