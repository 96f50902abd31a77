"""The Kinesis engine: the topology over a real Kinesis API, read as Lambda reads it.

``attak simulate --engine kinesis`` runs the same processors as the memory engine, but
records travel through a Kinesis-compatible server: the user's (``--endpoint-url``:
kinesalite, moto server, LocalStack) or one attak starts on a free loopback port and stops
afterwards (``emulator.py`` says which and why). Nothing here ever talks to AWS itself:
every client is given the endpoint and placeholder credentials.

What happens, as in AWS:

- Every stream of the topology (and every ingest stream) is created with its shard count
  under a name unique to the run, and deleted afterwards.
- Processors emit through the runtime's ``KinesisEmitter``, the very object that runs in
  Lambda: PutRecords calls of at most 500 records and 5 MiB, throttled entries retried
  with backoff, and a batch failed (so retried) when records still cannot be written.
- One reader per shard plays Lambda's event-source mapping: GetShardIterator at
  TRIM_HORIZON, GetRecords up to ``batch_size``, the records split by partition key into
  ``parallelization_factor`` lanes (one by default), each lane's batch held back up to
  ``max_batching_window`` to fill up (and cut at Lambda's 6 MB invoke payload), then the
  consumer is invoked with a genuine Kinesis event (base64 data, sequence numbers,
  partition keys, ``eventSource: aws:kinesis``) through the runtime's ``handle_event``,
  Lambda's entry. The ``batchItemFailures`` it returns are read back as Lambda reads
  them: records before the failing one are checkpointed, the batch is retried from it or
  bisected (holding up only its lane), and after ``retry_attempts`` (or past
  ``max_record_age``) the records go to the consumer's dead-letter queue: an SQS queue on
  the same endpoint when it speaks SQS (moto, LocalStack; the message is Lambda's own
  on-failure record), and the run's ``dead_letters`` in every case.
- Entry processors are invoked directly, one event per invocation, as ``attak trigger``
  invokes them, with two retries.
- Every invocation runs under its processor's timeout (``timeouts.py``); one that runs out
  of time is a function error, and the batch is retried as a whole.

The engine sets up the run, sends its input and invokes the processors; its parts have
a module each: ``resources.py`` (the streams on the endpoint), ``event_source.py`` (the
poll loop, in rounds until every shard is quiet), ``shard_reading.py`` (GetRecords, and
the duplicates at-least-once delivery allows), ``lambda_events.py`` (what Lambda hands a
function and reads back) and ``dead_letters.py`` (the on-failure records in SQS).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..handlers import Handler
from ..inputs import InputEvent
from ..model import Topology
from ..runtime.context import Emit
from ..runtime.dead_letters import DeadLetterError
from ..runtime.emitter import KinesisEmitter
from ..runtime.envelope import EmitError, Envelope
from ..runtime.handler import Record, Runner, direct_record, handle_event, record_events
from ..runtime.records import Tally
from . import emulator
from .configuration import local_environments
from .dead_letters import RECORD_AGE_EXCEEDED, DeadLetterQueues, batch_message, direct_message
from .engine import Call, Engine
from .event_source import EventSourceMapping
from .failures import InvocationFailed
from .resources import (
    EndpointError,
    KinesisStream,
    PhysicalNames,
    ShardReader,
    check_endpoint,
    connect,
    create_streams,
    delete_streams,
    run_streams,
)
from .result import Invocation, SimulationResult
from .shard_reading import ShardReading

INPUT_ATTEMPTS = 30
"""PutRecords attempts for outside input."""
REGION = "us-east-1"
WHOLE = -1
"""The failure index of an invocation that raised as a whole (no partial response)."""


@dataclass(frozen=True)
class KinesisOptions:
    """How the engine talks to the endpoint. The defaults suit a local emulator."""

    region: str = REGION
    read_timeout: float = 10.0
    """Seconds to wait for an answer before a call counts as timed out (and is retried)."""
    emit_attempts: int = 8
    """PutRecords attempts per call before the batch fails (the emitter's own default)."""
    emit_base_delay: float = 0.05
    emit_max_delay: float = 2.0
    read_retry_delay: float = 0.05
    """Pause before a shard is read again after GetRecords failed."""
    idle_sleep: float = 0.01
    """Pause between rounds when every shard is only waiting for a batching window."""
    emulator: str | None = None
    """``kinesalite`` or ``moto`` when attak starts the endpoint (default: kinesalite if
    installed, else moto)."""


@dataclass
class EngineFigures:
    """What the wire saw in one run (``result.engine``; ``--json``'s ``engine``)."""

    endpoint: str
    emulator: str | None
    put_records_calls: int = 0
    get_records_calls: int = 0
    get_records_errors: int = 0
    records_read: int = 0
    duplicates: int = 0
    function_errors: int = 0
    """Invocations that failed as a whole (an emit that could not be written, a timeout):
    Lambda retries the whole batch."""
    dead_letter_queue: bool = False
    """Dead letters were also sent to SQS queues on the endpoint."""
    dead_letter_messages: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"name": "kinesis", **self.__dict__}


class KinesisEngine(Engine):
    """Runs one topology through a Kinesis endpoint. Use ``simulate`` for a one-call run,
    or ``with KinesisEngine(...) as engine: engine.run(events)`` to keep the endpoint."""

    def __init__(
        self,
        topology: Topology,
        *,
        endpoint_url: str,
        max_hops: int | None = None,
        seed: int = 0,
        handlers: Mapping[str, Handler] | None = None,
        on_invocation: Callable[[Invocation], None] | None = None,
        options: KinesisOptions | None = None,
        emulator_kind: str | None = None,
        clock: Callable[[], float] = time.time,
        timeouts: bool = True,
        environments: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.options = options or KinesisOptions()
        self.endpoint_url = endpoint_url
        self._run_id = os.urandom(4).hex()
        super().__init__(
            topology,
            max_hops=max_hops,
            seed=seed,
            on_invocation=on_invocation,
            timeouts=timeouts,
            region=self.options.region,
            environments=environments,
        )
        self.streams: dict[str, KinesisStream] = run_streams(self.resolved, self._run_id)
        self._local_names = {s.physical: s.name for s in self.streams.values()}
        self.kinesis, sqs = connect(endpoint_url, self.options.region, self.options.read_timeout)
        self.emitter = KinesisEmitter(
            self.kinesis,
            max_attempts=self.options.emit_attempts,
            base_delay=self.options.emit_base_delay,
            max_delay=self.options.emit_max_delay,
        )
        self.reading = ShardReading(self.kinesis, clock, self.options.read_retry_delay)
        self.mapping = EventSourceMapping(
            self.streams.values(),
            self.reading,
            invoke=self._invoke_consumer,
            on_failure=self._dead_letter_records,
            region=self.options.region,
            clock=clock,
            idle_sleep=self.options.idle_sleep,
        )
        self.queues = DeadLetterQueues(sqs)
        self.figures = EngineFigures(endpoint_url, emulator_kind)
        self.result.engine = self.figures.as_dict()
        transport = PhysicalNames(self.emitter, {s.name: s.physical for s in self.streams.values()})
        self.runners = self._build_runners(transport, handlers)
        self._parents: dict[str, int] = {}
        """A record's data as written -> the invocation that emitted it. Keyed by the data,
        not the sequence number PutRecords answers: a call whose answer was lost and that
        was sent again writes the record twice, and both copies come from that invocation.
        (The envelope carries no record id: it would cost bytes on every record in AWS.)"""
        self._created = False
        self._input_calls = 0
        self._input_written: dict[str, Tally] = {}

    # --- Setting up and tearing down ------------------------------------------------------

    def __enter__(self) -> KinesisEngine:
        self.create()
        return self

    def __exit__(self, *_: object) -> None:
        self.delete()

    def create(self) -> None:
        """Create every stream (and, where the endpoint has SQS, the dead-letter queues)."""
        check_endpoint(self.kinesis, self.endpoint_url)
        self._created = True  # from here on a failure leaves something for delete to clean
        create_streams(self.kinesis, self.streams.values(), self.endpoint_url)
        # Every processor that can dead-letter: the streams' consumers and the entry points.
        consumers = sorted({s.consumer for s in self.streams.values()})
        entries = [n for n, p in self.resolved.processors.items() if p.ingest is None]
        self.queues.create(self._run_id, [*consumers, *entries])
        self.figures.dead_letter_queue = bool(self.queues.urls)

    def delete(self) -> None:
        """Delete what ``create`` made: the endpoint may be the user's and outlive the run."""
        if not self._created:
            return
        self._created = False
        self.queues.delete()
        delete_streams(self.kinesis, self.streams.values())

    # --- Running -------------------------------------------------------------------------

    def run(self, events: Iterable[InputEvent]) -> SimulationResult:
        """Create the streams if needed, send the events, drain every stream."""
        if not self._created:
            self.create()
        result = super().run(events)
        # The emitter, the readers and the queues count as they go; the run reports it.
        figures = self.figures
        figures.put_records_calls = self.emitter.calls + self._input_calls
        figures.get_records_calls = self.reading.calls
        figures.get_records_errors = self.reading.errors
        figures.records_read = self.reading.records
        figures.duplicates = self.reading.duplicates
        figures.dead_letter_messages = self.queues.sent
        self.result.engine = figures.as_dict()
        result.transport = self._transport()
        return result

    def _transport(self) -> dict[str, dict[str, int]]:
        """What was written to each stream, by its topology name: the processors' emits
        and the outside input (raw records are the producer's, not counted)."""
        table = {name: Tally().as_dict() for name in self.streams}
        for written in (self.emitter.written, self._input_written):
            for physical, tally in written.items():
                row = table[self._local_name(physical)]
                for figure, value in tally.as_dict().items():
                    row[figure] += value
        return table

    def send(self, events: Iterable[InputEvent]) -> None:
        """Deliver outside events: one direct invocation per event, as they come, then
        PutRecords into each ingest stream in bulk, as a producer would (each stream gets
        its events in input order; order across processors is not kept, nor is it in AWS).
        Raw record data is written as it is, with PutRecord, in its place in that order."""
        processors = self.resolved.processors
        ingest: dict[str, list[Emit | bytes]] = {}
        for event in events:
            if event.raw is not None:
                stream = self.streams[self._raw_stream(event)].physical
                ingest.setdefault(stream, []).append(event.raw)
                continue
            trace, payload = self._input_record(event)
            into = processors[event.processor].ingest
            if into is not None:
                stream = self.streams[into.name].physical
                ingest.setdefault(stream, []).append(Emit("", payload, None, ()))
            else:
                self._invoke_direct(event.processor, json.loads(payload), trace)
        for stream, items in ingest.items():
            self._put_input(stream, items)

    def _put_input(self, stream: str, items: list[Emit | bytes]) -> None:
        """Write outside input as a patient producer does: more attempts than a
        processor's emitter, since no batch retry stands behind it. Emits go in bulk;
        raw record data, as one record each, between them."""
        producer = KinesisEmitter(
            self.kinesis,
            max_attempts=INPUT_ATTEMPTS,
            base_delay=self.options.emit_base_delay,
            max_delay=self.options.emit_max_delay,
        )
        emits: list[Emit] = []
        try:
            for item in items:
                if isinstance(item, Emit):
                    emits.append(item)
                    continue
                if emits:
                    producer.put(stream, emits)
                    emits = []
                self.kinesis.put_record(StreamName=stream, Data=item, PartitionKey=self._new_id())
                self._input_calls += 1
            if emits:
                producer.put(stream, emits)
        except EmitError as exc:
            raise EndpointError(f"outside input could not be written: {exc}") from None
        finally:
            self._input_calls += producer.calls
            for physical, tally in producer.written.items():
                self._input_written[physical] = tally

    def _invoke_direct(self, processor: str, event: Any, request_id: str) -> None:
        """One direct invocation, as Lambda's entry point receives it from ``attak trigger``."""
        runner = self.runners[processor]
        record = direct_record(event, request_id)
        failed = self._process(runner, [record], Call(processor))
        self._stop_at_loop()
        if failed is not None:
            before = len(self.result.dead_letters)
            self._retry_direct(runner, record, failed[1])
            if len(self.result.dead_letters) > before:
                letter = self.result.dead_letters[-1]
                message = direct_message(processor, event, letter, self.options.region)
                self.queues.send(processor, message)

    def _process(
        self,
        runner: Runner,
        records: Sequence[Record | Emit],
        call: Call,
        lambda_context: object = None,
        *,
        each: bool = False,
    ) -> tuple[int, BaseException] | None:
        """``Runner.process`` as Lambda runs it, with a context and under the timeout. An
        emit that cannot be written raises out of ``process``, and a timeout fails the
        invocation: either way the whole invocation failed (index ``WHOLE``), and Lambda
        retries the whole batch."""
        try:
            failed = super()._process(runner, records, call, lambda_context, each=each)
        except Exception as error:  # raised by a flush: the function errored as a whole
            self.figures.function_errors += 1
            return WHOLE, error
        if failed is not None and isinstance(failed[1], InvocationFailed):
            self.figures.function_errors += 1
            return WHOLE, failed[1]
        return failed

    def pending(self) -> int:
        """Records buffered by the readers plus those still unread in the streams."""
        return self.mapping.pending()

    def drain(self) -> None:
        """Poll every shard until the topology is quiet (``event_source.py`` says when)."""
        self.mapping.drain()

    def _invoke_consumer(
        self, stream: KinesisStream, event: dict[str, Any], attempt: int
    ) -> tuple[dict[str, Any] | None, BaseException | None]:
        """The event-source mapping's invocation of ``stream``'s consumer (``attempt``: the
        mapping's count; the engine counts each event's handler calls itself); a runaway
        loop stops the run here."""
        answer = self._lambda_handler(self.runners[stream.consumer], event, stream.name)
        self._stop_at_loop()
        return answer

    def _lambda_handler(
        self, runner: Runner, event: dict[str, Any], source: str
    ) -> tuple[dict[str, Any] | None, BaseException | None]:
        """Lambda's invocation of ``runner`` with a Kinesis event: the runtime's own
        ``handle_event``, as ``lambda_handler`` calls it with the runner it builds from
        Lambda's environment. Returns the partial batch response (``None`` when the
        function raised) and the error."""
        consumer = _Consumer(self, runner, source)
        try:
            response = handle_event(consumer, event, self._lambda_context(runner.processor))
        except (Exception, InvocationFailed) as error:  # the function failed as a whole
            return None, error
        return response, consumer.error

    def _process_batch(
        self,
        runner: Runner,
        records: Sequence[Record],
        lambda_context: object,
        source: str,
    ) -> tuple[int, BaseException] | None:
        """``_process`` for a batch read from ``source``: each record tagged with the
        invocation that emitted it.

        ``records`` are events: an aggregated Kinesis record is one per event it carries,
        each with the payload of the emit it was, so each finds its own parent. A batch
        of CloudWatch Logs control messages has none, and no handler call."""
        if not records:
            return None
        parents = self._parents
        for record in records:
            payload = record.payload
            record.tag = parents.get(
                payload.decode(errors="replace") if isinstance(payload, bytes) else payload
            )
        call = Call(runner.processor, source)
        return self._process(runner, records, call, lambda_context)

    def _observe(
        self,
        call: Call,
        record: Record | Emit,
        envelope: Envelope | None,
        emits: list[Emit],
        error: BaseException | None,
        seconds: float,
        attempt: int = 1,
    ) -> None:
        super()._observe(call, record, envelope, emits, error, seconds, attempt)
        if error is None:
            number = len(self.result.rows)
            for emit in emits:
                if emit.streams:
                    self._parents[emit.payload] = number

    def _dead_letter_records(
        self,
        stream: KinesisStream,
        reader: ShardReader,
        records: list[dict[str, Any]],
        error: BaseException,
        attempts: int,
        condition: str,
    ) -> None:
        """``records`` leave the shard: dead letters of the run, and one on-failure record
        in the consumer's queue."""
        # The events the records carry, read as the function read them.
        events = [
            record_events(r["SequenceNumber"], r["PartitionKey"], r["Data"], stream.physical)
            for r in records
        ]
        failing = [event for record in events for event in record]
        if condition == RECORD_AGE_EXCEEDED:
            for record in failing:
                self._dead_letter_expired(stream.consumer, stream.name, record, error)
        elif failing:
            together = len(events[0]) or 1
            self._dead_letter_batch(
                stream.consumer, stream.name, failing, error, attempts, together=together
            )
        message = batch_message(
            stream, reader.shard_id, records, condition, attempts, self.options.region
        )
        self.queues.send(stream.consumer, message)

    def _wire_name(self, stream: str) -> str:
        return self.streams[stream].physical

    def _local_name(self, stream: str) -> str:
        return self._local_names.get(stream, stream)

    def _keep_letter(self, document: dict[str, Any]) -> None:
        """The runtime's letter in the consumer's queue, as it sends it in AWS."""
        try:
            self.queues.send(document["processor"], document)
        except EndpointError as exc:
            raise DeadLetterError(str(exc)) from exc

    def queue_messages(self, processor: str) -> list[dict[str, Any]]:
        """The on-failure records in ``processor``'s dead-letter queue (empty without SQS)."""
        return self.queues.messages(processor)


class _Consumer:
    """A stream's consumer as ``handle_event`` runs it in one invocation: its records go
    through the engine's ``_process_batch``; an invocation that failed as a whole raises,
    as the function would, and the failing record's error is kept for its dead letter
    (Lambda's response names only the record)."""

    def __init__(self, engine: KinesisEngine, runner: Runner, source: str) -> None:
        self.engine = engine
        self.runner = runner
        self.source = source
        self.error: BaseException | None = None

    @property
    def processor(self) -> str:
        return self.runner.processor

    def process(
        self, records: Sequence[Record], lambda_context: Any = None, *, source: str | None = None
    ) -> tuple[int, BaseException] | None:
        failed = self.engine._process_batch(self.runner, records, lambda_context, self.source)
        if failed is None:
            return None
        self.error = failed[1]
        if failed[0] == WHOLE:
            raise failed[1]
        return failed


def simulate(
    topology: Topology,
    events: Iterable[InputEvent],
    *,
    endpoint_url: str | None = None,
    max_hops: int | None = None,
    seed: int = 0,
    on_invocation: Callable[[Invocation], None] | None = None,
    options: KinesisOptions | None = None,
    timeouts: bool = True,
    environments: Mapping[str, Mapping[str, str]] | None = None,
) -> SimulationResult:
    """Run ``events`` through ``topology`` over Kinesis: at ``endpoint_url``, or on an
    emulator started for this run and stopped after it. ``timeouts=False`` lets every
    invocation run as long as it takes; ``environments`` gives each processor's variables
    (default: ``configuration.local_environments``)."""
    options = options or KinesisOptions()
    if environments is None:  # a missing value stops the run before the emulator starts
        environments = local_environments(topology)
    engine = partial(
        KinesisEngine,
        topology,
        max_hops=max_hops,
        seed=seed,
        on_invocation=on_invocation,
        options=options,
        timeouts=timeouts,
        environments=environments,
    )
    if endpoint_url is not None:
        return _run(engine(endpoint_url=endpoint_url), events, own_emulator=False)
    with emulator.start(options.emulator) as local:
        return _run(
            engine(endpoint_url=local.endpoint_url, emulator_kind=local.kind),
            events,
            own_emulator=True,
        )


def _run(
    engine: KinesisEngine, events: Iterable[InputEvent], *, own_emulator: bool
) -> SimulationResult:
    try:
        return engine.run(events)
    finally:
        # An engine on the user's endpoint cleans up; a run on attak's own emulator just
        # stops it.
        if not own_emulator:
            engine.delete()


__all__ = [
    "EndpointError",
    "EngineFigures",
    "KinesisEngine",
    "KinesisOptions",
    "simulate",
]
