"""Cold start, the SDK's side: list jobs and print them as JSON, like ``brickbook jobs.list -o json``."""

from __future__ import annotations

import json

from databricks.sdk import WorkspaceClient


def main() -> None:
    workspace = WorkspaceClient()
    print(json.dumps([job.as_dict() for job in workspace.jobs.list()], indent=2))


if __name__ == "__main__":
    main()
