"""Rows for clusters.exec (issue 11, command execution): bad code or options, nothing sent."""

from __future__ import annotations

from tests.hostile.table import Row, Scene

CLUSTER = "1126-183000-abcd1234"


def big_script(scene: Scene) -> None:
    (scene.tmp / "big.py").write_bytes(b"#" * (1024 * 1024 + 1))


def nul_script(scene: Scene) -> None:
    (scene.tmp / "nul.py").write_bytes(b"print(1)\x00")


def binary_script(scene: Scene) -> None:
    (scene.tmp / "bin.py").write_bytes(b"\xff\xfe\x00print(1)")


ROWS: list[Row] = [
    Row(
        "exec-nul-in-file",
        ["clusters.exec", CLUSTER, "--file", "{tmp}/nul.py"],
        2,
        r"^error: the code contains a NUL character",
        setup=nul_script,
    ),
    Row(
        "exec-file-over-1mib",
        ["clusters.exec", CLUSTER, "--file", "{tmp}/big.py"],
        2,
        r"^error: the code is larger than 1 MiB",
        setup=big_script,
    ),
    Row(
        "exec-file-not-utf8",
        ["clusters.exec", CLUSTER, "--file", "{tmp}/bin.py"],
        2,
        r"^error: --file: .* is not UTF-8 text",
        setup=binary_script,
    ),
    Row(
        "exec-file-is-a-directory",
        ["clusters.exec", CLUSTER, "--file", "{tmp}"],
        2,
        r"^error: --file: cannot read",
    ),
    Row(
        "exec-language-escape",
        ["clusters.exec", CLUSTER, "--command", "1", "--language", "py\x1b[31mthon"],
        2,
        r"^error: --language must be one of python, sql, scala, r, not 'py\\x1b\[31mthon'",
    ),
    Row(
        "exec-command-and-file",
        ["clusters.exec", CLUSTER, "--command", "1", "--file", "{tmp}/x.py"],
        2,
        r"^error: give the code to run with --command CODE or --file PATH \(exactly one\)",
    ),
    Row(
        "exec-cluster-id-newline",
        ["clusters.exec", "a\nb", "--command", "1"],
        2,
        r"^error: CLUSTER_ID must be a cluster id",
    ),
]
