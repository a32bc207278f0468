"""The emulator's Files API over raw HTTP: files and directories in volumes, ranges, paging, errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.emulator.harness import ADMIN_TOKEN, ALICE, ALICE_TOKEN, Emu
from tests.volumes import create_volume

VOL = "/Volumes/main/default/vol"
FILES = "/api/2.0/fs/files"
DIRS = "/api/2.0/fs/directories"


@pytest.fixture(autouse=True)
def volume(emu: Emu) -> None:
    create_volume(emu.url, ADMIN_TOKEN)


def put(emu: Emu, path: str, data: bytes, **params: str) -> int:
    return emu.request("PUT", FILES + path, content=data, params=params).status_code


def error(response: object) -> tuple[int, str]:
    status = response.status_code  # type: ignore[attr-defined]
    return status, response.json()["error_code"]  # type: ignore[attr-defined]


def test_upload_then_download_round_trip(emu: Emu):
    """A PUT file comes back byte for byte with its length, type and last-modified headers."""
    data = os.urandom(3 * 1024 * 1024 + 5)
    assert put(emu, f"{VOL}/a/b/data.bin", data) == 204
    response = emu.get(FILES + f"{VOL}/a/b/data.bin")
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["last-modified"].endswith("GMT")


def test_head_gives_metadata_without_body(emu: Emu):
    """HEAD on a file answers its length and no body; on a directory path it is 404."""
    put(emu, f"{VOL}/f.txt", b"hello")
    head = emu.request("HEAD", FILES + f"{VOL}/f.txt")
    assert (head.status_code, head.headers["content-length"], head.content) == (200, "5", b"")
    emu.request("PUT", DIRS + f"{VOL}/d")
    assert emu.request("HEAD", FILES + f"{VOL}/d").status_code == 404


def test_range_answers_206_with_content_range(emu: Emu):
    """A single byte range is answered 206 with Content-Range; a suffix range gives the tail."""
    put(emu, f"{VOL}/r.bin", bytes(range(100)))
    part = emu.get(FILES + f"{VOL}/r.bin", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == bytes(range(10, 20))
    assert part.headers["content-range"] == "bytes 10-19/100"
    tail = emu.get(FILES + f"{VOL}/r.bin", headers={"Range": "bytes=-5"})
    assert tail.content == bytes(range(95, 100))


def test_if_unmodified_since_refuses_a_newer_file(emu: Emu):
    """If-Unmodified-Since before the file's modification is 412; at or after it the bytes come."""
    put(emu, f"{VOL}/v.bin", b"abc")
    stamp = emu.request("HEAD", FILES + f"{VOL}/v.bin").headers["last-modified"]
    same = emu.get(FILES + f"{VOL}/v.bin", headers={"If-Unmodified-Since": stamp})
    assert same.content == b"abc"
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert emu.get(FILES + f"{VOL}/v.bin", headers={"If-Unmodified-Since": old}).status_code == 412


def test_unsatisfiable_range_is_416(emu: Emu):
    """A range starting past the end is 416 with the size in Content-Range."""
    put(emu, f"{VOL}/r.bin", b"abc")
    response = emu.get(FILES + f"{VOL}/r.bin", headers={"Range": "bytes=5-9"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */3"


def test_overwrite_false_on_existing_file_is_already_exists(emu: Emu):
    """overwrite=false refuses an existing file with 409 ALREADY_EXISTS and keeps its bytes."""
    put(emu, f"{VOL}/x", b"old")
    response = emu.request("PUT", FILES + f"{VOL}/x", content=b"new", params={"overwrite": "false"})
    assert error(response) == (409, "ALREADY_EXISTS")
    assert "already exists" in response.json()["message"]
    assert emu.get(FILES + f"{VOL}/x").content == b"old"


def test_overwrite_defaults_to_true(emu: Emu):
    """Without the overwrite parameter an existing file is replaced."""
    put(emu, f"{VOL}/x", b"old")
    assert put(emu, f"{VOL}/x", b"new") == 204
    assert emu.get(FILES + f"{VOL}/x").content == b"new"


def test_missing_file_is_not_found(emu: Emu):
    """GET, HEAD and DELETE of a missing file are 404 NOT_FOUND."""
    assert error(emu.get(FILES + f"{VOL}/none")) == (404, "NOT_FOUND")
    assert emu.request("HEAD", FILES + f"{VOL}/none").status_code == 404
    assert error(emu.request("DELETE", FILES + f"{VOL}/none")) == (404, "NOT_FOUND")


def test_delete_file(emu: Emu):
    """DELETE removes a file."""
    put(emu, f"{VOL}/gone", b"x")
    assert emu.request("DELETE", FILES + f"{VOL}/gone").status_code == 204
    assert emu.get(FILES + f"{VOL}/gone").status_code == 404


def test_directories_create_list_delete(emu: Emu):
    """mkdir -p is idempotent, the listing describes each entry, and only an empty directory goes."""
    assert emu.request("PUT", DIRS + f"{VOL}/d/sub").status_code == 204
    assert emu.request("PUT", DIRS + f"{VOL}/d/sub").status_code == 204
    put(emu, f"{VOL}/d/f.txt", b"12345")
    listing = emu.get(DIRS + f"{VOL}/d").json()
    assert [(e["name"], e["is_directory"], e.get("file_size")) for e in listing["contents"]] == [
        ("f.txt", False, 5),
        ("sub", True, None),
    ]
    assert listing["contents"][0]["path"] == f"{VOL}/d/f.txt"
    assert isinstance(listing["contents"][0]["last_modified"], int)
    assert error(emu.request("DELETE", DIRS + f"{VOL}/d")) == (400, "DIRECTORY_NOT_EMPTY")
    assert emu.request("DELETE", DIRS + f"{VOL}/d/sub").status_code == 204
    assert emu.request("HEAD", DIRS + f"{VOL}/d/sub").status_code == 404


def test_listing_pages(emu: Emu):
    """page_size splits a listing; following next_page_token returns every entry once."""
    for i in range(5):
        put(emu, f"{VOL}/p/{i}", b"")
    names: list[str] = []
    params = {"page_size": "2"}
    while True:
        page = emu.get(DIRS + f"{VOL}/p", params=params).json()
        names += [e["name"] for e in page.get("contents", [])]
        if "next_page_token" not in page:
            break
        params["page_token"] = page["next_page_token"]
    assert names == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize("size", ["-1", "x", "\u00b2"])
def test_bad_page_size_is_invalid(emu: Emu, size: str):
    """A page_size that is not a whole number is 400 INVALID_PARAMETER_VALUE."""
    emu.request("PUT", DIRS + f"{VOL}/p")
    assert error(emu.get(DIRS + f"{VOL}/p", params={"page_size": size})) == (400, "INVALID_PARAMETER_VALUE")


def test_list_missing_directory_is_not_found(emu: Emu):
    """Listing a missing directory, or a file, is 404 NOT_FOUND."""
    assert error(emu.get(DIRS + f"{VOL}/none")) == (404, "NOT_FOUND")
    put(emu, f"{VOL}/file", b"x")
    assert error(emu.get(DIRS + f"{VOL}/file")) == (404, "NOT_FOUND")


def test_file_on_the_way_is_already_exists(emu: Emu):
    """A file where a parent directory must go is 409 ALREADY_EXISTS, for uploads and mkdirs."""
    put(emu, f"{VOL}/f", b"x")
    assert error(emu.request("PUT", FILES + f"{VOL}/f/child", content=b"y")) == (409, "ALREADY_EXISTS")
    assert error(emu.request("PUT", DIRS + f"{VOL}/f/sub")) == (409, "ALREADY_EXISTS")


@pytest.mark.parametrize(
    "path",
    [
        "/Volumes/main/default/vol/%2E%2E/other/x",
        "/Volumes/main/default/vol/a/%2E/x",
        "/Volumes/main/default/vol/a%00b",
        "/Volumes/main/default/vol/a%0Ab",
        "/Volumes/main/default/vol/a%1Bb",
        "/Volumes/main/default/vol//x",
        "/Shared/x",
        "/Volumes/main/default",
    ],
)
def test_bad_paths_are_refused(emu: Emu, path: str):
    """Escapes, control characters, empty segments and non-volume paths are 400 INVALID_PARAMETER_VALUE."""
    response = emu.request("PUT", FILES + path, content=b"x")
    assert error(response) == (400, "INVALID_PARAMETER_VALUE")


def test_symlink_out_of_the_volume_is_refused(emu: Emu, tmp_path: Path):
    """A link placed on the disk that leads out of the volume cannot be read or written through."""
    put(emu, f"{VOL}/seed", b"x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    root = _volume_disk_root(emu, "seed")
    (root / "escape").symlink_to(outside)
    assert error(emu.get(FILES + f"{VOL}/escape/secret")) == (400, "INVALID_PARAMETER_VALUE")
    assert error(emu.request("PUT", FILES + f"{VOL}/escape/new", content=b"y")) == (
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert not (outside / "new").exists()
    (root / "dangling").symlink_to(outside / "not-yet")
    assert error(emu.request("PUT", FILES + f"{VOL}/dangling/x", content=b"y")) == (
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert not (outside / "not-yet").exists()


def test_broken_upload_leaves_nothing(emu: Emu):
    """An upload whose body stops short leaves no file and no temporary file behind."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(emu.url)
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        head = (
            f"PUT {FILES}{VOL}/broken.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n"
            "Content-Length: 1000000\r\n\r\n"
        )
        sock.sendall(head.encode() + b"x" * 1000)
    emu.request("PUT", DIRS + f"{VOL}/sync")  # a later request: the broken one has been handled
    for _ in range(50):
        listing = emu.get(DIRS + VOL).json().get("contents", [])
        if "broken.bin" not in [e["name"] for e in listing]:
            break
    assert emu.get(FILES + f"{VOL}/broken.bin").status_code == 404
    assert [e["name"] for e in emu.get(DIRS + VOL).json()["contents"]] == ["sync"]


def test_reset_empties_volumes(emu: Emu):
    """After a control-API reset the volume and its files are gone; a new volume of that name is empty."""
    put(emu, f"{VOL}/keep", b"x")
    emu.control("POST", "reset")
    assert emu.get(FILES + f"{VOL}/keep").status_code == 404
    create_volume(emu.url, ADMIN_TOKEN)
    assert emu.get(FILES + f"{VOL}/keep").status_code == 404


def test_missing_volume_is_not_found(emu: Emu):
    """A path in a volume Unity Catalog does not know is 404 NOT_FOUND."""
    assert error(emu.request("PUT", FILES + "/Volumes/main/default/nope/x", content=b"x")) == (
        404,
        "NOT_FOUND",
    )


def test_volume_privileges_are_enforced(emu: Emu):
    """A non-admin needs READ_VOLUME to read and WRITE_VOLUME to write, under USE_CATALOG/USE_SCHEMA."""
    put(emu, f"{VOL}/f", b"data")
    assert error(emu.get(FILES + f"{VOL}/f", token=ALICE_TOKEN)) == (403, "PERMISSION_DENIED")
    grant(emu, "catalog", "main", ["USE_CATALOG"])
    grant(emu, "schema", "main.default", ["USE_SCHEMA"])
    grant(emu, "volume", "main.default.vol", ["READ_VOLUME"])
    assert emu.get(FILES + f"{VOL}/f", token=ALICE_TOKEN).content == b"data"
    refused = emu.request("PUT", FILES + f"{VOL}/g", content=b"x", token=ALICE_TOKEN)
    assert error(refused) == (403, "PERMISSION_DENIED")
    grant(emu, "volume", "main.default.vol", ["WRITE_VOLUME"])
    assert emu.request("PUT", FILES + f"{VOL}/g", content=b"x", token=ALICE_TOKEN).status_code == 204


def grant(emu: Emu, securable: str, name: str, privileges: list[str]) -> None:
    body = {"changes": [{"principal": ALICE, "add": privileges}]}
    response = emu.request("PATCH", f"/api/2.1/unity-catalog/permissions/{securable}/{name}", json=body)
    assert response.status_code == 200, response.text


def _volume_disk_root(emu: Emu, marker: str) -> Path:
    """Find the volume's directory on disk by a file known to be in it (tests run in-process)."""
    import gc

    from brickbook.emulator.state.volume_files import VolumeFiles

    for obj in gc.get_objects():
        if isinstance(obj, VolumeFiles):
            root = obj.volumes.volume_root("main", "default", "vol")
            if (root / marker).exists():
                return Path(root)
    raise AssertionError("volume directory not found")
