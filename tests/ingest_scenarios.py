"""What real producers write into an ingest stream, as one table of scenarios for both engines.

Each scenario sends raw record data (``raw_record``: the bytes a producer wrote, as they
are) into the ingest stream of ``reader``, which emits every event it gets to ``sink``.
``tests/functional/test_ingest_shapes`` runs the table on the memory engine, and
``tests/integration/test_kinesis_ingest`` on the Kinesis engine (PutRecord into a real
Kinesis API, read back as Lambda reads it), asserting the same outcome and that both
engines end alike.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from typing import Any

from attak_cdk.inputs import InputEvent
from attak_cdk.runtime.aggregate import compress, pack
from attak_cdk.simulate.result import SimulationResult
from attak_cdk.testing import raw_record
from tests.conftest import SINK
from tests.delivery_scenarios import Scenario, calls

TOPOLOGY = """
name: ingest
processors:
  reader: {handler: p/reader.py, input: stream}
  sink: p/sink.py
streams: [{from: reader, to: sink, retry_attempts: 0}]
"""
TOPOLOGY_FAILING_ONCE = TOPOLOGY.replace(
    "processors:", "defaults: {retry_attempts: 0}\nprocessors:"
)

READER = """
import base64

def handler(event, context):
    # binary data is no JSON: what the reader got goes on as base64
    if isinstance(event, bytes):
        event = {"bytes": base64.b64encode(event).decode()}
    context.emit("got", event)
"""
HANDLERS = {"reader": READER, "sink": SINK}


def cloudwatch_logs(message_type: str, *messages: str) -> bytes:
    """A CloudWatch Logs subscription's record data, in the documented form (gzip JSON)."""
    document = {
        "owner": "123456789012",
        "logGroup": "/aws/lambda/checkout",
        "logStream": "2024/01/01/[$LATEST]abc",
        "subscriptionFilters": ["to-kinesis"],
        "messageType": message_type,
        "logEvents": [
            {"id": str(n), "timestamp": 1_700_000_000_000 + n, "message": message}
            for n, message in enumerate(messages)
        ],
    }
    return gzip.compress(json.dumps(document).encode())


THREE = [("u1", b'{"user": "u1", "n": 1}'), ("u2", b'{"user": "u2", "n": 2}'), ("u1", b'"three"')]
AGGREGATE = pack(THREE)


def reader_got(result: SimulationResult) -> list[Any]:
    return calls(result, "reader")


def each_event_traced_and_linked(result: SimulationResult) -> None:
    """Every reader call is outside input; its emit reaches sink under its own trace."""
    readers = [i for i in result.invocations if i.processor == "reader"]
    sinks = {i.parent: i for i in result.invocations if i.processor == "sink"}
    assert all(r.parent is None for r in readers)
    assert len({r.trace for r in readers}) == len(readers)
    for reader in readers:
        assert sinks[reader.id].trace == reader.trace


def plain_json_is_the_parsed_document(result: SimulationResult) -> None:
    assert result.ok
    assert reader_got(result) == [{"user": "u1", "n": 1}, 5]
    each_event_traced_and_linked(result)


def a_kpl_aggregate_is_one_handler_call_per_user_record(result: SimulationResult) -> None:
    assert result.ok
    assert reader_got(result) == [{"user": "u1", "n": 1}, {"user": "u2", "n": 2}, "three"]
    first, second, third = (i.trace for i in result.invocations if i.processor == "reader")
    assert (second, third) == (f"{first}.1", f"{first}.2")  # the record's sequence number
    assert calls(result, "sink") == reader_got(result)
    each_event_traced_and_linked(result)


def a_compressed_aggregate_is_its_user_records(result: SimulationResult) -> None:
    assert result.ok
    assert reader_got(result) == ["alone", {"user": "u1", "n": 1}, {"user": "u2", "n": 2}, "three"]
    each_event_traced_and_linked(result)


def a_cloudwatch_logs_batch_is_one_event_per_log_event(result: SimulationResult) -> None:
    assert result.ok
    where = {"logGroup": "/aws/lambda/checkout", "logStream": "2024/01/01/[$LATEST]abc"}
    assert reader_got(result) == [
        {"id": "0", "timestamp": 1_700_000_000_000, "message": "START RequestId: 1", **where},
        {"id": "1", "timestamp": 1_700_000_000_001, "message": "café ☃", **where},
    ]
    each_event_traced_and_linked(result)


def a_control_message_calls_no_handler(result: SimulationResult) -> None:
    assert result.ok
    assert result.invocations == []


def text_is_the_event_as_a_string(result: SimulationResult) -> None:
    assert result.ok
    assert reader_got(result) == ["hello, world", "naïve ☃ text"]


def binary_data_is_the_event_as_bytes(result: SimulationResult) -> None:
    assert result.ok
    assert reader_got(result) == [b"\x00\xff\xfe\x80binary"]
    assert calls(result, "sink") == [
        {"bytes": base64.b64encode(b"\x00\xff\xfe\x80binary").decode()}
    ]


def corrupt_record_is_one_dead_letter_naming_stream_and_sequence(
    result: SimulationResult,
) -> None:
    [letter] = result.dead_letters
    assert letter.processor == "reader"
    assert letter.source == "input->reader"
    # the record's own sequence number is the trace of what it holds
    assert re.fullmatch(
        rf"CorruptRecord: stream '[^']+', record {re.escape(letter.trace)}: "
        r"aggregated record's checksum does not match \(corrupt or truncated\)",
        letter.error,
    ), letter.error
    assert isinstance(letter.event, bytes)  # the record's data, as it was written
    assert calls(result, "reader", ok=True) == ["before", "sibling", "after"]  # every other
    assert calls(result, "sink") == ["before", "sibling", "after"]


def bad_checksum(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0xFF])


def ingest(
    name: str, inputs: list[tuple[str, Any] | InputEvent], expect: Any, topology: str = TOPOLOGY
) -> Scenario:
    return Scenario(name, topology, HANDLERS, inputs, expect)


INGEST_SCENARIOS = [
    ingest(
        "plain_json_is_the_parsed_document",
        [raw_record("reader", b'{"user": "u1", "n": 1}'), ("reader", 5)],
        plain_json_is_the_parsed_document,
    ),
    ingest(
        "a_kpl_aggregate_is_one_handler_call_per_user_record",
        [raw_record("reader", AGGREGATE)],
        a_kpl_aggregate_is_one_handler_call_per_user_record,
    ),
    ingest(
        "a_compressed_aggregate_is_its_user_records",
        [raw_record("reader", compress(b'"alone"')), raw_record("reader", compress(AGGREGATE))],
        a_compressed_aggregate_is_its_user_records,
    ),
    ingest(
        "a_cloudwatch_logs_batch_is_one_event_per_log_event",
        [raw_record("reader", cloudwatch_logs("DATA_MESSAGE", "START RequestId: 1", "café ☃"))],
        a_cloudwatch_logs_batch_is_one_event_per_log_event,
    ),
    ingest(
        "a_control_message_calls_no_handler",
        [raw_record("reader", cloudwatch_logs("CONTROL_MESSAGE", "CWL CONTROL MESSAGE"))],
        a_control_message_calls_no_handler,
    ),
    ingest(
        "text_is_the_event_as_a_string",
        [raw_record("reader", b"hello, world"), raw_record("reader", "naïve ☃ text".encode())],
        text_is_the_event_as_a_string,
    ),
    ingest(
        "binary_data_is_the_event_as_bytes",
        [raw_record("reader", b"\x00\xff\xfe\x80binary")],
        binary_data_is_the_event_as_bytes,
    ),
    ingest(
        "an_aggregate_with_a_bad_checksum_is_one_dead_letter",
        [
            raw_record("reader", b'"before"'),
            raw_record("reader", bad_checksum(pack([("k", b'"lost"'), ("k", b'"lost too"')]))),
            raw_record("reader", pack([("k", b'"sibling"')])),
            raw_record("reader", b'"after"'),
        ],
        corrupt_record_is_one_dead_letter_naming_stream_and_sequence,
        TOPOLOGY_FAILING_ONCE,
    ),
    ingest(
        "a_truncated_aggregate_is_one_dead_letter",
        [
            raw_record("reader", b'"before"'),
            raw_record("reader", AGGREGATE[:-7]),
            raw_record("reader", compress(pack([("k", b'"sibling"')]))),
            raw_record("reader", b'"after"'),
        ],
        corrupt_record_is_one_dead_letter_naming_stream_and_sequence,
        TOPOLOGY_FAILING_ONCE,
    ),
]
