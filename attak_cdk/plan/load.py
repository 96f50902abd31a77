"""How load flows through a topology, and how many shards each stream needs for it.

Input enters at the entry processors; every processor emits, per event received, the
records its assumptions say into each outgoing stream; a processor fed by several streams
receives their sum. The load is propagated hop by hop, as records really travel, so a
loop settles (emits below one per event) or is cut at ``max_hops`` as the runtime cuts it.

Records on a stream are larger than the events in them: each carries attak's envelope
(source, trace, hops, topic) and a partition key, and Kinesis counts both.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from .. import graph
from ..model import StreamSettings, Topology
from ..runtime.envelope import GENERATED_KEY_LENGTH, header
from .assumptions import Assumptions

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
UNKNOWN_TOPIC = "x" * 16
"""Stands in for the topic of a stream that carries every topic, to size its envelope."""

_SETTLED = Decimal("1e-9")
"""Events per second below which a loop's remaining load is taken as settled."""


@dataclass(frozen=True)
class StreamLoad:
    """Records on one stream: how many, how large, and how it is read."""

    name: str
    """The local stream name: ``from->to``, ``from->to[topic]`` or ``input->to``."""
    source: str | None
    """The processor that writes it; ``None`` for an ingest stream (outside producers)."""
    target: str
    topic: str | None
    where: str
    settings: StreamSettings
    records_per_second: Decimal
    bytes_per_second: Decimal
    """Data blob plus partition key, as Kinesis counts throughput."""

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


@dataclass(frozen=True)
class Load:
    """The load on every stream and processor of a topology."""

    streams: tuple[StreamLoad, ...]
    processors: dict[str, ProcessorLoad]


def envelope_bytes(source: str, topic: str | None, hops: int = 1) -> int:
    """Bytes a record adds around its data: envelope fields and a random partition key."""
    trace = "0" * GENERATED_KEY_LENGTH
    head = header(source, trace, hops)
    around = f'"topic":"{topic if topic is not None else UNKNOWN_TOPIC}","data":}}'
    return len(head.encode()) + len(around.encode()) + GENERATED_KEY_LENGTH


def propagate(topology: Topology, assumptions: Assumptions) -> Load:
    """Push the entry rates through the topology; see the module docstring."""
    resolved = graph.resolve(topology)
    stream_records: dict[str, Decimal] = defaultdict(Decimal)
    stream_bytes: dict[str, Decimal] = defaultdict(Decimal)
    events: dict[str, Decimal] = defaultdict(Decimal)
    event_bytes: dict[str, Decimal] = defaultdict(Decimal)
    direct: dict[str, Decimal] = defaultdict(Decimal)
    dropped: dict[str, Decimal] = defaultdict(Decimal)

    # This hop's arrivals: processor -> (events/s, bytes/s of their data).
    arriving: dict[str, tuple[Decimal, Decimal]] = {}
    for entry in resolved.entries:
        rate = assumptions.entry_rate(entry)
        if rate is None:
            continue
        size = assumptions.entry_size(entry)
        per_second = rate.events_per_second(size)
        arriving[entry] = (per_second, per_second * size)
        ingest = resolved.processors[entry].ingest
        if ingest is not None:
            stream_records[ingest.name] += per_second
            stream_bytes[ingest.name] += per_second * (size + GENERATED_KEY_LENGTH)
        else:
            direct[entry] += per_second

    for hop in range(topology.max_hops + 1):
        following: dict[str, tuple[Decimal, Decimal]] = {}
        for name, (count, data) in arriving.items():
            events[name] += count
            event_bytes[name] += data
            mine = assumptions.of(name)
            out_size = mine.size if mine.size is not None else data / count if count else Decimal(0)
            for route in resolved.processors[name].routes:
                records = count * assumptions.emits_into(name, route.topic)
                if not records:
                    continue
                if hop + 1 > topology.max_hops:  # the runtime refuses this emit
                    dropped[name] += records
                    continue
                overhead = envelope_bytes(name, route.topic, hop + 1)
                stream_records[route.stream] += records
                stream_bytes[route.stream] += records * (out_size + overhead)
                before = following.get(route.target, (Decimal(0), Decimal(0)))
                following[route.target] = (before[0] + records, before[1] + records * out_size)
        arriving = {k: v for k, v in following.items() if v[0] > _SETTLED}
        if not arriving:
            break

    loads = tuple(
        StreamLoad(
            name=name,
            source=stream.producer,
            target=stream.consumer,
            topic=stream.topic,
            where=stream.where,
            settings=stream.settings,
            records_per_second=stream_records[name],
            bytes_per_second=stream_bytes[name],
        )
        for name, stream in resolved.streams.items()
    )
    processors = {
        name: ProcessorLoad(
            name=name,
            events_per_second=events[name],
            direct_events_per_second=direct[name],
            event_bytes=event_bytes[name] / events[name] if events[name] else Decimal(0),
            dropped_per_second=dropped[name],
        )
        for name in topology.processors
    }
    return Load(loads, processors)


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
