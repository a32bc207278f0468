"""Local file I/O for transfers: one write that respects what its target is, one walk that stays home.

Writing (``check_target`` before any request, then ``write_atomically`` or, streaming, ``atomic_writer``):

- a regular file, or a new path, is written to a temporary file beside it and renamed over it, so a
  reader never sees half a file and a failure leaves the old one. A new file gets the mode the umask
  allows (0666 minus umask), a replaced file keeps its mode, and ``secret=True`` makes it 0600;
- a FIFO or a character device (a pipe, a terminal, ``/dev/null``) is opened and written in place: it is
  a stream, not something to replace, and it needs no ``overwrite``. A block device is written in place
  too, but it holds data, so it counts as existing content;
- a symbolic link is resolved first and the rules above apply to what it points to, so the link stays
  a link. ``/dev/stdout``, ``/dev/fd/N`` and ``/proc/self/fd/N`` name a descriptor this process
  already holds: it is written through (a duplicate of) that descriptor, whatever it is, so a pipe, a
  terminal or a shell's ``> file`` all work, and nothing is replaced. A link to nothing
  is refused (exit 2): writing through it would create a file wherever it points, which is rarely
  what was meant (``cp`` refuses it too), and replacing the link would lose it;
- a socket is refused (exit 2);
- a directory where the file goes, or a file where a directory goes, is a ``LocalConflict`` (exit 5);
  a name too long for the file system is a ``UsageError`` (exit 2). Messages show paths escaped and
  shortened (``brickbook.paths.printable``).

Walking (``walk_files``) lists the regular files below a folder without leaving it: a symbolic link is
followed only when what it points to lies inside the folder; links that point outside, broken links
and loops are skipped, and so are FIFOs, sockets and devices. Every skip is logged (``local.skipped``)
and returned, for the task to report. A name that is not valid UTF-8 is a usage error (exit 2) before
any request: no remote name can be made of it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from brickbook.errors import LocalConflict, LocalWriteFailed, UsageError
from brickbook.log import get_logger
from brickbook.paths import is_valid_utf8, printable

__all__ = [
    "OVERWRITE_HINT",
    "LocalFile",
    "LocalTree",
    "Skipped",
    "atomic_writer",
    "check_target",
    "local_path",
    "make_dirs",
    "temp_glob_for",
    "walk_files",
    "write_atomically",
]

# The temporary files of unfinished writes: a crashed writer may leave one (its owner may remove it).
TEMP_GLOB = ".brickbook-*.part"


def temp_glob_for(target: Path) -> str:
    """The pattern of the temporary files of writes to ``target`` alone (not its neighbours').

    Whoever owns ``target`` (holds its lock) may remove these after a crash; another writer's temporary
    file in the same folder, for another target, is not its to remove.
    """
    import hashlib

    tag = hashlib.sha256(target.name.encode(errors="surrogateescape")).hexdigest()[:8]
    return TEMP_GLOB.replace("*", f"{tag}-*")


OVERWRITE_HINT = "add --overwrite to replace it"
DEFAULT_NAME_MAX = 255
DEFAULT_PATH_MAX = 4096
# Links into these name a descriptor of this process (or another's): written in place, never replaced.
_FD_PREFIXES = ("/proc/", "/dev/fd/")
_OWN_FD = re.compile(r"^/(?:dev/fd|proc/(?:self|thread-self|(?P<pid>\d+))(?:/task/\d+)?/fd)/(?P<fd>\d+)$")
_MAX_LINK_HOPS = 40


# -- names ---------------------------------------------------------------------------------------------


def _name_max(path: Path) -> int:
    """The longest name the file system holding ``path`` (or its nearest existing parent) allows."""
    for candidate in (path, *path.parents):
        with contextlib.suppress(OSError, ValueError):
            if candidate.is_dir():
                return os.pathconf(candidate, "PC_NAME_MAX")
    return DEFAULT_NAME_MAX


def _check_names(path: Path) -> None:
    """Raise UsageError for an undecodable name or one too long for the file system."""
    text = str(path)
    if not is_valid_utf8(text):
        raise UsageError(f"local path {printable(text)} is not valid UTF-8: rename it")
    if "\x00" in text:
        raise UsageError(f"local path {printable(text)} contains a NUL character")
    longest = max((len(os.fsencode(part)) for part in path.parts), default=0)
    if longest > _name_max(path) or len(os.fsencode(text)) > DEFAULT_PATH_MAX:
        raise UsageError(f"local path {printable(text)} is too long for the file system: use a shorter name")


def local_path(arg: str) -> Path:
    """Return a command-line local path, refusing names no file system call could take (exit 2)."""
    path = Path(arg)
    _check_names(path)
    return path


# -- what a target is ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """Where a write really goes and how: ``new``, ``regular``, ``stream`` (in place) or ``block``.

    ``fd`` is set when the target names a descriptor this process holds (``/dev/stdout``): writing
    through a duplicate of it shares its offset with everything else written there.
    """

    kind: str
    path: Path
    mode: int = 0
    fd: int | None = None


def _descriptor_alias(path: Path) -> tuple[bool, int | None]:
    """Tell whether ``path`` is, or links through, a name for an open descriptor; return ours if it is.

    ``/dev/stdout`` -> ``/proc/self/fd/1`` gives ``(True, 1)``; another process's ``/proc/<pid>/fd/N``
    gives ``(True, None)``; an ordinary path ``(False, None)``.
    """
    current = path.absolute()
    for _ in range(_MAX_LINK_HOPS):
        text = str(current)
        if text.startswith(_FD_PREFIXES):
            match = _OWN_FD.match(text)
            own = match is not None and match["pid"] in (None, str(os.getpid()))
            return True, int(match["fd"]) if own and match is not None else None
        if not current.is_symlink():
            return False, None
        current = Path(os.path.normpath(current.parent / current.readlink()))
    return False, None


def _blocking_parent(path: Path) -> Path:
    """The first parent of ``path`` that exists and is not a directory (a file in the way)."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return parent
    return path.parent


def _resolve(target: Path, within: Path | None = None) -> _Target:
    """Find out what ``target`` is, following links, and raise for what cannot be written.

    With ``within`` (a folder being filled, as by export-dir), a target that resolves outside it,
    through a link in the target or in one of its parent folders, is refused (exit 2).
    """
    _check_names(target)
    shown = printable(str(target))
    if within is not None and not target.resolve().is_relative_to(within.resolve()):
        raise UsageError(
            f"{shown} leads out of {printable(str(within))} through a symbolic link: remove the link"
        )
    alias, own_fd = _descriptor_alias(target)
    if alias:
        return _Target("stream", target, fd=own_fd)
    try:
        info = target.stat()
    except FileNotFoundError:
        if target.is_symlink():
            raise UsageError(
                f"{shown} is a symbolic link to {printable(str(target.readlink()))}, which does not exist: "
                "remove the link or name the file itself"
            ) from None
        return _Target("new", target)
    except NotADirectoryError:
        blocker = printable(str(_blocking_parent(target)))
        raise LocalConflict(f"cannot write {shown}: {blocker} is a file, not a directory") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UsageError(f"{shown} is a symbolic link loop") from None
        if error.errno == errno.ENAMETOOLONG:
            raise UsageError(f"local path {shown} is too long for the file system") from None
        raise UsageError(f"cannot write {shown}: {error.strerror or error}") from None
    if stat.S_ISDIR(info.st_mode):
        raise LocalConflict(f"{shown} is a directory: name the file to write")
    if stat.S_ISSOCK(info.st_mode):
        raise UsageError(f"{shown} is a socket: name a file, a FIFO or a device to write")
    if stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode):
        return _Target("stream", target)
    if stat.S_ISBLK(info.st_mode):
        return _Target("block", target)
    real = target.resolve() if target.is_symlink() else target
    return _Target("regular", real, stat.S_IMODE(info.st_mode))


def check_target(target: Path, *, overwrite: bool, within: Path | None = None) -> None:
    """Raise before any request if ``target`` cannot be written, or exists without ``overwrite``.

    Existing content is a regular file or a block device; a FIFO, a terminal or ``/dev/null`` is a
    stream and needs no ``overwrite``. ``within``: see ``_resolve``.
    """
    resolved = _resolve(target, within)
    if resolved.kind in ("regular", "block") and not overwrite:
        raise LocalConflict(f"{printable(str(target))} exists").with_hint(OVERWRITE_HINT)


# -- writing -------------------------------------------------------------------------------------------


def make_dirs(directory: Path) -> None:
    """Create ``directory`` and its parents (the umask applies); a file in the way is a LocalConflict."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = printable(str(_blocking_parent(directory / "x")))
        raise LocalConflict(
            f"cannot create {printable(str(directory))}: {blocker} is not a directory"
        ) from None
    except OSError as error:
        raise UsageError(f"cannot create {printable(str(directory))}: {error.strerror or error}") from None


# What the local system answers when a write cannot go on (full or read-only disk, quota, I/O error):
# the user's to fix, one line and exit 2, never an "unexpected" exit 1.
WRITE_FAILURES = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG, errno.EROFS})


@contextlib.contextmanager
def _write_failures(path: Path) -> Iterator[None]:
    try:
        yield
    except OSError as error:
        if error.errno not in WRITE_FAILURES:
            raise
        reason = error.strerror or str(error)
        raise LocalWriteFailed(f"cannot write {printable(str(path))}: {reason}", strerror=reason) from None


@contextlib.contextmanager
def _in_place(target: _Target) -> Iterator[BinaryIO]:
    try:
        # Our own descriptor is duplicated, not reopened: a reopened file would start at offset 0 and
        # later writes to the descriptor (the summary line on stdout) would overwrite what we wrote.
        fd = os.dup(target.fd) if target.fd is not None else os.open(target.path, os.O_WRONLY | os.O_CLOEXEC)
    except OSError as error:
        raise UsageError(f"cannot write {printable(str(target.path))}: {error.strerror or error}") from None
    with os.fdopen(fd, "wb") as handle:
        yield handle


@contextlib.contextmanager
def atomic_writer(
    target: Path,
    *,
    secret: bool = False,
    within: Path | None = None,
    fsync: Callable[[int], None] | None = None,
) -> Iterator[BinaryIO]:
    """Yield a binary file to write ``target``'s new content into; it takes effect when the block ends.

    Regular files are replaced by rename only when the block completes; on any failure the temporary
    file is removed and the old content stays. Streams (FIFOs, terminals, devices) are written in place.
    With ``fsync`` (state that must survive a power cut: runbook journals) the folder is synced after the
    rename too, with that function; otherwise only the file's content is synced before the rename.
    """
    resolved = _resolve(target, within)
    if resolved.kind in ("stream", "block"):
        with _write_failures(target), _in_place(resolved) as handle:
            yield handle
        return
    path = resolved.path
    make_dirs(path.parent)
    # A short name of our own: ``.{name}.part`` would overflow NAME_MAX for a long (valid) name.
    temp = path.parent / temp_glob_for(path).replace("*", secrets.token_hex(6))
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600 if secret else 0o666)
    except OSError as error:
        raise UsageError(f"cannot write {printable(str(path))}: {error.strerror or error}") from None
    try:
        if secret:
            os.fchmod(fd, 0o600)
        elif resolved.kind == "regular":
            os.fchmod(fd, resolved.mode)
        with _write_failures(path), os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            (fsync or os.fsync)(handle.fileno())
        temp.replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    if fsync is not None:
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fsync(folder)
        finally:
            os.close(folder)


def write_atomically(
    target: Path, content: bytes, *, secret: bool = False, within: Path | None = None
) -> None:
    """Write ``content`` to ``target`` by the rules above (rename for files, in place for streams)."""
    with atomic_writer(target, secret=secret, within=within) as handle:
        handle.write(content)


# -- walking -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Skipped:
    """A local entry a walk left out, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class LocalFile:
    """A regular file found by a walk: its POSIX path below the root, where it was found, what to read."""

    relative: str
    path: Path
    real: Path


@dataclass
class LocalTree:
    """What a walk found: the files to transfer and the entries it skipped."""

    root: Path
    files: list[LocalFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _follow(path: Path, base: Path) -> Path | str:
    """Return where a symbolic link inside ``base`` leads, or why it is not followed."""
    try:
        real = path.resolve(strict=True)
    except FileNotFoundError:
        return "broken symbolic link"
    except (OSError, RuntimeError):  # ELOOP; Python 3.11 raises RuntimeError for a loop
        return "symbolic link loop"
    return real if real.is_relative_to(base) else "symbolic link to outside the source folder"


def walk_files(root: Path, *, skip_hidden: bool = False) -> LocalTree:
    """List the regular files below ``root`` without leaving it (see the module docstring).

    ``skip_hidden`` leaves out names starting with ``.`` (``.git/``, ``.env``) without reporting them:
    that is a choice of the caller, not a problem with the entry.
    """
    _check_names(root)
    if not root.is_dir():
        raise UsageError(f"{printable(str(root))} is not a local directory")
    tree = LocalTree(root)
    base = root.resolve()
    log = get_logger()

    def skip(path: Path, reason: str) -> None:
        log.warning("local.skipped", path=printable(str(path), quoted=False), reason=reason)
        tree.skipped.append(Skipped(str(path), reason))

    def visit(directory: Path, real_dir: Path, relative: PurePosixPath, ancestors: frozenset[Path]) -> None:
        for entry in _entries(directory):
            path = directory / entry.name
            if skip_hidden and entry.name.startswith("."):
                continue
            real: Path | str = _follow(path, base) if entry.is_symlink() else real_dir / entry.name
            if isinstance(real, str):
                skip(path, real)
                continue
            try:
                mode = real.stat().st_mode
            except OSError as error:
                skip(path, f"cannot read it: {error.strerror or error}")
                continue
            if stat.S_ISDIR(mode) and real in ancestors:
                skip(path, "symbolic link loop")
            elif stat.S_ISDIR(mode):
                visit(path, real, relative / entry.name, ancestors | {real})
            elif stat.S_ISREG(mode):
                tree.files.append(LocalFile((relative / entry.name).as_posix(), path, real))
            else:
                skip(path, "not a regular file (a FIFO, socket or device)")

    visit(root, base, PurePosixPath(), frozenset({base}))
    return tree


def _entries(directory: Path) -> list[os.DirEntry[str]]:
    """A folder's entries by name; an undecodable name is a usage error (no remote name can be made)."""
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as error:
        raise UsageError(f"cannot read {printable(str(directory))}: {error.strerror or error}") from None
    for entry in entries:
        if not is_valid_utf8(entry.name):
            raise UsageError(
                f"local name {printable(str(directory / entry.name))} is not valid UTF-8: rename it"
            )
    return entries
