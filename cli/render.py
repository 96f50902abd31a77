"""Everything the CLI prints: errors, validation results, graphs and simulation traces.

Human output goes through rich, which drops colour for NO_COLOR and when output is not a
terminal. User data is escaped before it reaches rich's markup.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from attak_cdk import graph as topology_graph
from attak_cdk.errors import AttakError, Issue, TopologyError
from attak_cdk.model import Topology
from attak_cdk.review import Review
from attak_cdk.simulate.result import Invocation, SimulationResult, describe_error, user_traceback

# Piped output gets room for tables (rich would assume 80 columns); a terminal keeps its own.
_PIPED_WIDTH = None if sys.stdout.isatty() else 120
out = Console(highlight=False, soft_wrap=True, width=_PIPED_WIDTH)
err = Console(stderr=True, highlight=False, soft_wrap=True, width=_PIPED_WIDTH)

PREVIEW = 70
"""Characters of event data shown per line in a trace."""


def preview(data: Any) -> str:
    """Data as compact JSON, cut to fit one line."""
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(data)
    return text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def print_json(document: Any) -> None:
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    # A lone surrogate (from a \\ud800 escape in user data) has no UTF-8 form; written back
    # as its JSON escape, the document stays valid.
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    sys.stdout.write(text + "\n")


def error(exc: AttakError) -> None:
    """An attak error on stderr: every issue for a topology error, else the message."""
    if isinstance(exc, TopologyError):
        errors = [i for i in exc.issues if i.severity == "error"]
        err.print(f"[bold red]error:[/] the topology has {plural(len(errors), 'problem')}:")
        for issue in exc.issues:
            _issue_line(err, issue)
        return
    err.print(f"[bold red]error:[/] {escape(exc.message)}")


def _issue_line(console: Console, issue: Issue) -> None:
    colour = "red" if issue.severity == "error" else "yellow"
    where = ": ".join(part for part in (issue.file, issue.path) if part)
    label = "" if issue.severity == "error" else "warning: "
    console.print(f"  [{colour}]{escape(where)}[/]: {label}{escape(issue.message)}")


def issues(found: Iterable[Issue]) -> None:
    """Warnings, on stderr so they never mix with data on stdout."""
    for issue in found:
        _issue_line(err, issue)


def validated(topology: Topology, warnings: list[Issue]) -> None:
    entries = topology_graph.entries(topology)
    out.print(
        f"[green]✓[/] {escape(topology.name)}: {plural(len(topology.processors), 'processor')}, "
        f"{plural(len(topology.streams), 'stream')}, entries: {escape(', '.join(entries))}"
    )
    issues(warnings)


# --- graph ---------------------------------------------------------------------------------


def _sinks(topology: Topology, name: str) -> list[str]:
    """Topics a processor can be seen to emit that no stream carries."""
    from attak_cdk.validate import emitted_topics

    seen = emitted_topics(topology.processors[name].file) or set()
    carried = {s.topic for s in topology.streams if s.source == name}
    if None in carried:
        return []
    return sorted(seen - carried)


def graph_text(topology: Topology) -> None:
    routes = topology_graph.routes(topology)
    entries = set(topology_graph.entries(topology))
    loops = topology_graph.cycles(topology)
    out.print(f"[bold]{escape(topology.name)}[/]")
    for name, processor in topology.processors.items():
        tags = []
        if name in entries:
            tags.append("entry" if processor.input == "direct" else "entry, ingest stream")
        suffix = f" [dim]({', '.join(tags)})[/]" if tags else ""
        out.print(f"  [cyan]{escape(name)}[/]{suffix}")
        for route in routes[name]:
            topic = f"'{route.topic}'" if route.topic else "any topic"
            out.print(f"    → {escape(route.target)}  [dim]{escape(topic)}[/]")
        for topic in _sinks(topology, name):
            out.print(f"    ⇥ sink  [dim]'{escape(topic)}'[/]")
    for loop in loops:
        out.print(f"  [yellow]loop:[/] {escape(' → '.join([*loop, loop[0]]))}")


def _node_ids(topology: Topology) -> dict[str, str]:
    return {name: f"p{i}" for i, name in enumerate(topology.processors)}


def graph_mermaid(topology: Topology) -> None:
    ids = _node_ids(topology)
    lines = ["flowchart LR"]
    for name, node in ids.items():
        lines.append(f'  {node}["{name}"]')
    for stream in topology.streams:
        label = f"|{stream.topic}|" if stream.topic else ""
        lines.append(f"  {ids[stream.source]} -->{label} {ids[stream.target]}")
    sys.stdout.write("\n".join(lines) + "\n")


def graph_dot(topology: Topology) -> None:
    def quote(text: str) -> str:
        return json.dumps(text)

    lines = [f"digraph {quote(topology.name)} {{", "  rankdir=LR;", "  node [shape=box];"]
    for name in topology.processors:
        lines.append(f"  {quote(name)};")
    for stream in topology.streams:
        label = f" [label={quote(stream.topic)}]" if stream.topic else ""
        lines.append(f"  {quote(stream.source)} -> {quote(stream.target)}{label};")
    lines.append("}")
    sys.stdout.write("\n".join(lines) + "\n")


# --- simulate ------------------------------------------------------------------------------


def simulation_header(topology: Topology, events: int) -> None:
    out.print(f"[bold]{escape(topology.name)}[/]: simulating {plural(events, 'input event')}\n")


class TracePrinter:
    """Prints each invocation as the engine produces it, up to ``show`` (failures always)."""

    def __init__(self, topology: Topology, show: int, quiet: bool = False) -> None:
        self.show = show
        self.quiet = quiet
        self.shown = 0
        self.hidden = 0
        self.targets = topology_graph.stream_targets(topology)
        # Bound now: while the engine runs, sys.stdout collects what handlers print.
        self.console = Console(file=sys.stdout, highlight=False, soft_wrap=True)

    def __call__(self, invocation: Invocation) -> None:
        if self.quiet or (self.show and self.shown >= self.show and invocation.ok):
            self.hidden += 1
            return
        self.shown += 1
        self.print(invocation)

    def print(self, inv: Invocation) -> None:
        mark = "[green]●[/]" if inv.ok else "[red]✗[/]"
        attempt = f" [yellow]attempt {inv.attempt}[/]" if inv.attempt > 1 else ""
        source = inv.sender or "input"
        self.console.print(
            f"{mark} [dim]#{inv.id}[/] [cyan]{escape(inv.processor)}[/] ← {escape(source)}"
            f"{attempt}  {escape(preview(inv.event))}  [dim]trace {inv.trace[:8]}[/]"
        )
        for line in inv.logs.splitlines():
            self.console.print(f"    [dim]│ {escape(line)}[/]")
        if inv.error is not None:
            self.console.print(f"    [red]{escape(describe_error(inv.error))}[/]")
            for frame in user_traceback(inv.error):
                for line in frame.rstrip().splitlines():
                    self.console.print(f"      [dim]{escape(line)}[/]")
            if inv.emits:
                self.console.print(
                    f"    [dim]{len(inv.emits)} emit(s) discarded with the failed record[/]"
                )
            return
        for emit in inv.emits:
            to = ", ".join(self.targets[s] for s in emit.streams) or "sink"
            data = escape(preview(emit.data))
            self.console.print(f"    └ [magenta]{escape(emit.topic)}[/] → {escape(to)}  {data}")

    def finish(self) -> None:
        if self.hidden and not self.quiet:
            self.console.print(
                f"[dim]… {self.hidden} more invocations not shown (--show 0 or --json)[/]"
            )


def _milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def simulation_summary(result: SimulationResult, seconds: float) -> None:
    table = Table(show_edge=False, box=None, pad_edge=False)
    for column in (
        "processor",
        "invocations",
        "errors",
        "retries",
        "emits",
        "dead letters",
        "time",
    ):
        table.add_column(column, justify="left" if column == "processor" else "right")
    totals = {"invocations": 0, "emits": 0, "dead_letters": 0}
    for name, row in result.summary.items():
        for key in totals:
            totals[key] += row[key]
        table.add_row(
            escape(name),
            str(row["invocations"]),
            _red_if(row["errors"]),
            str(row["retries"]),
            str(row["emits"]),
            _red_if(row["dead_letters"]),
            _milliseconds(row["seconds"]),
        )
    out.print()
    out.print(table)
    if result.dead_letters:
        out.print(f"\n[bold red]dead letters ({len(result.dead_letters)}):[/]")
        for letter in result.dead_letters:
            attempts = f"after {letter.attempts} attempts" if letter.attempts else "not attempted"
            out.print(
                f"  [cyan]{escape(letter.processor)}[/] ← {escape(letter.source)}  "
                f"{escape(preview(letter.event))}  {attempts}: [red]{escape(letter.error)}[/]"
            )
    counts = (
        f"{plural(totals['invocations'], 'invocation')}, {plural(totals['emits'], 'emit')}, "
        f"{plural(totals['dead_letters'], 'dead letter')} in {seconds:.2f} s"
    )
    out.print()
    if result.stopped:
        out.print(f"[bold red]✗ stopped:[/] {escape(result.stopped)}")
        out.print(f"  {plural(result.unprocessed, 'record')} left unprocessed in streams; {counts}")
    elif result.dead_letters:
        out.print(f"[bold red]✗ {len(result.dead_letters)} record(s) dead-lettered:[/] {counts}")
    else:
        out.print(f"[bold green]✓ every record processed:[/] {counts}")


def _red_if(count: int) -> str:
    return f"[red]{count}[/]" if count else "0"


# --- synth ---------------------------------------------------------------------------------


def environment_for_cdk() -> None:
    """Quiet the jsii and Node notices that would otherwise precede attak's own output."""
    import os

    from attak_cdk.toolchain import QUIET_ENVIRONMENT

    for key, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(key, value)


def print_yaml(document: Any) -> None:
    import yaml

    sys.stdout.write(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))


def review(summary: Review, template_file: Path, names: dict[str, str]) -> None:
    def named(logical_ids: list[str]) -> str:
        return escape(", ".join(names.get(i, i) for i in logical_ids))

    out.print(f"[bold]{escape(summary.stack)}[/]: {escape(str(template_file))}\n")
    resources = Table(show_edge=False, box=None, pad_edge=False)
    resources.add_column("resource type")
    resources.add_column("count", justify="right")
    for kind, count in summary.resources.items():
        resources.add_row(escape(kind), str(count))
    out.print(resources)
    functions = Table(show_edge=False, box=None, pad_edge=False)
    for column in ("processor", "memory", "timeout", "reads", "writes"):
        right = column in ("memory", "timeout")
        functions.add_column(column, justify="right" if right else "left", overflow="fold")
    for f in summary.functions:
        functions.add_row(
            named([f.logical_id]),
            f"{f.memory} MB",
            f"{f.timeout} s",
            named(f.reads) or "[dim]direct invoke[/]",
            named(f.writes) or "[dim]-[/]",
        )
    out.print()
    out.print(functions)
    if summary.streams:
        streams = Table(show_edge=False, box=None, pad_edge=False)
        for column in ("stream", "mode", "shards", "retention", "consumer", "dead letters"):
            streams.add_column(column, overflow="fold")
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
    total = sum(sum(r.resources.values()) for r in reviews)
    stacks = f" in {plural(len(reviews), 'stack')}" if len(reviews) > 1 else ""
    out.print(
        f"[bold green]✓ synthesized[/] {plural(total, 'resource')}{stacks}; deploy with "
        f"[bold]attak deploy[/] or [bold]cdk deploy --app {escape(str(output))}[/]"
    )


# --- init ----------------------------------------------------------------------------------


def scaffolded(directory: Path, created: list[Path]) -> None:
    for file in created:
        out.print(f"  [green]created[/] {escape(str(file))}")
    out.print(
        f"\nNext: [bold]attak simulate {escape(str(directory))}[/] and "
        f"[bold]pytest {escape(str(directory))}[/]"
    )
