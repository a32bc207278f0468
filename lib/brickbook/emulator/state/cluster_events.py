"""A cluster's event log and the ``clusters/events`` query over it (Clusters API 2.1). No HTTP here.

Every lifecycle change the emulator makes is recorded on the cluster's record as the real service
reports it: CREATING (``user``), STARTING (``user`` when a person started it), RESTARTING, EDITED
(``attributes``, ``previous_attributes``), RESIZING and UPSIZE_COMPLETED (``current_num_workers``,
``target_num_workers``), RUNNING (``current_num_workers``), TERMINATING (``reason``: the termination
reason; ``user`` when a person asked), PINNED and UNPINNED. The service has no TERMINATED event type: a
cluster's end is its TERMINATING event. The log keeps the newest ``MAX_EVENTS`` events.

The query: ``event_types`` filters, ``start_time``/``end_time`` (epoch ms, inclusive) bound, ``order``
is DESC by default, ``limit`` is 50 by default and at most 500, and the answer carries ``total_count`` and,
when more events follow, ``next_page`` (the request to send next) as the SDK follows it; ``page_size``
and ``page_token`` page by token instead (``next_page_token``/``prev_page_token``).
"""

from __future__ import annotations

from typing import Any

from brickbook.emulator.errors import invalid
from brickbook.emulator.state.paging import decode_offset, page_of

__all__ = ["MAX_EVENTS", "query_events", "record_event"]

MAX_EVENTS = 1000
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_EVENT_TYPES = 100


def record_event(record: dict[str, Any], event_type: str, at: float, **details: Any) -> None:
    """Append one event, stamped ``at`` (clock seconds), to the cluster record's log."""
    events = record.setdefault("events", [])
    events.append({"type": event_type, "timestamp": int(at * 1000), "details": details})
    del events[:-MAX_EVENTS]


def _whole(body: dict[str, Any], field: str, default: int | None) -> int | None:
    value = body.get(field)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(f"{field} must be a non-negative integer, got {str(value)[:40]!r}.")
    return value


def _types(body: dict[str, Any]) -> set[str] | None:
    value = body.get("event_types")
    if value is None or value == []:
        return None
    if not isinstance(value, list) or len(value) > MAX_EVENT_TYPES:
        raise invalid(f"event_types must be a list of at most {MAX_EVENT_TYPES} event types.")
    if not all(isinstance(item, str) and item for item in value):
        raise invalid("event_types must be a list of event type names.")
    return set(value)


def query_events(record: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The ``clusters/events`` answer for one cluster record and the request ``body``."""
    order = body.get("order") or "DESC"
    if order not in ("ASC", "DESC"):
        raise invalid(f"order must be ASC or DESC, got {str(order)[:40]!r}.")
    types = _types(body)
    start, end = _whole(body, "start_time", 0), _whole(body, "end_time", None)
    events = [
        {"cluster_id": record["cluster_id"], **event}
        for event in record.get("events", [])
        if (types is None or event["type"] in types)
        and event["timestamp"] >= (start or 0)
        and (end is None or event["timestamp"] <= end)
    ]
    if order == "DESC":
        events.reverse()
    answer: dict[str, Any] = {"total_count": len(events)}
    if body.get("page_token") or body.get("page_size") is not None:
        size = min(_whole(body, "page_size", 0) or MAX_LIMIT, MAX_LIMIT)
        token = body.get("page_token")
        page = page_of(events, decode_offset(str(token)) if token else 0, size)
        if page.next_token is not None:
            answer["next_page_token"] = page.next_token
            answer["next_page"] = {**body, "page_token": page.next_token}
        if page.prev_token is not None:
            answer["prev_page_token"] = page.prev_token
        if page.items:
            answer["events"] = page.items
        return answer
    limit = _whole(body, "limit", DEFAULT_LIMIT) or DEFAULT_LIMIT
    if limit > MAX_LIMIT:
        raise invalid(f"limit must be at most {MAX_LIMIT}, got {limit}.")
    offset = _whole(body, "offset", 0) or 0
    chosen = events[offset : offset + limit]
    if chosen:
        answer["events"] = chosen
    if offset + limit < len(events):
        # Pin the window, so events recorded meanwhile do not shift the next page's offset.
        newest = max(event["timestamp"] for event in events)
        answer["next_page"] = {**body, "offset": offset + limit, "limit": limit, "end_time": end or newest}
    return answer
