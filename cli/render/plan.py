"""``attak plan``: streams and processors at the planned load, the monthly bill idle and at
load beside a Storm cluster, and every assumption it rests on.

``--json`` bypasses this module (``Plan.as_dict``, where money is a string).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from attak_cdk.plan.quantities import format_rate

from .console import err, out
from .tables import print_fitted

STREAM_COLUMNS = (
    "stream", "records/s", "MB/s", "shards", "by", "mode", "on-demand", "provisioned", "cheaper",
)  # fmt: skip
PROCESSOR_COLUMNS = (
    "processor", "events/s", "invocations/s", "concurrency", "busy", "GB-s/month",
    "requests", "compute", "logs",
)  # fmt: skip

if TYPE_CHECKING:
    from attak_cdk.plan.result import Plan


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _fractions(result: Plan) -> list[str]:
    """attak's monthly cost as a share of each alternative's, at load and idle."""
    lines = []
    for alternative in result.alternatives:
        loaded = result.fraction_of(alternative)
        idle = result.fraction_of(alternative, loaded=False)
        if idle is not None and loaded is not None:
            lines.append(f"{alternative.name}: {_share(loaded)}, {_share(idle)}")
    return lines


def _share(fraction: Decimal) -> str:
    """0.31 -> ``31%``, 0.004 -> ``0.4%``, 2.5 -> ``2.5x``."""
    if fraction >= 2:
        return f"{fraction:,.1f}x"
    percent = fraction * 100
    return f"{percent:.0f}%" if percent >= 10 else f"{percent:.1f}%"


def plan_report(result: Plan, *, console: Console = out, errors: Console = err) -> None:
    """A plan: streams, processors, the monthly bill idle and at load, what dominates it,
    and the assumptions. Tables are whole or stacked, never cut (``print_fitted``)."""
    currency = result.currency
    console.print(
        f"[bold]{escape(result.topology)}[/]: monthly plan in {escape(result.region)} "
        f"({escape(currency)}, prices checked {escape(result.prices['checked'])})\n"
    )
    if result.streams:
        advantage = any(s.advantage is not None for s in result.streams)
        rows = []
        for s in result.streams:
            # The mode as declared; a provisioned count below the need shows in yellow.
            count = f"{s.shards} shard{'s' if s.shards != 1 else ''}"
            declared = "on-demand" if s.mode == "on-demand" else count
            if s.auto:
                declared = f"auto: {s.shards}"
            elif s.mode == "provisioned" and s.shards < s.shards_needed:
                declared = f"[yellow]{count}[/]"
            rows.append(
                [
                    escape(s.name),
                    format_rate(s.records_per_second),
                    f"{s.bytes_per_second / 1024**2:,.2f}",
                    str(s.shards_needed),
                    s.limit,
                    declared,
                    _money(s.on_demand),
                    _money(s.provisioned),
                    s.cheaper,
                    *([_money(s.advantage)] if s.advantage is not None else []),
                ]
            )
        print_fitted(
            console,
            (*STREAM_COLUMNS, *(["advantage"] if advantage else [])),
            rows,
            left=("by", "mode", "cheaper"),
        )
        console.print()
    print_fitted(
        console,
        PROCESSOR_COLUMNS,
        [
            [
                escape(p.name),
                format_rate(p.events_per_second),
                format_rate(p.invocations_per_second),
                str(p.concurrency),
                f"{p.busy:,.1f}",
                f"{p.gb_seconds_per_month:,.0f}",
                _money(p.requests),
                _money(p.compute),
                _money(p.logs),
            ]
            for p in result.processors
        ],
    )
    console.print()
    bill = [
        [
            escape(line.item),
            _money(line.idle),
            _money(line.at_load),
            f"[dim]{escape(line.detail)}[/]",
        ]
        for line in result.lines
    ]
    bill.append(
        [
            "[bold]total[/]",
            f"[bold]{_money(result.idle)}[/]",
            f"[bold]{_money(result.at_load)}[/]",
            "",
        ]
    )
    # Only when it saves: a stream declared below its need is cheaper as declared, but
    # cannot carry the load (the warning says so).
    if result.cheapest_at_load < result.at_load:
        bill.append(
            ["total, each stream in its cheaper mode", "", _money(result.cheapest_at_load), ""]
        )
    if result.advantage_at_load is not None:
        bill.append(
            [
                "total, on-demand streams in On-demand Advantage",
                "",
                _money(result.advantage_at_load),
                "[dim]account-wide, its minimum commitment included[/]",
            ]
        )
    for alternative in result.alternatives:
        bill.append(
            [
                alternative.name,
                _money(alternative.idle),
                _money(alternative.at_load),
                f"[dim]{escape(alternative.detail)}[/]",
            ]
        )
    print_fitted(
        console, (f"monthly ({escape(currency)})", "idle", "at load", ""), bill, fold=("",)
    )
    console.print("\n[bold]attak's bill as a share of the same work on[/] (at load, idle):")
    for line in _fractions(result):
        console.print(f"  {line}")
    if result.dominant:
        console.print(f"\n[bold]dominant:[/] {escape(result.dominant)}")
    if result.choices:
        console.print("\n[bold]choices[/] (the plan's offer; change them in the topology):")
        for choice in result.choices:
            console.print(f"  - {escape(choice)}")
    console.print("\n[bold]assumed[/] (set them under plan: in the topology, or with options):")
    for assumption in result.assumptions:
        console.print(f"  - {escape(assumption)}")
    for price in result.prices.get("unconfirmed", []):
        console.print(f"  [dim]- price not confirmed: {escape(price)}[/]")
    for warning in result.warnings:
        errors.print(f"  [yellow]warning:[/] {escape(warning)}")
