"""Import a folder of ``.py`` notebooks with the SDK: a plain loop, or a pool of threads.

``python import_dir.py SRC DEST [THREADS]``: one ``workspace.import_`` per file (SOURCE, PYTHON,
overwrite), the way a script written against the SDK does it; names lose their ``.py`` like a notebook's.
"""

from __future__ import annotations

import base64
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from databricks.sdk import WorkspaceClient
from databricks.sdk.service.workspace import ImportFormat, Language


def main(source: Path, dest: str, threads: int) -> None:
    workspace = WorkspaceClient()
    workspace.workspace.mkdirs(dest)

    def send(path: Path) -> None:
        workspace.workspace.import_(
            f"{dest}/{path.stem}",
            content=base64.b64encode(path.read_bytes()).decode(),
            format=ImportFormat.SOURCE,
            language=Language.PYTHON,
            overwrite=True,
        )

    files = sorted(source.glob("*.py"))
    if threads <= 1:
        for path in files:
            send(path)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(send, files))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1)
