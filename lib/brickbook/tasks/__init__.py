"""The invoke namespace shared by ``tasks.py`` and the ``brickbook`` console script."""

from __future__ import annotations

from invoke.collection import Collection

from brickbook.tasks import auth, emulator, fs, repos, secrets, workspace

__all__ = ["namespace"]

namespace = Collection()
for _module in (auth, emulator, fs, repos, secrets, workspace):
    namespace.add_collection(Collection.from_module(_module))
