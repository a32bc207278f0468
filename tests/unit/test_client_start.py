"""What building a client costs: no CA bundle for a plain-HTTP host, httpx's default for https."""

from __future__ import annotations

import ssl

from brickbook.client import _verify_for


def test_a_plain_http_host_gets_a_context_with_no_certificates_loaded():
    """An http:// host never handshakes: its client gets a bare context (reading the CA bundle costs ms)."""
    context = _verify_for("http://127.0.0.1:8765")
    assert isinstance(context, ssl.SSLContext)
    assert context.cert_store_stats()["x509_ca"] == 0
    assert context.verify_mode == ssl.CERT_REQUIRED  # were it ever used, it would refuse, not trust


def test_an_https_host_keeps_httpx_default_verification():
    """An https:// host verifies certificates exactly as httpx does by default."""
    assert _verify_for("https://adb-1.azuredatabricks.net") is True
