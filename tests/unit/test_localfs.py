"""Local writes that respect what the target is, and a walk that never leaves its source folder."""

from __future__ import annotations

import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from brickbook.errors import LocalConflict, UsageError
from brickbook.localfs import atomic_writer, check_target, local_path, walk_files, write_atomically


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


class FifoReader:
    """Read everything written to a FIFO, in a thread (opening a FIFO for writing waits for a reader)."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.data = b""
        self._thread = threading.Thread(target=self._read, args=(path,), daemon=True)
        self._thread.start()

    def _read(self, path: Path) -> None:
        with path.open("rb") as handle:
            self.data = handle.read()

    def wait(self) -> bytes:
        self._thread.join(timeout=10)
        return self.data


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


# -- regular files --------------------------------------------------------------------------------------


def test_new_file_honours_the_umask(tmp_path: Path, umask_022: None):
    """A new file gets 0666 minus the umask (0644 here), not mkstemp's 0600."""
    target = tmp_path / "new.txt"
    write_atomically(target, b"x")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert target.read_bytes() == b"x"


def test_replaced_file_keeps_its_mode(tmp_path: Path, umask_022: None):
    """Replacing a regular file keeps its mode (0640 stays 0640)."""
    target = tmp_path / "kept.txt"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_atomically(target, b"new")
    assert (stat.S_IMODE(target.stat().st_mode), target.read_bytes()) == (0o640, b"new")


def test_secret_files_are_0600(tmp_path: Path):
    """secret=True makes the file 0600 whatever the umask and the old mode."""
    target = tmp_path / "token"
    target.write_bytes(b"old")
    target.chmod(0o644)
    previous = os.umask(0)
    try:
        write_atomically(target, b"s3cr3t", secret=True)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_failed_write_keeps_the_old_content_and_no_temporary_file(tmp_path: Path):
    """An error while writing leaves the old file as it was and removes the temporary file."""
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_device_is_one_clear_line_not_an_unexpected_error():
    """ENOSPC while writing (here /dev/full, a stream) is a UsageError naming the target, exit 2."""
    with pytest.raises(UsageError, match=r"cannot write '/dev/full': No space left on device"):
        write_atomically(Path("/dev/full"), b"x" * 100_000)


def test_a_write_failure_in_a_regular_file_leaves_nothing_and_says_why(tmp_path: Path):
    """A disk that fills up mid-write: one clear line, the old content kept, no temporary file left."""
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    with pytest.raises(UsageError, match="No space left on device"), atomic_writer(target) as handle:
        handle.write(b"new")
        raise OSError(28, "No space left on device")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_parents_are_created(tmp_path: Path):
    """Missing parent folders are created."""
    write_atomically(tmp_path / "a" / "b" / "c.txt", b"c")
    assert (tmp_path / "a" / "b" / "c.txt").read_bytes() == b"c"


# -- links, FIFOs, devices, sockets ---------------------------------------------------------------------


def test_a_fifo_is_written_in_place(tmp_path: Path):
    """A FIFO target receives the bytes and stays a FIFO (never replaced by a regular file)."""
    fifo = tmp_path / "pipe"
    reader = FifoReader(fifo)
    write_atomically(fifo, b"through the pipe")
    assert reader.wait() == b"through the pipe"
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert leftovers(tmp_path) == []


def test_a_link_to_a_fifo_stays_a_link(tmp_path: Path):
    """A symlink is resolved first: the FIFO it points to is written, the link is kept."""
    fifo = tmp_path / "pipe"
    reader = FifoReader(fifo)
    link = tmp_path / "out"
    link.symlink_to(fifo)
    write_atomically(link, b"via link")
    assert reader.wait() == b"via link"
    assert link.is_symlink() and stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_link_to_a_file_writes_the_file_and_keeps_the_link(tmp_path: Path):
    """Writing through a link replaces what it points to (mode kept); the link stays a link."""
    real = tmp_path / "real.txt"
    real.write_bytes(b"old")
    real.chmod(0o604)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_atomically(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o604


def test_a_descriptor_alias_is_written_in_place(tmp_path: Path):
    """A link to /proc/self/fd/N (what /dev/stdout is) writes into that descriptor; nothing is replaced."""
    read_end, write_end = os.pipe()
    try:
        link = tmp_path / "stdout"
        link.symlink_to(f"/proc/self/fd/{write_end}")
        write_atomically(link, b"to the pipe")
        os.close(write_end)
        write_end = -1
        assert os.read(read_end, 100) == b"to the pipe"
        assert link.is_symlink()
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def test_a_descriptor_alias_shares_the_descriptors_offset(tmp_path: Path):
    """/dev/stdout redirected to a file (`> out.txt`): later writes follow ours, nothing is overwritten."""
    out = tmp_path / "out.txt"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        link = tmp_path / "stdout"
        link.symlink_to(f"/dev/fd/{fd}")
        write_atomically(link, b"content\n")
        os.write(fd, b"summary\n")
    finally:
        os.close(fd)
    assert out.read_bytes() == b"content\nsummary\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt", "stdout"]


def test_a_character_device_is_written_in_place(tmp_path: Path):
    """A throwaway null device (made with mknod, never /dev/null itself) stays a device."""
    device = tmp_path / "null"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("mknod needs root")
    write_atomically(device, b"discarded")
    check_target(device, overwrite=False)  # a stream: no --overwrite needed
    assert stat.S_ISCHR(device.lstat().st_mode)
    assert leftovers(tmp_path) == []


def test_a_broken_link_is_refused(tmp_path: Path):
    """A link to nothing is refused (exit 2) and nothing is created where it points."""
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere" / "file")
    with pytest.raises(UsageError, match="does not exist"):
        write_atomically(link, b"x")
    assert not (tmp_path / "nowhere").exists() and link.is_symlink()


def test_a_socket_is_refused(tmp_path: Path):
    """A Unix socket cannot be written to: exit 2."""
    path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(UsageError, match="is a socket"):
            write_atomically(path, b"x")
    finally:
        server.close()


# -- kinds in the way, names, existing files ------------------------------------------------------------


def test_a_directory_where_the_file_goes_is_a_local_conflict(tmp_path: Path):
    """Writing onto a folder is exit 5 with a short line."""
    with pytest.raises(LocalConflict, match="is a directory"):
        write_atomically(tmp_path, b"x")


def test_a_file_where_a_folder_goes_is_a_local_conflict(tmp_path: Path):
    """a.py/child.bin where a.py is a file is exit 5 saying a.py is not a directory."""
    (tmp_path / "a.py").write_bytes(b"")
    with pytest.raises(LocalConflict, match=r"a\.py' is a file, not a directory"):
        check_target(tmp_path / "a.py" / "child.bin", overwrite=True)
    with pytest.raises(LocalConflict, match="not a directory"):
        write_atomically(tmp_path / "a.py" / "sub" / "child.bin", b"x")


def test_a_name_too_long_is_a_short_usage_error(tmp_path: Path):
    """A 5,000-character name is exit 2 whose message shows a shortened name."""
    with pytest.raises(UsageError, match="too long") as caught:
        write_atomically(tmp_path / ("n" * 5000), b"x")
    assert len(caught.value.message) < 300
    with pytest.raises(UsageError, match="too long"):
        local_path("d" * 5000)


def test_a_long_valid_name_is_written(tmp_path: Path):
    """A 255-byte name is fine: the temporary file's name does not grow with it."""
    target = tmp_path / ("n" * 255)
    write_atomically(target, b"x")
    assert target.read_bytes() == b"x"


def test_an_existing_file_needs_overwrite(tmp_path: Path):
    """check_target refuses an existing regular file without overwrite (exit 5, hint) and allows it with."""
    target = tmp_path / "f"
    target.write_bytes(b"mine")
    with pytest.raises(LocalConflict, match="exists") as caught:
        check_target(target, overwrite=False)
    assert caught.value.hint == "add --overwrite to replace it"
    check_target(target, overwrite=True)


def test_within_refuses_links_out_of_the_folder(tmp_path: Path):
    """Filling a folder, a target that a link leads out of it is refused (exit 2)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "lib").symlink_to(outside)
    with pytest.raises(UsageError, match="symbolic link"):
        check_target(dest / "lib" / "f.py", overwrite=True, within=dest)
    check_target(dest / "new" / "f.py", overwrite=True, within=dest)


def test_undecodable_local_path_is_refused(tmp_path: Path):
    """A local path argument that is not UTF-8 is exit 2, shown escaped."""
    with pytest.raises(UsageError, match=r"\\xff"):
        local_path(os.fsdecode(b"bad\xff.py"))


# -- the walk -------------------------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A source folder with a file, a subfolder, and links of every kind."""
    root = tmp_path / "src"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"a")
    (root / "sub" / "b.txt").write_bytes(b"b")
    (root / ".hidden").write_bytes(b"h")
    secret = tmp_path / "passwd"
    secret.write_bytes(b"root:x:0:0")
    (root / "escape").symlink_to(secret)
    (root / "escape-dir").symlink_to(tmp_path)
    (root / "broken").symlink_to(root / "missing")
    (root / "self").symlink_to(root / "self")
    (root / "sub" / "up").symlink_to(root)
    (root / "inside").symlink_to(root / "sub" / "b.txt")
    (root / "sub-link").symlink_to(root / "sub")
    os.mkfifo(root / "fifo")
    return root


def test_walk_stays_inside_and_reports_every_skip(tree: Path):
    """Links out, broken links, loops and FIFOs are skipped with a reason; links inside are followed."""
    with capture_logs() as logs:
        found = walk_files(tree, skip_hidden=True)
    assert [f.relative for f in found.files] == ["a.txt", "inside", "sub/b.txt", "sub-link/b.txt"]
    reasons = {Path(s.path).name: s.reason for s in found.skipped}
    assert reasons == {
        "broken": "broken symbolic link",
        "escape": "symbolic link to outside the source folder",
        "escape-dir": "symbolic link to outside the source folder",
        "fifo": "not a regular file (a FIFO, socket or device)",
        "self": "symbolic link loop",
        "up": "symbolic link loop",
    }
    warned = {Path(e["path"]).name for e in logs if e["event"] == "local.skipped"}
    assert warned == set(reasons)
    assert all(e["log_level"] == "warning" for e in logs)


def test_walk_reads_files_through_their_checked_real_path(tree: Path):
    """A file reached through a link inside the folder is read from its real path."""
    found = {f.relative: f for f in walk_files(tree).files}
    assert found["inside"].real == (tree / "sub" / "b.txt").resolve()


def test_walk_refuses_undecodable_names(tmp_path: Path):
    """A name that is not UTF-8 is exit 2, named in escaped form."""
    root = tmp_path / "src"
    root.mkdir()
    Path(os.fsdecode(os.fsencode(root) + b"/bad\xff.py")).write_bytes(b"x")
    with pytest.raises(UsageError, match=r"bad\\xff\.py' is not valid UTF-8"):
        walk_files(root)


def test_walk_of_a_file_is_a_usage_error(tmp_path: Path):
    """SRC that is not a folder is exit 2."""
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(UsageError, match="not a local directory"):
        walk_files(tmp_path / "f")
