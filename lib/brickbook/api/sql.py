"""SQL primitives: warehouses (``/api/2.0/sql/warehouses``), statements (``/api/2.0/sql/statements``) and
query history (``/api/2.0/sql/history/queries``), one function per endpoint.

Warehouses: create, start and stop are asynchronous (STARTING / STOPPING when the call returns); the
states are STARTING, RUNNING, STOPPING, STOPPED, DELETING, DELETED. Start and stop are idempotent.

Statement Execution API 2.0: a statement is submitted with a ``wait_timeout`` (``0s`` or 5-50 s); when it
outlives it, ``on_wait_timeout=CONTINUE`` returns PENDING or RUNNING and the statement goes on (poll
``get_statement``). A statement that fails to execute is **HTTP 200** with ``status.state=FAILED`` and
``status.error``; only a request refused outright is an HTTP error. Terminal states: SUCCEEDED, FAILED,
CANCELED, CLOSED. INLINE ``JSON_ARRAY`` results come in chunks: chunk 0 in ``result`` once SUCCEEDED, the
others from ``result/chunks/{n}``, each naming the next in ``next_chunk_index`` (absent on the last one);
every value is a string or null. Named parameters (``:name``) travel in ``parameters``, never in the text.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from brickbook.api.model import ApiObject, OpenEnum
from brickbook.client import Client

__all__ = [
    "TERMINAL",
    "Column",
    "ResultChunk",
    "StatementResponse",
    "StatementState",
    "Warehouse",
    "WarehouseState",
    "cancel_statement",
    "create_warehouse",
    "delete_warehouse",
    "edit_warehouse",
    "execute_statement",
    "get_statement",
    "get_statement_chunk",
    "get_warehouse",
    "list_queries",
    "list_warehouses",
    "start_warehouse",
    "stop_warehouse",
]

WAREHOUSES = "/api/2.0/sql/warehouses"
STATEMENTS = "/api/2.0/sql/statements"
HISTORY = "/api/2.0/sql/history/queries"


def _segment(value: str) -> str:
    """Quote an id for a URL path: a ``/`` or ``?`` in it must not reach another endpoint."""
    return urllib.parse.quote(value, safe="")


class WarehouseState(OpenEnum):
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    DELETING = "DELETING"
    DELETED = "DELETED"


class StatementState(OpenEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    CLOSED = "CLOSED"


TERMINAL = frozenset(
    {StatementState.SUCCEEDED, StatementState.FAILED, StatementState.CANCELED, StatementState.CLOSED}
)


@dataclass(frozen=True)
class Warehouse(ApiObject):
    """A SQL warehouse as ``GET sql/warehouses[/{id}]`` describes it."""

    id: str = ""
    name: str | None = None
    state: WarehouseState | None = None
    cluster_size: str | None = None
    min_num_clusters: int | None = None
    max_num_clusters: int | None = None
    num_clusters: int | None = None
    auto_stop_mins: int | None = None
    warehouse_type: str | None = None
    enable_serverless_compute: bool | None = None
    creator_name: str | None = None
    health: dict[str, Any] = field(default_factory=dict)

    @property
    def health_message(self) -> str:
        """Return what ``health`` says went wrong, in one phrase, or ``""``."""
        health = self.health or {}
        reason = health.get("failure_reason") or {}
        text = health.get("summary") or health.get("message") or reason.get("code") or ""
        return str(text)


@dataclass(frozen=True)
class Column:
    """One column of a result's schema (``manifest.schema.columns``)."""

    name: str
    type_name: str = ""


@dataclass(frozen=True)
class ResultChunk(ApiObject):
    """One chunk of an INLINE result: ``result`` of a statement or ``result/chunks/{n}``."""

    chunk_index: int = 0
    row_offset: int = 0
    row_count: int = 0
    data_array: list[list[str | None]] = field(default_factory=list)
    next_chunk_index: int | None = None


@dataclass(frozen=True)
class StatementResponse(ApiObject):
    """A statement's status, and once SUCCEEDED its manifest and first chunk."""

    statement_id: str = ""
    status: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None

    @property
    def state(self) -> StatementState:
        """Return ``status.state`` (PENDING when the service sends none)."""
        return StatementState(self.status.get("state") or "PENDING")

    @property
    def error_message(self) -> str:
        """Return the engine's message for a FAILED statement (``status.error.message``), or ``""``."""
        error = self.status.get("error") or {}
        return str(error.get("message") or error.get("error_code") or "")

    @property
    def columns(self) -> list[Column]:
        """Return the result's columns in order (``manifest.schema.columns``)."""
        found = (self.manifest.get("schema") or {}).get("columns") or []
        ordered = sorted(found, key=lambda c: int(c.get("position") or 0))
        return [Column(str(c.get("name", "")), str(c.get("type_name") or "")) for c in ordered]

    @property
    def total_row_count(self) -> int | None:
        """Return ``manifest.total_row_count`` when the service sent it."""
        value = self.manifest.get("total_row_count")
        return int(value) if value is not None else None


# -- warehouses ------------------------------------------------------------------------------------


def list_warehouses(client: Client, *, page_size: int = 100) -> Iterator[Warehouse]:
    """Yield every warehouse, page by page: ``GET sql/warehouses``."""
    for item in client.paginate(WAREHOUSES, items_key="warehouses", query={"page_size": page_size}):
        yield Warehouse.from_api(item)


def get_warehouse(client: Client, warehouse_id: str) -> Warehouse:
    """Describe a warehouse: ``GET sql/warehouses/{id}``."""
    return Warehouse.from_api(client.get(f"{WAREHOUSES}/{_segment(warehouse_id)}"))


def create_warehouse(client: Client, spec: Mapping[str, Any]) -> str:
    """Create a warehouse: ``POST sql/warehouses``; return its id (it starts STARTING).

    Not retried on transient failures: a second copy would create a second warehouse.
    """
    return str(client.post(WAREHOUSES, dict(spec))["id"])


def edit_warehouse(client: Client, warehouse_id: str, spec: Mapping[str, Any]) -> None:
    """Change a warehouse's settings: ``POST sql/warehouses/{id}/edit``."""
    client.post(f"{WAREHOUSES}/{_segment(warehouse_id)}/edit", dict(spec))


def delete_warehouse(client: Client, warehouse_id: str) -> None:
    """Delete a warehouse: ``DELETE sql/warehouses/{id}``."""
    client.request("DELETE", f"{WAREHOUSES}/{_segment(warehouse_id)}")


def start_warehouse(client: Client, warehouse_id: str) -> None:
    """Start a warehouse: ``POST sql/warehouses/{id}/start`` (idempotent)."""
    client.post(f"{WAREHOUSES}/{_segment(warehouse_id)}/start", {})


def stop_warehouse(client: Client, warehouse_id: str) -> None:
    """Stop a warehouse: ``POST sql/warehouses/{id}/stop`` (idempotent)."""
    client.post(f"{WAREHOUSES}/{_segment(warehouse_id)}/stop", {})


# -- statements ------------------------------------------------------------------------------------


def execute_statement(
    client: Client,
    *,
    statement: str,
    warehouse_id: str,
    catalog: str | None = None,
    schema: str | None = None,
    parameters: Mapping[str, str] | None = None,
    wait_timeout: str = "5s",
    on_wait_timeout: str = "CONTINUE",
    row_limit: int | None = None,
) -> StatementResponse:
    """Submit a statement: ``POST sql/statements`` (INLINE, JSON_ARRAY); return its first status.

    Parameters are sent as ``{name, value}`` (type STRING). Not retried on transient failures: a second
    copy would run the statement twice.
    """
    body: dict[str, Any] = {
        "statement": statement,
        "warehouse_id": warehouse_id,
        "wait_timeout": wait_timeout,
        "on_wait_timeout": on_wait_timeout,
        "disposition": "INLINE",
        "format": "JSON_ARRAY",
    }
    if catalog:
        body["catalog"] = catalog
    if schema:
        body["schema"] = schema
    if parameters:
        body["parameters"] = [{"name": name, "value": value} for name, value in parameters.items()]
    if row_limit is not None:
        body["row_limit"] = row_limit
    return StatementResponse.from_api(client.post(STATEMENTS, body))


def get_statement(client: Client, statement_id: str) -> StatementResponse:
    """Read a statement's status (and, once SUCCEEDED, manifest and chunk 0): ``GET sql/statements/{id}``."""
    return StatementResponse.from_api(client.get(f"{STATEMENTS}/{_segment(statement_id)}"))


def get_statement_chunk(client: Client, statement_id: str, chunk_index: int) -> ResultChunk:
    """Fetch one result chunk: ``GET sql/statements/{id}/result/chunks/{n}``."""
    path = f"{STATEMENTS}/{_segment(statement_id)}/result/chunks/{int(chunk_index)}"
    return ResultChunk.from_api(client.get(path))


def cancel_statement(client: Client, statement_id: str) -> None:
    """Ask to cancel a statement: ``POST sql/statements/{id}/cancel`` (the outcome comes from polling)."""
    client.post(f"{STATEMENTS}/{_segment(statement_id)}/cancel", {})


# -- query history ---------------------------------------------------------------------------------


def list_queries(
    client: Client,
    *,
    warehouse_ids: list[str] | None = None,
    statuses: list[str] | None = None,
    since_ms: int | None = None,
    max_results: int = 100,
) -> Iterator[dict[str, Any]]:
    """Yield every query of the history, newest first, page by page: ``GET sql/history/queries``.

    The filter travels flattened in the query string (``filter_by.warehouse_ids=...``); pages are
    ``res`` with ``next_page_token`` (and ``has_next_page``).
    """
    filter_by: dict[str, Any] = {}
    if warehouse_ids:
        filter_by["warehouse_ids"] = list(warehouse_ids)
    if statuses:
        filter_by["statuses"] = list(statuses)
    if since_ms is not None:
        filter_by["query_start_time_range"] = {"start_time_ms": since_ms}
    query: dict[str, Any] = {"max_results": max_results}
    if filter_by:
        query["filter_by"] = filter_by
    seen: set[str] = set()
    while True:
        page = client.get(HISTORY, query)
        yield from page.get("res") or []
        token = page.get("next_page_token")
        if not token or token in seen or page.get("has_next_page") is False:
            return
        seen.add(token)
        query = {**query, "page_token": token}
