"""The record wire format (DESIGN.md "Record envelope"): encode/decode, shared by Lambda
and the simulator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from attak_cdk.runtime.envelope import (
    VERSION,
    DecodeError,
    EmitError,
    decode,
    encode,
    encode_input,
    encode_with,
    header,
)


def fields(envelope: dict[str, Any]) -> tuple[Any, ...]:
    """The documented envelope fields, in a comparable form."""
    return (
        envelope["data"],
        envelope["topic"],
        envelope["from"],
        envelope["trace"],
        envelope["hops"],
    )


def as_bytes(raw: str | bytes) -> bytes:
    """A record's data as it travels in Kinesis: UTF-8 bytes."""
    return raw.encode("utf-8") if isinstance(raw, str) else raw


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

    assert fields(decode(raw, "default-trace")) == (data, "greetings", "hello_spout", "trace-1", 3)
    assert fields(decode(as_bytes(raw), "default-trace")) == (
        data,
        "greetings",
        "hello_spout",
        "trace-1",
        3,
    )


def test_encoded_record_is_the_documented_json_envelope() -> None:
    raw = encode({"a": 1}, topic="t", source="p", trace="tr", hops=2)

    assert json.loads(as_bytes(raw).decode("utf-8")) == {
        "v": VERSION,
        "from": "p",
        "trace": "tr",
        "hops": 2,
        "topic": "t",
        "data": {"a": 1},
    }


def test_unicode_is_written_as_utf8_not_escaped_and_round_trips() -> None:
    text = "héllo wörld — 日本語 🎉"

    raw = as_bytes(encode(text, topic="ünïcode topic", source="prøcessor", trace="trâce", hops=1))

    assert text.encode("utf-8") in raw
    assert "ünïcode topic".encode() in raw
    assert "prøcessor".encode() in raw
    assert b"\\u" not in raw
    assert fields(decode(raw, "unused")) == (text, "ünïcode topic", "prøcessor", "trâce", 1)


def test_header_plus_encode_with_equals_encode() -> None:
    head = header("proc", "trace-9", 4)

    assert encode_with(head, "topic", [1, 2]) == encode(
        [1, 2], topic="topic", source="proc", trace="trace-9", hops=4
    )


def test_one_header_serves_several_emits_of_the_same_call() -> None:
    head = header("proc", "trace-9", 4)

    first = decode(encode_with(head, "a", 1), "x")
    second = decode(encode_with(head, "b", {"k": "v"}), "x")

    assert fields(first) == (1, "a", "proc", "trace-9", 4)
    assert fields(second) == ({"k": "v"}, "b", "proc", "trace-9", 4)


def test_special_characters_in_names_are_escaped_as_json() -> None:
    raw = encode('say "hi"\n', topic='quo"te\\', source="p\t", trace='tr"', hops=0)

    assert fields(decode(raw, "x")) == ('say "hi"\n', 'quo"te\\', "p\t", 'tr"', 0)


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

    assert fields(envelope) == ({"user": "ana"}, None, None, "trace-in", 0)
    assert json.loads(as_bytes(raw))["hops"] == 0


def test_encode_input_keeps_unicode_as_utf8() -> None:
    raw = as_bytes(encode_input("çà 🎉", "t"))

    assert "çà 🎉".encode() in raw
    assert b"\\u" not in raw
    assert decode(raw, "x")["data"] == "çà 🎉"


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

    assert fields(envelope) == (value, None, None, "default-trace", 0)


def test_decode_of_json_with_surrounding_whitespace_is_accepted() -> None:
    assert decode(b'  {"user": "ana"}\n', "d")["data"] == {"user": "ana"}
    assert decode(b' {"v": 1, "data": 5, "trace": "t", "hops": 2} ', "d")["hops"] == 2


def test_decode_accepts_str_as_well_as_bytes() -> None:
    raw = encode("x", topic="t", source="p", trace="tr", hops=1)

    assert fields(decode(as_bytes(raw).decode(), "d")) == fields(decode(as_bytes(raw), "d"))


def test_decode_of_envelope_without_optional_fields_uses_defaults() -> None:
    envelope = decode(b'{"v":1,"data":"x"}', "fallback")

    assert fields(envelope) == ("x", None, None, "fallback", 0)


@pytest.mark.parametrize(
    ("raw", "event"),
    [
        (b"not json at all", "not json at all"),
        (b'{"open": ', '{"open": '),
        (b"", ""),
        ("{broken", "{broken"),
        (b'{"a":1} x', '{"a":1} x'),
        ("caf\u00e9 \u2603".encode(), "caf\u00e9 \u2603"),
    ],
    ids=["not-json", "truncated", "empty", "str-not-json", "trailing-garbage", "unicode"],
)
def test_decode_of_utf8_text_that_is_not_json_is_the_text_as_the_event(
    raw: bytes | str, event: str
) -> None:
    envelope = decode(raw, "t")
    assert envelope["data"] == event
    assert type(envelope["data"]) is str
    assert (envelope["trace"], envelope["hops"], envelope["from"]) == ("t", 0, None)


@pytest.mark.parametrize(
    "raw", [b"\xff\xfe\xfa not utf-8", b"\x00\x01\x02\x80", b"\xf3\x89"], ids=str
)
def test_decode_of_data_that_is_not_utf8_is_the_bytes_as_the_event(raw: bytes) -> None:
    envelope = decode(raw, "t")
    assert envelope["data"] == raw
    assert type(envelope["data"]) is bytes
    assert envelope["trace"] == "t"


def test_decode_of_json_that_is_not_an_envelope_is_still_the_parsed_document() -> None:
    assert decode(b' {"user": "u1"} ', "t")["data"] == {"user": "u1"}
    assert decode(b"[1, 2]", "t")["data"] == [1, 2]


def test_decode_error_and_emit_error_are_distinct_exceptions() -> None:
    assert not issubclass(DecodeError, EmitError)
    assert not issubclass(EmitError, DecodeError)


def test_an_envelope_with_a_bad_hop_count_is_still_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="invalid hop count -1"):
        decode('{"v":1,"data":1,"hops":-1}', "t")
