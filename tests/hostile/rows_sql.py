"""Hostile and careless input for the SQL and Unity Catalog tasks (issue 10): refused before any request.

Every row here is refused by brickbook itself: one ``error:`` line, exit 2 (or 5 for a local file in the
way), no request that changes anything, and the scratch folder untouched.
"""

from __future__ import annotations

from collections.abc import Callable

from tests.hostile.table import Row, Scene

W = ["--warehouse-id", "abc123"]


def literal(text: str) -> str:
    """An argument taken as written: rows substitute ``{name}``, so JSON braces are doubled."""
    return text.replace("{", "{{").replace("}", "}}")


def _write(name: str, content: bytes) -> Callable[[Scene], None]:
    def setup(scene: Scene) -> None:
        (scene.tmp / name).write_bytes(content)

    return setup


def _big(name: str, size: int) -> Callable[[Scene], None]:
    def setup(scene: Scene) -> None:
        (scene.tmp / name).write_bytes(b"SELECT 1 --" + b"-" * size)

    return setup


ROWS = [
    Row(
        "sql-execute-no-warehouse",
        ["sql.execute", "SELECT 1"],
        2,
        r"^error: no SQL warehouse given: pass --warehouse-id, or set DATABRICKS_WAREHOUSE_ID",
    ),
    Row(
        "sql-execute-configured-warehouse-junk",
        ["sql.execute", "SELECT 1"],
        2,
        r"^error: the configured warehouse_id must be a warehouse id",
        env={"DATABRICKS_WAREHOUSE_ID": "../../jobs/delete"},
    ),
    Row(
        "sql-execute-text-and-file",
        ["sql.execute", "SELECT 1", "--file", "q.sql", *W],
        2,
        r"^error: give the statement either inline .* or with --file FILE, not both",
        setup=_write("q.sql", b"SELECT 2"),
    ),
    Row("sql-execute-blank", ["sql.execute", "   \n", *W], 2, r"^error: the statement is empty"),
    Row("sql-execute-empty", ["sql.execute", "", *W], 2, r"^error: the statement is empty"),
    Row(
        "sql-execute-file-missing",
        ["sql.execute", "--file", "nope.sql", *W],
        2,
        r"^error: --file: cannot read 'nope\.sql'",
    ),
    Row(
        "sql-execute-file-not-utf8",
        ["sql.execute", "--file", "q.sql", *W],
        2,
        r"^error: --file: 'q\.sql' is not UTF-8 text",
        setup=_write("q.sql", b"SELECT '\xff\xfe'"),
    ),
    Row(
        "sql-execute-file-nul",
        ["sql.execute", "--file", "q.sql", *W],
        2,
        r"^error: the statement contains a NUL character",
        setup=_write("q.sql", b"SELECT 1\x00; DROP TABLE t"),
    ),
    Row(
        "sql-execute-file-too-large",
        ["sql.execute", "--file", "big.sql", *W],
        2,
        r"^error: the statement is larger than 16 MiB",
        setup=_big("big.sql", 16 * 1024 * 1024 + 10),
    ),
    Row(
        "sql-execute-param-not-an-identifier",
        ["sql.execute", "SELECT :x", *W, "--param", "x;DROP TABLE t=1"],
        2,
        r"^error: --param name must be a SQL identifier",
    ),
    Row(
        "sql-execute-param-without-value",
        ["sql.execute", "SELECT :day", *W, "--param", "day"],
        2,
        r"^error: --param must look like key=value",
    ),
    Row(
        "sql-execute-param-twice",
        ["sql.execute", "SELECT :day", *W, "--param", "day=1", "--param", "day=2"],
        2,
        r"^error: --param 'day' is given twice",
    ),
    Row(
        "sql-execute-warehouse-path",
        ["sql.execute", "SELECT 1", "--warehouse-id", "../2.2/jobs/delete"],
        2,
        r"^error: --warehouse-id must be a warehouse id",
    ),
    Row(
        "sql-execute-catalog-with-space",
        ["sql.execute", "SELECT 1", *W, "--catalog", "main; DROP"],
        2,
        r"^error: --catalog 'main; DROP' is not a valid name",
    ),
    Row(
        "sql-execute-output-xml",
        ["sql.execute", "SELECT 1", *W, "-o", "xml"],
        2,
        r"^error: -o/--output must be",
    ),
    Row(
        "sql-execute-table-to-file",
        ["sql.execute", "SELECT 1", *W, "-o", "table", "--out", "x.txt"],
        2,
        r"^error: -o table is for a terminal",
    ),
    Row(
        "sql-execute-out-exists",
        ["sql.execute", "SELECT 1", *W, "--out", "old.csv"],
        5,
        r"^error: 'old\.csv' exists; add --overwrite to replace it",
        setup=_write("old.csv", b"a\n1\n"),
    ),
    Row(
        "sql-execute-out-is-a-directory",
        ["sql.execute", "SELECT 1", *W, "--out", "dir", "--overwrite"],
        5,
        r"^error: .*dir",
        setup=lambda scene: (scene.tmp / "dir").mkdir(),
    ),
    Row(
        "sql-execute-timeout-zero",
        ["sql.execute", "SELECT 1", *W, "--timeout", "0"],
        2,
        r"^error: --timeout must be",
    ),
    Row("sql-start-bad-id", ["sql.start", "a/b"], 2, r"^error: WAREHOUSE_ID must be a warehouse id"),
    Row("sql-delete-blank-id", ["sql.delete", " "], 2, r"^error: WAREHOUSE_ID must be a warehouse id"),
    Row(
        "sql-create-short-auto-stop",
        ["sql.create", "--json", literal('{"name": "w", "auto_stop_mins": 5}')],
        2,
        r"^error: spec: auto_stop_mins must be 0 \(never\) or an integer >= 10",
    ),
    Row(
        "sql-create-no-name",
        ["sql.create", "--json", literal('{"cluster_size": "Small"}')],
        2,
        r"^error: spec: name is required",
    ),
    Row(
        "sql-create-size-typo",
        ["sql.create", "--json", literal('{"name": "w", "cluster_size": "Smal"}')],
        2,
        r"^error: spec: cluster_size must be one of",
    ),
    Row("sql-history-bad-status", ["sql.history", "--status", "DONE"], 2, r"^error: --status must be one of"),
    Row(
        "sql-history-bad-since",
        ["sql.history", "--since", "yesterday"],
        2,
        r"^error: --since must be a duration",
    ),
    Row(
        "uc-grant-privilege-typo",
        ["uc.grant", "table", "main.default.t", "alice@example.com", "SELCT"],
        2,
        r"^error: PRIVILEGE 'SELCT' is not a privilege: did you mean SELECT\?",
    ),
    Row(
        "uc-grant-privilege-injection",
        ["uc.grant", "table", "main.default.t", "alice@example.com", "SELECT; DROP TABLE t"],
        2,
        r"^error: PRIVILEGE must be a privilege such as SELECT",
    ),
    Row(
        "uc-grant-type-typo",
        ["uc.grant", "tabel", "main.default.t", "alice@example.com", "SELECT"],
        2,
        r"^error: TYPE 'tabel' is not a securable type: did you mean table\?",
    ),
    Row(
        "uc-grant-name-levels",
        ["uc.grant", "table", "main.t", "alice@example.com", "SELECT"],
        2,
        r"^error: NAME must look like CATALOG\.SCHEMA\.NAME",
    ),
    Row(
        "uc-revoke-name-slash",
        ["uc.revoke", "schema", "main.a/b", "alice@example.com", "USE_SCHEMA"],
        2,
        r"^error: NAME 'main\.a/b' is not a valid name",
    ),
    Row(
        "uc-grant-principal-newline",
        ["uc.grant", "catalog", "main", "alice\nadmin", "USE_CATALOG"],
        2,
        r"^error: PRINCIPAL must be a user, group or service principal name",
    ),
    Row("uc-tables-needs-schema", ["uc.tables", "main"], 2, r"^error: SCHEMA must look like CATALOG\.SCHEMA"),
    Row(
        "uc-create-volume-space",
        ["uc.create-volume", "main.default.my vol"],
        2,
        r"^error: NAME 'main\.default\.my vol' is not a valid name",
    ),
    Row("uc-delete-catalog-empty-part", ["uc.delete-catalog", ""], 2, r"^error: NAME '' is not a valid name"),
    Row(
        "sql-report-query-missing",
        ["runbook.sql-report", "nope.sql", "out.csv", *W],
        2,
        r"^error: QUERY: cannot read 'nope\.sql'",
    ),
    Row(
        "sql-report-bad-param",
        ["runbook.sql-report", "q.sql", "out.csv", *W, "--param", "1st=x"],
        2,
        r"^error: --param name must be a SQL identifier",
        setup=_write("q.sql", b"SELECT :x"),
    ),
    Row(
        "sql-report-no-warehouse",
        ["runbook.sql-report", "q.sql", "out.csv"],
        2,
        r"no SQL warehouse given",
        setup=_write("q.sql", b"SELECT 1"),
    ),
]
