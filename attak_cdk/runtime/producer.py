"""Writing events into an attak ingest stream from outside: the runtime's own aggregation.

A program that feeds a topology (a web service, a batch job, ``attak trigger``) writes
into the ingest stream of a processor with ``input: stream``. ``Producer`` writes there as
attak's processors write to their streams: each event as an input envelope (hop 0, with
a trace id), packed with others into KPL aggregated records, compressed where that pays,
events with the same ``key`` kept in order. ::

    import boto3
    from attak_cdk.runtime.producer import Producer

    producer = Producer(boto3.client("kinesis"), "attak-example-OrdersIngest...")
    trace = producer.send({"order": 1}, key="customer-7")  # buffered; the trace id is known now
    for landing in producer.flush():  # writes every event buffered, in few records
        if not landing.sent:
            print(landing.trace, "not written:", landing.error)

``send`` only buffers (and refuses at once, with ``EmitError``, an event that is not JSON,
too large for a record, or has a bad key). ``flush`` writes everything buffered through
``KinesisEmitter``, so with its retries and its per-key order under partial failures, and
returns one ``Landing`` per event, in the order sent: where the event is (the Kinesis
record's shard id and sequence number, and the event's index inside the record: KCL's
"subsequence number", counted from 0 as the KPL counts it,
https://docs.aws.amazon.com/streams/latest/dev/kinesis-producer-adv-aggregation.html),
or why it could not be written. Nothing is dropped silently: when the emitter gives up
(a record failed every attempt, or the stream refused the call), every event not written
is reported with the reason, and may be sent again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError

from .context import Emit
from .emitter import KinesisEmitter, WriteError
from .envelope import (
    GENERATED_KEY_LENGTH,
    MAX_PARTITION_KEY,
    MAX_RECORD_BYTES,
    EmitError,
    encode_input,
    new_id,
)
from .records import groups_for, record_for


@dataclass(frozen=True, slots=True)
class Landing:
    """Where one event sent by a ``Producer`` landed, or why it did not."""

    trace: str
    """The trace id the event was sent with."""
    shard: str | None = None
    """The id of the shard that holds the event's record."""
    sequence: str | None = None
    """The sequence number of the Kinesis record that carries it."""
    index: int | None = None
    """The event's place among the events of that record, from 0."""
    error: str | None = None
    """Why it was not written (``None`` once written)."""

    @property
    def sent(self) -> bool:
        return self.error is None


class Producer:
    """Buffers events for one ingest stream (its name or ARN) and writes them on ``flush``.

    ``client`` is a boto3 Kinesis client; give it ``Config(retries={"max_attempts": 1})``
    to leave the retries (and their pacing) to the emitter. ``max_attempts``, ``sleep``
    and ``jitter`` are the emitter's.
    """

    def __init__(
        self,
        client: Any,
        stream: str,
        *,
        max_attempts: int = 8,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.stream = stream
        self.emitter = KinesisEmitter(client, max_attempts=max_attempts, sleep=sleep, jitter=jitter)
        self._pending: list[Emit] = []
        """Events sent, not yet flushed; each one's ``tag`` is its trace id."""
        self.buffered_bytes = 0
        """Bytes of envelopes and keys waiting for ``flush``: a caller may flush by size."""

    def send(
        self, data: Any, key: str | None = None, trace: str | None = None, logged: bool = False
    ) -> str:
        """Buffer one event for the stream and return its trace id (``trace``, or a new
        one). Events with the same ``key`` reach the processor in the order sent; without
        a key they are spread over the shards. ``logged`` marks the trace to be logged
        record by record in every processor it reaches, whatever the sampling. Raise
        ``EmitError`` for data that is not JSON, a bad key, or an event over 1 MiB."""
        trace = new_id() if trace is None else trace
        return self.send_envelope(encode_input(data, trace, logged), trace, key)

    def send_envelope(self, payload: str, trace: str, key: str | None = None) -> str:
        """Buffer one event already encoded as an envelope (``envelope.encode``): how a
        dead letter goes back into the stream it came from with its topic, sender, trace
        and hops as they were. Return ``trace``; raise ``EmitError`` as ``send`` does."""
        if key is not None and (type(key) is not str or not 0 < len(key) <= MAX_PARTITION_KEY):
            raise EmitError(
                f"key must be a string of 1 to {MAX_PARTITION_KEY} characters (given {key!r})"
            )
        try:
            size = len(payload.encode())
        except UnicodeEncodeError as exc:  # a lone surrogate: no UTF-8 form exists
            raise EmitError(
                f"data is not valid UTF-8 text ({exc.reason} at position {exc.start})"
            ) from None
        size += GENERATED_KEY_LENGTH if key is None else len(key.encode())
        if size > MAX_RECORD_BYTES:
            raise EmitError(
                f"the event is {size} bytes with its envelope, over Kinesis' limit of "
                f"{MAX_RECORD_BYTES} (1 MiB) for a record; send smaller pieces or store the "
                "payload elsewhere and send a reference"
            )
        emit = Emit("", payload, key, (self.stream,))
        emit.tag = trace
        self._pending.append(emit)
        self.buffered_bytes += size
        return trace

    def flush(self) -> list[Landing]:
        """Write every buffered event; one ``Landing`` per event, in the order sent."""
        pending, self._pending, self.buffered_bytes = self._pending, [], 0
        if not pending:
            return []
        groups = groups_for(pending)
        records = [record_for(group) for group in groups]
        landings: dict[int, Landing] = {}  # id(emit) -> where it landed

        def landed(record: int, shard: str, sequence: str) -> None:
            for index, emit in enumerate(groups[record][1]):
                landings[id(emit)] = Landing(str(emit.tag), shard, sequence, index)

        reason = "not written"  # only read for events the emitter did not write
        try:
            self.emitter.write(self.stream, records, landed)
        except WriteError as exc:
            reason = f"not written to stream '{self.stream}': {exc.reason}"
        except BotoCoreError as exc:  # no credentials, a bad parameter: not retried
            reason = f"not written to stream '{self.stream}': {exc}"
        return [landings.get(id(e)) or Landing(str(e.tag), error=reason) for e in pending]
