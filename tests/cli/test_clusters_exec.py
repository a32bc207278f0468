"""clusters.exec from the command line: code runs in a fresh context on a running emulated cluster.

The waiter sleeps on fake time (moving the emulator's clock along); a command runs in a real child
process, so each fake sleep also yields the processor for a moment while that process works.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.cli.test_clusters_tasks import new_cluster, running_cluster, time_  # noqa: F401 - the fixture
from tests.conftest import Emulator, run_cli
from tests.fakes import FakeTime


@pytest.fixture
def waits(time_: FakeTime) -> FakeTime:  # noqa: F811 - the imported fixture, used by this one
    time_.on_sleep.append(lambda: time.sleep(0.01))  # a child process is working, not emulated time
    return time_


def contexts_left(emulator: Emulator) -> int:
    created = [r for r in emulator.requests("/api/1.2/contexts/create") if r["status"] == 200]
    destroyed = [r for r in emulator.requests("/api/1.2/contexts/destroy") if r["status"] == 200]
    return len(created) - len(destroyed)


def test_exec_prints_the_text_result(waits: FakeTime):
    """clusters.exec --command prints what the cell shows and destroys its context."""
    cluster_id = running_cluster(waits)
    result = run_cli("clusters.exec", cluster_id, "--command", "print('hi')\n6 * 7")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "hi\n42\n"
    assert contexts_left(waits.emulator) == 0


def test_exec_from_a_file_as_json(waits: FakeTime, tmp_path: Path):
    """--file reads the code; -o json gives status, result type and data."""
    cluster_id = running_cluster(waits)
    script = tmp_path / "job.py"
    script.write_text("total = sum(range(5))\ntotal\n")
    result = run_cli("clusters.exec", cluster_id, "--file", str(script), "-o", "json")
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert (answer["status"], answer["result_type"], answer["data"]) == ("Finished", "text", "10")


def test_exec_sql_prints_a_table(waits: FakeTime):
    """--language sql runs the statement and prints its rows as a table."""
    cluster_id = running_cluster(waits)
    result = run_cli("clusters.exec", cluster_id, "--language", "sql", "--command", "SELECT 7 AS n")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["N", "7"]


def test_exec_error_is_exit_7_with_the_cause_on_stderr(waits: FakeTime):
    """An exception is exit 7: one error line with the summary, the traceback before it on stderr."""
    cluster_id = running_cluster(waits)
    result = run_cli("clusters.exec", cluster_id, "--command", "raise ValueError('no such table')")
    assert result.exit_code == 7
    assert "Traceback (most recent call last)" in result.stderr
    assert "<module>" in result.stderr
    assert f"error: command on cluster {cluster_id} failed: ValueError: no such table" in result.stderr
    assert "<span" not in result.stderr
    assert contexts_left(waits.emulator) == 0


def test_exec_timeout_is_exit_8_and_leaves_no_context(waits: FakeTime):
    """A command still running at --timeout is cancelled, its context destroyed, and the exit is 8."""
    cluster_id = running_cluster(waits)
    loop = "import time\nwhile True:\n    time.sleep(0.02)"
    result = run_cli("clusters.exec", cluster_id, "--command", loop, "--timeout", "5s")
    assert result.exit_code == 8, result.stderr
    assert "timeout 5s" in result.stderr
    assert contexts_left(waits.emulator) == 0


def test_exec_on_a_pending_cluster_is_refused(waits: FakeTime):
    """A cluster that is not running is refused by the service (INVALID_STATE: exit 5)."""
    cluster_id = new_cluster(waits)
    result = run_cli("clusters.exec", cluster_id, "--command", "1")
    assert result.exit_code == 5
    assert "unexpected state Pending" in result.stderr


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ([], "--command CODE or --file PATH"),
        (["--command", "1", "--file", "x.py"], "exactly one"),
        (["--command", "   "], "the code is empty"),
        (["--command", "1", "--language", "cobol"], "--language must be one of"),
        (["--command", "1", "--timeout", "0"], "--timeout must be a positive duration"),
        (["--file", "/no/such/file.py"], "--file: cannot read"),
    ],
)
def test_bad_input_is_exit_2_and_sends_nothing(waits: FakeTime, args: list[str], text: str):
    """Bad options are one error line, exit 2, before any request."""
    result = run_cli("clusters.exec", "0000-000000-abcdefgh", *args)
    assert result.exit_code == 2
    assert text in result.stderr
    assert waits.emulator.requests("/api/1.2/") == []


def test_bad_cluster_id_is_exit_2(waits: FakeTime):
    """A cluster id with spaces is refused before any request."""
    result = run_cli("clusters.exec", "not a cluster", "--command", "1")
    assert result.exit_code == 2
    assert "CLUSTER_ID must be a cluster id" in result.stderr
