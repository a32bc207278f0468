"""The deploy record: round trip, atomic and durable writes, a size bound, corruption named (exit 2)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from brickbook.api.workspace import ObjectInfo
from brickbook.errors import DeployRecordCorrupt, UsageError
from brickbook.ops import deployed
from brickbook.ops.deployed import Deployed, DeployRecord

WHERE = {"kind": "import", "host": "https://example.cloud.databricks.com", "folder": "/Shared/p"}
ONE = {"/Shared/p/etl": Deployed("ab" * 32, 7, 1_700_000_000_000, None)}


def saved(state: Path) -> DeployRecord:
    record = DeployRecord.load(state, **WHERE)
    record.save(ONE)
    return record


def test_a_saved_record_reads_back(tmp_path: Path):
    """What save writes, load returns; the folders are 0700 and the file 0600."""
    record = saved(tmp_path / "state")
    assert DeployRecord.load(tmp_path / "state", **WHERE).objects == ONE
    assert stat.S_IMODE(record.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(record.path.parent.stat().st_mode) == 0o700


def test_each_host_and_folder_has_its_own_record(tmp_path: Path):
    """Another host, folder or kind reads an empty record, not this one."""
    saved(tmp_path)
    for change in ({"host": "https://other"}, {"folder": "/Shared/q"}, {"kind": "export"}):
        assert DeployRecord.load(tmp_path, **{**WHERE, **change}).objects == {}


def test_a_failed_write_keeps_the_old_record_and_leaves_no_temp_file(tmp_path: Path):
    """The write is atomic: when syncing the new content fails, the old record is intact."""
    record = saved(tmp_path)

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(UsageError, match=r"cannot write deploy record .*No space left"):
        record.save({}, fsync=broken_fsync)
    assert DeployRecord.load(tmp_path, **WHERE).objects == ONE
    assert list(record.path.parent.glob(".brickbook-*")) == []


def test_the_folder_is_synced_after_the_rename(tmp_path: Path):
    """Durable: the file and then its folder are fsynced."""
    synced: list[int] = []
    record = DeployRecord.load(tmp_path, **WHERE)
    record.save(ONE, fsync=synced.append)
    assert len(synced) == 2


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"format": "brickbook-journal", "version": 1}', "not a brickbook-deployed document"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_a_corrupt_record_is_an_error_naming_the_file(tmp_path: Path, content: bytes, detail: str):
    """A record that cannot be parsed is DeployRecordCorrupt (exit 2) naming the file and why."""
    path = saved(tmp_path).path
    path.write_bytes(content)
    with pytest.raises(DeployRecordCorrupt, match=detail) as caught:
        DeployRecord.load(tmp_path, **WHERE)
    assert str(path) in caught.value.message and caught.value.exit_code == 2
    assert caught.value.hint is not None and "delete the file" in caught.value.hint


def test_a_record_of_another_folder_or_with_bad_fields_is_corrupt(tmp_path: Path):
    """A record naming another folder, or an object without a digest, is refused, not trusted."""
    path = saved(tmp_path).path
    doc = json.loads(path.read_bytes())
    path.write_text(json.dumps({**doc, "folder": "/Shared/q"}))
    with pytest.raises(DeployRecordCorrupt, match="another host or folder"):
        DeployRecord.load(tmp_path, **WHERE)
    path.write_text(json.dumps({**doc, "objects": {"/Shared/p/etl": {"object_id": 7}}}))
    with pytest.raises(DeployRecordCorrupt, match="has no sha256"):
        DeployRecord.load(tmp_path, **WHERE)
    path.write_text(json.dumps({**doc, "objects": {"/x": {"sha256": "a", "modified_at": "soon"}}}))
    with pytest.raises(DeployRecordCorrupt, match="modified_at is not an integer"):
        DeployRecord.load(tmp_path, **WHERE)


def test_a_record_over_the_size_bound_is_refused_unread(tmp_path: Path):
    """Reading stops at the bound: a larger file is DeployRecordCorrupt, never parsed."""
    path = saved(tmp_path).path
    path.write_bytes(b" " * (deployed.MAX_RECORD_BYTES + 1))
    with pytest.raises(DeployRecordCorrupt, match="is larger than 16 MiB"):
        DeployRecord.load(tmp_path, **WHERE)
    assert path.exists()


def test_a_record_that_would_pass_the_bound_is_removed_instead(tmp_path: Path):
    """Too many objects to record: the old record goes (a stale one would look like remote edits)."""
    record = saved(tmp_path)
    left = Deployed("ab" * 32, 10**15, 1_700_000_000_000, 10**6)
    record.save({f"/Shared/p/{n:08}": left for n in range(deployed.MAX_RECORD_BYTES // 150)})
    assert not record.path.exists()


def test_an_object_is_still_as_left_only_with_the_same_id_time_and_size():
    """Same id, modified_at and size: still. Any one moved, or no modified_at: cannot tell."""
    left = Deployed("d", 7, 1000, 8)
    assert left.still(ObjectInfo(object_id=7, modified_at=1000, size=8))
    assert left.still(ObjectInfo(object_id=7, modified_at=1000))  # size left out: not a difference
    for moved in (
        ObjectInfo(object_id=8, modified_at=1000, size=8),
        ObjectInfo(object_id=7, modified_at=1001, size=8),
        ObjectInfo(object_id=7, modified_at=1000, size=9),
        ObjectInfo(object_id=7, modified_at=None, size=8),
    ):
        assert not left.still(moved)
