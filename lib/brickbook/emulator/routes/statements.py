"""Statement Execution (``/api/2.0/sql/statements``) and query history (``/api/2.0/sql/history/queries``).

``POST statements`` checks the request (sql/requests.py; a malformed one is an HTTP 400) and the
warehouse, then waits up to ``wait_timeout`` of real time for the statement; an execution failure is
HTTP 200 with ``status.state`` FAILED. With ``wait_timeout`` ``0s`` the answer is PENDING at once; a
statement still running afterwards is RUNNING (CONTINUE) or canceled (CANCEL).

``PUT /_emulator/sql/statement-hold {seconds}`` (admin token) changes the statement hold (see
sql/statements.py) until the next reset, so a test on a shared emulator can make statements outlive
``wait_timeout``.

``POST /_emulator/notebook/sql`` is the emulator's own: code in a notebook the emulator runs
(``spark.sql``) calls it with the run's context token; it runs the statements to completion on
the same engine as the run's principal and answers like ``GET statements/{id}`` plus the session's
``catalog`` and ``schema`` after any ``USE``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from brickbook.emulator.area import AreaBase, AreaContext
from brickbook.emulator.errors import ApiError
from brickbook.emulator.sql.parameters import bind_parameters
from brickbook.emulator.sql.requests import HistoryQuery, Submission, session, statement_text
from brickbook.emulator.sql.statements import TERMINAL
from brickbook.emulator.wire import caller, json_response, read_json, require_admin

__all__ = ["StatementsArea"]

BASE = "/api/2.0/sql/statements"


async def _finished(done: threading.Event, seconds: float) -> None:
    """Wait (real time, at most ``seconds``) for a statement to end, without holding a thread."""
    deadline = time.monotonic() + seconds
    delay = 0.002
    while not done.is_set() and time.monotonic() < deadline:
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)


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
            Route("/_emulator/sql/statement-hold", self.set_hold, methods=["PUT"]),
        ]

    async def execute(self, request: Request) -> Response:
        """``POST statements`` -> ``StatementResponse`` after at most ``wait_timeout``."""
        submission = Submission.from_body(await read_json(request))
        statement = self.service.start(caller(request), submission)
        if submission.wait_seconds == 0:
            return json_response(self.book.response(statement, state=self.book.first_state(statement)))
        if not self.book.held(statement):
            await _finished(statement.done, submission.wait_seconds)
        if submission.cancel_on_timeout and self.book.visible_state(statement) not in TERMINAL:
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
        query = HistoryQuery.from_query(request.query_params.get, request.query_params.getlist)
        return json_response(self.book.history(caller(request), query))

    async def set_hold(self, request: Request) -> Response:
        """``PUT /_emulator/sql/statement-hold {seconds}`` (admin): new statements show RUNNING that long."""
        require_admin(request)
        return json_response({"seconds": self.service.set_hold((await read_json(request)).get("seconds"))})

    async def notebook_sql(self, request: Request) -> Response:
        """``POST /_emulator/notebook/sql {statement, parameters?, catalog?, schema?}``: run to completion."""
        principal = caller(request)
        if not principal.in_notebook:
            raise ApiError("PERMISSION_DENIED", "Only code in a notebook run by the emulator may call this.")
        body = await read_json(request)
        text, parameters = statement_text(body), bind_parameters(body.get("parameters"))
        catalog, schema = session(body)
        statement, catalog, schema = await asyncio.to_thread(
            self.service.run_sql, principal, text, catalog=catalog, schema=schema, parameters=parameters
        )
        return json_response({**self.book.response(statement), "catalog": catalog, "schema": schema})
