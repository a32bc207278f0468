"""fs.* on Unity Catalog volume paths (/Volumes/...) from the command line, over HTTP to the emulator."""

from __future__ import annotations

import json
import random
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, USER_TOKEN, Emulator, run_cli
from tests.volumes import create_volume

VOL = "/Volumes/main/default/vol"
FILES = "/api/2.0/fs/files"
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def volume(workspace_env: Emulator) -> None:
    create_volume(workspace_env.url, ADMIN_TOKEN)


def blob(size: int, seed: int = 11) -> bytes:
    return random.Random(seed).randbytes(size)


def test_cp_up_and_down_round_trip(workspace_env: Emulator, tmp_path: Path):
    """fs.cp uploads a local file to a volume in one PUT and downloads it back unchanged."""
    data = blob(3 * MB + 1)
    source = tmp_path / "in.bin"
    source.write_bytes(data)
    up = run_cli("fs.cp", str(source), f"{VOL}/dir/in.bin")
    assert up.exit_code == 0, up.stderr
    assert len([r for r in workspace_env.requests(FILES) if r["method"] == "PUT"]) == 1
    down = run_cli("fs.cp", f"{VOL}/dir/in.bin", str(tmp_path / "out.bin"))
    assert down.exit_code == 0, down.stderr
    assert (tmp_path / "out.bin").read_bytes() == data


def test_dbfs_scheme_names_a_volume_too(workspace_env: Emulator, tmp_path: Path):
    """dbfs:/Volumes/... goes to the Files API, as in the SDK."""
    source = tmp_path / "a.txt"
    source.write_text("hello")
    assert run_cli("fs.cp", str(source), f"dbfs:{VOL}/a.txt").exit_code == 0
    result = run_cli("fs.cat", f"dbfs:{VOL}/a.txt")
    assert (result.exit_code, result.stdout) == (0, "hello")
    assert not workspace_env.requests("/api/2.0/dbfs/")


def test_ls_mkdirs_json(workspace_env: Emulator, tmp_path: Path):
    """fs.mkdirs creates a volume directory; fs.ls -o json lists entries in the DBFS shape."""
    assert run_cli("fs.mkdirs", f"{VOL}/d/sub").exit_code == 0
    (tmp_path / "f.txt").write_text("12345")
    run_cli("fs.cp", str(tmp_path / "f.txt"), f"{VOL}/d/f.txt")
    rows = json.loads(run_cli("fs.ls", f"{VOL}/d", "-o", "json").stdout)
    assert [(r["path"], r["is_dir"], r["file_size"]) for r in rows] == [
        (f"{VOL}/d/f.txt", False, 5),
        (f"{VOL}/d/sub", True, 0),
    ]
    (one,) = json.loads(run_cli("fs.ls", f"{VOL}/d/f.txt", "-o", "json").stdout)
    assert (one["path"], one["file_size"], one["is_dir"]) == (f"{VOL}/d/f.txt", 5, False)
    assert isinstance(one["modification_time"], int)
    text = run_cli("fs.ls", f"{VOL}/d")
    assert text.exit_code == 0 and f"{VOL}/d/sub" in text.stdout


def test_recursive_copy_both_ways(workspace_env: Emulator, tmp_path: Path):
    """fs.cp -r uploads a folder tree to a volume and downloads it back into a new folder."""
    tree = tmp_path / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / "top.txt").write_text("top")
    (tree / "a" / "b" / "deep.bin").write_bytes(blob(1000))
    up = run_cli("fs.cp", "-r", str(tree), f"{VOL}/tree")
    assert up.exit_code == 0, up.stderr
    back = tmp_path / "back"
    down = run_cli("fs.cp", "-r", f"{VOL}/tree", str(back))
    assert down.exit_code == 0, down.stderr
    assert (back / "top.txt").read_text() == "top"
    assert (back / "a" / "b" / "deep.bin").read_bytes() == blob(1000)


def test_copy_within_volumes(workspace_env: Emulator, tmp_path: Path):
    """fs.cp between two volume paths streams the file across."""
    (tmp_path / "x").write_bytes(b"xyz")
    run_cli("fs.cp", str(tmp_path / "x"), f"{VOL}/x")
    create_volume(workspace_env.url, ADMIN_TOKEN, "other")
    assert run_cli("fs.cp", f"{VOL}/x", "/Volumes/main/default/other/y").exit_code == 0
    assert run_cli("fs.cat", "/Volumes/main/default/other/y").stdout == "xyz"


def test_existing_destination_needs_overwrite(workspace_env: Emulator, tmp_path: Path):
    """An existing volume file stops the copy with exit 5 before any upload; --overwrite replaces it."""
    (tmp_path / "x").write_bytes(b"one")
    run_cli("fs.cp", str(tmp_path / "x"), f"{VOL}/x")
    (tmp_path / "x").write_bytes(b"two")
    refused = run_cli("fs.cp", str(tmp_path / "x"), f"{VOL}/x")
    assert refused.exit_code == 5
    assert "--overwrite" in refused.stderr
    assert run_cli("fs.cp", "--overwrite", str(tmp_path / "x"), f"{VOL}/x").exit_code == 0
    assert run_cli("fs.cat", f"{VOL}/x").stdout == "two"


def test_rm_recursive(workspace_env: Emulator, tmp_path: Path):
    """fs.rm refuses a non-empty directory without -r (exit 2) and deletes the tree with it."""
    (tmp_path / "f").write_text("f")
    run_cli("fs.cp", str(tmp_path / "f"), f"{VOL}/t/a/f")
    refused = run_cli("fs.rm", f"{VOL}/t")
    assert refused.exit_code == 2 and "--recursive" in refused.stderr
    assert run_cli("fs.rm", "-r", f"{VOL}/t").exit_code == 0
    assert run_cli("fs.ls", f"{VOL}/t").exit_code == 4


def test_rm_of_a_volume_is_refused(workspace_env: Emulator):
    """fs.rm of the volume itself is a usage error, before any request."""
    result = run_cli("fs.rm", "-r", VOL)
    assert result.exit_code == 2 and "Unity Catalog" in result.stderr
    assert not workspace_env.requests("/api/2.0/fs/")


def test_missing_file_is_exit_4(workspace_env: Emulator):
    """fs.cat and fs.ls of a missing volume path exit 4 with the service's NOT_FOUND."""
    result = run_cli("fs.cat", f"{VOL}/none")
    assert result.exit_code == 4
    assert "no file or directory" in result.stderr and "/none" in result.stderr


def test_missing_volume_is_named(workspace_env: Emulator):
    """A path in a volume that does not exist exits 4 with the service's message naming the volume."""
    result = run_cli("fs.ls", "/Volumes/main/default/nope/x")
    assert result.exit_code == 4
    assert "Volume 'main.default.nope' does not exist" in result.stderr


def test_dry_run_copies_nothing(workspace_env: Emulator, tmp_path: Path):
    """fs.cp --dry-run lists the planned action and sends no upload."""
    (tmp_path / "x").write_text("x")
    result = run_cli("fs.cp", "--dry-run", str(tmp_path / "x"), f"{VOL}/x", "-o", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["files"][0]["action"] == "create"
    assert not [r for r in workspace_env.requests(FILES) if r["method"] == "PUT"]


def test_dbfs_to_volume_is_refused(workspace_env: Emulator, tmp_path: Path):
    """A copy between DBFS and a volume is a usage error naming the way round it."""
    result = run_cli("fs.cp", "dbfs:/x", f"{VOL}/x")
    assert result.exit_code == 2 and "local folder" in result.stderr


def test_non_admin_is_denied_then_granted(
    workspace_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A user without volume privileges is refused (exit 3); with READ_VOLUME and WRITE_VOLUME it works."""
    (tmp_path / "x").write_text("x")
    monkeypatch.setenv("DATABRICKS_TOKEN", USER_TOKEN)
    denied = run_cli("fs.cp", str(tmp_path / "x"), f"{VOL}/x")
    assert denied.exit_code == 3
    assert "PERMISSION_DENIED" in denied.stderr and "USE CATALOG" in denied.stderr
    for securable, name, privileges in [
        ("catalog", "main", ["USE_CATALOG"]),
        ("schema", "main.default", ["USE_SCHEMA"]),
        ("volume", "main.default.vol", ["READ_VOLUME", "WRITE_VOLUME"]),
    ]:
        body = {"changes": [{"principal": "alice@example.com", "add": privileges}]}
        response = httpx.patch(
            f"{workspace_env.url}/api/2.1/unity-catalog/permissions/{securable}/{name}",
            json=body,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert response.status_code == 200, response.text
    assert run_cli("fs.cp", str(tmp_path / "x"), f"{VOL}/x").exit_code == 0
    assert run_cli("fs.cat", f"{VOL}/x").stdout == "x"


def test_file_over_5_gib_is_refused_before_any_request(workspace_env: Emulator, tmp_path: Path):
    """A local file larger than one Files API upload (5 GiB) exits 2 and nothing is sent."""
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(5 * 1024**3 + 1)  # sparse: no disk used
    result = run_cli("fs.cp", str(big), f"{VOL}/big.bin")
    assert result.exit_code == 2
    assert "at most 5368709120 bytes (5 GiB)" in result.stderr
    assert not [r for r in workspace_env.requests(FILES) if r["method"] == "PUT"]
