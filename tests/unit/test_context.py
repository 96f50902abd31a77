"""The ``context`` a handler receives (DESIGN.md "Processor contract", "Record envelope"):
``emit`` routing, partition keys, limits, the max_hops guard, and Lambda's attributes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from attak_cdk.runtime.context import Context, Emit, LoopError, Routes
from attak_cdk.runtime.envelope import (
    GENERATED_KEY_LENGTH,
    MAX_RECORD_BYTES,
    EmitError,
    decode,
    encode,
)

ROUTES = [
    {"stream": "s-any", "to": "archive"},
    {"stream": "s-a", "topic": "a", "to": "shout"},
    {"stream": "s-b", "topic": "b", "to": "reverse"},
    {"stream": "s-a2", "topic": "a", "to": "count"},
]


@dataclass
class Run:
    """The processor bindings a context reads (what ``Runner`` provides)."""

    processor: str
    topology: str
    routes: Routes
    max_hops: int


def make_context(
    *,
    routes: list[dict[str, Any]] | None = None,
    hops: int = 0,
    max_hops: int = 16,
    lambda_context: Any = None,
) -> tuple[Context, list[Emit]]:
    emits: list[Emit] = []
    run = Run("proc", "topo", Routes(ROUTES if routes is None else routes), max_hops)
    envelope = decode(encode("in", topic="t", source="up", trace="trace-1", hops=hops), "x")
    return Context(run, envelope, emits, lambda_context), emits


# --- routing -------------------------------------------------------------------------


def test_emit_goes_to_streams_with_that_topic_and_to_streams_without_topic() -> None:
    context, emits = make_context()

    context.emit("a", 1)
    context.emit("b", 2)

    assert emits[0].streams == ("s-any", "s-a", "s-a2")
    assert emits[1].streams == ("s-any", "s-b")


def test_stream_with_a_topic_does_not_receive_other_topics() -> None:
    context, emits = make_context()

    context.emit("b", "x")

    assert "s-a" not in emits[0].streams
    assert "s-a2" not in emits[0].streams


def test_unknown_topic_goes_only_to_streams_without_topic() -> None:
    context, emits = make_context()

    context.emit("never declared", "x")

    assert emits[0].streams == ("s-any",)


def test_unknown_topic_without_a_wildcard_stream_is_a_sink_not_an_error() -> None:
    context, emits = make_context(routes=[{"stream": "s-a", "topic": "a"}])

    context.emit("nowhere", {"x": 1})

    assert len(emits) == 1
    assert emits[0].streams == ()
    assert emits[0].topic == "nowhere"
    assert emits[0].data == {"x": 1}


def test_processor_without_outgoing_streams_treats_every_emit_as_sink() -> None:
    context, emits = make_context(routes=[])

    context.emit("anything", 1)

    assert emits[0].streams == ()


def test_routes_from_json_reads_the_environment_payload_and_empty_text() -> None:
    routes = Routes.from_json(
        '[{"stream": "s1", "topic": null, "to": "x"}, {"stream": "s2", "topic": "t", "to": "y"}]'
    )

    assert routes.streams_for("t") == ("s1", "s2")
    assert routes.streams_for("other") == ("s1",)
    assert Routes.from_json("").streams_for("t") == ()
    assert Routes.from_json("[]").streams_for("t") == ()


# --- the record an emit makes --------------------------------------------------------


def test_emit_encodes_an_envelope_from_this_processor_at_the_next_hop() -> None:
    context, emits = make_context(hops=2)

    context.emit("a", {"n": 1})

    envelope = decode(emits[0].payload, "unused")
    assert envelope["data"] == {"n": 1}
    assert envelope["topic"] == "a"
    assert envelope["from"] == "proc"
    assert envelope["trace"] == "trace-1"
    assert envelope["hops"] == 3
    assert emits[0].topic == "a"
    assert emits[0].data == {"n": 1}


def test_emits_are_collected_in_call_order() -> None:
    context, emits = make_context()

    for i in range(5):
        context.emit("a", i)

    assert [e.data for e in emits] == [0, 1, 2, 3, 4]
    assert [decode(e.payload, "")["data"] for e in emits] == [0, 1, 2, 3, 4]


# --- partition keys ------------------------------------------------------------------


def test_given_key_is_the_partition_key() -> None:
    context, emits = make_context()

    context.emit("a", "x", key="user-42")

    assert emits[0].key == "user-42"


def test_missing_key_is_left_for_the_transport_to_draw() -> None:
    # The runtime no longer takes a new_key; the transport draws a random key for an
    # emit without one (see test_emitter: a random key per record).
    context, emits = make_context()

    context.emit("a", 1)
    context.emit("b", 2)

    assert [e.key for e in emits] == [None, None]


def test_key_of_256_characters_is_accepted() -> None:
    context, emits = make_context()

    context.emit("a", 1, key="k" * 256)

    assert emits[0].key == "k" * 256


@pytest.mark.parametrize(
    "key", [42, "", "k" * 257, b"bytes-key"], ids=["int", "empty", "257-chars", "bytes"]
)
def test_bad_key_raises_emit_error_naming_processor_and_topic(key: Any) -> None:
    context, emits = make_context()

    with pytest.raises(EmitError) as info:
        context.emit("a", 1, key=key)

    message = str(info.value)
    assert "proc" in message
    assert "'a'" in message
    assert "key" in message
    assert emits == []


# --- topic and data ------------------------------------------------------------------


@pytest.mark.parametrize("topic", ["", None, 5, b"a"], ids=["empty", "none", "int", "bytes"])
def test_empty_or_non_string_topic_raises_emit_error(topic: Any) -> None:
    context, emits = make_context()

    with pytest.raises(EmitError) as info:
        context.emit(topic, 1)

    assert "proc" in str(info.value)
    assert "topic" in str(info.value)
    assert emits == []


@pytest.mark.parametrize("data", [{1, 2}, object(), float("nan")], ids=["set", "object", "nan"])
def test_data_that_is_not_json_raises_emit_error_naming_processor_and_topic(data: Any) -> None:
    context, emits = make_context()

    with pytest.raises(EmitError) as info:
        context.emit("a", data)

    assert "proc" in str(info.value)
    assert "'a'" in str(info.value)
    assert emits == []


def test_data_that_cannot_be_utf8_raises_emit_error_naming_processor_and_topic() -> None:
    # DESIGN.md: a record's data is UTF-8 JSON; a lone surrogate has no UTF-8 form, so
    # this emit cannot become a Kinesis record and must be refused as an EmitError.
    context, emits = make_context()

    with pytest.raises(EmitError) as info:
        context.emit("a", "lone surrogate \ud800")

    assert "proc" in str(info.value)
    assert "'a'" in str(info.value)
    assert emits == []


# --- the 1 MiB record limit ----------------------------------------------------------


def _overhead(key: str | None) -> int:
    """Bytes of a record (payload + partition key) carrying the empty string as data."""
    context, emits = make_context()
    context.emit("a", "", key=key)
    key_bytes = GENERATED_KEY_LENGTH if key is None else len(key.encode())
    return len(emits[0].payload.encode()) + key_bytes


@pytest.mark.parametrize("key", ["k", None], ids=["given-key", "drawn-key"])
def test_record_exactly_at_1_mib_is_accepted(key: str | None) -> None:
    context, emits = make_context()
    filler = MAX_RECORD_BYTES - _overhead(key)

    context.emit("a", "x" * filler, key=key)

    assert len(emits) == 1


@pytest.mark.parametrize("key", ["k", None], ids=["given-key", "drawn-key"])
def test_record_just_under_1_mib_is_accepted(key: str | None) -> None:
    context, emits = make_context()
    filler = MAX_RECORD_BYTES - _overhead(key) - 1

    context.emit("a", "x" * filler, key=key)

    assert len(emits) == 1


@pytest.mark.parametrize("key", ["k", None], ids=["given-key", "drawn-key"])
def test_record_over_1_mib_raises_emit_error_naming_processor_topic_and_limit(
    key: str | None,
) -> None:
    context, emits = make_context()
    filler = MAX_RECORD_BYTES - _overhead(key) + 1

    with pytest.raises(EmitError) as info:
        context.emit("a", "x" * filler, key=key)

    message = str(info.value)
    assert "proc" in message
    assert "'a'" in message
    assert "1 MiB" in message
    assert str(MAX_RECORD_BYTES) in message
    assert emits == []


def test_record_size_counts_multibyte_data_and_key_in_utf8_bytes() -> None:
    key = "é" * 100  # 100 characters, 200 bytes
    context, emits = make_context()
    chars = (MAX_RECORD_BYTES - _overhead(key)) // 2  # "ü" is 2 bytes in UTF-8
    context.emit("a", "ü" * chars, key=key)
    assert len(emits) == 1

    with pytest.raises(EmitError, match="1 MiB"):
        context.emit("a", "ü" * (chars + 1), key=key)
    assert len(emits) == 1


# --- the max_hops loop guard ---------------------------------------------------------


def test_emit_reaching_exactly_max_hops_is_allowed() -> None:
    context, emits = make_context(hops=3, max_hops=4)

    context.emit("a", "x")

    assert decode(emits[0].payload, "unused")["hops"] == 4


def test_emit_beyond_max_hops_raises_loop_error() -> None:
    context, emits = make_context(hops=4, max_hops=4)

    with pytest.raises(LoopError) as info:
        context.emit("a", "x")

    message = str(info.value)
    assert "proc" in message
    assert "'a'" in message
    assert "trace-1" in message
    assert "max_hops" in message
    assert emits == []


def test_loop_error_is_an_emit_error() -> None:
    assert issubclass(LoopError, EmitError)
    context, _ = make_context(hops=10, max_hops=1)

    with pytest.raises(EmitError):
        context.emit("a", "x")


# --- names and Lambda's context ------------------------------------------------------


def test_context_exposes_processor_topology_and_trace_id() -> None:
    context, _ = make_context()

    assert context.processor == "proc"
    assert context.topology == "topo"
    assert context.trace_id == "trace-1"


class FakeLambdaContext:
    function_name = "attak-proc-fn"
    aws_request_id = "req-123"
    memory_limit_in_mb = 256

    def get_remaining_time_in_millis(self) -> int:
        return 4321


def test_lambda_context_attributes_are_reachable_through_context() -> None:
    context, _ = make_context(lambda_context=FakeLambdaContext())

    assert context.aws_request_id == "req-123"
    assert context.function_name == "attak-proc-fn"
    assert context.memory_limit_in_mb == 256
    assert context.get_remaining_time_in_millis() == 4321


def test_attak_names_take_precedence_over_lambda_context() -> None:
    class Shadowing(FakeLambdaContext):
        processor = "from-lambda"

    context, _ = make_context(lambda_context=Shadowing())

    assert context.processor == "proc"


def test_unknown_attribute_of_lambda_context_raises_attribute_error() -> None:
    context, _ = make_context(lambda_context=FakeLambdaContext())

    with pytest.raises(AttributeError):
        _ = context.no_such_attribute


def test_without_lambda_context_unknown_attribute_raises_attribute_error() -> None:
    context, _ = make_context(lambda_context=None)

    with pytest.raises(AttributeError, match="aws_request_id"):
        _ = context.aws_request_id
    assert not hasattr(context, "get_remaining_time_in_millis")
