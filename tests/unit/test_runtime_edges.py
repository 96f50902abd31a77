"""Writing to existing streams at the edges (``runtime/edges.py``): each emit one record of
its event's JSON, no envelope, no aggregation; Firehose in PutRecordBatch calls of at most
500 records and 4 MiB; failed records sent again, then ``WriteError`` (the batch fails and
Lambda retries it), never dropped. Real boto3 clients with botocore's Stubber: no network."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from attak_cdk.runtime.context import Emit, Routes
from attak_cdk.runtime.edges import (
    FIREHOSE_MAX_BYTES_PER_CALL,
    EdgeTransport,
    FirehoseWriter,
    kinesis_records,
)
from attak_cdk.runtime.emitter import KinesisEmitter, WriteError
from attak_cdk.runtime.envelope import encode
from attak_cdk.runtime.handler import Runner, handle_event

LAKE = "arn:aws:firehose:us-east-1:123456789012:deliverystream/lake"
SHARED = "arn:aws:kinesis:us-east-1:123456789012:stream/shared"


def client(service: str) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def emit(data: Any, key: str | None = None, stream: str = LAKE) -> Emit:
    payload = encode(data, topic="archived", source="archive", trace="t1", hops=2)
    return Emit("archived", payload, key, (stream,))


def ok(count: int) -> dict[str, Any]:
    return {
        "FailedPutCount": 0,
        "Encrypted": False,
        "RequestResponses": [{"RecordId": f"r{i}"} for i in range(count)],
    }


def firehose_records(data: list[Any]) -> list[dict[str, bytes]]:
    return [{"Data": json.dumps(d, separators=(",", ":")).encode() + b"\n"} for d in data]


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def writer(firehose: Any, sleeps: Sleeps | None = None, **kwargs: Any) -> FirehoseWriter:
    return FirehoseWriter(
        firehose, sleep=sleeps if sleeps is not None else Sleeps(), jitter=lambda: 1.0, **kwargs
    )


def test_firehose_records_are_the_events_json_each_on_its_line_in_calls_of_500() -> None:
    firehose = client("firehose")
    data = [{"page": f"/p{i}", "n": i} for i in range(600)]
    with Stubber(firehose) as stub:
        stub.add_response(
            "put_record_batch",
            ok(500),
            {"DeliveryStreamName": "lake", "Records": firehose_records(data[:500])},
        )
        stub.add_response(
            "put_record_batch",
            ok(100),
            {"DeliveryStreamName": "lake", "Records": firehose_records(data[500:])},
        )
        writer(firehose).put(LAKE, [emit(d) for d in data])
        stub.assert_no_pending_responses()


def test_firehose_calls_stay_within_4_mib() -> None:
    firehose = client("firehose")
    big = "x" * (900 * 1024)  # five of these pass 4 MiB
    sizes: list[int] = []

    def answer(count: int) -> None:
        stub.add_response(
            "put_record_batch", ok(count), {"DeliveryStreamName": "lake", "Records": ANY}
        )

    with Stubber(firehose) as stub:
        answer(4)
        answer(2)
        original = firehose.put_record_batch

        def counting(**request: Any) -> Any:
            sizes.append(sum(len(r["Data"]) for r in request["Records"]))
            return original(**request)

        firehose.put_record_batch = counting
        writer(firehose).put(LAKE, [emit(big) for _ in range(6)])
        stub.assert_no_pending_responses()
    assert len(sizes) == 2
    assert all(size <= FIREHOSE_MAX_BYTES_PER_CALL for size in sizes)


def test_a_failed_firehose_record_is_sent_again_alone_after_a_backoff() -> None:
    firehose = client("firehose")
    sleeps = Sleeps()
    data = [{"n": 0}, {"n": 1}, {"n": 2}]
    with Stubber(firehose) as stub:
        stub.add_response(
            "put_record_batch",
            {
                "FailedPutCount": 1,
                "RequestResponses": [
                    {"RecordId": "r0"},
                    {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "slow down"},
                    {"RecordId": "r2"},
                ],
            },
            {"DeliveryStreamName": "lake", "Records": firehose_records(data)},
        )
        stub.add_response(
            "put_record_batch",
            ok(1),
            {"DeliveryStreamName": "lake", "Records": firehose_records(data[1:2])},
        )
        writer(firehose, sleeps).put(LAKE, [emit(d) for d in data])
        stub.assert_no_pending_responses()
    assert len(sleeps) == 1


def test_a_firehose_record_that_never_lands_raises_write_error_after_max_attempts() -> None:
    firehose = client("firehose")
    failing = {
        "FailedPutCount": 1,
        "RequestResponses": [{"ErrorCode": "InternalFailure", "ErrorMessage": "boom"}],
    }
    with Stubber(firehose) as stub:
        for _ in range(3):
            stub.add_response("put_record_batch", failing)
        with pytest.raises(
            WriteError,
            match=r"1 of 1 records could not be written to delivery stream 'lake': a record failed 3 attempts \(3x InternalFailure\)",
        ):
            writer(firehose, max_attempts=3).put(LAKE, [emit({"n": 1})])
        stub.assert_no_pending_responses()


def test_a_refused_firehose_call_raises_at_once_naming_the_stream() -> None:
    firehose = client("firehose")
    with Stubber(firehose) as stub:
        stub.add_client_error(
            "put_record_batch", "ResourceNotFoundException", "no such stream", 400
        )
        with pytest.raises(
            WriteError, match="delivery stream 'lake' was refused: ResourceNotFoundException"
        ):
            writer(firehose).put(LAKE, [emit({"n": 1})])


def test_a_throttled_firehose_call_is_retried_whole() -> None:
    firehose = client("firehose")
    with Stubber(firehose) as stub:
        stub.add_client_error("put_record_batch", "ServiceUnavailableException", "busy", 400)
        stub.add_response("put_record_batch", ok(2))
        writer(firehose).put(LAKE, [emit({"n": 1}), emit({"n": 2})])
        stub.assert_no_pending_responses()


def test_a_record_over_firehoses_1000_kib_fails_the_batch_without_a_call() -> None:
    firehose = client("firehose")
    with Stubber(firehose) as stub:  # no response queued: any call would fail the test
        with pytest.raises(WriteError, match="over Firehose's 1024000"):
            writer(firehose).put(LAKE, [emit("x" * (1000 * 1024))])
        stub.assert_no_pending_responses()


def test_kinesis_records_carry_the_events_json_under_the_emits_key_or_a_random_one() -> None:
    records = kinesis_records([emit({"a": 1}, "user-7", SHARED), emit([1, "é"], None, SHARED)])
    assert [r.data for r in records] == [b'{"a":1}', '[1,"é"]'.encode()]
    assert records[0].partition_key == "user-7"
    assert len(records[1].partition_key) == 16 and records[1].bucket is None
    assert all(r.explicit_hash_key is None for r in records)


def test_an_edge_transport_writes_raw_json_to_an_external_kinesis_stream_by_arn() -> None:
    kinesis = client("kinesis")
    routes = Routes(
        [
            {"stream": "t-AToBStream", "topic": None, "to": "b"},
            {"stream": SHARED, "topic": None, "to": "shared", "external": "kinesis"},
        ]
    )
    attak: list[tuple[str, int]] = []

    class Inner:
        def put(self, stream: str, emits: Any) -> None:
            attak.append((stream, len(emits)))

    with Stubber(kinesis) as stub:
        stub.add_response(
            "put_records",
            {
                "FailedRecordCount": 1,
                "Records": [
                    {"SequenceNumber": "1", "ShardId": "shardId-0"},
                    {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "x"},
                ],
            },
            {
                "StreamARN": SHARED,
                "Records": [
                    {"Data": b'{"n":1}', "PartitionKey": "k1"},
                    {"Data": b'{"n":2}', "PartitionKey": "k2"},
                ],
            },
        )
        stub.add_response(
            "put_records",
            {"Records": [{"SequenceNumber": "2", "ShardId": "shardId-0"}]},
            {"StreamARN": SHARED, "Records": [{"Data": b'{"n":2}', "PartitionKey": "k2"}]},
        )
        transport = EdgeTransport(
            Inner(), routes.external, KinesisEmitter(kinesis, sleep=lambda s: None)
        )
        emits = [emit({"n": 1}, "k1", SHARED), emit({"n": 2}, "k2", SHARED)]
        transport.put(SHARED, emits)
        transport.put("t-AToBStream", emits)
        stub.assert_no_pending_responses()
    assert attak == [("t-AToBStream", 2)]


CLICKS = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"


def batch(*data: bytes) -> dict[str, Any]:
    """A Kinesis batch from the existing stream ``clicks``, as Lambda delivers it."""
    return {
        "Records": [
            {
                "eventSource": "aws:kinesis",
                "eventSourceARN": CLICKS,
                "kinesis": {
                    "sequenceNumber": str(i),
                    "partitionKey": f"k{i}",
                    "data": base64.b64encode(d).decode(),
                },
            }
            for i, d in enumerate(data)
        ]
    }


def archive_runner(firehose: Any, seen: list[Any], sleeps: Sleeps) -> Runner:
    """A processor reading ``clicks`` and writing every event to the Firehose ``lake``,
    wired as ``_runner_from_environment`` wires it from a routes file."""
    routes = Routes([{"stream": LAKE, "topic": None, "to": "lake", "external": "firehose"}])

    def handler(event: Any, context: Any) -> None:
        seen.append(event)
        context.emit("archived", event)

    return Runner(
        handler=handler,
        processor="archive",
        topology="edges",
        routes=routes,
        transport=EdgeTransport(
            KinesisEmitter(client("kinesis")),
            routes.external,
            KinesisEmitter(client("kinesis")),
            writer(firehose, sleeps, max_attempts=2),
        ),
        max_hops=16,
    )


def test_an_existing_streams_raw_records_are_events_and_go_out_as_their_json() -> None:
    firehose = client("firehose")
    seen: list[Any] = []
    with Stubber(firehose) as stub:
        stub.add_response(
            "put_record_batch",
            ok(2),
            {"DeliveryStreamName": "lake", "Records": firehose_records([{"page": "/a"}, "hello"])},
        )
        answer = handle_event(
            archive_runner(firehose, seen, Sleeps()), batch(b'{"page": "/a"}', b"hello"), None
        )
        stub.assert_no_pending_responses()
    assert seen == [{"page": "/a"}, "hello"]  # JSON parsed, text as text: no envelope
    assert answer == {"batchItemFailures": []}


def test_writes_that_never_land_fail_the_invocation_so_lambda_retries_and_dead_letters() -> None:
    firehose = client("firehose")
    failing = {
        "FailedPutCount": 1,
        "RequestResponses": [{"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "x"}],
    }
    sleeps = Sleeps()
    with Stubber(firehose) as stub:
        stub.add_response("put_record_batch", failing)
        stub.add_response("put_record_batch", failing)
        with pytest.raises(WriteError, match="delivery stream 'lake'"):
            handle_event(archive_runner(firehose, [], sleeps), batch(b'{"n": 1}'), None)
        stub.assert_no_pending_responses()
    assert len(sleeps) == 1  # retried once, with backoff, before giving up
