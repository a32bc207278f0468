"""Files API primitives (``/api/2.0/fs/files{path}``, ``/api/2.0/fs/directories{path}``): one per endpoint.

From the Files API reference: the path (``/Volumes/<catalog>/<schema>/<volume>/...``) is appended to
the endpoint, percent-encoded as the SDK does; an upload is a raw octet-stream body of at most 5 GiB, and
``overwrite`` (a query parameter) defaults to true on the service, so it is always sent; a download
answers raw bytes and honours ``Range``; HEAD answers metadata in headers only; a directory listing
pages with ``page_token`` (at most 1000 entries a page) and may leave ``contents`` out when empty.
Which of these calls may be resent is declared in ``brickbook.retry``.
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from brickbook.api.model import ApiObject
from brickbook.client import Client, RawAnswer

__all__ = [
    "DIRECTORIES",
    "FILES",
    "DirectoryEntry",
    "FileMetadata",
    "create_directory",
    "delete",
    "delete_directory",
    "download",
    "get_directory_metadata",
    "get_metadata",
    "list_directory_contents",
    "upload",
]

FILES = "/api/2.0/fs/files"
DIRECTORIES = "/api/2.0/fs/directories"


def _url(base: str, path: str) -> str:
    # quote keeps '/' and escapes '#', '?', '%' and spaces, which would otherwise change the URL.
    return base + urllib.parse.quote(path)


@dataclass(frozen=True)
class DirectoryEntry(ApiObject):
    """One entry of a directory listing."""

    path: str = ""
    name: str = ""
    is_directory: bool = False
    file_size: int | None = None
    last_modified: int | None = None  # epoch milliseconds


@dataclass(frozen=True)
class FileMetadata:
    """What HEAD tells about a file."""

    content_length: int
    content_type: str | None
    last_modified: str | None  # an HTTP date, as the service sends it


def upload(
    client: Client, path: str, content: Callable[[], Iterator[bytes]], *, length: int, overwrite: bool
) -> None:
    """Stream a file's bytes to ``path``: ``PUT /api/2.0/fs/files{path}?overwrite=``.

    ``content()`` yields the bytes and is called again if the call is resent (only with ``overwrite``).
    """
    client.send_raw("PUT", _url(FILES, path), query={"overwrite": overwrite}, content=content, length=length)


@contextlib.contextmanager
def download(
    client: Client, path: str, *, offset: int = 0, unmodified_since: str | None = None
) -> Iterator[RawAnswer]:
    """Open a file's bytes from ``offset`` on as a stream: ``GET /api/2.0/fs/files{path}`` (``Range``).

    ``unmodified_since`` (an HTTP date, the ``last-modified`` HEAD gave) makes the service refuse with
    412 a file that changed since, so a resumed download never mixes two versions.
    """
    # identity: the bytes as stored, so ranges, Content-Length and the written file all count the same.
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    if unmodified_since:
        headers["If-Unmodified-Since"] = unmodified_since
    with client.stream_raw("GET", _url(FILES, path), headers=headers) as answer:
        yield answer


def get_metadata(client: Client, path: str) -> FileMetadata:
    """Describe a file from the headers of ``HEAD /api/2.0/fs/files{path}``."""
    headers = client.send_raw("HEAD", _url(FILES, path)).headers
    return FileMetadata(
        content_length=int(headers.get("content-length") or 0),
        content_type=headers.get("content-type"),
        last_modified=headers.get("last-modified"),
    )


def delete(client: Client, path: str) -> None:
    """Delete a file: ``DELETE /api/2.0/fs/files{path}``."""
    client.request("DELETE", _url(FILES, path))


def create_directory(client: Client, path: str) -> None:
    """Create a directory and its parents (``mkdir -p``): ``PUT /api/2.0/fs/directories{path}``."""
    client.request("PUT", _url(DIRECTORIES, path))


def get_directory_metadata(client: Client, path: str) -> None:
    """Check that a directory exists: ``HEAD /api/2.0/fs/directories{path}`` (NotFound otherwise)."""
    client.send_raw("HEAD", _url(DIRECTORIES, path))


def list_directory_contents(
    client: Client, path: str, *, page_size: int | None = None
) -> Iterator[DirectoryEntry]:
    """Yield a directory's entries, page after page: ``GET /api/2.0/fs/directories{path}``."""
    query = {"page_size": page_size} if page_size else None
    for item in client.paginate(_url(DIRECTORIES, path), items_key="contents", query=query):
        yield DirectoryEntry.from_api(item)


def delete_directory(client: Client, path: str) -> None:
    """Delete an empty directory: ``DELETE /api/2.0/fs/directories{path}``."""
    client.request("DELETE", _url(DIRECTORIES, path))
