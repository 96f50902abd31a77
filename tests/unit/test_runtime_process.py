"""``Runner.process``: the delivery contract shared by Lambda and the simulator
(DESIGN.md "Delivery semantics")."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from attak_cdk.runtime.aggregate import CorruptRecord
from attak_cdk.runtime.context import Emit, LoopError, Routes
from attak_cdk.runtime.dead_letters import DeadLetterError
from attak_cdk.runtime.dead_letters import encode as encode_letter
from attak_cdk.runtime.envelope import DecodeError, EmitError, decode, encode, encode_input
from attak_cdk.runtime.handler import FLUSH_EVERY, Record, Runner

ROUTES = Routes(
    [
        {"stream": "all", "to": "archive"},
        {"stream": "evens", "topic": "even", "to": "count"},
    ]
)


class ListTransport:
    """Collects every ``put`` as (stream, [decoded data, ...])."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[Emit]]] = []

    def put(self, stream: str, emits: Sequence[Emit]) -> None:
        self.calls.append((stream, list(emits)))

    def data(self, stream: str) -> list[Any]:
        return [
            decode(e.payload, "")["data"] for s, emits in self.calls if s == stream for e in emits
        ]


class FailingTransport:
    def __init__(self) -> None:
        self.attempts = 0

    def put(self, stream: str, emits: Sequence[Emit]) -> None:
        self.attempts += 1
        raise EmitError(f"3 of {len(emits)} records could not be written to stream '{stream}'")


class RecordingHandler:
    """Emits its event on "even" or "odd"; raises for events listed in ``fail_on``."""

    def __init__(self, fail_on: tuple[Any, ...] = (), emits_per_event: int = 1) -> None:
        self.seen: list[Any] = []
        self.fail_on = fail_on
        self.emits_per_event = emits_per_event

    def __call__(self, event: Any, context: Any) -> None:
        self.seen.append(event)
        for _ in range(self.emits_per_event):
            topic = "even" if isinstance(event, int) and event % 2 == 0 else "odd"
            context.emit(topic, event)
        if event in self.fail_on:
            raise RuntimeError(f"cannot handle {event!r}")


def make_runner(handler: Any, transport: Any, **kwargs: Any) -> Runner:
    return Runner(
        handler=handler,
        processor="proc",
        topology="topo",
        routes=ROUTES,
        transport=transport,
        max_hops=kwargs.pop("max_hops", 16),
        **kwargs,
    )


def records(*events: Any) -> list[Record]:
    return [
        Record(f"seq-{i}", f"pk-{i}", encode_input(event, f"trace-{i}"))
        for i, event in enumerate(events)
    ]


# --- success -------------------------------------------------------------------------


def test_all_records_succeed_returns_none_and_flushes_every_emit_per_stream_in_order() -> None:
    transport = ListTransport()
    handler = RecordingHandler()
    runner = make_runner(handler, transport)

    result = runner.process(records(1, 2, 3, 4, 5, 6))

    assert result is None
    assert handler.seen == [1, 2, 3, 4, 5, 6]
    assert transport.data("all") == [1, 2, 3, 4, 5, 6]
    assert transport.data("evens") == [2, 4, 6]
    assert sorted(stream for stream, _ in transport.calls) == ["all", "evens"]


def test_emits_on_a_sink_topic_are_not_sent_to_any_stream() -> None:
    transport = ListTransport()
    runner = Runner(
        handler=lambda event, context: context.emit("sink", event),
        processor="proc",
        topology="topo",
        routes=Routes([{"stream": "only-t", "topic": "t"}]),
        transport=transport,
        max_hops=16,
    )

    assert runner.process(records("a", "b")) is None
    assert transport.calls == []


def test_empty_batch_returns_none_and_puts_nothing() -> None:
    transport = ListTransport()

    assert make_runner(RecordingHandler(), transport).process([]) is None
    assert transport.calls == []


def test_handler_gets_decoded_event_and_a_context_with_trace_and_lambda_attributes() -> None:
    seen: list[tuple[Any, str, str, str]] = []

    class LambdaContext:
        aws_request_id = "req-7"

    def handler(event: Any, context: Any) -> None:
        seen.append((event, context.trace_id, context.processor, context.aws_request_id))

    runner = make_runner(handler, ListTransport())
    batch = [
        Record("s0", "p0", encode({"a": 1}, topic="t", source="up", trace="tr-0", hops=1)),
        Record("s1", "p1", json.dumps(["plain", "json"]).encode()),
    ]

    assert runner.process(batch, LambdaContext()) is None
    assert seen == [
        ({"a": 1}, "tr-0", "proc", "req-7"),
        (["plain", "json"], "s1", "proc", "req-7"),  # plain JSON: trace is the sequence
    ]


def test_emitted_records_carry_the_incoming_trace_and_next_hop() -> None:
    transport = ListTransport()
    runner = make_runner(RecordingHandler(), transport)
    batch = [Record("s0", "p0", encode(3, topic="t", source="up", trace="tr-x", hops=5))]

    runner.process(batch)

    envelope = decode(transport.calls[0][1][0].payload, "")
    assert (envelope["trace"], envelope["hops"], envelope["from"]) == ("tr-x", 6, "proc")


# --- failure at record k -------------------------------------------------------------


def test_failing_record_returns_its_index_and_error() -> None:
    handler = RecordingHandler(fail_on=(30,))
    runner = make_runner(handler, ListTransport())

    result = runner.process(records(10, 20, 30, 40, 50))

    assert result is not None
    index, error = result
    assert index == 2
    assert isinstance(error, RuntimeError)
    assert str(error) == "cannot handle 30"


def test_failure_flushes_emits_of_earlier_records_and_discards_the_failing_ones() -> None:
    transport = ListTransport()
    handler = RecordingHandler(fail_on=(30,), emits_per_event=2)
    runner = make_runner(handler, transport)

    runner.process(records(10, 20, 30, 40, 50))

    assert transport.data("all") == [10, 10, 20, 20]
    assert transport.data("evens") == [10, 10, 20, 20]
    assert 30 not in transport.data("all")


def test_records_after_the_failing_one_are_never_passed_to_the_handler() -> None:
    handler = RecordingHandler(fail_on=(30,))
    transport = ListTransport()
    runner = make_runner(handler, transport)

    runner.process(records(10, 20, 30, 40, 50))

    assert handler.seen == [10, 20, 30]
    assert 40 not in transport.data("all")
    assert 50 not in transport.data("all")


def test_failure_at_the_first_record_puts_nothing() -> None:
    transport = ListTransport()
    handler = RecordingHandler(fail_on=(1,))

    result = make_runner(handler, transport).process(records(1, 2))

    assert result is not None and result[0] == 0
    assert transport.calls == []
    assert handler.seen == [1]


def test_emit_error_inside_the_handler_fails_that_record() -> None:
    def handler(event: Any, context: Any) -> None:
        context.emit("odd", "before the bad emit")
        context.emit("odd", {"not", "json"})

    transport = ListTransport()

    result = make_runner(handler, transport).process(records(1))

    assert result is not None
    assert result[0] == 0
    assert isinstance(result[1], EmitError)
    assert transport.calls == []


def test_emit_past_max_hops_fails_the_record_with_loop_error() -> None:
    transport = ListTransport()
    runner = make_runner(RecordingHandler(), transport, max_hops=3)
    batch = [
        Record("s0", "p0", encode(1, topic="t", source="up", trace="tr", hops=2)),
        Record("s1", "p1", encode(3, topic="t", source="up", trace="tr", hops=3)),
    ]

    result = runner.process(batch)

    assert result is not None
    assert result[0] == 1
    assert isinstance(result[1], LoopError)
    assert transport.data("all") == [1]


def test_record_that_could_not_be_read_fails_with_its_error_before_any_decoding() -> None:
    handler = RecordingHandler()
    transport = ListTransport()
    corrupt = CorruptRecord("stream 'clicks', record seq-bad: checksum does not match")
    batch = [
        *records(1, 2),
        Record("seq-bad", "pk", encode_input(3, "t"), error=corrupt),
        *records(4),
    ]

    result = make_runner(handler, transport).process(batch)

    assert result == (2, corrupt)
    assert handler.seen == [1, 2]
    assert transport.data("all") == [1, 2]


def test_an_outside_event_s_trace_is_its_record_s_sequence_then_the_event_s_index() -> None:
    traces: list[str] = []

    def handler(event: Any, context: Any) -> None:
        traces.append(context.trace_id)

    batch = [Record("49-1", "pk", b'"a"'), *(Record("49-2", "pk", b"x", sub=n) for n in range(3))]
    assert make_runner(handler, ListTransport()).process(batch) is None
    assert traces == ["49-1", "49-2", "49-2.1", "49-2.2"]


# --- the transport failing: nothing is swallowed -------------------------------------


def test_transport_error_at_end_of_batch_propagates() -> None:
    transport = FailingTransport()

    with pytest.raises(EmitError, match="could not be written"):
        make_runner(RecordingHandler(), transport).process(records(1, 2))
    assert transport.attempts == 1


def test_transport_error_while_flushing_before_a_failure_propagates() -> None:
    transport = FailingTransport()
    handler = RecordingHandler(fail_on=(2,))

    with pytest.raises(EmitError, match="could not be written"):
        make_runner(handler, transport).process(records(1, 2, 3))
    assert transport.attempts == 1


def test_transport_error_during_a_mid_batch_flush_propagates_and_stops_the_batch() -> None:
    transport = FailingTransport()
    handler = RecordingHandler()
    batch = records(*range(FLUSH_EVERY + 10))

    with pytest.raises(EmitError):
        make_runner(handler, transport).process(batch)
    assert len(handler.seen) == FLUSH_EVERY


# --- observer ------------------------------------------------------------------------


def test_observer_is_called_once_per_handled_record_with_its_outcome() -> None:
    calls: list[tuple[str, Any, list[Any], BaseException | None, float]] = []

    def observer(
        record: Record,
        envelope: Any,
        emits: list[Emit],
        error: BaseException | None,
        seconds: float,
        attempt: int,
    ) -> None:
        calls.append((record.sequence, envelope, [e.data for e in emits], error, seconds))

    handler = RecordingHandler(fail_on=(3,))
    runner = make_runner(handler, ListTransport(), observer=observer)

    result = runner.process(records(1, 2, 3, 4))

    assert result is not None
    assert [c[0] for c in calls] == ["seq-0", "seq-1", "seq-2"]
    assert [c[3] for c in calls[:2]] == [None, None]
    assert calls[2][3] is result[1]
    assert [c[2] for c in calls[:2]] == [[1], [2]]
    assert calls[0][1]["data"] == 1
    assert calls[0][1]["trace"] == "trace-0"
    assert all(c[4] >= 0 for c in calls)


def test_observer_sees_decode_errors_with_no_envelope() -> None:
    calls: list[tuple[Any, BaseException | None]] = []

    def observer(
        record: Record, envelope: Any, emits: Any, error: Any, seconds: float, attempt: int
    ) -> None:
        calls.append((envelope, error))

    runner = make_runner(RecordingHandler(), ListTransport(), observer=observer)

    runner.process([Record("s", "p", b'{"v":1,"data":1,"hops":"many"}')])

    assert len(calls) == 1
    assert calls[0][0] is None
    assert isinstance(calls[0][1], DecodeError)


# --- large batches -------------------------------------------------------------------


def test_more_than_flush_every_pending_emits_are_flushed_mid_batch_and_all_arrive() -> None:
    handled_at_put: list[int] = []
    handler = RecordingHandler()

    class CountingTransport(ListTransport):
        def put(self, stream: str, emits: Sequence[Emit]) -> None:
            handled_at_put.append(len(handler.seen))
            super().put(stream, emits)

    transport = CountingTransport()
    count = 2 * FLUSH_EVERY + 201
    runner = Runner(
        handler=handler,
        processor="proc",
        topology="topo",
        routes=Routes([{"stream": "all"}]),
        transport=transport,
        max_hops=16,
    )

    assert runner.process(records(*range(count))) is None

    assert transport.data("all") == list(range(count))
    assert [len(emits) for _, emits in transport.calls] == [FLUSH_EVERY, FLUSH_EVERY, 201]
    assert handled_at_put[0] == FLUSH_EVERY  # flushed before the batch ended
    assert handled_at_put[0] < count


def test_failure_after_a_mid_batch_flush_delivers_each_earlier_emit_exactly_once() -> None:
    transport = ListTransport()
    count = FLUSH_EVERY + 50
    fail_at = FLUSH_EVERY + 20
    handler = RecordingHandler(fail_on=(fail_at,))
    runner = make_runner(handler, transport)

    result = runner.process(records(*range(count)))

    assert result is not None
    assert result[0] == fail_at
    assert transport.data("all") == list(range(fail_at))
    assert transport.data("evens") == list(range(0, fail_at, 2))


# --- an event's retries in place and the runtime's own dead letters ----------------------


class Letters:
    """A dead-letter queue that keeps what it is sent, or refuses it."""

    def __init__(self, refuse: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.refuse = refuse

    def send(self, document: dict[str, Any], error: BaseException, record: Any) -> None:
        if self.refuse:
            raise DeadLetterError("the queue is unreachable")
        self.sent.append(document)


class Clock:
    """Lambda's context as far as retries care: the time left, shrinking as it sleeps."""

    def __init__(self, remaining: float) -> None:
        self.remaining = remaining
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.remaining -= seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.remaining * 1000)


def retrying_runner(
    handler: Any, transport: Any, letters: Letters, clock: Clock, retries: int = 3
) -> Runner:
    return make_runner(
        handler, transport, retries={"in": retries}, dead_letters=letters, sleep=clock.sleep
    )


def test_a_failing_event_is_retried_in_place_then_dead_lettered_and_the_rest_goes_on() -> None:
    handler, transport, letters, clock = (
        RecordingHandler(fail_on=(3,)),
        ListTransport(),
        Letters(),
        Clock(60),
    )
    runner = retrying_runner(handler, transport, letters, clock)

    assert runner.process(records(2, 3, 4), clock, source="in") is None

    assert handler.seen == [2, 3, 3, 3, 3, 4]  # 1 attempt + 3 retries, the others once
    assert clock.slept == [0.1, 0.2, 0.4]  # doubling backoff
    assert transport.data("all") == [2, 4]  # the failed event's emits are discarded
    (letter,) = letters.sent
    assert letter["attak"] == "dead-letter" and letter["processor"] == "proc"
    assert (letter["stream"], letter["sequence"], letter["attempts"]) == ("in", "seq-1", 4)
    assert (letter["data"], letter["trace"]) == (3, "trace-1")
    assert letter["error"] == "RuntimeError: cannot handle 3"
    assert "raise RuntimeError" in letter["traceback"]
    assert "runtime/handler.py" not in letter["traceback"]  # the user's frames only


def test_retries_stop_when_the_invocation_would_run_out_of_time() -> None:
    handler, letters, clock = RecordingHandler(fail_on=(1,)), Letters(), Clock(1.5)
    runner = retrying_runner(handler, ListTransport(), letters, clock, retries=10)

    assert runner.process(records(1), clock, source="in") is None

    # 1.5 s left and a 1 s reserve: waits of 0.1 and 0.2 s fit, the next 0.4 s would not
    assert clock.slept == [0.1, 0.2] and handler.seen == [1, 1, 1]
    assert letters.sent[0]["attempts"] == 3


@pytest.mark.parametrize(
    "broken",
    [
        Record("seq-0", "pk", b"x", error=CorruptRecord("stream 's', record seq-0: corrupt")),
        Record("seq-0", "pk", json.dumps({"v": 1, "data": 1, "hops": -1})),
    ],
    ids=["corrupt-record", "bad-envelope"],
)
def test_a_record_that_cannot_be_read_is_dead_lettered_at_once_with_its_raw_data(
    broken: Record,
) -> None:
    letters, clock = Letters(), Clock(60)
    runner = retrying_runner(RecordingHandler(), ListTransport(), letters, clock)

    assert runner.process([broken], clock, source="in") is None

    assert clock.slept == []  # reading it again would not help
    (letter,) = letters.sent
    assert letter["attempts"] == 1 and "record" in letter and "data" not in letter


def test_a_runaway_loop_is_not_retried() -> None:
    letters, clock = Letters(), Clock(60)

    def loops(event: Any, context: Any) -> None:
        context.emit("odd", event)

    runner = retrying_runner(loops, ListTransport(), letters, clock)
    runner.max_hops = 1
    assert (
        runner.process(
            [Record("s", "k", encode(1, topic="t", source="p", trace="x", hops=1))],
            clock,
            source="in",
        )
        is None
    )
    assert clock.slept == [] and letters.sent[0]["error"].startswith("LoopError")


def test_an_event_whose_letter_cannot_be_kept_fails_its_record_for_lambda_to_retry() -> None:
    handler, transport, clock = RecordingHandler(fail_on=(3,)), ListTransport(), Clock(60)
    runner = retrying_runner(handler, transport, Letters(refuse=True), clock, retries=0)

    failed = runner.process(records(2, 3, 4), clock, source="in")

    assert failed is not None and failed[0] == 1
    assert transport.data("all") == [2]  # what came before is sent; nothing after ran
    assert handler.seen == [2, 3]


def test_without_a_known_source_a_failing_record_fails_the_batch_as_lambda_expects() -> None:
    handler, letters, clock = RecordingHandler(fail_on=(3,)), Letters(), Clock(60)
    runner = retrying_runner(handler, ListTransport(), letters, clock)

    failed = runner.process(records(2, 3, 4), clock, source=None)  # a direct invocation

    assert failed is not None and failed[0] == 1 and letters.sent == [] and clock.slept == []


def test_separate_records_have_their_emits_sent_as_each_ends() -> None:
    transport = ListTransport()
    runner = make_runner(RecordingHandler(), transport)

    assert runner.process(records(1, 2, 3), separate=True) is None

    assert [len(emits) for stream, emits in transport.calls if stream == "all"] == [1, 1, 1]


def test_a_letter_over_sqs_size_limit_is_refused() -> None:
    document = {"attak": "dead-letter", "data": "x" * (1024 * 1024)}
    with pytest.raises(DeadLetterError, match="over SQS's 1 MiB"):
        encode_letter(document)
    assert json.loads(encode_letter({"data": "ü"})) == {"data": "ü"}
