"""Databricks SQL in, DuckDB SQL out: parse with sqlglot, map names, say which tables are touched.

The user writes Databricks SQL (``SELECT id FROM range(10)``, ``current_catalog()``, ``CREATE TABLE
... USING DELTA``, backticked and three-level names). ``translate`` parses one statement with the
``databricks`` dialect, rewrites it for DuckDB and returns, beside the DuckDB text, every table it
reads or writes and every schema or table it creates or drops, fully qualified, so the caller can
check privileges *before* anything runs. What cannot be translated raises ``TranslationError`` with
a message the statement's ``status.error`` carries.

``current_catalog()``, ``current_schema()`` and ``current_user()`` become the statement's values.

Names: a Unity Catalog catalog ``c`` is the DuckDB database ``uc_c`` (DuckDB reserves ``main``, the
name of Databricks' default catalog); schemas and tables keep their names. Unqualified names take
the statement's catalog and schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

__all__ = [
    "DUCKDB_PREFIX",
    "TableUse",
    "Translation",
    "TranslationError",
    "duckdb_catalog",
    "quote",
    "split_statements",
    "translate",
    "use_target",
]

DUCKDB_PREFIX = "uc_"
_USE = re.compile(r"(?is)USE\s+(?:(CATALOG|SCHEMA|DATABASE)\s+)?`?([\w-]+)`?(?:\.`?([\w-]+)`?)?")
Access = Literal["read", "write", "create", "replace", "drop"]  # replace: CREATE OR REPLACE
# Statements sqlglot keeps as opaque commands that DuckDB understands the same way and that read no table.
_PASS_THROUGH_COMMANDS = ("SHOW",)


# What runs: queries, DML, DESCRIBE, and CREATE/DROP of tables, views and schemas. Everything else
# (ATTACH, COPY, PRAGMA, SET, INSTALL, CALL, ...) would reach past Unity Catalog into the engine.
_RUNNABLE = (
    exp.Query,
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Describe,
    exp.Values,
)
_KINDS = ("TABLE", "VIEW", "SCHEMA")
_TABLE_FUNCTIONS = ("range",)


class TranslationError(Exception):
    """The statement cannot run on the emulator's engine; the message says why."""


@dataclass(frozen=True)
class TableUse:
    """One securable a statement touches: ``kind`` TABLE or SCHEMA, its UC full name, how."""

    kind: Literal["TABLE", "SCHEMA"]
    full_name: str
    access: Access


@dataclass
class Translation:
    """One statement, ready for DuckDB."""

    sql: str
    statement_type: str  # SELECT, INSERT, CREATE, DROP, ... (query history's statement_type)
    uses: list[TableUse] = field(default_factory=list)
    returns_counts: bool = False  # DML: Databricks answers num_affected_rows (+ num_inserted_rows)
    parameters: set[str] = field(default_factory=set)  # the :name markers the statement uses


def quote(name: str) -> str:
    """A DuckDB identifier in double quotes."""
    return '"' + name.replace('"', '""') + '"'


def duckdb_catalog(catalog: str) -> str:
    return DUCKDB_PREFIX + catalog


def translate(text: str, *, catalog: str, schema: str, user: str = "") -> Translation:
    """Translate one Databricks SQL statement; raise TranslationError when it cannot run here."""
    try:
        parsed = [e for e in sqlglot.parse(text, read="databricks", error_level=ErrorLevel.RAISE) if e]
    except SqlglotError as exc:
        raise TranslationError(f"[PARSE_SYNTAX_ERROR] {_first_line(str(exc))}") from exc
    if len(parsed) != 1:
        raise TranslationError(
            "[PARSE_SYNTAX_ERROR] The statement execution API runs exactly one statement per request"
            f" ({len(parsed)} found)."
        )
    tree: exp.Expr = parsed[0]
    if isinstance(tree, exp.Grant | exp.Revoke) or keyword_of(text) in ("GRANT", "REVOKE"):
        raise TranslationError(
            "[PARSE_SYNTAX_ERROR] The brickbook emulator reads GRANT privilege[, ...] ON"
            " [CATALOG|SCHEMA|TABLE|VOLUME] name TO principal[, ...] (and REVOKE ... FROM ...)."
        )
    if isinstance(tree, exp.Command):
        keyword = str(tree.this).upper()
        if keyword in _PASS_THROUGH_COMMANDS:
            return Translation(sql=text.strip().rstrip(";"), statement_type=keyword)
        raise TranslationError(f"{keyword} statements are not supported by the brickbook emulator.")
    if isinstance(tree, exp.Use):
        raise TranslationError(
            "USE statements are not supported by the brickbook emulator's statement execution"
            " (use the catalog and schema request fields)."
        )
    if not isinstance(tree, _RUNNABLE) or (
        isinstance(tree, exp.Create | exp.Drop) and str(tree.args.get("kind", "")).upper() not in _KINDS
    ):
        what = f"{tree.key.upper()} {tree.args.get('kind') or ''}".strip()
        raise TranslationError(f"{what} statements are not supported by the brickbook emulator.")
    _refuse_table_functions(tree)
    translation = Translation(sql="", statement_type=tree.key.upper())
    _rewrite_functions(tree, catalog=catalog, schema=schema, user=user)
    _map_names(tree, translation, catalog=catalog, schema=schema)
    translation.parameters = {str(p.name) for p in tree.find_all(exp.Placeholder) if p.name}
    translation.returns_counts = isinstance(tree, exp.Insert | exp.Update | exp.Delete | exp.Merge)
    try:
        translation.sql = tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise TranslationError(f"Cannot run on the brickbook emulator: {_first_line(str(exc))}") from exc
    return translation


def keyword_of(text: str) -> str:
    """The statement's first word, upper-cased."""
    words = text.split(None, 1)
    return words[0].upper() if words else ""


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "cannot parse the statement"


def _rewrite_functions(tree: exp.Expr, *, catalog: str, schema: str, user: str) -> None:
    for who in list(tree.find_all(exp.CurrentUser, exp.SessionUser)):
        who.replace(exp.Literal.string(user))
    for node in list(tree.find_all(exp.CurrentCatalog)):
        node.replace(exp.Literal.string(catalog))
    for other in list(tree.find_all(exp.CurrentSchema, exp.CurrentDatabase)):
        other.replace(exp.Literal.string(schema))
    for table in list(tree.find_all(exp.Table)):
        function = table.this
        if isinstance(function, exp.Anonymous) and str(function.this).lower() == "range":
            # Databricks' range() yields a column named id; DuckDB's is named range.
            inner = exp.select(exp.alias_(exp.column("range"), "id")).from_(
                exp.Table(this=exp.Anonymous(this="range", expressions=function.expressions))
            )
            alias = table.args.get("alias")
            table.replace(
                exp.Subquery(this=inner, alias=alias or exp.TableAlias(this=exp.to_identifier("range")))
            )


def _refuse_table_functions(tree: exp.Expr) -> None:
    for table in tree.find_all(exp.Table):
        function = table.this
        if isinstance(function, exp.Func):
            name = str(function.this if isinstance(function, exp.Anonymous) else function.sql_name()).lower()
            if name not in _TABLE_FUNCTIONS:
                raise TranslationError(
                    f"The table function {name}() is not supported by the brickbook emulator."
                )


def _cte_names(tree: exp.Expr) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def _map_names(tree: exp.Expr, translation: Translation, *, catalog: str, schema: str) -> None:
    """Qualify every table name (and the schema of CREATE/DROP SCHEMA), recording each use."""
    if isinstance(tree, exp.Create | exp.Drop) and str(tree.args.get("kind", "")).upper() == "SCHEMA":
        targets = tree.args.get("tables") or [tree.this]
        change: Access = "create" if isinstance(tree, exp.Create) else "drop"
        for target in targets:
            if not isinstance(target, exp.Table) or target.args.get("db") is None:
                raise TranslationError("CREATE/DROP SCHEMA needs a schema name.")
            owner = target.args.get("catalog")
            schema_catalog = (owner.name if owner is not None else catalog).lower()
            name = target.args["db"].name.lower()
            translation.uses.append(TableUse("SCHEMA", f"{schema_catalog}.{name}", change))
            target.set("catalog", exp.to_identifier(duckdb_catalog(schema_catalog), quoted=True))
            target.set("db", exp.to_identifier(name, quoted=True))
        return
    if isinstance(tree, exp.Create):
        tree.set(
            "properties", None
        )  # USING DELTA, TBLPROPERTIES, LOCATION: storage details DuckDB has no use for
    ctes = _cte_names(tree)
    target = _target_table(tree)
    for table in list(tree.find_all(exp.Table)):
        if not isinstance(table.this, exp.Identifier):
            continue  # a table function
        if not table.args.get("db") and table.name.lower() in ctes:
            continue
        parts = [
            p.name for p in (table.args.get("catalog"), table.args.get("db"), table.this) if p is not None
        ]
        full = _qualify(parts, catalog=catalog, schema=schema)
        access: Access = "read"
        if table is target:
            access = (
                "create"
                if isinstance(tree, exp.Create)
                else "drop"
                if isinstance(tree, exp.Drop)
                else "write"
            )
        if access == "create" and tree.args.get("replace"):
            access = "replace"
        translation.uses.append(TableUse("TABLE", full, access))
        cat, sch, name = full.split(".")
        table.set("catalog", exp.to_identifier(duckdb_catalog(cat), quoted=True))
        table.set("db", exp.to_identifier(sch, quoted=True))
        table.set("this", exp.to_identifier(name, quoted=True))


def _target_table(tree: exp.Expr) -> exp.Table | None:
    if isinstance(tree, exp.Insert | exp.Create):
        node = tree.this
        if isinstance(node, exp.Schema):
            node = node.this
        return node if isinstance(node, exp.Table) else None
    if isinstance(tree, exp.Drop):
        tables = tree.args.get("tables") or [tree.this]
        node = tables[0] if len(tables) == 1 else None
        return node if isinstance(node, exp.Table) else None
    if isinstance(tree, exp.Update | exp.Delete | exp.Merge):
        node = tree.this
        return node if isinstance(node, exp.Table) else None
    return None


def _qualify(parts: list[str], *, catalog: str, schema: str) -> str:
    names = [p.lower() for p in parts]
    if len(names) == 1:
        names = [catalog, schema, *names]
    elif len(names) == 2:
        names = [catalog, *names]
    if len(names) != 3 or not all(names):
        raise TranslationError(f"[INVALID_IDENTIFIER] Invalid table name {'.'.join(parts)!r}.")
    return ".".join(names)


def use_target(text: str, catalog: str, schema: str) -> tuple[str, str] | None:
    """For ``USE CATALOG c`` / ``USE [SCHEMA] s`` / ``USE c.s``: the catalog and schema after it; else None.

    The statement API refuses USE (each statement names its catalog and schema); scripts and notebook
    sessions apply it to the statements that follow.
    """
    use = _USE.fullmatch(text.strip().rstrip(";").strip())
    if use is None:
        return None
    keyword, first, second = (use.group(1) or "").upper(), use.group(2).lower(), use.group(3)
    if second is not None:
        return first, second.lower()
    if keyword == "CATALOG":
        return first, "default"
    return catalog, first


def split_statements(text: str) -> list[str]:
    """The statements of a script, each as its own text (comments and empty statements dropped)."""
    try:
        trees = sqlglot.parse(text, read="databricks")
    except sqlglot.errors.SqlglotError:
        return [text]
    pieces = [tree.sql(dialect="databricks") for tree in trees if tree is not None]
    return [text] if len(pieces) == 1 else pieces  # one statement runs as written
