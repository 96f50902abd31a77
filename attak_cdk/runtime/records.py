"""How a flush's emits to one stream become Kinesis records: grouped by key, aggregated.

Keyed emits go to one of ``KEY_BUCKETS`` buckets by the MD5 of their partition key (the
hash Kinesis itself uses); every record of a bucket is written with the bucket's fixed
explicit hash key, so all records of a key land on one shard, and the emitter sends a
bucket's records in order. Emits without a key need no order: they share aggregates with
a random partition key, which spreads them over the shards. Each group is cut into
aggregates of at most ``AGGREGATE_BYTES`` of events, and an aggregate (or a lone event)
is compressed when that makes it smaller.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import NamedTuple

from .aggregate import compress, entry_bytes, pack
from .context import Emit
from .envelope import new_id

KEY_BUCKETS = 16
"""Hash buckets for keyed emits: each is pinned to one point of the hash-key space (so to
one shard at a time). More buckets spread keys over more shards but fill aggregates less."""
AGGREGATE_BYTES = 64 * 1024
"""Events per aggregate, in bytes before compression: about two PUT payload units once
JSON is compressed, and few enough events that a batch of records stays a batch."""
COMPRESS_FROM = 512
"""Records smaller than this are sent as they are: zlib's own framing eats most of what it
could save on a few hundred bytes, and the CPU is better spent elsewhere."""
_HASH_SPACE = 1 << 128


class OutgoingRecord(NamedTuple):
    """One Kinesis record to write."""

    partition_key: str
    explicit_hash_key: str | None
    """The bucket's point in the hash-key space; ``None`` for records of keyless emits."""
    data: bytes
    events: int
    """How many emits it carries."""
    bucket: int | None
    """The key bucket whose order it must keep; ``None``: it may land in any order."""


def bucket_of(key: str) -> int:
    """The bucket of a partition key: its MD5's slice of the hash-key space."""
    digest = hashlib.md5(key.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest, "big") * KEY_BUCKETS >> 128


def bucket_hash_key(bucket: int) -> str:
    """The explicit hash key of a bucket: the middle of its slice, in decimal as Kinesis
    takes it."""
    return str((2 * bucket + 1) * _HASH_SPACE // (2 * KEY_BUCKETS))


def bucket_partition_key(bucket: int) -> str:
    """The partition key of a bucket's records. Fixed per bucket, not the first event's:
    with a parallelization factor, Lambda keeps order per record partition key, and a
    key's events must stay in one ordered line of records."""
    return f"attak-bucket-{bucket}"


Group = tuple["int | None", list[Emit]]
"""The emits one record carries, with their key bucket (``None`` for keyless emits)."""


def groups_for(emits: Sequence[Emit]) -> list[Group]:
    """How ``emits`` are split into records: by key bucket, in emit order, each group at
    most ``AGGREGATE_BYTES`` of events (a bigger event travels alone)."""
    keyless: list[Emit] = []
    buckets: dict[int, list[Emit]] = {}
    for emit in emits:
        if emit.key is None:
            keyless.append(emit)
        else:
            buckets.setdefault(bucket_of(emit.key), []).append(emit)
    out: list[Group] = []
    for bucket, members in buckets.items():
        out.extend((bucket, group) for group in _cut(members))
    out.extend((None, group) for group in _cut(keyless))
    return out


def record_for(group: Group) -> OutgoingRecord:
    """The record carrying one group: an aggregate (a lone keyless event stays itself),
    compressed when that makes it smaller."""
    bucket, emits = group
    # Keyless events take the record's random key, in the aggregate too: a partition key
    # is never empty in Kinesis, and outside consumers may rely on that.
    key = new_id() if bucket is None else bucket_partition_key(bucket)
    entries = [(emit.key or key, _data(emit)) for emit in emits]
    # A lone keyless event travels as itself; a keyed one is still an aggregate, which
    # keeps its own partition key for consumers.
    data = entries[0][1] if len(entries) == 1 and bucket is None else pack(entries)
    if len(data) >= COMPRESS_FROM:
        compressed = compress(data)
        if len(compressed) < len(data):
            data = compressed
    hash_key = None if bucket is None else bucket_hash_key(bucket)
    return OutgoingRecord(key, hash_key, data, len(emits), bucket)


def records_for(emits: Sequence[Emit]) -> list[OutgoingRecord]:
    """The records that carry ``emits``; a bucket's records in emit order."""
    return [record_for(group) for group in groups_for(emits)]


def _data(emit: Emit) -> bytes:
    payload = emit.payload
    return payload.encode() if isinstance(payload, str) else payload


def _cut(emits: list[Emit]) -> list[list[Emit]]:
    """Cut emits, in order, into groups of at most ``AGGREGATE_BYTES``."""
    groups: list[list[Emit]] = []
    current: list[Emit] = []
    size = 0
    for emit in emits:
        grows = entry_bytes(emit.key or "", emit.payload)
        if current and size + grows > AGGREGATE_BYTES:
            groups.append(current)
            current, size = [], 0
        current.append(emit)
        size += grows
    if current:
        groups.append(current)
    return groups


# Both from https://aws.amazon.com/kinesis/data-streams/pricing/: provisioned mode bills
# PUT payload units, "25 KB payload chunks" of each record; on-demand mode bills data in
# as "the size of each record rounded up to the nearest 1 KB (1,024 bytes)".
PAYLOAD_UNIT = 25 * 1024
"""A PUT payload unit: provisioned streams bill each record by the started 25 KB."""
BILLED_UNIT = 1024
"""On-demand streams bill each record's bytes rounded up to the next KB."""


class Tally:
    """What was written to one stream: records, the events they carry, bytes (data and
    partition key, as Kinesis counts them), PUT payload units and on-demand billed KB."""

    __slots__ = ("billed_kb", "bytes", "events", "payload_units", "records")

    def __init__(self) -> None:
        self.records = self.events = self.bytes = self.payload_units = self.billed_kb = 0

    def add(self, record: OutgoingRecord) -> None:
        size = len(record.data) + len(record.partition_key.encode())
        self.records += 1
        self.events += record.events
        self.bytes += size
        self.payload_units += -(-size // PAYLOAD_UNIT)
        self.billed_kb += -(-size // BILLED_UNIT)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in sorted(self.__slots__)}
