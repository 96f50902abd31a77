"""A plan's results: plain frozen data, with money as ``Decimal`` rounded to the cent.

``as_dict`` gives the ``attak plan --json`` document; numbers that are money are strings
(``"47.74"``) so no JSON reader turns a bill into a binary fraction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .alternatives import Alternative

CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    """Money rounded to the cent, halves up, as a bill rounds."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _fraction(value: Decimal | None) -> float | None:
    return None if value is None else _number(value, 4)


def _number(value: Decimal, places: int = 3) -> float:
    """A measured quantity for JSON: rounded, as a plain number."""
    return float(round(value, places))


@dataclass(frozen=True)
class StreamPlan:
    """One stream at the planned load: its size, its shards, and both ways to pay for it."""

    name: str
    source: str | None
    target: str
    topic: str | None
    events_per_second: Decimal
    events_per_record: Decimal
    """Events an aggregated record carries, on average."""
    compression: Decimal
    """How many times smaller compression made the records (1: not compressed)."""
    flush: int
    """Events its writer sends at once: what the records are packed from."""
    records_per_second: Decimal
    bytes_per_second: Decimal
    record_bytes: Decimal
    put_payload_units_per_second: Decimal
    shards_needed: int
    limit: str
    """What decides ``shards_needed``: write records/s, write MB/s, read MB/s, consumer time."""
    mode: str
    """As the topology declares it: ``provisioned`` or ``on-demand``."""
    shards: int
    """Shards as deployed: declared (or planned, for ``shards: auto``); AWS's estimate for
    on-demand."""
    auto: bool
    on_demand: Decimal
    """Monthly cost at this load in on-demand mode."""
    provisioned: Decimal
    """Monthly cost at this load with ``shards_needed`` provisioned shards."""
    idle: Decimal
    """Monthly cost as declared, with no load."""
    at_load: Decimal
    """Monthly cost as declared, at this load."""
    advantage: Decimal | None = None
    """Monthly cost at this load in On-demand Advantage, before the account's minimum
    commitment (``None``: the price table has no Advantage prices)."""

    @property
    def cheaper(self) -> str:
        return "provisioned" if self.provisioned <= self.on_demand else "on-demand"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "from": self.source,
            "to": self.target,
            "topic": self.topic,
            "events_per_second": _number(self.events_per_second),
            "events_per_record": _number(self.events_per_record),
            "compression": _number(self.compression, 2),
            "flush_events": self.flush,
            "records_per_second": _number(self.records_per_second),
            "mb_per_second": _number(self.bytes_per_second / 1024**2, 6),
            "record_bytes": _number(self.record_bytes, 1),
            "put_payload_units_per_second": _number(self.put_payload_units_per_second),
            "shards_needed": self.shards_needed,
            "limit": self.limit,
            "mode": self.mode,
            "shards": self.shards,
            "auto": self.auto,
            "monthly": {
                "on_demand": str(self.on_demand),
                "provisioned": str(self.provisioned),
                "cheaper": self.cheaper,
                "on_demand_advantage": str(self.advantage) if self.advantage is not None else None,
                "idle": str(self.idle),
                "at_load": str(self.at_load),
            },
        }


@dataclass(frozen=True)
class ProcessorPlan:
    """One processor at the planned load: its Lambda invocations, concurrency and cost."""

    name: str
    memory: int
    duration: Decimal
    """Seconds per event."""
    events_per_second: Decimal
    invocations_per_second: Decimal
    concurrency: int
    """At most this many run at once: shards x parallelization factor over its streams, or,
    invoked directly, the events in flight."""
    busy: Decimal
    """On average this many run at once (events/s x duration)."""
    gb_seconds_per_month: Decimal
    requests: Decimal
    compute: Decimal
    compute_other_architecture: Decimal
    log_gb_per_month: Decimal
    log_bytes_per_event: Decimal
    """The runtime's (and Lambda's, when enabled) log bytes per event received."""
    logs: Decimal
    dead_letters: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "memory_mb": self.memory,
            "duration_ms": _number(self.duration * 1000),
            "events_per_second": _number(self.events_per_second),
            "invocations_per_second": _number(self.invocations_per_second),
            "concurrency": self.concurrency,
            "busy": _number(self.busy),
            "gb_seconds_per_month": _number(self.gb_seconds_per_month),
            "log_gb_per_month": _number(self.log_gb_per_month),
            "log_bytes_per_event": _number(self.log_bytes_per_event, 1),
            "monthly": {
                "requests": str(self.requests),
                "compute": str(self.compute),
                "compute_other_architecture": str(self.compute_other_architecture),
                "logs": str(self.logs),
                "dead_letters": str(self.dead_letters),
            },
        }


@dataclass(frozen=True)
class CostLine:
    """One line of the monthly bill, idle and at load."""

    item: str
    idle: Decimal
    at_load: Decimal
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "item": self.item,
            "idle": str(self.idle),
            "at_load": str(self.at_load),
            "detail": self.detail,
        }


def cheapest_at_load(at_load: Decimal, streams: Sequence[StreamPlan]) -> Decimal:
    """``at_load`` with every stream in ``streams`` in its cheaper mode, sized for the load
    (a stream declared too small is cheaper as declared, but cannot carry the load)."""
    declared = sum((s.at_load for s in streams), Decimal(0))
    cheapest = sum((min(s.on_demand, s.provisioned) for s in streams), Decimal(0))
    return at_load - declared + cheapest


@dataclass(frozen=True)
class Plan:
    """Capacity and monthly cost of a topology at one load, and what it was assumed from."""

    topology: str
    region: str
    architecture: str
    currency: str
    prices: dict[str, Any]
    """Where the prices come from: table name, file, date checked, sources, unconfirmed."""
    streams: tuple[StreamPlan, ...]
    processors: tuple[ProcessorPlan, ...]
    lines: tuple[CostLine, ...]
    alternatives: tuple[Alternative, ...]
    """The same work on clusters: sized ones first, the seed's reference last."""
    advantage_at_load: Decimal | None = None
    """The total at load with every on-demand stream in On-demand Advantage, the account's
    minimum commitment included; ``None`` when it would not be cheaper."""
    assumptions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)
    dominant: str = ""
    """The line that dominates the bill, its share, and what would change it."""
    choices: tuple[str, ...] = ()
    """Settings the plan offers, each with what it saves and what it costs."""

    @property
    def idle(self) -> Decimal:
        return sum((line.idle for line in self.lines), Decimal(0))

    @property
    def at_load(self) -> Decimal:
        return sum((line.at_load for line in self.lines), Decimal(0))

    @property
    def seed(self) -> Alternative:
        """The seed's Storm cluster: 4 x m1.large, whatever the load."""
        return self.alternatives[-1]

    def fraction_of(self, alternative: Alternative, *, loaded: bool = True) -> Decimal | None:
        """attak's monthly cost as a share of ``alternative``'s (``None`` if it costs 0)."""
        theirs = alternative.at_load if loaded else alternative.idle
        ours = self.at_load if loaded else self.idle
        return ours / theirs if theirs else None

    @property
    def cheapest_at_load(self) -> Decimal:
        """At load, with every stream in its cheaper mode."""
        return cheapest_at_load(self.at_load, self.streams)

    def as_dict(self) -> dict[str, Any]:
        return {
            "topology": self.topology,
            "region": self.region,
            "architecture": self.architecture,
            "currency": self.currency,
            "prices": self.prices,
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
            "dominant": self.dominant,
            "choices": list(self.choices),
            "streams": [s.as_dict() for s in self.streams],
            "processors": [p.as_dict() for p in self.processors],
            "monthly": {
                "lines": [line.as_dict() for line in self.lines],
                "idle": str(self.idle),
                "at_load": str(self.at_load),
                "cheapest_at_load": str(self.cheapest_at_load),
                "on_demand_advantage_at_load": str(self.advantage_at_load)
                if self.advantage_at_load is not None
                else None,
                "storm_cluster": str(self.seed.at_load),
                "storm_cluster_detail": self.seed.detail,
            },
            "alternatives": [
                {
                    **a.as_dict(),
                    "attak_fraction_idle": _fraction(self.fraction_of(a, loaded=False)),
                    "attak_fraction_at_load": _fraction(self.fraction_of(a)),
                }
                for a in self.alternatives
            ],
        }
