"""The Lambda entry point and the delivery contract every engine shares.

``handle_event`` turns a Kinesis batch (base64 records) or a direct invocation into
``Record``s, hands them to a runner's ``process`` and shapes Lambda's answer; Lambda's
entry, ``lambda_handler``, calls it with the runner built from the environment, and the
Kinesis engine with each processor's runner. The memory engine calls the same ``process``
with records it built. ``process`` runs the user's handler once per record, in order:

- emits of records that succeeded are flushed to their streams;
- when record k raises, its own emits are discarded, the emits of records before it are
  flushed, and processing stops at k. Lambda's ReportBatchItemFailures then retries the
  batch from k (and, after the stream's retry attempts, dead-letters it);
- if a flush cannot deliver every record, ``process`` raises so the whole batch is retried:
  an emit is never lost, at worst delivered twice.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from . import config
from .context import Context, Emit, Routes
from .envelope import DecodeError, Envelope, decode, encode_input, new_id
from .logs import RecordLog, announced

Handler = Callable[[Any, Any], Any]
Observer = Callable[[Any, "Envelope | None", list[Emit], "BaseException | None", float], None]
"""Called after each record: (record, envelope or None, emits, error or None, seconds)."""

FLUSH_EVERY = 500
"""Pending emits that trigger a flush mid-batch, so a large batch never piles up memory."""


class Transport(Protocol):
    """Delivers encoded records to a stream (Kinesis PutRecords, or the simulator's queues)."""

    def put(self, stream: str, emits: Sequence[Emit]) -> None: ...


class Record:
    """One record to process: a Kinesis record, or a direct invocation made into one.

    ``payload`` is the record's data (bytes from Kinesis, text from attak's own encoder).
    The simulator also hands ``process`` the ``Emit`` objects themselves, which carry the
    same fields.
    """

    __slots__ = ("key", "payload", "sequence", "tag")

    def __init__(self, sequence: str, key: str, payload: bytes | str, tag: object = None):
        self.sequence = sequence
        self.key = key
        self.payload = payload
        self.tag = tag


class Runner:
    """One processor's handler bound to its routes, transport and limits."""

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
    ) -> None:
        self.handler = handler
        self.processor = processor
        self.topology = topology
        self.routes = routes
        self.transport = transport
        self.max_hops = max_hops
        self.observer = observer

    def process(
        self,
        records: Sequence[Record | Emit],
        lambda_context: Any = None,
        observer: Observer | None = None,
    ) -> tuple[int, BaseException] | None:
        """Run the handler over ``records`` in order; return (index, error) of the first
        record that failed, or ``None`` when all succeeded. See the module docstring.

        ``observer``, if given, is told of each record instead of the runner's own: how a
        simulator passes what it knows of this one invocation."""
        pending: list[Emit] = []
        observer = observer or self.observer
        handler = self.handler
        clock = time.perf_counter
        for index, record in enumerate(records):
            emits: list[Emit] = []
            envelope = None
            started = clock()
            try:
                envelope = decode(record.payload, record.sequence)
                handler(envelope["data"], Context(self, envelope, emits, lambda_context))
            except Exception as error:
                if observer is not None:
                    observer(record, envelope, emits, error, clock() - started)
                self.flush(pending)
                return index, error
            if observer is not None:
                observer(record, envelope, emits, None, clock() - started)
            if emits:
                pending.extend(emits)
                if len(pending) >= FLUSH_EVERY:
                    self.flush(pending)
                    pending = []
        self.flush(pending)
        return None

    def flush(self, pending: list[Emit]) -> None:
        """Hand the emits to the transport, one call per stream, keeping emit order."""
        if not pending:
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
    """Build the runner once per container from what the CDK stack put in the environment:
    its observer is the function's log (``logs.RecordLog``), which also sees each handler
    call begin."""
    from .emitter import KinesisEmitter

    module_name, _, function = os.environ[config.ENV_HANDLER].partition(":")
    module = importlib.import_module(module_name)
    processor = os.environ[config.ENV_PROCESSOR]
    log = RecordLog(
        processor,
        float(os.environ.get(config.ENV_TRACE_SAMPLING, config.DEFAULT_TRACE_SAMPLING)),
    )
    return Runner(
        handler=announced(getattr(module, function or "handler"), log),
        processor=processor,
        topology=os.environ.get(config.ENV_TOPOLOGY, ""),
        routes=Routes.from_json(os.environ.get(config.ENV_ROUTES, "[]")),
        transport=KinesisEmitter.from_environment(),
        max_hops=int(os.environ.get(config.ENV_MAX_HOPS, config.DEFAULT_MAX_HOPS)),
        observer=log,
    )


def is_kinesis_event(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return (
        bool(records)
        and isinstance(records, list)
        and (isinstance(records[0], dict) and records[0].get("eventSource") == "aws:kinesis")
    )


def kinesis_records(event: dict[str, Any]) -> list[Record]:
    """The records of a Kinesis event-source-mapping batch, data base64-decoded."""
    return [
        Record(
            r["kinesis"]["sequenceNumber"],
            r["kinesis"]["partitionKey"],
            base64.b64decode(r["kinesis"]["data"]),
        )
        for r in event["Records"]
    ]


def direct_record(event: Any, request_id: str) -> Record:
    """A direct invocation as a record. ``attak trigger`` sends ``{"v": 1, "trace", "data"}``;
    any other payload (a console test, a scheduled event) is the event itself."""
    if isinstance(event, dict) and event.get("v") == 1 and "data" in event:
        return Record(request_id, request_id, json.dumps(event))
    return Record(request_id, request_id, encode_input(event, request_id or new_id()))


class Processes(Protocol):
    """What ``handle_event`` needs of a runner: ``Runner`` itself, or an engine's wrapper
    that runs it under the simulator's bookkeeping."""

    @property
    def processor(self) -> str: ...

    def process(
        self, records: Sequence[Record], lambda_context: Any = None
    ) -> tuple[int, BaseException] | None: ...


def handle_event(runner: Processes, event: Any, context: Any) -> dict[str, Any]:
    """One invocation of a processor's function, as Lambda makes it.

    A Kinesis batch answers with its partial batch response: no ``batchItemFailures``, or
    the sequence number of the record that failed (Lambda retries from it). A direct
    invocation answers ``{"processor", "outcome": "ok"}`` or raises the handler's error,
    so that Lambda retries it. An error ``process`` raises (emits that could not be
    written) fails the invocation as a whole.
    """
    if is_kinesis_event(event):
        records = kinesis_records(event)
        failed = runner.process(records, context)
        if failed is None:
            return {"batchItemFailures": []}
        return {"batchItemFailures": [{"itemIdentifier": records[failed[0]].sequence}]}
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
