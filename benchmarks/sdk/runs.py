"""Trigger N runs of one job at once with the SDK and wait for each: ``python runs.py JOB_ID N``.

Each of N threads calls ``jobs.run_now_and_wait``, the SDK's own waiter (it polls runs/get). Prints
one JSON object: run id -> the wall-clock time (epoch seconds) at which its waiter returned.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from databricks.sdk import WorkspaceClient


def main(job_id: int, count: int) -> None:
    workspace = WorkspaceClient()

    def run_and_wait(_: int) -> tuple[int, float]:
        run = workspace.jobs.run_now_and_wait(job_id)
        return run.run_id or 0, time.time()

    with ThreadPoolExecutor(count) as pool:
        returned = dict(pool.map(run_and_wait, range(count)))
    print(json.dumps(returned))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
