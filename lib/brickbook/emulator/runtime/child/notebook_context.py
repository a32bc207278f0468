"""The notebook context a Databricks notebook offers its code, for the run's child process.

On Databricks, code in a notebook finds its workspace and credentials three ways, and libraries
(mlflow's ``mlflow/utils/databricks_utils.py`` above all) read each of them:

- environment variables: ``DATABRICKS_HOST`` and ``DATABRICKS_TOKEN`` (the run's principal, so the
  databricks-sdk's default auth works) and ``MLFLOW_TRACKING_URI=databricks`` (and, unlike
  Databricks, ``MLFLOW_DISABLE_TELEMETRY=true``);
- the command context behind ``dbutils.notebook.entry_point.getDbutils().notebook().getContext()``,
  a JVM object seen through py4j: ``apiUrl()``, ``apiToken()``, ``notebookPath()``,
  ``notebookId()``, ``jobId()``, ``idInJob()`` answer ``scala.Option`` values (``isDefined()`` /
  ``get()``), ``tags()`` a Scala map whose ``get(key)`` is an Option, ``toJson()`` the whole context;
- the REPL context ``dbruntime.databricks_repl_context.get_context()`` (this directory's
  ``dbruntime`` package), an object with plain attributes (``apiUrl``, ``notebookPath``,
  ``isInNotebook``, ``isInJob``...). mlflow asks it first, and without IPython it is the only one it
  reaches.

The token in all three is the run's context token, which is registered with the redactor so that
printing it shows ``[REDACTED]``, as printing a secret does.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from brickbook.emulator.runtime.child.dbruntime import databricks_repl_context
else:  # the child loads this directory's stand-in ``dbruntime`` package as a top-level one
    from dbruntime import databricks_repl_context
__all__ = ["CommandContext", "EntryPoint", "NoSuchElementException", "NotebookContext", "Option"]


class NoSuchElementException(Exception):
    """``Option.get()`` on an empty Option (``java.util.NoSuchElementException: None.get``)."""


NoSuchElementException.__module__ = "java.util"


class Option:
    """A ``scala.Option`` as py4j shows it: ``isDefined()``, ``isEmpty()``, ``get()``, ``getOrElse()``."""

    def __init__(self, value: object = None) -> None:
        self._value = value

    def isDefined(self) -> bool:
        return self._value is not None

    def isEmpty(self) -> bool:
        return self._value is None

    def get(self) -> Any:
        if self._value is None:
            raise NoSuchElementException("None.get")
        return self._value

    def getOrElse(self, default: object) -> Any:
        return default if self._value is None else self._value

    def __repr__(self) -> str:
        return "None" if self._value is None else f"Some({self._value})"


class ScalaMap:
    """A read-only ``scala.collection.Map[String, String]``: ``get(key)`` is an Option."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def get(self, key: str) -> Option:
        return Option(self._values.get(key))

    def apply(self, key: str) -> str:
        if key not in self._values:
            raise NoSuchElementException(f"key not found: {key}")
        return self._values[key]

    def contains(self, key: str) -> bool:
        return key in self._values

    def size(self) -> int:
        return len(self._values)


@dataclass(frozen=True)
class NotebookContext:
    """What the run tells its code about itself; everything else derives from it."""

    api_url: str
    api_token: str = field(repr=False)
    kind: str  # notebook_task or spark_python_task
    path: str
    notebook_id: str | None = None
    user: str | None = None
    job_id: str | None = None
    run_id: str | None = None
    task_run_id: str | None = None

    @property
    def in_notebook(self) -> bool:
        return self.kind == "notebook_task"

    def tags(self) -> dict[str, str]:
        """The context tags Databricks sets (``jobId``, ``idInJob``, ``user``, ``notebookId``...)."""
        found = {
            "jobId": self.job_id,
            "idInJob": self.run_id,
            "multitaskParentRunId": self.run_id,
            "runId": self.task_run_id,
            "jobTaskType": "notebook" if self.in_notebook else "python",
            "user": self.user,
            "notebookId": self.notebook_id,
            "browserHostName": self.api_url.split("://", 1)[-1],
        }
        return {key: value for key, value in found.items() if value}

    def environment(self) -> dict[str, str]:
        """The variables a Databricks notebook's process has for its workspace and MLflow."""
        return {
            "DATABRICKS_HOST": self.api_url,
            "DATABRICKS_TOKEN": self.api_token,
            "MLFLOW_TRACKING_URI": "databricks",
            # mlflow's usage telemetry would fetch its settings from the internet and post to the
            # workspace's /api/2.0/mlflow/client-telemetry/ingest: an emulated run sends neither.
            "MLFLOW_DISABLE_TELEMETRY": "true",
        }

    def install(self) -> None:
        """Set the environment, a notebook's ``sys.argv`` and the REPL context (``dbruntime``)."""
        os.environ.update(self.environment())
        if self.in_notebook:
            sys.argv = [self.path]  # not the bootstrap script: libraries read argv[0] as the code's source
        tags = self.tags()
        databricks_repl_context.set_context(
            databricks_repl_context.ReplContext(
                apiUrl=self.api_url,
                apiToken=self.api_token,
                notebookPath=self.path if self.in_notebook else None,
                notebookId=self.notebook_id,
                isInNotebook=self.in_notebook,
                isInJob=self.job_id is not None,
                isInCluster=False,
                jobId=self.job_id,
                idInJob=self.run_id,
                jobTaskType=tags["jobTaskType"],
                userName=self.user,
                browserHostName=tags["browserHostName"],
                replId=f"brickbook-repl-{self.task_run_id or 0}",
            )
        )


class CommandContext:
    """The JVM command context: each attribute is a method answering an ``Option``."""

    def __init__(self, context: NotebookContext) -> None:
        self._context = context

    def apiUrl(self) -> Option:
        return Option(self._context.api_url)

    def apiToken(self) -> Option:
        return Option(self._context.api_token)

    def notebookPath(self) -> Option:
        return Option(self._context.path if self._context.in_notebook else None)

    def notebookId(self) -> Option:
        return Option(self._context.notebook_id)

    def jobId(self) -> Option:
        return Option(self._context.job_id)

    def idInJob(self) -> Option:
        return Option(self._context.run_id)

    def currentRunId(self) -> Option:
        return Option(self._context.task_run_id)

    def userName(self) -> Option:
        return Option(self._context.user)

    def tags(self) -> ScalaMap:
        return ScalaMap(self._context.tags())

    def extraContext(self) -> ScalaMap:
        values = {"api_url": self._context.api_url, "api_token": self._context.api_token}
        if self._context.in_notebook:
            values["notebook_path"] = self._context.path
        if self._context.notebook_id:
            values["notebook_id"] = self._context.notebook_id
        return ScalaMap(values)

    def toJson(self) -> str:
        """The context as JSON (``{"tags": {...}, "extraContext": {...}, ...}``), token included."""
        extra = {"api_url": self._context.api_url, "api_token": self._context.api_token}
        if self._context.in_notebook:
            extra["notebook_path"] = self._context.path
        body: dict[str, Any] = {"tags": self._context.tags(), "extraContext": extra}
        if self._context.task_run_id:
            body["currentRunId"] = {"id": int(self._context.task_run_id)}
        return json.dumps(body)

    def safeToJson(self) -> str:
        """``toJson()`` without the token, as Databricks offers it."""
        body = json.loads(self.toJson())
        body["extraContext"].pop("api_token", None)
        return json.dumps({"attributes": body})


class _NotebookUtils:
    def __init__(self, context: NotebookContext) -> None:
        self._context = context

    def getContext(self) -> CommandContext:
        return CommandContext(self._context)


class _JavaDbutils:
    def __init__(self, context: NotebookContext) -> None:
        self._context = context

    def notebook(self) -> _NotebookUtils:
        return _NotebookUtils(self._context)


class EntryPoint:
    """``dbutils.notebook.entry_point``: ``getDbutils().notebook().getContext()``."""

    def __init__(self, context: NotebookContext) -> None:
        self._context = context

    def getDbutils(self) -> _JavaDbutils:
        return _JavaDbutils(self._context)

    def getReplId(self) -> str:
        return f"brickbook-repl-{self._context.task_run_id or 0}"
