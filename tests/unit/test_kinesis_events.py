"""The Kinesis engine's pieces that need no endpoint: events, batch responses, names, faults."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from attak_cdk.model import StreamSettings
from attak_cdk.runtime.handler import is_kinesis_event, kinesis_records
from attak_cdk.simulate.engine import batch_failed
from attak_cdk.simulate.faults import THROTTLED, _merge
from attak_cdk.simulate.lambda_events import failed_index, kinesis_event
from attak_cdk.simulate.memory import Lane
from attak_cdk.simulate.resources import physical_name

ARN = "arn:aws:kinesis:us-east-1:000000000000:stream/s"


def read(sequence: str, data: bytes, key: str = "k") -> dict[str, object]:
    """A record as GetRecords returns it through boto3."""
    return {
        "SequenceNumber": sequence,
        "Data": data,
        "PartitionKey": key,
        "ApproximateArrivalTimestamp": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    }


def test_event_is_what_lambda_delivers_and_the_runtime_reads_back() -> None:
    records = [read("49590338271490256608559692538361571095921575989136588898", b'{"v":1}')]
    event = kinesis_event(records, ARN, "shardId-000000000000", "us-east-1")
    (entry,) = event["Records"]
    assert entry["eventSource"] == "aws:kinesis"
    assert entry["eventSourceARN"] == ARN
    assert entry["eventID"] == f"shardId-000000000000:{records[0]['SequenceNumber']}"
    assert entry["kinesis"]["data"] == "eyJ2IjoxfQ=="  # base64, as Lambda sends it
    assert entry["kinesis"]["approximateArrivalTimestamp"] == 1767323045.0
    json.dumps(event)  # a JSON document, like any Lambda event
    assert is_kinesis_event(event)
    (record,) = kinesis_records(event)
    assert (record.sequence, record.key, record.payload) == (
        records[0]["SequenceNumber"],
        "k",
        b'{"v":1}',
    )


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ({"batchItemFailures": []}, None),
        (None, None),
        ({}, None),
        ({"batchItemFailures": [{"itemIdentifier": "3"}]}, 2),
        ({"batchItemFailures": [{"itemIdentifier": "4"}, {"itemIdentifier": "2"}]}, 1),
        ({"batchItemFailures": [{"itemIdentifier": "9"}]}, 0),  # not in the batch: all
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, 0),
        ({"batchItemFailures": [{}]}, 0),
    ],
)
def test_partial_batch_response_is_read_as_lambda_reads_it(
    response: object, expected: int | None
) -> None:
    assert failed_index(response, ["1", "2", "3", "4"]) == expected


def test_stream_names_are_valid_and_unique_per_run() -> None:
    long_id = "A" * 200 + "Stream"
    for name in (
        physical_name("ab12cd34", "SpoutToSinkStream"),
        physical_name("ab12cd34", long_id),
    ):
        assert re.fullmatch(r"[A-Za-z0-9_.-]{1,128}", name)
    assert physical_name("ab12cd34", long_id) != physical_name("ab12cd34", long_id + "X")
    assert physical_name("a", "S") != physical_name("b", "S")


def test_a_failed_invocation_is_bisected_before_retries_count() -> None:
    settings = StreamSettings(retry_attempts=1, bisect_batch_on_error=True)
    shard = Lane()
    assert not batch_failed(shard, settings, index=0, remaining=4, whole=True)  # bisect to 2
    assert shard.window == 2
    assert not batch_failed(shard, settings, index=0, remaining=2, whole=True)  # bisect to 1
    assert not batch_failed(shard, settings, index=0, remaining=1, whole=True)  # a retry
    assert batch_failed(shard, settings, index=0, remaining=1, whole=True)  # retries used up
    assert shard.failures == 4


def test_a_partial_response_splits_at_its_record_and_retries_the_rest_counted() -> None:
    # AWS: with bisect on, the batch is split at the returned sequence number and only the
    # remaining records are retried (Lambda guide, partial batch response with Kinesis).
    settings = StreamSettings(retry_attempts=1, bisect_batch_on_error=True)
    shard = Lane()
    assert not batch_failed(shard, settings, index=1, remaining=3, whole=False)
    assert (shard.window, shard.counted) == (3, 1)  # the remaining 3, no halving, counted
    assert batch_failed(shard, settings, index=0, remaining=3, whole=False)  # used up


def test_records_before_the_failing_one_reset_the_count() -> None:
    settings = StreamSettings(retry_attempts=0, bisect_batch_on_error=False)
    shard = Lane(failures=3, counted=3)
    assert batch_failed(shard, settings, index=2, remaining=1, whole=False)
    assert (shard.failures, shard.counted) == (1, 1)


def test_fault_proxy_puts_throttled_entries_back_in_place() -> None:
    written = {"FailedRecordCount": 0, "Records": [{"SequenceNumber": "1", "ShardId": "s"}]}
    merged = json.loads(_merge(json.dumps(written).encode(), [0, 2], 3))
    assert merged["FailedRecordCount"] == 2
    assert merged["Records"][0] == THROTTLED
    assert merged["Records"][1]["SequenceNumber"] == "1"
    assert merged["Records"][2]["ErrorCode"] == "ProvisionedThroughputExceededException"
