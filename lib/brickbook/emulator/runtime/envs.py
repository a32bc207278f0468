"""One Python environment per cluster, and the background installer that fills it with libraries.

A cluster's environment is a ``venv`` without pip (``--without-pip`` is ~40 ms) plus a ``.pth`` file
adding the emulator's own site-packages after the environment's, so code on the cluster still imports
what the emulator has (the notebook child's needs, mlflow-skinny, ...) while an installed library wins
over the emulator's copy. It is made when the cluster's first library is installed (a cluster without
libraries runs its code in the emulator's interpreter, which imports the same), lives under
``<data dir>/cluster-envs/<cluster id>`` (else a temp dir removed at shutdown), and is removed when the
cluster is permanently deleted, when a job cluster terminates, and when a restart drops a library
marked UNINSTALL_ON_RESTART (the environment is then rebuilt with the libraries that remain).

``python_for(cluster_id)`` is the interpreter code on that cluster runs with: notebook and Python tasks
(runtime/launcher.py), and command execution.

Installation happens off the request thread: one worker thread per cluster with work, installing that
cluster's PENDING libraries one at a time once the cluster is RUNNING (the Clusters state tells the
installer when a cluster starts, terminates or is deleted). Wheels and requirements files are read from
``dbfs:/``, ``/Workspace/...`` or ``/Volumes/...`` in the emulator's own state and installed for real
with ``python -m pip install`` in the environment: a wheel with ``--no-index`` (offline), a requirements
file or ``pypi`` package from the package index pip is configured with (``PIP_INDEX_URL`` and friends in
the emulator's environment), so they install when an index is reachable and otherwise end FAILED with
pip's own message. jar, egg, maven and cran libraries end FAILED with a message naming the kind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import posixpath
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import tempfile
import threading
import venv
import weakref
from pathlib import Path
from typing import Any

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.state.clusters import ClustersState
from brickbook.emulator.state.dbfs import DbfsState
from brickbook.emulator.state.identity import Identity
from brickbook.emulator.state.libraries import LibrariesState, describe, library_kind, parse_libraries
from brickbook.emulator.state.volume_files import VolumeFiles
from brickbook.emulator.state.workspace import WorkspaceState

__all__ = ["ClusterEnvs", "LibrarySources"]

_log = logging.getLogger("brickbook.emulator.libraries")
_PTH = "brickbook-emulator.pth"
_PIP_TIMEOUT_SECONDS = 600
_MAX_MESSAGE_CHARS = 4000
_UNSUPPORTED = frozenset({"jar", "egg", "maven", "cran"})


class LibrarySources:
    """Reads a library file from the emulator's state: DBFS, workspace files or a volume."""

    def __init__(
        self, dbfs: DbfsState, workspace: WorkspaceState, volumes: VolumeFiles, identity: Identity
    ) -> None:
        self._dbfs = dbfs
        self._workspace = workspace
        self._volumes = volumes
        self._identity = identity

    def read(self, uri: str, user_name: str) -> bytes:
        """The file's bytes, read as ``user_name`` where access is checked (volumes); else ``ApiError``."""
        if uri.startswith("dbfs:/"):
            return self._dbfs.read_file(uri[len("dbfs:") :])
        if uri.startswith("/Volumes/"):
            place = self._volumes.place(self._identity.principal(user_name), uri, write=False)
            handle, _ = self._volumes.open_file(place)
            with handle:
                return handle.read()
        if uri.startswith("/Workspace/"):
            return self._workspace.read_file(uri)
        raise invalid(f"{uri}: the brickbook emulator installs files from dbfs:/, /Workspace/ and /Volumes/.")


def _site_packages() -> list[str]:
    """The emulator's own package directories, for the environments' ``.pth`` file."""
    found = [p for p in sys.path if p and ("site-packages" in p or "dist-packages" in p) and Path(p).is_dir()]
    return list(dict.fromkeys(found))


def _installer_message(output: str, code: int) -> str:
    """pip's ``ERROR:`` lines (or its last lines), bounded."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")] or lines[-5:]
    message = "\n".join(errors) or f"pip exited with code {code}"
    return message[-_MAX_MESSAGE_CHARS:]


class ClusterEnvs:
    """The per-cluster environments and their installer (a shared service: ``reset``, ``shutdown``)."""

    def __init__(
        self,
        root: Path | None,
        libraries: LibrariesState,
        clusters: ClustersState,
        sources: LibrarySources,
    ) -> None:
        self._temp = root is None
        self._root = Path(tempfile.mkdtemp(prefix="brickbook-emulator-envs-")) if root is None else root
        if self._temp:  # also when the app is never shut down (an embedding test that just exits)
            weakref.finalize(self, shutil.rmtree, self._root, True)
        self.libraries = libraries
        self._clusters = clusters
        self._sources = sources
        self._lock = threading.Lock()
        self._events: dict[str, set[str]] = {}  # cluster id -> what happened since its worker last looked
        self._workers: dict[str, threading.Thread] = {}
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._generation = 0  # a reset starts a new one; older workers stop
        self._closed = False
        clusters.listeners.append(self._on_cluster)

    # -- the interpreter --------------------------------------------------------------------------

    def _env_dir(self, cluster_id: str) -> Path:
        return self._root / cluster_id

    def _python(self, cluster_id: str) -> Path:
        return self._env_dir(cluster_id) / "venv" / "bin" / "python"

    def python_for(self, cluster_id: str | None) -> str:
        """The interpreter for code on ``cluster_id`` (the emulator's own while it has no environment)."""
        if cluster_id:
            env = self._env_dir(cluster_id) / "venv"
            if (env / _PTH).exists():
                return str(self._python(cluster_id))
        return sys.executable

    def _ensure_env(self, cluster_id: str) -> Path:
        env = self._env_dir(cluster_id) / "venv"
        if not (env / _PTH).exists():
            venv.EnvBuilder(with_pip=False, symlinks=True, clear=True).create(env)
            purelib = sysconfig.get_path("purelib", vars={"base": str(env), "platbase": str(env)})
            Path(purelib).mkdir(parents=True, exist_ok=True)
            Path(purelib, _PTH).write_text("\n".join(_site_packages()) + "\n", encoding="utf-8")
            (env / _PTH).write_text("complete\n", encoding="utf-8")  # the marker python_for checks
        return self._python(cluster_id)

    def _remove_env(self, cluster_id: str) -> None:
        shutil.rmtree(self._env_dir(cluster_id), ignore_errors=True)

    # -- what the Jobs engine asks ----------------------------------------------------------------

    def task_libraries(self, cluster_id: str, libraries: object, user_name: str) -> tuple[bool, str | None]:
        """Install a task's ``libraries`` on its cluster: (done, failure message or None).

        Idempotent: the scheduler asks on every tick until done. A FAILED library fails the task with the
        installer's message, as the real service words it.
        """
        try:
            wanted = parse_libraries(libraries)
        except ApiError as exc:
            return True, f"Invalid libraries: {exc.message}"
        entries = self.libraries.add(cluster_id, wanted, user_name)
        for entry in entries:
            if entry["status"] == "FAILED":
                messages = "\n".join(entry["messages"])
                return True, (
                    f"Library installation failed for library due to user error for "
                    f"{describe(entry['library'])}. Error messages:\n{messages}"
                )
        if all(entry["status"] == "INSTALLED" for entry in entries):
            return True, None
        self.kick(cluster_id)
        return False, None

    # -- the installer ----------------------------------------------------------------------------

    def _on_cluster(self, event: str, record: dict[str, Any]) -> None:
        """Clusters state listener (inside its transaction: only note the event and wake a worker)."""
        cluster_id = record["cluster_id"]
        if event == "running" and self.libraries.entries(cluster_id):
            self.kick(cluster_id, "running")
        ended = event == "deleted" or (event.startswith("terminat") and record["cluster_source"] == "JOB")
        if ended and (self._env_dir(cluster_id).exists() or self.libraries.entries(cluster_id)):
            self.kick(cluster_id, "gone")

    def kick(self, cluster_id: str, event: str = "kick") -> None:
        """Have the cluster's worker look at its libraries (start one if it has none)."""
        with self._lock:
            if self._closed:
                return
            self._events.setdefault(cluster_id, set()).add(event)
            if cluster_id in self._workers:
                return
            worker = threading.Thread(
                target=self._work,
                args=(cluster_id, self._generation),
                name=f"libraries-{cluster_id}",
                daemon=True,
            )
            self._workers[cluster_id] = worker
        worker.start()

    def _work(self, cluster_id: str, generation: int) -> None:
        try:
            while True:
                with self._lock:
                    events = self._events.pop(cluster_id, set())
                    if not events or generation != self._generation or self._closed:
                        if self._workers.get(cluster_id) is threading.current_thread():
                            del self._workers[cluster_id]
                        return
                self._handle(cluster_id, events, generation)
        except sqlite3.ProgrammingError:  # the store closed: the app is stopping
            pass
        except Exception:  # a bug must not leave the worker registered and the cluster stuck
            _log.exception("library installer failed on cluster %s", cluster_id)
        with self._lock:
            if self._workers.get(cluster_id) is threading.current_thread():
                del self._workers[cluster_id]

    def _handle(self, cluster_id: str, events: set[str], generation: int) -> None:
        if "gone" in events:
            self.libraries.forget(cluster_id)
            self._remove_env(cluster_id)
            return
        if "running" in events and self.libraries.restarted(cluster_id):
            self._remove_env(cluster_id)
        try:
            if not self._clusters.is_running(cluster_id):
                return  # installed when it starts: the clusters state reports "running"
        except ApiError:
            return  # deleted meanwhile
        for entry in self.libraries.entries(cluster_id):
            library = entry["library"]
            if entry["status"] != "PENDING" or generation != self._generation:
                continue
            if not self.libraries.set_status(cluster_id, library, "INSTALLING", [], only_from="PENDING"):
                continue
            failure = self._install(cluster_id, entry)
            status, messages = ("FAILED", [failure]) if failure else ("INSTALLED", [])
            if generation == self._generation:
                self.libraries.set_status(cluster_id, library, status, messages, only_from="INSTALLING")

    def _install(self, cluster_id: str, entry: dict[str, Any]) -> str | None:
        """Install one library into the cluster's environment; None, or the installer's message."""
        library = entry["library"]
        kind = library_kind(library)
        if kind in _UNSUPPORTED:
            return (
                f"The brickbook emulator cannot install {kind} libraries "
                "(it installs whl, requirements and pypi libraries)."
            )
        python = self._ensure_env(cluster_id)
        if kind == "pypi":
            spec = library["pypi"]
            args = [spec["package"], *(["--index-url", spec["repo"]] if "repo" in spec else [])]
        else:
            uri = library[kind]
            name = posixpath.basename(uri)
            if name in ("", ".", ".."):
                return f"{uri} does not name a file."
            try:
                data = self._sources.read(uri, entry["user"])
            except ApiError as exc:
                return f"Could not read {uri}: {exc.message}"
            folder = self._env_dir(cluster_id) / "files"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
            args = ["--no-index", str(folder / name)] if kind == "whl" else ["-r", str(folder / name)]
        return self._pip(cluster_id, [str(python), "-m", "pip", "install", *args])

    def _pip(self, cluster_id: str, command: list[str]) -> str | None:
        command[4:4] = ["--disable-pip-version-check", "--no-input", "--retries", "0"]
        with self._lock:
            if self._closed:
                return "The emulator is shutting down."
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=self._env_dir(cluster_id),
                start_new_session=True,
            )
            self._processes[cluster_id] = process
        try:
            output, _ = process.communicate(timeout=_PIP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
            return f"pip did not finish within {_PIP_TIMEOUT_SECONDS} seconds."
        finally:
            with self._lock:
                self._processes.pop(cluster_id, None)
        if process.returncode == 0:
            return None
        return _installer_message(output.decode(errors="replace"), process.returncode)

    # -- service life cycle -----------------------------------------------------------------------

    def recover(self) -> None:
        """After an emulator restart (``--data-dir``): installs it interrupted start again."""
        for cluster_id in self.libraries.interrupted():
            self.kick(cluster_id)

    def _stop_work(self) -> None:
        self._generation += 1
        self._events.clear()
        self._workers.clear()
        for process in self._processes.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, 9)
        self._processes.clear()

    def reset(self) -> None:
        """The store was cleared: stop installing and remove every environment."""
        with self._lock:
            self._stop_work()
        for child in list(self._root.iterdir()) if self._root.exists() else []:
            shutil.rmtree(child, ignore_errors=True)

    def shutdown(self) -> None:
        """Stop installing; a temp root goes with the app (a data dir's environments stay)."""
        with self._lock:
            self._closed = True
            self._stop_work()
        if self._temp:
            shutil.rmtree(self._root, ignore_errors=True)
