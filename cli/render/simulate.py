"""``attak simulate``'s human output: the trace of invocations as they run, then the summary.

The trace is printed while the engine runs, one invocation at a time; the summary (a table
per processor, the dead letters, what the Kinesis engine saw on the wire, the warnings,
the verdict) once it has finished. ``--json`` bypasses this module (``SimulationResult``'s
``document``).

Written for someone debugging a failing pipeline: an error's traceback is printed once
(its user frames; the standard library's folded into one line), and a retry that failed
the same way says so in one line; each attempt says who retried it (the runtime in place,
Lambda's asynchronous invoke, or Lambda retrying a whole record) and out of how many;
each dead letter carries its trace id and the command that follows it.
"""

from __future__ import annotations

import shlex
import sys
import sysconfig
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TypedDict, cast

from rich.console import Console
from rich.markup import escape

import attak_cdk
from attak_cdk import graph as topology_graph
from attak_cdk.errors import Issue
from attak_cdk.model import Topology
from attak_cdk.runtime.config import DIRECT_RETRIES
from attak_cdk.simulate.failures import InvocationFailed
from attak_cdk.simulate.result import DeadLetter, Invocation, SimulationResult, describe_error

from .console import out, plural, preview
from .tables import red_if, table

INPUT = "input"
"""The source of a direct invocation (``engine.INPUT``)."""
LETTERS_IN_FULL = 20
"""Dead letters the summary details; the rest are counted (``--json`` lists them all)."""

_RECURSION_SHOWN = 3
"""Consecutive calls at one place shown before the rest are counted (Python's own cutoff)."""
_ATTAK = str(Path(attak_cdk.__file__).resolve().parent)
_STDLIB = tuple(
    str(Path(sysconfig.get_paths()[name]).resolve()) for name in ("stdlib", "platstdlib")
)
_INSTALLED = tuple(
    str(Path(sysconfig.get_paths()[name]).resolve()) for name in ("purelib", "platlib")
)

ErrorKey = tuple[str, tuple[tuple[str, int | None], ...]]
"""What makes two failures the same error: the message and where it was raised."""


def error_key(error: BaseException) -> ErrorKey:
    frames = traceback.extract_tb(error.__traceback__)
    return describe_error(error), tuple((f.filename, f.lineno) for f in frames)


def _in_stdlib(filename: str) -> bool:
    return filename.startswith(_STDLIB) and not filename.startswith(_INSTALLED)


def _stdlib_name(filename: str) -> str:
    """``json/decoder.py``: a standard library file by its place in the library."""
    for root in _STDLIB:
        if filename.startswith(root):
            return filename[len(root) :].lstrip("/\\")
    return Path(filename).name


def traceback_lines(error: BaseException) -> list[str]:
    """The traceback as a person reads it at 2 a.m.: the user's frames and those of the
    libraries they call, attak's own frames left out, and each run of frames inside
    Python's standard library folded into one line naming its modules."""
    lines: list[str] = []
    folded: list[traceback.FrameSummary] = []

    def fold() -> None:
        if folded:
            names = dict.fromkeys(_stdlib_name(f.filename) for f in folded)
            lines.append(
                f"… {plural(len(folded), 'frame')} in Python's standard library "
                f"({', '.join(names)})"
            )
            folded.clear()

    last: tuple[str, int | None, str] | None = None
    count = 0  # consecutive calls at ``last``: a runaway recursion is folded, as Python does

    def repeated() -> None:
        if count > _RECURSION_SHOWN:
            lines.append(f"  [Previous line repeated {count - _RECURSION_SHOWN} more times]")

    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.startswith(_ATTAK):
            continue
        if _in_stdlib(frame.filename):
            folded.append(frame)
            continue
        fold()
        where = (frame.filename, frame.lineno, frame.name)
        if where == last:
            count += 1
            if count > _RECURSION_SHOWN:
                continue
        else:
            repeated()
            last, count = where, 1
        lines += traceback.format_list([frame])[0].rstrip().splitlines()
    repeated()
    fold()
    return lines


def retry_limit(topology: Topology, source: str) -> int | None:
    """How many attempts an event from ``source`` gets: the stream's ``retry_attempts``
    plus its first, or Lambda's two retries of an asynchronous invoke plus the first."""
    if source == INPUT:
        return DIRECT_RETRIES + 1
    stream = topology_graph.resolve(topology).streams.get(source)
    return stream.settings.retry_attempts + 1 if stream is not None else None


def _span(numbers: Sequence[int], prefix: str = "") -> str:
    """``2-11`` for consecutive numbers, ``2, 5`` otherwise (each with ``prefix``)."""
    if len(numbers) > 1 and list(numbers) == list(range(numbers[0], numbers[-1] + 1)):
        return f"{prefix}{numbers[0]}-{prefix}{numbers[-1]}"
    return ", ".join(f"{prefix}{n}" for n in numbers)


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
        self.topology = topology
        self.show = show
        self.quiet = quiet
        self.shown = 0
        self.hidden = 0
        self.targets = topology_graph.stream_targets(topology)
        self.limits: dict[str, int | None] = {}
        """Attempts per source (``retry_limit``), worked out when first needed."""
        self.failed: dict[int, bool] = {}
        """The invocations that failed: ``True`` for those that failed as a whole (a
        timeout, the process ending), which Lambda retries with their whole record."""
        self.errors: dict[ErrorKey, int] = {}
        """Each distinct error, by the invocation whose traceback was printed for it."""
        # Bound now: while the engine runs, sys.stdout collects what handlers print.
        self.console = Console(file=sys.stdout, highlight=False, soft_wrap=True)

    def __call__(self, invocation: Invocation) -> None:
        if invocation.error is not None:
            self.failed[invocation.id] = isinstance(invocation.error, InvocationFailed)
        if self.quiet or (self.show and self.shown >= self.show and invocation.ok):
            self.hidden += 1
            return
        self.shown += 1
        self.print(invocation)

    def attempt(self, inv: Invocation) -> str:
        """Which attempt this is and who made it: ``attempt 2 of 3`` for the runtime's
        retry in place (or Lambda's retry of a direct invoke), or Lambda's retry of the
        whole record after an invocation failed as a whole."""
        if inv.attempt <= 1:
            return ""
        if inv.source != INPUT and inv.previous is not None:
            whole = self.failed.get(inv.previous)
            if whole is None:  # it went through, but its batch failed after it
                return f"attempt {inv.attempt}, again with its batch"
            if whole:
                return f"attempt {inv.attempt}, Lambda retrying the whole record"
        if inv.source not in self.limits:
            self.limits[inv.source] = retry_limit(self.topology, inv.source)
        limit = self.limits[inv.source]
        if limit is not None and inv.attempt <= limit:
            return f"attempt {inv.attempt} of {limit}"
        return f"attempt {inv.attempt}"

    def print(self, inv: Invocation) -> None:
        """One invocation: its record, what the handler printed, then its emits or error."""
        mark = "[green]●[/]" if inv.ok else "[red]✗[/]"
        attempt = self.attempt(inv)
        attempt = f" [yellow]{attempt}[/]" if attempt else ""
        source = inv.sender or "input"
        self.console.print(
            f"{mark} [dim]#{inv.id}[/] [cyan]{escape(inv.processor)}[/] ← {escape(source)}"
            f"{attempt}  {escape(preview(inv.event))}  [dim]trace {inv.trace[:8]}[/]"
        )
        for line in inv.logs.splitlines():
            self.console.print(f"    [dim]│ {escape(line)}[/]")
        if inv.error is not None:
            message = f"    [red]{escape(describe_error(inv.error))}[/]"
            first = self.errors.setdefault(error_key(inv.error), inv.id)
            if first != inv.id:
                self.console.print(f"{message}  [dim](same error as #{first})[/]")
            else:
                self.console.print(message)
                for line in traceback_lines(inv.error):
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


def simulation_summary(
    result: SimulationResult,
    seconds: float,
    topology: Topology,
    *,
    path: str = ".",
    warnings: Sequence[Issue] = (),
) -> None:
    """Per processor its counts and time, the dead letters (each with its attempts, its
    errors and how to follow its trace), the topology's warnings again, and whether every
    record was processed and every processor ran. ``path`` is the topology as the
    command was given it, for the commands suggested."""
    summary = table(
        "processor", "invocations", "errors", "failed", "retries", "emits", "dead letters", "time"
    )
    totals = {"invocations": 0, "emits": 0, "dead_letters": 0}
    idle: list[str] = []
    for name, row in result.summary.items():
        for key in totals:
            totals[key] += row[key]
        if not row["invocations"]:
            idle.append(name)
        summary.add_row(
            escape(name),
            str(row["invocations"]),
            red_if(row["errors"]),
            red_if(row["failed"]),
            str(row["retries"]),
            str(row["emits"]),
            red_if(row["dead_letters"]),
            _milliseconds(row["seconds"]),
        )
    out.print()
    out.print(summary)
    if result.dead_letters:
        _dead_letters(result, topology, path)
    _external(result, topology)
    counts = (
        f"{plural(totals['invocations'], 'invocation')}, {plural(totals['emits'], 'emit')}, "
        f"{plural(totals['dead_letters'], 'dead letter')} in {seconds:.2f} s"
    )
    if result.engine is not None:
        # The Kinesis engine's figures (EngineFigures.as_dict()), not imported here: that
        # module imports boto3, which the memory engine's runs never load.
        _wire(cast(WireFigures, result.engine))
    if warnings:
        # Printed before the run too, where a long trace scrolls them away.
        out.print(f"\n[yellow]{plural(len(warnings), 'warning')} (as at the top):[/]")
        for issue in warnings:
            where = ": ".join(part for part in (issue.file, issue.path) if part)
            out.print(f"  [yellow]{escape(where)}[/]: {escape(issue.message)}")
    never = (
        f"{len(idle)} of {plural(len(result.summary), 'processor')} never ran: "
        f"{escape(', '.join(idle))}"
        if idle
        else ""
    )
    out.print()
    if result.stopped:
        out.print(f"[bold red]✗ stopped:[/] {escape(result.stopped)}")
        out.print(f"  {plural(result.unprocessed, 'record')} left unprocessed in streams; {counts}")
    elif result.dead_letters:
        dead = plural(len(result.dead_letters), "record")
        out.print(f"[bold red]✗ {dead} dead-lettered:[/] {counts}")
        if never:
            out.print(f"  {never}")
    elif never:
        out.print(f"[bold yellow]✓ every record processed, but {never}[/]")
        out.print(f"  {counts}")
    else:
        out.print(f"[bold green]✓ every record processed:[/] {counts}")


def _external(result: SimulationResult, topology: Topology) -> None:
    """What the run would have written to each existing stream, which it never writes."""
    if not result.external:
        return
    out.print()
    for name, data in result.external.items():
        edge = topology.external[name]
        out.print(
            f"would have written {plural(len(data), 'record')} to {escape(name)} "
            f"({escape(edge.in_words)}): not sent, a local run writes nothing outside"
        )


def _dead_letters(result: SimulationResult, topology: Topology, path: str) -> None:
    """Each dead letter: where it was, its data and trace; its attempts, one traceback per
    distinct error; the command that follows its trace."""
    letters = result.dead_letters
    out.print(f"\n[bold red]dead letters ({len(letters)}):[/]")
    seen: dict[ErrorKey, str] = {}
    """Errors whose traceback the summary printed, with where (``#7``)."""
    followed = ""
    for letter in letters[:LETTERS_IN_FULL]:
        _dead_letter(result, topology, letter, seen, path, followed)
        followed = letter.trace
    if len(letters) > LETTERS_IN_FULL:
        out.print(
            f"  [dim]… {len(letters) - LETTERS_IN_FULL} more dead letters "
            "(attak simulate --json lists every one)[/]"
        )


def _attempts(result: SimulationResult, letter: DeadLetter) -> list[Invocation]:
    """The handler calls a dead letter had, first to last (its ``previous`` links)."""
    invocations = result.invocations
    chain: list[Invocation] = []
    number = letter.invocation
    while number is not None and 0 < number <= len(invocations):
        invocation = invocations[number - 1]
        # A record dead-lettered with its batch may never have reached the handler: the
        # last invocation is then another record's.
        if (invocation.processor, invocation.trace) != (letter.processor, letter.trace) or (
            invocation.event != letter.event
        ):
            break
        chain.append(invocation)
        number = invocation.previous
    return chain[::-1]


def _dead_letter(
    result: SimulationResult,
    topology: Topology,
    letter: DeadLetter,
    seen: dict[ErrorKey, str],
    path: str,
    followed: str,
) -> None:
    """One dead letter; ``followed`` is the trace of the letter before it, whose command
    was just printed."""
    limit = retry_limit(topology, letter.source)
    if not letter.attempts:
        tried = "not attempted"
    elif limit is not None and letter.attempts <= limit:
        why = (
            "Lambda retries an asynchronous invoke twice"
            if letter.source == INPUT
            else f"retry_attempts: {limit - 1}"
        )
        tried = f"after {letter.attempts} of {limit} attempts ({why})"
    else:  # Lambda retried the whole record too (bisected batches do not count)
        tried = f"after {letter.attempts} attempts (Lambda retried the whole record)"
    out.print(
        f"  [cyan]{escape(letter.processor)}[/] ← {escape(letter.source)}  "
        f"{escape(preview(letter.event))}  trace [bold]{escape(letter.trace or '-')}[/]  "
        f"{tried}"
    )
    groups: list[tuple[ErrorKey | None, Invocation, list[Invocation]]] = []
    calls = _attempts(result, letter)
    if letter.attempts and not calls:
        out.print("    [dim]its handler never reached it: its batch failed before it, each time[/]")
    for invocation in calls:
        key = error_key(invocation.error) if invocation.error is not None else None
        if groups and groups[-1][0] == key:
            groups[-1][2].append(invocation)
        else:
            groups.append((key, invocation, [invocation]))
    last = ""
    for key, first, tries in groups:
        label = f"attempt {first.attempt} (#{first.id})"
        if key is None:
            numbers = [c.attempt for c in tries]
            out.print(f"    [dim]attempts {_span(numbers)}: no error (run again with its batch)[/]")
            continue
        assert first.error is not None
        last = describe_error(first.error)
        if key in seen:
            out.print(f"    {label}: [red]{escape(last)}[/]  [dim](as {seen[key]} above)[/]")
        else:
            seen[key] = f"#{first.id}"
            out.print(f"    {label}: [red]{escape(last)}[/]")
            for line in traceback_lines(first.error):
                out.print(f"      [dim]{escape(line)}[/]")
        if len(tries) > 1:
            rest = tries[1:]
            word = "attempt" if len(rest) == 1 else "attempts"
            out.print(
                f"    same error on {word} {_span([c.attempt for c in rest])} "
                f"[dim]({_span([c.id for c in rest], '#')})[/]"
            )
    if letter.error != last:
        batch = "dead-lettered with its batch: " if calls and groups[-1][0] is None else ""
        out.print(f"    {batch}[red]{escape(letter.error)}[/]")
    if letter.trace and letter.trace != followed:
        where, trace = escape(shlex.quote(path)), escape(letter.trace)
        out.print(
            f"    [dim]follow it: attak ui {where} (trace filter {trace}); "
            f"deployed: attak logs {where} --trace {trace}[/]"
        )


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
