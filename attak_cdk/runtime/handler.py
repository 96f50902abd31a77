"""The Lambda entry point and the delivery contract every engine shares.

``handle_event`` turns a Kinesis batch (base64 records) or a direct invocation into
``Record``s, hands them to a runner's ``process`` and shapes Lambda's answer; Lambda's
entry, ``lambda_handler``, calls it with the runner built from the environment, and the
Kinesis engine with each processor's runner. The memory engine calls the same ``process``
with records it built. ``process`` runs the user's handler once per event, in order:

- emits of events that succeeded are flushed to their streams;
- an event read from a stream that raises is retried in place, with backoff, up to the
  stream's ``retry_attempts`` (while the invocation has time), then dead-lettered by the
  runtime itself with its data, error, traceback and attempts (``dead_letters.py``), and
  processing goes on: one poison event never fails the record it shares with others;
- when an event cannot be dead-lettered (or comes from a direct invocation), its own
  emits are discarded, the emits of events before it are flushed, and processing stops
  there. Lambda's ReportBatchItemFailures then retries the batch from that record (and,
  after the stream's retry attempts, sends it to the on-failure destination);
- if a flush cannot deliver every record, ``process`` raises so the whole batch is retried:
  an emit is never lost, at worst delivered twice.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from . import config, configuration, dead_letters, url
from .aggregate import CorruptRecord
from .context import Context, Emit, LoopError, Routes
from .envelope import DecodeError, Envelope, decode, encode_input, new_id
from .ingest import events
from .logs import RecordLog, announced

Handler = Callable[[Any, Any], Any]
Observer = Callable[[Any, "Envelope | None", list[Emit], "BaseException | None", float, int], None]
"""Called after each handler call: (record, envelope or None, emits, error or None, seconds,
attempt: 1 for the first, more for its retries in place)."""

FLUSH_EVERY = 500
"""Pending emits that trigger a flush mid-batch, so a large batch never piles up memory."""


class Transport(Protocol):
    """Delivers encoded records to a stream (Kinesis PutRecords, or the simulator's queues)."""

    def put(self, stream: str, emits: Sequence[Emit]) -> None: ...


class Record:
    """One event to process: one of a Kinesis record's events, or a direct invocation
    made into one.

    ``payload`` is the event's data (bytes from Kinesis, text from attak's own encoder).
    ``sequence`` is the Kinesis record's sequence number (what ``batchItemFailures``
    names) and ``sub`` the event's index in that record (0 for a record of one event).
    ``error``, when set, is raised in place of decoding: the record could not be read
    (``record_events``). The simulator also hands ``process`` the ``Emit`` objects
    themselves, which carry the same fields.
    """

    __slots__ = ("error", "key", "payload", "sequence", "sub", "tag")

    def __init__(
        self,
        sequence: str,
        key: str,
        payload: bytes | str,
        tag: object = None,
        *,
        sub: int = 0,
        error: DecodeError | None = None,
    ):
        self.sequence = sequence
        self.key = key
        self.payload = payload
        self.tag = tag
        self.sub = sub
        self.error = error


def default_trace(record: Record | Emit) -> str:
    """The trace of an event whose data carries none: its record's sequence number, and
    its index in the record after a dot for the second event on (``"4962...17.2"``)."""
    return f"{record.sequence}.{record.sub}" if record.sub else record.sequence


def record_events(sequence: str, key: str, data: bytes, stream: str) -> list[Record]:
    """The events of one Kinesis record of ``stream`` (``ingest.events``), as Records.

    A record that cannot be read is one Record whose ``error`` says so, naming the stream
    and the sequence number: it is dead-lettered on its own (reading it again would not
    help), instead of failing every record of its batch.
    """
    try:
        entries = events(data, key)
    except CorruptRecord as exc:
        error = CorruptRecord(f"stream {stream!r}, record {sequence}: {exc}")
        return [Record(sequence, key, data, error=error)]
    if len(entries) == 1:
        return [Record(sequence, entries[0][0], entries[0][1])]
    return [Record(sequence, k, d, sub=sub) for sub, (k, d) in enumerate(entries)]


def stream_name(arn: str) -> str:
    """The stream's name in its ARN (``arn:aws:kinesis:...:stream/NAME``)."""
    return arn.rpartition("/")[2]


class DeadLetters(Protocol):
    """Where the runner sends an event that failed every attempt (``dead_letters.py``):
    the processor's SQS queue in AWS, the run's dead letters in a simulator. ``send``
    raises when the letter cannot be kept, and the record then fails as a whole."""

    def send(self, document: dict[str, Any], error: BaseException, record: Any) -> None: ...


class Runner:
    """One processor's handler bound to its routes, transport and limits.

    ``retries`` maps each stream the processor reads to its ``retry_attempts``: an event
    from one of them that fails is retried in place, with backoff, that many times (while
    the invocation has time), then sent to ``dead_letters``. Without ``dead_letters``, or
    for a source not in ``retries`` (a direct invocation), a failing record fails the
    batch at its position and Lambda retries it, as Lambda's own rules say.
    """

    def __init__(
        self,
        *,
        handler: Handler,
        processor: str,
        topology: str,
        routes: Routes,
        transport: Transport,
        max_hops: int,
        observer: Observer | None = None,
        retries: Mapping[str, int] | None = None,
        dead_letters: DeadLetters | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.handler = handler
        self.processor = processor
        self.topology = topology
        self.routes = routes
        self.transport = transport
        self.max_hops = max_hops
        self.observer = observer
        self.retries = dict(retries or {})
        self.dead_letters = dead_letters
        self.sleep = sleep
        self._loop: Any = None
        self.position = 0
        """The index of the record ``process`` is on: where an invocation cut short (a
        timeout) stopped."""

    def process(
        self,
        records: Sequence[Record | Emit],
        lambda_context: Any = None,
        observer: Observer | None = None,
        *,
        source: str | None = None,
        separate: bool = False,
    ) -> tuple[int, BaseException] | None:
        """Run the handler over ``records`` read from ``source`` in order; return (index,
        error) of the record that failed the batch, or ``None`` when none did. See the
        module docstring.

        ``observer``, if given, is told of each handler call instead of the runner's own:
        how a simulator passes what it knows of this one invocation. With ``separate``,
        each record is an invocation of its own (direct invokes a simulator hands over
        together): its emits are sent as it ends."""
        pending: list[Emit] = []
        observer = observer or self.observer
        handler = self.handler
        clock = time.perf_counter
        retries = self.retries.get(source) if source is not None else None
        if self.dead_letters is None:
            retries = None
        for index, record in enumerate(records):
            self.position = index
            attempt = 1
            while True:
                emits: list[Emit] = []
                envelope = None
                started = clock()
                try:
                    if record.error is not None:
                        raise record.error
                    envelope = decode(record.payload, default_trace(record))
                    result = handler(
                        envelope["data"], Context(self, envelope, emits, lambda_context)
                    )
                    if result is not None and isinstance(result, Coroutine):
                        self._await(result)
                except Exception as error:
                    if observer is not None:
                        observer(record, envelope, emits, error, clock() - started, attempt)
                    if retries is None:
                        self.flush(pending)
                        return index, error
                    if self._retry(error, attempt, retries, lambda_context):
                        attempt += 1
                        continue
                    if not self._dead_letter(record, envelope, error, attempt, source or ""):
                        self.flush(pending)
                        return index, error
                    break
                if observer is not None:
                    observer(record, envelope, emits, None, clock() - started, attempt)
                if emits:
                    pending.extend(emits)
                    if separate or len(pending) >= FLUSH_EVERY:
                        self.flush(pending)
                        pending = []
                break
        self.flush(pending)
        return None

    def _await(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Run an ``async def`` handler's coroutine to its end. Lambda's Python runtime
        would not await it (the handler would silently do nothing); attak's runtime runs
        it on one event loop per container, so async handlers work alike in AWS and in
        simulate."""
        loop = self._loop
        if loop is None:
            import asyncio

            loop = self._loop = asyncio.new_event_loop()
        loop.run_until_complete(coroutine)

    def _retry(self, error: BaseException, attempt: int, retries: int, lambda_context: Any) -> bool:
        """Wait and say yes when a failed event gets another attempt: not for errors that
        would repeat (a record that cannot be decoded, a runaway loop), nor past its
        retries, nor when the wait would leave the invocation too little time to finish."""
        if attempt > retries or isinstance(error, (DecodeError, LoopError)):
            return False
        delay = min(
            config.EVENT_RETRY_MAX_DELAY, config.EVENT_RETRY_BASE_DELAY * 2 ** (attempt - 1)
        )
        remaining = getattr(lambda_context, "get_remaining_time_in_millis", None)
        if remaining is not None and remaining() < (delay + config.EVENT_RETRY_RESERVE) * 1000:
            return False
        self.sleep(delay)
        return True

    def _dead_letter(
        self,
        record: Record | Emit,
        envelope: Envelope | None,
        error: BaseException,
        attempts: int,
        source: str,
    ) -> bool:
        """Send the event's letter; ``False`` when it could not be kept (the record then
        fails and Lambda's own retries and on-failure destination take over)."""
        assert self.dead_letters is not None
        document = dead_letters.letter(
            processor=self.processor,
            source=source,
            sequence=record.sequence,
            payload=record.payload,
            envelope=envelope,
            error=error,
            attempts=attempts,
        )
        try:
            self.dead_letters.send(document, error, record)
        except dead_letters.DeadLetterError as failed:
            sys.stderr.write(f"attak: {failed}\n")
            return False
        return True

    def flush(self, pending: list[Emit]) -> None:
        """Hand the emits to the transport, one call per stream, keeping emit order."""
        if not pending:
            return
        if len(pending) == 1:  # one emit (a direct invocation's, often): no grouping
            for stream in pending[0].streams:
                self.transport.put(stream, pending)
            return
        by_stream: dict[str, list[Emit]] = {}
        for emit in pending:
            for stream in emit.streams:
                group = by_stream.get(stream)
                if group is None:
                    by_stream[stream] = [emit]
                else:
                    group.append(emit)
        for stream, emits in by_stream.items():
            self.transport.put(stream, emits)


# --- AWS Lambda ----------------------------------------------------------------------

_runner: Runner | None = None


def _runner_from_environment() -> Runner:
    """Build the runner once per container from what the CDK stack put in the environment
    (the values it references read first: ``configuration.load``) and the routes file in
    the asset (``read_routes``): its observer is the function's log
    (``logs.RecordLog``), which also sees each handler call begin."""
    from .emitter import KinesisEmitter

    module_name, _, function = os.environ[config.ENV_HANDLER].partition(":")
    # Before the import: the handler's module may read its configuration at its top level.
    configuration.load()
    module = importlib.import_module(module_name)
    processor = os.environ[config.ENV_PROCESSOR]
    topology = os.environ.get(config.ENV_TOPOLOGY, "")
    log = RecordLog(
        processor,
        float(os.environ.get(config.ENV_TRACE_SAMPLING, config.DEFAULT_TRACE_SAMPLING)),
        topology=topology,
    )
    queue = os.environ.get(config.ENV_DEAD_LETTERS)
    letters = None
    if queue:
        import boto3

        letters = _Counted(dead_letters.SqsDeadLetters(boto3.client("sqs"), queue), log)
    routes, retries = read_routes()
    return Runner(
        handler=announced(getattr(module, function or "handler"), log),
        processor=processor,
        topology=topology,
        routes=routes,
        transport=KinesisEmitter.from_environment(),
        max_hops=int(os.environ.get(config.ENV_MAX_HOPS, config.DEFAULT_MAX_HOPS)),
        observer=log,
        retries=retries,
        dead_letters=letters,
    )


def read_routes() -> tuple[Routes, dict[str, int]]:
    """The processor's routes and its streams' retries, from ``config.ROUTES_FILE`` at the
    root of the function's code: ``LAMBDA_TASK_ROOT``, which Lambda sets to where it
    unpacked the asset, or the folder holding this package when run elsewhere.
    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
    attak writes the file into every asset, a processor with no streams included; without
    it every emit would go nowhere, unseen, so its absence stops the function instead."""
    root = os.environ.get("LAMBDA_TASK_ROOT")
    folder = Path(root) if root else Path(__file__).resolve().parent.parent
    file = folder / config.ROUTES_FILE
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RuntimeError(
            f"{file} is missing: the function's code was not packaged by attak (its routes "
            "file says where emits go); deploy it with attak deploy or attak's Topology "
            "construct"
        ) from None
    return Routes(document.get("routes", [])), dict(document.get("retries", {}))


class _Counted:
    """The processor's dead-letter queue, counting what it keeps for the invocation's
    summary line."""

    def __init__(self, queue: dead_letters.SqsDeadLetters, log: RecordLog) -> None:
        self.queue = queue
        self.log = log

    def send(self, document: dict[str, Any], error: BaseException, record: Any) -> None:
        self.queue.send(document, error, record)
        self.log.dead_lettered()


def is_kinesis_event(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return (
        bool(records)
        and isinstance(records, list)
        and (isinstance(records[0], dict) and records[0].get("eventSource") == "aws:kinesis")
    )


def kinesis_records(event: dict[str, Any]) -> list[Record]:
    """The events of a Kinesis event-source-mapping batch, in order: each record's data
    base64-decoded and unpacked (``record_events``)."""
    out: list[Record] = []
    for r in event["Records"]:
        kinesis = r["kinesis"]
        out.extend(
            record_events(
                kinesis["sequenceNumber"],
                kinesis["partitionKey"],
                base64.b64decode(kinesis["data"]),
                stream_name(r.get("eventSourceARN", "")),
            )
        )
    return out


def source_stream(event: dict[str, Any]) -> str | None:
    """The name of the stream a Kinesis batch was read from (its records'
    ``eventSourceARN`` ends in ``stream/NAME``)."""
    arn = event["Records"][0].get("eventSourceARN")
    if not isinstance(arn, str) or "stream/" not in arn:
        return None
    return stream_name(arn)


def is_input_envelope(event: Any) -> bool:
    """Whether a direct invocation's payload is attak's own input envelope, as ``attak
    trigger`` sends it: ``{"v": 1, "trace", "data"}``."""
    return isinstance(event, dict) and event.get("v") == 1 and "data" in event


def direct_record(event: Any, request_id: str) -> Record:
    """A direct invocation as a record. ``attak trigger`` sends ``{"v": 1, "trace", "data"}``;
    any other payload (a console test, a scheduled event) is the event itself."""
    if is_input_envelope(event):
        return Record(request_id, request_id, json.dumps(event))
    return Record(request_id, request_id, encode_input(event, request_id or new_id()))


def url_request(runner: Processes, request: dict[str, Any], context: Any) -> dict[str, Any]:
    """One request to the processor's function URL (``url.py``): its events run in order,
    each as a direct invocation's would, and the answer names each event's trace, so
    ``attak logs --trace`` can follow any of them.

    200 when every event ran. When one raised, the events before it are done (their emits
    written) and it and those after it are not: 500 (400 if the caller's own envelope was
    malformed), naming the traces of each, so the caller can send again from the failed
    one; the error itself is in the function's log under its trace, not in the answer,
    which a public endpoint's caller reads. A body that cannot be read is 400 and nothing
    runs. Nothing from a request is dead-lettered: its caller is there to be told.
    """
    try:
        given = url.events(request)
    except url.BadRequest as exc:
        return url.response(exc.status, {"processor": runner.processor, "error": str(exc)})
    request_id = getattr(context, "aws_request_id", "") or new_id()
    ids = [request_id] if len(given) == 1 else [f"{request_id}.{n}" for n in range(len(given))]
    records = [direct_record(event, id) for event, id in zip(given, ids, strict=True)]
    traces = [_given_trace(event) or id for event, id in zip(given, ids, strict=True)]
    failed = runner.process(records, context)
    if failed is None:
        return url.response(200, {"processor": runner.processor, "outcome": "ok", "traces": traces})
    index, error = failed
    malformed = isinstance(error, DecodeError)
    why = str(error) if malformed else f"the handler raised {type(error).__name__}"
    return url.response(
        400 if malformed else 500,
        {
            "processor": runner.processor,
            "outcome": "failed",
            "error": f"event {index} failed: {why}; see `attak logs --trace {traces[index]}`",
            "done": traces[:index],
            "failed": traces[index],
            "not_run": traces[index + 1 :],
        },
    )


def _given_trace(event: Any) -> str | None:
    """The trace id an input envelope carries, if any."""
    trace = event.get("trace") if is_input_envelope(event) else None
    return trace if isinstance(trace, str) and trace else None


class Processes(Protocol):
    """What ``handle_event`` needs of a runner: ``Runner`` itself, or an engine's wrapper
    that runs it under the simulator's bookkeeping."""

    @property
    def processor(self) -> str: ...

    def process(
        self, records: Sequence[Record], lambda_context: Any = None, *, source: str | None = None
    ) -> tuple[int, BaseException] | None: ...


def handle_event(runner: Processes, event: Any, context: Any) -> dict[str, Any]:
    """One invocation of a processor's function, as Lambda makes it.

    A Kinesis batch answers with its partial batch response: no ``batchItemFailures``, or
    the sequence number of the record that failed (Lambda retries from it). A direct
    invocation answers ``{"processor", "outcome": "ok"}`` or raises the handler's error,
    so that Lambda retries it. A function URL's request is answered in HTTP
    (``url_request``). An error ``process`` raises (emits that could not be written) fails
    the invocation as a whole.
    """
    if is_kinesis_event(event):
        records = kinesis_records(event)
        failed = runner.process(records, context, source=source_stream(event))
        if failed is None:
            return {"batchItemFailures": []}
        return {"batchItemFailures": [{"itemIdentifier": records[failed[0]].sequence}]}
    if url.is_request(event):
        return url_request(runner, event, context)
    request_id = getattr(context, "aws_request_id", "") or new_id()
    record = direct_record(event, request_id)
    failed = runner.process([record], context)
    if failed is not None:
        error = failed[1]
        if isinstance(error, DecodeError):
            raise ValueError(str(error))
        raise error
    return {"processor": runner.processor, "outcome": "ok"}


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda's entry point for every attak processor: ``handle_event`` with the runner
    built, once per container, from the environment, then the invocation's summary line
    in the function's log (see ``logs``)."""
    global _runner
    if _runner is None:
        _runner = _runner_from_environment()
    log = _runner.observer
    if not isinstance(log, RecordLog):
        return handle_event(_runner, event, context)
    log.begin()
    records = len(event["Records"]) if is_kinesis_event(event) else 1
    try:
        answer = handle_event(_runner, event, context)
    except BaseException as error:
        log.end(records, error)
        raise
    log.end(records)
    return answer
