"""Secrets ops called directly with a Context on a real client: scopes, secrets and their deploy record."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from brickbook.change import Action
from brickbook.context import Context
from brickbook.errors import ResourceDoesNotExist, UsageError
from brickbook.ops.secrets import apply_scope, apply_secret, digest, plan_scope, plan_secret, put
from tests.conftest import Emulator
from tests.ops.emulator_api import api

SECRETS = "/api/2.0/secrets"
VALUE = b"s3cr3t-db-password"


def writes(emulator: Emulator) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in emulator.requests(SECRETS) if r["method"] != "GET"]


def foreign_put(emulator: Emulator, scope: str, key: str, value: bytes) -> None:
    """Someone else writes the secret, a second later (the emulator's timestamps are its clock's)."""
    emulator.clock.advance(1)
    body = {"scope": scope, "key": key, "bytes_value": base64.b64encode(value).decode()}
    api(emulator, "POST", f"{SECRETS}/put", body)


@pytest.fixture
def scope(emulator: Emulator) -> str:
    api(emulator, "POST", f"{SECRETS}/scopes/create", {"scope": "etl"})
    emulator.control("DELETE", "requests")
    return "etl"


def deployed(ctx: Context, value: bytes = VALUE) -> str:
    """Deploy ``value`` as etl/db-password and return the record to keep."""
    _, record = apply_secret(ctx, plan_secret(ctx, "etl", "db-password", value, deployed_digest=None))
    return record


def test_plan_scope_creates_a_missing_scope_once(ctx: Context, emulator: Emulator):
    """A missing scope plans a create (reads only); applied, it is there and plans unchanged."""
    change = plan_scope(ctx, "etl")
    assert (change.action, change.target) == (Action.CREATE, "secret scope etl")
    assert writes(emulator) == []
    assert apply_scope(ctx, change) == change
    assert plan_scope(ctx, "ETL").action is Action.UNCHANGED  # scope names are case-insensitive


def test_a_scope_created_meanwhile_is_not_a_failure(ctx: Context, emulator: Emulator):
    """A scope that appeared between plan and apply comes back unchanged."""
    change = plan_scope(ctx, "etl")
    api(emulator, "POST", f"{SECRETS}/scopes/create", {"scope": "etl"})
    assert apply_scope(ctx, change).action is Action.UNCHANGED


def test_plan_secret_in_a_missing_scope_is_a_create(ctx: Context, emulator: Emulator):
    """The scope is planned apart: a secret in a scope not made yet is a create, and nothing is written."""
    change = plan_secret(ctx, "etl", "db-password", VALUE, deployed_digest=None)
    assert (change.action, change.reason) == (Action.CREATE, "the scope does not exist yet")
    assert writes(emulator) == []


def test_a_deployed_secret_with_its_record_is_unchanged(ctx: Context, emulator: Emulator, scope: str):
    """With the record apply returned, the same value plans unchanged and applying it writes nothing."""
    record = deployed(ctx)
    emulator.control("DELETE", "requests")
    change = plan_secret(ctx, scope, "db-password", VALUE, deployed_digest=record)
    assert (change.action, change.reason) == (Action.UNCHANGED, "same value as the last deploy")
    assert apply_secret(ctx, change) == (change, record)
    assert writes(emulator) == []


def test_another_value_is_an_update_of_the_value(ctx: Context, scope: str):
    """A value other than the recorded one plans an update of the field 'value'."""
    record = deployed(ctx)
    change = plan_secret(ctx, scope, "db-password", b"rotated", deployed_digest=record)
    assert (change.action, change.fields, change.reason) == (
        Action.UPDATE,
        ("value",),
        "the value differs from the last deploy",
    )


def test_a_secret_written_by_someone_else_since_is_an_update(ctx: Context, emulator: Emulator, scope: str):
    """A newer last_updated_timestamp than the record's means another writer: the value is put again."""
    record = deployed(ctx)
    foreign_put(emulator, scope, "db-password", b"theirs")
    change = plan_secret(ctx, scope, "db-password", VALUE, deployed_digest=record)
    assert (change.action, change.reason) == (Action.UPDATE, "written by someone else since the last deploy")
    _, new_record = apply_secret(ctx, change)
    assert (
        plan_secret(ctx, scope, "db-password", VALUE, deployed_digest=new_record).action is Action.UNCHANGED
    )


def test_without_a_readable_record_the_secret_is_written_again(ctx: Context, scope: str):
    """No record, or one brickbook did not make, plans an update: the API never returns the value."""
    deployed(ctx)
    assert plan_secret(ctx, scope, "db-password", VALUE, deployed_digest=None).reason == (
        "no record of the value deployed"
    )
    assert plan_secret(ctx, scope, "db-password", VALUE, deployed_digest=digest(VALUE)).reason == (
        "the deploy record is unreadable"
    )


def test_the_value_is_in_no_visible_part_of_a_change_or_record(ctx: Context, scope: str):
    """Neither the change's target, fields, reason, repr or JSON form, nor the record, holds the value."""
    change = plan_secret(ctx, scope, "db-password", VALUE, deployed_digest=None)
    shown = [change.target, *change.fields, change.reason, repr(change), json.dumps(change.to_dict())]
    _, record = apply_secret(ctx, change)
    for text in (*shown, record):
        assert VALUE.decode() not in text
        assert digest(VALUE) not in text  # not even a bare hash a guess could be checked against


def test_an_oversized_value_is_refused_before_any_request(ctx: Context, emulator: Emulator):
    """A value over 128 KB is a UsageError at plan time; nothing is sent."""
    with pytest.raises(UsageError, match="over the 128 KB limit"):
        plan_secret(ctx, "etl", "big", b"x" * (128 * 1024 + 1), deployed_digest=None)
    assert emulator.requests(SECRETS) == []


def test_digest_is_the_sha256_of_the_value():
    """digest() is the SHA-256 of the value in hex."""
    assert digest(VALUE) == hashlib.sha256(VALUE).hexdigest()


def test_put_into_a_missing_scope_hints_how_to_create_it(ctx: Context):
    """The secrets.put op keeps the service's RESOURCE_DOES_NOT_EXIST and adds how to create the scope."""
    with pytest.raises(ResourceDoesNotExist) as caught:
        put(ctx, "nope", "k", "v")
    assert caught.value.hint == "create the scope with: brickbook secrets.create-scope nope"
