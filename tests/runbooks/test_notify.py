"""--notify: the report POSTed to a webhook on failure (or always), without credentials or exit changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from brickbook.errors import UsageError
from brickbook.report import safe_url, slack_text, validate_webhook_url
from tests.conftest import ADMIN_TOKEN, Emulator
from tests.fakes import FakeTime
from tests.runbooks.conftest import Webhook, create_job
from tests.runbooks.tiny import run_tiny

SECRET_PART = "s3cretWebhookPath"


@pytest.fixture
def env(workspace_env: Emulator, shared_time: FakeTime) -> Emulator:
    return workspace_env


def tiny(state: Path, *args: str) -> tuple[int, str, str]:
    result = run_tiny("tiny-run", *args, "--key", "k", "--state-dir", str(state))
    return result.exit_code, result.stdout, result.stderr


def test_failure_posts_the_report_with_slack_text(env: Emulator, tmp_path: Path, webhook: Webhook):
    """A failed runbook POSTs its report JSON plus a text field, without the workspace token."""
    job_id = create_job(env, "notify-fail", "1 / 0")
    code, _, stderr = tiny(tmp_path, str(job_id), "--notify", webhook.url)
    assert code == 7
    assert len(webhook.received) == 1
    sent = webhook.received[0]
    body = sent["body"]
    assert body["runbook"] == "tiny-run" and body["status"] == "failed" and body["exit_code"] == 7
    assert body["text"].startswith("brickbook runbook tiny-run failed (key k, attempt 1): run ")
    assert "authorization" not in {h.lower() for h in sent["headers"]}
    assert ADMIN_TOKEN not in str(sent)
    assert '"event": "notify.sent"' in stderr and SECRET_PART not in stderr


def test_success_is_not_notified_by_default(env: Emulator, tmp_path: Path, webhook: Webhook):
    """Without --notify-on always a successful runbook sends nothing."""
    job_id = create_job(env, "notify-quiet", 'dbutils.notebook.exit("ok")')
    assert tiny(tmp_path, str(job_id), "--notify", webhook.url)[0] == 0
    assert webhook.received == []


def test_notify_on_always_posts_success(env: Emulator, tmp_path: Path, webhook: Webhook):
    """--notify-on always sends the report of a successful runbook too."""
    job_id = create_job(env, "notify-always", 'dbutils.notebook.exit("ok")')
    code, _, _ = tiny(tmp_path, str(job_id), "--notify", webhook.url, "--notify-on", "always")
    assert code == 0
    assert [r["body"]["status"] for r in webhook.received] == ["succeeded"]
    assert webhook.received[0]["body"]["outputs"] == {"main": "ok"}


def test_refused_notification_keeps_the_exit_code(env: Emulator, tmp_path: Path, webhook: Webhook):
    """A webhook answering 500 is logged as notify.failed; the runbook still exits with its own code."""
    webhook.status = 500
    job_id = create_job(env, "notify-500", "1 / 0")
    code, _, stderr = tiny(tmp_path, str(job_id), "--notify", webhook.url)
    assert code == 7
    assert '"event": "notify.failed"' in stderr and '"status": 500' in stderr
    assert SECRET_PART not in stderr


def test_unreachable_webhook_keeps_success(env: Emulator, tmp_path: Path):
    """A webhook nobody listens on is logged (scheme and host only) and the exit stays 0."""
    job_id = create_job(env, "notify-down", 'dbutils.notebook.exit("ok")')
    url = f"http://127.0.0.1:9/services/{SECRET_PART}"
    code, _, stderr = tiny(tmp_path, str(job_id), "--notify", url, "--notify-on", "always")
    assert code == 0
    assert '"event": "notify.failed"' in stderr and "http://127.0.0.1:9/..." in stderr
    assert SECRET_PART not in stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example.com/T0/abcdefgh", "not ftp://$"),
        ("hooks.example.com/x", "has no scheme"),
        ("https:///services/x", "has no host"),
        ("https://h:99999/x", "not a valid URL"),
        ("https://h/x y", "without spaces"),
        ("", "without spaces"),
    ],
)
def test_bad_webhook_urls_are_refused_without_echoing_them(url: str, message: str):
    """A --notify URL that is not http(s) with a host is a usage error that does not repeat the URL."""
    with pytest.raises(UsageError, match=message) as caught:
        validate_webhook_url(url)
    assert "abcdefgh" not in caught.value.message


def test_safe_url_shows_scheme_and_host_only():
    """Logs show a webhook as scheme://host/…, never its path or credentials."""
    assert (
        safe_url("https://user:pw@hooks.slack.com:8443/services/T/B/X") == "https://hooks.slack.com:8443/..."
    )


def test_slack_text_names_status_error_and_run_urls():
    """The text field says which runbook, how it ended, why, and where the runs are."""
    data = {
        "runbook": "rb",
        "key": "k",
        "attempt": 2,
        "status": "failed",
        "error": {"message": "run 1 ended FAILED", "exit_code": 7},
        "steps": [{"name": "job is deployed", "outcome": "changed"}],
        "runs": [{"run_id": 1, "url": "https://h/#job/1/run/1"}],
    }
    assert slack_text(data) == (
        "brickbook runbook rb failed (key k, attempt 2): run 1 ended FAILED (exit 7); "
        "changed: job is deployed; runs: https://h/#job/1/run/1"
    )
