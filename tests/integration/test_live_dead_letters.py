"""`attak dead-letters list | show | replay` against a topology the real cdk CLI deployed
into a moto server.

moto's Lambda runs no code, so the letters are put into the deployed queues here, in the
three shapes the runtime and Lambda write them (the runtime's letter of one event, Lambda's
on-failure record of Kinesis records, Lambda's record of a failed asynchronous invoke);
the commands then read them, show them, and send them back, and boto3 reads what landed
in the streams and what is left in the queues.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest_live import (
    DEPLOY_SECONDS,
    Client,
    attak,
    deploy,
    invocation_attempts,
    landed_events,
    manifest,
    read_stream,
    wait_for,
)
from tests.integration.conftest_live import sample as sample  # the fixture, shared

pytestmark = [pytest.mark.live, pytest.mark.slow]

TOPOLOGY = {
    "topology.yml": """
        name: live-letters
        processors:
          orders: {handler: ./orders.py, input: stream}
          billing: ./billing.py
          audit: ./audit.py
        streams:
          - [orders, billing, billed]
        """,
    "orders.py": "def handler(event, context):\n    context.emit('billed', event)\n",
    "billing.py": "def handler(event, context):\n    raise ValueError('bad order')\n",
    "audit.py": "def handler(event, context):\n    pass\n",
}


@pytest.fixture(scope="module")
def moto_server(shared_moto_server: str) -> str:
    return shared_moto_server


@pytest.fixture(scope="module")
def deployed(
    sample: dict[str, Any], moto_server: str, aws: Client, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("letters")
    for name, text in TOPOLOGY.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip("\n"))
    DEPLOY_SECONDS[str(folder)] = deploy(
        folder, moto_server, tmp_path_factory.mktemp("letters.out")
    )
    return folder, manifest(aws, "live-letters")


def queue_of(deployed: dict[str, Any], processor: str) -> str:
    return str(deployed["processors"][processor]["dead_letter_queue"])


def queued(aws: Client, url: str) -> int:
    attributes = aws("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def put_letters(aws: Client, deployed: dict[str, Any]) -> dict[str, Any]:
    """One letter of each shape into the deployed queues; what the test needs to check."""
    sqs, kinesis = aws("sqs"), aws("kinesis")
    billed = deployed["streams"]["orders->billing[billed]"]
    # Records that failed as a whole, already in the stream (Lambda's record points at them).
    first = kinesis.put_record(StreamName=billed, Data=b'{"v":1,"data":"r1"}', PartitionKey="a")
    second = kinesis.put_record(StreamName=billed, Data=b'{"v":1,"data":"r2"}', PartitionKey="a")
    before = len(read_stream(aws, billed))
    arn = kinesis.describe_stream_summary(StreamName=billed)["StreamDescriptionSummary"][
        "StreamARN"
    ]
    event = {
        "attak": "dead-letter", "v": 1, "processor": "billing", "stream": billed,
        "sequence": "4960", "error": "ValueError: bad order",
        "traceback": 'Traceback (most recent call last):\n  File "billing.py", line 2, '
                     "in handler\nValueError: bad order\n",
        "attempts": 3, "time": 1.0, "trace": "feedc0de00000001", "topic": "billed",
        "sender": "orders", "hops": 1, "data": {"order": 42},
    }  # fmt: skip
    batch = {
        "requestContext": {"requestId": "1", "functionArn": "arn:aws:lambda:us-east-1:1:function:f",
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                            "functionError": "Unhandled"},
        "version": "1.0", "timestamp": "2026-11-27T10:00:00.000Z",
        "KinesisBatchInfo": {"shardId": first["ShardId"],
                             "startSequenceNumber": first["SequenceNumber"],
                             "endSequenceNumber": second["SequenceNumber"], "batchSize": 2,
                             "streamArn": arn},
    }  # fmt: skip
    invoke = {
        "version": "1.0", "timestamp": "2026-11-27T10:00:00.000Z",
        "requestContext": {"requestId": "2", "functionArn": "arn:aws:lambda:us-east-1:1:function:a",
                           "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": {"v": 1, "trace": "feedc0de00000002", "log": 1, "data": "daily check"},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                            "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "audit down", "errorType": "RuntimeError"},
    }  # fmt: skip
    billing, audit = queue_of(deployed, "billing"), queue_of(deployed, "audit")
    ids = {
        "event": sqs.send_message(QueueUrl=billing, MessageBody=json.dumps(event))["MessageId"],
        "batch": sqs.send_message(QueueUrl=billing, MessageBody=json.dumps(batch))["MessageId"],
        "invoke": sqs.send_message(QueueUrl=audit, MessageBody=json.dumps(invoke))["MessageId"],
    }
    return {"ids": ids, "stream": billed, "records_before": before}


@pytest.fixture(scope="module")
def letters(deployed: tuple[Path, dict[str, Any]], aws: Client) -> dict[str, Any]:
    return put_letters(aws, deployed[1])


def test_list_counts_each_processor_s_letters_and_leaves_them_there(
    deployed: tuple[Path, dict[str, Any]], letters: dict[str, Any], moto_server: str, aws: Client
) -> None:
    folder, manifest_ = deployed
    result = attak("dead-letters", "list", str(folder), "--endpoint-url", moto_server, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    counts = {q["processor"]: (q["count"], q["exact"]) for q in document["queues"]}
    assert counts == {"orders": (0, True), "billing": (2, True), "audit": (1, True)}
    assert {letter["id"] for letter in document["letters"]} == set(letters["ids"].values())
    # Nothing was taken out, and nothing stays hidden.
    assert queued(aws, queue_of(manifest_, "billing")) == 2
    human = attak("dead-letters", "list", str(folder), "--endpoint-url", moto_server, "--letters")
    assert human.exit_code == 0, human.output
    assert "3 dead letters" in human.stdout
    assert "ValueError: bad order" in human.stdout


def test_show_gives_a_letter_in_full_and_a_batch_record_s_records(
    deployed: tuple[Path, dict[str, Any]], letters: dict[str, Any], moto_server: str
) -> None:
    folder, _ = deployed
    event = attak(
        "dead-letters", "show", str(folder), letters["ids"]["event"], "--endpoint-url", moto_server
    )
    assert event.exit_code == 0, event.output
    for expected in (
        "feedc0de00000001",
        "ValueError: bad order",
        'File "billing.py"',
        '"order": 42',
        "attempts: 3",
    ):
        assert expected in event.stdout
    batch = attak(
        "dead-letters", "show", str(folder), letters["ids"]["batch"],
        "--endpoint-url", moto_server, "--json",
    )  # fmt: skip
    assert batch.exit_code == 0, batch.output
    document = json.loads(batch.stdout)
    assert document["kind"] == "batch" and document["records_missing"] is None
    assert [r["key"] for r in document["records"]] == ["a", "a"]


def test_a_filter_matching_nothing_names_the_option(
    deployed: tuple[Path, dict[str, Any]], letters: dict[str, Any], moto_server: str, aws: Client
) -> None:
    folder, manifest_ = deployed
    result = attak(
        "dead-letters", "replay", str(folder), "--trace", "nope", "--endpoint-url", moto_server
    )
    assert result.exit_code == 1
    assert "no dead letter matches --trace nope" in result.stderr
    assert queued(aws, queue_of(manifest_, "billing")) == 2


def test_replay_sends_each_letter_back_where_it_came_from_and_empties_the_queues(
    deployed: tuple[Path, dict[str, Any]], letters: dict[str, Any], moto_server: str, aws: Client
) -> None:
    folder, manifest_ = deployed
    dry = attak(
        "dead-letters", "replay", str(folder), "--all", "--dry-run", "--endpoint-url", moto_server
    )
    assert dry.exit_code == 0, dry.output
    assert "3 letters would be replayed" in dry.stdout
    assert queued(aws, queue_of(manifest_, "billing")) == 2
    result = attak(
        "dead-letters", "replay", str(folder), "--all", "--endpoint-url", moto_server, "--json"
    )
    assert result.exit_code == 0, result.output
    replays = {r["kind"]: r for r in json.loads(result.stdout)["letters"]}
    assert all(r["accepted"] and r["deleted"] for r in replays.values())
    stream = letters["stream"]
    assert replays["event"]["target"] == replays["batch"]["target"] == stream
    # The event went back as its envelope; the batch's two records as they were.
    events = [e for e in landed_events(aws, stream).values() if e["trace"] == "feedc0de00000001"]
    (envelope,) = events
    assert (envelope["data"], envelope["topic"], envelope["from"], envelope["hops"]) == (
        {"order": 42}, "billed", "orders", 1,
    )  # fmt: skip
    written = [r["Data"] for r in read_stream(aws, stream)]
    assert written.count(b'{"v":1,"data":"r1"}') == written.count(b'{"v":1,"data":"r2"}') == 2
    assert len(written) == letters["records_before"] + 3
    audit = manifest_["processors"]["audit"]["function"]
    assert wait_for(lambda: invocation_attempts(aws, audit) > 0)
    assert queued(aws, queue_of(manifest_, "billing")) == 0
    assert queued(aws, queue_of(manifest_, "audit")) == 0
