"""The invoke namespace shared by ``tasks.py`` and the ``brickbook`` console script."""

from __future__ import annotations

from invoke.collection import Collection

from brickbook.tasks import auth, clusters, emulator, fs, jobs, repos, secrets, workspace

__all__ = ["namespace"]

namespace = Collection()
for _module in (auth, clusters, emulator, fs, jobs, repos, secrets, workspace):
    namespace.add_collection(Collection.from_module(_module))
