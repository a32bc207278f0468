"""Files API: ``/api/2.0/fs/files{path}`` and ``/api/2.0/fs/directories{path}`` on volume paths.

Bodies stream: an upload goes to disk chunk by chunk as it arrives (never whole in memory), a download
is read from disk 1 MiB at a time. ``GET`` answers a single ``Range: bytes=a-b`` (also ``a-`` and
``-n``) with 206 and ``Content-Range``; an unsatisfiable range is 416; a malformed one is ignored, as
HTTP says. ``If-Unmodified-Since`` (the SDK sends it on resumed ranges) refuses a file modified after
that date with 412 (code FAILED_PRECONDITION: the code is this emulator's choice). ``overwrite`` on
upload defaults to true, as documented. The volume must exist in Unity Catalog, and the caller needs
READ_VOLUME (reads) or WRITE_VOLUME (writes) on it, with USE_CATALOG and USE_SCHEMA above it.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import BinaryIO

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.errors import ApiError
from brickbook.emulator.state.paging import page_size
from brickbook.emulator.state.volume_files import MAX_PAGE_SIZE, FileMeta, Place, VolumeFiles
from brickbook.emulator.wire import caller, json_response

__all__ = ["FilesArea"]

FILES = "/api/2.0/fs/files"
DIRECTORIES = "/api/2.0/fs/directories"
READ_CHUNK = 1024 * 1024


def _flag(value: str | None, field: str, default: bool) -> bool:
    if value is None:
        return default
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ApiError("INVALID_PARAMETER_VALUE", f"{field} must be true or false.")


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    """The ``[start, end)`` a single-range header asks for; None for no (or a malformed) header."""
    if not header:
        return None
    unit, _, spec = header.partition("=")
    first, dash, last = spec.strip().partition("-")
    if unit.strip().lower() != "bytes" or not dash or "," in spec:
        return None
    try:
        if not first.strip():  # bytes=-n: the last n bytes
            start, end = max(size - int(last), 0), size
        else:
            start = int(first)
            end = min(int(last) + 1, size) if last.strip() else size
    except ValueError:
        return None
    if start < 0 or start >= size or end <= start:
        raise ApiError(
            "INVALID_PARAMETER_VALUE",
            f"Range {header} is not satisfiable for {size} bytes.",
            status=416,
            headers={"Content-Range": f"bytes */{size}"},
        )
    return start, end


def _unmodified_since(header: str | None, meta: FileMeta) -> None:
    """Refuse with 412 a file modified after the ``If-Unmodified-Since`` date (seconds, as HTTP dates)."""
    if not header:
        return
    try:
        since = email.utils.parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return  # an unparseable date is ignored, as HTTP says
    if int(meta.last_modified) > since:
        raise ApiError(
            "FAILED_PRECONDITION", "The file was modified after the If-Unmodified-Since date.", status=412
        )


def _meta_headers(meta: FileMeta, length: int) -> dict[str, str]:
    return {
        "content-length": str(length),
        "content-type": "application/octet-stream",
        "last-modified": email.utils.formatdate(meta.last_modified, usegmt=True),
        "accept-ranges": "bytes",
    }


def _chunks(handle: BinaryIO, start: int, end: int) -> Iterator[bytes]:
    try:
        handle.seek(start)
        left = end - start
        while left > 0 and (chunk := handle.read(min(READ_CHUNK, left))):
            left -= len(chunk)
            yield chunk
    finally:
        handle.close()


def _route(prefix: str, endpoint: Callable[[Request], Awaitable[Response]]) -> Route:
    """A route for ``prefix{path}`` whose path may hold anything, a newline too (refused later, as 400)."""
    route = Route(prefix + "{path:path}", endpoint, methods=["GET", "HEAD", "PUT", "DELETE"])
    route.path_regex = re.compile(re.escape(prefix) + "(?P<path>.*)$", re.DOTALL)
    return route


class FilesArea(AreaBase):
    """The Files API; its files belong to Unity Catalog's volumes, which reset with it."""

    def __init__(self, context: AreaContext) -> None:
        # Unity Catalog says which volumes exist, where their files live and who may use them.
        self.state = VolumeFiles(context.services.sql, context.clock)

    def routes(self) -> Sequence[BaseRoute]:
        return [_route(FILES, self.file), _route(DIRECTORIES, self.directory)]

    async def file(self, request: Request) -> Response:
        write = request.method in ("PUT", "DELETE")
        place = self.state.place(caller(request), request.path_params["path"], write=write)
        if request.method == "PUT":
            return await self._upload(request, place)
        if request.method == "DELETE":
            self.state.delete_file(place)
            return Response(status_code=204)
        handle, meta = self.state.open_file(place)
        try:
            _unmodified_since(request.headers.get("if-unmodified-since"), meta)
            wanted = _range(request.headers.get("range"), meta.size)
        except BaseException:
            handle.close()
            raise
        start, end = wanted or (0, meta.size)
        headers = _meta_headers(meta, end - start)
        if request.method == "HEAD":
            handle.close()
            return Response(status_code=200, headers=headers)
        status = 200
        if wanted is not None:
            status = 206
            headers["content-range"] = f"bytes {start}-{end - 1}/{meta.size}"
        return StreamingResponse(_chunks(handle, start, end), status_code=status, headers=headers)

    async def _upload(self, request: Request, place: Place) -> Response:
        overwrite = _flag(request.query_params.get("overwrite"), "overwrite", True)
        upload = self.state.begin_upload(place, overwrite=overwrite)
        try:
            async for chunk in request.stream():
                if chunk:
                    upload.write(chunk)
            self.state.commit(upload)
        except BaseException:
            self.state.discard(upload)
            raise
        return Response(status_code=204)

    async def directory(self, request: Request) -> Response:
        write = request.method in ("PUT", "DELETE")
        place = self.state.place(caller(request), request.path_params["path"], write=write)
        if request.method == "PUT":
            self.state.create_directory(place)
            return Response(status_code=204)
        if request.method == "DELETE":
            self.state.delete_directory(place)
            return Response(status_code=204)
        if request.method == "HEAD":
            self.state.directory_exists(place)
            return Response(status_code=200)
        query = request.query_params
        contents, token = self.state.list_directory(
            place,
            page_size=page_size(query.get("page_size"), MAX_PAGE_SIZE),
            page_token=query.get("page_token"),
        )
        body: dict[str, object] = {"contents": contents} if contents else {}
        if token:
            body["next_page_token"] = token
        return json_response(body)
