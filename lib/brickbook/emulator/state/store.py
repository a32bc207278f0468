"""Where every API area keeps its state: JSON records by (kind, key), plus per-kind id counters.

SQLite underneath: an in-memory database by default, or ``<data_dir>/emulator.sqlite3`` in WAL mode
with ``synchronous=FULL``, so every acknowledged write survives ``kill -9``. One re-entrant lock makes
the store safe across threads; ``transaction()`` groups writes that must land together.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["DATABASE_NAME", "Store"]

DATABASE_NAME = "emulator.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS counters (
    kind TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


class Store:
    """A small typed key-value store; records are JSON objects, listed in insertion order."""

    def __init__(self, data_dir: Path | str | None = None) -> None:
        self.path: Path | None = None
        if data_dir is None:
            target = ":memory:"
        else:
            self.path = Path(data_dir) / DATABASE_NAME
            self.path.parent.mkdir(parents=True, exist_ok=True)
            target = str(self.path)
        # Autocommit mode (isolation_level=None): transactions are explicit BEGIN/COMMIT below.
        self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        self._depth = 0
        if self.path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock and make the enclosed writes atomic; nested use joins the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM records WHERE kind=? AND key=?", (kind, key)).fetchone()
        return None if row is None else _decode(row[0])

    def put(self, kind: str, key: str, value: dict[str, Any]) -> None:
        """Insert or replace one record (a replaced record keeps its place in ``items`` order)."""
        with self.transaction():
            self._db.execute(
                "INSERT INTO records (kind, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value",
                (kind, key, json.dumps(value)),
            )

    def delete(self, kind: str, key: str) -> bool:
        """Remove one record; say whether it was there."""
        with self.transaction():
            cursor = self._db.execute("DELETE FROM records WHERE kind=? AND key=?", (kind, key))
        return cursor.rowcount > 0

    def items(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key, value FROM records WHERE kind=? ORDER BY rowid", (kind,)
            ).fetchall()
        return [(key, _decode(value)) for key, value in rows]

    def next_id(self, kind: str) -> int:
        """Return 1, 2, 3... per kind; never reused, even after deletes or restarts."""
        with self.transaction():
            row = self._db.execute(
                "INSERT INTO counters (kind, value) VALUES (?, 1) "
                "ON CONFLICT (kind) DO UPDATE SET value = value + 1 RETURNING value",
                (kind,),
            ).fetchone()
        return int(row[0])

    def clear(self, *, keep: Collection[str] = ()) -> None:
        """Drop every record and counter except the kinds in ``keep``."""
        kept = tuple(keep)
        marks = ",".join("?" for _ in kept)
        with self.transaction():
            if kept:
                self._db.execute(f"DELETE FROM records WHERE kind NOT IN ({marks})", kept)  # noqa: S608 - only '?' marks
                self._db.execute(f"DELETE FROM counters WHERE kind NOT IN ({marks})", kept)  # noqa: S608 - idem
            else:
                self._db.execute("DELETE FROM records")
                self._db.execute("DELETE FROM counters")


def _decode(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise TypeError(f"store record is not a JSON object: {text[:80]!r}")
    return value
