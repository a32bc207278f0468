"""Job and cluster specs: load them (bounded JSON or YAML), then check what brickbook relies on.

- ``load_spec(json_value, file)`` reads ``--json '{...}'``, ``--json @spec.json`` or ``--file spec.yaml``
  into a dict, bounded in size, nesting and YAML features (``brickbook.specs.loading``);
- ``validate_job_spec(spec)`` checks a job (``jobs/create``, ``jobs/reset``) or one-time run
  (``runs/submit``) spec: task keys, ``depends_on``, cluster references, and the required fields of the
  task kinds brickbook runs; task kinds are an open set, as in the API (``brickbook.specs.jobs``);
- ``check_cluster_spec(spec)`` checks a ``clusters/create`` spec (``brickbook.specs.clusters``);
- ``require`` / ``optional`` / ``require_one_of`` with a ``Kind`` check single fields
  (``brickbook.specs.fields``).

Every problem is a ``UsageError`` (exit 2) whose one line names the file (with the line for YAML) or the
offending field, e.g. ``spec: num_workers must be an integer >= 0, got 'two'``.
"""

from __future__ import annotations

from brickbook.specs.bounds import MAX_DEPTH, MAX_SPEC_BYTES
from brickbook.specs.clusters import check_cluster_spec
from brickbook.specs.fields import (
    BOOLEAN,
    INTEGER,
    LIST,
    OBJECT,
    STRING,
    Kind,
    integer,
    one_of,
    optional,
    require,
    require_one_of,
)
from brickbook.specs.jobs import KNOWN_TASK_FIELDS, task_kinds, validate_job_spec
from brickbook.specs.loading import load_spec

__all__ = [
    "BOOLEAN",
    "INTEGER",
    "KNOWN_TASK_FIELDS",
    "LIST",
    "MAX_DEPTH",
    "MAX_SPEC_BYTES",
    "OBJECT",
    "STRING",
    "Kind",
    "check_cluster_spec",
    "integer",
    "load_spec",
    "one_of",
    "optional",
    "require",
    "require_one_of",
    "task_kinds",
    "validate_job_spec",
]
