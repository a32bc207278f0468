"""Workspace API: ``/api/2.0/workspace/{list,get-status,import,export,mkdirs,delete}`` (Workspace API 2.0).

``import`` takes a JSON body with base64 ``content`` or, as the SDK's ``upload()`` sends it, a multipart
form whose file part is named ``content``. ``export?direct_download=true`` answers the raw bytes, as the
SDK's ``download()`` expects.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.errors import ApiError
from brickbook.emulator.state.numbers import whole_number
from brickbook.emulator.state.workspace import WorkspaceState
from brickbook.emulator.wire import caller, json_response, read_json

__all__ = ["WorkspaceArea", "parse_multipart"]

BASE = "/api/2.0/workspace"
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_NAME = re.compile(rb'\bname="([^"]*)"', re.IGNORECASE)


def parse_multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    """Split a ``multipart/form-data`` body into ``{field name: bytes}``, byte for byte."""
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise ApiError("MALFORMED_REQUEST", "The multipart request has no boundary.")
    delimiter = b"--" + match.group(1).encode("latin-1")
    fields: dict[str, bytes] = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):  # the closing delimiter
            break
        head, sep, value = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        name = _NAME.search(head)
        if not sep or name is None:
            raise ApiError("MALFORMED_REQUEST", "A multipart part has no name.")
        fields[name.group(1).decode()] = value.removesuffix(b"\r\n")
    return fields


def _flag(value: Any) -> bool:
    """A boolean from JSON (true) or a form or query string ("true")."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


class WorkspaceArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        self.state: WorkspaceState = context.services.workspace

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route(f"{BASE}/list", self.list, methods=["GET"]),
            Route(f"{BASE}/get-status", self.get_status, methods=["GET"]),
            Route(f"{BASE}/import", self.import_, methods=["POST"]),
            Route(f"{BASE}/export", self.export, methods=["GET"]),
            Route(f"{BASE}/mkdirs", self.mkdirs, methods=["POST"]),
            Route(f"{BASE}/delete", self.delete, methods=["POST"]),
        ]

    async def list(self, request: Request) -> Response:
        """``GET list?path=&notebooks_modified_after=``; ``objects`` is left out when there are none."""
        after = request.query_params.get("notebooks_modified_after")
        since = None if after is None else whole_number(after)
        if after is not None and since is None:
            raise ApiError("INVALID_PARAMETER_VALUE", "notebooks_modified_after must be epoch milliseconds.")
        objects = self.state.list_objects(
            caller(request), request.query_params.get("path"), notebooks_modified_after=since
        )
        return json_response({"objects": objects} if objects else {})

    async def get_status(self, request: Request) -> Response:
        """``GET get-status?path=``."""
        return json_response(self.state.get_status(caller(request), request.query_params.get("path")))

    async def import_(self, request: Request) -> Response:
        """``POST import``: JSON ``{path, content (base64), format, language, overwrite}`` or a form."""
        content_type = request.headers.get("content-type", "")
        fields: dict[str, Any]
        if content_type.lower().startswith("multipart/form-data"):
            parts = parse_multipart(content_type, await request.body())
            content = parts.pop("content", b"")
            fields = {name: value.decode("utf-8", errors="replace") for name, value in parts.items()}
        else:
            fields = await read_json(request)
            encoded = fields.get("content") or ""
            try:
                content = base64.b64decode(str(encoded), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ApiError("INVALID_PARAMETER_VALUE", "content must be base64-encoded.") from exc
        self.state.import_(
            caller(request),
            fields.get("path"),
            content,
            format=fields.get("format"),
            language=fields.get("language"),
            overwrite=_flag(fields.get("overwrite")),
        )
        return json_response({})

    async def export(self, request: Request) -> Response:
        """``GET export?path=&format=&direct_download=``: ``{content, file_type}`` or the raw bytes."""
        query = request.query_params
        direct = _flag(query.get("direct_download"))
        exported = self.state.export(
            caller(request), query.get("path"), query.get("format"), direct_download=direct
        )
        if direct:
            return Response(exported.content, media_type="application/octet-stream")
        content = base64.b64encode(exported.content).decode("ascii")
        return json_response({"content": content, "file_type": exported.file_type})

    async def mkdirs(self, request: Request) -> Response:
        """``POST mkdirs {path}``: ``mkdir -p``."""
        self.state.mkdirs(caller(request), (await read_json(request)).get("path"))
        return json_response({})

    async def delete(self, request: Request) -> Response:
        """``POST delete {path, recursive}``."""
        body = await read_json(request)
        self.state.delete(caller(request), body.get("path"), recursive=_flag(body.get("recursive")))
        return json_response({})
