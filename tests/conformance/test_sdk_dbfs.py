"""The official databricks-sdk's DBFS client (``w.dbfs``) against the emulator."""

from __future__ import annotations

import io
import random

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, ResourceAlreadyExists

from tests.emulator.harness import ADMIN_TOKEN, Emu

MB = 1024 * 1024


def client(emu: Emu) -> WorkspaceClient:
    return WorkspaceClient(host=emu.url, token=ADMIN_TOKEN)


def test_upload_download_multi_mb(sdk_env: Emu):
    """w.dbfs.upload of a 5.5 MB file goes through create/add-block/close; download returns equal bytes."""
    data = random.Random(3).randbytes(5 * MB + MB // 2)
    w = client(sdk_env)
    w.dbfs.upload("/sdk/big.bin", io.BytesIO(data), overwrite=True)
    assert len(sdk_env.journal("/api/2.0/dbfs/add-block")) == 6
    with w.dbfs.download("dbfs:/sdk/big.bin") as reader:
        assert reader.read() == data


def test_list_get_status_mkdirs(sdk_env: Emu):
    """mkdirs, list (recursive and not) and get_status agree with what was written."""
    w = client(sdk_env)
    w.dbfs.mkdirs("/sdk/dir/sub")
    w.dbfs.put("/sdk/dir/a.txt", contents="YWJj", overwrite=False)  # "abc"
    assert [(f.path, f.is_dir) for f in w.dbfs.list("/sdk/dir")] == [
        ("/sdk/dir/a.txt", False),
        ("/sdk/dir/sub", True),
    ]
    assert [f.path for f in w.dbfs.list("/sdk", recursive=True)] == ["/sdk/dir/a.txt"]
    status = w.dbfs.get_status("/sdk/dir/a.txt")
    assert (status.file_size, status.is_dir) == (3, False)
    assert w.dbfs.exists("/sdk/dir") and not w.dbfs.exists("/sdk/none")


def test_move_and_delete(sdk_env: Emu):
    """move renames a directory; delete removes it recursively."""
    w = client(sdk_env)
    w.dbfs.put("/sdk/src/f.txt", contents="eA==")
    w.dbfs.move("/sdk/src", "/sdk/dst")
    assert not w.dbfs.exists("/sdk/src")
    assert w.dbfs.read("/sdk/dst/f.txt").data == "eA=="
    w.dbfs.delete("/sdk/dst", recursive=True)
    assert not w.dbfs.exists("/sdk/dst")


def test_errors_map_to_sdk_classes(sdk_env: Emu):
    """A missing path is NotFound and an existing file without overwrite is ResourceAlreadyExists."""
    w = client(sdk_env)
    with pytest.raises(NotFound, match="/sdk/none"):
        w.dbfs.get_status("/sdk/none")
    w.dbfs.put("/sdk/f", contents="")
    with pytest.raises(ResourceAlreadyExists, match="/sdk/f"):
        w.dbfs.put("/sdk/f", contents="", overwrite=False)
