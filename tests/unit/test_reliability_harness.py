"""The reliability harness's own pieces: the leak scan finds every form of a secret, the document renders."""

from __future__ import annotations

import base64
import urllib.parse
from pathlib import Path

import pytest

from reliability import leaks
from reliability.harness import SIZES, Figure, Harness, Secrets, SuiteResult
from reliability.run import render

SECRET = "dapi-reliability-0123456789abcdef"


def harness(tmp_path: Path) -> Harness:
    h = Harness(size=SIZES["ci"], seed=1, work=tmp_path)
    h.secrets.register(SECRET, "a token")
    return h


@pytest.mark.parametrize(
    "leaked",
    [
        SECRET,
        repr(SECRET),
        urllib.parse.quote(SECRET, safe=""),
        f"Authorization: Bearer {SECRET}",
        "x" + base64.b64encode(SECRET.encode()).decode(),
        base64.urlsafe_b64encode(SECRET.encode()).decode(),
    ],
)
def test_the_leak_scan_finds_each_form(tmp_path: Path, leaked: str):
    """A secret printed raw, as repr, URL-encoded, with Bearer, or in base64 fails the leak figure."""
    h = harness(tmp_path)
    h.capture.add("some output", f"line one\n{leaked}\n")
    result = leaks.run(h)
    assert not result.ok and result.figures[0].value >= 1
    assert "a token" in result.notes[0] and "some output" in result.notes[0]


def test_the_leak_scan_reads_captured_files_and_passes_clean_output(tmp_path: Path):
    """A captured log file is read at scan time; masked output passes with the bytes counted."""
    h = harness(tmp_path)
    log = tmp_path / "emulator.log"
    h.capture.add_file("emulator log", log)
    log.write_text("GET /api/2.0/clusters/list 200\n")
    h.capture.add("cli", "Authorization: Bearer ***\n")
    result = leaks.run(h)
    assert result.ok
    assert {f.name: f.value for f in result.figures}["bytes scanned"] > 30


def test_a_short_secret_is_refused():
    """A value under 8 characters would match everywhere: registering it is an error."""
    with pytest.raises(ValueError, match="too short"):
        Secrets().register("abc", "tiny")


def test_the_document_marks_a_failed_required_figure():
    """A figure that misses its bound is shown as NO and named in the result line."""
    result = SuiteResult(
        name="demo",
        title="Demo",
        description="What it does.",
        command="invoke reliability --only demo",
        figures=[Figure("runs", 3, "= 4", False), Figure("seconds", 1.5)],
    )
    text = render([result], command="invoke reliability", seconds=1, seed=1, load=0.0)
    assert "| runs | 3 | = 4 | **NO** |" in text and "FAILED: demo" in text
    assert "`invoke reliability --only demo`" in text
