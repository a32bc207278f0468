"""Pagination helpers: token and offset paging, missing list keys, no infinite loops.

A fake server (httpx.MockTransport) stands in for the service here; the wire tests use the emulator.
"""

from __future__ import annotations

import httpx

from brickbook.client import Client
from brickbook.config import Config


def client_for(handler) -> Client:  # type: ignore[no-untyped-def]
    config = Config(host="http://127.0.0.1:1", auth_type="pat", token="dapi-unit-test-token")
    return Client(config, transport=httpx.MockTransport(handler), sleep=lambda s: None)


def test_token_pagination_follows_next_page_token():
    """Pages are followed through next_page_token; the token travels as the named query parameter."""
    pages = {None: {"items": [1, 2], "next_page_token": "p2"}, "p2": {"items": [3], "next_page_token": ""}}
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("next_page_token")
        seen.append(token)
        return httpx.Response(200, json=pages[token])

    with client_for(handler) as client:
        items = list(client.paginate("/x", items_key="items", token_param="next_page_token"))
    assert items == [1, 2, 3]
    assert seen == [None, "p2"]


def test_missing_list_key_is_empty():
    """An answer without the list key (how the API says 'nothing') yields no items."""
    with client_for(lambda request: httpx.Response(200, json={})) as client:
        assert list(client.paginate("/x", items_key="items")) == []


def test_repeated_token_stops_instead_of_looping():
    """A server that hands back the same token twice does not trap the client in a loop."""
    with client_for(
        lambda request: httpx.Response(200, json={"items": [1], "next_page_token": "same"})
    ) as client:
        assert list(client.paginate("/x", items_key="items")) == [1, 1]


def test_offset_pagination_uses_has_more():
    """Offset paging advances by the items received until has_more is false."""
    data = list(range(7))

    def handler(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        chunk = data[offset : offset + limit]
        return httpx.Response(200, json={"runs": chunk, "has_more": offset + limit < len(data)})

    with client_for(handler) as client:
        assert list(client.paginate_offset("/x", items_key="runs", limit=3)) == data
