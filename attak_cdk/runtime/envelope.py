"""The record wire format: one Kinesis record's data, shared by Lambda and the simulator.

Data is UTF-8 JSON ``{"v": 1, "from", "trace", "hops", "topic", "data"}``, plus
``"log": 1`` on the records of a trace that must be logged record by record whatever the
topology's sampling (every event ``attak trigger`` sends): set where the trace starts,
carried by every record it leads to, and absent (no bytes) otherwise. Encoding is
done in two parts so the hot path pays for one JSON encode of the user's data: the header
(source, trace, hops) is rendered once per incoming record and reused by every emit. A
decoded envelope is the parsed dict itself, with every key present: no copy is made.

Outside producers write into ingest streams whatever they write, so ``decode`` reads any
data: JSON that is not an envelope is taken whole as the event, UTF-8 text that is not
JSON is the event as a ``str``, and anything else (binary data) the event as ``bytes``.
Only an envelope with a bad field is a ``DecodeError``.
"""

from __future__ import annotations

import json
import os
from json.encoder import encode_basestring
from typing import Any

VERSION = 1
MAX_RECORD_BYTES = 1024 * 1024
"""Kinesis' limit on one record: data blob plus partition key."""
MAX_PARTITION_KEY = 256
"""Kinesis' limit on a partition key, in Unicode characters."""
GENERATED_KEY_LENGTH = 16
"""Length of the random partition key drawn for an emit without ``key``."""

Envelope = dict[str, Any]
"""A decoded record: ``data``, ``topic``, ``from``, ``trace`` and ``hops`` always present;
``log`` only on a trace that is always logged (read it with ``envelope.get(LOG)``)."""

LOG = "log"
"""The envelope key that marks a trace to log record by record whatever the sampling."""
_LOG_FIELD = f'"{LOG}":1,'


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_decoder = json.JSONDecoder()
_scan = _decoder.scan_once  # type: ignore[attr-defined]  # the C scanner, set in __init__


def new_id() -> str:
    """A random id for traces and partition keys (the simulator makes its own)."""
    return os.urandom(GENERATED_KEY_LENGTH // 2).hex()


class EmitError(Exception):
    """An emit that cannot become a Kinesis record (not JSON, too large, bad key or topic)."""


class DecodeError(Exception):
    """A record whose data cannot be read: a malformed envelope, or (``CorruptRecord``) a
    record that claims to be aggregated or compressed and is not."""


def header(source: str, trace: str, hops: int, logged: bool = False) -> str:
    """The envelope's fixed part for records emitted by one handler call; ``logged``
    carries the trace's always-log mark on to them."""
    return (
        f'{{"v":{VERSION},"from":{encode_basestring(source)},'
        f'"trace":{encode_basestring(trace)},"hops":{hops},{_LOG_FIELD if logged else ""}'
    )


def encode_with(head: str, topic: str, data: Any) -> str:
    """Complete an envelope started by ``header``; raise ``EmitError`` if ``data`` is not JSON."""
    try:
        body = _encode(data)
    except (TypeError, ValueError) as exc:
        raise EmitError(f"data is not JSON-serializable: {exc}") from None
    return f'{head}"topic":{encode_basestring(topic)},"data":{body}}}'


def encode(
    data: Any, *, topic: str, source: str, trace: str, hops: int, logged: bool = False
) -> str:
    """Encode one record (the convenience form of ``header`` + ``encode_with``)."""
    return encode_with(header(source, trace, hops, logged), topic, data)


def encode_input(data: Any, trace: str, logged: bool = False) -> str:
    """Encode outside input sent to a processor (by ``simulate`` or ``trigger``): hop 0.
    ``logged`` marks the trace to be logged record by record in every processor it
    reaches, whatever the topology's sampling (``attak trigger`` sets it)."""
    try:
        body = _encode(data)
    except (TypeError, ValueError) as exc:
        raise EmitError(f"input is not JSON-serializable: {exc}") from None
    mark = _LOG_FIELD if logged else ""
    return f'{{"v":{VERSION},"trace":{encode_basestring(trace)},"hops":0,{mark}"data":{body}}}'


def decode(raw: bytes | str, default_trace: str) -> Envelope:
    """Decode a record. Data that is not an envelope (written by an outside producer into
    an ingest stream) is taken whole as the event, with ``default_trace``: parsed if it is
    JSON, else as text (``str``) if it is UTF-8, else as ``bytes``."""
    if isinstance(raw, str):
        text = raw
    else:
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            return _outside(raw, default_trace)
    try:
        try:
            # The C scanner without json.loads' whitespace handling: records attak wrote
            # have none, and anything else falls back to the full decoder.
            value, end = _scan(text, 0)
            if end != len(text):
                raise ValueError
        except (ValueError, StopIteration):
            value = _decoder.decode(text)
    except ValueError:
        return _outside(text, default_trace)
    if (
        type(value) is dict
        and type(value.get("v")) is int
        and value["v"] == VERSION
        and "data" in value
    ):
        return _complete(value, default_trace)
    return _outside(value, default_trace)


def _outside(data: Any, default_trace: str) -> Envelope:
    """The envelope of an event an outside producer wrote: the data, at hop 0."""
    return {
        "v": VERSION,
        "data": data,
        "topic": None,
        "from": None,
        "trace": default_trace,
        "hops": 0,
    }


def _complete(value: Envelope, default_trace: str) -> Envelope:
    """Fill in what an envelope may leave out, and refuse fields of the wrong type."""
    if "topic" not in value:
        value["topic"] = None
    if "from" not in value:
        value["from"] = None
    trace = value.get("trace")
    if not trace:
        value["trace"] = default_trace
    elif type(trace) is not str:
        value["trace"] = str(trace)
    hops = value.setdefault("hops", 0)
    if type(hops) is not int or hops < 0:
        raise DecodeError(f"record envelope has an invalid hop count {hops!r}")
    return value
