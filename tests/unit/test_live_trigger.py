"""trigger: routing, aggregation into few records, where each event landed, retries of
throttled calls and records, nothing dropped."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from attak_cdk.inputs import InputEvent
from attak_cdk.live.connection import LiveError
from attak_cdk.live.deployment import DeployedProcessor, Deployment
from attak_cdk.live.trigger import FLUSH_BYTES, plan, send
from attak_cdk.runtime.aggregate import unpack
from attak_cdk.runtime.envelope import Envelope, decode

DEPLOYMENT = Deployment(
    topology="shop",
    stacks=("shop",),
    processors={
        "orders": DeployedProcessor("orders", "shop-Orders", "og", ingest_stream="shop-Ingest"),
        "audit": DeployedProcessor("audit", "shop-Audit", "ag"),
    },
)


def throttled(operation: str) -> ClientError:
    error = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}
    return ClientError(error, operation)  # type: ignore[arg-type]


class FakeKinesis:
    """Refuses the records listed in ``refuse`` (by call number) with a throughput error."""

    def __init__(self, refuse: dict[int, set[int]] | None = None, fail_calls: int = 0) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.refuse = refuse or {}
        self.fail_calls = fail_calls

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Records)
        if len(self.calls) <= self.fail_calls:
            raise throttled("PutRecords")
        refused = self.refuse.get(len(self.calls), set())
        results = [
            {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "busy"}
            if i in refused
            else {"ShardId": "shardId-0", "SequenceNumber": str(i)}
            for i in range(len(Records))
        ]
        return {"FailedRecordCount": len(refused), "Records": results}


class FakeLambda:
    def __init__(self, throttle: int = 0, answer: Any = None, error: str | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.throttle = throttle
        self.answer = answer
        self.error = error

    def invoke(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        if len(self.calls) <= self.throttle:
            raise ClientError(
                {"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}},
                "Invoke",
            )
        response: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(b"")}
        if request["InvocationType"] == "RequestResponse":
            body = (
                self.answer
                if self.error is None
                else {"errorType": "ValueError", "errorMessage": self.error}
            )
            response["Payload"] = io.BytesIO(json.dumps(body).encode())
            if self.error:
                response["FunctionError"] = "Unhandled"
        return response


def no_sleep(_: float) -> None:
    pass


def envelopes(record: dict[str, Any]) -> list[Envelope]:
    """The envelopes of the events one PutRecords entry carries."""
    return [decode(data, "") for _, data in unpack(record["Data"], record["PartitionKey"])]


BIG = "x" * 40_000
"""An event too big to share a 64 KiB aggregate with another: one record per event."""


def traces() -> Any:
    counter = iter(range(10_000))
    return lambda: f"trace-{next(counter)}"


def test_ingest_stream_events_are_input_envelopes_aggregated_into_one_record() -> None:
    events = [InputEvent("orders", {"n": 1}), InputEvent("audit", "x"), InputEvent("orders", 2)]
    deliveries = plan(DEPLOYMENT, events, traces())
    kinesis, lam = FakeKinesis(), FakeLambda()
    send(deliveries, kinesis, lam, sleep=no_sleep)
    (records,) = kinesis.calls
    (record,) = records
    assert [(e["data"], e["trace"], e["hops"]) for e in envelopes(record)] == [
        ({"n": 1}, "trace-0", 0),
        (2, "trace-2", 0),
    ]
    (invoke,) = lam.calls
    assert invoke["FunctionName"] == "shop-Audit"
    assert invoke["InvocationType"] == "Event"
    assert json.loads(invoke["Payload"]) == {"v": 1, "trace": "trace-1", "log": 1, "data": "x"}
    assert all(d.sent and d.error is None for d in deliveries)


def test_each_streamed_event_says_where_it_landed() -> None:
    deliveries = plan(DEPLOYMENT, [InputEvent("orders", i) for i in range(3)], traces())
    send(deliveries, FakeKinesis(), FakeLambda(), sleep=no_sleep)
    assert [d.result for d in deliveries] == [
        {"shard": "shardId-0", "sequence": "0", "index": i} for i in range(3)
    ]


def test_every_event_sent_is_marked_to_be_logged_whatever_the_sampling() -> None:
    # The mark makes every processor the trace reaches log its records, so that
    # `attak logs --trace` finds them at any trace_sampling.
    deliveries = plan(
        DEPLOYMENT, [InputEvent("orders", {"n": 1}), InputEvent("audit", "x")], traces()
    )
    kinesis, lam = FakeKinesis(), FakeLambda()
    send(deliveries, kinesis, lam, sleep=no_sleep)
    (records,) = kinesis.calls
    assert [e["log"] for e in envelopes(records[0])] == [1]
    (invoke,) = lam.calls
    assert decode(invoke["Payload"], "")["log"] == 1


def test_many_events_share_few_records_in_one_call() -> None:
    deliveries = plan(DEPLOYMENT, [InputEvent("orders", i) for i in range(1201)], traces())
    kinesis = FakeKinesis()
    send(deliveries, kinesis, FakeLambda(), sleep=no_sleep)
    (records,) = kinesis.calls
    assert len(records) <= 3
    carried = [e for record in records for e in envelopes(record)]
    assert sorted(e["data"] for e in carried) == list(range(1201))
    assert all(d.sent for d in deliveries)


def test_a_long_input_is_written_and_reported_as_it_goes() -> None:
    count = 2 * FLUSH_BYTES // len(BIG) + 1  # over two flushes' worth
    deliveries = plan(DEPLOYMENT, [InputEvent("orders", BIG) for _ in range(count)], traces())
    kinesis = FakeKinesis()
    calls_when_reported: list[int] = []
    send(
        deliveries,
        kinesis,
        FakeLambda(),
        on_delivery=lambda _: calls_when_reported.append(len(kinesis.calls)),
        sleep=no_sleep,
    )
    assert len(calls_when_reported) == count
    assert calls_when_reported[0] < len(kinesis.calls) == 3
    assert all(d.sent for d in deliveries)


def test_refused_records_are_retried_alone_with_backoff() -> None:
    deliveries = plan(DEPLOYMENT, [InputEvent("orders", [i, BIG]) for i in range(3)], traces())
    kinesis = FakeKinesis(refuse={1: {1}}, fail_calls=0)
    pauses: list[float] = []
    send(deliveries, kinesis, FakeLambda(), sleep=pauses.append)
    assert [len(call) for call in kinesis.calls] == [3, 1]
    assert [e["data"][0] for e in envelopes(kinesis.calls[1][0])] == [1]
    assert len(pauses) == 1 and all(d.sent for d in deliveries)


def test_throttled_calls_are_retried() -> None:
    deliveries = plan(DEPLOYMENT, [InputEvent("orders", 1), InputEvent("audit", 2)], traces())
    kinesis, lam = FakeKinesis(fail_calls=2), FakeLambda(throttle=3)
    send(deliveries, kinesis, lam, sleep=no_sleep)
    assert len(kinesis.calls) == 3 and len(lam.calls) == 4
    assert all(d.sent for d in deliveries)


def test_events_that_could_not_be_sent_are_reported_not_dropped() -> None:
    deliveries = plan(DEPLOYMENT, [InputEvent("orders", [i, BIG]) for i in range(2)], traces())
    always = {1: {1}} | {n: {0} for n in range(2, 100)}  # the second record, every time
    send(deliveries, FakeKinesis(refuse=always), FakeLambda(), sleep=no_sleep)
    assert deliveries[0].sent
    assert not deliveries[1].sent and deliveries[1].result is None
    assert deliveries[1].error == (
        "not written to stream 'shop-Ingest': a record failed 8 attempts "
        "(8x ProvisionedThroughputExceededException)"
    )
    invokes = plan(DEPLOYMENT, [InputEvent("audit", 1)], traces())
    send(invokes, FakeKinesis(), FakeLambda(throttle=100), sleep=no_sleep)
    assert not invokes[0].sent
    assert invokes[0].error == "not invoked: TooManyRequestsException: Rate exceeded"


def test_an_event_that_cannot_be_a_record_is_reported_and_the_others_go() -> None:
    events = [InputEvent("orders", {1, 2}), InputEvent("orders", "ok")]
    deliveries = plan(DEPLOYMENT, events, traces())
    kinesis = FakeKinesis()
    send(deliveries, kinesis, FakeLambda(), sleep=no_sleep)
    assert not deliveries[0].sent
    assert (deliveries[0].error or "").startswith("input is not JSON-serializable")
    assert deliveries[1].sent
    (records,) = kinesis.calls
    assert [e["data"] for record in records for e in envelopes(record)] == ["ok"]


def test_waiting_shows_the_result_or_the_handlers_error() -> None:
    ok = plan(DEPLOYMENT, [InputEvent("audit", 1)], traces())
    send(ok, FakeKinesis(), FakeLambda(answer={"outcome": "ok"}), wait=True, sleep=no_sleep)
    assert ok[0].result == {"outcome": "ok"} and ok[0].error is None
    failed = plan(DEPLOYMENT, [InputEvent("audit", 1)], traces())
    send(failed, FakeKinesis(), FakeLambda(error="boom"), wait=True, sleep=no_sleep)
    assert failed[0].sent and failed[0].error == "ValueError: boom"


def test_an_event_for_a_processor_not_deployed_fails_before_anything_is_sent() -> None:
    with pytest.raises(
        LiveError,
        match=r"processor 'ordrs' is not in the deployed topology 'shop'.*did you mean 'orders'\?",
    ):
        plan(DEPLOYMENT, [InputEvent("audit", 1), InputEvent("ordrs", 2)])


def test_every_delivery_is_reported_as_it_completes() -> None:
    deliveries = plan(DEPLOYMENT, [InputEvent("orders", 1), InputEvent("audit", 2)], traces())
    seen: list[str] = []
    send(
        deliveries,
        FakeKinesis(),
        FakeLambda(),
        on_delivery=lambda d: seen.append(d.trace),
        sleep=no_sleep,
    )
    assert sorted(seen) == ["trace-0", "trace-1"]


def test_an_event_past_lambdas_payload_limit_is_reported_unsent_without_a_call() -> None:
    big = "x" * (1024 * 1024)  # with its envelope, just over an asynchronous invoke's 1 MB
    queued = plan(DEPLOYMENT, [InputEvent("audit", big)], traces())
    lambda_client = FakeLambda()
    send(queued, FakeKinesis(), lambda_client, sleep=no_sleep)
    assert not queued[0].sent
    assert queued[0].error is not None
    assert "Lambda takes at most 1 MB for an asynchronous invoke" in queued[0].error
    assert "send it with --wait (6 MB)" in queued[0].error
    assert lambda_client.calls == []
    # Waiting for the result, Lambda takes up to 6 MB: the same event goes.
    waited = plan(DEPLOYMENT, [InputEvent("audit", big)], traces())
    send(waited, FakeKinesis(), lambda_client, wait=True, sleep=no_sleep)
    assert waited[0].sent and len(lambda_client.calls) == 1
