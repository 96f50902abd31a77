"""How load flows through a topology, and what it writes to each stream.

Input enters at the entry processors; every processor emits, per event received, the
events its assumptions say into each outgoing stream; a processor fed by several streams
receives their sum. The load is propagated hop by hop, as events really travel, so a
loop settles (emits below one per event) or is cut at ``max_hops`` as the runtime cuts it.

Events are not records: the runtime packs a flush's emits into aggregated, compressed
records (``wire.py``), so a stream's records and bytes follow from how many events a
flush holds, which follows from the events each invocation of its writer handles, which
follows from the records of the streams it reads. ``propagate`` settles that chain by
repeating it until the flush sizes stop changing.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .. import graph
from ..model import StreamSettings, Topology
from ..runtime.context import Emit
from ..runtime.handler import FLUSH_EVERY
from .assumptions import Assumptions
from .wire import PerEvent, average_flush, flush_figures, input_emit, synthetic_emit

# AWS's documented limits of one Kinesis shard.
SHARD_WRITE_RECORDS = Decimal(1000)
"""Records per second one shard accepts."""
SHARD_WRITE_BYTES = Decimal(1024 * 1024)
"""Bytes per second one shard accepts (1 MB/s)."""
SHARD_READ_BYTES = Decimal(2 * 1024 * 1024)
"""Bytes per second one shard serves to each consumer (2 MB/s, shared reads)."""
CONSUMERS_PER_STREAM = 1
"""attak maps every stream into exactly one processor."""
ON_DEMAND_START_SHARDS = 4
"""A new on-demand stream starts with 4 MB/s and 4,000 records/s of write capacity."""
LAMBDA_POLLS_PER_SECOND = Decimal(1)
"""Lambda reads each shard (each parallelization slot) about once a second when idle."""
INGEST_FLUSH = FLUSH_EVERY
"""Events per PutRecords an outside producer writes into an ingest stream: attak's own
producer (``attak trigger``) writes in bulk, as a processor's emits are flushed."""
SETTLE_PASSES = 12
"""Rounds of flush sizing at most: a chain of N streams settles in about N."""

_SETTLED = Decimal("1e-9")
"""Events per second below which a loop's remaining load is taken as settled."""


@dataclass(frozen=True)
class StreamLoad:
    """Events on one stream, the records they travel in, and how it is read."""

    name: str
    """The local stream name: ``from->to``, ``from->to[topic]`` or ``input->to``."""
    source: str | None
    """The processor that writes it; ``None`` for an ingest stream (outside producers)."""
    target: str
    topic: str | None
    where: str
    settings: StreamSettings
    events_per_second: Decimal
    event_bytes: Decimal
    """The average event's data (no envelope)."""
    wire: PerEvent
    """What one event costs on the stream, as the runtime writes it."""
    flush: int
    """Events its writer sends in one flush (one PutRecords' worth of records)."""

    @property
    def records_per_second(self) -> Decimal:
        return self.events_per_second * self.wire.records

    @property
    def bytes_per_second(self) -> Decimal:
        """Data blob plus partition key, as Kinesis counts throughput."""
        return self.events_per_second * self.wire.bytes

    @property
    def payload_units_per_second(self) -> Decimal:
        return self.events_per_second * self.wire.payload_units

    @property
    def billed_bytes_per_second(self) -> Decimal:
        """On-demand's billed bytes: each record rounded up to a whole KB."""
        return self.events_per_second * self.wire.billed_bytes

    @property
    def record_bytes(self) -> Decimal:
        """The average record; zero when nothing flows."""
        if not self.records_per_second:
            return Decimal(0)
        return self.bytes_per_second / self.records_per_second


@dataclass(frozen=True)
class ProcessorLoad:
    """Events one processor receives, from outside and from its streams."""

    name: str
    events_per_second: Decimal
    direct_events_per_second: Decimal
    """Events invoked directly (an entry without an ingest stream)."""
    event_bytes: Decimal
    """The average event it receives (data only, no envelope)."""
    dropped_per_second: Decimal = Decimal(0)
    """Emits refused because the trace reached ``max_hops``."""
    invocations_per_second: Decimal = Decimal(0)
    """Direct invocations, and a batch per poll of each slot of the streams it reads."""

    @property
    def events_per_invocation(self) -> Decimal:
        if not self.invocations_per_second:
            return Decimal(1)
        return self.events_per_second / self.invocations_per_second


@dataclass(frozen=True)
class ExternalLoad:
    """What a processor writes to an existing stream (``external:``): one record per
    event, the event's JSON (``runtime/edges.py``)."""

    name: str
    """The local name of the write: ``archive->lake``."""
    target: str
    """The external stream's name under ``external:``."""
    kind: str
    events_per_second: Decimal
    event_bytes: Decimal
    """Bytes of each event's data (its JSON), on average."""


@dataclass(frozen=True)
class Load:
    """The load on every stream and processor of a topology."""

    streams: tuple[StreamLoad, ...]
    processors: dict[str, ProcessorLoad]
    external: tuple[ExternalLoad, ...] = ()
    """Writes to existing streams, which attak does not own but pays to write to."""

    def direct_entries(self) -> dict[str, Decimal]:
        """Processors invoked directly, with their invocations a second (each one event)."""
        return {
            name: p.direct_events_per_second
            for name, p in self.processors.items()
            if p.direct_events_per_second
        }


def propagate(topology: Topology, assumptions: Assumptions) -> Load:
    """Push the entry rates through the topology; see the module docstring."""
    resolved = graph.resolve(topology)
    flow = _flow(topology, resolved, assumptions)
    # An ingest stream's producer packs its events; an existing stream's writes one a record.
    flush = {name: INGEST_FLUSH if s.ingest else 1 for name, s in resolved.streams.items()}
    figures: dict[tuple[str, int], PerEvent] = {}
    load = Load((), {})
    for _ in range(SETTLE_PASSES):
        streams = []
        for name, stream in resolved.streams.items():
            key = (name, flush[name])
            if key not in figures:
                figures[key] = flush_figures(
                    assumptions.samples.get(name) or flow.samples[name],
                    flush[name],
                    assumptions.compression_of(name),
                )
            streams.append(
                StreamLoad(
                    name=name,
                    source=stream.producer,
                    target=stream.consumer,
                    topic=stream.topic,
                    where=stream.where,
                    settings=stream.settings,
                    events_per_second=flow.stream_events[name],
                    event_bytes=_average(flow.stream_bytes[name], flow.stream_events[name]),
                    wire=figures[key],
                    flush=flush[name],
                )
            )
        load = Load(
            tuple(streams), _processors(topology, flow, streams, assumptions), _external(flow)
        )
        settled = {stream.name: _flush_of(stream, load, assumptions) for stream in load.streams}
        if settled == flush:
            break
        flush = settled
    return load


@dataclass
class _Flow:
    """Events per second along the topology, before they become records."""

    stream_events: dict[str, Decimal]
    stream_bytes: dict[str, Decimal]
    """Bytes per second of the events' data."""
    events: dict[str, Decimal]
    event_bytes: dict[str, Decimal]
    direct: dict[str, Decimal]
    dropped: dict[str, Decimal]
    samples: dict[str, Sequence[Emit]]
    """Per stream, an emit of the planned size, as the runtime encodes it."""
    external: dict[str, graph.ExternalWrite]
    """The writes to existing streams, by local name; ``stream_events`` and
    ``stream_bytes`` hold their rates too."""


def _external(flow: _Flow) -> tuple[ExternalLoad, ...]:
    return tuple(
        ExternalLoad(
            name=name,
            target=write.external.name,
            kind=write.external.kind,
            events_per_second=flow.stream_events[name],
            event_bytes=_average(flow.stream_bytes[name], flow.stream_events[name]),
        )
        for name, write in flow.external.items()
    )


def _flow(topology: Topology, resolved: graph.ResolvedTopology, assumptions: Assumptions) -> _Flow:
    flow = _Flow(
        stream_events=defaultdict(Decimal),
        stream_bytes=defaultdict(Decimal),
        events=defaultdict(Decimal),
        event_bytes=defaultdict(Decimal),
        direct=defaultdict(Decimal),
        dropped=defaultdict(Decimal),
        samples={},
        external=dict(resolved.external_writes),
    )
    # This hop's arrivals: processor -> (events/s, bytes/s of their data).
    arriving: dict[str, tuple[Decimal, Decimal]] = {}
    for entry in resolved.entries:
        rate = assumptions.entry_rate(entry)
        size = assumptions.entry_size(entry)
        # Its ingest stream, or an existing stream feeding it: the rate enters there.
        ingest = resolved.processors[entry].feed
        if ingest is not None:
            flow.samples[ingest.name] = [input_emit(size)]
        if rate is None:
            continue
        per_second = rate.events_per_second(size)
        arriving[entry] = (per_second, per_second * size)
        if ingest is not None:
            flow.stream_events[ingest.name] += per_second
            flow.stream_bytes[ingest.name] += per_second * size
        else:
            flow.direct[entry] += per_second

    for hop in range(topology.max_hops + 1):
        following: dict[str, tuple[Decimal, Decimal]] = {}
        for name, (count, data) in arriving.items():
            flow.events[name] += count
            flow.event_bytes[name] += data
            mine = assumptions.of(name)
            out_size = mine.size if mine.size is not None else data / count if count else Decimal(0)
            for route in resolved.processors[name].routes:
                if route.stream not in flow.samples:
                    flow.samples[route.stream] = [
                        synthetic_emit(name, route.topic, out_size or Decimal(1), hop + 1)
                    ]
                emitted = count * assumptions.emits_into(name, route.topic)
                if not emitted:
                    continue
                if hop + 1 > topology.max_hops:  # the runtime refuses this emit
                    flow.dropped[name] += emitted
                    continue
                flow.stream_events[route.stream] += emitted
                flow.stream_bytes[route.stream] += emitted * out_size
                if route.stream in flow.external:
                    continue  # leaves the topology
                before = following.get(route.target, (Decimal(0), Decimal(0)))
                following[route.target] = (before[0] + emitted, before[1] + emitted * out_size)
        arriving = {k: v for k, v in following.items() if v[0] > _SETTLED}
        if not arriving:
            break
    for name, stream in resolved.streams.items():
        if name not in flow.samples:  # nothing reaches its writer: any emit will do
            writer = stream.producer or ""
            flow.samples[name] = [synthetic_emit(writer, stream.topic, Decimal(1024), 1)]
    return flow


def _processors(
    topology: Topology, flow: _Flow, streams: list[StreamLoad], assumptions: Assumptions
) -> dict[str, ProcessorLoad]:
    invocations = {name: flow.direct[name] for name in topology.processors}
    for stream in streams:
        need = shards_needed(
            stream.records_per_second,
            stream.bytes_per_second,
            stream.records_per_second * assumptions.duration_of(stream.target),
            stream.settings.parallelization_factor,
        )
        invocations[stream.target] += invocations_per_second(
            stream.records_per_second,
            slots(stream.settings, need),
            stream.settings.batch_size,
            stream.settings.max_batching_window,
        )
    return {
        name: ProcessorLoad(
            name=name,
            events_per_second=flow.events[name],
            direct_events_per_second=flow.direct[name],
            event_bytes=_average(flow.event_bytes[name], flow.events[name]),
            dropped_per_second=flow.dropped[name],
            invocations_per_second=invocations[name],
        )
        for name in topology.processors
    }


def _flush_of(stream: StreamLoad, load: Load, assumptions: Assumptions) -> int:
    """Events per flush into ``stream``: its writer's emits per invocation, sent every
    ``FLUSH_EVERY`` emits and at the invocation's end, this stream's share of them."""
    if stream.source is None:
        return INGEST_FLUSH
    writer = load.processors[stream.source]
    share = assumptions.emits_into(stream.source, stream.topic)
    total = assumptions.emits_per_event(stream.source)
    if not share or not total:
        return 1
    flushed = average_flush(writer.events_per_invocation * total) * share / total
    return max(1, round(flushed))


def deployed_shards(settings: StreamSettings, need: ShardNeed) -> int:
    """Shards as deployed: declared, or what AWS gives an on-demand stream for its data."""
    if settings.shards is not None:
        return settings.shards
    return max(ON_DEMAND_START_SHARDS, need.throughput)


def slots(settings: StreamSettings, need: ShardNeed) -> int:
    """Batches Lambda can run at once on a stream: shards x parallelization factor."""
    return deployed_shards(settings, need) * settings.parallelization_factor


def _average(total: Decimal, count: Decimal) -> Decimal:
    return total / count if count else Decimal(0)


@dataclass(frozen=True)
class ShardNeed:
    """Shards a provisioned stream needs, and which limit decides it."""

    shards: int
    limit: str
    """``write records/s``, ``write MB/s``, ``read MB/s``, ``consumer time`` or ``minimum``."""
    throughput: int
    """Shards for the data alone (writes and reads), without the consumer's time."""


def shards_needed(
    records_per_second: Decimal,
    bytes_per_second: Decimal,
    busy_seconds_per_second: Decimal = Decimal(0),
    parallelization_factor: int = 1,
) -> ShardNeed:
    """The provisioned shards for a load, from AWS's per-shard limits.

    1,000 records/s or 1 MB/s of writes and 2 MB/s of reads per consumer, per shard; and
    enough shards x ``parallelization_factor`` concurrent batches for the consumer to keep
    up (``busy_seconds_per_second``: handler seconds needed per second of stream).
    Exactly at a limit still fits: 1,000 records/s of 1 KB is one shard.
    """
    throughput = [
        (_ceil(records_per_second / SHARD_WRITE_RECORDS), "write records/s"),
        (_ceil(bytes_per_second / SHARD_WRITE_BYTES), "write MB/s"),
        (_ceil(bytes_per_second * CONSUMERS_PER_STREAM / SHARD_READ_BYTES), "read MB/s"),
    ]
    consumer = (_ceil(busy_seconds_per_second / parallelization_factor), "consumer time")
    # max() keeps the first of equals: a limit that is reached is named before "minimum".
    shards, limit = max([*throughput, consumer, (1, "minimum")], key=lambda c: c[0])
    return ShardNeed(shards, limit, max(1, *(c[0] for c in throughput)))


def invocations_per_second(
    records_per_second: Decimal, slots: int, batch_size: int, max_batching_window: int
) -> Decimal:
    """Lambda invocations a stream causes: a batch per poll of each slot, at least.

    Each of ``slots`` (shards x parallelization factor) is polled about once a second (or
    waits up to ``max_batching_window``); a poll returns up to ``batch_size`` records. So a
    light stream costs about one invocation per slot per second, a heavy one one per
    ``batch_size`` records, and never more invocations than records.
    """
    if not records_per_second or not slots:
        return Decimal(0)
    per_slot = records_per_second / slots
    polls = LAMBDA_POLLS_PER_SECOND / max(1, max_batching_window)
    return slots * min(per_slot, max(per_slot / batch_size, polls))


def _ceil(value: Decimal) -> int:
    return math.ceil(value)


def stream_shard_needs(load: Load, assumptions: Assumptions) -> dict[str, ShardNeed]:
    """Every stream's provisioned shards at this load, by local stream name."""
    return {
        stream.name: shards_needed(
            stream.records_per_second,
            stream.bytes_per_second,
            stream.records_per_second * assumptions.duration_of(stream.target),
            stream.settings.parallelization_factor,
        )
        for stream in load.streams
    }


def planned_shards(topology: Topology, assumptions: Assumptions) -> dict[str, int]:
    """What ``shards: auto`` becomes: each stream's shards at the planned load (by name)."""
    load = propagate(topology, assumptions)
    return {name: need.shards for name, need in stream_shard_needs(load, assumptions).items()}
