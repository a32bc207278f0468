"""A data directory written by an earlier emulator version is adopted, not lost."""

from __future__ import annotations

import base64
from pathlib import Path

from brickbook.emulator.state.dbfs import DbfsState
from brickbook.emulator.state.identity import Principal
from brickbook.emulator.state.secrets import SecretsState
from brickbook.emulator.state.store import Store
from tests.emulator.harness import FakeClock

ALICE = Principal("alice@example.com", is_admin=False)


def test_secret_acls_kept_in_the_scope_record_move_to_the_grants(tmp_path: Path):
    """A scope record with the old ``acls`` map keeps those grants: alice may still read it."""
    store = Store(tmp_path)
    store.put(
        "secret_scope",
        "etl",
        {"name": "etl", "backend_type": "DATABRICKS", "acls": {ALICE.user_name: "READ"}},
    )
    store.put(
        "secret", "etl/k", {"key": "k", "value": base64.b64encode(b"v").decode(), "last_updated_timestamp": 0}
    )
    secrets = SecretsState(store, FakeClock())
    assert [s["key"] for s in secrets.list_secrets(ALICE, scope="etl")] == ["k"]
    assert secrets.list_acls(Principal("admin", is_admin=True), scope="etl") == [
        {"principal": ALICE.user_name, "permission": "READ"}
    ]
    assert "acls" not in (store.get("secret_scope", "etl") or {})


def test_dbfs_bytes_in_an_old_volume_directory_are_adopted(tmp_path: Path):
    """Blobs under the old ``dbfs/<volume>/blobs/`` layout are moved to ``dbfs/blobs/`` and read back."""
    store = Store(tmp_path)
    old = tmp_path / "dbfs" / ("ab" * 16) / "blobs"
    old.mkdir(parents=True)
    (old / "b1").write_bytes(b"hello")
    store.put("dbfs:/", "f.txt", {"is_dir": False, "modification_time": 0, "file_size": 5, "blob": "b1"})
    dbfs = DbfsState(store, FakeClock(), tmp_path, 100)
    assert dbfs.read_file("/f.txt") == b"hello"
    assert sorted(p.name for p in (tmp_path / "dbfs").iterdir()) == ["blobs", "incoming"]
