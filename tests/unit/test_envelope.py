"""The record wire format (DESIGN.md "Record envelope"): encode/decode, shared by Lambda
and the simulator."""

from __future__ import annotations

import json

import pytest

from attak_cdk.runtime.envelope import (
    VERSION,
    DecodeError,
    EmitError,
    Envelope,
    decode,
    encode,
    encode_input,
    encode_with,
    header,
)


@pytest.mark.parametrize(
    "data",
    [
        "hello world",
        42,
        3.5,
        None,
        True,
        [1, "two", {"three": 3}],
        {"nested": {"list": [1, 2, 3], "null": None}},
    ],
)
def test_encode_then_decode_round_trips_topic_data_source_trace_and_hops(data: object) -> None:
    raw = encode(data, topic="greetings", source="hello_spout", trace="trace-1", hops=3)

    envelope = decode(raw, "default-trace")

    assert envelope == Envelope(
        data=data, topic="greetings", source="hello_spout", trace="trace-1", hops=3
    )


def test_encoded_record_is_the_documented_utf8_json_envelope() -> None:
    raw = encode({"a": 1}, topic="t", source="p", trace="tr", hops=2)

    assert isinstance(raw, bytes)
    assert json.loads(raw.decode("utf-8")) == {
        "v": VERSION,
        "from": "p",
        "trace": "tr",
        "hops": 2,
        "topic": "t",
        "data": {"a": 1},
    }


def test_unicode_data_is_written_as_utf8_not_escaped_and_round_trips() -> None:
    text = "héllo wörld — 日本語 🎉"

    raw = encode(text, topic="ünïcode topic", source="prøcessor", trace="t", hops=1)

    assert text.encode("utf-8") in raw
    assert "ünïcode topic".encode() in raw
    assert b"\\u" not in raw
    envelope = decode(raw, "unused")
    assert envelope.data == text
    assert envelope.topic == "ünïcode topic"
    assert envelope.source == "prøcessor"


def test_header_plus_encode_with_equals_encode() -> None:
    head = header("proc", "trace-9", 4)

    assert encode_with(head, "topic", [1, 2]) == encode(
        [1, 2], topic="topic", source="proc", trace="trace-9", hops=4
    )


class _NotJson:
    pass


@pytest.mark.parametrize(
    "data",
    [{1, 2, 3}, _NotJson(), float("nan"), float("inf"), {"nested": {"x": {1}}}],
    ids=["set", "object", "nan", "inf", "nested-set"],
)
def test_encode_rejects_data_that_is_not_json_with_emit_error(data: object) -> None:
    with pytest.raises(EmitError, match="not JSON-serializable"):
        encode(data, topic="t", source="p", trace="tr", hops=0)


@pytest.mark.parametrize("data", [{1, 2}, _NotJson(), float("nan")], ids=["set", "object", "nan"])
def test_encode_input_rejects_data_that_is_not_json_with_emit_error(data: object) -> None:
    with pytest.raises(EmitError, match="not JSON-serializable"):
        encode_input(data, "trace")


def test_encode_input_is_hop_zero_with_the_given_trace() -> None:
    raw = encode_input({"user": "ana"}, "trace-in")

    envelope = decode(raw, "default-trace")

    assert envelope.data == {"user": "ana"}
    assert envelope.trace == "trace-in"
    assert envelope.hops == 0
    assert envelope.topic is None
    assert envelope.source is None
    assert json.loads(raw)["hops"] == 0


def test_encode_input_keeps_unicode_as_utf8() -> None:
    raw = encode_input("çà 🎉", "t")

    assert "çà 🎉".encode() in raw
    assert decode(raw, "x").data == "çà 🎉"


@pytest.mark.parametrize(
    "value",
    [
        {"user": "ana", "n": 1},
        [1, 2, 3],
        "a plain string",
        7,
        None,
        {"v": 2, "data": "not our version"},
        {"v": 1, "no_data_key": True},
    ],
)
def test_decode_of_plain_json_that_is_not_an_envelope_is_the_whole_event(value: object) -> None:
    raw = json.dumps(value).encode()

    envelope = decode(raw, "default-trace")

    assert envelope == Envelope(data=value, topic=None, source=None, trace="default-trace", hops=0)


def test_decode_accepts_str_as_well_as_bytes() -> None:
    raw = encode("x", topic="t", source="p", trace="tr", hops=1)

    assert decode(raw.decode(), "d") == decode(raw, "d")


def test_decode_of_envelope_without_trace_uses_default_trace() -> None:
    envelope = decode(b'{"v":1,"data":"x"}', "fallback")

    assert envelope.trace == "fallback"
    assert envelope.hops == 0
    assert envelope.data == "x"


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe\xfa not utf-8", b"not json at all", b'{"open": ', b"", "{broken"],
    ids=["non-utf8", "not-json", "truncated", "empty", "str-not-json"],
)
def test_decode_of_unreadable_data_raises_decode_error(raw: bytes | str) -> None:
    with pytest.raises(DecodeError, match="not UTF-8 JSON"):
        decode(raw, "t")


def test_decode_error_and_emit_error_are_distinct_exceptions() -> None:
    assert not issubclass(DecodeError, EmitError)
    assert not issubclass(EmitError, DecodeError)
