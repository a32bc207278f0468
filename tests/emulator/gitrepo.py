"""A small local Git repository for the Repos tests: ``main`` (two commits, tag ``v1`` on the first) and
``feature`` (one more commit). Plain module, shared by the emulator, CLI and conformance suites.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

NOTEBOOK = b"# Databricks notebook source\nprint('etl')\n"
FEATURE_NOTEBOOK = b"# Databricks notebook source\nprint('feature')\n"
README = b"# Project\n"
_IDENTITY = [
    "-c",
    "user.name=Test Author",
    "-c",
    "user.email=author@example.com",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "tag.gpgsign=false",
]


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a fixed identity; return stdout."""
    done = subprocess.run(
        ["git", *_IDENTITY, *args], cwd=repo, capture_output=True, check=True, text=True, timeout=60
    )
    return done.stdout.strip()


@dataclass
class GitRepo:
    path: Path
    v1: str  # the first commit (tag v1)
    main: str  # main's head
    feature: str  # feature's head

    def commit(self, name: str, content: bytes, *, branch: str = "main") -> str:
        """Add or change one file on ``branch``, commit, and return the new head."""
        git(self.path, "checkout", "-q", branch)
        (self.path / name).parent.mkdir(parents=True, exist_ok=True)
        (self.path / name).write_bytes(content)
        git(self.path, "add", name)
        git(self.path, "commit", "-q", "-m", f"change {name}")
        head = git(self.path, "rev-parse", "HEAD")
        git(self.path, "checkout", "-q", "main")
        return head


def make_git_repo(root: Path, name: str = "project") -> GitRepo:
    """Create the repository under ``root``/``name``."""
    repo = root / name
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "etl.py").write_bytes(NOTEBOOK)
    (repo / "README.md").write_bytes(README)
    (repo / "lib").mkdir()
    (repo / "lib" / "helpers.py").write_bytes(b"def helper():\n    return 1\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    v1 = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "v1")
    (repo / "README.md").write_bytes(README + b"\nSecond commit.\n")
    git(repo, "commit", "-q", "-am", "second")
    main = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "feature.py").write_bytes(FEATURE_NOTEBOOK)
    git(repo, "add", "feature.py")
    git(repo, "commit", "-q", "-m", "feature")
    feature = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    return GitRepo(path=repo, v1=v1, main=main, feature=feature)
