"""Entry point of a task's child process: ``python -I -u bootstrap.py SPEC.json``.

The launcher writes SPEC.json (0600, deleted here as soon as it is read: it holds the context
token) with the emulator URL, the token, the task kind and path, widget values, argv and the task
values of tasks that already ran. This script then:

1. fetches the code over REST (``workspace/export`` SOURCE for workspace paths, ``dbfs/read`` for
   ``dbfs:/`` files);
2. runs it: a ``# Databricks notebook source`` notebook cell by cell (``# COMMAND ----------``;
   ``%md`` cells skipped; ``%run ./other`` runs another notebook in the same namespace; other magics
   fail the task), a SQL notebook (``-- Databricks notebook source``) cell by cell through
   ``spark.sql``, a Python file as ``__main__`` with ``sys.argv = [file, *parameters]``, a Python
   wheel task's entry point (the installed distribution's entry point of that name, else the function
   ``<package>.<entry_point>``) with ``sys.argv = [package, *parameters]``; all with
   ``dbutils`` and ``spark`` (spark_shim.py: ``spark.sql``/``spark.table`` on the emulator's engine)
   as globals, ``display`` showing a DataFrame, ``sc``/``sqlContext`` stubs that raise
   NotImplementedError;
3. writes RESULT.json beside SPEC.json: the exit value, error line and trace, the task values set.

Output goes to stdout/stderr (the task run's logs) through a writer that redacts secret values. The
process exits by itself if the emulator that started it goes away (kill -9 of the emulator).
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import json
import linecache
import os
import posixpath
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent))

if TYPE_CHECKING:
    from brickbook.emulator.runtime.child.dbutils_shim import (
        DBUtils,
        Fs,
        Jobs,
        Notebook,
        NotebookExit,
        Redactor,
        Secrets,
        TaskValues,
        Widgets,
    )  # fmt: skip
    from brickbook.emulator.runtime.child.rest import RestClient
    from brickbook.emulator.runtime.child.spark_shim import SQL_HEADER, DataFrame, SparkSession, sql_cells
else:  # the child must not import brickbook: the siblings load as top-level modules
    from dbutils_shim import DBUtils, Fs, Jobs, Notebook, NotebookExit, Redactor, Secrets, TaskValues, Widgets
    from rest import RestClient
    from spark_shim import SQL_HEADER, DataFrame, SparkSession, sql_cells

HEADER = "# Databricks notebook source"
SEPARATOR = "# COMMAND ----------"
MAGIC = "# MAGIC"
NO_SPARK = "no Spark in the brickbook emulator"
_CHILD_DIR = str(Path(__file__).resolve().parent)


class NotebookTimeout(Exception):
    """``dbutils.notebook.run`` hit its timeout."""


class RedactingWriter:
    """A text stream wrapper that replaces secret values before they reach the log."""

    def __init__(self, target: TextIO, redactor: Redactor) -> None:
        self._target = target
        self._redactor = redactor

    def write(self, text: str) -> int:
        self._target.write(self._redactor.redact(text))
        return len(text)

    def flush(self) -> None:
        self._target.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


class _NoSpark:
    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(NO_SPARK)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(NO_SPARK)


def display(value: Any, *args: Any, **kwargs: Any) -> None:
    """``display(df)`` prints the DataFrame as ``df.show()`` would; anything else prints as is."""
    if isinstance(value, DataFrame):
        value.show()
    else:
        print(value)


def compile_source(code: str, filename: str) -> Any:
    """Compile user code, registering its text so tracebacks show the failing lines."""
    linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
    return compile(code, filename, "exec")


def split_cells(source: str) -> list[str]:
    """The cells of a SOURCE notebook, header dropped."""
    lines = source.splitlines()
    if lines and lines[0].strip() == HEADER:
        lines = lines[1:]
    cells: list[list[str]] = [[]]
    for line in lines:
        if line.strip() == SEPARATOR:
            cells.append([])
        else:
            cells[-1].append(line)
    return ["\n".join(cell).strip("\n") for cell in cells if "\n".join(cell).strip()]


def magic_body(cell: str) -> list[str] | None:
    """The lines of a ``# MAGIC`` cell without the prefix, or None for a plain Python cell."""
    lines = [line for line in cell.splitlines() if line.strip()]
    if not lines or not all(line.startswith(MAGIC) for line in lines):
        return None
    return [line[len(MAGIC) :].removeprefix(" ") for line in cell.splitlines() if line.startswith(MAGIC)]


class Runner:
    """Runs notebooks and files for one task; holds what every nested notebook shares."""

    def __init__(self, spec: dict[str, Any], redactor: Redactor) -> None:
        self.spec = spec
        self.client = RestClient(spec["base_url"], spec["token"])
        self.redactor = redactor
        self.task_values: dict[str, Any] = {}
        self.fs = Fs(self.client)
        self.secrets = Secrets(self.client, redactor)
        self.jobs = Jobs(TaskValues(spec.get("upstream_task_values", {}), self.task_values))
        self.spark = SparkSession(self.client)

    def fetch(self, path: str) -> str:
        if path.startswith("dbfs:"):
            data = self.fs._read(path[len("dbfs:") :])
        else:
            answer = self.client.get("/api/2.0/workspace/export", path=path, format="SOURCE")
            data = base64.b64decode(answer.get("content", ""))
        return data.decode()

    def dbutils(self, widgets: dict[str, str]) -> DBUtils:
        return DBUtils(
            widgets=Widgets(widgets),
            notebook=Notebook(self.run_child),
            fs=self.fs,
            secrets=self.secrets,
            jobs=self.jobs,
        )

    def namespace(self, widgets: dict[str, str], name: str) -> dict[str, Any]:
        stub = _NoSpark()
        return {
            "__name__": name,
            "__builtins__": __builtins__,
            "dbutils": self.dbutils(widgets),
            "spark": self.spark,
            "sc": stub,
            "sqlContext": stub,
            "display": display,
            "displayHTML": stub,
        }

    def run_notebook(self, path: str, namespace: dict[str, Any]) -> None:
        """Run every cell of the notebook at ``path`` in ``namespace``."""
        source = self.fetch(path)
        if source.lstrip().startswith(SQL_HEADER):
            self.run_sql_notebook(path, source, namespace)
            return
        for number, cell in enumerate(split_cells(source), start=1):
            magic = magic_body(cell)
            if magic is None:
                exec(compile_source(cell, f"<notebook {path}, cell {number}>"), namespace)  # noqa: S102 - running the user's notebook is the point
                continue
            command, _, rest = magic[0].strip().partition(" ")
            if command == "%md":
                continue
            if command == "%python":
                code = "\n".join([rest, *magic[1:]])
                exec(compile_source(code, f"<notebook {path}, cell {number}>"), namespace)  # noqa: S102
            elif command == "%run":
                target = rest.split()[0] if rest.split() else ""
                self.run_notebook(
                    posixpath.normpath(posixpath.join(posixpath.dirname(path), target)), namespace
                )
            else:
                raise NotImplementedError(f"{command} cells are not supported by the brickbook emulator")

    def run_sql_notebook(self, path: str, source: str, namespace: dict[str, Any]) -> None:
        """Run a SQL notebook's cells as statements (``%md`` skipped, ``%python`` run as Python)."""
        for number, (kind, text) in enumerate(sql_cells(source), start=1):
            if kind == "sql":
                self.spark.sql(text)
            elif kind == "%python":
                exec(compile_source(text, f"<notebook {path}, cell {number}>"), namespace)  # noqa: S102
            elif kind != "%md":
                raise NotImplementedError(f"{kind} cells are not supported by the brickbook emulator")

    def run_child(self, path: str, timeout_seconds: int, arguments: dict[str, str]) -> str | None:
        """``dbutils.notebook.run``: a fresh namespace and widgets; the child's exit value."""

        def expire(signum: int, frame: object) -> None:
            raise NotebookTimeout(f"Notebook {path} timed out after {timeout_seconds} seconds")

        previous = signal.signal(signal.SIGALRM, expire) if timeout_seconds > 0 else None
        if timeout_seconds > 0:
            signal.setitimer(signal.ITIMER_REAL, timeout_seconds)
        try:
            self.run_notebook(path, self.namespace(arguments, "__main__"))
        except NotebookExit as stop:
            return stop.value
        finally:
            if previous is not None:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
        return None

    @staticmethod
    def run_wheel(package: str, entry_point: str, argv: list[str]) -> None:
        """Call a wheel's entry point as the Jobs runtime does; a non-zero return fails the task."""
        from importlib import metadata

        target = None
        with contextlib.suppress(metadata.PackageNotFoundError):
            found = [ep for ep in metadata.distribution(package).entry_points if ep.name == entry_point]
            found.sort(key=lambda ep: ep.group != "console_scripts")
            target = found[0].load() if found else None
        if target is None:
            target = getattr(importlib.import_module(package), entry_point)
        sys.argv = [package, *argv]
        code = target()
        if code not in (None, 0):
            raise SystemExit(code)

    def run_file(self, path: str, argv: list[str]) -> None:
        namespace = self.namespace({}, "__main__")
        namespace["__file__"] = path
        sys.argv = [path, *argv]
        exec(compile_source(self.fetch(path), path), namespace)  # noqa: S102


def user_traceback(exc: BaseException) -> str:
    """The traceback from the first frame of user code (the bootstrap's own frames dropped)."""
    tb: TracebackType | None = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_CHILD_DIR):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))


def watch_parent(parent: int) -> None:
    """Exit when the emulator that started this process is gone (it can no longer collect us)."""
    while True:
        if os.getppid() != parent:
            os._exit(137)
        time.sleep(0.5)


def main(spec_path: str) -> int:
    spec_file = Path(spec_path)
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    spec_file.unlink()
    threading.Thread(target=watch_parent, args=(spec["parent_pid"],), daemon=True).start()
    redactor = Redactor()
    sys.stdout = RedactingWriter(sys.stdout, redactor)
    sys.stderr = RedactingWriter(sys.stderr, redactor)
    runner = Runner(spec, redactor)
    result: dict[str, Any] = {}
    code = 0
    try:
        if spec["kind"] == "notebook_task":
            runner.run_notebook(spec["path"], runner.namespace(spec["widgets"], "__main__"))
        elif spec["kind"] == "python_wheel_task":
            runner.run_wheel(spec["path"], spec["entry_point"], spec["argv"])
        else:
            runner.run_file(spec["path"], spec["argv"])
    except NotebookExit as stop:
        result["notebook_output"] = {"result": redactor.redact(stop.value), "truncated": stop.truncated}
    except SystemExit as stop:
        if stop.code not in (None, 0):
            code = 1
            result["error"] = f"SystemExit: {stop.code}"
            result["error_trace"] = redactor.redact(user_traceback(stop))
    except BaseException as exc:  # the user's code failed: report it as the task's error
        code = 1
        line = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]
        result["error"] = redactor.redact(line)
        result["error_trace"] = redactor.redact(user_traceback(exc))
        sys.stderr.write(user_traceback(exc))
    result["task_values"] = runner.task_values
    partial = spec_file.with_name("result.json.part")
    partial.write_text(json.dumps(result), encoding="utf-8")
    partial.replace(spec_file.with_name("result.json"))
    sys.stdout.flush()
    sys.stderr.flush()
    return code


if __name__ == "__main__":
    os._exit(main(sys.argv[1]))
