"""Copy one file to or from DBFS with the SDK: ``python dbfs_copy.py up|down LOCAL DBFS_PATH``.

Upload is ``dbfs.upload`` (create, add-block, close); download reads ``dbfs.download`` in 1 MiB
pieces into the local file, so neither side holds the whole file.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from databricks.sdk import WorkspaceClient

CHUNK = 1024 * 1024


def main(direction: str, local: Path, remote: str) -> None:
    workspace = WorkspaceClient()
    if direction == "up":
        with local.open("rb") as source:
            workspace.dbfs.upload(remote, source, overwrite=True)
    else:
        with workspace.dbfs.download(remote) as source, local.open("wb") as target:
            shutil.copyfileobj(source, target, CHUNK)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), sys.argv[3])
