"""The README's "Writing your own runbook" example, taken from the README and run against the emulator."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

from brickbook import __version__
from brickbook.cli import BrickbookProgram
from tests.conftest import Emulator
from tests.conftest import _runtime as RUNTIME
from tests.fakes import FakeTime
from tests.runbooks.conftest import api, put_notebook, runs_of

README = Path(__file__).resolve().parents[2] / "README.md"


def example_source() -> str:
    text = README.read_text()
    section = text[text.index("### Writing your own runbook") :]
    match = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert match, "the README's runbook example is missing"
    return match.group(1)


def test_the_readme_runbook_runs_once_per_key(workspace_env: Emulator, shared_time: FakeTime, tmp_path: Path):
    """The example loads its day once; the same key again starts no second run."""
    put_notebook(workspace_env, "/Shared/nightly", 'dbutils.widgets.text("day", "")\nprint("ok")')
    task = {"task_key": "main", "notebook_task": {"notebook_path": "/Shared/nightly"}}
    job_id = api(workspace_env, "POST", "/api/2.2/jobs/create", {"name": "nightly-etl", "tasks": [task]})[
        "job_id"
    ]
    scope: dict[str, object] = {}
    exec(compile(example_source(), "README.md", "exec"), scope)  # noqa: S102 - our own README's example
    for _ in range(2):
        program = BrickbookProgram(
            name="invoke", binary="invoke", version=__version__, namespace=scope["ns"], runtime=RUNTIME
        )
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
            program.run(
                [
                    "invoke",
                    "nightly",
                    "--day",
                    "2026-11-30",
                    "--key",
                    "k",
                    "--state-dir",
                    str(tmp_path),
                    "-o",
                    "json",
                ]
            )
        report = json.loads(out.getvalue())
        assert report["status"] == "succeeded", report
    assert len(runs_of(workspace_env, job_id)) == 1
