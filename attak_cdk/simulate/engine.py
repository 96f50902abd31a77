"""What every local engine shares: recording handler calls, retries, dead letters.

An engine runs a topology's processors through the runtime's ``Runner.process`` (the
code Lambda runs) and records each handler call as one invocation of the
``SimulationResult``. The engines differ only in where records travel between
processors: the memory engine keeps them in lists, the Kinesis engine writes and reads
them through a Kinesis API. A failing event is retried in place and dead-lettered by the
runtime itself (``Runner.process``; the engine keeps its letter as a dead letter of the
run). The rules for a record that fails as a whole (retry from it, bisect, dead-letter
after ``retry_attempts``; two retries for a direct invocation) live here, once, so both
engines end a run with the same dead letters.
Both apply them per lane: a shard's records split by partition key into
``parallelization_factor`` lanes (``key_lane``), each batched, retried and dead-lettered
on its own, as Lambda's concurrent batches per shard are; with the default factor 1 a
lane is the whole shard.

Every invocation runs under its processor's timeout (``timeouts.py``), as in Lambda. One
that runs out of time (or whose handler ends the process, ``failures.py``) fails as a
whole: the handler call it was in is recorded with
Lambda's "Task timed out after N.NN seconds" and its logs, and the batch (or the direct
invocation) is retried under the same rules as any failure, ending in dead letters with
that error. What the invocation had already sent stays sent, as a PutRecords call cannot
be taken back: the runtime sends a batch's emits when it ends, or each time 500 are
pending. Everything else it emitted is discarded with it, and the handler calls that had
finished before the timeout but whose emits were not sent are marked with the timeout too
(their emits are not in ``emitted``; the retry runs them again).
"""

from __future__ import annotations

import base64
import gc
import hashlib
import io
import random
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TextIO

from .. import graph
from ..errors import InputError
from ..handlers import Handler, environment, load_handler, printed_at_import
from ..inputs import InputEvent
from ..model import StreamSettings, Topology
from ..runtime import dead_letters as letters
from ..runtime.config import DIRECT_RETRIES
from ..runtime.context import Emit, LoopError, Routes
from ..runtime.envelope import (
    GENERATED_KEY_LENGTH,
    MAX_RECORD_BYTES,
    DecodeError,
    EmitError,
    Envelope,
    decode,
    encode_input,
)
from ..runtime.handler import Record, Runner, Transport, default_trace
from .configuration import local_environments
from .failures import InvocationFailed, process_exits_caught, runtime_died, runtime_exited
from .lambda_events import LOCAL_REGION, LambdaContext
from .lambda_logging import lambda_logging
from .result import DeadLetter, Invocation, Row, SimulationResult, describe_error
from .timeouts import Timer, debugging

INPUT = "input"
_new_row = tuple.__new__


def key_lane(key: str, lanes: int) -> int:
    """Which of ``lanes`` equal slices of the MD5 hash-key space ``key`` falls in.

    Kinesis puts a record on the shard whose hash-key range holds the MD5 of its partition
    key; a stream's shards split that space evenly. With ``shards * parallelization_factor``
    slices, ``index // factor`` is the key's shard and ``index % factor`` its lane in the
    shard: the same key always the same lane, so its order holds. How Lambda itself maps
    keys to a shard's concurrent batches is not documented; any stable hash of the key
    keeps the guarantee it documents (order per key), and both engines use this one.
    """
    digest = hashlib.md5(key.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest, "big") * lanes >> 128


@dataclass
class RetryState:
    """The retry bookkeeping a lane keeps at its head (the oldest record it has not
    finished): a shard's, or one of its ``parallelization_factor`` concurrent batches'.
    Both engines' lanes are one, whatever they hold the records in."""

    failures: int = 0
    """Times the record at the head has failed (the next attempt is failures + 1)."""
    counted: int = 0
    """Failures that count toward retry_attempts (bisected ones do not)."""
    window: int = 0
    """Batch size limit while bisecting; 0 when not bisecting."""


def batch_failed(
    lane: RetryState, settings: StreamSettings, index: int, remaining: int, *, whole: bool
) -> bool:
    """Update ``lane`` after its batch failed at record ``index`` with ``remaining`` records
    from it on; return ``True`` when retries ran out and those records become dead letters.

    This is Lambda's event-source mapping, as its guide describes it ("Configuring partial
    batch response with Kinesis Data Streams and Lambda"): the records before the failing
    one are checkpointed. An invocation that failed as a ``whole`` (an error, a timeout)
    is bisected when ``bisect_batch_on_error`` is on, halving the batch without using up a
    retry. A partial batch response is split at the record it names, and with bisect on
    only the remaining records of that batch are retried; either way that is a retry, and
    a record is retried ``retry_attempts`` times.
    """
    if index:
        lane.failures = lane.counted = 0
    lane.failures += 1
    if settings.bisect_batch_on_error:
        if whole and remaining > 1:
            lane.window = (remaining + 1) // 2
            return False
        if not whole:
            lane.window = remaining
    lane.counted += 1
    return lane.counted > settings.retry_attempts


def batch_succeeded(lane: RetryState) -> None:
    """The batch went through: the next one starts with a clean slate."""
    lane.failures = lane.counted = lane.window = 0


def skipped_error(message: str) -> str:
    """Why a record that shared a dead-lettered batch is a dead letter too."""
    return (
        f"not processed: its batch was dead-lettered with a failing record ({message}); "
        "bisect_batch_on_error isolates failing records"
    )


class _Printed(io.TextIOBase):
    """Collects what handlers print until the observer takes it for their invocation.

    While a debugger is active (``breakpoint()`` in a handler), what is written goes to
    ``terminal`` instead: the debugger's prompt and what the handler prints as it is
    stepped through are for the person at the prompt.
    """

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.terminal: TextIO | None = None

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.terminal is not None and sys.gettrace() is not None and debugging():
            self.terminal.write(text)
            self.terminal.flush()  # the prompt has no newline
            return len(text)
        self.parts.append(text)
        return len(text)

    def fileno(self) -> int:
        """The terminal's: what writes to ``sys.stdout`` by descriptor (a console handling
        a closed pipe) reaches the real one."""
        if self.terminal is None:
            raise io.UnsupportedOperation("fileno")
        return self.terminal.fileno()

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


@dataclass(slots=True)
class Call:
    """What the engine knows of one invocation it hands the runtime: passed with each
    record to the observer (``Engine._observe``), never kept on the engine."""

    processor: str
    source: str = INPUT
    """The stream the records were read from, or ``input`` for direct invocations."""
    between: Callable[[BaseException | None], None] | None = None
    """Called after each record with its error: the hook of an engine that hands the
    runtime several direct invocations together."""


class _CallerFailed(BaseException):
    """What ``on_invocation`` raised (a closed pipe, Ctrl-C in a renderer): carried past
    the runtime and the engine's handling of handler failures, raised again by ``run``."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


class LoopStopped(BaseException):
    """Raised inside an engine to stop the run at a runaway loop (a ``BaseException``:
    it passes through the runtime, which fails or dead-letters what an ``Exception``
    raises)."""


def _event_key(source: str, record: Record | Emit) -> object:
    """What identifies an event across its retries: the stream it was read from (one emit
    fanned out to two streams is two events, each with its own attempts) and its Kinesis
    record and place in it, or, for an emit the memory engine queues into every stream it
    goes to, the object itself (kept for the run)."""
    return (source, record.sequence, record.sub) if record.sequence else (source, id(record))


def _no_wait(seconds: float) -> None:
    """The runner's wait between an event's attempts, in a local run."""


class _Letters:
    """The engine as the runtime's ``DeadLetters``: an event that failed every attempt
    becomes a dead letter of the run (``Engine._dead_letter_event``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def send(self, document: dict[str, Any], error: BaseException, record: Record | Emit) -> None:
        self.engine._dead_letter_event(document, error, record)


class _Sending:
    """The engine's transport, noting how far its emits have been sent: each emit carries
    the number of the handler call that made it (its ``tag``), so after a timeout the
    engine knows which finished handler calls had their emits sent."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.through = 0
        """The last handler call (by number) whose emits have all been sent."""

    def put(self, stream: str, emits: Sequence[Emit]) -> None:
        self.transport.put(stream, emits)
        tag = emits[-1].tag
        if isinstance(tag, int) and tag > self.through:
            self.through = tag


class Engine:
    """The part of an engine that records what happens; subclasses move the records.

    A subclass sets up its runners (``self.runners``) and implements ``send`` (outside
    input), ``drain`` (process until every stream is empty) and ``pending`` (records left
    when a runaway loop stops the run). Invocations go through ``_process``, which times
    them (``timeouts=False`` turns that off).
    """

    runners: dict[str, Runner]

    def __init__(
        self,
        topology: Topology,
        *,
        max_hops: int | None = None,
        seed: int = 0,
        on_invocation: Callable[[Invocation], None] | None = None,
        targets: dict[str, str] | None = None,
        timeouts: bool = True,
        region: str = LOCAL_REGION,
        environments: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.topology = topology
        self.environments = (
            environments if environments is not None else local_environments(topology)
        )
        """Each processor's environment variables (``configuration.local_environments``:
        by default from the process environment and ``.env``), set while its module is
        imported and during each of its invocations, as Lambda sets its function's."""
        self.resolved = graph.resolve(topology)
        """The topology's streams and routes, resolved once for the engine's streams and runners."""
        self.region = region
        """The region of the ARNs in Lambda's context and events."""
        self.max_hops = max_hops if max_hops is not None else topology.max_hops
        self._random = random.Random(seed)
        self._on_invocation = on_invocation
        self.result = SimulationResult(
            topology.name,
            processors=tuple(topology.processors),
            targets=targets if targets is not None else self.resolved.stream_targets(),
        )
        self._last_invocation: int | None = None
        self._printed = _Printed()
        self._tries: dict[object, tuple[int, int]] = {}
        """Each event's handler calls so far and the number of the last (``_event_key``)."""
        self._init_logs: dict[str, str] = {}
        """What each processor's module printed at import, until its first invocation."""
        self._timer = Timer(timeouts)
        self._timeouts = {name: p.timeout for name, p in topology.processors.items()}
        self._sending: _Sending | None = None

    def _new_id(self) -> str:
        return f"{self._random.getrandbits(64):016x}"

    def _raw_stream(self, event: InputEvent) -> str:
        """The stream raw record data for ``event.processor`` is written into: its ingest
        stream, or the stream ``event.stream`` names (a dead letter replayed)."""
        if event.stream is not None:
            stream = self.resolved.streams.get(event.stream)
            if stream is None or stream.consumer != event.processor:
                raise InputError(
                    f"{event.where or event.processor}: stream '{event.stream}' into "
                    f"'{event.processor}' is not in the topology any more; replay it to the "
                    "processor's input instead, or restore the stream"
                )
            return event.stream
        ingest = self.resolved.processors[event.processor].ingest
        if ingest is None:
            raise InputError(
                f"{event.where or event.processor}: raw record data goes into an ingest "
                f"stream, and '{event.processor}' has none; give it `input: stream`"
            )
        size = len(event.raw or b"") + GENERATED_KEY_LENGTH
        if size > MAX_RECORD_BYTES:
            raise InputError(
                f"{event.where or event.processor}: the record is {size} bytes with its "
                f"partition key, over Kinesis' limit of {MAX_RECORD_BYTES} (1 MiB): Kinesis "
                "refuses it; split it, or store it elsewhere and send a reference"
            )
        return ingest.name

    def _input_record(self, event: InputEvent) -> tuple[str, str]:
        """A new trace id for an outside event, and the envelope that carries it in."""
        trace = self._new_id()
        try:
            payload = encode_input(event.data, trace)
        except EmitError as exc:
            raise InputError(f"{event.where or event.processor}: {exc}") from None
        # Kinesis takes a record of 1 MiB with its key; Lambda, an asynchronous invoke of
        # 1 MB (https://aws.amazon.com/blogs/compute/more-room-to-build-serverless-services-now-support-payloads-up-to-1-mb):
        # what would be refused in AWS is refused here, before anything runs.
        if 4 * len(payload) + GENERATED_KEY_LENGTH <= MAX_RECORD_BYTES:
            return trace, payload  # small enough whatever its characters (UTF-8: <= 4 each)
        size = (len(payload) if payload.isascii() else len(payload.encode())) + GENERATED_KEY_LENGTH
        if size > MAX_RECORD_BYTES:
            raise InputError(
                f"{event.where or event.processor}: the event is {size} bytes as sent, over "
                f"the {MAX_RECORD_BYTES}-byte (1 MiB) limit of a Kinesis record or an "
                "asynchronous Lambda invoke; split it, or store it elsewhere and send a "
                "reference"
            )
        return trace, payload

    def _build_runners(
        self, transport: Transport, handlers: Mapping[str, Handler] | None
    ) -> dict[str, Runner]:
        """One runner per processor, as Lambda builds one per function: the user's handler
        (or one given, for tests), its routes from the graph, and this engine's transport."""
        given = dict(handlers or {})
        sending = self._sending = _Sending(transport)
        letters = _Letters(self)
        loaded: dict[str, Handler] = {}
        for name, processor in self.topology.processors.items():
            variables = self.environments.get(name, {})
            loaded[name] = given[name] if name in given else load_handler(processor, variables)
            # What the module printed as it was imported is its init log in Lambda: it
            # opens the log of the processor's first invocation.
            printed = "" if name in given else printed_at_import(processor)
            if printed:
                self._init_logs[name] = printed
        return {
            name: Runner(
                handler=loaded[name],
                processor=name,
                topology=self.topology.name,
                routes=Routes.from_json(
                    graph.routes_payload(self.resolved.processors[name].routes)
                ),
                transport=sending,
                max_hops=self.max_hops,
                retries={
                    self._wire_name(stream.name): stream.settings.retry_attempts
                    for stream in self.resolved.processors[name].reads
                },
                dead_letters=letters,
                # An event's retries in place wait in AWS; a local run need not.
                sleep=_no_wait,
            )
            for name, processor in self.topology.processors.items()
        }

    # --- Observer: one invocation per handler call ---------------------------------------

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
        timer = self._timer
        if timer.overdue:  # the handler returned past its deadline: it swallowed the timeout
            raise timer.expired()
        rows = self.result.rows
        printed = self._printed.take() if self._printed.parts else ""
        if self._init_logs and call.processor in self._init_logs:
            printed = self._init_logs.pop(call.processor) + printed
        if attempt > 1:  # the runtime's own retry, in place: its failed event is not given up
            in_place = self.result.retried_in_place
            in_place[call.processor] = in_place.get(call.processor, 0) + 1
        # Every handler call on an event counts, whoever retried it (Lambda, a batch at a
        # time, or the runtime in place): the attempt is the event's own count, not the
        # runtime's ``attempt``, which restarts with each invocation.
        tries = self._tries
        key = (  # _event_key, inlined: once per handler call
            (call.source, record.sequence, record.sub)
            if record.sequence
            else (call.source, id(record))
        )
        tried = tries.get(key)
        attempt = tried[0] + 1 if tried is not None else 1
        # Once per handler call: the Row made as the tuple it is, without the Python-level
        # __new__ a named tuple adds. The parent is the tag the engine gave the emit.
        rows.append(
            _new_row(
                Row,
                (
                    call.processor,
                    call.source,
                    record.tag,
                    envelope,
                    emits,
                    error,
                    seconds,
                    printed,
                    attempt,
                    tried[1] if tried is not None else None,
                ),
            )
        )
        number = len(rows)
        tries[key] = (attempt, number)
        for emit in emits:
            emit.tag = number
        self._last_invocation = number
        if error is not None and type(error) is LoopError and self.result.stopped is None:
            self.result.stopped = str(error)
        if self._on_invocation is not None:
            try:
                self._on_invocation(self.result.invocation(number - 1))
            except BaseException as failed:  # the caller's, not the handler's: it ends the run
                raise _CallerFailed(failed) from failed
        if timer.each:  # a run of direct invokes: the next record's own time starts now
            timer.started = time.perf_counter()
        if call.between is not None:
            call.between(error)

    # --- Running ---------------------------------------------------------------------------

    def run(self, events: Iterable[InputEvent]) -> SimulationResult:
        """Send every input event, then drain every stream; return what happened.

        What handlers print is captured per invocation (in Lambda it would go to the
        function's log), so it never mixes with attak's own output. Invocations are timed
        only when the run is in the main thread on POSIX (see ``timeouts.py``).
        """
        saved = sys.stdout, sys.stderr
        self._printed.terminal = saved[0]
        sys.stdout = sys.stderr = self._printed
        thresholds = gc.get_threshold()
        # A run keeps every invocation for its report: millions of long-lived objects that
        # the cyclic collector would rescan over and over (about a third of the run time).
        gc.set_threshold(max(thresholds[0], 100_000), *thresholds[1:])
        self._timer.install()
        try:
            with process_exits_caught(), lambda_logging(self._printed):
                self.send(events)
                self.drain()
        except LoopStopped:
            self.result.unprocessed = self.pending()
        except _CallerFailed as failed:
            raise failed.error from None
        finally:
            self._timer.restore()
            sys.stdout, sys.stderr = saved
            gc.set_threshold(*thresholds)
        return self.result

    def send(self, events: Iterable[InputEvent]) -> None:
        raise NotImplementedError

    def drain(self) -> None:
        raise NotImplementedError

    def pending(self) -> int:
        raise NotImplementedError

    def _retry_direct(
        self, runner: Runner, record: Record, error: BaseException, request: int | str | None = None
    ) -> None:
        """Retry a failed direct invocation as Lambda retries an asynchronous invoke: under
        its first ``request`` id, when the engine counts them."""
        attempts = DIRECT_RETRIES + 1
        call = Call(runner.processor, INPUT)
        for _ in range(DIRECT_RETRIES):
            context = self._lambda_context(runner.processor, request)
            failed = self._process(runner, [record], call, context)
            self._stop_at_loop()
            if failed is None:
                break
            error = failed[1]
        else:
            self._dead_letter(runner.processor, INPUT, record, describe_error(error), attempts)

    def _process(
        self,
        runner: Runner,
        records: Sequence[Record | Emit],
        call: Call,
        lambda_context: object = None,
        *,
        each: bool = False,
    ) -> tuple[int, BaseException] | None:
        """One invocation of ``runner`` on ``records`` under the processor's timeout, with
        Lambda's context (a new one unless given); with ``each``, one invocation per record
        (direct invokes handed over together). ``call`` says what the engine records of it.

        Returns ``Runner.process``'s answer; an invocation that timed out failed as a
        whole, at index 0 (with ``each``: at the record that timed out).
        """
        if lambda_context is None:
            lambda_context = self._lambda_context(runner.processor)
        observer = partial(self._observe, call)
        source = self._wire_name(call.source) if call.source != INPUT else None
        timer = self._timer
        first = len(self.result.rows)
        started = time.perf_counter()
        armed = timer.active
        if armed:
            timer.arm(self._timeouts[runner.processor], each=each)
        try:
            # The processor's variables, for this invocation (set once, not per event).
            with environment(self.environments.get(runner.processor, {})):
                return runner.process(
                    records, lambda_context, observer, source=source, separate=each
                )
        except InvocationFailed as error:
            failure = error
        except SystemExit as exit:  # sys.exit or os._exit in the handler
            failure = runtime_exited(exit)
        except (KeyboardInterrupt, LoopStopped, _CallerFailed):
            raise  # the person at the terminal, or the engine itself: the run stops
        except BaseException as error:  # past the runtime's `except Exception`: it dies
            failure = runtime_died(error)
        finally:
            if armed:
                timer.disarm()
        seconds = time.perf_counter() - (timer.started if armed else started)
        return self._cut_short(runner, records, call, first, failure, seconds, each=each)

    def _cut_short(
        self,
        runner: Runner,
        records: Sequence[Record | Emit],
        call: Call,
        first: int,
        error: InvocationFailed,
        seconds: float,
        *,
        each: bool,
    ) -> tuple[int, BaseException]:
        """Record the handler call the invocation failed in (it ran out of time, or ended
        the process), with its logs and Lambda's log line, and settle what the handler
        calls before it emitted (see the module docstring)."""
        rows = self.result.rows
        finished = range(first, len(rows))
        index = runner.position
        record = records[index]
        sent = self._sending.through if self._sending is not None else 0
        # Finished handler calls without an error whose emits were not sent yet.
        unsent = [n for n in finished if rows[n].error is None and rows[n].emits and n + 1 > sent]
        self._printed.write(f"{error}\n")  # Lambda's log line
        if unsent and not each:  # the trace showed them as they finished: say what became of them
            listed = ", ".join(f"#{n + 1}" for n in unsent[:5])
            more = f" and {len(unsent) - 5} more" if len(unsent) > 5 else ""
            self._printed.write(f"(attak) discarded with it: the emits of {listed}{more}\n")
        try:
            envelope: Envelope | None = decode(record.payload, default_trace(record))
        except DecodeError:
            envelope = None
        self._observe(call, record, envelope, [], error, seconds)
        if each:  # the records before were invocations of their own, and finished
            runner.flush([emit for n in unsent for emit in rows[n].emits])
            return index, error
        discarded = type(error)(
            f"{error} later in this invocation: this record's emits were discarded with it"
        )
        for n in unsent:
            rows[n] = rows[n]._replace(error=discarded)
        return 0, error

    def _lambda_context(self, processor: str, request: int | str | None = None) -> LambdaContext:
        """The context object of one invocation of ``processor``, as Lambda gives it: under
        ``request`` (a retried invocation keeps its id), else the next request id."""
        settings = self.topology.processors[processor]
        return LambdaContext(
            processor,
            settings.timeout,
            settings.memory,
            self.region,
            request if request is not None else self._request_id(),
        )

    def _request_id(self) -> int | str:
        """The next invocation's request id; empty for a random one, as Lambda's."""
        return ""

    def _dead_letter_batch(
        self,
        processor: str,
        source: str,
        failing: Sequence[Record | Emit],
        error: BaseException,
        attempts: int,
        *,
        together: int = 1,
    ) -> None:
        """The failing record with its error, then the records that shared its batch (all
        with the timeout when the batch's invocation timed out). ``together`` events
        failed as one: the events of the failing Kinesis record, which leaves the stream
        whole."""
        message = describe_error(error)
        for failed in failing[:together]:
            self._dead_letter(processor, source, failed, message, attempts)
        for skipped in failing[together:]:
            if isinstance(error, InvocationFailed):
                self._dead_letter(processor, source, skipped, message, attempts)
            else:
                self._dead_letter(processor, source, skipped, skipped_error(message), 0)

    def _keep_letter(self, document: dict[str, Any]) -> None:
        """Where an engine keeps a letter besides the run's dead letters (none here);
        ``DeadLetterError`` when it cannot, as SQS refusing it in AWS."""

    def _wire_name(self, stream: str) -> str:
        """The name the runtime knows ``stream`` by: in AWS, the one in the event's ARN."""
        return stream

    def _local_name(self, stream: str) -> str:
        """The topology's name of a stream the runtime named (``_wire_name``'s inverse)."""
        return stream

    def _dead_letter_event(
        self, document: dict[str, Any], error: BaseException, record: Record | Emit
    ) -> None:
        """An event the runtime dead-lettered itself, as its letter says. A runaway loop
        stops the run instead, at once."""
        if type(error) is LoopError:
            raise LoopStopped
        letters.encode(document)  # refused past SQS's limit, as in AWS: the record fails
        self._keep_letter(document)
        if "record" in document:  # it could not be decoded: the record's data, as written
            event: Any = base64.b64decode(document["record"])
        elif "data_base64" in document:
            event = base64.b64decode(document["data_base64"])
        else:
            event = document.get("data")
        self.result.dead_letters.append(
            DeadLetter(
                document["processor"],
                self._local_name(document["stream"]),
                event,
                # an event that could not be read is traced by its record's sequence number
                document.get("trace") or document["sequence"],
                describe_error(error),
                self._tries.get(
                    _event_key(self._local_name(document["stream"]) or INPUT, record),
                    (document["attempts"], 0),
                )[0],
                self._last_invocation,
                document["traceback"],
                document.get("topic"),
                document.get("sender"),
                document.get("hops") or 0,
            )
        )

    def _dead_letter_expired(
        self, processor: str, source: str, record: Record | Emit, error: BaseException
    ) -> None:
        """A record older than ``max_record_age``: a dead letter with the handler calls it
        had and, if the last one failed, that error too (what kept it from going through)."""
        tried = self._tries.get(_event_key(source, record))
        message = describe_error(error)
        if tried is None:
            self._dead_letter(processor, source, record, message, 0)
            return
        last = self.result.rows[tried[1] - 1].error
        if last is not None:
            message = f"{message}; its last attempt failed with {describe_error(last)}"
        self._dead_letter(processor, source, record, message, tried[0])

    def _stop_at_loop(self) -> None:
        if self.result.stopped is not None:
            raise LoopStopped

    def _dead_letter(
        self, processor: str, source: str, record: Record | Emit, error: str, attempts: int
    ) -> None:
        topic, sender, hops = None, None, 0
        try:
            envelope = decode(record.payload, default_trace(record))
            event, trace = envelope["data"], envelope["trace"]
            topic, sender, hops = envelope["topic"], envelope["from"], envelope["hops"]
        except DecodeError:
            raw = record.payload
            event, trace = raw if isinstance(raw, str) else raw.decode(errors="replace"), ""
        last = self._last_invocation if attempts else None
        tried = self._tries.get(_event_key(source, record))
        if attempts and tried is not None:  # its handler calls, however they were retried
            attempts, last = tried
        self.result.dead_letters.append(
            DeadLetter(
                processor, source, event, trace, error, attempts, last, "", topic, sender, hops
            )
        )
