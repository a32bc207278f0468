"""The official databricks-sdk's Files API client (``w.files``) and ``w.dbutils.fs`` on volume paths."""

from __future__ import annotations

import io
import random

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import AlreadyExists, NotFound

from tests.emulator.harness import ADMIN_TOKEN, Emu
from tests.volumes import create_volume

MB = 1024 * 1024
VOL = "/Volumes/main/default/vol"


def client(emu: Emu) -> WorkspaceClient:
    return WorkspaceClient(host=emu.url, token=ADMIN_TOKEN)


@pytest.fixture(autouse=True)
def volume(sdk_env: Emu) -> None:
    create_volume(sdk_env.url, ADMIN_TOKEN)


def test_upload_download_and_metadata(sdk_env: Emu):
    """w.files.upload then download returns equal bytes; get_metadata gives the length."""
    data = random.Random(5).randbytes(3 * MB + 7)
    w = client(sdk_env)
    w.files.upload(f"{VOL}/sdk/data.bin", io.BytesIO(data), overwrite=True)
    downloaded = w.files.download(f"{VOL}/sdk/data.bin")
    assert downloaded.contents is not None
    assert downloaded.contents.read() == data
    meta = w.files.get_metadata(f"{VOL}/sdk/data.bin")
    assert meta.content_length == len(data)
    assert meta.last_modified


def test_upload_without_overwrite_is_already_exists(sdk_env: Emu):
    """overwrite=False on an existing file raises AlreadyExists."""
    w = client(sdk_env)
    w.files.upload(f"{VOL}/x.txt", io.BytesIO(b"one"), overwrite=True)
    with pytest.raises(AlreadyExists):
        w.files.upload(f"{VOL}/x.txt", io.BytesIO(b"two"), overwrite=False)


def test_directories(sdk_env: Emu):
    """create_directory, list_directory_contents and delete_directory; delete removes a file."""
    w = client(sdk_env)
    w.files.create_directory(f"{VOL}/d/sub")
    w.files.upload(f"{VOL}/d/f.txt", io.BytesIO(b"12345"), overwrite=True)
    entries = {e.name: (e.is_directory, e.file_size) for e in w.files.list_directory_contents(f"{VOL}/d")}
    assert entries == {"f.txt": (False, 5), "sub": (True, None)}
    w.files.get_directory_metadata(f"{VOL}/d/sub")
    w.files.delete_directory(f"{VOL}/d/sub")
    w.files.delete(f"{VOL}/d/f.txt")
    assert list(w.files.list_directory_contents(f"{VOL}/d")) == []
    with pytest.raises(NotFound):
        w.files.get_metadata(f"{VOL}/d/f.txt")


def test_listing_follows_pages(sdk_env: Emu):
    """list_directory_contents with a small page_size follows next_page_token to the end."""
    w = client(sdk_env)
    for i in range(7):
        w.files.upload(f"{VOL}/p/{i}", io.BytesIO(b""), overwrite=True)
    names = [e.name for e in w.files.list_directory_contents(f"{VOL}/p", page_size=3)]
    assert names == [str(i) for i in range(7)]


def test_dbutils_fs_on_volumes(sdk_env: Emu):
    """dbutils.fs put, head, ls, cp and rm on /Volumes paths go through the Files API."""
    w = client(sdk_env)
    fs = w.dbutils.fs
    fs.put(f"{VOL}/u/a.txt", "hello volumes", overwrite=True)
    assert fs.head(f"{VOL}/u/a.txt") == "hello volumes"
    fs.cp(f"{VOL}/u/a.txt", f"{VOL}/u/b.txt")
    assert sorted(f.name for f in fs.ls(f"{VOL}/u")) == ["a.txt", "b.txt"]
    fs.rm(f"{VOL}/u", recurse=True)
    with pytest.raises(NotFound):
        w.files.get_directory_metadata(f"{VOL}/u")
    assert sdk_env.journal(f"/api/2.0/fs/files{VOL}/u/b.txt")


@pytest.mark.slow
def test_large_upload_falls_back_to_one_put(sdk_env: Emu):
    """A 60 MiB w.files.upload lands whole: the SDK tries multipart first, which the emulator refuses."""
    data = random.Random(9).randbytes(60 * MB)
    w = client(sdk_env)
    w.files.upload(f"{VOL}/big.bin", io.BytesIO(data), overwrite=True)
    downloaded = w.files.download(f"{VOL}/big.bin")
    assert downloaded.contents is not None
    assert downloaded.contents.read() == data
