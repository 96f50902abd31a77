"""``attak plan``: streams and processors at the planned load, the monthly bill idle and at
load beside a Storm cluster, and every assumption it rests on.

``--json`` bypasses this module (``Plan.as_dict``, where money is a string).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from rich.markup import escape

from .console import err, out
from .tables import table

if TYPE_CHECKING:
    from attak_cdk.plan.result import Plan


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def _rate(value: Decimal) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:,.2f}".rstrip("0").rstrip(".")


def plan_report(result: Plan) -> None:
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
    for assumption in result.assumptions:
        out.print(f"  - {escape(assumption)}")
    for price in result.prices.get("unconfirmed", []):
        out.print(f"  [dim]- price not confirmed: {escape(price)}[/]")
    for warning in result.warnings:
        err.print(f"  [yellow]warning:[/] {escape(warning)}")
