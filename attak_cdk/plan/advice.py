"""What a plan tells you to change: the line that dominates the bill and what would lower
it, the entries whose direct invocations cost more than an ingest stream would, and the
batch sizes and windows that would cut a stream's invocations.

The advice is computed from the plan's own figures (never from a rule of thumb beside
them): the processor or stream that makes a line largest is named with its figure, and
the direct-invocation check plans the topology again with the entry reading an ingest
stream, so its warning quotes two totals priced the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from ..model import Topology
from .load import invocations_per_second
from .quantities import format_rate
from .result import CostLine, ProcessorPlan, StreamPlan

DIRECT_SAVING = Decimal("0.8")
"""An ingest stream is worth a warning when the plan with it costs at most this share of
the plan without (a fifth saved)."""
DIRECT_MIN_RATE = Decimal(10)
"""Entries invoked fewer times a second are not checked: an ingest stream's hours cost
more than the requests it would save."""


def dominant(
    lines: Sequence[CostLine],
    streams: Sequence[StreamPlan],
    processors: Sequence[ProcessorPlan],
    *,
    trace_sampling: float,
    loaded: bool,
) -> str:
    """The largest line of the bill (at load, or idle without a load), its share, and what
    would change it; empty for a bill of nothing."""
    figure: Callable[[CostLine], Decimal] = (
        (lambda line: line.at_load) if loaded else (lambda line: line.idle)
    )
    total = sum((figure(line) for line in lines), Decimal(0))
    if not total:
        return ""
    line = max(lines, key=figure)
    share = figure(line) / total
    head = (
        f"{line.item}, ${figure(line):,.2f} of ${total:,.2f} "
        f"{'at load' if loaded else 'idle'} ({share:.0%})"
    )
    return f"{head}: {_what_changes(line, streams, processors, trace_sampling, loaded)}"


def _what_changes(
    line: CostLine,
    streams: Sequence[StreamPlan],
    processors: Sequence[ProcessorPlan],
    trace_sampling: float,
    loaded: bool,
) -> str:
    item = line.item
    if item == "Kinesis streams" and streams:
        if not loaded:
            on_demand = [s for s in streams if s.mode == "on-demand"]
            if on_demand:
                return (
                    f"{len(on_demand)} on-demand stream(s) billed by the hour whether used or "
                    f"not, ${on_demand[0].idle:,.2f} a month each; one provisioned shard "
                    "(shards: 1) costs less idle"
                )
            shards = sum(s.shards for s in streams)
            return (
                f"{len(streams)} stream(s), {shards} provisioned shard(s) billed by the hour "
                "whether used or not: the least a stream costs"
            )
        s = max(streams, key=lambda s: s.at_load)
        if s.mode == "on-demand" and s.provisioned < s.on_demand:
            return (
                f"stream {s.name} is on-demand at ${s.on_demand:,.2f}; provisioned "
                f"({s.shards_needed} shards: shards: auto) would cost ${s.provisioned:,.2f}"
            )
        per_record = s.events_per_record
        return (
            f"stream {s.name} costs ${s.at_load:,.2f} for {s.records_per_second:,.0f} records/s "
            f"of {per_record:,.1f} events each: fewer, larger events (or keys that batch "
            "together) pack more events a record"
        )
    if item == "Lambda requests" and processors:
        p = max(processors, key=lambda p: p.requests)
        per = p.events_per_second / p.invocations_per_second if p.invocations_per_second else 0
        if per <= Decimal("1.01"):
            return (
                f"{p.name} is invoked once per event ({p.events_per_second:,.0f}/s): with "
                "input: stream Lambda reads its events in batches"
            )
        return (
            f"{p.name} handles {per:,.0f} events an invocation: a larger batch_size or "
            "max_batching_window on its streams means fewer invocations"
        )
    if item.startswith("Lambda compute") and processors:
        p = max(processors, key=lambda p: p.compute)
        return (
            f"{p.name}: {p.events_per_second:,.0f} events/s x {p.duration * 1000:,.3g} ms x "
            f"{p.memory} MB; a faster handler or less memory lowers it"
        )
    if item == "CloudWatch log ingestion" and processors:
        p = max(processors, key=lambda p: p.logs)
        return (
            f"{p.name} writes {p.log_bytes_per_event:,.0f} B of log per event: what its "
            f"handler prints, trace_sampling ({trace_sampling:.2%} of traces logged record "
            "by record) and system_log_level set it"
        )
    if item == "SQS dead letters":
        return "the failing events: fix them and this line goes"
    if item == "writes to existing streams":
        return (
            "one record per event emitted to them, billed by the record's size rounded up "
            "(Firehose: to 5 KB): fewer, larger events cost less"
        )
    return "a fixed cost per processor or stack, whatever the load"


def with_ingest_stream(topology: Topology, entry: str) -> Topology:
    """``topology`` with ``entry`` reading an ingest stream instead of direct invocations."""
    processors = dict(topology.processors)
    processors[entry] = replace(processors[entry], input="stream")
    return replace(topology, processors=processors)


MAX_BATCH_SIZE = 10_000
"""The largest batch Lambda reads from a Kinesis stream
(https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html)."""
BATCHING_WINDOW = 5
"""Seconds of batching window a light stream is offered: five times fewer invocations
for at most five seconds more latency."""
TIMEOUT_SHARE = Decimal("0.25")
"""A batch may take at most this share of its function's timeout, so a slow one (a cold
start, a throttled write) still ends in time."""
WORTH = Decimal(1)
"""Monthly savings below this are not offered: not worth a setting."""


@dataclass(frozen=True)
class Batching:
    """What a stream's mapping reads per invocation now, and what the plan offers."""

    stream: str
    records_per_second: Decimal
    slots: int
    batch_size: int
    window: int
    events_per_record: Decimal
    event_seconds: Decimal
    """Lambda seconds the consumer spends on an event."""
    timeout: int
    """The consumer's timeout, in seconds."""


def batching_choice(batching: Batching, request_price: Callable[[Decimal], Decimal]) -> str | None:
    """A batch size or window for ``batching``'s stream that saves at least ``WORTH`` a
    month in requests and keeps each batch within a quarter of its function's timeout;
    ``None`` when the settings are right for the load. ``request_price``: a month of that
    many invocations a second."""
    b = batching

    def invocations(batch_size: int, window: int) -> Decimal:
        return invocations_per_second(b.records_per_second, b.slots, batch_size, window)

    now = invocations(b.batch_size, b.window)
    per_slot = b.records_per_second / b.slots if b.slots else Decimal(0)
    if not now or not per_slot:
        return None
    record_seconds = b.events_per_record * b.event_seconds
    fits = MAX_BATCH_SIZE
    if record_seconds:
        fits = int(Decimal(b.timeout) * TIMEOUT_SHARE / record_seconds)
    if per_slot > b.batch_size:  # full batches: the batch size sets the invocations
        size = min(MAX_BATCH_SIZE, fits, math.ceil(per_slot))
        if size > b.batch_size:
            later = invocations(size, b.window)
            saved = request_price(now) - request_price(later)
            if saved >= WORTH:
                return (
                    f"stream {b.stream}: its batches are full ({b.batch_size} records): "
                    f"batch_size {size} would take {format_rate(now)} invocations a second to "
                    f"{format_rate(later)} (${saved:,.2f} a month less), each batch within a "
                    f"quarter of the {b.timeout} s timeout"
                )
        return None
    if b.window == 0:  # light: a poll a second per slot, batches far from full
        later = invocations(b.batch_size, BATCHING_WINDOW)
        saved = request_price(now) - request_price(later)
        if saved >= WORTH:
            return (
                f"stream {b.stream}: {format_rate(per_slot)} records a second per shard "
                f"make batches of about {format_rate(per_slot)}: max_batching_window "
                f"{BATCHING_WINDOW} would take {format_rate(now)} invocations a second to "
                f"{format_rate(later)} (${saved:,.2f} a month less) for up to "
                f"{BATCHING_WINDOW} s more latency"
            )
    return None
