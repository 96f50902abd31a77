"""``attak logs`` (and ``trigger --follow``): processors' log lines, interleaved, each with
its processor's name in its own colour; the runtime's record and summary lines put in words."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

from rich.markup import escape

from .console import err, out

if TYPE_CHECKING:
    from attak_cdk.live.logs import LogLine

PROCESSOR_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan")


class LogPrinter:
    """Log lines of several processors, each prefixed with its processor's name and colour."""

    def __init__(self, processors: list[str], *, as_json: bool = False) -> None:
        self.as_json = as_json
        self.width = max((len(name) for name in processors), default=0)
        self.colours = {
            name: PROCESSOR_COLOURS[i % len(PROCESSOR_COLOURS)] for i, name in enumerate(processors)
        }
        self.count = 0

    def __call__(self, lines: list[LogLine]) -> None:
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


def _log_text(line: LogLine) -> str:
    """A log line; the runtime's record and summary lines in words (``--json`` keeps them
    whole)."""
    if line.summary is not None:
        return _summary_text(line.summary)
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


def _summary_text(summary: dict[str, object]) -> str:
    """An invocation's summary line: ``▤ 100 records, 100 events, 1 error  → 99 'out'  12 ms``."""
    errors = _count(summary.get("errors"))
    mark = "[red]▤[/]" if errors or summary.get("error") else "[dim]▤[/]"
    text = (
        f"{mark} {_plural(_count(summary.get('records')), 'record')}, "
        f"{_plural(_count(summary.get('events')), 'event')}"
    )
    if errors:
        text += f", [red]{_plural(errors, 'error')}[/]"
    emits = summary.get("emits")
    if isinstance(emits, dict) and emits:
        text += "  → " + ", ".join(f"{n} '{escape(str(t))}'" for t, n in emits.items())
    dead = _count(summary.get("dead_letters"))
    if dead:
        text += f"  [red]{_plural(dead, 'dead letter')}[/]"
    if summary.get("error"):
        text += f"  [red]{escape(str(summary['error']))}[/]"
    if summary.get("ms") is not None:
        text += f"  [dim]{summary['ms']} ms[/]"
    return text


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def logs_end(count: int, reason: str, trace: str | None) -> None:
    """Why following stopped, or that nothing was found."""
    if reason == "timeout" and count == 0:
        err.print("[yellow]no log lines arrived before --timeout; try `attak logs` later[/]")
    elif count == 0:
        which = f" of trace {trace}" if trace else ""
        err.print(f"[dim]no log lines{escape(which)} in that time (widen it with --since)[/]")


def following(processors: list[str], quiet: float) -> None:
    """The line before following: whose logs, until how long a quiet."""
    out.print(
        f"\n[dim]following the logs of {escape(', '.join(processors))} until quiet for "
        f"{quiet:.0f} s (Ctrl-C stops)[/]"
    )
