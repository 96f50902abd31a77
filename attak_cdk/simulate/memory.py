"""The in-process engine: runs a topology through the Lambda runtime with in-memory streams.

Each stream is a list of shards holding the records the runtime's emitter would write
(``runtime/records.py``: a flush's emits grouped by key bucket into aggregates, each on
its bucket's shard), so order is kept per key. Each shard is read in batches of
``batch_size`` records and their events handed to the consumer's ``Runner.process``: the
same code that runs in Lambda, with the same contract. A failing event is retried in place
and dead-lettered by the runtime; a record that fails as a whole is retried from its
position, the batch is bisected when ``bisect_batch_on_error`` is set, and after
``retry_attempts`` the records left become dead letters. Direct invocations follow
Lambda's asynchronous invoke: two retries, then a dead letter. Each invocation runs under
its processor's timeout, and one that runs out of time fails as a whole, as in Lambda.
These rules live in ``engine.py``, shared with the Kinesis engine.

With a ``parallelization_factor`` of N, Lambda processes up to N batches of a shard at
once, each key always in the same one, and each retried on its own. With every record of
the shard already at hand, that is N independent lanes per shard, a key's lane chosen by
its hash (``engine.key_lane``): a stream is ``shards * N`` lanes, each batched, retried and
dead-lettered as a shard is with factor 1, and keyless emits spread evenly over them.

Runs are deterministic: trace ids and partition keys come from a seeded generator and
streams are drained in a fixed order, one batch per lane in turn (invocations stay
sequential: lanes change which records share a batch and which wait for a retry, not
timing). Time-based settings (``max_batching_window``, ``max_record_age``) do not apply
to an in-process run.

A runaway loop stops the run at its first ``max_hops`` hit: in AWS the record would be
retried and dead-lettered, but a loop is a topology bug and the simulator says so at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..handlers import Handler
from ..inputs import InputEvent
from ..model import StreamSettings, Topology
from ..runtime.context import Emit
from ..runtime.handler import Record, record_events
from ..runtime.records import (
    KEY_BUCKETS,
    Group,
    Tally,
    bucket_of,
    bucket_partition_key,
    groups_for,
    record_for,
)
from .engine import (
    INPUT,
    Call,
    Engine,
    RetryState,
    batch_failed,
    batch_succeeded,
    key_lane,
)
from .failures import InvocationFailed
from .lambda_events import LambdaContext
from .result import Invocation, SimulationResult

__all__ = ["Lane", "MemoryEngine", "StreamState", "simulate"]


@dataclass
class Lane(RetryState):
    """One lane of a shard (the whole shard with parallelization_factor 1): its records
    (each the emits one Kinesis record carries), the read position (its checkpoint) and
    the retry state at it."""

    records: list[Sequence[Record | Emit]] = field(default_factory=list)
    """Each record's events: emits, as the consumer reads them, or an outside record's."""
    position: int = 0

    def pending(self) -> int:
        """Records still to read."""
        return len(self.records) - self.position

    def pending_events(self) -> int:
        """Events still to read (in the records still to read)."""
        return sum(len(record) for record in self.records[self.position :])


@dataclass
class StreamState:
    name: str
    consumer: str
    settings: StreamSettings
    lanes: list[Lane]
    """``shards * parallelization_factor`` lanes, shard by shard: lane ``i`` reads shard
    ``i // parallelization_factor``."""
    written: list[Group | Emit] = field(default_factory=list)
    """The records the runtime would have written to the stream in AWS, as their events
    (a record of one emit as the emit itself): encoded (packed, compressed) only if the
    run's transport figures are asked for."""

    def tally(self) -> Tally:
        tally = Tally()
        for entry in self.written:
            if isinstance(entry, Emit):
                key = entry.key
                entry = (None if key is None else bucket_of(key), [entry])
            tally.add(record_for(entry))
        return tally


class MemoryEngine(Engine):
    """Runs one topology in-process. Use ``simulate`` for a one-call run."""

    def __init__(
        self,
        topology: Topology,
        *,
        max_hops: int | None = None,
        seed: int = 0,
        handlers: Mapping[str, Handler] | None = None,
        on_invocation: Callable[[Invocation], None] | None = None,
        timeouts: bool = True,
        environments: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        super().__init__(
            topology,
            max_hops=max_hops,
            seed=seed,
            on_invocation=on_invocation,
            timeouts=timeouts,
            environments=environments,
        )
        self._requests = 0
        self._spread = 0
        self.streams = {
            name: StreamState(name, stream.consumer, stream.settings, self._lanes(stream.settings))
            for name, stream in self.resolved.streams.items()
        }
        self.runners = self._build_runners(self, handlers)

    @staticmethod
    def _lanes(settings: StreamSettings) -> list[Lane]:
        # On-demand streams start with several shards in AWS; one shard in simulation keeps
        # per-key order identical while making runs easy to follow.
        return [Lane() for _ in range((settings.shards or 1) * settings.parallelization_factor)]

    # --- Transport: where the runtime's flushes land -----------------------------------

    def put(self, stream: str, emits: Sequence[Emit]) -> None:
        """Queue emitted records on the stream's lanes as the runtime's emitter writes them
        in AWS: grouped into aggregated records by key bucket (``records.py``), each
        record on its bucket's shard (its explicit hash key), in the lane of its partition
        key. The emits are the events the consumer reads."""
        state = self.streams[stream]
        lanes = state.lanes
        if len(emits) == 1 and len(lanes) == 1:  # one emit, one lane: the common case
            state.written.append(emits[0])
            lanes[0].records.append(emits)
            return
        factor = state.settings.parallelization_factor
        if len(emits) == 1:
            key = emits[0].key
            groups: Sequence[Group] = ((None if key is None else bucket_of(key), [*emits]),)
        else:
            groups = groups_for(emits)
        for group in groups:
            state.written.append(group)
            bucket, members = group
            if len(lanes) == 1:
                lane = lanes[0]
            elif bucket is None:  # a random key: spread evenly
                self._spread += 1
                lane = lanes[self._spread % len(lanes)]
            else:
                shard = bucket * (len(lanes) // factor) // KEY_BUCKETS
                lane = lanes[shard * factor + key_lane(bucket_partition_key(bucket), factor)]
            lane.records.append(members)

    # --- Lambda's context ----------------------------------------------------------------

    def _request_id(self) -> int | str:
        # Counted, not random: a run repeats to the byte, request ids included. A retried
        # direct invoke keeps its first id, as Lambda keeps it (``_retry_direct``).
        self._requests += 1
        return self._requests

    # --- Running ---------------------------------------------------------------------------

    def run(self, events: Iterable[InputEvent]) -> SimulationResult:
        result = super().run(events)
        streams = self.streams
        result.count_transport(lambda: {name: s.tally().as_dict() for name, s in streams.items()})
        return result

    def pending(self) -> int:
        """Events still queued in the streams."""
        return sum(lane.pending_events() for state in self.streams.values() for lane in state.lanes)

    def send(self, events: Iterable[InputEvent]) -> None:
        """Deliver outside events, in order: as direct (asynchronous) invocations, or into
        a processor's ingest stream if it has one, written in bulk as a producer does (the
        way ``attak trigger`` and the Kinesis engine write them). Raw record data becomes
        its events as Lambda reads them (``record_events``)."""
        processors = self.resolved.processors
        direct: list[Record] = []
        ingested: dict[str, list[Emit]] = {}
        target = ""
        for event in events:
            if event.raw is not None:
                stream = self._raw_stream(event)
                self._invoke_direct(target, direct)
                direct = []
                if stream in ingested:  # what came before it goes first
                    self.put(stream, ingested.pop(stream))
                self._put_raw(stream, event.raw)
                continue
            trace, payload = self._input_record(event)
            ingest = processors[event.processor].ingest
            if ingest is not None:
                emit = Emit("", payload, None, ())
                ingested.setdefault(ingest.name, []).append(emit)
                continue
            if event.processor != target:
                self._invoke_direct(target, direct)
                direct, target = [], event.processor
            direct.append(Record(trace, trace, payload))
        self._invoke_direct(target, direct)
        for stream, emits in ingested.items():
            self.put(stream, emits)

    def _put_raw(self, stream: str, data: bytes) -> None:
        """Queue one outside record's events on the lane its partition key falls in: a
        record's events stay together and in order, as in its shard."""
        sequence = self._new_id()  # the record's sequence number, and its partition key
        lanes = self.streams[stream].lanes
        lane = lanes[key_lane(sequence, len(lanes))] if len(lanes) > 1 else lanes[0]
        events = record_events(sequence, sequence, data, stream)
        if events:  # a record of no events (a control message) calls no handler
            lane.records.append(events)

    def _invoke_direct(self, processor: str, records: list[Record]) -> None:
        """Invoke ``processor`` once per record. Each invocation stands alone, as Lambda's
        asynchronous invokes do, with a timeout of its own; they go through ``process``
        together only because an in-memory run has nothing between them. A failing one is
        retried on its own."""
        if not records:
            return
        runner = self.runners[processor]
        group = _DirectInvokes(self._lambda_context(processor), self._request_id)
        call = Call(processor, INPUT, between=group.next)
        start = 0
        while start < len(records):
            batch = records[start:] if start else records
            failed = self._process(runner, batch, call, group.context, each=True)
            self._stop_at_loop()
            if failed is None:
                return
            start += failed[0]
            # Lambda retries an asynchronous invoke under its first request id.
            self._retry_direct(runner, records[start], failed[1], group.failed)
            group.context.restart(self._request_id())
            start += 1

    def drain(self) -> None:
        """Process stream batches, stream by stream and lane by lane, until all are empty."""
        busy = True
        while busy:
            busy = False
            for state in self.streams.values():
                for lane in state.lanes:
                    if lane.pending():
                        busy = True
                        self._process_batch(state, lane)

    def _process_batch(self, state: StreamState, lane: Lane) -> None:
        settings = state.settings
        size = min(settings.batch_size, lane.window or settings.batch_size)
        if lane.position > 4096 and lane.position * 2 > len(lane.records):
            del lane.records[: lane.position]  # keep long runs from holding every record
            lane.position = 0
        records = lane.records[lane.position : lane.position + size]
        batch = records[0] if len(records) == 1 else [e for record in records for e in record]
        call = Call(state.consumer, state.name)
        failed = self._process(self.runners[state.consumer], batch, call)
        self._stop_at_loop()
        if failed is None:
            lane.position += len(records)
            batch_succeeded(lane)
            return
        index, error = failed
        # Lambda names the Kinesis record the failing event is in; the batch is retried
        # from that record, whose events before the failing one run again.
        at, before = 0, 0
        while before + len(records[at]) <= index:
            before += len(records[at])
            at += 1
        if at:
            # Records before the failing one are checkpointed; the failing one is the new head.
            lane.position += at
        whole = isinstance(error, InvocationFailed)
        if not batch_failed(lane, settings, at, len(records) - at, whole=whole):
            return
        events = [e for record in records[at:] for e in record]
        failing = events[index - before]
        events.remove(failing)
        self._dead_letter_batch(
            state.consumer, state.name, [failing, *events], error, lane.failures
        )
        lane.position += len(records) - at
        batch_succeeded(lane)


class _DirectInvokes:
    """Direct invocations of one processor handed to the runtime together: one context
    object, made each record's own as the record before it ends (its request id and its
    full time)."""

    __slots__ = ("context", "failed", "next_request")

    def __init__(self, context: LambdaContext, next_request: Callable[[], int | str]) -> None:
        self.context = context
        self.next_request = next_request
        self.failed: int | str = 0
        """The request id of the last invocation that failed: its retries keep it."""

    def next(self, error: BaseException | None) -> None:
        """Between two invocations of the group: the next one's context starts."""
        if error is not None:
            self.failed = self.context.request
        self.context.restart(self.next_request())


def simulate(
    topology: Topology,
    events: Iterable[InputEvent],
    *,
    max_hops: int | None = None,
    seed: int = 0,
    on_invocation: Callable[[Invocation], None] | None = None,
    timeouts: bool = True,
    handlers: Mapping[str, Handler] | None = None,
    environments: Mapping[str, Mapping[str, str]] | None = None,
) -> SimulationResult:
    """Run ``events`` through ``topology`` in-process and return the result.

    ``timeouts=False`` lets every invocation run as long as it takes (see ``timeouts.py``
    for when they are enforced); ``handlers`` replaces the handlers of the processors it
    names; ``environments`` gives each processor's variables (default: from the process
    environment and ``.env``, ``configuration.local_environments``)."""
    engine = MemoryEngine(
        topology,
        max_hops=max_hops,
        seed=seed,
        handlers=handlers,
        on_invocation=on_invocation,
        timeouts=timeouts,
        environments=environments,
    )
    return engine.run(events)
