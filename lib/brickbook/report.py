"""The report every runbook invocation ends with, its text and JSON forms, and the webhook notification.

The report says what the invocation did: each step with its outcome (changed, unchanged, planned,
failed, skipped), reason, duration and changes; the runs it started or reattached to, with their page
URLs; the outputs the steps recorded; and, on failure, the error with its exit code. ``-o json`` prints
it as one JSON object (for CI and cron wrappers); text output is a short readable summary.

``--notify URL`` POSTs the same JSON plus a Slack-compatible ``text`` field. The URL often embeds a
secret (Slack and Teams put one in the path): it is registered for redaction, and logs and messages show
only its scheme and host. The POST goes through ``client.post_webhook``, which never sends the
workspace credentials; a failing notification is logged and never changes the exit code.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from brickbook.change import Change
from brickbook.errors import BrickbookError, UsageError
from brickbook.redaction import redact, register_secret

__all__ = [
    "Report",
    "StepReport",
    "render_report_text",
    "safe_url",
    "send_notification",
    "slack_text",
    "validate_webhook_url",
]

OUTCOMES = ("changed", "unchanged", "planned", "failed", "skipped")
MAX_URL_LENGTH = 2048
MAX_TEXT_VALUE = 200
NOTIFY_TIMEOUT_SECONDS = 10.0


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="seconds")


@dataclass
class StepReport:
    """One step as the report shows it."""

    name: str
    outcome: str
    reason: str
    duration_seconds: float
    changes: list[Change] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "outcome": self.outcome,
            "reason": self.reason,
            "duration_seconds": round(self.duration_seconds, 3),
            "changes": [change.to_dict() for change in self.changes],
        }


@dataclass
class Report:
    """What one runbook invocation did; ``to_dict`` is the ``-o json`` form."""

    runbook: str
    key: str
    started_at: float  # epoch seconds
    dry_run: bool = False
    attempt: int = 1
    status: str = "running"  # succeeded | planned | failed | interrupted
    exit_code: int = 0
    duration_seconds: float = 0.0
    steps: list[StepReport] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    journal: str | None = None

    def fail(self, error: BaseException, exit_code: int, message: str) -> None:
        """Record the failure that ends the invocation."""
        self.exit_code = exit_code
        self.error = {
            "type": type(error).__name__,
            "message": redact(message),
            "exit_code": exit_code,
            "error_code": error.error_code if isinstance(error, BrickbookError) else None,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "runbook": self.runbook,
            "key": self.key,
            "attempt": self.attempt,
            "status": self.status,
            "exit_code": self.exit_code,
            "dry_run": self.dry_run,
            "started_at": _iso(self.started_at),
            "duration_seconds": round(self.duration_seconds, 3),
            "steps": [step.to_dict() for step in self.steps],
            "runs": self.runs,
            "outputs": self.outputs,
            "error": self.error,
            "journal": self.journal,
        }


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = text.replace("\n", " ")
    return text if len(text) <= MAX_TEXT_VALUE else text[: MAX_TEXT_VALUE - 1] + "…"


def render_report_text(data: Mapping[str, Any]) -> str:
    """Render a report (its JSON form) as a readable summary: one line per step, then runs and outputs."""
    head = f"{data['runbook']} (key {data['key']}, attempt {data['attempt']}): {data['status']}"
    lines = [f"{head} in {data['duration_seconds']:.1f}s" + (" [dry run]" if data.get("dry_run") else "")]
    width = max((len(s["outcome"]) for s in data["steps"]), default=0)
    for step in data["steps"]:
        reason = f": {step['reason']}" if step["reason"] else ""
        took = f" ({step['duration_seconds']:.1f}s)"
        lines.append(f"  {step['outcome']:<{width}}  {step['name']}{took}{reason}")
        for change in step["changes"]:
            shown = Change.from_dict(change)
            # A change the step's reason already spells out is not repeated beneath it.
            if (shown.changed or data.get("dry_run")) and shown.describe() not in step["reason"]:
                lines.append(f"  {'':<{width}}    {shown.describe()}")
    if data["runs"]:
        lines.append("runs:")
        for run in data["runs"]:
            url = f"  {run['url']}" if run.get("url") else ""
            lines.append(f"  {run['run_id']}{url}")
    if data["outputs"]:
        lines.append("outputs:")
        lines += [f"  {name}: {_short(value)}" for name, value in data["outputs"].items()]
    return "\n".join(lines)


def slack_text(data: Mapping[str, Any]) -> str:
    """Return the one-paragraph ``text`` a Slack-compatible webhook shows."""
    text = (
        f"brickbook runbook {data['runbook']} {data['status']} (key {data['key']}, attempt {data['attempt']})"
    )
    if data.get("error"):
        text += f": {data['error']['message']} (exit {data['error']['exit_code']})"
    changed = [s["name"] for s in data["steps"] if s["outcome"] == "changed"]
    if changed:
        text += f"; changed: {', '.join(changed)}"
    urls = [run["url"] for run in data["runs"] if run.get("url")]
    if urls:
        text += f"; runs: {' '.join(urls)}"
    return text


# -- the webhook ------------------------------------------------------------------------------------


def safe_url(url: str) -> str:
    """Return what logs may show of a webhook URL: scheme and host only (the path may hold a secret)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/..."


def validate_webhook_url(url: str) -> str:
    """Check a ``--notify`` URL before anything runs, and register its secret parts for redaction.

    Error messages never repeat the URL: it may carry a token.
    """
    if not url.strip() or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise UsageError("--notify must be an http:// or https:// URL without spaces or control characters")
    if len(url) > MAX_URL_LENGTH:
        raise UsageError(f"--notify URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # a port that is not a number raises ValueError here
    except ValueError:
        raise UsageError("--notify is not a valid URL (check the host and port)") from None
    if parts.scheme not in ("http", "https"):
        if not parts.scheme:
            raise UsageError("--notify must be an http:// or https:// URL; it has no scheme")
        shown = f"{parts.scheme}://" if parts.scheme.isalnum() and len(parts.scheme) < 20 else "that"
        raise UsageError(f"--notify must be an http:// or https:// URL, not {shown}")
    if not parts.hostname:
        raise UsageError("--notify URL has no host: e.g. https://hooks.slack.com/services/...")
    register_secret(url)
    secret_part = url[url.index(parts.netloc) + len(parts.netloc) :]
    if len(secret_part) >= 8:  # a short path like "/hook" is no secret, and masking it would garble text
        register_secret(secret_part)
    if parts.password:
        register_secret(parts.password)
    return url


def send_notification(
    data: Mapping[str, Any], url: str, *, log: Any, timeout: float = NOTIFY_TIMEOUT_SECONDS
) -> bool:
    """POST the report with a Slack ``text`` field; log the outcome; return whether it was accepted."""
    from brickbook.client import post_webhook

    payload = json.loads(redact(json.dumps({**data, "text": slack_text(data)}, default=str)))
    shown = safe_url(url)
    try:
        status = post_webhook(url, payload, timeout=timeout)
    except BrickbookError as error:
        log.warning("notify.failed", url=shown, reason=error.message)
        return False
    if not 200 <= status < 300:
        log.warning("notify.failed", url=shown, status=status)
        return False
    log.info("notify.sent", url=shown, status=status)
    return True
