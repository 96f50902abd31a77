"""``attak synth``'s review: per stack its resources, functions and streams, then the verdict.

Reads the ``Review`` of each synthesized template (``attak_cdk.review``), so it shows what
CloudFormation will be asked to create, named as the topology names it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from .console import out, plural
from .tables import table

if TYPE_CHECKING:
    from attak_cdk.review import Review


def environment_for_cdk() -> None:
    """Quiet the jsii and Node notices that would otherwise precede attak's own output."""
    import os

    from attak_cdk.toolchain import QUIET_ENVIRONMENT

    for key, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(key, value)


def review(summary: Review, template_file: Path, names: dict[str, str]) -> None:
    """One stack's review; ``names`` maps logical ids to the topology's names."""

    def named(logical_ids: list[str]) -> str:
        return escape(", ".join(names.get(i, i) for i in logical_ids))

    out.print(f"[bold]{escape(summary.stack)}[/]: {escape(str(template_file))}\n")
    resources = table("resource type", "count")
    for kind, count in summary.resources.items():
        resources.add_row(escape(kind), str(count))
    out.print(resources)
    functions = table("processor", "memory", "timeout", "reads", "writes", left=("reads", "writes"))
    for f in summary.functions:
        ways_in = [named(f.reads)] if f.reads else []
        ways_in += [escape(f.endpoint)] if f.endpoint else []
        functions.add_row(
            named([f.logical_id]),
            f"{f.memory} MB",
            f"{f.timeout} s",
            ", ".join(ways_in) or "[dim]direct invoke[/]",
            named(f.writes) or "[dim]-[/]",
        )
    out.print()
    out.print(functions)
    tuned = [f for f in summary.functions if f.settings]
    if tuned:
        out.print("\n[bold]function settings[/] (beyond attak's defaults)")
        for f in tuned:
            out.print(f"  {named([f.logical_id])}: {escape('; '.join(f.settings))}")
    for title, lines in (
        (
            "[bold]granted by the topology[/] (beyond each function's own streams)",
            [(f.logical_id, f"may {words}") for f in summary.functions for words in f.grants],
        ),
        (
            "[bold]read at cold start[/] (from SSM and Secrets Manager, by the runtime)",
            [(f.logical_id, words) for f in summary.functions for words in f.configuration],
        ),
        (
            "[bold]scheduled[/] (EventBridge rules invoking a function)",
            [(f.logical_id, f.schedule) for f in summary.functions if f.schedule],
        ),
    ):
        if lines:
            out.print(f"\n{title}")
            for logical_id, words in lines:
                out.print(f"  {named([logical_id])}: {escape(words)}")
    if summary.streams:
        streams = table(
            "stream",
            "mode",
            "shards",
            "retention",
            "consumer",
            "dead letters",
            left=("mode", "shards", "retention", "consumer", "dead letters"),
        )
        for s in summary.streams:
            streams.add_row(
                named([s.logical_id]),
                s.mode.lower().replace("_", "-"),
                str(s.shards) if s.shards else "-",
                f"{s.retention_hours} h",
                named(s.consumers),
                named(s.dead_letter_queues),
            )
        out.print()
        out.print(streams)
    out.print()


def synthesized(reviews: list[Review], output: Path) -> None:
    """The resources synthesized in every stack, and how to deploy them."""
    total = sum(sum(r.resources.values()) for r in reviews)
    stacks = f" in {plural(len(reviews), 'stack')}" if len(reviews) > 1 else ""
    out.print(
        f"[bold green]✓ synthesized[/] {plural(total, 'resource')}{stacks}; deploy with "
        f"[bold]attak deploy[/] or [bold]cdk deploy --app {escape(str(output))}[/]"
    )
    if len(reviews) > 1:
        out.print(
            "[yellow]note:[/] streams and processors fill these stacks in the order the "
            "topology lists them: add new ones at the end, as one inserted or removed "
            "earlier moves those after it into another stack, which replaces them"
        )
