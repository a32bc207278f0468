"""Hostile and careless runbook options, one row each, through a runbook run as a process.

The rows use the hostile table's ``Row`` and its checks (exit code, one ``error:`` line, no traceback,
no credential printed, and for refused rows no remote mutation and no local change), but run the
tiny test runbook (``python -m tests.runbooks.tiny``), which is not in the ``brickbook`` namespace.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Emulator
from tests.hostile.table import Row, Scene, mutations, run_row
from tests.runbooks.conftest import create_job

ROOT = Path(__file__).resolve().parents[2]
TINY = [sys.executable, "-m", "tests.runbooks.tiny"]
SECRET_PATH = "T0AAA/B0BBB/r0wSecretPath"


def _job(scene: Scene) -> None:
    scene.values["job"] = str(create_job(scene.emulator, "rows", 'dbutils.notebook.exit("ok")'))


def _file(scene: Scene) -> None:
    (scene.tmp / "file").write_text("not a folder")
    _job(scene)


def _corrupt(scene: Scene) -> None:
    (scene.tmp / "state" / "tiny-run").mkdir(parents=True)
    (scene.tmp / "state" / "tiny-run" / "k.json").write_text("{oops")
    _job(scene)


def _secret_not_shown(_scene: Scene, done: subprocess.CompletedProcess[bytes]) -> None:
    assert b"r0wSecretPath" not in done.stdout + done.stderr


def _nothing_mutated(scene: Scene, _done: subprocess.CompletedProcess[bytes]) -> None:
    assert mutations(scene.emulator) == []


RUN = ["tiny-run", "{job}", "--state-dir", "{tmp}/state", "--key", "k"]
ROWS = [
    Row("rb-on-interrupt-bad", [*RUN, "--on-interrupt", "maybe"], 2,
        r"^error: --on-interrupt must be cancel or detach, not 'maybe'$", setup=_job),
    Row("rb-wait-lock-word", [*RUN, "--wait-lock", "soon"], 2,
        r"^error: --wait-lock must be a positive duration", setup=_job),
    Row("rb-wait-lock-negative", [*RUN, "--wait-lock=-5"], 2, r"^error: --wait-lock must be", setup=_job),
    Row("rb-notify-ftp", [*RUN, "--notify", f"ftp://hooks.example.com/{SECRET_PATH}"], 2,
        r"^error: --notify must be an http:// or https:// URL, not ftp://$", setup=_job,
        check=_secret_not_shown),
    Row("rb-notify-no-host", [*RUN, "--notify", f"https:///{SECRET_PATH}"], 2, r"--notify URL has no host",
        setup=_job, check=_secret_not_shown),
    Row("rb-notify-bad-port", [*RUN, "--notify", f"https://h:99999/{SECRET_PATH}"], 2,
        r"--notify is not a valid URL", setup=_job, check=_secret_not_shown),
    Row("rb-notify-on-alone", [*RUN, "--notify-on", "always"], 2, r"^error: --notify-on needs --notify URL$",
        setup=_job),
    Row("rb-notify-on-bad", [*RUN, "--notify", "https://h/x", "--notify-on", "sometimes"], 2,
        r"--notify-on must be failure or always", setup=_job),
    Row("rb-key-empty", ["tiny-run", "{job}", "--state-dir", "{tmp}/state", "--key", ""], 2,
        r"^error: --key must not be empty", setup=_job),
    Row("rb-key-newline", ["tiny-run", "{job}", "--state-dir", "{tmp}/state", "--key", "a\nb"], 2,
        r"^error: --key must not contain control characters", setup=_job),
    Row("rb-key-too-long", ["tiny-run", "{job}", "--state-dir", "{tmp}/state", "--key", "k" * 300], 2,
        r"^error: --key is 300 characters long", setup=_job),
    Row("rb-state-dir-is-file", ["tiny-run", "{job}", "--state-dir", "{tmp}/file", "--key", "k"], 2,
        r"^error: state dir .*/file exists and is not a directory", setup=_file),
    Row("rb-state-dir-under-file", ["tiny-run", "{job}", "--state-dir", "{tmp}/file/sub", "--key", "k"], 2,
        r"^error: cannot create state dir .*/file/sub: .*/file is not a directory$", setup=_file),
    Row("rb-job-id-word", ["tiny-run", "abc", "--state-dir", "{tmp}/state"], 2,
        r"^error: JOB_ID must be a number, not 'abc'$"),
    Row("rb-corrupt-journal", RUN, 2, r"^error: journal .*/k.json is corrupt \(not JSON.*move the file aside",
        setup=_corrupt),
    Row("rb-missing-job", ["tiny-run", "987654", "--state-dir", "{tmp}/state", "--key", "k"], 4,
        r"does not exist", refused=False, check=_nothing_mutated),
    Row("rb-notify-unreachable-dry-run",
        [*RUN, "--dry-run", "--notify", f"http://127.0.0.1:9/{SECRET_PATH}", "--notify-on", "always"], 0,
        None, setup=_job, check=_secret_not_shown),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_runbook_option_row(row: Row, emulator: Emulator, tmp_path: Path):
    """The row ends with its documented exit code and one clear line, changing nothing it must not."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (tmp_path / "home").mkdir()
    run_row(row, emulator, scratch, command=TINY, extra_env={"PYTHONPATH": str(ROOT)})
