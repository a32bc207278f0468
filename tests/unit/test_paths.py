"""Remote path validation: control characters and undecodable arguments are refused before any request."""

from __future__ import annotations

import os

import pytest

from brickbook.errors import UsageError
from brickbook.paths import dbfs_path, printable, workspace_path

CONTROLS = ["\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\x85", "\x9b"]


@pytest.mark.parametrize("char", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_workspace_path_with_a_control_character_is_refused(char: str):
    """A C0, DEL or C1 control anywhere in a workspace path is a usage error naming it escaped."""
    with pytest.raises(UsageError, match="control character") as caught:
        workspace_path(f"/Shared/t/a{char}b")
    assert char not in caught.value.message
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("char", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_dbfs_path_with_a_control_character_is_refused(char: str):
    """The same holds for DBFS paths, with or without the dbfs: scheme."""
    for raw in (f"dbfs:/data/a{char}b", f"/data/a{char}b", f"dbfs:/data/ab{char}"):
        with pytest.raises(UsageError, match="control character"):
            dbfs_path(raw)


def test_undecodable_argument_is_refused_in_escaped_form():
    """An argv path that was not UTF-8 (surrogate escapes) is exit 2 naming it as \\xff."""
    raw = os.fsdecode(b"dbfs:/bad\xff")
    with pytest.raises(UsageError, match=r"not valid UTF-8") as caught:
        dbfs_path(raw)
    assert "'/bad\\xff'" in caught.value.message


def test_printable_shortens_long_names():
    """A 5,000-character name is shown cut in the middle, with its length."""
    shown = printable("/Shared/" + "a" * 5000)
    assert len(shown) < 160
    assert "(5008 characters)" in shown


def test_printable_escapes_controls():
    """Controls are shown as escapes, so a message stays one line."""
    assert printable("a\nb\x1b") == "'a\\nb\\x1b'"


def test_ordinary_paths_are_normalised():
    """Spaces around, doubled slashes and a trailing slash are tidied; Unicode names are kept."""
    assert workspace_path(" /Shared//é t/ ") == "/Shared/é t"
    assert dbfs_path("dbfs:/data/x/") == "/data/x"
