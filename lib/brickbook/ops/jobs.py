"""Jobs: check a job or run spec before any request, and trigger runs exactly once.

The service would refuse most bad specs too, but only after a round trip and often with a message about
the whole request; here each problem is one line such as ``spec: tasks[1].depends_on[0].task_key
'load' is not a task of this job``.

``trigger_run`` and ``submit_run`` always send an idempotency token (the caller's, or a new one), so the
retry layer may resend them and a lost response never starts a second run.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from brickbook.api import jobs
from brickbook.client import Client

__all__ = ["submit_run", "trigger_run"]


def trigger_run(
    client: Client, job_id: int, *, params: Mapping[str, str], idempotency_token: str | None = None
) -> int:
    """Trigger a job once (``run-now``); return the run id.

    ``params`` go as ``job_parameters`` when the job declares parameters, otherwise as the legacy
    ``notebook_params`` (which fill the notebook's widgets), so ``key=value`` works for both kinds.
    """
    job = jobs.get(client, job_id)
    declared = bool(job.settings.get("parameters"))
    return jobs.run_now(
        client,
        job.job_id,
        idempotency_token=idempotency_token or uuid.uuid4().hex,
        job_parameters=params if declared else None,
        notebook_params=None if declared else params,
    )


def submit_run(client: Client, spec: Mapping[str, Any], *, idempotency_token: str | None = None) -> int:
    """Submit a one-time run (``runs/submit``) exactly once; return the run id."""
    return jobs.submit(client, spec, idempotency_token=idempotency_token or uuid.uuid4().hex)
