"""Hostile and careless runbook options, one row each, through a runbook run as a process.

The rows use the hostile table's ``Row`` and its checks (exit code, one ``error:`` line, no traceback,
no credential printed, and for refused rows no remote mutation and no local change), but run the
tiny test runbook (``python -m tests.runbooks.tiny``) because the engine is not in the ``brickbook``
namespace yet.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ADMIN_TOKEN, SECRET_VALUES, Emulator
from tests.hostile.table import Row, Scene, mutations, snapshot
from tests.runbooks.conftest import create_job

ROOT = Path(__file__).resolve().parents[2]
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


def run_runbook_row(row: Row, emulator: Emulator, tmp: Path) -> subprocess.CompletedProcess[bytes]:
    """Run a row with the tiny runbook as a process and assert what every row promises."""
    scene = Scene(emulator=emulator, tmp=tmp, values={"tmp": str(tmp), "url": emulator.url})
    if row.setup is not None:
        row.setup(scene)
    before = snapshot(tmp)
    emulator.control("DELETE", "requests")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "BRICKBOOK_", "INVOKE_"))}
    env.update(
        HOME=str(tmp.parent / "home"),
        DATABRICKS_CONFIG_FILE=str(tmp.parent / "none"),
        DATABRICKS_HOST=emulator.url,
        DATABRICKS_TOKEN=ADMIN_TOKEN,
        BRICKBOOK_MAX_ATTEMPTS="2",
        BRICKBOOK_LOG_FORMAT="json",
        XDG_STATE_HOME=str(tmp.parent / "xdg"),
        PYTHONPATH=str(ROOT),
    )
    args = [sys.executable, "-m", "tests.runbooks.tiny"] + [str(a).format(**scene.values) for a in row.args]
    done = subprocess.run(args, env=env, cwd=tmp, capture_output=True, timeout=120, check=False)
    out, err = done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    shown = f"exit {done.returncode}\n--- stdout\n{out[-3000:]}\n--- stderr\n{err[-3000:]}"
    assert done.returncode == row.exit_code, shown
    assert "Traceback" not in out + err, shown
    assert not any(secret in out + err for secret in SECRET_VALUES), shown
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    if row.error is None:
        assert errors == [], shown
    else:
        assert len(errors) == 1 and re.search(row.error, errors[0]) and len(errors[0]) <= 400, shown
    if row.refused:
        assert mutations(emulator) == [], shown
        assert snapshot(tmp) == before, f"the scratch folder changed\n{shown}"
    if row.check is not None:
        row.check(scene, done)
    return done


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_runbook_option_row(row: Row, emulator: Emulator, tmp_path: Path):
    """The row ends with its documented exit code and one clear line, changing nothing it must not."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (tmp_path / "home").mkdir()
    run_runbook_row(row, emulator, scratch)
