"""Soak under faults: many `runbook.deploy-notebook-job` and `runbook.run-job` processes, all must succeed.

One emulator (clusters start at once, notebooks end at once) with faults armed on every route through
the control API: 15% of requests answer 503, bursts of 429 with `Retry-After`, 5% of connections reset
before the handler, 10% of the answers to mutating requests lost after the handler ran (the state change
is kept; the client sees a 503 or a dropped connection), random latency, and the `realistic` rate-limit
preset. Invocations run four at a time; each deploy worker owns its job name. Afterwards, with the
faults cleared, the suite counts through the emulator's own state: runs per job, jobs per name, clusters
left running, statements started. Retries are counted from the `http.retry` log events by kind, the
rate limiter's adjustments from `throttle.rate_changed`.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from reliability.harness import (
    CLUSTER,
    Completed,
    Emulator,
    Figure,
    Harness,
    SuiteResult,
    count_figure,
    describe,
    log_events,
    notebook_job,
)

__all__ = ["NAME", "TITLE", "run"]

NAME = "soak"
TITLE = "1. Soak under faults"
WORKERS = 4
NOTEBOOK = '# Databricks notebook source\ndbutils.notebook.exit("soaked")\n'
EMULATOR_OPTIONS = ("--cluster-start-seconds", "0", "--warehouse-start-seconds", "0")
SP = "soak-sp-client"


def _credentials(h: Harness, rng: Any) -> tuple[str, str, str]:
    """A user token, an OAuth client secret and a secret value for this run, registered for the leak scan."""
    user_token = h.secrets.register(f"dapi{rng.getrandbits(128):032x}", "user token")
    client_secret = h.secrets.register(f"dose{rng.getrandbits(128):032x}", "OAuth client secret")
    value = h.secrets.register(f"s3cr3t-{rng.getrandbits(96):024x}", "secret value")
    return user_token, client_secret, value


def use_credentials(h: Harness, env: dict[str, str], credentials: tuple[str, str, str]) -> int:
    """Handle each credential the way users do, with --debug (every HTTP call logged); return the calls.

    Their output and logs join the capture that the leak scan reads; failures (the service principal
    has no ACL on the scope) are fine: an error message must not leak either.
    """
    user_token, client_secret, value = credentials
    as_user = {**env, "DATABRICKS_TOKEN": user_token}
    as_sp = {k: v for k, v in env.items() if k != "DATABRICKS_TOKEN"}
    as_sp.update(DATABRICKS_CLIENT_ID=SP, DATABRICKS_CLIENT_SECRET=client_secret)
    calls: list[tuple[list[str], dict[str, str]]] = [  # the value also goes in on stdin, below
        (["secrets.create-scope", "--scope", "soak", "--debug"], env),
        (["secrets.put", "--scope", "soak", "--key", "value", "--string-value", value, "--debug"], env),
        (["secrets.put", "--scope", "soak", "--key", "again", "--debug", "-o", "json"], env),
        (["secrets.list", "--scope", "soak", "--debug"], as_sp),
        (["secrets.list-scopes", "--debug", "-o", "json"], as_user),
        (["jobs.list", "--debug"], as_sp),
    ]
    for args, call_env in calls:
        h.run_cli(args, call_env, label=f"soak credentials {args[0]}", stdin=value + "\n")
    return len(calls)


def arm_faults(emu: Emulator, rng: Any, expected_requests: int) -> int:
    """Arm the soak's faults and the realistic rate-limit preset; return how many rules were armed."""
    rules: list[dict[str, Any]] = []
    # Lost responses first, so that a mutating request meets them at their full rate.
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        rules.append({"pattern": f"{method} /api/*", "status": 503, "after_handler": True,
                      "times": 0, "probability": 0.05})  # fmt: skip
        rules.append({"pattern": f"{method} /api/*", "reset_connection": True, "after_handler": True,
                      "times": 0, "probability": 0.05})  # fmt: skip
    # Bursts of 429: a few consecutive requests each, at seeded moments of the whole soak.
    for _ in range(max(3, expected_requests // 150)):
        rules.append({"pattern": "* /api/*", "status": 429, "retry_after": "1", "times": rng.randint(2, 5),
                      "offset": rng.randrange(max(1, expected_requests))})  # fmt: skip
    rules.append({"pattern": "* /api/*", "status": 503, "times": 0, "probability": 0.15})
    rules.append({"pattern": "* /api/*", "reset_connection": True, "times": 0, "probability": 0.05})
    for latency, share in ((20, 0.2), (150, 0.05), (600, 0.01)):
        rules.append({"pattern": "* /api/*", "latency_ms": latency, "times": 0, "probability": share})
    for rule in rules:
        emu.call("POST", "/_emulator/faults", rule)
    emu.call("POST", "/_emulator/rate-limits", {"preset": "realistic"})
    return len(rules)


def _clear_faults(emu: Emulator) -> None:
    emu.call("DELETE", "/_emulator/faults")
    emu.call("DELETE", "/_emulator/rate-limits")


def _paged(emu: Emulator, path: str, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token = ""
    while True:
        sep = "&" if "?" in path else "?"
        page = emu.call("GET", f"{path}{sep}page_token={token}" if token else path)
        items += page.get(key) or []
        token = page.get("next_page_token") or ""
        if not token:
            return items


def _runs(emu: Emulator, job_id: int) -> list[dict[str, Any]]:
    return _paged(emu, f"/api/2.2/jobs/runs/list?job_id={job_id}&limit=25", "runs")


def _report(done: Completed) -> dict[str, Any]:
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _run_ids(report: dict[str, Any]) -> list[int]:
    return [int(run["run_id"]) for run in report.get("runs") or [] if "run_id" in run]


def run(h: Harness) -> SuiteResult:
    """Run the soak; see the module docstring for what is checked."""
    count = h.size.count("soak_invocations")
    rng = h.rng(NAME)
    notebook = h.work / "soak" / "soaked.py"
    notebook.parent.mkdir(parents=True, exist_ok=True)
    notebook.write_text(NOTEBOOK)
    state = h.work / "soak" / "state"
    results: dict[str, list[tuple[str, Completed]]] = {"deploy": [], "run": []}
    lock = threading.Lock()
    credentials = _credentials(h, rng)
    user_token, client_secret, _ = credentials
    principals = ("--user", f"alice@example.com={user_token}", "--oauth-client", f"{SP}:{client_secret}")
    with h.emulator(NAME, extra=(*EMULATOR_OPTIONS, *principals)) as emu:
        env = h.env(emu, NAME)
        use_credentials(h, env, credentials)
        clusters = [
            emu.call("POST", "/api/2.1/clusters/create", {"cluster_name": f"soak-{w}", **CLUSTER})[
                "cluster_id"
            ]
            for w in range(WORKERS)
        ]
        for cluster in clusters:
            emu.call("POST", "/api/2.1/clusters/delete", {"cluster_id": cluster})
        target = notebook_job(emu, "soak-target", "/Shared/soak/target")
        emu.call("POST", "/api/2.0/workspace/mkdirs", {"path": "/Shared/soak"})
        setup = h.run_cli(["workspace.import", str(notebook), "/Shared/soak/target", "--overwrite"], env)
        if setup.code != 0:
            raise RuntimeError(f"soak setup failed: {setup.stderr[-500:]}")
        armed = arm_faults(emu, rng, expected_requests=count * 2 * 12)  # ~12 requests an invocation

        def deploy(i: int) -> None:
            worker = i % WORKERS
            compute = (
                ["--cluster-id", clusters[worker]]
                if worker % 2 == 0
                else ["--new-cluster", json.dumps(CLUSTER)]
            )
            args = ["runbook.deploy-notebook-job", str(notebook), "--dest", f"/Shared/soak/job-{worker}",
                    *compute, "--key", f"deploy-{i}", "--state-dir", str(state), "-o", "json"]  # fmt: skip
            done = h.run_cli(args, env, label=f"soak deploy {i}")
            with lock:
                results["deploy"].append((f"job-{worker}", done))

        def trigger(i: int) -> None:
            args = [
                "runbook.run-job",
                str(target),
                "--key",
                f"run-{i}",
                "--state-dir",
                str(state),
                "-o",
                "json",
            ]
            done = h.run_cli(args, env, label=f"soak run-job {i}")
            with lock:
                results["run"].append(("soak-target", done))

        # Deploy invocations of one name run one after another (a worker each); run-job ones interleave.
        def lane(worker: int) -> None:
            for i in range(worker, count, WORKERS):
                deploy(i)

        tasks: list[Callable[[], None]] = [lambda w=w: lane(w) for w in range(WORKERS)]  # type: ignore[misc]
        with ThreadPoolExecutor(WORKERS) as pool:
            lanes = [pool.submit(task) for task in tasks]
            triggers = [pool.submit(trigger, i) for i in range(count)]
            for future in [*lanes, *triggers]:
                future.result()
        journal = emu.requests()
        _clear_faults(emu)
        return _verdict(
            h, emu=emu, results=results, journal=journal, clusters=clusters, count=count, armed=armed
        )


def _verdict(
    h: Harness,
    *,
    emu: Emulator,
    results: dict[str, list[tuple[str, Completed]]],
    journal: list[dict[str, Any]],
    clusters: list[str],
    count: int,
    armed: int,
) -> SuiteResult:
    """Count what the emulator holds now and what the processes logged."""
    everything = results["deploy"] + results["run"]
    succeeded = sum(1 for _, done in everything if done.code == 0)
    notes = [
        f"{name}: exit {done.code}: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}"
        for name, done in everything
        if done.code != 0
    ][:10]
    # Exactly one run per invocation, counted in the emulator: each job's runs against its invocations.
    jobs = _paged(emu, "/api/2.2/jobs/list?limit=100", "jobs")
    per_name = Counter(job["settings"]["name"] for job in jobs)
    invocations = Counter(name for name, _ in everything)
    extra_runs = missing_runs = 0
    for job in jobs:
        name = job["settings"]["name"]
        runs = len(_runs(emu, int(job["job_id"])))
        extra_runs += max(0, runs - invocations[name])
        missing_runs += max(0, invocations[name] - runs)
    reported = [run_id for _, done in everything for run_id in _run_ids(_report(done))]
    duplicates = len(reported) - len(set(reported))
    # The soak's all-purpose clusters (started by deploy-notebook-job, to be put back) and every job
    # cluster the runs made: none may still be up.
    listed = _paged(emu, "/api/2.1/clusters/list?page_size=100", "clusters")
    running_clusters = [
        c["cluster_id"] for c in listed if c.get("state") not in ("TERMINATED", "TERMINATING")
    ]
    job_clusters = sum(1 for c in listed if c["cluster_id"] not in clusters)
    statements = sum(
        1 for e in journal if e["method"] == "POST" and str(e["path"]).startswith("/api/2.0/sql/statements")
    )
    retries: Counter[str] = Counter()
    adjustments: Counter[str] = Counter()
    for _, done in everything:
        for event in log_events(done.stderr):
            if event.get("event") == "http.retry":
                retries[str(event.get("kind") or "other")] += 1
            elif event.get("event") == "throttle.rate_changed":
                adjustments[str(event.get("reason"))] += 1
    statuses = Counter("dropped" if e["status"] is None else str(e["status"]) for e in journal)
    figures = [
        count_figure("invocations that succeeded", succeeded, len(everything)),
        Figure(
            "invocations",
            f"{len(results['deploy'])} deploy-notebook-job + {len(results['run'])} run-job",
            f"{count} + {count}",
            len(results["deploy"]) == count == len(results["run"]),
        ),
        count_figure("runs beyond one per invocation (emulator's count)", extra_runs, 0),
        count_figure("invocations without a run (emulator's count)", missing_runs, 0),
        count_figure("run ids reported twice", duplicates, 0),
        count_figure("job names with more than one job", sum(1 for n in per_name.values() if n > 1), 0),
        count_figure("clusters a runbook started left running", len(running_clusters), 0),
        Figure("clusters checked (all-purpose + job clusters)", f"{len(clusters)} + {job_clusters}"),
        count_figure("SQL statements left running (none are started)", statements, 0),
        Figure("requests the emulator journalled", len(journal)),
        Figure("answers by status", ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))),
        Figure("fault rules armed (+ the realistic rate-limit preset)", armed),
        Figure("retries by kind", ", ".join(f"{k}: {v}" for k, v in sorted(retries.items())) or "none"),
        Figure(
            "rate-limiter adjustments",
            ", ".join(f"{k}: {v}" for k, v in sorted(adjustments.items())) or "none",
        ),
        Figure("slowest invocation (s)", round(max((d.seconds for _, d in everything), default=0.0), 1)),
    ]
    return SuiteResult(
        name=NAME,
        title=TITLE,
        description=describe(__doc__),
        command=h.command(NAME),
        figures=figures,
        notes=notes,
    )
