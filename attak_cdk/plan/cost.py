"""A topology's capacity and monthly cost at a given load: ``plan_topology``.

A pure function of the topology, the assumptions and a price table. It prices what the
topology declares (each stream on-demand or provisioned, as written) and sets each
stream's other mode beside it; idle is the same topology with no load, which for
serverless parts leaves the streams' hours, the alarms and the dashboard. Every line is
rounded to the cent and the totals are sums of the lines, so the table adds up.
"""

from __future__ import annotations

import math
from decimal import Decimal

from .. import graph
from ..model import Topology
from .assumptions import PLATFORM_LOG_BYTES, Assumptions
from .load import (
    ON_DEMAND_START_SHARDS,
    Load,
    ShardNeed,
    StreamLoad,
    invocations_per_second,
    propagate,
    stream_shard_needs,
)
from .prices import ARCHITECTURES, PriceTable, RegionPrices
from .quantities import format_size
from .result import CostLine, Plan, ProcessorPlan, StreamPlan, cents

GIB = Decimal(1024**3)
KIB = Decimal(1024)
PUT_PAYLOAD_UNIT = Decimal(25 * 1024)
"""Kinesis bills provisioned writes in 25 KB chunks of each record."""
ALARMS_PER_PROCESSOR = 3
"""Errors, iterator age and dead letters (see the synthesized stack)."""
DASHBOARDS = 1
STORM_INSTANCES = 4
"""The seed's comparison: Apache Storm's usual cluster of 4 m1.large instances."""
ACCOUNT_CONCURRENCY = 1000
"""Lambda's default concurrent executions per account and region."""
DEFAULT_REGION = "us-east-1"


def plan_topology(
    topology: Topology,
    assumptions: Assumptions,
    prices: PriceTable,
    *,
    region: str | None = None,
    architecture: str = "arm64",
    auto_streams: frozenset[str] = frozenset(),
) -> Plan:
    """Plan ``topology`` under ``assumptions`` with ``prices``; see the module docstring.

    ``auto_streams`` names the streams the topology declared ``shards: auto`` (their
    shard count in ``topology`` is already the planned one).
    """
    chosen = region or assumptions.region or DEFAULT_REGION
    price = prices.region(chosen)
    seconds = prices.hours_per_month * 3600
    load = propagate(topology, assumptions)
    needs = stream_shard_needs(load, assumptions)
    streams = tuple(
        _stream(s, needs[s.name], price, prices.hours_per_month, seconds, s.name in auto_streams)
        for s in load.streams
    )
    processors = tuple(
        _processor(topology, name, load, streams, assumptions, price, seconds, architecture)
        for name in topology.processors
    )
    alarms = cents(len(topology.processors) * ALARMS_PER_PROCESSOR * price.alarm_month)
    dashboard = cents(DASHBOARDS * price.dashboard_month)
    other = next(a for a in ARCHITECTURES if a != architecture)
    lines = (
        CostLine(
            "Kinesis streams",
            sum((s.idle for s in streams), Decimal(0)),
            sum((s.at_load for s in streams), Decimal(0)),
            f"{len(streams)} stream{'s' if len(streams) != 1 else ''}, as declared",
        ),
        CostLine(
            "Lambda requests",
            cents(Decimal(0)),
            sum((p.requests for p in processors), Decimal(0)),
            f"${price.lambda_requests_per_million} per million",
        ),
        CostLine(
            f"Lambda compute ({architecture})",
            cents(Decimal(0)),
            sum((p.compute for p in processors), Decimal(0)),
            f"{other}: ${sum((p.compute_other_architecture for p in processors), Decimal(0))}",
        ),
        CostLine(
            "CloudWatch log ingestion",
            cents(Decimal(0)),
            sum((p.logs for p in processors), Decimal(0)),
            f"${price.log_ingestion_per_gb} per GB",
        ),
        CostLine(
            "CloudWatch alarms",
            alarms,
            alarms,
            f"{ALARMS_PER_PROCESSOR} per processor, ${price.alarm_month} each",
        ),
        CostLine("CloudWatch dashboard", dashboard, dashboard, f"{DASHBOARDS}"),
        CostLine(
            "SQS dead letters",
            cents(Decimal(0)),
            sum((p.dead_letters for p in processors), Decimal(0)),
            f"{_percent(assumptions.dead_letters)} of records",
        ),
    )
    storm = cents(STORM_INSTANCES * price.storm_instance_hour * prices.hours_per_month)
    return Plan(
        topology=topology.name,
        region=chosen,
        architecture=architecture,
        currency=prices.currency,
        prices={
            "name": prices.name,
            "file": prices.file,
            "checked": prices.checked,
            "sources": prices.sources,
            "unconfirmed": list(price.unconfirmed),
        },
        streams=streams,
        processors=processors,
        lines=lines,
        storm=storm,
        storm_detail=f"{STORM_INSTANCES} x m1.large on-demand, running or idle",
        assumptions=tuple(_assumptions(topology, assumptions, prices)),
        warnings=tuple(_warnings(topology, load, streams, processors)),
    )


def _stream(
    stream: StreamLoad,
    need: ShardNeed,
    price: RegionPrices,
    hours: Decimal,
    seconds: Decimal,
    auto: bool,
) -> StreamPlan:
    records = stream.records_per_second
    record = stream.record_bytes
    units = records * math.ceil(record / PUT_PAYLOAD_UNIT) if records else Decimal(0)
    # On-demand bills each record rounded up to the next whole KB, going in and coming out.
    billed_gb = records * math.ceil(record / KIB) * KIB * seconds / GIB if records else Decimal(0)
    on_demand_idle = hours * price.on_demand_stream_hour
    on_demand = cents(
        on_demand_idle
        + billed_gb * price.on_demand_ingest_per_gb
        + billed_gb * price.on_demand_retrieval_per_gb
    )
    put_units = units * seconds / 1_000_000 * price.put_payload_units_per_million
    provisioned = cents(need.shards * hours * price.shard_hour + put_units)
    declared = stream.settings.shards
    if declared is None:
        # AWS sizes an on-demand stream by the data written, whatever its consumer needs.
        mode, shards = "on-demand", max(ON_DEMAND_START_SHARDS, need.throughput)
        idle, at_load = cents(on_demand_idle), on_demand
    else:
        mode, shards = "provisioned", declared
        idle = cents(declared * hours * price.shard_hour)
        at_load = cents(declared * hours * price.shard_hour + put_units)
    return StreamPlan(
        name=stream.name,
        source=stream.source,
        target=stream.target,
        topic=stream.topic,
        records_per_second=records,
        bytes_per_second=stream.bytes_per_second,
        record_bytes=record,
        put_payload_units_per_second=units,
        shards_needed=need.shards,
        limit=need.limit,
        mode=mode,
        shards=shards,
        auto=auto,
        on_demand=on_demand,
        provisioned=provisioned,
        idle=idle,
        at_load=at_load,
    )


def _processor(
    topology: Topology,
    name: str,
    load: Load,
    streams: tuple[StreamPlan, ...],
    assumptions: Assumptions,
    price: RegionPrices,
    seconds: Decimal,
    architecture: str,
) -> ProcessorPlan:
    processor = topology.processors[name]
    events = load.processors[name].events_per_second
    direct = load.processors[name].direct_events_per_second
    duration = assumptions.duration_of(name)
    invocations = direct
    concurrency = math.ceil(direct * duration)
    settings = {s.name: s.settings for s in load.streams}
    for stream in (s for s in streams if s.target == name):
        read = settings[stream.name]
        slots = stream.shards * read.parallelization_factor
        concurrency += slots
        invocations += invocations_per_second(
            stream.records_per_second, slots, read.batch_size, read.max_batching_window
        )
    gb_seconds = events * duration * Decimal(processor.memory) / 1024 * seconds
    log_bytes = invocations * PLATFORM_LOG_BYTES + events * (assumptions.of(name).log or 0)
    log_gb = log_bytes * seconds / GIB
    other = next(a for a in ARCHITECTURES if a != architecture)
    dead = events * assumptions.dead_letters * seconds
    return ProcessorPlan(
        name=name,
        memory=processor.memory,
        duration=duration,
        events_per_second=events,
        invocations_per_second=invocations,
        concurrency=concurrency,
        busy=events * duration,
        gb_seconds_per_month=gb_seconds,
        requests=cents(invocations * seconds / 1_000_000 * price.lambda_requests_per_million),
        compute=cents(gb_seconds * price.lambda_gb_second[architecture]),
        compute_other_architecture=cents(gb_seconds * price.lambda_gb_second[other]),
        log_gb_per_month=log_gb,
        logs=cents(log_gb * price.log_ingestion_per_gb),
        dead_letters=cents(dead / 1_000_000 * price.sqs_requests_per_million),
    )


def _assumptions(topology: Topology, assumptions: Assumptions, prices: PriceTable) -> list[str]:
    lines = []
    resolved = graph.resolve(topology)
    for entry in resolved.entries:
        rate = assumptions.entry_rate(entry)
        size = assumptions.entry_size(entry)
        if rate is None:
            lines.append(f"{entry}: no input rate given: planned as idle")
            continue
        events = rate.events_per_second(size)
        sized = "" if entry in assumptions.sizes or assumptions.size is not None else " (assumed)"
        lines.append(
            f"{entry}: {rate.text} = {_quantity(events)} events/s of {format_size(size)}{sized}"
        )
    for name in topology.processors:
        own = assumptions.of(name)
        outgoing = resolved.processors[name].routes
        duration = assumptions.duration_of(name)
        assumed = own.duration is None and assumptions.duration is None
        parts = [f"{_quantity(duration * 1000)} ms per event{' (assumed)' if assumed else ''}"]
        if outgoing:
            if own.emits is None:
                parts.append("emits 1 record per event into each stream (assumed)")
            elif isinstance(own.emits, Decimal):
                parts.append(f"emits {_quantity(own.emits)} per event into each stream")
            else:
                ratios = ", ".join(f"'{t}': {_quantity(r)}" for t, r in own.emits.items())
                parts.append(f"emits per event {ratios}")
            if own.size is not None:
                parts.append(f"emitted events of {format_size(own.size)}")
            else:
                parts.append("emitted events as large as the events received (assumed)")
        if own.log:
            parts.append(f"prints {format_size(own.log)} per event")
        lines.append(f"{name}: {'; '.join(parts)}")
    lines += [
        f"a steady load for the whole month ({_quantity(prices.hours_per_month)} hours); "
        "provisioned shards sized for that rate, not for peaks",
        "each record carries attak's envelope and a 16-character partition key; "
        "on-demand bills every record rounded up to a whole KB",
        f"Lambda logs {int(PLATFORM_LOG_BYTES)} B per invocation (START, END, REPORT) plus "
        "what handlers print; free tiers and Savings Plans not applied",
        f"prices: {prices.name or prices.file}, checked {prices.checked}",
    ]
    return lines


def _warnings(
    topology: Topology,
    load: Load,
    streams: tuple[StreamPlan, ...],
    processors: tuple[ProcessorPlan, ...],
) -> list[str]:
    warnings = []
    settings = {s.name: s.settings for s in load.streams}
    for stream in streams:
        if stream.mode == "provisioned" and stream.shards < stream.shards_needed:
            warnings.append(
                f"stream {stream.name} declares {stream.shards} shard(s); the load needs "
                f"{stream.shards_needed} ({stream.limit}): writes will be throttled or the "
                "consumer will fall behind (set shards to at least that, or shards: auto)"
            )
        elif stream.mode == "on-demand" and stream.shards < stream.shards_needed:
            factor = settings[stream.name].parallelization_factor
            warnings.append(
                f"stream {stream.name}: its consumer needs {stream.shards_needed} shards x "
                f"parallelization factor {factor} to keep up; on-demand gives about "
                f"{stream.shards} for this data rate: raise parallelization_factor or "
                "provision shards (shards: auto)"
            )
    for processor in processors:
        load_of = load.processors[processor.name]
        if load_of.dropped_per_second:
            warnings.append(
                f"processor {processor.name}: {_quantity(load_of.dropped_per_second)} emits/s "
                f"reach max_hops ({topology.max_hops}) and fail: a loop that does not settle"
            )
        reserved = topology.processors[processor.name].reserved_concurrency
        if reserved is not None and reserved < processor.concurrency:
            warnings.append(
                f"processor {processor.name}: reserved_concurrency {reserved} is below the "
                f"{processor.concurrency} concurrent executions its streams can start"
            )
    total = sum(p.concurrency for p in processors)
    if total > ACCOUNT_CONCURRENCY:
        warnings.append(
            f"up to {total} concurrent Lambda executions: above the default account limit of "
            f"{ACCOUNT_CONCURRENCY} per region (ask AWS for more through Service Quotas)"
        )
    return warnings


def _quantity(value: Decimal) -> str:
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _percent(share: Decimal) -> str:
    return f"{_quantity(share * 100)}%"
