"""The record wire format: one Kinesis record's data, shared by Lambda and the simulator.

Data is UTF-8 JSON ``{"v": 1, "from", "trace", "hops", "topic", "data"}``. Encoding is
done in two parts so the hot path pays for one ``json`` encode of the user's data: the
header (source, trace, hops) is rendered once per incoming record and reused by every emit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

VERSION = 1
MAX_RECORD_BYTES = 1024 * 1024
"""Kinesis' limit on one record: data blob plus partition key."""
MAX_PARTITION_KEY = 256
"""Kinesis' limit on a partition key, in Unicode characters."""

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_decode = json.JSONDecoder().decode


class EmitError(Exception):
    """An emit that cannot become a Kinesis record (not JSON, too large, bad key or topic)."""


class DecodeError(Exception):
    """A record whose data is not a readable envelope or JSON document."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """A decoded record: the user's ``data`` and where it came from."""

    data: Any
    topic: str | None
    source: str | None
    trace: str
    hops: int


def header(source: str, trace: str, hops: int) -> str:
    """The envelope's fixed part for records emitted by one handler call."""
    return f'{{"v":{VERSION},"from":{_encode(source)},"trace":{_encode(trace)},"hops":{hops},'


def encode_with(head: str, topic: str, data: Any) -> bytes:
    """Complete an envelope started by ``header``; raise ``EmitError`` if ``data`` is not JSON."""
    try:
        body = _encode(data)
    except (TypeError, ValueError) as exc:
        raise EmitError(f"data is not JSON-serializable: {exc}") from None
    return f'{head}"topic":{_encode(topic)},"data":{body}}}'.encode()


def encode(data: Any, *, topic: str, source: str, trace: str, hops: int) -> bytes:
    """Encode one record (the convenience form of ``header`` + ``encode_with``)."""
    return encode_with(header(source, trace, hops), topic, data)


def encode_input(data: Any, trace: str) -> bytes:
    """Encode outside input sent to a processor (by ``simulate`` or ``trigger``): hop 0."""
    try:
        body = _encode(data)
    except (TypeError, ValueError) as exc:
        raise EmitError(f"input is not JSON-serializable: {exc}") from None
    return f'{{"v":{VERSION},"trace":{_encode(trace)},"hops":0,"data":{body}}}'.encode()


def decode(raw: bytes | str, default_trace: str) -> Envelope:
    """Decode a record. Data that is JSON but not an envelope (written by an outside
    producer into an ingest stream) is taken whole as the event, with ``default_trace``."""
    try:
        value = _decode(raw.decode() if isinstance(raw, bytes) else raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise DecodeError(f"record data is not UTF-8 JSON: {exc}") from None
    if type(value) is dict and value.get("v") == VERSION and "data" in value:
        return Envelope(
            value["data"],
            value.get("topic"),
            value.get("from"),
            str(value.get("trace") or default_trace),
            int(value.get("hops", 0)),
        )
    return Envelope(value, None, None, default_trace, 0)
