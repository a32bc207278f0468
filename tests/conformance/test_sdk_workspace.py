"""The official databricks-sdk (0.162.0) drives the emulator's Workspace API unchanged."""

from __future__ import annotations

import base64

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, ResourceAlreadyExists
from databricks.sdk.errors.platform import BadRequest
from databricks.sdk.service.workspace import ExportFormat, ImportFormat, Language, ObjectType

from tests.emulator.harness import ADMIN_TOKEN, Emu

HEADER = b"# Databricks notebook source\n"


@pytest.fixture
def w(sdk_env: Emu) -> WorkspaceClient:
    return WorkspaceClient(host=sdk_env.url, token=ADMIN_TOKEN)


def test_upload_auto_makes_a_notebook(w: WorkspaceClient):
    """upload(format=AUTO) of a .py with the header makes a notebook without extension."""
    w.workspace.upload("/Shared/etl.py", HEADER + b"x = 1\n", format=ImportFormat.AUTO)
    info = w.workspace.get_status("/Shared/etl")
    assert (info.object_type, info.language) == (ObjectType.NOTEBOOK, Language.PYTHON)
    assert isinstance(info.object_id, int) and info.resource_id == str(info.object_id)


def test_upload_source_with_language_round_trips(w: WorkspaceClient):
    """upload(SOURCE, language) then download() gives the same bytes back."""
    source = b"-- Databricks notebook source\nselect 1\n"
    w.workspace.upload("/Shared/q", source, format=ImportFormat.SOURCE, language=Language.SQL)
    assert w.workspace.download("/Shared/q").read() == source


def test_upload_infers_language_from_the_extension(w: WorkspaceClient):
    """upload() without format or language infers PYTHON from .py (and keeps the name)."""
    w.workspace.upload("/Shared/job.py", b"print(1)\n")
    assert w.workspace.get_status("/Shared/job.py").language == Language.PYTHON


def test_file_download_is_byte_equal(w: WorkspaceClient):
    """A binary workspace file downloads byte for byte."""
    payload = bytes(range(256)) * 4
    w.workspace.upload("/Shared/blob.bin", payload, format=ImportFormat.AUTO)
    assert w.workspace.download("/Shared/blob.bin", format=ExportFormat.AUTO).read() == payload
    info = w.workspace.get_status("/Shared/blob.bin")
    assert (info.object_type, info.size) == (ObjectType.FILE, len(payload))


def test_upload_over_an_existing_path_raises(w: WorkspaceClient):
    """A second upload without overwrite raises ResourceAlreadyExists; with overwrite it replaces."""
    w.workspace.upload("/Shared/f.txt", b"1", format=ImportFormat.AUTO)
    with pytest.raises(ResourceAlreadyExists, match="already exists"):
        w.workspace.upload("/Shared/f.txt", b"2", format=ImportFormat.AUTO)
    w.workspace.upload("/Shared/f.txt", b"2", format=ImportFormat.AUTO, overwrite=True)
    assert w.workspace.download("/Shared/f.txt").read() == b"2"


def test_mkdirs_list_and_recursive_list(w: WorkspaceClient):
    """mkdirs creates parents; list(recursive=True) walks into subdirectories."""
    w.workspace.mkdirs("/Shared/a/b")
    w.workspace.upload("/Shared/a/b/f.txt", b"x", format=ImportFormat.AUTO)
    assert [o.path for o in w.workspace.list("/Shared/a")] == ["/Shared/a/b"]
    assert [o.path for o in w.workspace.list("/Shared/a", recursive=True)] == ["/Shared/a/b/f.txt"]


def test_list_of_an_empty_directory_is_empty(w: WorkspaceClient):
    """An empty directory lists as nothing (the SDK copes with the missing 'objects' key)."""
    w.workspace.mkdirs("/Shared/empty")
    assert list(w.workspace.list("/Shared/empty")) == []


def test_delete_needs_recursive_for_a_non_empty_directory(w: WorkspaceClient):
    """delete of a non-empty directory raises BadRequest DIRECTORY_NOT_EMPTY; recursive deletes it."""
    w.workspace.mkdirs("/Shared/a/b")
    with pytest.raises(BadRequest) as caught:
        w.workspace.delete("/Shared/a")
    assert caught.value.error_code == "DIRECTORY_NOT_EMPTY"
    w.workspace.delete("/Shared/a", recursive=True)
    with pytest.raises(NotFound):
        w.workspace.get_status("/Shared/a")


def test_export_returns_base64_content(w: WorkspaceClient):
    """The generated export() (JSON, base64) returns the notebook source with its header."""
    w.workspace.upload("/Shared/nb", b"print(1)\n", language=Language.PYTHON)
    exported = w.workspace.export("/Shared/nb", format=ExportFormat.SOURCE)
    assert base64.b64decode(exported.content or "") == HEADER + b"print(1)\n"
