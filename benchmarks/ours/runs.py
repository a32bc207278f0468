"""Trigger N runs of one job at once with brickbook's ops and wait for all: ``python -m ... JOB_ID N``.

N threads trigger the runs (``ops.runs.trigger_job``, sharing one client and its rate limiter), then
one shared waiter waits for all of them (``ops.runs.wait_for_runs``: one active-only ``runs/list``
per poll, one ``runs/get`` per run once it has ended), as a runbook that fans out would. Prints one
JSON object: run id -> the wall-clock time (epoch seconds) at which the waiter returned it.
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

        def trigger(_: int) -> int:
            return runs.trigger_job(ctx, job_id, params=None, idempotency_token=None)

        with ThreadPoolExecutor(count) as pool:
            run_ids = list(pool.map(trigger, range(count)))
        settled = runs.wait_for_runs(ctx, run_ids, timeout=None)
        returned = time.time()
    print(json.dumps(dict.fromkeys(settled, returned)))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
