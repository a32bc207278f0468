"""Trigger N runs of one job at once with brickbook's ops and wait for each: ``python -m ... JOB_ID N``.

Each of N threads triggers a run (``ops.runs.trigger_job``) and waits on it (``ops.runs.wait_for_run``),
sharing one client and its rate limiter, as a runbook that fans out would. Prints one JSON object: run
id -> the wall-clock time (epoch seconds) at which its waiter returned.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from brickbook.client import Client
from brickbook.config import resolve_config
from brickbook.context import Context
from brickbook.log import configure_logging
from brickbook.ops import runs


def main(job_id: int, count: int) -> None:
    configure_logging(level="warning")
    with Client(resolve_config()) as client:
        ctx = Context(client=client)

        def run_and_wait(_: int) -> tuple[int, float]:
            run_id = runs.trigger_job(ctx, job_id, params=None, idempotency_token=None)
            runs.wait_for_run(ctx, run_id, timeout=None)
            return run_id, time.time()

        with ThreadPoolExecutor(count) as pool:
            returned = dict(pool.map(run_and_wait, range(count)))
    print(json.dumps(returned))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
