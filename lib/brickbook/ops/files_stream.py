"""Volume file streams: files up and down through the Files API in constant memory.

- Upload streams the local file as the request body, 1 MiB at a time, with its Content-Length: one
  request per file. With ``overwrite`` a lost answer is simply resent (the same bytes again). Without
  it a resend could be refused ALREADY_EXISTS by our own first copy, so the client does not resend:
  the upload settles the lost answer itself, by reading back what is there. Our bytes there: done.
  Nothing there: sent once more. Anything else: someone else's file, refused (DestinationExists).
- Download streams the answer through ``localfs.atomic_writer`` (a temporary file beside the target,
  renamed into place only when complete and of the size HEAD announced; a FIFO or device is written in
  place). A connection that breaks halfway is resumed with a ``Range`` from the bytes already written;
  an answer that is not the announced bytes fails the download (nothing is left at the target).
- Every stream counts its bytes on an optional ``TransferProgress`` (``brickbook.ops.transfer``).
"""

from __future__ import annotations

import email.utils
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from brickbook.api import files
from brickbook.client import RawAnswer
from brickbook.context import Context
from brickbook.errors import (
    ApiError,
    BrickbookError,
    DestinationExists,
    NotFound,
    PermissionDenied,
    ResourceConflict,
    TransferFailed,
    UsageError,
)
from brickbook.localfs import OVERWRITE_HINT, atomic_writer, check_target
from brickbook.ops.transfer import TransferProgress
from brickbook.paths import printable
from brickbook.retry import maybe_applied

__all__ = [
    "MAX_RESUMES",
    "MAX_UPLOAD_BYTES",
    "Stat",
    "cat",
    "check_upload_size",
    "copy_remote_file",
    "download_file",
    "missing",
    "stat",
    "upload_file",
]

CHUNK = 1024 * 1024
MAX_RESUMES = 3
PARTIAL_CONTENT = 206
MAX_UPLOAD_BYTES = 5 * 1024**3  # the Files API's limit for one PUT
PRECONDITION_FAILED = 412


@dataclass(frozen=True)
class Stat:
    """What is at a volume path: ``kind`` is ``"file"``, ``"dir"`` or None (nothing)."""

    kind: str | None
    size: int = 0
    last_modified: str | None = None  # a file's ``last-modified`` header (an HTTP date), when known

    @property
    def modified_ms(self) -> int | None:
        """The last modification in epoch milliseconds, when known."""
        return _epoch_ms(self.last_modified)


def _epoch_ms(http_date: str | None) -> int | None:
    try:
        return round(email.utils.parsedate_to_datetime(http_date or "").timestamp() * 1000)
    except (TypeError, ValueError):
        return None


def _volume_of(remote: str) -> str:
    return "/".join(remote.split("/")[:5])  # "", Volumes, catalog, schema, volume


def _service_reason(ctx: Context, remote: str) -> None:
    """Raise the service's own error for the volume of ``remote`` (HEAD answers carry no body)."""
    next(iter(files.list_directory_contents(ctx.client, _volume_of(remote), page_size=1)), None)


def stat(ctx: Context, remote: str) -> Stat:
    """Tell whether a volume path is a file (and its size), a directory, or nothing.

    HEAD answers carry no body, so a refusal says only "403": the service's reason (which privilege is
    missing) is fetched with a one-entry listing of the volume, whose refusal has a body.
    """
    try:
        try:
            meta = files.get_metadata(ctx.client, remote)
            return Stat("file", meta.content_length, meta.last_modified)
        except NotFound:
            pass
        try:
            files.get_directory_metadata(ctx.client, remote)
        except NotFound:
            return Stat(None)
    except PermissionDenied as error:
        _service_reason(ctx, remote)
        raise error from None
    return Stat("dir")


def missing(ctx: Context, remote: str) -> NotFound:
    """The error for nothing at ``remote``: the service's when the volume itself is missing, else ours."""
    try:
        _service_reason(ctx, remote)
    except NotFound as error:
        return error
    return NotFound(f"no file or directory at {printable(remote)}", http_status=404, error_code="NOT_FOUND")


def _file_chunks(local: Path, progress: TransferProgress | None) -> Iterator[bytes]:
    with local.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if progress is not None:
                progress.add(len(chunk))
            yield chunk


def _holds(ctx: Context, remote: str, local: Path, size: int) -> bool | None:
    """Tell whether ``remote`` holds ``local``'s bytes: True, False, or None when nothing is there."""
    found = stat(ctx, remote)
    if found.kind is None:
        return None
    if found.kind != "file" or found.size != size:
        return False
    with local.open("rb") as handle, files.download(ctx.client, remote) as answer:
        for chunk in answer.chunks:
            if handle.read(len(chunk)) != chunk:
                return False
        return handle.read(1) == b""


def check_upload_size(local: Path, size: int) -> None:
    """Refuse a file larger than one Files API upload may carry (5 GiB), before any request."""
    if size > MAX_UPLOAD_BYTES:
        raise UsageError(
            f"{printable(str(local))} is {size} bytes: one Files API upload carries at most "
            f"{MAX_UPLOAD_BYTES} bytes (5 GiB)"
        )


def upload_file(
    ctx: Context, local: Path, remote: str, *, overwrite: bool, progress: TransferProgress | None = None
) -> int:
    """Stream a local file to a volume in one request; return its size.

    Without ``overwrite`` an answer lost after sending is settled by reading back what is there.
    """
    try:
        size = local.stat().st_size
        check_upload_size(local, size)
        content = functools.partial(_file_chunks, local, progress)
        try:
            files.upload(ctx.client, remote, content, length=size, overwrite=overwrite)
        except ResourceConflict as error:
            raise DestinationExists(f"{remote} exists", error_code=error.error_code).with_hint(
                OVERWRITE_HINT
            ) from error
        except BrickbookError as error:
            if overwrite or not maybe_applied(error):
                raise
            ctx.log.warning("files.upload_unsettled", path=remote, reason=str(error))
            landed = _holds(ctx, remote, local, size)
            if landed is False:
                raise DestinationExists(f"{remote} exists").with_hint(OVERWRITE_HINT) from error
            if landed is None:
                files.upload(ctx.client, remote, content, length=size, overwrite=False)
    except OSError as error:
        raise UsageError(f"cannot read {printable(str(local))}: {error.strerror or error}") from None
    return size


def download_file(
    ctx: Context,
    remote: str,
    local: Path,
    *,
    overwrite: bool,
    within: Path | None = None,
    progress: TransferProgress | None = None,
) -> int:
    """Download a volume file through ``localfs.atomic_writer``; resume a broken stream with ``Range``."""
    found = stat(ctx, remote)
    if found.kind == "dir":
        raise UsageError(f"{printable(remote)} is a directory").with_hint("add --recursive to copy it")
    if found.kind is None:
        raise missing(ctx, remote)
    check_target(local, overwrite=overwrite, within=within)
    written = 0
    with atomic_writer(local, within=within) as handle:
        for chunk in _resumed(ctx, remote, found):
            handle.write(chunk)
            written += len(chunk)
            if progress is not None:
                progress.add(len(chunk))
        if written != found.size:
            raise TransferFailed(f"{remote}: read {written} of {found.size} bytes")
    return written


def _resumed(ctx: Context, remote: str, found: Stat) -> Iterator[bytes]:
    """Yield a file's bytes; a stream that breaks is reopened where it broke (at most MAX_RESUMES times).

    A resumed range asks for the version HEAD described (``If-Unmodified-Since``): a file replaced in
    between is a TransferFailed, never a mix of two versions.
    """
    offset, size = 0, found.size
    for attempt in range(MAX_RESUMES + 1):
        if offset >= size and attempt:
            return
        since = found.last_modified if offset else None
        try:
            with files.download(ctx.client, remote, offset=offset, unmodified_since=since) as answer:
                _check_answer(remote, answer, offset, size)
                for chunk in answer.chunks:
                    offset += len(chunk)
                    yield chunk
            return
        except BrickbookError as error:
            if isinstance(error, ApiError) and error.http_status == PRECONDITION_FAILED:
                raise TransferFailed(f"{remote} changed while it was downloaded: copy it again") from error
            if isinstance(error, TransferFailed) or attempt == MAX_RESUMES or not maybe_applied(error):
                raise
            ctx.log.warning("files.download_resumed", path=remote, offset=offset, reason=str(error))


def _check_answer(remote: str, answer: RawAnswer, offset: int, size: int) -> None:
    """Refuse an answer that is not the bytes ``offset..size`` of the file HEAD described."""
    if offset and (
        answer.status != PARTIAL_CONTENT
        or not answer.headers.get("content-range", "").startswith(f"bytes {offset}-")
    ):
        raise TransferFailed(f"{remote}: the service did not resume at byte {offset}")
    length = answer.headers.get("content-length")
    if length is not None and length != str(size - offset):
        raise TransferFailed(
            f"{remote}: the service answered {length} bytes where {size - offset} were expected "
            "(the file changed meanwhile?)"
        )


def cat(ctx: Context, remote: str) -> Iterator[bytes]:
    """Yield a volume file's bytes as they arrive (the checks run on the first ``next``)."""
    found = stat(ctx, remote)
    if found.kind == "dir":
        raise UsageError(f"{printable(remote)} is a directory")
    if found.kind is None:
        raise missing(ctx, remote)
    yield from _resumed(ctx, remote, found)


def copy_remote_file(
    ctx: Context, source: str, dest: str, overwrite: bool, progress: TransferProgress | None = None
) -> int:
    """Copy one volume file to another path, streaming the download into the upload."""
    size = stat(ctx, source).size

    def content() -> Iterator[bytes]:
        with files.download(ctx.client, source) as answer:
            for chunk in answer.chunks:
                if progress is not None:
                    progress.add(len(chunk))
                yield chunk

    try:
        files.upload(ctx.client, dest, content, length=size, overwrite=overwrite)
    except ResourceConflict as error:
        raise DestinationExists(f"{dest} exists", error_code=error.error_code).with_hint(
            OVERWRITE_HINT
        ) from error
    return size
