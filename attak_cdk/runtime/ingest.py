"""The events in one Kinesis record, whatever producer wrote it.

attak's own emitter and outside producers share an ingest stream, so a record's data may be:

- a KPL aggregate, or an attak compressed record (``aggregate.py``): its events;
- a CloudWatch Logs subscription's record: gzip data holding ``{"messageType",
  "logGroup", "logStream", "logEvents": [{"id", "timestamp", "message"}, ...]}``. A
  ``DATA_MESSAGE`` is one event per log event, the log event's object with its
  ``logGroup`` and ``logStream`` added: ``{"id", "timestamp", "message", "logGroup",
  "logStream"}``; a ``CONTROL_MESSAGE`` (CloudWatch Logs checking that the stream is
  reachable) carries no event;
- other gzip data: one event, its decompressed bytes;
- anything else: one event, the data itself (an envelope, JSON, text or bytes: what
  ``envelope.decode`` makes of it).

``events`` raises ``CorruptRecord`` for a record that claims one of these forms and cannot
be read: a bad checksum, a truncated aggregate, corrupt gzip or zlib data, or data that
would inflate past ``aggregate.MAX_UNPACKED_BYTES``.
"""

from __future__ import annotations

import json
import zlib

from .aggregate import COMPRESSED_MAGIC, KPL_MAGIC, MAX_UNPACKED_BYTES, CorruptRecord, Entry, unpack

GZIP_MAGIC = b"\x1f\x8b"
"""The first bytes of a gzip member (RFC 1952); in UTF-8 0x8B never follows an ASCII byte,
so text is never taken for gzip."""
DATA_MESSAGE = "DATA_MESSAGE"
CONTROL_MESSAGE = "CONTROL_MESSAGE"
_GZIP_WBITS = 16 + zlib.MAX_WBITS
"""zlib's window bits for a gzip header and trailer (rather than zlib's own)."""


def events(data: bytes, key: str) -> list[Entry]:
    """The events of one record as (partition key, data), in order. See the module
    docstring for the forms read; raise ``CorruptRecord`` saying what is wrong."""
    if data.startswith(GZIP_MAGIC):
        return _gzip_events(_gunzip(data), key)
    if 0 < len(data) < len(KPL_MAGIC) and (
        KPL_MAGIC.startswith(data) or COMPRESSED_MAGIC.startswith(data)
    ):
        # Neither magic can start text, so these few bytes are what is left of one.
        raise CorruptRecord(f"aggregated or compressed record is truncated ({len(data)} bytes)")
    return unpack(data, key)


def _gunzip(data: bytes) -> bytes:
    """Gzip data inflated, refusing more than ``MAX_UNPACKED_BYTES`` (a gzip bomb)."""
    inflater = zlib.decompressobj(_GZIP_WBITS)
    try:
        out = inflater.decompress(data, MAX_UNPACKED_BYTES)
    except zlib.error as exc:
        raise CorruptRecord(f"gzip data is corrupt ({exc})") from None
    if inflater.unconsumed_tail:
        raise CorruptRecord(f"gzip data inflates past {MAX_UNPACKED_BYTES // (1024 * 1024)} MiB")
    if not inflater.eof:
        raise CorruptRecord("gzip data is truncated")
    return out


def _gzip_events(data: bytes, key: str) -> list[Entry]:
    """A CloudWatch Logs subscription's message as its log events; other gzip data whole.

    The message's form is CloudWatch Logs' own, documented in "Validate the flow of log
    events" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/ValidateLogEventFlow.html):
    gzip-compressed JSON with ``messageType`` DATA_MESSAGE (``logGroup``, ``logStream``,
    ``logEvents``), or CONTROL_MESSAGE "mainly for checking if the destination is
    reachable"; PutSubscriptionFilter (https://docs.aws.amazon.com/AmazonCloudWatchLogs/
    latest/APIReference/API_PutSubscriptionFilter.html) says events are gzip-compressed.
    """
    if b'"messageType"' not in data:  # not CloudWatch Logs': spare parsing it twice
        return [(key, data)]
    try:
        message = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return [(key, data)]
    kind = message.get("messageType") if isinstance(message, dict) else None
    if kind == CONTROL_MESSAGE:
        return []
    log_events = message.get("logEvents") if kind == DATA_MESSAGE else None
    if not isinstance(log_events, list):
        return [(key, data)]
    group, stream = message.get("logGroup"), message.get("logStream")
    out: list[Entry] = []
    for log_event in log_events:
        if isinstance(log_event, dict):
            log_event = {**log_event, "logGroup": group, "logStream": stream}
        out.append((key, json.dumps(log_event, ensure_ascii=False).encode()))
    return out
