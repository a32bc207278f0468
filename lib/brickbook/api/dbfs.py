"""DBFS API 2.0 primitives (``/api/2.0/dbfs/*``): one function per endpoint.

From the DBFS API reference: ``put`` carries at most 1 MB inline; larger files go through ``create`` /
``add-block`` (1 MB raw per block, MAX_BLOCK_SIZE_EXCEEDED beyond) / ``close``, and a handle expires
after 10 idle minutes; ``read`` returns at most 1 MB per call; a large recursive ``delete`` answers 503
until it is done. Which of these calls may be resent is declared in ``brickbook.retry``, nowhere else.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from brickbook.api.model import ApiObject
from brickbook.client import Client
from brickbook.retry import is_idempotent

__all__ = [
    "BLOCK_SIZE",
    "FileInfo",
    "add_block",
    "add_block_body",
    "block_body",
    "close",
    "create",
    "delete",
    "get_status",
    "list_",
    "mkdirs",
    "move",
    "put",
    "read",
    "read_answer",
    "send_block",
]

BASE = "/api/2.0/dbfs"
BLOCK_SIZE = 1024 * 1024  # the limit for put contents, each add-block and each read


@dataclass(frozen=True)
class FileInfo(ApiObject):
    """A DBFS file or directory."""

    path: str = ""
    is_dir: bool = False
    file_size: int = 0
    modification_time: int | None = None


def list_(client: Client, path: str) -> list[FileInfo]:
    """List a directory (or describe a file): ``GET /api/2.0/dbfs/list``; a missing key is empty."""
    return [FileInfo.from_api(f) for f in client.get(f"{BASE}/list", {"path": path}).get("files") or []]


def get_status(client: Client, path: str) -> FileInfo:
    """Describe a path: ``GET /api/2.0/dbfs/get-status``."""
    return FileInfo.from_api(client.get(f"{BASE}/get-status", {"path": path}))


def block_body(fields: Mapping[str, Any], key: str, data: bytes) -> bytes:
    """Return the JSON body ``{**fields, key: base64(data)}`` as bytes, without ``json.dumps`` of the block.

    The small fields are encoded once by ``json.dumps``; the base64 text (ASCII, nothing to escape) is
    spliced in as bytes. Encoding a 1.4 MB string through ``json.dumps`` (httpx's ``json=``, which then
    encodes the result again) costs more CPU than sending it; this costs one base64 pass and one join.
    """
    if key in fields:  # it would keep its place instead of coming last, where the splice goes
        raise ValueError(f"{key!r} is both a field and the block's key")
    head = json.dumps({**fields, key: ""}, separators=(",", ":")).encode()
    return b"".join((head[:-2], binascii.b2a_base64(data, newline=False), b'"}'))


def put(client: Client, path: str, contents: bytes, *, overwrite: bool = False) -> None:
    """Write a small file (at most 1 MB) in one call: ``POST /api/2.0/dbfs/put``."""
    fields = {"path": path, "overwrite": overwrite}
    body = block_body(fields, "contents", contents)
    client.request(
        "POST", f"{BASE}/put", raw_json=body, idempotent=is_idempotent("POST", f"{BASE}/put", fields)
    )


def create(client: Client, path: str, *, overwrite: bool = False) -> int:
    """Open a write stream and return its handle: ``POST /api/2.0/dbfs/create``.

    Resent after a transient failure only with ``overwrite`` (a second stream is then harmless).
    """
    body = {"path": path, "overwrite": overwrite}
    return int(client.post(f"{BASE}/create", body)["handle"])


def add_block(client: Client, handle: int, data: bytes) -> None:
    """Append one block (at most 1 MB raw) to an open stream: ``POST /api/2.0/dbfs/add-block``.

    Resent after a transient failure; a duplicate append from a lost answer is caught by the uploader's
    final size check.
    """
    send_block(client, add_block_body(handle, data))


def add_block_body(handle: int, data: bytes) -> bytes:
    """Return the add-block body for ``data``, to build ahead (on a read-ahead thread) of ``send_block``."""
    return block_body({"handle": handle}, "data", data)


def send_block(client: Client, body: bytes) -> None:
    """Send an add-block body from ``add_block_body``: ``POST /api/2.0/dbfs/add-block``."""
    client.request("POST", f"{BASE}/add-block", raw_json=body)


def close(client: Client, handle: int) -> None:
    """Close a write stream: ``POST /api/2.0/dbfs/close``.

    Resent after a transient failure: if the first close went through, the second answers
    RESOURCE_DOES_NOT_EXIST and the uploader's size check decides whether the file is complete.
    """
    client.post(f"{BASE}/close", {"handle": handle})


def read(client: Client, path: str, *, offset: int, length: int = BLOCK_SIZE) -> bytes:
    """Read up to ``length`` bytes (at most 1 MB) at ``offset``: ``GET /api/2.0/dbfs/read``."""
    return read_answer(client.get_bytes(f"{BASE}/read", {"path": path, "offset": offset, "length": length}))


_DATA = b'"data":"'


def read_answer(raw: bytes) -> bytes:
    """Decode a ``read`` answer, ``{"bytes_read": N, "data": "<base64>"}``, to the bytes it carries.

    The base64 text is cut out of the answer and decoded where it lies: ``json.loads`` of 1.4 MB of it
    (and decoding the str it makes) cost more than the rest of a range's handling. The fields around it
    are parsed as JSON; an answer of any other shape (spaces, escapes) goes through ``json.loads``.
    """
    start = raw.find(_DATA)
    end = raw.find(b'"', start + len(_DATA)) if start >= 0 else -1
    if end >= 0 and raw.count(b"\\", start, end) == 0:
        try:
            fields = json.loads(raw[: start + len(_DATA)] + raw[end:])
        except (ValueError, RecursionError):
            fields = None
        if isinstance(fields, dict) and fields.get("data") == "":
            encoded: memoryview | str = memoryview(raw)[start + len(_DATA) : end]
        else:
            fields = None
    else:
        fields = None
    if fields is None:
        try:
            fields = json.loads(raw) if raw.strip() else {}
        except (ValueError, RecursionError):
            fields = {}
        if not isinstance(fields, dict):
            fields = {}
        encoded = fields.get("data") or ""
    # a2b_base64 takes the ASCII text as it is (b64decode would first copy it into bytes).
    return binascii.a2b_base64(encoded) if fields.get("bytes_read") and encoded else b""


def delete(client: Client, path: str, *, recursive: bool = False) -> None:
    """Delete a path: ``POST /api/2.0/dbfs/delete``; a missing path succeeds, as on the service.

    A large recursive delete stops after about 45 s with 503 ``PARTIAL_DELETE`` and must be called
    again: that answer is raised at once (``brickbook.retry.is_partial_delete``) and
    ``brickbook.ops.dbfs.delete`` loops; any other transient failure is retried by the client.
    """
    client.post(f"{BASE}/delete", {"path": path, "recursive": recursive})


def mkdirs(client: Client, path: str) -> None:
    """Create a directory and its parents: ``POST /api/2.0/dbfs/mkdirs``."""
    client.post(f"{BASE}/mkdirs", {"path": path})


def move(client: Client, source_path: str, destination_path: str) -> None:
    """Move a file or directory: ``POST /api/2.0/dbfs/move``."""
    client.post(f"{BASE}/move", {"source_path": source_path, "destination_path": destination_path})
