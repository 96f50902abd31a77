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
from attak_cdk.validate import sink_topics

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


def table(*columns: str, left: Iterable[str] = (), no_wrap: bool = False) -> Table:
    """A borderless table, like every listing attak prints. The first column and those
    named in ``left`` are text; the others are numbers, right-aligned."""
    text = {columns[0], *left}
    listing = Table(show_edge=False, box=None, pad_edge=False)
    for column in columns:
        listing.add_column(
            column,
            justify="left" if column in text else "right",
            overflow="fold",
            no_wrap=no_wrap,
        )
    return listing


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
        for topic in sink_topics(topology, name):
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
    summary = table(
        "processor", "invocations", "errors", "retries", "emits", "dead letters", "time"
    )
    totals = {"invocations": 0, "emits": 0, "dead_letters": 0}
    for name, row in result.summary.items():
        for key in totals:
            totals[key] += row[key]
        summary.add_row(
            escape(name),
            str(row["invocations"]),
            _red_if(row["errors"]),
            str(row["retries"]),
            str(row["emits"]),
            _red_if(row["dead_letters"]),
            _milliseconds(row["seconds"]),
        )
    out.print()
    out.print(summary)
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
    if result.engine is not None:
        _wire(result.engine)
    out.print()
    if result.stopped:
        out.print(f"[bold red]✗ stopped:[/] {escape(result.stopped)}")
        out.print(f"  {plural(result.unprocessed, 'record')} left unprocessed in streams; {counts}")
    elif result.dead_letters:
        out.print(f"[bold red]✗ {len(result.dead_letters)} record(s) dead-lettered:[/] {counts}")
    else:
        out.print(f"[bold green]✓ every record processed:[/] {counts}")


def _wire(figures: dict[str, Any]) -> None:
    """What the Kinesis engine saw on the wire: calls, duplicates, queued dead letters."""
    where = figures["endpoint"] + (f" ({figures['emulator']})" if figures["emulator"] else "")
    queued = (
        f", {plural(figures['dead_letter_messages'], 'dead-letter message')} sent to SQS"
        if figures["dead_letter_queue"]
        else ""
    )
    out.print(
        f"\n[dim]over Kinesis at {escape(where)}: "
        f"{plural(figures['put_records_calls'], 'PutRecords call')}, "
        f"{plural(figures['get_records_calls'], 'GetRecords call')}, "
        f"{plural(figures['records_read'], 'record')} read, "
        f"{plural(figures['duplicates'], 'duplicate')}{queued}[/]"
    )


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
    resources = table("resource type", "count")
    for kind, count in summary.resources.items():
        resources.add_row(escape(kind), str(count))
    out.print(resources)
    functions = table("processor", "memory", "timeout", "reads", "writes", left=("reads", "writes"))
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


# --- init ----------------------------------------------------------------------------------


def scaffolded(directory: Path, created: list[Path]) -> None:
    for file in created:
        out.print(f"  [green]created[/] {escape(str(file))}")
    out.print(
        f"\nNext: [bold]attak simulate {escape(str(directory))}[/] and "
        f"[bold]pytest {escape(str(directory))}[/]"
    )


# --- trigger and logs ----------------------------------------------------------------------

PROCESSOR_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan")
PROGRESS_FROM = 20
"""Events from which trigger shows a progress bar (on a terminal)."""


def deployment_differs(path: Path, differences: list[str]) -> None:
    """Warn, on stderr, that the deployed topology is not the local one."""
    if not differences:
        return
    err.print(
        f"[yellow]warning:[/] the deployed topology differs from {escape(str(path))} "
        "(`attak diff` shows how, `attak deploy` updates it):"
    )
    for line in differences:
        err.print(f"  [yellow]{escape(line)}[/]")


def leftover_layout(message: str | None) -> None:
    if message:
        err.print(f"[yellow]warning:[/] {escape(message)}")


def _delivery_text(delivery: Any) -> str:
    """One line for one input event sent by ``attak trigger``."""
    event = delivery.event
    head = f"[cyan]{escape(event.processor)}[/] ← {escape(preview(event.data))}"
    trace = f"trace [bold]{escape(delivery.trace)}[/]"
    if not delivery.sent:
        return f"[red]✗[/] {head}  {trace}  [red]not sent: {escape(delivery.error or '')}[/]"
    if delivery.error is not None:
        return f"[red]✗[/] {head}  {trace}  [red]{escape(delivery.error)}[/]"
    if delivery.via == "stream":
        how = "[dim]into its ingest stream[/]"
    elif delivery.result is not None:
        how = f"[dim]returned[/] {escape(preview(delivery.result))}"
    else:
        how = "[dim]invoked[/]"
    return f"[green]●[/] {head}  {trace}  {how}"


class TriggerProgress:
    """Prints each event as it is sent; a progress bar below when there are many."""

    def __init__(self, total: int, *, show: bool = True) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.show = show
        self.progress: Progress | None = None
        if show and total >= PROGRESS_FROM and out.is_terminal:
            self.progress = Progress(
                TextColumn("sending"), BarColumn(), MofNCompleteColumn(), console=out
            )
            self.task = self.progress.add_task("events", total=total)

    def __enter__(self) -> TriggerProgress:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, delivery: Any) -> None:
        if self.show:
            out.print(_delivery_text(delivery))
        if self.progress is not None:
            self.progress.advance(self.task)


def trigger_header(name: str, stacks: tuple[str, ...], events: int, wait: bool) -> None:
    how = ", waiting for each result" if wait else ""
    out.print(
        f"[bold]{escape(name)}[/]: sending {plural(events, 'input event')} to stack "
        f"{escape(', '.join(stacks))}{how}\n"
    )


def trigger_summary(deliveries: list[Any], seconds: float, path: Path) -> None:
    unsent = [d for d in deliveries if not d.sent]
    failed = [d for d in deliveries if d.sent and d.error is not None]
    streamed = sum(1 for d in deliveries if d.sent and d.via == "stream")
    invoked = sum(1 for d in deliveries if d.sent and d.via == "invoke")
    sent = f"{plural(streamed + invoked, 'event')} sent ({invoked} invoked, {streamed} into "
    sent += f"ingest streams) in {seconds:.2f} s"
    out.print()
    if unsent:
        out.print(f"[bold red]✗ {len(unsent)} of {len(deliveries)} events not sent;[/] {sent}")
    elif failed:
        out.print(f"[bold red]✗ {len(failed)} of {len(deliveries)} events failed;[/] {sent}")
    else:
        out.print(f"[bold green]✓ {sent}[/]")
    if deliveries and len(unsent) < len(deliveries):
        example = next(d for d in deliveries if d.sent).trace
        out.print(f"  one event's path: [bold]attak logs {escape(str(path))} --trace {example}[/]")


def trigger_document(name: str, stacks: tuple[str, ...], deliveries: list[Any]) -> Any:
    return {
        "topology": name,
        "stacks": list(stacks),
        "ok": not any(d.failed for d in deliveries),
        "events": [d.as_dict() for d in deliveries],
    }


class LogPrinter:
    """Log lines of several processors, each prefixed with its processor's name and colour."""

    def __init__(self, processors: list[str], *, as_json: bool = False) -> None:
        self.as_json = as_json
        self.width = max((len(name) for name in processors), default=0)
        self.colours = {
            name: PROCESSOR_COLOURS[i % len(PROCESSOR_COLOURS)] for i, name in enumerate(processors)
        }
        self.count = 0

    def __call__(self, lines: list[Any]) -> None:
        for line in lines:
            self.count += 1
            if self.as_json:
                sys.stdout.write(json.dumps(line.as_dict(), ensure_ascii=False) + "\n")
                continue
            colour = self.colours.get(line.processor, "white")
            clock = _clock(line.timestamp)
            prefix = f"[{colour}]{escape(line.processor.ljust(self.width))}[/] [dim]{clock}[/]"
            out.print(f"{prefix}  {_log_text(line)}")
        sys.stdout.flush()


def _clock(timestamp: int) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(timestamp / 1000).strftime("%H:%M:%S")


def _log_text(line: Any) -> str:
    """A log line; the runtime's record lines summarised (``--json`` keeps them whole)."""
    record = line.record
    if record is None:
        return escape(line.message)
    ok = record.get("outcome") == "ok"
    mark = "[green]●[/]" if ok else "[red]✗[/]"
    topic = record.get("topic")
    source = f"'{topic}'" if topic else "input"
    text = f"{mark} record ← {escape(source)}  trace {escape(str(record.get('trace')))}"
    if ok:
        emits = record.get("emits") or []
        text += f"  → {escape(', '.join(emits))}" if emits else "  [dim]no emits[/]"
    else:
        text += f"  [red]{escape(str(record.get('error', 'failed')))}[/]"
    if record.get("ms") is not None:
        text += f"  [dim]{record['ms']} ms[/]"
    return text


def logs_end(count: int, reason: str, trace: str | None) -> None:
    """Why following stopped, or that nothing was found."""
    if reason == "timeout" and count == 0:
        err.print("[yellow]no log lines arrived before --timeout; try `attak logs` later[/]")
    elif count == 0:
        which = f" of trace {trace}" if trace else ""
        err.print(f"[dim]no log lines{escape(which)} in that time (widen it with --since)[/]")


def following(processors: list[str], quiet: float) -> None:
    out.print(
        f"\n[dim]following the logs of {escape(', '.join(processors))} until quiet for "
        f"{quiet:.0f} s (Ctrl-C stops)[/]"
    )


# --- plan ----------------------------------------------------------------------------------


def _money(amount: Any) -> str:
    return f"{amount:,.2f}"


def _rate(value: Any) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:,.2f}".rstrip("0").rstrip(".")


def plan(result: Any) -> None:
    """A plan: streams, processors, the monthly bill idle and at load, and the assumptions."""
    currency = result.currency
    out.print(
        f"[bold]{escape(result.topology)}[/]: monthly plan in {escape(result.region)} "
        f"({escape(currency)}, prices checked {escape(result.prices['checked'])})\n"
    )
    if result.streams:
        streams = table(
            "stream",
            "records/s",
            "MB/s",
            "shards",
            "by",
            "mode",
            "on-demand",
            "provisioned",
            "cheaper",
            left=("by", "mode", "cheaper"),
            no_wrap=True,
        )
        for s in result.streams:
            # The mode as declared; a provisioned count below the need shows in yellow.
            declared = "on-demand" if s.mode == "on-demand" else f"{s.shards} shards"
            if s.auto:
                declared = f"auto: {s.shards}"
            elif s.mode == "provisioned" and s.shards < s.shards_needed:
                declared = f"[yellow]{s.shards} shards[/]"
            streams.add_row(
                escape(s.name),
                _rate(s.records_per_second),
                f"{s.bytes_per_second / 1024**2:,.2f}",
                str(s.shards_needed),
                s.limit,
                declared,
                _money(s.on_demand),
                _money(s.provisioned),
                s.cheaper,
            )
        out.print(streams)
        out.print()
    processors = table(
        "processor",
        "events/s",
        "invocations/s",
        "concurrency",
        "busy",
        "GB-s/month",
        "requests",
        "compute",
        "logs",
    )
    for p in result.processors:
        processors.add_row(
            escape(p.name),
            _rate(p.events_per_second),
            _rate(p.invocations_per_second),
            str(p.concurrency),
            f"{p.busy:,.1f}",
            f"{p.gb_seconds_per_month:,.0f}",
            _money(p.requests),
            _money(p.compute),
            _money(p.logs),
        )
    out.print(processors)
    out.print()
    bill = table(f"monthly ({escape(currency)})", "idle", "at load", "", left=("",))
    bill.columns[-1].style = "dim"
    for line in result.lines:
        bill.add_row(
            escape(line.item), _money(line.idle), _money(line.at_load), escape(line.detail)
        )
    bill.add_row(
        "[bold]total[/]", f"[bold]{_money(result.idle)}[/]", f"[bold]{_money(result.at_load)}[/]"
    )
    if result.cheapest_at_load != result.at_load:
        bill.add_row(
            "total, each stream in its cheaper mode", "", _money(result.cheapest_at_load), ""
        )
    bill.add_row(
        "Storm cluster, for comparison",
        _money(result.storm),
        _money(result.storm),
        escape(result.storm_detail),
    )
    out.print(bill)
    out.print("\n[bold]assumed[/] (set them under plan: in the topology, or with options):")
    for line in result.assumptions:
        out.print(f"  - {escape(line)}")
    for line in result.prices.get("unconfirmed", []):
        out.print(f"  [dim]- price not confirmed: {escape(line)}[/]")
    for line in result.warnings:
        err.print(f"  [yellow]warning:[/] {escape(line)}")
