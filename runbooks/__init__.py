"""Named runbooks: one module each, a plain function that reads like a checklist plus a short task.

``namespace`` is the ``runbook`` collection that ``brickbook runbook.NAME`` and ``invoke runbook.NAME``
serve. Runbook modules import only what their task needs at definition time (the engine's decorator),
so listing tasks and ``--help`` stay fast.
"""

from __future__ import annotations

from invoke.collection import Collection

from runbooks import cluster_janitor, deploy, deploy_notebook_job, run_job, sql_report

__all__ = ["namespace"]

namespace = Collection("runbook")
for _module in (cluster_janitor, deploy, deploy_notebook_job, run_job, sql_report):
    for _task in Collection.from_module(_module).tasks.values():
        namespace.add_task(_task)
