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

from .envelope import DecodeError

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


def entry_bytes(key: str, data: bytes | str) -> int:
    """About what one entry adds to an aggregate (its record, and its key in the table if
    new): used to cut aggregates without encoding them. Text is counted in characters,
    which is its size in bytes for ASCII and a close guess otherwise."""
    return len(data) + len(key) + 24


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


MAX_UNPACKED_BYTES = 64 * 1024 * 1024
"""A compressed record may not inflate past this: a corrupt or hostile record cannot
exhaust the function's memory."""


class CorruptRecord(DecodeError):
    """A record that claims to be an aggregate or compressed but cannot be read."""


def unpack(data: bytes, key: str) -> list[Entry]:
    """The events of one Kinesis record: an aggregate's, a compressed record's, or the
    record itself. Raise ``CorruptRecord`` saying what is wrong with it."""
    if data.startswith(COMPRESSED_MAGIC):
        data = _inflate(data[len(COMPRESSED_MAGIC) :])
    if data.startswith(KPL_MAGIC):
        return _unpack_kpl(data)
    return [(key, data)]


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_UNPACKED_BYTES)
    except zlib.error as exc:
        raise CorruptRecord(f"compressed record is corrupt ({exc})") from None
    if inflater.unconsumed_tail:
        raise CorruptRecord(
            f"compressed record inflates past {MAX_UNPACKED_BYTES // (1024 * 1024)} MiB"
        )
    if not inflater.eof:
        raise CorruptRecord("compressed record is truncated")
    return out


def _unpack_kpl(data: bytes) -> list[Entry]:
    message = data[len(KPL_MAGIC) : -DIGEST_BYTES]
    if len(data) < len(KPL_MAGIC) + DIGEST_BYTES:
        raise CorruptRecord(f"aggregated record is truncated ({len(data)} bytes)")
    if hashlib.md5(message, usedforsecurity=False).digest() != data[-DIGEST_BYTES:]:
        raise CorruptRecord("aggregated record's checksum does not match (corrupt or truncated)")
    keys: list[str] = []
    records: list[tuple[int, bytes]] = []
    try:
        for tag, value in _fields(message):
            if tag == 1 and isinstance(value, bytes):
                keys.append(value.decode())
            elif tag == 3 and isinstance(value, bytes):
                index, payload = -1, b""
                for inner, item in _fields(value):
                    if inner == 1 and isinstance(item, int):
                        index = item
                    elif inner == 3 and isinstance(item, bytes):
                        payload = item
                records.append((index, payload))
        return [(keys[index], payload) for index, payload in records]
    except (IndexError, UnicodeDecodeError, ValueError) as exc:
        raise CorruptRecord(f"aggregated record is malformed ({exc})") from None


def _fields(message: bytes) -> list[tuple[int, int | bytes]]:
    """A protobuf message's fields as (field number, varint or bytes), in order."""
    fields: list[tuple[int, int | bytes]] = []
    position, end = 0, len(message)
    while position < end:
        tag, position = _read_varint(message, position)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, position = _read_varint(message, position)
            fields.append((number, value))
        elif wire == 2:
            length, position = _read_varint(message, position)
            if position + length > end:
                raise ValueError(f"field {number} runs past the end")
            fields.append((number, message[position : position + length]))
            position += length
        elif wire in (1, 5):  # fixed 64 / 32 bits: not used by the format, skipped
            position += 8 if wire == 1 else 4
        else:
            raise ValueError(f"unknown wire type {wire}")
    if position != end:
        raise ValueError("message runs past the end")
    return fields


def _read_varint(message: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if position >= len(message) or shift > 63:
            raise ValueError("varint runs past the end")
        byte = message[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, position
        shift += 7
