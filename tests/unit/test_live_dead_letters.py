"""dead letters of a deployed topology: the three shapes read, filters, listing without
taking anything out, and replay that removes a letter only once it was accepted."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from attak_cdk.live.connection import LiveError
from attak_cdk.live.dead_letters import (
    DeadLetterError,
    Queues,
    find_letter,
    list_queues,
    plan,
    replay,
    select,
)
from attak_cdk.live.deployment import DeployedProcessor, Deployment
from attak_cdk.live.letters import Selection, read_letter
from attak_cdk.runtime.aggregate import unpack
from attak_cdk.runtime.envelope import decode

INGEST = "shop-Ingest"
BILLING = "shop-OrdersBilling"
DEPLOYMENT = Deployment(
    topology="shop",
    stacks=("shop",),
    processors={
        "orders": DeployedProcessor(
            "orders", "shop-Orders", "og", dead_letter_queue="q-orders", ingest_stream=INGEST
        ),
        "billing": DeployedProcessor(
            "billing", "shop-Billing", "bg", dead_letter_queue="q-billing"
        ),
        "audit": DeployedProcessor("audit", "shop-Audit", "ag", dead_letter_queue="q-audit"),
    },
    streams={"input->orders": INGEST, "orders->billing": BILLING},
)
ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/"


def event_letter(
    processor: str = "billing", trace: str = "t1", data: Any = None, **more: Any
) -> dict[str, Any]:
    """A letter as the runtime writes it (runtime/dead_letters.letter)."""
    return {
        "attak": "dead-letter", "v": 1, "processor": processor, "stream": BILLING,
        "sequence": "495", "error": "ValueError: bad order",
        "traceback": "Traceback (most recent call last):\n  File \"billing.py\"\nValueError: bad order\n",
        "attempts": 3, "time": 1000.0, "trace": trace, "topic": "billed",
        "sender": "orders", "hops": 1, "data": {"order": 1} if data is None else data, **more,
    }  # fmt: skip


def batch_record(stream: str = BILLING, start: str = "100", end: str = "101") -> dict[str, Any]:
    """Lambda's on-failure record for Kinesis records (kinesis-on-failure-destination)."""
    return {
        "requestContext": {"requestId": "r", "functionArn": "arn:aws:lambda:f",
                           "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                            "functionError": "Unhandled"},
        "version": "1.0", "timestamp": "2026-11-27T10:00:00.000Z",
        "KinesisBatchInfo": {"shardId": "shardId-000000000000", "startSequenceNumber": start,
                             "endSequenceNumber": end, "batchSize": 2, "streamArn": ARN + stream,
                             "approximateArrivalOfFirstRecord": "2026-11-27T09:59:00.000Z",
                             "approximateArrivalOfLastRecord": "2026-11-27T09:59:01.000Z"},
    }  # fmt: skip


def invoke_record(trace: str = "t9") -> dict[str, Any]:
    """Lambda's invocation record of an asynchronous invoke that failed every attempt."""
    return {
        "version": "1.0", "timestamp": "2026-11-27T10:00:00.000Z",
        "requestContext": {"requestId": "r", "functionArn": "arn:aws:lambda:f:$LATEST",
                           "condition": "RetriesExhausted", "approximateInvokeCount": 3},
        "requestPayload": {"v": 1, "trace": trace, "log": 1, "data": "daily check"},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                            "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": "audit down", "errorType": "RuntimeError"},
    }  # fmt: skip


class FakeSqs:
    """Queues with SQS's visibility rules: a message received is hidden until its timeout
    (``now`` is advanced by the test) or until made visible again; counts kept."""

    def __init__(self) -> None:
        self.queues: dict[str, list[dict[str, Any]]] = {}
        self.now = 1_000_000.0
        self.receipts = 0
        self.fail_delete = False

    def put(self, url: str, body: Any, sent: float) -> str:
        messages = self.queues.setdefault(url, [])
        number = sum(len(q) for q in self.queues.values()) + 1
        message_id = f"m{number}"
        text = body if isinstance(body, str) else json.dumps(body)
        messages.append({"id": message_id, "body": text, "sent": sent, "hidden": 0.0,
                         "receipt": None, "count": 0})  # fmt: skip
        return message_id

    def ids(self, url: str) -> list[str]:
        return [m["id"] for m in self.queues.get(url, [])]

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        messages = self.queues.get(QueueUrl, [])
        held = sum(1 for m in messages if m["hidden"] > self.now)
        return {"Attributes": {"ApproximateNumberOfMessages": str(len(messages) - held),
                               "ApproximateNumberOfMessagesNotVisible": str(held)}}  # fmt: skip

    def receive_message(self, QueueUrl: str, MaxNumberOfMessages: int, VisibilityTimeout: int,
                        **_: Any) -> dict[str, Any]:  # fmt: skip
        out = []
        for message in self.queues.get(QueueUrl, []):
            if len(out) == MaxNumberOfMessages:
                break
            if message["hidden"] > self.now:
                continue
            self.receipts += 1
            message.update(hidden=self.now + VisibilityTimeout, receipt=f"r{self.receipts}")
            message["count"] += 1
            out.append({"MessageId": message["id"], "ReceiptHandle": message["receipt"],
                        "Body": message["body"],
                        "Attributes": {"SentTimestamp": str(int(message["sent"] * 1000)),
                                       "ApproximateReceiveCount": str(message["count"])}})  # fmt: skip
        return {"Messages": out}

    def _find(self, url: str, receipt: str) -> dict[str, Any] | None:
        return next((m for m in self.queues.get(url, []) if m["receipt"] == receipt), None)

    def change_message_visibility_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> None:
        for entry in Entries:
            message = self._find(QueueUrl, entry["ReceiptHandle"])
            if message is not None:
                message["hidden"] = self.now + entry["VisibilityTimeout"]

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        if self.fail_delete:
            return {"Failed": [{"Id": e["Id"], "Code": "ReceiptHandleIsInvalid", "Message": "old"}
                               for e in Entries]}  # fmt: skip
        for entry in Entries:
            message = self._find(QueueUrl, entry["ReceiptHandle"])
            if message is not None:
                self.queues[QueueUrl].remove(message)
        return {"Successful": [{"Id": e["Id"]} for e in Entries]}


class FakeKinesis:
    """Streams of records; PutRecords calls listed in ``refuse_calls`` are refused."""

    def __init__(self, refuse_calls: set[int] | None = None, crash_call: int = 0) -> None:
        self.written: dict[str, list[dict[str, Any]]] = {}
        self.stored: dict[str, list[dict[str, Any]]] = {}
        self.calls = 0
        self.refuse_calls = refuse_calls or set()
        self.crash_call = crash_call

    def put_records(self, Records: list[dict[str, Any]], StreamName: str) -> dict[str, Any]:
        self.calls += 1
        if self.calls == self.crash_call:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or the process killed, mid-way
        if self.calls in self.refuse_calls:
            error = {"Error": {"Code": "AccessDeniedException", "Message": "denied"}}
            raise ClientError(error, "PutRecords")  # type: ignore[arg-type]
        self.written.setdefault(StreamName, []).extend(Records)
        return {"FailedRecordCount": 0,
                "Records": [{"ShardId": "shardId-0", "SequenceNumber": str(i)}
                            for i in range(len(Records))]}  # fmt: skip

    def events(self, stream: str) -> list[dict[str, Any]]:
        return [decode(data, "") for r in self.written.get(stream, [])
                for _, data in unpack(r["Data"], r["PartitionKey"])]  # fmt: skip

    def get_shard_iterator(self, StreamName: str, StartingSequenceNumber: str, **_: Any) -> dict[str, Any]:  # fmt: skip
        records = self.stored.get(StreamName)
        if records is None:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "gone"}},  # type: ignore[arg-type]
                              "GetShardIterator")  # fmt: skip
        return {"ShardIterator": StartingSequenceNumber}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        records = [
            r for r in self.stored[self._name()] if int(r["SequenceNumber"]) >= int(ShardIterator)
        ]
        return {"Records": records, "MillisBehindLatest": 0, "NextShardIterator": None}

    def _name(self) -> str:
        return next(iter(self.stored))


class FakeLambda:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def invoke(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        return {"StatusCode": 202}


def queues(sqs: FakeSqs) -> Queues:
    return Queues(DEPLOYMENT, sqs, wait=0)


def no_wait(_: float) -> None:
    pass


# --- reading the three shapes -------------------------------------------------------------


def message(body: Any, sent_ms: int = 1_700_000_000_000) -> dict[str, Any]:
    return {"MessageId": "m", "ReceiptHandle": "r", "Body": json.dumps(body),
            "Attributes": {"SentTimestamp": str(sent_ms), "ApproximateReceiveCount": "2"}}  # fmt: skip


def test_a_runtime_letter_carries_its_event_error_traceback_and_trace() -> None:
    letter = read_letter("billing", message(event_letter()))
    assert letter.kind == "event"
    assert (letter.trace, letter.stream, letter.attempts) == ("t1", BILLING, 3)
    assert letter.data == {"order": 1}
    assert letter.error == "ValueError: bad order"
    assert "billing.py" in letter.traceback
    assert letter.sent == 1_700_000_000.0
    assert letter.receives == 2


def test_binary_data_of_a_runtime_letter_is_bytes_again() -> None:
    document = event_letter()
    del document["data"]
    document["data_base64"] = base64.b64encode(b"\x00\xff").decode()
    letter = read_letter("billing", message(document))
    assert letter.data == b"\x00\xff"
    assert letter.as_dict()["data"] == {"base64": "AP8="}


def test_a_lambda_batch_record_points_at_its_records_and_has_no_data() -> None:
    letter = read_letter("billing", message(batch_record()))
    assert letter.kind == "batch"
    assert letter.batch is not None
    assert (letter.batch.shard, letter.batch.start, letter.batch.end) == (
        "shardId-000000000000", "100", "101",
    )  # fmt: skip
    assert letter.stream == BILLING
    assert letter.data is None and not letter.has_data
    assert letter.trace is None
    assert letter.attempts == 4
    assert letter.error == "RetryAttemptsExhausted, function error: Unhandled"


def test_a_direct_invocation_record_gives_its_payload_trace_and_error() -> None:
    letter = read_letter("audit", message(invoke_record()))
    assert letter.kind == "invoke"
    assert letter.trace == "t9"
    assert letter.data == "daily check"
    assert letter.error == "RuntimeError: audit down (RetriesExhausted)"
    assert letter.stream is None


def test_a_message_of_another_shape_is_unknown_and_never_replayed() -> None:
    letter = read_letter("audit", {"MessageId": "m", "ReceiptHandle": "r", "Body": "hello"})
    assert letter.kind == "unknown"
    (item,) = plan(DEPLOYMENT, [letter])
    assert item.via == "skip" and item.error is not None


# --- filters ---------------------------------------------------------------------------------


def test_every_filter_given_must_match() -> None:
    letter = read_letter("billing", message(event_letter(trace="abc"), sent_ms=2_000_000))
    assert Selection().matches(letter)
    assert Selection(processors=["billing"], trace="abc", since=2000, until=2000).matches(letter)
    assert not Selection(processors=["orders"]).matches(letter)
    assert not Selection(trace="abd").matches(letter)
    assert not Selection(since=2000.001).matches(letter)
    assert not Selection(until=1999.999).matches(letter)


def test_a_filter_matching_nothing_names_the_option() -> None:
    sqs = FakeSqs()
    sqs.put("q-billing", event_letter(trace="abc"), 1000)
    with pytest.raises(
        DeadLetterError, match=r"no dead letter matches --trace nope .*1 letters read"
    ):
        select(queues(sqs), Selection(trace="nope"))
    # Nothing is held back by the attempt: the letter is visible again at once.
    assert queues(sqs).read("billing", hold=1).letters


def test_a_filter_on_empty_queues_says_they_are_empty() -> None:
    with pytest.raises(DeadLetterError, match=r"--processor audit: .*audit are empty"):
        select(queues(FakeSqs()), Selection(processors=["audit"]))


def test_an_unknown_processor_is_named_with_the_processors_there() -> None:
    with pytest.raises(LiveError, match=r"'biling' is not in the deployed.*did you mean 'billing'"):
        select(queues(FakeSqs()), Selection(processors=["biling"]))


# --- listing and showing ----------------------------------------------------------------------


def test_listing_counts_each_queue_and_takes_nothing_out() -> None:
    sqs = FakeSqs()
    for sent in (300, 100, 200):
        sqs.put("q-billing", event_letter(), sent)
    sqs.put("q-audit", invoke_record(), 50)
    found = {q.processor: q for q in list_queues(queues(sqs))}
    assert (found["billing"].count, found["billing"].oldest, found["billing"].newest) == (
        3, 100.0, 300.0,
    )  # fmt: skip
    assert found["billing"].exact
    assert (found["orders"].count, found["audit"].count) == (0, 1)
    # Released: a second listing (another operator, a replay) sees every letter at once.
    assert [q.count for q in list_queues(queues(sqs))] == [0, 3, 1]


def test_a_queue_read_past_the_limit_or_held_elsewhere_is_counted_approximately() -> None:
    sqs = FakeSqs()
    for sent in range(5):
        sqs.put("q-billing", event_letter(), sent)
    (limited,) = list_queues(queues(sqs), ["billing"], limit=2)
    assert not limited.exact and limited.count == 5 and len(limited.letters) == 2
    queues(sqs).read("billing", hold=60, limit=1)  # another reader holds one
    (held,) = list_queues(queues(sqs), ["billing"])
    assert not held.exact and held.held == 1 and held.count == 5


def test_show_finds_a_letter_by_id_or_trace() -> None:
    sqs = FakeSqs()
    sqs.put("q-billing", event_letter(trace="t1"), 10)
    wanted = sqs.put("q-audit", invoke_record(trace="t9"), 20)
    assert find_letter(queues(sqs), wanted).trace == "t9"
    assert find_letter(queues(sqs), "t1").processor == "billing"
    with pytest.raises(DeadLetterError, match="no dead letter has the id or trace id 'zz'"):
        find_letter(queues(sqs), "zz")


# --- replay -----------------------------------------------------------------------------------


def test_a_runtime_letter_goes_back_into_its_stream_as_the_envelope_it_was() -> None:
    sqs, kinesis = FakeSqs(), FakeKinesis()
    sqs.put("q-billing", event_letter(trace="t1", data={"order": 7}), 10)
    chosen, _ = select(queues(sqs), Selection(trace="t1"))
    done = replay(plan(DEPLOYMENT, chosen), queues(sqs), kinesis, FakeLambda(), sleep=no_wait)
    assert [(r.via, r.target, r.accepted, r.deleted) for r in done] == [
        ("stream", BILLING, True, True)
    ]
    (envelope,) = kinesis.events(BILLING)
    assert (envelope["data"], envelope["trace"], envelope["topic"]) == (
        {"order": 7},
        "t1",
        "billed",
    )
    assert (envelope["from"], envelope["hops"], envelope["log"]) == ("orders", 1, 1)
    assert sqs.ids("q-billing") == []


def test_outside_input_goes_back_at_hop_0_and_binary_data_as_its_bytes() -> None:
    sqs, kinesis = FakeSqs(), FakeKinesis()
    ingest = event_letter("orders", trace="t2", data="plain", stream=INGEST, topic=None,
                          sender=None, hops=0)  # fmt: skip
    binary = event_letter("orders", trace="t3", stream=INGEST, topic=None, sender=None, hops=0)
    del binary["data"]
    binary["data_base64"] = base64.b64encode(b"\xff\xfe").decode()
    sqs.put("q-orders", ingest, 1)
    sqs.put("q-orders", binary, 2)
    chosen, _ = select(queues(sqs), Selection(processors=["orders"]))
    replay(plan(DEPLOYMENT, chosen), queues(sqs), kinesis, FakeLambda(), sleep=no_wait)
    events = kinesis.events(INGEST)
    assert [(e["data"], e["trace"], e["from"], e["hops"]) for e in events] == [
        ("plain", "t2", None, 0),
        (b"\xff\xfe", events[1]["trace"], None, 0),
    ]
    assert sqs.ids("q-orders") == []


def test_a_direct_invocation_is_invoked_again_with_its_payload() -> None:
    sqs, functions = FakeSqs(), FakeLambda()
    sqs.put("q-audit", invoke_record(trace="t9"), 1)
    chosen, _ = select(queues(sqs), Selection(processors=["audit"]))
    replay(plan(DEPLOYMENT, chosen), queues(sqs), FakeKinesis(), functions, sleep=no_wait)
    (call,) = functions.calls
    assert call["FunctionName"] == "shop-Audit" and call["InvocationType"] == "Event"
    assert json.loads(call["Payload"]) == invoke_record(trace="t9")["requestPayload"]
    assert sqs.ids("q-audit") == []


def test_a_batch_record_s_records_are_read_back_and_written_again() -> None:
    sqs, kinesis = FakeSqs(), FakeKinesis()
    kinesis.stored[BILLING] = [
        {"SequenceNumber": str(n), "PartitionKey": f"k{n}", "Data": f"record {n}".encode()}
        for n in (99, 100, 101, 102)
    ]
    sqs.put("q-billing", batch_record(start="100", end="101"), 1)
    chosen, _ = select(queues(sqs), Selection(processors=["billing"]))
    (done,) = replay(plan(DEPLOYMENT, chosen), queues(sqs), kinesis, FakeLambda(), sleep=no_wait)
    assert done.deleted
    assert [(r["PartitionKey"], r["Data"]) for r in kinesis.written[BILLING]] == [
        ("k100", b"record 100"), ("k101", b"record 101"),
    ]  # fmt: skip


def test_a_batch_record_whose_records_expired_stays_in_its_queue() -> None:
    sqs, kinesis = FakeSqs(), FakeKinesis()
    kinesis.stored[BILLING] = [{"SequenceNumber": "150", "PartitionKey": "k", "Data": b"x"}]
    letter_id = sqs.put("q-billing", batch_record(start="100", end="101"), 1)
    chosen, _ = select(queues(sqs), Selection(processors=["billing"]))
    (done,) = replay(plan(DEPLOYMENT, chosen), queues(sqs), kinesis, FakeLambda(), sleep=no_wait)
    assert not done.accepted and done.error is not None and "expired" in done.error
    assert BILLING not in kinesis.written
    assert sqs.ids("q-billing") == [letter_id]
    assert queues(sqs).read("billing", hold=1).letters  # released for the next try


def test_a_letter_of_a_stream_no_longer_deployed_is_not_replayed() -> None:
    sqs = FakeSqs()
    sqs.put("q-billing", event_letter(stream="shop-Gone"), 1)
    chosen, _ = select(queues(sqs), Selection())
    (item,) = plan(DEPLOYMENT, chosen)
    assert item.via == "skip" and "shop-Gone" in (item.error or "")


def test_replay_stopped_half_way_loses_nothing() -> None:
    sqs = FakeSqs()
    ids = [sqs.put("q-billing", event_letter(trace=f"t{n}", data={"n": n}), n) for n in range(6)]
    kinesis = FakeKinesis(crash_call=2)  # the second chunk's PutRecords never returns
    chosen, _ = select(queues(sqs), Selection(processors=["billing"]))
    with pytest.raises(KeyboardInterrupt):
        replay(plan(DEPLOYMENT, chosen), queues(sqs), kinesis, FakeLambda(), chunk=2, sleep=no_wait)
    # The first chunk was written, then removed; every other letter is still queued and
    # visible again for the next replay.
    assert [e["data"]["n"] for e in kinesis.events(BILLING)] == [0, 1]
    assert sqs.ids("q-billing") == ids[2:]
    again, _ = select(queues(sqs), Selection(processors=["billing"]))
    assert sorted(letter.trace or "" for letter in again) == [f"t{n}" for n in range(2, 6)]


def test_letters_the_stream_refused_stay_while_the_others_go() -> None:
    sqs = FakeSqs()
    ids = [sqs.put("q-billing", event_letter(trace=f"t{n}", data={"n": n}), n) for n in range(6)]
    kinesis = FakeKinesis(refuse_calls={2})  # the second chunk is refused
    chosen, _ = select(queues(sqs), Selection(processors=["billing"]))
    done = replay(
        plan(DEPLOYMENT, chosen), queues(sqs), kinesis, FakeLambda(), chunk=2, sleep=no_wait
    )
    assert [r.deleted for r in done] == [True, True, False, False, True, True]
    assert all("AccessDeniedException" in (r.error or "") for r in done[2:4])
    assert sqs.ids("q-billing") == ids[2:4]


def test_a_letter_replayed_but_not_deleted_says_it_may_come_twice() -> None:
    sqs = FakeSqs()
    sqs.put("q-billing", event_letter(), 1)
    sqs.fail_delete = True
    chosen, _ = select(queues(sqs), Selection())
    (done,) = replay(
        plan(DEPLOYMENT, chosen), queues(sqs), FakeKinesis(), FakeLambda(), sleep=no_wait
    )
    assert done.accepted and not done.deleted
    assert "not removed from its queue" in (done.error or "")
