"""The ``context`` a handler receives: Lambda's context plus ``emit`` and attak's names.

A context lives for one record. Its emits are kept aside and only handed on once the
handler returns, so a record that fails takes its emits with it.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from .config import FIREHOSE, FIREHOSE_MAX_RECORD_BYTES
from .envelope import (
    GENERATED_KEY_LENGTH,
    LOG,
    MAX_PARTITION_KEY,
    MAX_RECORD_BYTES,
    DecodeError,
    EmitError,
    Envelope,
    decode,
    encode_with,
    header,
)


class LoopError(EmitError):
    """An emit that would take a trace past ``max_hops``: a runaway loop is stopped here."""


class Emit:
    """One ``emit`` call, encoded, with the streams it goes to (none for a sink topic).

    The simulator queues an ``Emit`` as the record a consumer reads, so it carries the
    record's fields too (``payload``, ``key``, ``sequence``, ``sub``, ``error``). ``key``
    is ``None`` when the handler gave none: the transport then spreads records evenly
    (the Kinesis emitter draws a random key). ``tag`` is opaque to the runtime: the
    simulator links each record to the handler call that emitted it.
    """

    __slots__ = ("key", "payload", "streams", "tag", "topic")
    sequence = ""
    sub = 0
    error: DecodeError | None = None

    def __init__(self, topic: str, payload: str, key: str | None, streams: tuple[str, ...]) -> None:
        self.topic = topic
        self.payload = payload
        self.key = key
        self.streams = streams
        self.tag: object = None

    @property
    def data(self) -> Any:
        """The data as it was sent: read back from the record, so a handler that changes
        an object after emitting it does not change what its emit reports."""
        return decode(self.payload, "")["data"]

    def __repr__(self) -> str:
        # For people reading a test failure or a debugger; never called on the hot path.
        try:
            data = repr(self.data)
        except DecodeError:
            data = f"<undecodable {self.payload!r:.60}>"
        key = f", key={self.key!r}" if self.key is not None else ""
        to = f", streams={list(self.streams)!r}" if self.streams else ", sink"
        return f"Emit({self.topic!r}, {data}{key}{to})"


def _check_firehose_size(run: Bindings, topic: str, data: Any, streams: tuple[str, ...]) -> None:
    """Refuse, at emit time, an event too large for a Firehose delivery stream it goes to:
    the handler's event then fails, is retried and dead-lettered with its data, as any
    emit that cannot become a record, instead of failing the whole batch at the write."""
    kinds = run.routes.external
    bound = [s for s in streams if kinds.get(s) == FIREHOSE]
    if not bound:
        return
    record = len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()) + 1
    if record > FIREHOSE_MAX_RECORD_BYTES:
        raise EmitError(
            f"processor '{run.processor}', topic '{topic}': the record is {record} bytes, over "
            f"Firehose's limit of {FIREHOSE_MAX_RECORD_BYTES} (1,000 KiB) for delivery stream "
            f"{bound[0]}; emit smaller pieces or store the payload elsewhere and emit a reference"
        )


class Routes:
    """Which streams an emit on a topic goes to: streams with that topic or with none."""

    def __init__(self, routes: list[dict[str, Any]]) -> None:
        self._any = tuple(r["stream"] for r in routes if r.get("topic") is None)
        self.external: dict[str, str] = {
            r["stream"]: r["external"] for r in routes if r.get("external")
        }
        """Streams outside attak (existing ones, by ARN) -> their kind, ``kinesis`` or
        ``firehose``: the event's JSON is written there, not attak's records."""
        self._topics: dict[str, tuple[str, ...]] = {}
        for route in routes:
            topic = route.get("topic")
            if topic is not None and topic not in self._topics:
                self._topics[topic] = tuple(
                    r["stream"] for r in routes if r.get("topic") in (None, topic)
                )

    @classmethod
    def from_json(cls, text: str) -> Routes:
        return cls(json.loads(text) if text else [])

    def streams_for(self, topic: str) -> tuple[str, ...]:
        return self._topics.get(topic, self._any)


class Bindings(Protocol):
    """What a context needs from the processor it runs in (``Runner`` provides it)."""

    processor: str
    topology: str
    routes: Routes
    max_hops: int


class Context:
    """Passed to ``handler(event, context)``; anything else is read from Lambda's context."""

    __slots__ = ("_emits", "_head", "_hops", "_lambda", "_run", "logged", "trace_id")

    def __init__(
        self, run: Bindings, envelope: Envelope, emits: list[Emit], lambda_context: Any = None
    ) -> None:
        self._run = run
        self.trace_id: str = envelope["trace"]
        # Usually absent: the membership test spares a lookup and a bool() on every record.
        self.logged: bool = LOG in envelope and bool(envelope[LOG])
        """The trace is marked to be logged record by record (``attak trigger`` sent it):
        its emits carry the mark on."""
        self._hops: int = envelope["hops"] + 1
        self._emits = emits
        self._lambda = lambda_context
        self._head = ""

    @property
    def processor(self) -> str:
        """The name of the processor running this handler."""
        return self._run.processor

    @property
    def topology(self) -> str:
        """The name of the topology."""
        return self._run.topology

    def emit(self, topic: str, data: Any, key: str | None = None) -> None:
        """Send ``data`` on ``topic`` to every stream leaving this processor for it.

        ``key`` is the partition key: records with the same key stay in order. Without
        one, records spread evenly. Raises ``EmitError`` if the record cannot be sent.
        """
        run = self._run
        if type(topic) is not str or not topic:
            raise EmitError(
                f"processor '{run.processor}': emit's topic must be a non-empty string "
                f"(given {topic!r})"
            )
        streams = run.routes.streams_for(topic)
        # max_hops counts stream hops: an emit to a sink topic goes nowhere and is no hop.
        if self._hops > run.max_hops and streams:
            raise LoopError(
                f"processor '{run.processor}' emitting on topic '{topic}' would take trace "
                f"{self.trace_id} to hop {self._hops}, past max_hops {run.max_hops}: "
                "a runaway loop? Raise max_hops if this depth is intended"
            )
        if key is not None and (type(key) is not str or not 0 < len(key) <= MAX_PARTITION_KEY):
            raise EmitError(
                f"processor '{run.processor}', topic '{topic}': key must be a string of 1 to "
                f"{MAX_PARTITION_KEY} characters (given {key!r})"
            )
        head = self._head
        if not head:
            head = self._head = header(run.processor, self.trace_id, self._hops, self.logged)
        try:
            payload = encode_with(head, topic, data)
        except EmitError as exc:
            raise EmitError(f"processor '{run.processor}', topic '{topic}': {exc}") from None
        # Kinesis counts bytes; for ASCII text the character count is the byte count.
        try:
            size = len(payload) if payload.isascii() else len(payload.encode())
        except UnicodeEncodeError as exc:  # a lone surrogate: no UTF-8 form exists
            raise EmitError(
                f"processor '{run.processor}', topic '{topic}': data is not valid UTF-8 "
                f"text ({exc.reason} at position {exc.start})"
            ) from None
        if key is None:
            size += GENERATED_KEY_LENGTH
        else:
            size += len(key) if key.isascii() else len(key.encode())
        if size > MAX_RECORD_BYTES:
            raise EmitError(
                f"processor '{run.processor}', topic '{topic}': the record is {size} bytes, "
                f"over Kinesis' limit of {MAX_RECORD_BYTES} (1 MiB); emit smaller pieces or "
                "store the payload elsewhere and emit a reference"
            )
        if size > FIREHOSE_MAX_RECORD_BYTES and run.routes.external:
            _check_firehose_size(run, topic, data, streams)
        self._emits.append(Emit(topic, payload, key, streams))

    def __getattr__(self, name: str) -> Any:
        if self._lambda is None:
            raise AttributeError(
                f"context has no attribute '{name}' (running without a Lambda context)"
            )
        return getattr(self._lambda, name)
