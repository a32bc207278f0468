"""Hostile-input rows for fs.* on Unity Catalog volume paths (the Files API).

Path escapes and control characters are refused before any request; local targets that are special
files, links or dangling links follow the same rules as DBFS downloads; a failed download leaves no
partial file; an upload whose answer is lost without --overwrite still succeeds.
"""

from __future__ import annotations

import socket
import subprocess

import httpx

from tests.conftest import ADMIN_TOKEN
from tests.hostile.rows_files import PAYLOAD, fifo_behind_link, fifo_got, local_tree
from tests.hostile.table import Row, Scene
from tests.volumes import create_volume

VOL = "/Volumes/main/default/vol"
FILES = "/api/2.0/fs/files"
Done = subprocess.CompletedProcess[bytes]


def volume_file(scene: Scene, path: str = f"{VOL}/data/copy.bin", data: bytes = PAYLOAD) -> None:
    create_volume(scene.emulator.url, ADMIN_TOKEN)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    httpx.put(f"{scene.emulator.url}{FILES}{path}", content=data, headers=headers).raise_for_status()


def local_file(scene: Scene) -> None:
    create_volume(scene.emulator.url, ADMIN_TOKEN)
    (scene.tmp / "in.bin").write_bytes(PAYLOAD)


def socket_target(scene: Scene) -> None:
    volume_file(scene)
    with socket.socket(socket.AF_UNIX) as server:  # the socket file stays after the socket closes
        server.bind(str(scene.tmp / "sock"))


def broken_downloads(scene: Scene) -> None:
    volume_file(scene, data=PAYLOAD * 1000)
    scene.emulator.fault(pattern=f"GET {FILES}/*", reset_connection=True, times=0)


def lost_upload_answer(scene: Scene) -> None:
    local_file(scene)
    scene.emulator.fault(pattern=f"PUT {FILES}/*", status=500, after_handler=True, retry_after=0)


def uploaded_once(scene: Scene, done: Done) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    response = httpx.get(f"{scene.emulator.url}{FILES}{VOL}/in.bin", headers=headers)
    assert response.content == PAYLOAD
    assert b"ALREADY_EXISTS" not in done.stdout + done.stderr


def control_name_in_tree(scene: Scene) -> None:
    create_volume(scene.emulator.url, ADMIN_TOKEN)
    root = local_tree(scene)
    (root / "bad\x1bname.txt").write_bytes(b"x")


ROWS: list[Row] = [
    Row(
        "volumes-cp-dotdot-escape",
        ["fs.cp", "in.bin", f"{VOL}/../other/x"],
        2,
        r"^error: volume path must not contain '\.\.', got '/Volumes/main/default/vol/\.\./other/x'$",
        setup=local_file,
    ),
    Row(
        "volumes-ls-not-a-volume",
        ["fs.ls", "/Volumes/main/default"],
        2,
        r"^error: volume path '/Volumes/main/default' must name a volume: "
        r"/Volumes/<catalog>/<schema>/<volume>",
    ),
    Row(
        "volumes-cp-control-character",
        ["fs.cp", "in.bin", f"{VOL}/a\nb"],
        2,
        r"^error: volume path '/Volumes/main/default/vol/a\\nb' contains a control character",
        setup=local_file,
    ),
    Row(
        "volumes-cp-r-control-character-in-local-name",
        ["fs.cp", "src", f"{VOL}/t", "--recursive"],
        2,
        r"^error: volume path '/Volumes/main/default/vol/t/bad\\x1bname\.txt' contains a control character",
        setup=control_name_in_tree,
    ),
    Row(
        "volumes-rm-the-volume",
        ["fs.rm", VOL, "--recursive"],
        2,
        r"^error: '/Volumes/main/default/vol' is a volume: "
        r"delete its files, or the volume through Unity Catalog$",
    ),
    Row(
        "volumes-cp-into-socket",
        ["fs.cp", f"{VOL}/data/copy.bin", "sock", "--overwrite"],
        2,
        r"^error: 'sock' is a socket: name a file, a FIFO or a device to write$",
        setup=socket_target,
    ),
    Row(
        "volumes-cp-into-link-to-fifo",
        ["fs.cp", f"{VOL}/data/copy.bin", "out", "--overwrite"],
        0,
        refused=False,
        setup=lambda s: (volume_file(s), fifo_behind_link(s)),
        check=fifo_got(PAYLOAD),
    ),
    Row(
        "volumes-cp-into-dangling-link",
        ["fs.cp", f"{VOL}/data/copy.bin", "dangling"],
        2,
        r"^error: 'dangling' is a symbolic link to '.*', which does not exist",
        setup=lambda s: (volume_file(s), (s.tmp / "dangling").symlink_to(s.tmp / "gone" / "x")),
    ),
    Row(
        "volumes-cp-failed-download-leaves-nothing",
        ["fs.cp", f"{VOL}/data/copy.bin", "copy.bin"],
        6,
        r"^error: /Volumes/main/default/vol/data/copy\.bin: the service answered \d+ bytes where \d+ were",
        setup=broken_downloads,
    ),
    Row(
        "volumes-cp-lost-upload-answer",
        ["fs.cp", "in.bin", f"{VOL}/in.bin"],
        0,
        refused=False,
        setup=lost_upload_answer,
        check=uploaded_once,
    ),
    Row(
        "volumes-cp-undecodable-dest",
        ["fs.cp", "in.bin", f"{VOL}/bad\udcff".encode("utf-8", "surrogateescape")],
        2,
        r"^error: volume path '/Volumes/main/default/vol/bad\\xff' is not valid UTF-8",
        setup=local_file,
    ),
]
