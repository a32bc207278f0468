"""``runbook.cluster-janitor``: terminate clusters that have run, or idled, longer than a limit.

It prints the plan and acts only with ``--apply``: without it every invocation is a dry run, whatever
``--dry-run`` says, so the plan can be read (or checked in CI) before anything is terminated. At least
one of ``--max-running`` and ``--max-idle`` is required; ``--tag k=v`` (repeatable, all must match) and
``--name-pattern GLOB`` narrow the candidates; a cluster tagged ``--keep-tag`` (default ``keep``, any
value) is never touched. Terminating (Clusters API ``clusters/delete``) keeps the cluster's
configuration: it can be started again.

The step re-plans on every invocation, also under a key whose journal says it was done: clusters keep
starting, and a janitor that skipped its work because it ran earlier that day would be no janitor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brickbook.runbook import runbook

if TYPE_CHECKING:
    from brickbook.runbook import Runbook

__all__ = ["cluster_janitor", "parse_tags"]


def parse_tags(values: list[str] | None) -> dict[str, str]:
    """Read ``--tag k=v`` values into a mapping; a value without ``=`` or with an empty key is refused."""
    from brickbook.errors import UsageError
    from brickbook.paths import has_control_characters, printable

    tags: dict[str, str] = {}
    for value in values or []:
        key, sep, wanted = value.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--tag must be KEY=VALUE, e.g. --tag team=data, not {printable(value)}")
        if has_control_characters(value):
            raise UsageError(f"--tag {printable(value)} contains a control character")
        if key in tags and tags[key] != wanted:
            raise UsageError(f"--tag {printable(key)} is given twice with different values")
        tags[key] = wanted
    return tags


def _limits(max_running: str | None, max_idle: str | None) -> tuple[float | None, float | None]:
    from brickbook.errors import UsageError
    from brickbook.waiting import parse_duration

    if max_running is None and max_idle is None:
        raise UsageError("give --max-running or --max-idle (or both): the janitor needs a limit, e.g. 8h")
    return parse_duration(max_running, "--max-running"), parse_duration(max_idle, "--max-idle")


def _check(
    *,
    max_running: str | None,
    max_idle: str | None,
    tag: list[str] | None,
    name_pattern: str | None,
    keep_tag: str,
    apply: bool,
) -> dict[str, Any]:
    """Validate every option before the state dir, the lock or any request."""
    from brickbook.errors import UsageError
    from brickbook.paths import has_control_characters, printable

    _limits(max_running, max_idle)
    tags = parse_tags(tag)
    if not keep_tag.strip() or has_control_characters(keep_tag):
        raise UsageError(f"--keep-tag must name a tag, not {printable(keep_tag)}")
    if name_pattern is not None and (not name_pattern or has_control_characters(name_pattern)):
        raise UsageError(f"--name-pattern must be a glob such as 'etl-*', not {printable(name_pattern)}")
    return {
        "max_running": max_running,
        "max_idle": max_idle,
        "tag": [f"{k}={v}" for k, v in sorted(tags.items())],
        "name_pattern": name_pattern,
        "keep_tag": keep_tag,
        "apply": bool(apply),
    }


def _step_name(
    max_running: str | None, max_idle: str | None, tags: dict[str, str], pattern: str | None
) -> str:
    which = "no cluster"
    if tags:
        which += " tagged " + ", ".join(f"{k}={v}" for k, v in tags.items())
    if pattern is not None:
        which += f" named {pattern}"
    limits = []
    if max_running is not None:
        limits.append(f"runs longer than {max_running}")
    if max_idle is not None:
        limits.append(f"idles longer than {max_idle}")
    return f"{which} {' or '.join(limits)}"


@runbook(
    name="cluster-janitor",
    help={
        "max_running": "Terminate clusters running for longer than this (90m, 8h).",
        "max_idle": "Terminate clusters idle for longer than this (30m, 2h).",
        "tag": "Only clusters with this custom tag, KEY=VALUE (repeatable: all must match).",
        "name_pattern": "Only clusters whose name matches this glob, e.g. 'etl-*'.",
        "keep_tag": "Never touch clusters carrying this tag, whatever its value (default: keep).",
        "apply": "Terminate the clusters the plan names. Without it the janitor only prints the plan.",
    },
    check=_check,
    iterable=["tag"],
    acts_only_with="apply",
)
def cluster_janitor(
    rb: Runbook,
    *,
    max_running: str | None = None,
    max_idle: str | None = None,
    tag: list[str] | None = None,
    name_pattern: str | None = None,
    keep_tag: str = "keep",
    apply: bool = False,
) -> None:
    """Terminate clusters over their running or idle limit (with --apply; otherwise print the plan)."""
    from brickbook.ops import clusters

    running_limit, idle_limit = _limits(max_running, max_idle)
    tags = parse_tags(tag)
    with rb.step(_step_name(max_running, max_idle, tags, name_pattern)) as step:
        changes = clusters.plan_janitor(
            rb.ctx,
            max_running=running_limit,
            max_idle=idle_limit,
            tags=tags,
            name_pattern=name_pattern,
            keep_tag=keep_tag,
            now=rb.ctx.wall(),
        )
        if not changes:
            step.note("no running cluster matches", changed=False)
        step.add(*(changes if rb.dry_run else clusters.apply_janitor(rb.ctx, changes)))
