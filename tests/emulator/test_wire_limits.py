"""Request bodies the emulator cannot use answer 400 MALFORMED_REQUEST in the documented shape, never a 500.

One parser (``wire.parse_json_object``) serves every route, the DBFS bounded reader included, so the
cases are tried on a plain JSON route and on DBFS.
"""

from __future__ import annotations

import base64

import httpx
import pytest

from brickbook.emulator.wire import MAX_BODY_DEPTH
from tests.conftest import ADMIN_TOKEN
from tests.emulator.harness import Emu

JSON = {"Content-Type": "application/json"}


def nested(depth: int) -> bytes:
    """An object holding ``depth - 1`` nested arrays: ``depth`` levels in all."""
    return b'{"job_id": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def assert_malformed(response, fragment: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error_code"] == "MALFORMED_REQUEST"
    assert fragment in body["message"]
    assert body["details"][0]["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize("depth", [MAX_BODY_DEPTH + 1, 5_000, 200_000])
@pytest.mark.parametrize("path", ["/api/2.2/jobs/delete", "/api/2.0/dbfs/put"])
def test_deeply_nested_body_is_400_malformed_request(emu: Emu, depth: int, path: str):
    """A body nested deeper than the limit answers 400 MALFORMED_REQUEST naming it, not a plain-text 500."""
    response = emu.post(path, content=nested(depth), headers=JSON)
    assert_malformed(response, f"nested deeper than {MAX_BODY_DEPTH} levels")


def test_unbalanced_brackets_far_too_deep_are_400(emu: Emu):
    """Brackets that never close, deeper than the parser can follow, are still a 400."""
    assert_malformed(emu.post("/api/2.2/jobs/delete", content=b"[" * 100_000, headers=JSON), "nested deeper")


def test_nesting_up_to_the_limit_reaches_the_route(emu: Emu):
    """A body exactly at the limit is parsed, and the route answers about its content."""
    response = emu.post("/api/2.2/jobs/delete", content=nested(MAX_BODY_DEPTH), headers=JSON)
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "job_id" in response.json()["message"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'{"job_id": NaN}', "NaN is not a JSON value"),
        (b'{"job_id": Infinity}', "Infinity is not a JSON value"),
        (b'{"job_id": ' + b"1" * 5000 + b"}", "Exceeds the limit"),
        (b'{"job_id": 1', "Could not parse request body as JSON"),
        (b"\xff\xfe{}", "Could not parse request body as JSON"),
    ],
)
def test_values_json_cannot_carry_are_400(emu: Emu, content: bytes, fragment: str):
    """NaN, infinities, oversized integers, truncated JSON and undecodable bytes are 400s."""
    assert_malformed(emu.post("/api/2.2/jobs/delete", content=content, headers=JSON), fragment)


def test_deeply_nested_jupyter_import_is_a_400(emulator_server):
    """An .ipynb nested deeper than the JSON parser goes is refused as invalid content, not a 500."""
    deep = b'{"cells": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = httpx.post(
        f"{emulator_server.url}/api/2.0/workspace/import",
        json={"path": "/Shared/deep", "format": "JUPYTER", "content": base64.b64encode(deep).decode()},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "not a valid Jupyter notebook" in response.json()["message"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/2.2/jobs/get", {"job_id": "²"}),
        ("/api/2.2/jobs/get", {"job_id": "9" * 5000}),
        ("/api/2.2/jobs/runs/get", {"run_id": "٣²"}),
        ("/api/2.1/clusters/list", {"page_size": "²"}),
        ("/api/2.0/sql/warehouses", {"page_size": "9" * 5000}),
        ("/api/2.0/repos/²", {}),
        ("/api/2.0/workspace/list", {"path": "/", "notebooks_modified_after": "²"}),
    ],
)
def test_digits_int_refuses_are_invalid_parameters_not_500(emu: Emu, path: str, params: dict[str, str]):
    """An id or count of non-ASCII digits, or of more digits than int takes, is 400, never a 500."""
    response = emu.get(path, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
