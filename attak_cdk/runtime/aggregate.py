"""Many events in one Kinesis record: the KPL aggregated record format, optionally compressed.

An aggregate is the Kinesis Producer Library's format, so KCL, Firehose and
``aws-kinesis-agg`` can read it: the magic bytes ``F3 89 9A C2``, a protobuf
``AggregatedRecord`` (a table of partition keys, and records each naming its key by index
and carrying its data), then the MD5 of the protobuf bytes. attak writes the protobuf
itself (three field types are all it needs) to keep the runtime standard library only.

A compressed record is ``COMPRESSED_MAGIC`` followed by the zlib stream of an aggregate
(or of one event's data): JSON events shrink several times over, which is most of a
stream's bill. The first byte of either magic can never start UTF-8 text, so plain JSON
records from outside producers are told apart by their first bytes.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence

KPL_MAGIC = b"\xf3\x89\x9a\xc2"
"""The first bytes of a KPL aggregated record."""
COMPRESSED_MAGIC = b"\xa7AZ1"
"""The first bytes of an attak compressed record (0xA7 cannot start UTF-8 text)."""
DIGEST_BYTES = 16
COMPRESSION_LEVEL = 1
"""zlib's fastest level: on JSON it keeps most of level 6's ratio at a fraction of its CPU."""

Entry = tuple[str, bytes]
"""(partition key, data): one event as the producer gave it."""


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(tag: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2)."""
    return bytes((tag << 3 | 2,)) + _varint(len(payload)) + payload


def entry_bytes(key: str, data: bytes) -> int:
    """An upper bound of what one entry adds to an aggregate (its record, and its key in
    the table if new): used to cut aggregates without encoding them twice."""
    key_length = len(key.encode())
    return len(data) + key_length + 24


def pack(entries: Sequence[Entry]) -> bytes:
    """The KPL aggregated record holding ``entries`` in order."""
    keys: dict[str, int] = {}
    table: list[bytes] = []
    records: list[bytes] = []
    for key, data in entries:
        index = keys.get(key)
        if index is None:
            index = keys[key] = len(keys)
            table.append(_field(1, key.encode()))
        record = b"\x08" + _varint(index) + _field(3, data)
        records.append(_field(3, record))
    message = b"".join(table) + b"".join(records)
    return KPL_MAGIC + message + hashlib.md5(message, usedforsecurity=False).digest()


def compress(data: bytes) -> bytes:
    """``data`` (an aggregate, or one event) as a compressed record."""
    return COMPRESSED_MAGIC + zlib.compress(data, COMPRESSION_LEVEL)
