"""Emulator load: concurrent clients of mixed reads and writes across every area for a fixed time.

``load_clients`` threads (16 for ``full``) each send, for ``load_seconds`` (60 s full, 10 s ci), an
even mix of reads (lists and gets of workspace, DBFS, clusters, jobs, runs, secrets, MLflow, Unity
Catalog, warehouses, SCIM, pools, policies, repos, tokens) and writes (workspace import, DBFS put,
secrets put, jobs create, MLflow run + metric, Unity Catalog schema) to an emulator on a data directory.
Required: 0 unexpected 5xx or dropped connections, and every client finishes (no deadlock); p50 and
p99 latency and requests per second are reported.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter

from reliability.harness import Figure, Harness, SuiteResult, count_figure
from reliability.workload import KINDS, READS, SECRET_VALUE, Down, Http, ServerError, prepare, write

__all__ = ["NAME", "TITLE", "run"]

NAME = "load"
TITLE = "6b. Emulator under load"
GRACE_SECONDS = 60  # after the deadline, a client still busy this long is stuck


class _Tally:
    """What the clients saw, under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.refused: Counter[str] = Counter()  # 4xx answers, by what was refused

    def add(self, seconds: float, failure: str | None = None, refused: str | None = None) -> None:
        with self.lock:
            self.latencies.append(seconds)
            if failure is not None:
                self.failures.append(failure)
            if refused is not None:
                self.refused[refused] += 1


def run(h: Harness) -> SuiteResult:
    """Run the clients against one emulator and report throughput, latency and failures."""
    h.secrets.register(SECRET_VALUE, "load: secret value")
    clients, seconds = h.size.count("load_clients"), h.size.count("load_seconds")
    rng = h.rng(NAME)
    tally = _Tally()
    with h.emulator(NAME) as emulator:
        prepare(Http(emulator.url))
        deadline = time.perf_counter() + seconds
        seeds = [rng.random() for _ in range(clients)]
        threads = [
            threading.Thread(
                target=_client, args=(emulator.url, f"c{c}", seeds[c], deadline, tally), daemon=True
            )
            for c in range(clients)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, deadline - time.perf_counter()) + GRACE_SECONDS)
        elapsed = time.perf_counter() - started
        stuck = sum(thread.is_alive() for thread in threads)
    latencies = sorted(tally.latencies)
    p50 = statistics.median(latencies) * 1000 if latencies else 0.0
    p99 = latencies[int(0.99 * (len(latencies) - 1))] * 1000 if latencies else 0.0
    return SuiteResult(
        name=NAME,
        title=TITLE,
        description=(__doc__ or "").strip().split("\n\n", 1)[0].replace("\n", " "),
        command=h.command(NAME),
        figures=[
            Figure("clients x seconds", f"{clients} x {seconds}"),
            Figure(
                "operations (an MLflow write is three requests)", len(latencies), "> 0", len(latencies) > 0
            ),
            Figure("operations per second", round(len(latencies) / elapsed, 1)),
            Figure("latency p50, ms", round(p50, 1)),
            Figure("latency p99, ms", round(p99, 1)),
            count_figure("unexpected 5xx, dropped connections or client failures", len(tally.failures), 0),
            count_figure("clients that did not finish (deadlock)", stuck, 0),
            count_figure("4xx answers (every name is unique)", sum(tally.refused.values()), 0),
        ],
        notes=[
            *(f"failed: {failure}" for failure in tally.failures[:20]),
            *(f"refused (4xx): {what}: {count}" for what, count in tally.refused.most_common(10)),
        ],
    )


def _client(url: str, name: str, seed: float, deadline: float, tally: _Tally) -> None:
    """Alternate reads and writes at random until the deadline."""
    import random

    rng = random.Random(seed)
    http = Http(url)
    count = 0
    while time.perf_counter() < deadline:
        count += 1
        started = time.perf_counter()
        try:
            if rng.random() < 0.5:
                path = rng.choice(READS)
                answer = http.call("GET", path)
                failure = f"GET {path}: HTTP {answer.status}" if answer.status >= 500 else None
                refused = f"GET {path.split('?')[0]}: {answer.status}" if 400 <= answer.status < 500 else None
                tally.add(answer.seconds, failure, refused)
            else:
                kind = rng.choice(KINDS)
                done = write(http, kind, f"{name}n{count}")
                tally.add(time.perf_counter() - started, refused=f"{kind} write" if done is None else None)
        except ServerError as failed:
            tally.add(time.perf_counter() - started, str(failed))
        except Down as down:
            tally.add(time.perf_counter() - started, f"no answer: {down}")
        except Exception as failed:  # a client that breaks is a finding, never a silent stop
            tally.add(time.perf_counter() - started, f"client failed: {failed!r}")
            return
