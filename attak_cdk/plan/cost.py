"""A topology's capacity and monthly cost at a given load: ``plan_topology``.

A pure function of the topology, the assumptions and a price table. It prices what the
topology declares (each stream on-demand or provisioned, as written) and sets each
stream's other mode beside it; idle is the same topology with no load, which for
serverless parts leaves the streams' hours, the alarms and the dashboard. Every line is
rounded to the cent and the totals are sums of the lines, so the table adds up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from functools import partial

from .. import graph
from ..model import Topology
from ..runtime.logs import METRICS_PER_PROCESSOR
from ..stacks import ALARMS_PER_PROCESSOR, processor_stacks
from .advice import (
    DIRECT_MIN_RATE,
    DIRECT_SAVING,
    Batching,
    batching_choice,
    dominant,
    with_ingest_stream,
)
from .alternatives import alternatives, work
from .assumptions import LAMBDA_VCPU_MB, PLATFORM_LOG_BYTES, PLATFORM_LOG_LEVELS, Assumptions
from .load import (
    INGEST_FLUSH,
    Load,
    ShardNeed,
    StreamLoad,
    deployed_shards,
    propagate,
    stream_shard_needs,
)
from .prices import ARCHITECTURES, PriceTable, RegionPrices
from .quantities import format_rate, format_size
from .result import CostLine, Plan, ProcessorPlan, StreamPlan, cents, cheapest_at_load
from .wire import UNKNOWN_TOPIC, dead_letter_bytes, log_lines, runtime_seconds

GIB = Decimal(1024**3)
SQS_CHUNK = 64 * 1024
"""SQS bills each 64 KB chunk of a message as one request
(https://aws.amazon.com/sqs/pricing/)."""
ACCOUNT_CONCURRENCY = 1000
"""Lambda's default concurrent executions per account and region."""
DEFAULT_REGION = "us-east-1"
SCHEDULED_EVENT_PRICE = Decimal(0)
"""What EventBridge charges for a scheduled rule's events: they are AWS events on the
default bus, ingested and delivered to a target in the same account at no charge
(https://aws.amazon.com/eventbridge/pricing/: "AWS management events are ingested by the
event bus for free"; EventBridge Scheduler, a separate service attak does not use, bills
its invocations). The invocations they cause are priced as Lambda requests."""


def plan_topology(
    topology: Topology,
    assumptions: Assumptions,
    prices: PriceTable,
    *,
    region: str | None = None,
    architecture: str = "arm64",
    auto_streams: frozenset[str] = frozenset(),
    check_entries: bool = True,
) -> Plan:
    """Plan ``topology`` under ``assumptions`` with ``prices``; see the module docstring.

    ``auto_streams`` names the streams the topology declared ``shards: auto`` (their
    shard count in ``topology`` is already the planned one). ``check_entries``: plan each
    entry invoked directly again with an ingest stream, and warn when that is far cheaper.
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
    dashboards = len(processor_stacks(topology))
    dashboard = cents(dashboards * price.dashboard_month)
    # Each function on its processor's own architecture, if it sets one; the note prices
    # each on the other one.
    used = sorted({p.architecture or architecture for p in topology.processors.values()})
    other = (
        next(a for a in ARCHITECTURES if a != used[0])
        if len(used) == 1
        else "each on the other architecture"
    )
    lines: tuple[CostLine, ...] = (
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
            f"Lambda compute ({', '.join(used)})",
            cents(Decimal(0)),
            sum((p.compute for p in processors), Decimal(0)),
            f"{other}: ${sum((p.compute_other_architecture for p in processors), Decimal(0)):,.2f}",
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
        CostLine(
            "CloudWatch dashboards",
            dashboard,
            dashboard,
            f"{dashboards}: one per processor stack, ${price.dashboard_month} each",
        ),
        CostLine(
            "SQS dead letters",
            cents(Decimal(0)),
            sum((p.dead_letters for p in processors), Decimal(0)),
            f"{_percent(assumptions.dead_letters)} of events, a message each"
            if not assumptions.dead_letter_shares
            else "the share of each processor's events a run dead-lettered, a message each",
        ),
    )
    lines += _schedule_lines(topology, processors, seconds)
    lines += _failure_lines(topology, processors, assumptions, price)
    lines += _endpoint_lines(topology, load)
    compared = alternatives(work(topology, load, assumptions), price, prices.hours_per_month)
    warnings = _warnings(topology, load, streams, processors, assumptions)
    at_load = sum((line.at_load for line in lines), Decimal(0))
    if check_entries:
        ours = cheapest_at_load(at_load, streams)
        for entry, events in load.direct_entries().items():
            if events < DIRECT_MIN_RATE:
                continue
            batched = plan_topology(
                with_ingest_stream(topology, entry),
                assumptions,
                prices,
                region=region,
                architecture=architecture,
                auto_streams=auto_streams,
                check_entries=False,
            )
            # Both with every stream in its cheaper mode and sized for the load: a stream
            # declared too small for it is cheaper as declared but cannot carry it.
            if batched.cheapest_at_load <= DIRECT_SAVING * ours:
                warnings.append(
                    f"entry {entry} is invoked directly, {_quantity(events)} times a second: "
                    f"the plan costs ${ours:,.2f} a month at load with each stream in its "
                    f"cheaper mode; with input: stream (an ingest stream Lambda reads in "
                    f"batches) it would cost ${batched.cheapest_at_load:,.2f}"
                )
    choices = _batching_choices(topology, load, streams, processors, price, seconds)
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
        alternatives=compared,
        advantage_at_load=_advantage(streams, at_load, price, seconds),
        assumptions=tuple(_assumptions(topology, assumptions, prices, load)),
        warnings=tuple(warnings),
        choices=tuple(choices),
        dominant=dominant(
            lines,
            streams,
            processors,
            trace_sampling=topology.trace_sampling,
            loaded=assumptions.has_rate,
        ),
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
    units = stream.payload_units_per_second
    # On-demand bills each record rounded up to the next whole KB, going in and coming out.
    billed_gb = stream.billed_bytes_per_second * seconds / GIB
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
        mode, shards = "on-demand", deployed_shards(stream.settings, need)
        idle, at_load = cents(on_demand_idle), on_demand
    else:
        mode, shards = "provisioned", declared
        idle = cents(declared * hours * price.shard_hour)
        at_load = cents(declared * hours * price.shard_hour + put_units)
    advantage = None
    if price.advantage is not None:
        # No stream-hour; ingest and retrieval per GB, records rounded to the KB as on-demand.
        advantage = cents(
            billed_gb * price.advantage.ingest_per_gb + billed_gb * price.advantage.retrieval_per_gb
        )
    return StreamPlan(
        name=stream.name,
        source=stream.source,
        target=stream.target,
        topic=stream.topic,
        events_per_second=stream.events_per_second,
        events_per_record=stream.events_per_second / records if records else Decimal(0),
        compression=stream.wire.compression,
        flush=stream.flush,
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
        advantage=advantage,
    )


def _batching_choices(
    topology: Topology,
    load: Load,
    streams: tuple[StreamPlan, ...],
    processors: tuple[ProcessorPlan, ...],
    price: RegionPrices,
    seconds: Decimal,
) -> list[str]:
    """For each stream, a batch size or window that would cut its invocations enough to
    matter (``advice.batching_choice``), with what it costs in latency."""
    plans = {s.name: s for s in streams}
    durations = {p.name: p.duration for p in processors}

    def monthly(per_second: Decimal) -> Decimal:
        return per_second * seconds / 1_000_000 * price.lambda_requests_per_million

    choices = []
    for stream in load.streams:
        planned = plans[stream.name]
        choice = batching_choice(
            Batching(
                stream=stream.name,
                records_per_second=stream.records_per_second,
                slots=planned.shards * stream.settings.parallelization_factor,
                batch_size=stream.settings.batch_size,
                window=stream.settings.max_batching_window,
                events_per_record=planned.events_per_record,
                event_seconds=durations[stream.target],
                timeout=topology.processors[stream.target].timeout,
            ),
            monthly,
        )
        if choice:
            choices.append(choice)
    return choices


def _schedule_lines(
    topology: Topology, processors: tuple[ProcessorPlan, ...], seconds: Decimal
) -> tuple[CostLine, ...]:
    """EventBridge's line when the topology has schedules: its rules' events a month, at
    ``SCHEDULED_EVENT_PRICE`` (their Lambda invocations are in the requests line)."""
    scheduled = [p for p in processors if topology.processors[p.name].schedule is not None]
    if not scheduled:
        return ()
    fired = sum((p.invocations_per_second for p in scheduled), Decimal(0)) * seconds
    cost = cents(fired * SCHEDULED_EVENT_PRICE)
    rules = f"{len(scheduled)} scheduled rule{'s' if len(scheduled) != 1 else ''}"
    return (
        CostLine(
            "EventBridge schedules",
            cost,
            cost,
            f"{rules}, {fired:,.0f} invocations a month: AWS events on the default bus, no charge",
        ),
    )


def _failure_lines(
    topology: Topology,
    processors: tuple[ProcessorPlan, ...],
    assumptions: Assumptions,
    price: RegionPrices,
) -> tuple[CostLine, ...]:
    """What telling people of failures costs: the runtime's failure counts as custom
    metrics (published only by invocations with a failed event, so only in a month with
    failures) and, with ``alerts:``, each processor stack's topic key."""
    lines = []
    failing = [
        p.name for p in processors if p.events_per_second and assumptions.error_share(p.name)
    ]
    if failing:
        metrics = len(failing) * len(METRICS_PER_PROCESSOR)
        lines.append(
            CostLine(
                "CloudWatch custom metrics",
                cents(Decimal(0)),
                cents(metrics * price.custom_metric_month),
                f"{len(METRICS_PER_PROCESSOR)} per processor with failures "
                f"({', '.join(failing)}), ${price.custom_metric_month} each",
            )
        )
    if topology.alerts:
        keys = len(processor_stacks(topology))
        monthly = cents(keys * price.kms_key_month)
        lines.append(
            CostLine(
                "KMS keys (alerts: topics)",
                monthly,
                monthly,
                f"{keys}, ${price.kms_key_month} each",
            )
        )
    return tuple(lines)


def _endpoint_lines(topology: Topology, load: Load) -> tuple[CostLine, ...]:
    """The entries' HTTPS endpoints (``http:``): a function URL costs nothing beyond the
    invocations it makes, which the Lambda lines price already (one request per event at
    the entry's input rate, fewer when a request carries several events).
    https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html"""
    entries = [name for name, p in topology.processors.items() if p.http is not None]
    if not entries:
        return ()
    requests = sum((load.processors[name].direct_events_per_second for name in entries), Decimal(0))
    return (
        CostLine(
            "Lambda function URLs",
            cents(Decimal(0)),
            cents(Decimal(0)),
            f"{len(entries)} HTTPS endpoint{'s' if len(entries) != 1 else ''} "
            f"({', '.join(entries)}): no charge beyond their invocations, "
            f"{format_rate(requests)} requests a second (the input rate), "
            "priced as Lambda requests",
        ),
    )


def _advantage(
    streams: tuple[StreamPlan, ...], at_load: Decimal, price: RegionPrices, seconds: Decimal
) -> Decimal | None:
    """The total at load with the on-demand streams in On-demand Advantage: an account-wide
    mode, billed at least for its minimum ingest; ``None`` unless that is cheaper.
    https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html"""
    terms = price.advantage
    on_demand = [s for s in streams if s.mode == "on-demand" and s.advantage is not None]
    if terms is None or not on_demand:
        return None
    minimum = terms.minimum_mib_per_second * 1024**2 * seconds / GIB * terms.ingest_per_gb
    usage = sum((s.advantage or Decimal(0) for s in on_demand), Decimal(0))
    ingest = usage * terms.ingest_per_gb / (terms.ingest_per_gb + terms.retrieval_per_gb)
    advantage = max(ingest, minimum) + usage - ingest  # the minimum is one of ingest
    total = at_load - sum((s.at_load for s in on_demand), Decimal(0)) + advantage
    return cents(total) if total < at_load else None


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
    # arm64 and x86_64 have a price per GB-second each (the price table's gb_second).
    architecture = processor.architecture or architecture
    planned = load.processors[name]
    events = planned.events_per_second
    direct = planned.direct_events_per_second
    # Lambda bills the runtime's own work on each event too (unpacking what it reads,
    # packing what it emits), at the function's share of a vCPU.
    share = max(Decimal(1), Decimal(LAMBDA_VCPU_MB) / processor.memory)
    duration = assumptions.duration_of(name) + runtime_seconds(planned.event_bytes) * share
    invocations = planned.invocations_per_second
    concurrency = math.ceil(direct * duration)
    settings = {s.name: s.settings for s in load.streams}
    for stream in (s for s in streams if s.target == name):
        concurrency += stream.shards * settings[stream.name].parallelization_factor
    gb_seconds = events * duration * Decimal(processor.memory) / 1024 * seconds
    log_bytes = _log_bytes(topology, name, load, assumptions)
    log_gb = log_bytes * seconds / GIB
    other = next(a for a in ARCHITECTURES if a != architecture)
    reads = [s for s in load.streams if s.target == name]
    letter = dead_letter_bytes(name, reads[0].name if reads else "input", planned.event_bytes)
    messages = events * assumptions.dead_letter_share(name) * seconds
    dead = messages * math.ceil(letter / SQS_CHUNK)
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
        log_bytes_per_event=log_bytes / events if events else Decimal(0),
        logs=cents(log_gb * price.log_ingestion_per_gb),
        dead_letters=cents(dead / 1_000_000 * price.sqs_requests_per_million),
    )


def _log_bytes(topology: Topology, name: str, load: Load, assumptions: Assumptions) -> Decimal:
    """Bytes a second in the processor's log: the runtime's summary line per invocation,
    the start mark and record line of each sampled trace's event, the line of each failed
    event and its invocation's metrics, what the handler prints, and Lambda's own lines
    when its level lets them."""
    planned = load.processors[name]
    events, invocations = planned.events_per_second, planned.invocations_per_second
    if not events:
        return Decimal(0)
    routes = graph.resolve(topology).processors[name].routes
    own = assumptions.of(name).emits
    if isinstance(own, Mapping):
        emits = {topic: round(ratio) for topic, ratio in own.items()}
    else:
        topic = routes[0].topic if routes and routes[0].topic else UNKNOWN_TOPIC
        emits = {topic: round(assumptions.emits_per_event(name))} if routes else {}
    per_invocation = planned.events_per_invocation
    records = sum((s.records_per_second for s in load.streams if s.target == name), Decimal(0))
    lines = log_lines(
        name,
        emits,
        round(per_invocation),
        max(1, round(records / invocations)) if invocations else 1,
        direct=bool(planned.direct_events_per_second),
        topology=topology.name,
    )
    sampling = Decimal(str(topology.trace_sampling))
    failing = events * assumptions.error_share(name)
    total = (
        invocations * lines.summary
        + events * sampling * (lines.start + lines.record)
        + failing * lines.error
        # A failed event's invocation carries its counts as metrics: at most one such
        # summary line per failed event, and never more than one per invocation.
        + min(failing, invocations) * lines.metrics
        + events * (assumptions.of(name).log or 0)
    )
    if topology.processors[name].system_log_level in PLATFORM_LOG_LEVELS:
        total += invocations * PLATFORM_LOG_BYTES
    return total


def _assumptions(
    topology: Topology, assumptions: Assumptions, prices: PriceTable, load: Load
) -> list[str]:
    lines = []
    if assumptions.measured_from:
        lines.append(f"figures marked measured: a local run of {assumptions.measured_from}")
    resolved = graph.resolve(topology)
    for entry in resolved.entries:
        rate = assumptions.entry_rate(entry)
        size = assumptions.entry_size(entry)
        if rate is None:
            lines.append(f"{entry}: no input rate given: planned as idle")
            continue
        events = rate.events_per_second(size)
        if assumptions.is_measured(entry, "input_size"):
            sized = " (measured)"
        elif entry in assumptions.sizes or assumptions.size is not None:
            sized = ""
        else:
            sized = " (assumed)"
        lines.append(
            f"{entry}: {rate.text} = {_quantity(events)} events/s of {format_size(size)}{sized}"
        )
    for name in topology.processors:
        own = assumptions.of(name)
        outgoing = resolved.processors[name].routes
        duration = assumptions.duration_of(name)
        measured = partial(_measured, assumptions, name)
        if assumptions.is_measured(name, "duration"):
            slowest = assumptions.p99.get(name, duration)
            core = assumptions.cpu_of(name, topology.processors[name].memory)
            how = (
                f" on a {topology.processors[name].memory} MB function (measured median "
                f"{_quantity(core * 1000)} ms on a full core, scaled to the function's share "
                f"of a vCPU; p99 {_quantity(slowest * 1000)} ms)"
            )
        elif own.duration is None and assumptions.duration is None:
            how = " (assumed)"
        else:
            how = ""
        parts = [f"{_quantity(duration * 1000)} ms per event{how}"]
        if outgoing:
            if own.emits is None:
                parts.append("emits 1 event per event into each stream (assumed)")
            elif isinstance(own.emits, Decimal):
                parts.append(f"emits {_quantity(own.emits)} per event into each stream")
            elif own.emits:
                ratios = ", ".join(f"'{t}': {_quantity(r)}" for t, r in own.emits.items())
                parts.append(f"emits per event {ratios}{measured('emits')}")
            else:
                parts.append(f"emits nothing{measured('emits')}")
            if own.size is not None:
                parts.append(f"emitted events of {format_size(own.size)}{measured('size')}")
            else:
                parts.append("emitted events as large as the events received (assumed)")
        if assumptions.is_measured(name, "errors") and assumptions.error_share(name):
            parts.append(
                f"{_quantity(assumptions.error_share(name))} failed handler calls per event "
                f"(retries included), {_percent(assumptions.dead_letter_share(name))} of "
                "events dead-lettered (measured)"
            )
        if own.log:
            parts.append(f"prints {format_size(own.log)} per event{measured('log')}")
        lines.append(f"{name}: {'; '.join(parts)}")
    for stream in load.streams:
        lines.append(_wire_line(stream, assumptions))
    sampling = _percent(Decimal(str(topology.trace_sampling)))
    loud = [n for n, p in topology.processors.items() if p.system_log_level in PLATFORM_LOG_LEVELS]
    platform = (
        f"Lambda's own lines ({int(PLATFORM_LOG_BYTES)} B an invocation) for "
        f"{', '.join(loud)} (system_log_level INFO or DEBUG)"
        if loud
        else "no Lambda START/END/REPORT lines (system_log_level WARN)"
    )
    lines += [
        f"a steady load for the whole month ({_quantity(prices.hours_per_month)} hours); "
        "provisioned shards sized for that rate, not for peaks",
        f"logs: the runtime's summary line per invocation, a start mark and a record line "
        f"for the {sampling} of traces sampled (trace_sampling), a line per failed event "
        f"(at the dead-letter rate unless measured), as the runtime writes them; {platform}; "
        "free tiers and Savings Plans not applied",
        f"prices: {prices.name or prices.file}, checked {prices.checked}",
    ]
    return lines


def _measured(assumptions: Assumptions, processor: str, figure: str) -> str:
    """`` (measured)`` after a figure a run measured."""
    return " (measured)" if assumptions.is_measured(processor, figure) else ""


def _wire_line(stream: StreamLoad, assumptions: Assumptions) -> str:
    """How a stream's events travel: flush, aggregation, compression, and whence."""
    wire = stream.wire
    if assumptions.compression is not None:
        how = "as written"
    elif stream.name in assumptions.samples:
        how = "measured"
    else:
        how = "assumed"
    writer = (
        f"producers write {INGEST_FLUSH} events a call (assumed)"
        if stream.source is None
        else f"{stream.flush} event{'s' if stream.flush != 1 else ''} per flush"
    )
    per_record = 1 / wire.records if wire.records else Decimal(0)
    events = "event" if per_record == 1 else "events"
    return (
        f"stream {stream.name}: {writer}, {_quantity(per_record)} {events} a record, "
        f"{_quantity(wire.bytes)} B an event on the wire ({_quantity(wire.compression)}x "
        f"compression, {how}; {_quantity(wire.raw_bytes)} B with envelope and key before)"
    )


def _warnings(
    topology: Topology,
    load: Load,
    streams: tuple[StreamPlan, ...],
    processors: tuple[ProcessorPlan, ...],
    assumptions: Assumptions,
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
    warnings += assumptions.run_problems
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
