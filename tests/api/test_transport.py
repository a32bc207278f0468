"""The transport edge of the client over real loopback connections: TLS failures, attempts and hints.

TLS failures that no retry can fix (a plain-HTTP server behind https://, a certificate that cannot be
verified) are configuration errors raised at once; every error the client raises records how many
attempts were made; a transient failure that was not retried says why. The client's clock and sleep
are injected: nothing here sleeps for real.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from brickbook.api import identity, workspace
from brickbook.client import Client
from brickbook.config import Config, RetrySettings
from brickbook.errors import (
    ConfigError,
    InternalError,
    ResourceAlreadyExists,
    TemporarilyUnavailable,
    TlsError,
    TransportError,
    Unauthenticated,
)
from brickbook.retry import NOT_RETRIED_HINT
from brickbook.tls import tls_error
from tests.conftest import ADMIN_TOKEN, CLIENT_ID, CLIENT_SECRET, Emulator
from tests.fakes import FakeTime

ME = "/api/2.0/preview/scim/v2/Me"
IMPORT = "/api/2.0/workspace/import"
CREATE_JOB = "/api/2.2/jobs/create"
PYTHON = workspace.Language.PYTHON


def pat_config(url: str, **retry: float) -> Config:
    return Config(host=url, auth_type="pat", token=ADMIN_TOKEN, retry=RetrySettings(**retry))  # type: ignore[arg-type]


def make_client(config: Config, time: FakeTime) -> Client:
    return Client(config, clock=time.clock, sleep=time.sleep, rng=lambda: 1.0)


def https_of(url: str) -> str:
    return url.replace("http://", "https://", 1)


# --- TLS --------------------------------------------------------------------------------------------


def test_https_to_a_plain_http_server_is_a_config_error_not_retried(emulator: Emulator):
    """https:// against the plain-HTTP emulator fails at once with exit 2, saying to check the scheme."""
    time = FakeTime()
    with make_client(pat_config(https_of(emulator.url)), time) as client, pytest.raises(TlsError) as info:
        identity.me(client)
    error = info.value
    assert isinstance(error, ConfigError)
    assert error.exit_code == 2
    assert error.error_code is None
    assert "does not speak TLS" in error.message
    assert "check the scheme" in (error.hint or "")
    assert time.sleeps == []
    assert error.attempts == 1
    assert emulator.requests(ME) == []


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    crypto = pytest.importorskip("cryptography")
    del crypto
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "brickbook test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def untrusted_tls_server(tmp_path: Path) -> Iterator[tuple[str, list[int]]]:
    """A loopback TLS server whose self-signed certificate no CA bundle trusts; yields (url, handshakes)."""
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    handshakes: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            handshakes.append(1)
            conn.settimeout(5)
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass  # the client refuses the certificate: exactly what the test provokes
            finally:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}", handshakes
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_untrusted_certificate_is_a_config_error_not_retried(
    untrusted_tls_server: tuple[str, list[int]], monkeypatch: pytest.MonkeyPatch
):
    """A certificate that cannot be verified fails at once (exit 2), naming the host, without retries."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    url, handshakes = untrusted_tls_server
    time = FakeTime()
    with make_client(pat_config(url), time) as client, pytest.raises(TlsError) as info:
        identity.me(client)
    assert info.value.exit_code == 2
    assert f"the TLS certificate of {url} could not be verified" in info.value.message
    assert "SSL_CERT_FILE" in (info.value.hint or "")
    assert time.sleeps == []
    assert len(handshakes) == 1


def _connect_error(cause: BaseException) -> httpx.ConnectError:
    error = httpx.ConnectError(str(cause))
    error.__cause__ = cause
    return error


def _ssl_error(cls: type[ssl.SSLError], reason: str) -> ssl.SSLError:
    error = cls(1, f"[SSL: {reason}] {reason.lower()}")
    error.reason = reason  # set by the ssl module on real errors
    return error


@pytest.mark.parametrize(
    ("cause", "host", "expected"),
    [
        (
            _ssl_error(ssl.SSLError, "WRONG_VERSION_NUMBER"),
            "https://adb-1.7.azuredatabricks.net",
            "speak TLS",
        ),
        (
            _ssl_error(ssl.SSLError, "RECORD_LAYER_FAILURE"),
            "https://adb-1.7.azuredatabricks.net",
            "speak TLS",
        ),
        (_ssl_error(ssl.SSLEOFError, "UNEXPECTED_EOF_WHILE_READING"), "https://127.0.0.1:9", "speak TLS"),
        (_ssl_error(ssl.SSLEOFError, "UNEXPECTED_EOF_WHILE_READING"), "https://adb-1.example.com", None),
        (_ssl_error(ssl.SSLError, "TLSV1_ALERT_PROTOCOL_VERSION"), "https://adb-1.example.com", "handshake"),
        (ConnectionRefusedError(111, "refused"), "https://127.0.0.1:9", None),
    ],
)
def test_tls_failure_classification(cause: BaseException, host: str, expected: str | None):
    """Plain HTTP behind https (anywhere), any handshake failure on loopback, and TLS alerts are
    configuration errors; a handshake cut short on the way to a remote host stays transient."""
    error = tls_error(_connect_error(cause), host=host, method="GET", path=ME)
    if expected is None:
        assert error is None
    else:
        assert error is not None
        assert expected in error.message
        assert host in error.message


# --- attempts and the "not retried" explanation ------------------------------------------------------


def test_retried_failure_records_its_attempts(emulator: Emulator):
    """A GET that keeps failing with 503 records every attempt made."""
    emulator.fault(pattern=f"GET {ME}", status=503, times=0)
    with (
        make_client(pat_config(emulator.url, max_attempts=3), FakeTime()) as client,
        pytest.raises(TemporarilyUnavailable) as info,
    ):
        identity.me(client)
    assert info.value.attempts == 3
    assert info.value.hint is None  # the command line adds "still failing after retries"


def test_unsafe_post_that_got_a_500_says_it_was_not_retried(emulator: Emulator):
    """A 500 on a non-idempotent POST is sent once and says it may or may not have been applied."""
    emulator.fault(pattern=f"POST {CREATE_JOB}", status=500)
    time = FakeTime()
    with make_client(pat_config(emulator.url), time) as client, pytest.raises(InternalError) as info:
        client.post(CREATE_JOB, {"name": "nightly"})
    assert info.value.attempts == 1
    assert info.value.hint == NOT_RETRIED_HINT
    assert "may or may not have been applied" in NOT_RETRIED_HINT
    assert time.sleeps == []
    assert len(emulator.requests(CREATE_JOB)) == 1


def test_lost_response_to_unsafe_post_says_it_was_not_retried(emulator: Emulator):
    """A dropped answer to a non-idempotent POST is not resent and says to check before retrying."""
    emulator.fault(pattern=f"POST {CREATE_JOB}", reset_connection=True, after_handler=True)
    with make_client(pat_config(emulator.url), FakeTime()) as client, pytest.raises(TransportError) as info:
        client.post(CREATE_JOB, {"name": "nightly"})
    assert (info.value.attempts, info.value.hint) == (1, NOT_RETRIED_HINT)


def test_single_attempt_budget_says_so(emulator: Emulator):
    """With one attempt allowed, a failing GET says the budget, not the safety, stopped the retries."""
    emulator.fault(pattern=f"GET {ME}", status=503)
    with (
        make_client(pat_config(emulator.url, max_attempts=1), FakeTime()) as client,
        pytest.raises(TemporarilyUnavailable) as info,
    ):
        identity.me(client)
    assert info.value.attempts == 1
    assert "BRICKBOOK_MAX_ATTEMPTS" in (info.value.hint or "")


def test_retry_after_beyond_the_deadline_says_so(emulator: Emulator):
    """A 429 asking for a wait longer than the retry deadline is not waited for, and says so."""
    emulator.fault(pattern=f"GET {ME}", status=429, retry_after="90")
    time = FakeTime()
    with (
        make_client(pat_config(emulator.url, timeout_seconds=30), time) as client,
        pytest.raises(Exception) as info,
    ):
        identity.me(client)
    assert time.sleeps == []
    assert "asked to wait 90 s" in (getattr(info.value, "hint", None) or "")


def test_not_found_carries_no_retry_hint(emulator: Emulator):
    """A failure that is not transient gets no retry hint at all."""
    with make_client(pat_config(emulator.url), FakeTime()) as client, pytest.raises(Exception) as info:
        client.get("/api/2.0/workspace/get-status", {"path": "/nope"})
    assert getattr(info.value, "hint", "x") is None
    assert getattr(info.value, "attempts", None) == 1


# --- workspace import with overwrite is idempotent ------------------------------------------------------


def test_lost_response_to_import_with_overwrite_is_retried(emulator: Emulator):
    """An import with overwrite whose answer was lost (applied, then the connection dropped) is resent."""
    emulator.fault(pattern=f"POST {IMPORT}", reset_connection=True, after_handler=True)
    time = FakeTime()
    with make_client(pat_config(emulator.url), time) as client:
        workspace.import_(client, "/Shared/a", b"print(1)\n", language=PYTHON, overwrite=True)
        assert workspace.get_status(client, "/Shared/a").object_type == workspace.ObjectType.NOTEBOOK
    assert len(time.sleeps) == 1
    assert [e["status"] for e in emulator.requests(IMPORT)][-1] == 200
    assert len(emulator.requests(IMPORT)) == 2


def test_lost_response_to_import_without_overwrite_is_not_resent(emulator: Emulator):
    """Without overwrite, a resent import would fail on its own first copy: it is sent once."""
    emulator.fault(pattern=f"POST {IMPORT}", reset_connection=True, after_handler=True)
    with make_client(pat_config(emulator.url), FakeTime()) as client:
        with pytest.raises(TransportError) as info:
            workspace.import_(client, "/Shared/b", b"print(1)\n", language=PYTHON)
        assert info.value.hint == NOT_RETRIED_HINT
        with pytest.raises(ResourceAlreadyExists):  # it was applied: hence "check before retrying"
            workspace.import_(client, "/Shared/b", b"print(1)\n", language=PYTHON)
    assert len(emulator.requests(IMPORT)) == 2


# --- OAuth token requests are not retried twice over --------------------------------------------------


def test_failing_token_endpoint_is_retried_once_over(emulator: Emulator):
    """A token endpoint that stays unavailable is tried max_attempts times in all, not squared."""
    emulator.fault(pattern="POST /oidc/v1/token", status=503, times=0)
    config = Config(
        host=emulator.url,
        auth_type="oauth-m2m",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        retry=RetrySettings(max_attempts=3),
    )
    with make_client(config, FakeTime()) as client, pytest.raises(TemporarilyUnavailable) as info:
        identity.me(client)
    assert info.value.attempts == 3
    assert len(emulator.requests("/oidc/v1/token")) == 3
    assert emulator.requests(ME) == []


def test_refused_client_secret_is_not_retried(emulator: Emulator):
    """A refused client secret fails after one token request, naming what to check."""
    config = Config(
        host=emulator.url, auth_type="oauth-m2m", client_id=CLIENT_ID, client_secret="wrong-secret-value"
    )
    with make_client(config, FakeTime()) as client, pytest.raises(Unauthenticated) as info:
        identity.me(client)
    assert "DATABRICKS_CLIENT_SECRET" in info.value.message
    assert len(emulator.requests("/oidc/v1/token")) == 1


def _oauth_config(url: str) -> Config:
    return Config(host=url, auth_type="oauth-m2m", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


@pytest.mark.parametrize(
    "body",
    [
        "<html>not json</html>",
        {"token_type": "Bearer"},
        {"access_token": "tok-with\nnewline-0a1b", "expires_in": 3600},
        {"access_token": "tok-non-ascii-é-0a1b", "expires_in": 3600},
    ],
    ids=["not-json", "no-token", "newline", "non-ascii"],
)
def test_unusable_oauth_token_response_is_unauthenticated(emulator: Emulator, body: object):
    """A token response that is not JSON, lacks a token, or holds one unfit for a header is exit 3."""
    emulator.fault(pattern="POST /oidc/v1/token", status=200, body=body)
    with (
        make_client(_oauth_config(emulator.url), FakeTime()) as client,
        pytest.raises(Unauthenticated) as info,
    ):
        identity.me(client)
    assert info.value.exit_code == 3
    assert "no usable access_token" in info.value.message
    assert "0a1b" not in str(info.value)
    assert emulator.requests(ME) == []


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(1800, 1800.0), ("90", 90.0), ("soon", 3600.0), (None, 3600.0), (-5, 3600.0), ("nan", 3600.0)],
)
def test_odd_expires_in_means_an_hour(value: object, seconds: float):
    """A token lifetime that is not a positive number is taken to be the usual hour."""
    from brickbook.client import _lifetime

    assert _lifetime(value) == seconds
