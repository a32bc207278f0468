"""The emulator's ``clusters/events``: every lifecycle change is an event, filtered and paged."""

from __future__ import annotations

from typing import Any

from tests.emulator.harness import ADMIN, Emu
from tests.emulator.test_clusters import action, create, get

EVENTS = "/api/2.1/clusters/events"


def events(emu: Emu, cluster_id: str, **body: Any) -> dict[str, Any]:
    response = emu.post(EVENTS, json={"cluster_id": cluster_id, **body})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def types(answer: dict[str, Any]) -> list[str]:
    return [event["type"] for event in answer.get("events", [])]


def test_a_cluster_lifecycle_is_logged_newest_first(emu: Emu):
    """create, run, resize, restart, edit, pin, terminate: each is an event with the real details."""
    cluster_id = create(emu)
    emu.clock.advance(1)
    assert get(emu, cluster_id)["state"] == "RUNNING"
    assert action(emu, "resize", cluster_id, num_workers=4).status_code == 200
    emu.clock.advance(1)
    assert action(emu, "restart", cluster_id).status_code == 200
    emu.clock.advance(1)
    assert action(emu, "pin", cluster_id).status_code == 200
    assert action(emu, "delete", cluster_id).status_code == 200
    emu.clock.advance(1)
    answer = events(emu, cluster_id)
    assert types(answer) == [
        "TERMINATING",
        "PINNED",
        "RUNNING",
        "RESTARTING",
        "UPSIZE_COMPLETED",
        "RESIZING",
        "RUNNING",
        "CREATING",
    ]
    assert answer["total_count"] == 8
    assert "next_page" not in answer
    by_type = {event["type"]: event for event in reversed(answer["events"])}
    assert all(event["cluster_id"] == cluster_id for event in answer["events"])
    assert by_type["CREATING"]["details"]["user"] == ADMIN
    assert by_type["RESIZING"]["details"] == {
        "current_num_workers": 2,
        "target_num_workers": 4,
        "user": ADMIN,
    }
    assert by_type["TERMINATING"]["details"]["reason"]["code"] == "USER_REQUEST"
    stamps = [event["timestamp"] for event in answer["events"]]
    assert stamps == sorted(stamps, reverse=True)


def test_edit_and_start_and_idle_stop_are_events(emu: Emu):
    """EDITED carries the old and new attributes; STARTING the user; an idle stop says INACTIVITY."""
    cluster_id = create(emu, autotermination_minutes=10)
    emu.clock.advance(1)
    assert get(emu, cluster_id)["state"] == "RUNNING"
    emu.clock.advance(601)
    assert get(emu, cluster_id)["state"] == "TERMINATED"
    spec = {**get(emu, cluster_id)["spec"], "cluster_name": "renamed"}
    assert action(emu, "edit", cluster_id, **spec).status_code == 200
    assert action(emu, "start", cluster_id).status_code == 200
    answer = events(emu, cluster_id, order="ASC")
    assert types(answer) == ["CREATING", "RUNNING", "TERMINATING", "EDITED", "STARTING"]
    idle, edited, started = answer["events"][2:]
    assert idle["details"]["reason"]["code"] == "INACTIVITY"
    assert edited["details"]["previous_attributes"]["cluster_name"] == "etl"
    assert edited["details"]["attributes"]["cluster_name"] == "renamed"
    assert started["details"] == {"user": ADMIN}


def test_a_failed_start_is_a_terminating_event_with_the_reason(emu: Emu):
    cluster_id = create(emu, spark_conf={"brickbook.emulator.fail_start": "true"})
    emu.clock.advance(2)
    answer = events(emu, cluster_id, event_types=["TERMINATING"])
    assert types(answer) == ["TERMINATING"]
    assert answer["events"][0]["details"]["reason"]["code"] == "SPARK_STARTUP_FAILURE"


def test_filters_by_type_and_time_window(emu: Emu):
    cluster_id = create(emu)
    emu.clock.advance(1)
    get(emu, cluster_id)
    created, ran = (event["timestamp"] for event in events(emu, cluster_id, order="ASC")["events"])
    assert types(events(emu, cluster_id, event_types=["RUNNING", "PINNED"])) == ["RUNNING"]
    assert types(events(emu, cluster_id, start_time=ran)) == ["RUNNING"]
    assert types(events(emu, cluster_id, end_time=created)) == ["CREATING"]
    assert types(events(emu, cluster_id, start_time=ran + 1)) == []


def test_offset_and_limit_pages_follow_next_page(emu: Emu):
    """Each answer's next_page is the request for the next page; total_count counts them all."""
    cluster_id = create(emu)
    emu.clock.advance(1)
    for _ in range(3):
        assert action(emu, "pin", cluster_id).status_code == 200
        assert action(emu, "unpin", cluster_id).status_code == 200
    seen: list[str] = []
    body: dict[str, Any] = {"cluster_id": cluster_id, "limit": 3}
    while True:
        answer = events(emu, **body)
        assert answer["total_count"] == 8
        seen += types(answer)
        if "next_page" not in answer:
            break
        body = answer["next_page"]
    assert seen == ["UNPINNED", "PINNED"] * 3 + ["RUNNING", "CREATING"]
    tokened = events(emu, cluster_id, page_size=5)
    assert len(tokened["events"]) == 5 and tokened["next_page_token"]
    rest = events(emu, cluster_id, page_token=tokened["next_page_token"], page_size=5)
    assert types(rest) == ["PINNED", "RUNNING", "CREATING"] and rest["prev_page_token"]


def test_bad_requests_are_refused(emu: Emu):
    cluster_id = create(emu)
    for body, text in [
        ({"order": "SIDEWAYS"}, "order must be ASC or DESC"),
        ({"limit": 501}, "limit must be at most 500"),
        ({"limit": -1}, "limit must be a non-negative integer"),
        ({"event_types": "RUNNING"}, "event_types must be a list"),
        ({"start_time": "yesterday"}, "start_time must be a non-negative integer"),
        ({"page_token": "garbage"}, "Invalid page token"),
    ]:
        response = emu.post(EVENTS, json={"cluster_id": cluster_id, **body})
        assert response.status_code == 400, body
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert text in response.json()["message"]
    missing = emu.post(EVENTS, json={"cluster_id": "0000-000000-nothere1"})
    assert missing.status_code == 400
    assert "Cluster 0000-000000-nothere1 does not exist" in missing.json()["message"]
    assert emu.post(EVENTS, json={}).json()["message"] == "Missing required field: cluster_id"
