"""What a Statement Execution or query history request asks for, checked (no HTTP here).

``Submission.from_body`` reads ``POST /api/2.0/sql/statements``: ``warehouse_id`` and ``statement``
(at most 16 MiB) required; ``wait_timeout`` ``0s`` or ``5s``-``50s`` (default ``10s``);
``on_wait_timeout`` CONTINUE or CANCEL; only INLINE ``JSON_ARRAY`` results (EXTERNAL_LINKS is 501
"ExternalLinks disposition is not yet implemented", as on a warehouse without external links; another
INLINE format is the service's 400); ``row_limit`` a non-negative integer; named ``parameters``;
``catalog`` and ``schema`` (default ``main``/``default``). ``HistoryQuery.from_query`` reads the
``filter_by.*``, ``max_results`` and ``page_token`` of ``GET /api/2.0/sql/history/queries``. A bad
field is 400 INVALID_PARAMETER_VALUE naming it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from brickbook.emulator.errors import ApiError, invalid
from brickbook.emulator.sql.catalog import valid_name
from brickbook.emulator.sql.parameters import bind_parameters
from brickbook.emulator.state.paging import decode_offset

__all__ = ["HistoryQuery", "Submission"]

MAX_STATEMENT_BYTES = 16 * 1024 * 1024
MAX_HISTORY_RESULTS = 1000
_WAIT = re.compile(r"([0-9]{1,2})s")


def statement_text(body: Mapping[str, Any]) -> str:
    text = body.get("statement")
    if not isinstance(text, str) or not text.strip():
        raise invalid("statement is required.")
    if len(text.encode()) > MAX_STATEMENT_BYTES:
        raise invalid("statement is larger than 16 MiB.")
    return text


def session(body: Mapping[str, Any]) -> tuple[str, str]:
    """The ``catalog`` and ``schema`` a statement runs in."""
    return valid_name(body.get("catalog") or "main", "catalog"), valid_name(
        body.get("schema") or "default", "schema"
    )


def _wait_seconds(raw: Any) -> int:
    if raw is None:
        return 10
    match = _WAIT.fullmatch(raw if isinstance(raw, str) else "")
    seconds = int(match[1]) if match else -1
    if seconds != 0 and not 5 <= seconds <= 50:
        raise invalid("wait_timeout must be 0s or from 5s to 50s.")
    return seconds


def _check_result_form(body: Mapping[str, Any]) -> None:
    disposition, form = body.get("disposition") or "INLINE", body.get("format") or "JSON_ARRAY"
    if disposition == "EXTERNAL_LINKS":
        raise ApiError("NOT_IMPLEMENTED", "ExternalLinks disposition is not yet implemented")
    if disposition != "INLINE":
        raise invalid("disposition must be INLINE or EXTERNAL_LINKS.")
    if form != "JSON_ARRAY":
        raise invalid("The format field must be JSON_ARRAY when the disposition field is INLINE.")


def _row_limit(raw: Any) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 2**62:
        raise invalid("row_limit must be a non-negative integer.")
    return raw


@dataclass(frozen=True)
class Submission:
    """A checked ``POST statements`` body."""

    warehouse_id: str
    text: str
    wait_seconds: int
    cancel_on_timeout: bool
    row_limit: int | None
    parameters: dict[str, Any]
    catalog: str
    schema: str

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Submission:
        warehouse_id = body.get("warehouse_id")
        if not isinstance(warehouse_id, str) or not warehouse_id:
            raise invalid("warehouse_id is required.")
        on_timeout = body.get("on_wait_timeout") or "CONTINUE"
        if on_timeout not in ("CONTINUE", "CANCEL"):
            raise invalid("on_wait_timeout must be CONTINUE or CANCEL.")
        _check_result_form(body)
        catalog, schema = session(body)
        return cls(
            warehouse_id=warehouse_id,
            text=statement_text(body),
            wait_seconds=_wait_seconds(body.get("wait_timeout")),
            cancel_on_timeout=on_timeout == "CANCEL",
            row_limit=_row_limit(body.get("row_limit")),
            parameters=bind_parameters(body.get("parameters")),
            catalog=catalog,
            schema=schema,
        )


def _whole(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"[0-9]{1,18}", raw):
        raise invalid(f"{name} must be a non-negative integer.")
    return int(raw)


@dataclass(frozen=True)
class HistoryQuery:
    """A checked query history request: its filters and the page asked for."""

    statuses: frozenset[str] = field(default_factory=frozenset)
    warehouse_ids: frozenset[str] = field(default_factory=frozenset)
    statement_ids: frozenset[str] = field(default_factory=frozenset)
    start_ms: int | None = None
    end_ms: int | None = None
    offset: int = 0
    limit: int = 100

    @classmethod
    def from_query(
        cls, get: Callable[[str], str | None], getlist: Callable[[str], list[str]]
    ) -> HistoryQuery:
        prefix = "filter_by.query_start_time_range."
        limit = _whole(get("max_results"), "max_results") or 100
        if not 1 <= limit <= MAX_HISTORY_RESULTS:
            raise invalid(f"max_results must be from 1 to {MAX_HISTORY_RESULTS}.")
        token = get("page_token")
        return cls(
            statuses=frozenset(getlist("filter_by.statuses")),
            warehouse_ids=frozenset(getlist("filter_by.warehouse_ids")),
            statement_ids=frozenset(getlist("filter_by.statement_ids")),
            start_ms=_whole(get(prefix + "start_time_ms"), "start_time_ms"),
            end_ms=_whole(get(prefix + "end_time_ms"), "end_time_ms"),
            offset=decode_offset(token) if token else 0,
            limit=limit,
        )

    def keeps(self, info: Mapping[str, Any]) -> bool:
        """Whether a ``QueryInfo`` passes the filters."""
        start = int(info["query_start_time_ms"])
        return (
            (not self.statuses or info["status"] in self.statuses)
            and (not self.warehouse_ids or info["warehouse_id"] in self.warehouse_ids)
            and (not self.statement_ids or info["query_id"] in self.statement_ids)
            and (self.start_ms is None or start >= self.start_ms)
            and (self.end_ms is None or start < self.end_ms)
        )
