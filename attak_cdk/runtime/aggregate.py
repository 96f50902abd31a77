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


_ONE_BYTE = tuple(bytes((n,)) for n in range(0x80))
"""The varints of 0..127, ready made: keys' indexes and tags are almost always these."""


def _size(value: int) -> bytes:
    """A varint, the common small cases without a loop."""
    if value < 0x80:
        return _ONE_BYTE[value]
    if value < 0x4000:
        return bytes((value & 0x7F | 0x80, value >> 7))
    return _varint(value)


def pack(entries: Sequence[Entry]) -> bytes:
    """The KPL aggregated record holding ``entries`` in order."""
    keys: dict[str, int] = {}
    table: list[bytes] = []
    parts: list[bytes] = []
    append = parts.append
    for key, data in entries:
        index = keys.get(key)
        if index is None:
            index = keys[key] = len(keys)
            encoded = key.encode()
            table.append(b"\x0a" + _size(len(encoded)) + encoded)
        # Record {1: partition_key_index, 3: data}, as field 3 of AggregatedRecord.
        length = len(data)
        inner = _size(index) + b"\x1a" + _size(length)
        append(b"\x1a" + _size(len(inner) + 1 + length) + b"\x08" + inner)
        append(data)
    message = b"".join(table) + b"".join(parts)
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
        position, end = 0, len(message)
        while position < end:
            tag, position = _read_varint(message, position)
            if tag & 7 != 2:  # only length-delimited fields are expected at the top
                _, position = _skip(message, position, tag)
                continue
            length, position = _read_varint(message, position)
            stop = position + length
            if stop > end:
                raise ValueError(f"field {tag >> 3} runs past the end")
            if tag == 0x0A:
                keys.append(message[position:stop].decode())
            elif tag == 0x1A:
                records.append(_record(message, position, stop))
            position = stop
        return [(keys[index], payload) for index, payload in records]
    except (IndexError, UnicodeDecodeError, ValueError) as exc:
        raise CorruptRecord(f"aggregated record is malformed ({exc})") from None


def _record(message: bytes, position: int, stop: int) -> tuple[int, bytes]:
    """One ``Record`` (partition key index, data) between ``position`` and ``stop``."""
    index, payload = -1, b""
    while position < stop:
        tag, position = _read_varint(message, position)
        if tag == 0x08:
            index, position = _read_varint(message, position)
        elif tag == 0x1A:
            length, position = _read_varint(message, position)
            if position + length > stop:
                raise ValueError("record data runs past the end")
            payload = message[position : position + length]
            position += length
        else:
            _, position = _skip(message, position, tag)
    if position != stop:
        raise ValueError("record runs past the end")
    return index, payload


def _skip(message: bytes, position: int, tag: int) -> tuple[int, int]:
    """Step over a field this format does not use (an explicit hash key index, tags)."""
    wire = tag & 7
    if wire == 0:
        return _read_varint(message, position)
    if wire == 2:
        length, position = _read_varint(message, position)
        return length, position + length
    if wire in (1, 5):
        return 0, position + (8 if wire == 1 else 4)
    raise ValueError(f"unknown wire type {wire}")


def _read_varint(message: bytes, position: int) -> tuple[int, int]:
    byte = message[position] if position < len(message) else 0x80
    if byte < 0x80:  # one byte: most keys' indexes, tags and short lengths
        return byte, position + 1
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
