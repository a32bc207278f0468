"""Workspace import primitives over real HTTP: which imports the client may resend after a lost answer.

A create without overwrite that lost its answer is resent by ``brickbook.ops.workspace`` (tests/ops).
"""

from __future__ import annotations

import pytest

from brickbook.api import workspace
from brickbook.api.workspace import ImportFormat
from brickbook.errors import InternalError, UsageError
from tests.api.test_wire import make_client, pat_config
from tests.conftest import Emulator
from tests.fakes import FakeTime

IMPORT = "/api/2.0/workspace/import"


def statuses(emulator: Emulator) -> list[object]:
    return [r["status"] for r in emulator.requests(IMPORT)]


def test_plain_import_is_not_resent_after_a_lost_answer(emulator: Emulator):
    """An import without overwrite is not resent by default: the lost answer surfaces after one attempt."""
    emulator.fault(pattern=f"POST {IMPORT}", status=500, after_handler=True, retry_after="0")
    with make_client(pat_config(emulator.url), FakeTime()) as client, pytest.raises(InternalError):
        workspace.import_(client, "/Shared/a.txt", b"a", format=ImportFormat.AUTO)
    assert statuses(emulator) == [500]


def test_import_over_the_size_limit_is_refused_before_sending(emulator: Emulator):
    """Content over 10 MB in base64 is a UsageError and no request is made."""
    with (
        make_client(pat_config(emulator.url), FakeTime()) as client,
        pytest.raises(UsageError, match="10 MB"),
    ):
        workspace.import_(client, "/Shared/big", b"x" * (8 * 1024 * 1024), format=ImportFormat.AUTO)
    assert statuses(emulator) == []
