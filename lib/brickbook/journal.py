"""The per-invocation-key journal of a runbook: where it lives, what it holds, how it is written.

Layout: ``<state dir>/<runbook>/<key>.json``, with the key's lock beside it (``brickbook.lock``). The
state dir is ``--state-dir``, else ``$XDG_STATE_HOME/brickbook``, else ``~/.local/state/brickbook``;
brickbook creates its folders with mode 0700. Runbook names and keys are turned into safe file names (a
hash suffix keeps long or unusual keys apart).

The journal is one small JSON document per key, replaced atomically (temp file in the same folder,
fsync, rename, fsync of the folder), so a crash at any moment leaves the old or the new version, never
half of one. Before a remote side effect that must not be repeated, a step records its idempotency token
and the file is fsynced; only then is the request sent; the remote id (a run id) is recorded after. A
re-invocation after ``kill -9`` therefore either finds the id (and reattaches) or finds only the token
(and sends the same request with the same token, which the API answers with the run it already
started). A journal that cannot be read or parsed, or is larger than ``MAX_JOURNAL_BYTES``, is an error
naming the file (``JournalCorrupt``, exit 2): it is never silently ignored, because ignoring it could
start a second run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brickbook.errors import JournalCorrupt, LocalWriteFailed, UsageError

__all__ = [
    "MAX_JOURNAL_BYTES",
    "Effect",
    "Journal",
    "StepRecord",
    "check_state_dir",
    "default_key",
    "ensure_state_dir",
    "idempotency_token",
    "resolve_state_dir",
    "safe_name",
    "validate_key",
    "write_atomic",
]

FORMAT = "brickbook-journal"
VERSION = 1
MAX_JOURNAL_BYTES = 1024 * 1024
MAX_KEY_LENGTH = 200
MAX_HISTORY = 50
TOKEN_LIMIT = 64  # the Jobs API's limit on idempotency_token
STEP_STATUSES = frozenset({"started", "done", "failed", "cancelled", "interrupted"})
RUN_STATUSES = frozenset({"running", "succeeded", "failed", "interrupted"})
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CORRUPT_HINT = "move the file aside to start this key afresh (its record of started runs is then lost)"


# -- names, keys and tokens -------------------------------------------------------------------------


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def safe_name(text: str) -> str:
    """Return a file name for ``text``: itself when short and plain, else a cleaned prefix + a hash."""
    if _SAFE.match(text):
        return text
    prefix = _UNSAFE_CHARS.sub("_", text).strip("._-")[:40]
    return f"{prefix}-{_digest(text)[:16]}" if prefix else _digest(text)[:16]


def validate_key(key: str) -> str:
    """Check a ``--key`` value: not blank, no control characters, at most 200 characters."""
    if not key.strip():
        raise UsageError("--key must not be empty: give a name for this invocation, e.g. nightly-2026-11-26")
    if _CONTROL.search(key):
        raise UsageError("--key must not contain control characters (newlines, tabs, NUL)")
    if len(key) > MAX_KEY_LENGTH:
        raise UsageError(f"--key is {len(key)} characters long; use at most {MAX_KEY_LENGTH}")
    return key


def default_key(runbook: str, *, host: str, options: Mapping[str, Any], wall: float) -> str:
    """Return the key cron invocations share: ``<runbook>-<UTC date>-<digest of host and arguments>``.

    Two invocations of one runbook on the same UTC day, against the same workspace host with the same
    arguments (None, False and empty values dropped, keys sorted) get the same key, so a cron job that
    fires twice, or is re-run after a crash, does the day's work once. Use ``--key`` for another rhythm
    (hourly runs, one key per release). The arguments appear only as a digest: they may hold secrets.
    """
    kept = {k: v for k, v in options.items() if v not in (None, False, "", [], ())}
    canonical = json.dumps({"host": host, "arguments": kept}, sort_keys=True, default=str)
    day = dt.datetime.fromtimestamp(wall, dt.UTC).date().isoformat()
    return f"{runbook}-{day}-{_digest(runbook, canonical)[:12]}"


def idempotency_token(runbook: str, key: str, step: str, attempt: int, effect: str = "") -> str:
    """Return the token for one side effect: the same for a re-invocation, new for each ``--rerun``.

    A digest of runbook, key, step, effect and attempt, so it fits the API's 64-character limit whatever
    the names, and reveals nothing of the key.
    """
    token = f"bb-{_digest(runbook, key, step, effect, str(attempt))[:48]}"
    assert len(token) <= TOKEN_LIMIT
    return token


# -- the state dir ----------------------------------------------------------------------------------


def resolve_state_dir(explicit: str | None, env: Mapping[str, str] | None = None) -> Path:
    """Return the state dir: ``--state-dir``, ``$XDG_STATE_HOME/brickbook``, ``~/.local/state/brickbook``."""
    env = os.environ if env is None else env
    if explicit is not None:
        if not explicit.strip() or "\x00" in explicit:
            raise UsageError("--state-dir must name a directory")
        return Path(explicit).expanduser()
    xdg = env.get("XDG_STATE_HOME", "")
    # The XDG spec says a relative value is invalid and must be ignored.
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "brickbook"
    home = env.get("HOME") or str(Path.home())
    return Path(home) / ".local" / "state" / "brickbook"


def check_state_dir(path: Path) -> Path:
    """Check, creating nothing, that ``path`` is or can become a writable directory."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing == path and not path.is_dir():
        raise UsageError(f"state dir {path} exists and is not a directory: choose another --state-dir")
    if not existing.is_dir():
        raise UsageError(f"cannot create state dir {path}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"state dir {existing} is not writable: choose another --state-dir")
    return path


def ensure_state_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with mode 0700; refuse a path that is not a directory."""
    check_state_dir(path)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot create state dir {path}: {exc.strerror}; choose another --state-dir"
        ) from None
    return path


def write_atomic(path: Path, data: bytes, *, fsync: Callable[[int], None] = os.fsync) -> None:
    """Replace ``path`` with ``data`` durably (0600): temp file, fsync, rename, fsync the folder."""
    from brickbook.localfs import atomic_writer

    with atomic_writer(path, secret=True, fsync=fsync) as handle:
        handle.write(data)


# -- the journal ------------------------------------------------------------------------------------


class _Bad(ValueError):
    """A journal field that is not what this version writes."""


def _want(ok: bool, what: str) -> None:
    if not ok:
        raise _Bad(what)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _one_of(value: Any, allowed: frozenset[str]) -> bool:
    return isinstance(value, str) and value in allowed


@dataclass
class Effect:
    """One side effect of a step: its token (recorded before the request) and remote id (after)."""

    token: str
    remote_id: int | str | None = None
    cancelled: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"token": self.token, "remote_id": self.remote_id, "cancelled": self.cancelled}

    @classmethod
    def from_dict(cls, data: Any, where: str) -> Effect:
        _want(isinstance(data, dict), f"{where} is not an object")
        _want(isinstance(data.get("token"), str) and bool(data["token"]), f"{where}.token is missing")
        remote = data.get("remote_id")
        _want(remote is None or isinstance(remote, int | str), f"{where}.remote_id is not an id")
        return cls(token=data["token"], remote_id=remote, cancelled=data.get("cancelled") is True)


@dataclass
class StepRecord:
    """What the journal knows about one step of the current attempt."""

    status: str
    started_at: float
    finished_at: float | None = None
    outcome: str | None = None
    reason: str = ""
    duration_seconds: float | None = None
    result: Any = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    effects: dict[str, Effect] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["effects"] = {name: effect.to_dict() for name, effect in self.effects.items()}
        return data

    @classmethod
    def from_dict(cls, data: Any, where: str) -> StepRecord:
        _want(isinstance(data, dict), f"{where} is not an object")
        _want(_one_of(data.get("status"), STEP_STATUSES), f"{where}.status is not a step status")
        _want(_number(data.get("started_at")), f"{where}.started_at is not a time")
        kinds: dict[str, Callable[[Any], bool]] = {
            "finished_at": lambda v: v is None or _number(v),
            "duration_seconds": lambda v: v is None or _number(v),
            "outcome": lambda v: v is None or isinstance(v, str),
            "reason": lambda v: isinstance(v, str),
            "changes": lambda v: isinstance(v, list) and all(isinstance(c, dict) for c in v),
            "runs": lambda v: isinstance(v, list) and all(_run_entry(r) for r in v),
            "outputs": lambda v: isinstance(v, dict),
            "error": lambda v: v is None or (isinstance(v, dict) and isinstance(v.get("message", ""), str)),
            "effects": lambda v: isinstance(v, dict),
        }
        for name, ok in kinds.items():
            _want(name not in data or ok(data[name]), f"{where}.{name} is not what brickbook writes")
        effects = {
            str(n): Effect.from_dict(e, f"{where}.effects[{n!r}]") for n, e in data.get("effects", {}).items()
        }
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "effects"}
        return cls(**known, effects=effects)


def _run_entry(run: Any) -> bool:
    return (
        isinstance(run, dict)
        and isinstance(run.get("run_id"), int | str)
        and isinstance(run.get("step"), str)
    )


class Journal:
    """The journal of one runbook key: the current attempt, its steps and effects, the run's status."""

    def __init__(
        self,
        path: Path,
        *,
        runbook: str,
        key: str,
        wall: Callable[[], float],
        fsync: Callable[[int], None] = os.fsync,
    ) -> None:
        self.path = path
        self.runbook = runbook
        self.key = key
        self.attempt = 1
        self.status = "running"
        self.steps: dict[str, StepRecord] = {}
        self.history: list[dict[str, Any]] = []
        self.created_at = wall()
        self._wall = wall
        self._fsync = fsync

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        runbook: str,
        key: str,
        wall: Callable[[], float],
        fsync: Callable[[int], None] = os.fsync,
    ) -> Journal | None:
        """Read the journal at ``path``; None when there is none; JournalCorrupt when it is not sound."""
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_JOURNAL_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise JournalCorrupt(f"cannot read journal {path}: {exc.strerror}").with_hint(
                "it must be a readable file"
            ) from None
        if len(raw) > MAX_JOURNAL_BYTES:
            raise JournalCorrupt(
                f"journal {path} is larger than {MAX_JOURNAL_BYTES // 1024} KiB, more than brickbook writes"
            ).with_hint(CORRUPT_HINT)
        journal = cls(path, runbook=runbook, key=key, wall=wall, fsync=fsync)
        try:
            journal._read(json.loads(raw.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            reason = f"not JSON: {exc}" if not isinstance(exc, RecursionError) else "nested too deeply"
            raise JournalCorrupt(f"journal {path} is corrupt ({reason})").with_hint(CORRUPT_HINT) from None
        except (_Bad, TypeError, KeyError, ValueError) as exc:
            detail = str(exc) if len(str(exc)) <= 120 else str(exc)[:119] + "…"
            raise JournalCorrupt(f"journal {path} is corrupt ({detail})").with_hint(CORRUPT_HINT) from None
        return journal

    def _read(self, doc: Any) -> None:
        _want(isinstance(doc, dict), "it is not a JSON object")
        _want(doc.get("format") == FORMAT, f"format is not {FORMAT!r}")
        _want(type(doc.get("version")) is int and doc["version"] == VERSION, f"version is not {VERSION}")
        _want(doc.get("runbook") == self.runbook, f"it belongs to another runbook, not {self.runbook!r}")
        _want(doc.get("key") == self.key, "it belongs to another key")
        attempt = doc.get("attempt")
        _want(isinstance(attempt, int) and not isinstance(attempt, bool) and attempt >= 1, "bad attempt")
        _want(_one_of(doc.get("status"), RUN_STATUSES), "status is not a run status")
        _want(doc.get("created_at") is None or _number(doc["created_at"]), "created_at is not a time")
        _want(isinstance(doc.get("steps"), dict), "steps is not an object")
        _want(isinstance(doc.get("history", []), list), "history is not a list")
        self.attempt, self.status = attempt, doc["status"]
        self.created_at = float(doc.get("created_at") or self._wall())
        self.history = list(doc.get("history", []))
        self.steps = {str(n): StepRecord.from_dict(s, f"steps[{n!r}]") for n, s in doc["steps"].items()}

    def to_dict(self) -> dict[str, Any]:
        """Return the document as written."""
        return {
            "format": FORMAT,
            "version": VERSION,
            "runbook": self.runbook,
            "key": self.key,
            "attempt": self.attempt,
            "status": self.status,
            "created_at": self.created_at,
            "updated_at": self._wall(),
            "history": self.history,
            "steps": {name: record.to_dict() for name, record in self.steps.items()},
        }

    def save(self) -> None:
        """Write the journal atomically and durably (it is on disk when this returns)."""
        data = json.dumps(self.to_dict(), indent=1, allow_nan=False).encode("utf-8")
        if len(data) > MAX_JOURNAL_BYTES:
            # A runbook recording whole logs or datasets as step results: a bug to fix in the runbook.
            raise ValueError(
                f"journal {self.path} would be {len(data)} bytes, over the {MAX_JOURNAL_BYTES} limit: "
                "record smaller step results and outputs"
            )
        try:
            write_atomic(self.path, data, fsync=self._fsync)
        except (OSError, LocalWriteFailed) as exc:
            # Safe to stop here: a token not on disk means its request was never sent.
            raise UsageError(f"cannot write journal {self.path}: {exc.strerror}").with_hint(
                "free some space or choose another --state-dir"
            ) from None

    def new_attempt(self) -> None:
        """Start a fresh attempt under the same key (``--rerun``): new tokens, no step done yet."""
        self.history = [*self.history, {"attempt": self.attempt, "status": self.status}][-MAX_HISTORY:]
        self.attempt += 1
        self.status = "running"
        self.steps = {}
