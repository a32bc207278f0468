"""What brickbook last put in a workspace folder (import-dir) or took from it (export-dir), kept locally.

The Workspace API has no content hash: ``list`` gives each object's ``object_id``, ``modified_at`` and,
for files, ``size``, and proving that content is unchanged otherwise takes one ``export`` per object.
So after a sync brickbook records, per workspace path, the SHA-256 of what it imported (or wrote
locally), with the object's id, modified time and size as the listing then showed them. On the next
run an object whose listing still shows those values is the one brickbook left (an import with
overwrite keeps the object id but moves ``modified_at``; a delete and re-create changes the id), so
the local hash alone says whether anything is to do: an unchanged rerun costs the listing only.

One small JSON document per kind (``import`` or ``export``), workspace host and folder, at
``<state dir>/deployed/<kind>-<digest>.json`` (the runbooks' state dir, ``brickbook.journal``), replaced
atomically and durably. A file that cannot be read or parsed, or is larger than ``MAX_RECORD_BYTES``,
is a ``DeployRecordCorrupt`` naming it (exit 2): silently dropping it would let a remote edit be
overwritten unnoticed. Deleting the file is always safe: the next run compares contents again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brickbook.api.workspace import ObjectInfo
from brickbook.errors import DeployRecordCorrupt, LocalWriteFailed, UsageError
from brickbook.journal import ensure_state_dir
from brickbook.localfs import atomic_writer

__all__ = ["MAX_RECORD_BYTES", "DeployRecord", "Deployed", "content_digest"]

FORMAT = "brickbook-deployed"
VERSION = 1
MAX_RECORD_BYTES = 16 * 1024 * 1024  # ~100,000 objects; a folder synced by brickbook is far smaller
CORRUPT_HINT = "delete the file: the next run compares contents again and writes a new one"


def content_digest(content: bytes, *parts: str) -> str:
    """Return the SHA-256 of ``content`` and of ``parts`` (how it is imported: format, language)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(content)
    return digest.hexdigest()


def _int_or_none(value: Any, what: str) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError(f"{what} is not an integer")


@dataclass(frozen=True)
class Deployed:
    """One object as brickbook left it: the content's digest and what the listing showed then."""

    sha256: str
    object_id: int | None
    modified_at: int | None
    size: int | None = None

    @classmethod
    def of(cls, sha256: str, info: ObjectInfo) -> Deployed:
        """Record ``info`` (a listing entry) as holding the content whose digest is ``sha256``."""
        return cls(sha256, info.object_id, info.modified_at, info.size)

    def still(self, info: ObjectInfo) -> bool:
        """Tell whether the listing shows the object brickbook left: same id, modified time and size.

        Without a ``modified_at`` (the API documents it for files only) the listing cannot tell.
        """
        return (
            info.modified_at is not None
            and info.modified_at == self.modified_at
            and info.object_id == self.object_id
            and (info.size is None or self.size is None or info.size == self.size)
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "sha256": self.sha256,
            "object_id": self.object_id,
            "modified_at": self.modified_at,
            "size": self.size,
        }

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Deployed:
        """Read the JSON form (ValueError when it is not one)."""
        if not isinstance(data, dict) or not isinstance(data.get("sha256"), str):
            raise ValueError(f"objects[{where!r}] has no sha256")
        return cls(
            data["sha256"],
            _int_or_none(data.get("object_id"), f"objects[{where!r}].object_id"),
            _int_or_none(data.get("modified_at"), f"objects[{where!r}].modified_at"),
            _int_or_none(data.get("size"), f"objects[{where!r}].size"),
        )


@dataclass
class DeployRecord:
    """The objects of one folder as brickbook last left them, by canonical workspace path."""

    path: Path
    kind: str
    host: str
    folder: str
    objects: dict[str, Deployed] = field(default_factory=dict)

    @classmethod
    def location(cls, state_dir: Path, *, kind: str, host: str, folder: str) -> Path:
        """Return where the record of ``kind`` for ``host`` and ``folder`` lives."""
        digest = hashlib.sha256("\0".join((kind, host, folder)).encode("utf-8", "surrogatepass"))
        return state_dir / "deployed" / f"{kind}-{digest.hexdigest()[:32]}.json"

    @classmethod
    def load(cls, state_dir: Path, *, kind: str, host: str, folder: str) -> DeployRecord:
        """Read the record (empty when there is none); DeployRecordCorrupt when it is not sound."""
        path = cls.location(state_dir, kind=kind, host=host, folder=folder)
        record = cls(path, kind, host, folder)
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_RECORD_BYTES + 1)
        except FileNotFoundError:
            return record
        except OSError as exc:
            raise DeployRecordCorrupt(f"cannot read deploy record {path}: {exc.strerror}").with_hint(
                "it must be a readable file"
            ) from None
        if len(raw) > MAX_RECORD_BYTES:
            raise DeployRecordCorrupt(
                f"deploy record {path} is larger than {MAX_RECORD_BYTES // 1024 // 1024} MiB, "
                "more than brickbook writes"
            ).with_hint(CORRUPT_HINT)
        try:
            record._read(json.loads(raw.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            reason = f"not JSON: {exc}" if not isinstance(exc, RecursionError) else "nested too deeply"
            raise DeployRecordCorrupt(f"deploy record {path} is corrupt ({reason})").with_hint(
                CORRUPT_HINT
            ) from None
        except (TypeError, KeyError, ValueError) as exc:
            detail = str(exc) if len(str(exc)) <= 120 else str(exc)[:119] + "…"
            raise DeployRecordCorrupt(f"deploy record {path} is corrupt ({detail})").with_hint(
                CORRUPT_HINT
            ) from None
        return record

    def _read(self, doc: Any) -> None:
        if not isinstance(doc, dict):
            raise ValueError("it is not a JSON object")
        if doc.get("format") != FORMAT or doc.get("version") != VERSION:
            raise ValueError(f"it is not a {FORMAT} document of version {VERSION}")
        if (doc.get("kind"), doc.get("host"), doc.get("folder")) != (self.kind, self.host, self.folder):
            raise ValueError("it belongs to another host or folder")
        objects = doc.get("objects")
        if not isinstance(objects, dict):
            raise ValueError("objects is not an object")
        self.objects = {str(p): Deployed.from_dict(d, str(p)) for p, d in objects.items()}

    def to_dict(self) -> dict[str, Any]:
        """Return the document as written."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "kind": self.kind,
            "host": self.host,
            "folder": self.folder,
            "objects": {p: d.to_dict() for p, d in sorted(self.objects.items())},
        }

    def save(self, objects: Mapping[str, Deployed], *, fsync: Callable[[int], None] = os.fsync) -> None:
        """Replace the record with ``objects``, atomically and durably (it is on disk when this returns).

        A record that would pass ``MAX_RECORD_BYTES`` is removed instead: a stale one would make the
        objects updated now look edited remotely next time, an absent one only costs a comparison.
        """
        self.objects = dict(objects)
        data = json.dumps(self.to_dict(), indent=1, allow_nan=False).encode("utf-8")
        try:
            if len(data) > MAX_RECORD_BYTES:
                self.path.unlink(missing_ok=True)
                return
            ensure_state_dir(self.path.parent.parent)
            ensure_state_dir(self.path.parent)
            with atomic_writer(self.path, secret=True, fsync=fsync) as handle:
                handle.write(data)
        except (OSError, LocalWriteFailed) as exc:
            raise UsageError(f"cannot write deploy record {self.path}: {exc.strerror}").with_hint(
                "free some space or choose another --state-dir"
            ) from None
