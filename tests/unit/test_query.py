"""GET parameters are encoded in the query string the way the official SDK encodes them."""

from __future__ import annotations

from brickbook.client import flatten_query


def test_flatten_query():
    """Booleans are lowercase, nested objects dotted, lists repeated, None dropped."""
    pairs = flatten_query(
        {
            "job_id": 5,
            "active_only": True,
            "expand": False,
            "filter_by": {"cluster_states": ["RUNNING", "PENDING"], "is_pinned": True},
            "missing": None,
        }
    )
    assert pairs == [
        ("job_id", "5"),
        ("active_only", "true"),
        ("expand", "false"),
        ("filter_by.cluster_states", "RUNNING"),
        ("filter_by.cluster_states", "PENDING"),
        ("filter_by.is_pinned", "true"),
    ]
