"""The store: typed records by (kind, key), id counters, transactions, persistence."""

from __future__ import annotations

from pathlib import Path

import pytest

from brickbook.emulator.state.store import DATABASE_NAME, Store


def test_get_returns_what_put_stored():
    """put then get returns an equal record."""
    store = Store()
    store.put("job", "1", {"name": "nightly", "tags": ["a"]})
    assert store.get("job", "1") == {"name": "nightly", "tags": ["a"]}


def test_get_of_a_missing_record_is_none():
    """get of an unknown key is None."""
    assert Store().get("job", "404") is None


def test_kinds_are_separate():
    """The same key in two kinds names two records."""
    store = Store()
    store.put("job", "1", {"k": "job"})
    store.put("run", "1", {"k": "run"})
    assert store.get("job", "1") == {"k": "job"}


def test_items_keep_insertion_order_across_replaces():
    """items lists records oldest first; replacing a record keeps its place."""
    store = Store()
    for key in ("b", "a", "c"):
        store.put("x", key, {"v": key})
    store.put("x", "b", {"v": "b2"})
    assert store.items("x") == [("b", {"v": "b2"}), ("a", {"v": "a"}), ("c", {"v": "c"})]


def test_delete_says_whether_the_record_existed():
    """delete returns True once, then False."""
    store = Store()
    store.put("x", "k", {})
    assert store.delete("x", "k") is True
    assert store.delete("x", "k") is False


def test_next_id_counts_per_kind():
    """next_id returns 1, 2, ... separately for each kind."""
    store = Store()
    assert [store.next_id("job"), store.next_id("job"), store.next_id("run")] == [1, 2, 1]


def test_failed_transaction_rolls_back():
    """An exception inside transaction() undoes its writes."""
    store = Store()
    with pytest.raises(RuntimeError), store.transaction():
        store.put("x", "k", {})
        store.next_id("x")
        raise RuntimeError("abort")
    assert store.get("x", "k") is None
    assert store.next_id("x") == 1


def test_nested_transaction_joins_the_outer_one():
    """A failure in the outer transaction also undoes the nested one's writes."""
    store = Store()
    with pytest.raises(RuntimeError), store.transaction():
        with store.transaction():
            store.put("x", "inner", {})
        raise RuntimeError("abort")
    assert store.items("x") == []


def test_clear_keeps_the_named_kinds():
    """clear(keep=...) drops every other kind's records and counters."""
    store = Store()
    store.put("job", "1", {})
    store.next_id("job")
    store.put("oauth_token", "t", {})
    store.clear(keep=("oauth_token",))
    assert store.items("job") == []
    assert store.next_id("job") == 1
    assert store.items("oauth_token") == [("t", {})]


def test_data_dir_survives_reopening(tmp_path: Path):
    """With a data_dir, records and counters are there after close and reopen."""
    store = Store(tmp_path)
    store.put("job", "1", {"name": "n"})
    store.next_id("job")
    store.close()
    reopened = Store(tmp_path)
    assert reopened.get("job", "1") == {"name": "n"}
    assert reopened.next_id("job") == 2
    assert (tmp_path / DATABASE_NAME).is_file()
    reopened.close()


def test_data_dir_uses_wal_and_full_sync(tmp_path: Path):
    """The on-disk store runs in WAL mode with synchronous=FULL."""
    store = Store(tmp_path)
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2
    store.close()
