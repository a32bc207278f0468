"""Load generator for the emulator's capacity: keep-alive GETs on one connection for a fixed time.

``python capacity.py URL TOKEN SECONDS``: sends ``GET /api/2.0/preview/scim/v2/Me`` back to back over
one keep-alive connection (the standard library's ``http.client``, the cheapest client at hand, so the
emulator is the bottleneck) and prints the requests per second it got answered with 200.
"""

from __future__ import annotations

import http.client
import sys
import time
from urllib.parse import urlsplit


def main(url: str, token: str, seconds: float) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    done = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        connection.request("GET", "/api/2.0/preview/scim/v2/Me", headers=headers)
        answer = connection.getresponse()
        answer.read()
        if answer.status != 200:
            raise SystemExit(f"GET /Me answered {answer.status}")
        done += 1
    print(f"{done / (time.perf_counter() - started):.1f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
