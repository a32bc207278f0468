"""The bench document's lessons section is built from benchmarks/notes.md, one subsection per area."""

from __future__ import annotations

from benchmarks.run import lessons


def test_each_area_of_the_notes_becomes_a_subsection_in_order():
    """``## area`` headings become ``### area`` under one "What profiling taught us" heading."""
    notes = "stray text before any heading\n\n## Cold start\n\n- imports\n\n## DBFS\n\n- blocks\n"
    assert lessons(notes) == [
        "## What profiling taught us",
        "",
        "### Cold start",
        "",
        "- imports",
        "",
        "### DBFS",
        "",
        "- blocks",
        "",
    ]
