"""``Producer``: outside events written into an ingest stream as attak writes its own
records (input envelopes, aggregated, a key's in order), and per event where it landed or
why it did not. Driven through the in-memory Kinesis of ``test_emitter``; no network."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from attak_cdk.runtime.aggregate import unpack
from attak_cdk.runtime.envelope import LOG, MAX_RECORD_BYTES, EmitError, decode
from attak_cdk.runtime.producer import Landing, Producer
from attak_cdk.runtime.records import bucket_hash_key, bucket_of
from tests.unit.test_emitter import STREAM, THROTTLED, FakeKinesis, Sleeps


def producer(kinesis: Any, sleeps: Sleeps | None = None, **kwargs: Any) -> Producer:
    return Producer(
        kinesis, STREAM, sleep=sleeps if sleeps is not None else Sleeps(), jitter=lambda: 1.0,
        **kwargs,
    )  # fmt: skip


def landed_envelope(kinesis: FakeKinesis, landing: Landing) -> dict[str, Any]:
    """The envelope found where ``landing`` says its event is."""
    assert landing.shard is not None and landing.index is not None
    shard = int(landing.shard.removeprefix("shardId-"))
    entry = kinesis.shards[shard][int(str(landing.sequence)) - 1]
    _, data = unpack(entry["Data"], entry["PartitionKey"])[landing.index]
    return decode(data, "")


def test_events_share_few_records_and_each_landing_points_at_its_event() -> None:
    kinesis = FakeKinesis()
    sender = producer(kinesis)
    traces = [sender.send({"n": i, "pad": "p" * 100}) for i in range(3000)]

    landings = sender.flush()

    assert len(kinesis.written()) < 3000 // 100
    assert [landing.trace for landing in landings] == traces
    assert all(landing.sent and landing.error is None for landing in landings)
    for n, landing in enumerate(landings):
        envelope = landed_envelope(kinesis, landing)
        assert (envelope["trace"], envelope["hops"], envelope["data"]["n"]) == (landing.trace, 0, n)
    assert {landing.index for landing in landings} >= {0, 1, 2}


def test_send_gives_the_trace_asked_for_or_a_new_one_and_the_log_mark_when_asked() -> None:
    kinesis = FakeKinesis()
    sender = producer(kinesis)

    given = sender.send("a", trace="trace-a", logged=True)
    drawn = sender.send("b")
    first, second = sender.flush()

    assert given == first.trace == "trace-a"
    assert drawn == second.trace and drawn != given and len(drawn) == 16
    assert landed_envelope(kinesis, first)[LOG] == 1
    assert LOG not in landed_envelope(kinesis, second)


def test_events_with_a_key_keep_it_and_stay_in_order_on_one_shard() -> None:
    kinesis = FakeKinesis()
    sender = producer(kinesis)
    for i in range(600):
        sender.send({"i": i, "pad": "p" * 300}, key=f"user-{i % 3}")

    landings = sender.flush()

    for user in range(3):
        mine = [landing for n, landing in enumerate(landings) if n % 3 == user]
        assert len({landing.shard for landing in mine}) == 1
        places = [(int(str(landing.sequence)), int(landing.index or 0)) for landing in mine]
        assert places == sorted(places)  # later events land later in the shard
    for entry in kinesis.written():
        assert {key for key, _ in unpack(entry["Data"], "")} <= {"user-0", "user-1", "user-2"}


def test_events_of_a_record_that_cannot_be_written_are_reported_with_the_reason() -> None:
    doomed = bucket_hash_key(bucket_of("k0"))
    kinesis = FakeKinesis(
        refuse=lambda e: THROTTLED if e.get("ExplicitHashKey") == doomed else None
    )
    sleeps = Sleeps()
    sender = producer(kinesis, sleeps, max_attempts=3)
    for i in range(30):
        sender.send(i, key=f"k{i % 3}")

    landings = sender.flush()

    lost = [landing for n, landing in enumerate(landings) if n % 3 == 0]
    written = [landing for n, landing in enumerate(landings) if n % 3 != 0]
    assert all(landing.sent for landing in written) and len(written) == 20
    assert all(not landing.sent and landing.shard is None for landing in lost)
    assert {landing.error for landing in lost} == {
        f"not written to stream '{STREAM}': a record failed 3 attempts (3x {THROTTLED})"
    }
    assert len(sleeps.delays) == 2


def test_a_stream_that_refuses_the_call_leaves_every_event_unsent_with_the_reason() -> None:
    class Missing:
        def put_records(self, **request: Any) -> dict[str, Any]:
            error = {"Code": "ResourceNotFoundException", "Message": "no such stream"}
            meta = {"HTTPStatusCode": 400}
            raise ClientError({"Error": error, "ResponseMetadata": meta}, "PutRecords")  # type: ignore[typeddict-item]

    sender = producer(Missing())
    sender.send(1)
    sender.send(2)

    landings = sender.flush()

    assert [landing.sent for landing in landings] == [False, False]
    assert landings[0].error is not None
    assert landings[0].error.startswith(
        f"not written to stream '{STREAM}': PutRecords was refused: ResourceNotFoundException"
    )


def test_an_sdk_failure_before_any_call_leaves_every_event_unsent_with_the_reason() -> None:
    class NoCredentials:
        def put_records(self, **request: Any) -> dict[str, Any]:
            raise NoCredentialsError()

    sender = producer(NoCredentials())
    sender.send(1)

    (landing,) = sender.flush()

    assert not landing.sent
    assert landing.error == f"not written to stream '{STREAM}': Unable to locate credentials"


@pytest.mark.parametrize(
    ("data", "key", "message"),
    [
        ({1, 2}, None, "input is not JSON-serializable"),
        ("x", "", "key must be a string of 1 to 256 characters"),
        ("x", "k" * 257, "key must be a string of 1 to 256 characters"),
        ("x" * MAX_RECORD_BYTES, None, "over Kinesis' limit of 1048576 (1 MiB)"),
        ("\ud800", None, "data is not valid UTF-8 text"),
    ],
)
def test_an_event_that_cannot_be_a_record_is_refused_at_send(
    data: Any, key: str | None, message: str
) -> None:
    kinesis = FakeKinesis()
    sender = producer(kinesis)

    with pytest.raises(EmitError, match=re.escape(message)):
        sender.send(data, key=key)

    assert sender.buffered_bytes == 0 and sender.flush() == [] and kinesis.requests == []


def test_flush_writes_what_is_buffered_once() -> None:
    kinesis = FakeKinesis()
    sender = producer(kinesis)
    sender.send("a")
    assert sender.buffered_bytes > 0

    assert len(sender.flush()) == 1
    assert sender.buffered_bytes == 0
    assert sender.flush() == []
    assert len(kinesis.requests) == 1
