"""Entry point of an execution context's child process: ``python -I -u repl.py SPEC.json``.

One process per context of the Command Execution API (``/api/1.2/contexts/create``). SPEC.json (0600,
deleted as soon as it is read: it holds the context token) gives the emulator URL, the token acting as
the context's creator and the parent's pid. The process then reads command numbers from stdin, one a
line; command ``n`` waits in ``command-<n>.json`` (``{"n": 1, "language": "python"|"sql", "command":
"..."}``: a large command never fills the pipe). It runs them one at a time in one
namespace, so state carries from command to command as between the cells of a notebook; ``dbutils``,
``spark``, ``display`` are the notebook's (bootstrap.py). Each answer is written to ``result-<n>.json``
beside SPEC.json (through a rename, so the emulator never reads half a file):
``{"status": "Finished"|"Cancelled", "results": {...}}`` with ``results`` shaped as the API returns it.

- Python: the code is dedented (clients send indented blocks: the SDK's ``dbutils`` proxy does) and run;
  the text result is what a notebook cell shows: its stdout and stderr, then the ``repr`` of the last
  statement's value when that statement is an expression whose value is not None.
  ``dbutils.notebook.exit(v)`` answers ``v`` as the text. An exception answers ``resultType: error``
  with ``summary`` (``<span class='ansi-red-fg'>ValueError</span>: message``, as the real REPL marks
  it up) and ``cause`` (the traceback).
- SQL: ``spark.sql(command)``; the answer is a ``table`` result (``data`` rows, ``schema``).

Cancelling: the emulator creates ``cancel-<n>`` and, once the process has said ``ready`` (its SIGINT
handler is in place), sends SIGINT; the command in progress stops with
KeyboardInterrupt only when its own cancel file exists (a late signal cannot stop the next command), and
a queued command whose cancel file exists is answered Cancelled without running. Secret values read
through ``dbutils.secrets`` are redacted from every answer.
"""

from __future__ import annotations

import ast
import io
import json
import signal
import sys
import textwrap
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

if TYPE_CHECKING:
    from brickbook.emulator.runtime.child.bootstrap import (
        RedactingWriter,
        Runner,
        compile_source,
        user_traceback,
        watch_parent,
    )  # fmt: skip
    from brickbook.emulator.runtime.child.dbutils_shim import NotebookExit, Redactor
else:  # the child must not import brickbook: the siblings load as top-level modules
    from bootstrap import RedactingWriter, Runner, compile_source, user_traceback, watch_parent
    from dbutils_shim import NotebookExit, Redactor

MAX_TEXT_CHARS = 1_000_000  # a cell's output beyond this is cut (and ``truncated`` set)
MAX_TABLE_ROWS = 1000  # as a notebook's display of a result
_ERROR_MARKUP = "<span class='ansi-red-fg'>{name}</span>: {message}"


class Repl:
    """One context: a namespace kept between commands."""

    def __init__(self, spec: dict[str, Any], workdir: Path) -> None:
        self.workdir = workdir
        self.redactor = Redactor()
        self.runner = Runner({**spec, "upstream_task_values": {}}, self.redactor)
        self.namespace = self.runner.namespace({}, "__main__")
        self.current: int | None = None

    def interrupt(self, signum: int, frame: object) -> None:
        """SIGINT: stop the running command if (and only if) it is the one being cancelled."""
        if self.current is not None and (self.workdir / f"cancel-{self.current}").exists():
            raise KeyboardInterrupt

    def answer(self, number: int, status: str, results: dict[str, Any]) -> None:
        partial = self.workdir / f"result-{number}.json.part"
        partial.write_text(json.dumps({"status": status, "results": results}, default=str), encoding="utf-8")
        partial.replace(self.workdir / f"result-{number}.json")

    def run(self, number: int, language: str, command: str) -> None:
        if (self.workdir / f"cancel-{number}").exists():
            self.answer(number, "Cancelled", _cancelled())
            return
        self.current = number
        try:
            results = self.run_sql(command) if language == "sql" else self.run_python(number, command)
            status = "Finished"
        except KeyboardInterrupt:
            status, results = "Cancelled", _cancelled()
        finally:
            self.current = None
        self.answer(number, status, results)

    def run_python(self, number: int, command: str) -> dict[str, Any]:
        captured = io.StringIO()
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = RedactingWriter(captured, self.redactor)
        value: Any = None
        try:
            value = self.execute(textwrap.dedent(command), f"<command-{number}>")
        except NotebookExit as stop:
            return _text(self.redactor.redact(stop.value))
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # the user's code failed: the error result says how
            return self.error(exc)
        finally:
            sys.stdout, sys.stderr = saved
        text = captured.getvalue()
        if value is not None:
            shown = self.redactor.redact(repr(value))
            text = f"{text}{shown}" if not text or text.endswith("\n") else f"{text}\n{shown}"
        return _text(text)

    def execute(self, code: str, filename: str) -> Any:
        """Run ``code``; return the value of its last statement when that is an expression."""
        tree = ast.parse(code, filename)
        last = tree.body[-1] if tree.body else None
        if isinstance(last, ast.Expr):
            tree.body.pop()
        else:
            last = None
        compile_source(code, filename)  # register the text, so tracebacks show the lines
        exec(compile(tree, filename, "exec"), self.namespace)  # noqa: S102 - running the user's command is the point
        if last is None:
            return None
        expression = ast.Expression(body=last.value)
        return eval(compile(expression, filename, "eval"), self.namespace)  # noqa: S307 - idem

    def error(self, exc: BaseException) -> dict[str, Any]:
        line = "".join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()[-1]
        name, _, message = line.partition(": ")
        summary = _ERROR_MARKUP.format(name=type(exc).__name__, message=message if message else name)
        return {
            "resultType": "error",
            "summary": self.redactor.redact(summary),
            "cause": self.redactor.redact(user_traceback(exc)),
        }

    def run_sql(self, command: str) -> dict[str, Any]:
        try:
            frame = self.runner.spark.sql(command)
            rows = frame.take(MAX_TABLE_ROWS + 1)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # the statement failed: an error result, as a SQL cell shows it
            return self.error(exc)
        schema = [
            {"name": column["name"], "type": json.dumps(str(column.get("type_name", "STRING")).lower())}
            for column in frame._columns
        ]
        return {
            "resultType": "table",
            "data": [list(row) for row in rows[:MAX_TABLE_ROWS]],
            "schema": schema,
            "truncated": len(rows) > MAX_TABLE_ROWS,
            "isJsonSchema": True,
        }


def _text(text: str) -> dict[str, Any]:
    if len(text) > MAX_TEXT_CHARS:
        return {"resultType": "text", "data": text[:MAX_TEXT_CHARS], "truncated": True}
    return {"resultType": "text", "data": text}


def _cancelled() -> dict[str, Any]:
    return {"resultType": "error", "summary": "Command cancelled", "cause": "CommandCancelledException"}


def main(spec_path: str) -> int:
    spec_file = Path(spec_path)
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    spec_file.unlink()
    threading.Thread(target=watch_parent, args=(spec["parent_pid"],), daemon=True).start()
    repl = Repl(spec, spec_file.parent)
    signal.signal(signal.SIGINT, repl.interrupt)
    (repl.workdir / "ready").touch()  # from now on SIGINT cancels instead of killing the process
    for line in sys.stdin:
        if not line.strip():
            continue
        path = repl.workdir / f"command-{int(line)}.json"
        request = json.loads(path.read_text(encoding="utf-8"))
        path.unlink()
        repl.run(int(request["n"]), str(request["language"]), str(request["command"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
