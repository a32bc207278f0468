"""The secret registry: a registered secret is masked in every form a code path could print it in."""

from __future__ import annotations

import base64
import io
import json
import urllib.parse

import pytest

from brickbook.errorbody import api_error_from_response
from brickbook.log import configure_logging, get_logger
from brickbook.redaction import MASK, printable, redact, register_basic_auth, register_secret

# A token as a careless paste leaves it: a line break, a quote and a non-ASCII character inside.
AWKWARD = "dapi-redact-0a1b2c\nmore'quote\"é/+"


@pytest.fixture(scope="module", autouse=True)
def _registered() -> None:
    register_secret(AWKWARD)


@pytest.mark.parametrize(
    "printed",
    [
        AWKWARD,
        f"Bearer {AWKWARD}",
        repr(AWKWARD),
        repr(f"Bearer {AWKWARD}"),
        repr(f"Bearer {AWKWARD}".encode()),
        f"Illegal header value {f'Bearer {AWKWARD}'.encode()!r}",
        json.dumps({"Authorization": f"Bearer {AWKWARD}"}),
        json.dumps(AWKWARD, ensure_ascii=False),
        urllib.parse.quote(AWKWARD, safe=""),
        urllib.parse.urlencode({"token": AWKWARD}),
        base64.b64encode(AWKWARD.encode()).decode(),
        " ".join(f"token was {AWKWARD} here".split()),
    ],
    ids=[
        "raw",
        "bearer",
        "repr",
        "repr-bearer",
        "bytes-repr",
        "httpx-illegal-header",
        "json",
        "json-unicode",
        "url-encoded",
        "query-string",
        "base64",
        "one-line",
    ],
)
def test_every_derived_form_is_masked(printed: str):
    """The raw secret, Bearer header, repr, bytes repr, JSON, URL, base64 and one-line forms are masked."""
    masked = redact(printed)
    assert MASK in masked
    assert "dapi-redact-0a1b2c" not in masked


def test_basic_auth_credential_is_masked():
    """The base64 of client_id:client_secret (HTTP Basic) is masked, as is the secret alone."""
    register_basic_auth("sp-redact-client", "dose-redact-secret-77")
    header = base64.b64encode(b"sp-redact-client:dose-redact-secret-77").decode()
    assert redact(f"Authorization: Basic {header}") == f"Authorization: Basic {MASK}"
    assert redact("secret dose-redact-secret-77") == f"secret {MASK}"


def test_bytes_secrets_are_masked_as_bytes_repr_and_base64():
    """A binary secret value is masked in its bytes repr and its base64."""
    value = b"\x00\xffbinary-secret-bytes"
    register_secret(value)
    assert MASK in redact(repr(value))
    assert MASK in redact(base64.b64encode(value).decode())


def test_undecodable_environment_value_can_be_registered():
    """A value holding surrogate escapes (undecodable bytes from the environment) registers without error."""
    value = "dapi-\udcff-surrogate-token"
    register_secret(value)
    assert redact(f"x {value} y") == f"x {MASK} y"


def test_short_values_are_not_registered():
    """Values under 4 characters would mask innocent text, so they are left alone."""
    register_secret("abc")
    assert redact("abcdef") == "abcdef"


def test_log_events_mask_bytes_and_objects():
    """Log values that are bytes or objects are rendered through their repr with secrets masked."""
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream)
    header = f"Bearer {AWKWARD}".encode()
    get_logger().warning("x", raw=header, nested={"items": [header]}, obj=ValueError(header))
    text = stream.getvalue()
    assert "dapi-redact-0a1b2c" not in text
    assert MASK in json.loads(text)["raw"]


def test_service_echo_is_masked_in_error_messages():
    """An error body that echoes the token (even cut to one line) never carries it into the message."""
    body = json.dumps({"error_code": "BAD_REQUEST", "message": f"bad header Bearer {AWKWARD}"}).encode()
    error = api_error_from_response(status=400, body=body, headers={}, method="GET", path="/p")
    assert "dapi-redact-0a1b2c" not in str(error)
    assert MASK in error.message


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain", "plain"),
        ("a\nb", "a\\nb"),
        ("\x1b[31mred", "\\x1b[31mred"),
        ("ünï", "ünï"),
        ("x" * 100, "x" * 77 + "..."),
    ],
)
def test_printable_escapes_and_shortens(text: str, shown: str):
    """Echoed values keep to one line: control characters escaped, long values shortened."""
    assert printable(text) == shown
