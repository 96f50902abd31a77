"""What every local engine shares: recording handler calls, retries, dead letters.

An engine runs a topology's processors through the runtime's ``Runner.process`` (the
code Lambda runs) and records each handler call as one invocation of the
``SimulationResult``. The engines differ only in where records travel between
processors: the memory engine keeps them in lists, the Kinesis engine writes and reads
them through a Kinesis API. The delivery rules that decide what happens to a failing
record (retry from it, bisect, dead-letter after ``retry_attempts``; two retries for a
direct invocation) live here, once, so both engines end a run with the same dead letters.
"""

from __future__ import annotations

import gc
import io
import random
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from .. import graph
from ..errors import InputError
from ..handlers import Handler, load_handler
from ..inputs import InputEvent
from ..model import StreamSettings, Topology
from ..runtime.context import Emit, LoopError, Routes
from ..runtime.envelope import DecodeError, EmitError, Envelope, decode, encode_input
from ..runtime.handler import Record, Runner, Transport
from .result import DeadLetter, Invocation, SimulationResult, describe_error

DIRECT_RETRIES = 2
"""Lambda retries a failed asynchronous invocation twice before its on-failure destination."""
INPUT = "input"


class RetryState(Protocol):
    """The retry bookkeeping a shard reader keeps at its current position."""

    failures: int
    """Times the record at the position has failed (the next attempt is failures + 1)."""
    counted: int
    """Failures that count toward retry_attempts (bisected ones do not)."""
    window: int
    """Batch size limit while bisecting; 0 when not bisecting."""


def batch_failed(shard: RetryState, settings: StreamSettings, index: int, remaining: int) -> bool:
    """Update ``shard`` after its batch failed at record ``index`` with ``remaining`` records
    from it on; return ``True`` when retries ran out and those records become dead letters.

    This is Lambda's event-source mapping: the records before the failing one are
    checkpointed, bisecting halves the batch without using up a retry, and a record that
    still fails alone is retried ``retry_attempts`` times.
    """
    if index:
        shard.failures = shard.counted = 0
    shard.failures += 1
    if settings.bisect_batch_on_error and remaining > 1:
        shard.window = (remaining + 1) // 2
        return False
    shard.counted += 1
    return shard.counted > settings.retry_attempts


def batch_succeeded(shard: RetryState) -> None:
    """The batch went through: the next one starts with a clean slate."""
    shard.failures = shard.counted = shard.window = 0


def skipped_error(message: str) -> str:
    """Why a record that shared a dead-lettered batch is a dead letter too."""
    return (
        f"not processed: its batch was dead-lettered with a failing record ({message}); "
        "bisect_batch_on_error isolates failing records"
    )


class _Printed(io.TextIOBase):
    """Collects what handlers print until the observer takes it for their invocation."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        return text


class LoopStopped(Exception):
    """Raised inside an engine to stop the run at a runaway loop."""


class Engine:
    """The part of an engine that records what happens; subclasses move the records.

    A subclass sets up its runners (``self.runners``) and implements ``send`` (outside
    input), ``drain`` (process until every stream is empty) and ``pending`` (records left
    when a runaway loop stops the run).
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
    ) -> None:
        self.topology = topology
        self.max_hops = max_hops if max_hops is not None else topology.max_hops
        self._random = random.Random(seed)
        self._on_invocation = on_invocation
        self.result = SimulationResult(
            topology.name,
            processors=tuple(topology.processors),
            targets=targets if targets is not None else graph.stream_targets(topology),
        )
        # What the observer needs to know about the batch being processed.
        self._processor = ""
        self._source = INPUT
        self._head: Record | Emit | None = None
        self._head_attempt = 1
        self._last_invocation: int | None = None
        self._printed = _Printed()

    def _new_id(self) -> str:
        return f"{self._random.getrandbits(64):016x}"

    def _input_record(self, event: InputEvent) -> tuple[str, str]:
        """A new trace id for an outside event, and the envelope that carries it in."""
        trace = self._new_id()
        try:
            return trace, encode_input(event.data, trace)
        except EmitError as exc:
            raise InputError(f"{event.where or event.processor}: {exc}") from None

    def _build_runners(
        self, transport: Transport, handlers: Mapping[str, Handler] | None
    ) -> dict[str, Runner]:
        """One runner per processor, as Lambda builds one per function: the user's handler
        (or one given, for tests), its routes from the graph, and this engine's transport."""
        given = dict(handlers or {})
        outgoing = graph.routes(self.topology)
        return {
            name: Runner(
                handler=given[name] if name in given else load_handler(processor),
                processor=name,
                topology=self.topology.name,
                routes=Routes.from_json(graph.routes_payload(outgoing[name])),
                transport=transport,
                max_hops=self.max_hops,
                observer=self._observe,
            )
            for name, processor in self.topology.processors.items()
        }

    # --- Observer: one invocation per handler call ---------------------------------------

    def _observe(
        self,
        record: Record | Emit,
        envelope: Envelope | None,
        emits: list[Emit],
        error: BaseException | None,
        seconds: float,
    ) -> None:
        rows = self.result.rows
        printed = self._printed.take() if self._printed.parts else ""
        attempt = self._head_attempt if record is self._head else 1
        rows.append(
            (
                self._processor,
                self._source,
                record.tag,
                envelope,
                emits,
                error,
                seconds,
                printed,
                attempt,
            )
        )
        number = len(rows)
        for emit in emits:
            emit.tag = number
        self._last_invocation = number
        if error is not None and type(error) is LoopError and self.result.stopped is None:
            self.result.stopped = str(error)
        if self._on_invocation is not None:
            self._on_invocation(self.result.invocation(number - 1))

    # --- Running ---------------------------------------------------------------------------

    def run(self, events: Iterable[InputEvent]) -> SimulationResult:
        """Send every input event, then drain every stream; return what happened.

        What handlers print is captured per invocation (in Lambda it would go to the
        function's log), so it never mixes with attak's own output.
        """
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = self._printed
        thresholds = gc.get_threshold()
        # A run keeps every invocation for its report: millions of long-lived objects that
        # the cyclic collector would rescan over and over (about a third of the run time).
        gc.set_threshold(max(thresholds[0], 100_000), *thresholds[1:])
        try:
            self.send(events)
            self.drain()
        except LoopStopped:
            self.result.unprocessed = self.pending()
        finally:
            sys.stdout, sys.stderr = saved
            gc.set_threshold(*thresholds)
        return self.result

    def send(self, events: Iterable[InputEvent]) -> None:
        raise NotImplementedError

    def drain(self) -> None:
        raise NotImplementedError

    def pending(self) -> int:
        raise NotImplementedError

    def _retry_direct(self, runner: Runner, record: Record, error: BaseException) -> None:
        """Retry a failed direct invocation as Lambda retries an asynchronous invoke."""
        self._head = record
        attempts = DIRECT_RETRIES + 1
        for attempt in range(2, attempts + 1):
            self._head_attempt = attempt
            failed = self._process(runner, [record])
            self._stop_at_loop()
            if failed is None:
                break
            error = failed[1]
        else:
            self._dead_letter(runner.processor, INPUT, record, describe_error(error), attempts)
        self._head, self._head_attempt = None, 1

    def _process(self, runner: Runner, records: list[Record]) -> tuple[int, BaseException] | None:
        """One invocation of ``runner`` on ``records`` (an engine may add Lambda's context)."""
        return runner.process(records)

    def _dead_letter_batch(
        self,
        processor: str,
        source: str,
        failing: list[Record] | list[Emit],
        error: BaseException,
        attempts: int,
    ) -> None:
        """The failing record with its error, then the records that shared its batch."""
        message = describe_error(error)
        self._dead_letter(processor, source, failing[0], message, attempts)
        for skipped in failing[1:]:
            self._dead_letter(processor, source, skipped, skipped_error(message), 0)

    def _stop_at_loop(self) -> None:
        if self.result.stopped is not None:
            raise LoopStopped

    def _dead_letter(
        self, processor: str, source: str, record: Record | Emit, error: str, attempts: int
    ) -> None:
        try:
            envelope = decode(record.payload, record.sequence)
            event, trace = envelope["data"], envelope["trace"]
        except DecodeError:
            raw = record.payload
            event, trace = raw if isinstance(raw, str) else raw.decode(errors="replace"), ""
        last = self._last_invocation if attempts else None
        self.result.dead_letters.append(
            DeadLetter(processor, source, event, trace, error, attempts, last)
        )
