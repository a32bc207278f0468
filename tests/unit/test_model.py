"""Typed results tolerate unknown fields and enum values and keep the raw API object."""

from __future__ import annotations

from dataclasses import dataclass

from brickbook.api.model import ApiObject, OpenEnum


class Color(OpenEnum):
    RED = "RED"


@dataclass(frozen=True)
class Thing(ApiObject):
    path: str = ""
    color: Color | None = None


def test_unknown_fields_are_kept_in_raw():
    """Fields the class does not name survive in raw."""
    thing = Thing.from_api({"path": "/x", "new_field": 1})
    assert thing.path == "/x"
    assert thing.raw["new_field"] == 1


def test_unknown_enum_value_becomes_a_member():
    """An enum value brickbook has never seen is accepted, and known ones are the real members."""
    assert Thing.from_api({"color": "PURPLE"}).color == "PURPLE"
    assert Thing.from_api({"color": "RED"}).color is Color.RED


def test_missing_object_gives_defaults():
    """None or {} gives the defaults."""
    assert Thing.from_api(None) == Thing()
