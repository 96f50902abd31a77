"""``attak simulate``'s human output: the trace of invocations as they run, then the summary.

The trace is printed while the engine runs, one invocation at a time; the summary (a table
per processor, the dead letters, what the Kinesis engine saw on the wire, the verdict)
once it has finished. ``--json`` bypasses this module (``SimulationResult``'s ``document``).
"""

from __future__ import annotations

import sys
from typing import TypedDict, cast

from rich.console import Console
from rich.markup import escape

from attak_cdk import graph as topology_graph
from attak_cdk.model import Topology
from attak_cdk.simulate.result import Invocation, SimulationResult, describe_error, user_traceback

from .console import out, plural, preview
from .tables import red_if, table


class WireFigures(TypedDict):
    """What the Kinesis engine measured (``SimulationResult.engine``), as read here."""

    endpoint: str
    emulator: str | None
    put_records_calls: int
    get_records_calls: int
    records_read: int
    duplicates: int
    dead_letter_queue: bool
    dead_letter_messages: int


def simulation_header(topology: Topology, events: int) -> None:
    """The line before the trace: which topology, how many input events."""
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
        """One invocation: its record, what the handler printed, then its emits or error."""
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
        """Says how many invocations the trace left out."""
        if self.hidden and not self.quiet:
            self.console.print(
                f"[dim]… {self.hidden} more invocations not shown (--show 0 or --json)[/]"
            )


def _milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def simulation_summary(result: SimulationResult, seconds: float) -> None:
    """Per processor its counts and time, the dead letters, and whether every record was
    processed."""
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
            red_if(row["errors"]),
            str(row["retries"]),
            str(row["emits"]),
            red_if(row["dead_letters"]),
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
        # The Kinesis engine's figures (EngineFigures.as_dict()), not imported here: that
        # module imports boto3, which the memory engine's runs never load.
        _wire(cast(WireFigures, result.engine))
    out.print()
    if result.stopped:
        out.print(f"[bold red]✗ stopped:[/] {escape(result.stopped)}")
        out.print(f"  {plural(result.unprocessed, 'record')} left unprocessed in streams; {counts}")
    elif result.dead_letters:
        out.print(f"[bold red]✗ {len(result.dead_letters)} record(s) dead-lettered:[/] {counts}")
    else:
        out.print(f"[bold green]✓ every record processed:[/] {counts}")


def _wire(figures: WireFigures) -> None:
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
