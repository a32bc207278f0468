"""DBFS API 2.0: ``/api/2.0/dbfs/*``. Bodies are read in pieces, never more than about 1.4 MB at once.

``put`` takes JSON with base64 ``contents`` (at most 1 MB decoded, MAX_BLOCK_SIZE_EXCEEDED beyond) or a
multipart form whose file part (``contents``) streams straight to disk with no size limit. GET calls
take their parameters from the query string; a JSON body is read too, for the ``curl -X GET -d`` style
the legacy "DBFS API 2.0" documentation page shows.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.errors import ApiError
from brickbook.emulator.state.dbfs import BLOCK_LIMIT, DEFAULT_READ_LENGTH, DbfsState, Upload
from brickbook.emulator.wire import json_response, parse_json_object

# What follows a block's key in a JSON body: the colon and the opening quote of its string value.
_VALUE_START = re.compile(rb'\s*:\s*"')

__all__ = ["DbfsArea", "MultipartReader"]

BASE = "/api/2.0/dbfs"
# A JSON body carrying 1 MB in base64 plus room for the path and flags; beyond it we stop buffering.
JSON_BODY_LIMIT = (BLOCK_LIMIT * 4) // 3 + 64 * 1024
FIELD_LIMIT = 64 * 1024


def _too_big(what: str) -> ApiError:
    return ApiError(
        "MAX_BLOCK_SIZE_EXCEEDED",
        f"{what} may carry at most {BLOCK_LIMIT} bytes inline: use create, add-block and close, "
        "or a multipart form, for larger files.",
        status=400,
    )


async def _bounded_body(request: Request, what: str) -> bytes:
    """Read a body of at most JSON_BODY_LIMIT bytes; drain and refuse anything larger."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= JSON_BODY_LIMIT:
            chunks.append(chunk)
    if size > JSON_BODY_LIMIT:
        raise _too_big(what)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _bounded_json(request: Request, what: str) -> dict[str, Any]:
    """Parse a JSON body of at most JSON_BODY_LIMIT bytes; drain and refuse anything larger."""
    return parse_json_object(await _bounded_body(request, what))


def _block_json(raw: bytes, key: str) -> tuple[dict[str, Any], object]:
    """Parse a body carrying one large base64 string under ``key``; return the other fields and it.

    The fast path leaves the block out of ``json.loads`` (most of the CPU of an add-block): the last
    ``"key"`` that starts a member (after ``{`` or ``,``, so not inside a string) whose value holds no
    escape is cut out, the rest parsed, and the block's bytes returned as they are (base64 is ASCII).
    Anything else (an escape, a duplicate that would win, no such key) goes through ``json.loads``.
    """
    at = raw.rfind(b'"' + key.encode() + b'"')
    start = _VALUE_START.match(raw, at + len(key) + 2) if at >= 0 else None
    if start is not None and raw[:at].rstrip().endswith((b"{", b",")):
        end = raw.find(b'"', start.end())
        if end >= 0 and raw.find(b"\\", start.end(), end) < 0:
            body = parse_json_object(raw[: start.end()] + raw[end:])
            if body.get(key) == "":
                return body, memoryview(raw)[start.end() : end]
    body = parse_json_object(raw)
    return body, body.get(key, "")


def _block(raw: bytes, value: object, field: str) -> bytes:
    """Decode a block ``_block_json`` found; a body that is not JSON at all stays MALFORMED_REQUEST.

    The fast path never ran ``json.loads`` over the block, so a control character or a non-UTF-8 byte
    in it reaches the decoder: the whole body is parsed then, to answer as before.
    """
    try:
        return _b64(value, field)
    except ApiError:
        if isinstance(value, memoryview):
            parse_json_object(raw)
        raise


async def _params(request: Request) -> dict[str, Any]:
    """Query parameters, over a legacy JSON body on GET."""
    params: dict[str, Any] = (
        dict(await _bounded_json(request, "A request")) if request.method == "GET" else {}
    )
    params.update(request.query_params)
    return params


def _b64(value: object, field: str) -> bytes:
    """Decode standard base64, strictly (``binascii.a2b_base64`` strict mode: no stray characters)."""
    if not isinstance(value, str | bytes | memoryview):
        raise ApiError("INVALID_PARAMETER_VALUE", f"{field} must be a base64 string.")
    try:
        return binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError("INVALID_PARAMETER_VALUE", f"{field} is not valid base64.") from exc


def _flag(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _integer(value: object, field: str, default: int) -> int:
    if value is None:
        return default
    try:
        return int(str(value)) if not isinstance(value, bool) else int("x")
    except ValueError as exc:
        raise ApiError("INVALID_PARAMETER_VALUE", f"{field} must be an integer.") from exc


def _path(params: dict[str, Any], field: str = "path") -> str:
    value = params.get(field)
    if not isinstance(value, str) or not value:
        raise ApiError("INVALID_PARAMETER_VALUE", f"{field} is required.")
    return value


def _handle(body: dict[str, Any]) -> int:
    if "handle" not in body:
        raise ApiError("INVALID_PARAMETER_VALUE", "handle is required.")
    return _integer(body["handle"], "handle", 0)


class MultipartReader:
    """A push parser for ``multipart/form-data``: feed chunks, get ``(event, value)`` pairs back.

    Events: ``("part", headers)``, ``("data", bytes)`` for the current part, ``("end", None)``. It keeps
    at most one chunk plus a boundary's length buffered, so a part of any size streams through.
    """

    def __init__(self, boundary: bytes) -> None:
        self.delimiter = b"\r\n--" + boundary
        self.buffer = b"\r\n"  # so the first boundary looks like every later one
        self.state = "preamble"

    def feed(self, chunk: bytes) -> list[tuple[str, Any]]:
        self.buffer += chunk
        events: list[tuple[str, Any]] = []
        while True:
            if self.state in ("preamble", "data"):
                at = self.buffer.find(self.delimiter)
                if at < 0:
                    keep = len(self.delimiter) - 1
                    if self.state == "data" and len(self.buffer) > keep:
                        events.append(("data", self.buffer[:-keep]))
                        self.buffer = self.buffer[-keep:]
                    return events
                if self.state == "data" and at:
                    events.append(("data", self.buffer[:at]))
                self.buffer = self.buffer[at + len(self.delimiter) :]
                self.state = "boundary"
            if self.state == "boundary":
                if len(self.buffer) < 2:
                    return events
                if self.buffer.startswith(b"--"):
                    self.state = "done"
                    return [*events, ("end", None)]
                self.state = "headers"
            if self.state == "headers":
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    if len(self.buffer) > FIELD_LIMIT:
                        raise ApiError("MALFORMED_REQUEST", "Multipart part headers are too long.")
                    return events
                events.append(("part", self._headers(self.buffer[:end])))
                self.buffer = self.buffer[end + 4 :]
                self.state = "data"
            if self.state == "done":
                return events

    @staticmethod
    def _headers(block: bytes) -> dict[str, str]:
        headers: dict[str, str] = {}
        for line in block.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip():
                headers[name.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        for item in disposition.split(";")[1:]:
            key, _, value = item.strip().partition("=")
            headers[f"disposition.{key.lower()}"] = value.strip().strip('"')
        return headers


def _boundary(content_type: str) -> bytes:
    for item in content_type.split(";")[1:]:
        key, _, value = item.strip().partition("=")
        if key.lower() == "boundary" and value:
            return value.strip('"').encode("latin-1")
    raise ApiError("MALFORMED_REQUEST", "A multipart body needs a boundary.")


class DbfsArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        self.state: DbfsState = context.services.dbfs

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route(f"{BASE}/list", self.list, methods=["GET"]),
            Route(f"{BASE}/get-status", self.get_status, methods=["GET"]),
            Route(f"{BASE}/read", self.read, methods=["GET"]),
            Route(f"{BASE}/put", self.put, methods=["POST"]),
            Route(f"{BASE}/create", self.create, methods=["POST"]),
            Route(f"{BASE}/add-block", self.add_block, methods=["POST"]),
            Route(f"{BASE}/close", self.close, methods=["POST"]),
            Route(f"{BASE}/delete", self.delete, methods=["POST"]),
            Route(f"{BASE}/mkdirs", self.mkdirs, methods=["POST"]),
            Route(f"{BASE}/move", self.move, methods=["POST"]),
        ]

    async def list(self, request: Request) -> Response:
        """``GET list?path=``; the ``files`` key is left out for an empty directory."""
        files = self.state.list(_path(await _params(request)))
        return json_response({"files": files} if files else {})

    async def get_status(self, request: Request) -> Response:
        """``GET get-status?path=`` -> FileInfo."""
        return json_response(self.state.get_status(_path(await _params(request))))

    async def read(self, request: Request) -> Response:
        """``GET read?path=&offset=&length=`` -> ``{bytes_read, data}`` (base64)."""
        params = await _params(request)
        offset = _integer(params.get("offset"), "offset", 0)
        length = _integer(params.get("length"), "length", DEFAULT_READ_LENGTH)
        data = self.state.read(_path(params), offset, length)
        # Built as bytes: json.dumps of 1.4 MB of base64 was most of the CPU of a read.
        encoded = binascii.b2a_base64(data, newline=False)
        body = b"".join((b'{"bytes_read":', str(len(data)).encode(), b',"data":"', encoded, b'"}'))
        return Response(body, media_type="application/json")

    async def put(self, request: Request) -> Response:
        """``POST put``: JSON ``{path, contents, overwrite}`` or a multipart form."""
        if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
            return await self._put_multipart(request)
        raw = await _bounded_body(request, "put")
        body, encoded = _block_json(raw, "contents")
        contents = _block(raw, encoded, "contents")
        if len(contents) > BLOCK_LIMIT:
            raise _too_big("put")
        self.state.write_file(_path(body), contents, overwrite=_flag(body.get("overwrite")))
        return json_response({})

    async def _put_multipart(self, request: Request) -> Response:
        reader = MultipartReader(_boundary(request.headers["content-type"]))
        fields: dict[str, bytes] = {}
        upload: Upload | None = None
        current: str | None = None
        try:
            async for chunk in request.stream():
                for event, value in reader.feed(chunk):
                    if event == "part":
                        current = value.get("disposition.name", "")
                        if "disposition.filename" in value or current == "contents":
                            upload = upload or self.state.begin_upload()
                            current = "\x00file"
                    elif event == "data" and current == "\x00file" and upload is not None:
                        upload.write(value)
                    elif event == "data" and current is not None:
                        fields[current] = fields.get(current, b"") + value
                        if len(fields[current]) > FIELD_LIMIT:
                            raise ApiError("MALFORMED_REQUEST", f"Form field {current} is too long.")
            if upload is None:
                raise ApiError("INVALID_PARAMETER_VALUE", "The form has no file part (contents).")
            text = {name: value.decode("utf-8", "replace") for name, value in fields.items()}
            self.state.commit(upload, _path(text), overwrite=_flag(text.get("overwrite")))
        except BaseException:
            if upload is not None:
                self.state.discard(upload)
            raise
        return json_response({})

    async def create(self, request: Request) -> Response:
        """``POST create {path, overwrite}`` -> ``{handle}``."""
        body = await _bounded_json(request, "create")
        handle = self.state.create(_path(body), overwrite=_flag(body.get("overwrite")))
        return json_response({"handle": handle})

    async def add_block(self, request: Request) -> Response:
        """``POST add-block {handle, data}``: at most 1 MB decoded."""
        raw = await _bounded_body(request, "add-block")
        body, encoded = _block_json(raw, "data")
        self.state.add_block(_handle(body), _block(raw, encoded, "data"))
        return json_response({})

    async def close(self, request: Request) -> Response:
        """``POST close {handle}``: the file appears now."""
        self.state.close(_handle(await _bounded_json(request, "close")))
        return json_response({})

    async def delete(self, request: Request) -> Response:
        """``POST delete {path, recursive}``."""
        body = await _bounded_json(request, "delete")
        self.state.delete(_path(body), recursive=_flag(body.get("recursive")))
        return json_response({})

    async def mkdirs(self, request: Request) -> Response:
        """``POST mkdirs {path}``."""
        self.state.mkdirs(_path(await _bounded_json(request, "mkdirs")))
        return json_response({})

    async def move(self, request: Request) -> Response:
        """``POST move {source_path, destination_path}``."""
        body = await _bounded_json(request, "move")
        self.state.move(_path(body, "source_path"), _path(body, "destination_path"))
        return json_response({})
