"""Decoding a DBFS ``read`` answer: the fast cut of the base64 text and the JSON fallback agree."""

from __future__ import annotations

import base64
import json

import pytest

from brickbook.api.dbfs import read_answer

DATA = bytes(range(256)) * 5  # base64 of it holds '+' and '/'
TEXT = base64.b64encode(DATA).decode()


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({"bytes_read": len(DATA), "data": TEXT}, separators=(",", ":")).encode(),
        json.dumps({"data": TEXT, "bytes_read": len(DATA)}).encode(),  # spaces, other order
        json.dumps({"bytes_read": len(DATA), "data": TEXT}).replace("/", "\\/").encode(),  # escaped
        b'{"bytes_read":%d,"data":"%s","extra":{"k":[1,2]}}' % (len(DATA), TEXT.encode()),
    ],
)
def test_every_shape_of_an_answer_gives_the_same_bytes(raw: bytes):
    """The service's compact answer, spaced or reordered or escaped JSON, all decode to the data."""
    assert read_answer(raw) == DATA


def test_nothing_read_is_empty():
    """bytes_read 0 (past the end of the file) is no bytes, whatever data says."""
    assert read_answer(b'{"bytes_read":0,"data":""}') == b""
    assert read_answer(b"{}") == b""
    assert read_answer(b"") == b""


def test_a_later_duplicate_key_wins_as_in_json():
    """A second "data" key is what JSON parsing keeps, so the fast cut must not use the first."""
    raw = b'{"bytes_read":3,"data":"AAAA","data":"%s"}' % base64.b64encode(b"xyz")
    assert read_answer(raw) == b"xyz"


def test_an_answer_that_is_not_json_is_no_bytes():
    """Anything that is not a JSON object carries no data (as the JSON path always answered)."""
    assert read_answer(b'{"bytes_read":3,"data":"eHl6"') == b""
    assert read_answer(b"[1, 2]") == b""
