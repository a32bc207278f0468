"""Secrets never leak: every output and log line of every suite, and each emulator's log, is scanned.

Each registered secret (the tokens, OAuth client secrets and secret values the suites used) is looked
for raw, base64 (of itself and of ``Bearer TOKEN``), base64url, as its ``repr`` and URL-encoded, and
with its ``Bearer`` prefix. It runs after the other suites; required: 0 hits.
"""

from __future__ import annotations

from reliability.harness import Figure, Harness, SuiteResult, count_figure, describe

__all__ = ["NAME", "TITLE", "run"]

NAME = "leaks"
TITLE = "5. Secrets never leak"


def run(h: Harness) -> SuiteResult:
    """Scan everything captured so far; one note per hit (which secret, which form, where)."""
    forms = [
        (label, kind, text)
        for label, value in h.secrets.items()
        for kind, text in h.secrets.forms(value).items()
    ]
    hits: list[str] = []
    scanned_bytes = scanned_lines = texts = 0
    for where, text in h.capture.texts():
        texts += 1
        scanned_bytes += len(text.encode(errors="replace"))
        scanned_lines += text.count("\n") + 1
        for label, kind, form in forms:
            if form in text:
                hits.append(f"{label} ({kind}) in {where}")
    return SuiteResult(
        name=NAME,
        title=TITLE,
        description=describe(__doc__),
        command=h.command(NAME),
        figures=[
            count_figure("secrets found (any form)", len(hits), 0),
            Figure("secrets registered", len(h.secrets.items())),
            Figure("forms looked for", len(forms)),
            Figure("outputs and logs scanned", texts),
            Figure("bytes scanned", scanned_bytes),
            Figure("lines scanned", scanned_lines),
        ],
        notes=[f"found: {hit}" for hit in hits[:20]],
    )
