"""Statement Execution (``/api/2.0/sql/statements``) and query history (``/api/2.0/sql/history/queries``).

``POST statements`` validates the request (a malformed one is an HTTP 400), checks the warehouse,
then waits up to ``wait_timeout`` for the statement; an execution failure is HTTP 200 with
``status.state`` FAILED. ``wait_timeout`` is ``0s`` or ``5s``-``50s``; with ``0s`` the answer is
PENDING at once. Only INLINE ``JSON_ARRAY`` results exist here: EXTERNAL_LINKS, ARROW_STREAM and
CSV are refused with INVALID_PARAMETER_VALUE.

``POST /_emulator/notebook/sql`` is the emulator's own: code in a notebook the emulator runs
(``spark.sql``) calls it with the run's context token; it runs the statements to completion on
the same engine as the run's principal and answers like ``GET statements/{id}`` plus the session's
``catalog`` and ``schema`` after any ``USE``.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.errors import ApiError
from brickbook.emulator.sql.catalog import valid_name
from brickbook.emulator.sql.service import bind_parameters
from brickbook.emulator.sql.statements import HISTORY_KIND, TERMINAL
from brickbook.emulator.wire import caller, json_response, read_json

__all__ = ["StatementsArea"]

BASE = "/api/2.0/sql/statements"
MAX_STATEMENT_BYTES = 16 * 1024 * 1024
_WAIT = re.compile(r"([0-9]{1,2})s")
MAX_HISTORY_RESULTS = 1000


def _bad(message: str) -> ApiError:
    return ApiError("INVALID_PARAMETER_VALUE", message)


def _wait_seconds(raw: Any) -> int:
    match = _WAIT.fullmatch(raw if isinstance(raw, str) else "")
    if raw is None:
        return 10
    seconds = int(match[1]) if match else -1
    if seconds != 0 and not 5 <= seconds <= 50:
        raise _bad("wait_timeout must be 0s or from 5s to 50s.")
    return seconds


def _text(body: dict[str, Any]) -> str:
    text = body.get("statement")
    if not isinstance(text, str) or not text.strip():
        raise _bad("statement is required.")
    if len(text.encode()) > MAX_STATEMENT_BYTES:
        raise _bad("statement is larger than 16 MiB.")
    return text


def _row_limit(raw: Any) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0 or raw > 2**62:
        raise _bad("row_limit must be a non-negative integer.")
    return raw


def _session(body: dict[str, Any]) -> tuple[str, str]:
    catalog = valid_name(body.get("catalog") or "main", "catalog")
    schema = valid_name(body.get("schema") or "default", "schema")
    return catalog, schema


class StatementsArea(AreaBase):
    def __init__(self, context: AreaContext) -> None:
        self.service = context.services.sql
        self.book = self.service.statements

    def routes(self) -> Sequence[BaseRoute]:
        return [
            Route(BASE, self.execute, methods=["POST"]),
            Route(BASE + "/{statement_id}", self.get, methods=["GET"]),
            Route(BASE + "/{statement_id}/result/chunks/{chunk_index}", self.chunk, methods=["GET"]),
            Route(BASE + "/{statement_id}/cancel", self.cancel, methods=["POST"]),
            Route("/api/2.0/sql/history/queries", self.history, methods=["GET"]),
            Route("/_emulator/notebook/sql", self.notebook_sql, methods=["POST"]),
        ]

    async def execute(self, request: Request) -> Response:
        """``POST statements`` -> ``StatementResponse`` after at most ``wait_timeout``."""
        body, principal = await read_json(request), caller(request)
        warehouse_id = body.get("warehouse_id")
        if not isinstance(warehouse_id, str) or not warehouse_id:
            raise _bad("warehouse_id is required.")
        text, wait = _text(body), _wait_seconds(body.get("wait_timeout"))
        on_timeout = body.get("on_wait_timeout") or "CONTINUE"
        if on_timeout not in ("CONTINUE", "CANCEL"):
            raise _bad("on_wait_timeout must be CONTINUE or CANCEL.")
        if (body.get("disposition") or "INLINE") != "INLINE" or (
            body.get("format") or "JSON_ARRAY"
        ) != "JSON_ARRAY":
            raise _bad(
                "The brickbook emulator serves only INLINE JSON_ARRAY results (EXTERNAL_LINKS, ARROW_STREAM"
                " and CSV are not supported)."
            )
        row_limit, parameters = _row_limit(body.get("row_limit")), bind_parameters(body.get("parameters"))
        catalog, schema = _session(body)
        self.service.gate.require_running(warehouse_id, principal=principal.user_name)
        statement = self.book.new(text=text, warehouse_id=warehouse_id, user_name=principal.user_name)
        self.service.submit(
            statement, principal, catalog=catalog, schema=schema, parameters=parameters, row_limit=row_limit
        )
        self.service.gate.note_activity(warehouse_id)
        if wait == 0:
            failed_early = statement.state == "FAILED" and not self.book.held(statement)
            return json_response(self.book.response(statement, state=None if failed_early else "PENDING"))
        if not self.book.held(statement):
            await asyncio.to_thread(statement.done.wait, wait)
        if on_timeout == "CANCEL" and self.book.visible_state(statement) not in TERMINAL:
            self.book.cancel(statement)
        return json_response(self.book.response(statement))

    async def get(self, request: Request) -> Response:
        """``GET statements/{id}`` -> ``StatementResponse`` (manifest and chunk 0 once SUCCEEDED)."""
        statement = self.book.get(request.path_params["statement_id"], caller(request))
        return json_response(self.book.response(statement))

    async def chunk(self, request: Request) -> Response:
        """``GET statements/{id}/result/chunks/{n}`` -> ``ResultData``."""
        statement = self.book.get(request.path_params["statement_id"], caller(request))
        return json_response(self.book.chunk(statement, request.path_params["chunk_index"]))

    async def cancel(self, request: Request) -> Response:
        """``POST statements/{id}/cancel`` -> ``{}``; the final state comes from polling."""
        statement = self.book.get(request.path_params["statement_id"], caller(request))
        self.book.cancel(statement)
        return json_response({})

    async def history(self, request: Request) -> Response:
        """``GET history/queries`` -> ``{res?, has_next_page, next_page_token?}``, newest first."""
        principal, query = caller(request), request.query_params
        statuses = set(query.getlist("filter_by.statuses"))
        warehouses = set(query.getlist("filter_by.warehouse_ids"))
        ids = set(query.getlist("filter_by.statement_ids"))
        start = _int(query.get("filter_by.query_start_time_range.start_time_ms"), "start_time_ms")
        end = _int(query.get("filter_by.query_start_time_range.end_time_ms"), "end_time_ms")
        limit = _int(query.get("max_results"), "max_results") or 100
        if not 1 <= limit <= MAX_HISTORY_RESULTS:
            raise _bad(f"max_results must be from 1 to {MAX_HISTORY_RESULTS}.")
        offset = _token(query.get("page_token"))
        entries = [
            info
            for _, info in reversed(self.service.store.items(HISTORY_KIND))
            if (principal.is_admin or info["user_name"] == principal.user_name)
            and (not statuses or info["status"] in statuses)
            and (not warehouses or info["warehouse_id"] in warehouses)
            and (not ids or info["query_id"] in ids)
            and (start is None or info["query_start_time_ms"] >= start)
            and (end is None or info["query_start_time_ms"] < end)
        ]
        page = entries[offset : offset + limit]
        more = offset + limit < len(entries)
        answer: dict[str, Any] = {"has_next_page": more}
        if page:
            answer["res"] = page
        if more:
            answer["next_page_token"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
        return json_response(answer)

    async def notebook_sql(self, request: Request) -> Response:
        """``POST /_emulator/notebook/sql {statement, catalog?, schema?}``: run to completion (notebooks)."""
        principal = caller(request)
        if not principal.in_notebook:
            raise ApiError("PERMISSION_DENIED", "Only code in a notebook run by the emulator may call this.")
        body = await read_json(request)
        text, parameters = _text(body), bind_parameters(body.get("parameters"))
        catalog, schema = _session(body)
        statement, catalog, schema = await asyncio.to_thread(
            self.service.run_sql, principal, text, catalog=catalog, schema=schema, parameters=parameters
        )
        return json_response({**self.book.response(statement), "catalog": catalog, "schema": schema})


def _int(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"[0-9]{1,18}", raw):
        raise _bad(f"{name} must be a non-negative integer.")
    return int(raw)


def _token(raw: str | None) -> int:
    if not raw:
        return 0
    try:
        return int(base64.urlsafe_b64decode(raw.encode()).decode())
    except ValueError as exc:
        raise _bad("page_token is not valid.") from exc
