"""``KinesisEmitter``: PutRecords in calls of <= 500 records and <= 5 MiB, failed entries
retried with backoff, ``EmitError`` when records still fail (DESIGN.md "Delivery
semantics": an emit is never lost). Driven through botocore's ``Stubber``; no network."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attak_cdk.runtime.context import Emit
from attak_cdk.runtime.emitter import (
    MAX_BYTES_PER_CALL,
    MAX_RECORDS_PER_CALL,
    Entry,
    KinesisEmitter,
    chunks,
)
from attak_cdk.runtime.envelope import GENERATED_KEY_LENGTH, EmitError

STREAM = "attak-example-reverse"
ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/attak-example-reverse"
MIB = 1024 * 1024


@pytest.fixture
def client() -> Any:
    return boto3.client(
        "kinesis", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


@pytest.fixture
def stubber(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


class Sleeps:
    """An injected ``sleep`` that records the delays it was asked for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def emitter(client: Any, sleeps: Sleeps | None = None, **kwargs: Any) -> KinesisEmitter:
    return KinesisEmitter(
        client, sleep=sleeps if sleeps is not None else Sleeps(), jitter=lambda: 1.0, **kwargs
    )


def entries(count: int, size: int = 10) -> list[Entry]:
    return [(f"k{i}", f"{i:0{size}d}".encode()) for i in range(count)]


def records_param(chunk: list[Entry]) -> list[dict[str, Any]]:
    return [{"Data": data, "PartitionKey": key} for key, data in chunk]


def ok(count: int) -> dict[str, Any]:
    # Kinesis sends "FailedRecordCount": 0 here, but botocore's model says its minimum is
    # 1, so the Stubber refuses 0: a successful response leaves the count out.
    return {
        "Records": [
            {"SequenceNumber": f"{i:056d}", "ShardId": "shardId-000000000000"} for i in range(count)
        ],
    }


def partial(codes: list[str | None]) -> dict[str, Any]:
    """A PutRecords response where entry i failed with codes[i] (None: succeeded)."""
    results: list[dict[str, Any]] = []
    for i, code in enumerate(codes):
        if code is None:
            results.append({"SequenceNumber": f"{i:056d}", "ShardId": "shardId-000000000000"})
        else:
            results.append({"ErrorCode": code, "ErrorMessage": f"{code} for entry {i}"})
    response: dict[str, Any] = {"Records": results}
    failed = sum(c is not None for c in codes)
    if failed:
        response["FailedRecordCount"] = failed
    return response


def expect(stubber: Stubber, response: dict[str, Any], chunk: list[Entry], **target: str) -> None:
    stubber.add_response(
        "put_records",
        response,
        {"Records": records_param(chunk), **(target or {"StreamName": STREAM})},
    )


# --- splitting into calls ------------------------------------------------------------


def test_1200_entries_are_sent_in_three_calls_of_500_500_and_200_in_order(
    client: Any, stubber: Stubber
) -> None:
    batch = entries(1200)
    expect(stubber, ok(500), batch[:500])
    expect(stubber, ok(500), batch[500:1000])
    expect(stubber, ok(200), batch[1000:])
    sender = emitter(client)

    sender.put_entries(STREAM, batch)

    assert sender.calls == 3


def test_entries_over_5_mib_in_total_are_split_by_bytes(client: Any, stubber: Stubber) -> None:
    batch = [(f"k{i}", bytes([65 + i]) * 1_000_000) for i in range(6)]  # 6 x 1 MB
    expect(stubber, ok(5), batch[:5])
    expect(stubber, ok(1), batch[5:])
    sender = emitter(client)

    sender.put_entries(STREAM, batch)

    assert sender.calls == 2


def test_a_call_of_exactly_5_mib_including_keys_is_not_split(client: Any, stubber: Stubber) -> None:
    batch = [(f"k{i}", b"x" * (MIB - 2)) for i in range(5)]  # 5 x (1 MiB - 2 + 2-byte key)
    batch.append(("k5", b"y"))
    expect(stubber, ok(5), batch[:5])
    expect(stubber, ok(1), batch[5:])

    emitter(client).put_entries(STREAM, batch)


def test_empty_put_makes_no_call(client: Any, stubber: Stubber) -> None:
    sender = emitter(client)

    sender.put_entries(STREAM, [])
    sender.put(STREAM, [])

    assert sender.calls == 0


def test_put_sends_each_emit_payload_as_utf8_with_its_key(client: Any, stubber: Stubber) -> None:
    emits = [
        Emit("t", "héllo", '{"data":"héllo"}', "user-1", (STREAM,)),
        Emit("t", "b", b'{"data":"b"}'.decode(), "user-2", (STREAM,)),
    ]
    expect(
        stubber,
        ok(2),
        [("user-1", '{"data":"héllo"}'.encode()), ("user-2", b'{"data":"b"}')],
    )

    emitter(client).put(STREAM, emits)


def test_put_draws_a_random_partition_key_for_emits_without_one(client: Any) -> None:
    sent: list[dict[str, Any]] = []
    client.meta.events.register(
        "before-parameter-build.kinesis.PutRecords",
        lambda params, **_: sent.extend(params["Records"]),
    )
    emits = [Emit("t", i, f'{{"data":{i}}}', None, (STREAM,)) for i in range(20)]
    with Stubber(client) as stub:
        stub.add_response(
            "put_records",
            ok(20),
            {"StreamName": STREAM, "Records": [{"Data": ANY, "PartitionKey": ANY}] * 20},
        )
        emitter(client).put(STREAM, emits)
        stub.assert_no_pending_responses()

    keys = [record["PartitionKey"] for record in sent]
    assert all(isinstance(k, str) and len(k) == GENERATED_KEY_LENGTH for k in keys)
    assert len(set(keys)) > 1  # spread, not one constant key
    assert [record["Data"] for record in sent] == [f'{{"data":{i}}}'.encode() for i in range(20)]


def test_stream_given_as_an_arn_is_addressed_by_stream_arn(client: Any, stubber: Stubber) -> None:
    batch = entries(3)
    expect(stubber, ok(3), batch, StreamARN=ARN)

    emitter(client).put_entries(ARN, batch)


# --- retries -------------------------------------------------------------------------


def test_partial_failure_resends_only_the_failed_entries_with_increasing_backoff(
    client: Any, stubber: Stubber
) -> None:
    batch = entries(5)
    throttled = "ProvisionedThroughputExceededException"
    expect(stubber, partial([None, throttled, None, throttled, throttled]), batch)
    expect(stubber, partial([None, throttled, None]), [batch[1], batch[3], batch[4]])
    expect(stubber, ok(1), [batch[3]])
    sleeps = Sleeps()
    sender = emitter(client, sleeps)

    sender.put_entries(STREAM, batch)

    assert sender.calls == 3
    assert len(sleeps.delays) == 2
    assert 0 < sleeps.delays[0] < sleeps.delays[1]


def test_backoff_grows_but_never_exceeds_max_delay(client: Any, stubber: Stubber) -> None:
    batch = entries(1)
    for _ in range(7):
        expect(stubber, partial(["InternalFailure"]), batch)
    expect(stubber, ok(1), batch)
    sleeps = Sleeps()

    emitter(client, sleeps, max_attempts=8, base_delay=0.1, max_delay=1.0).put_entries(
        STREAM, batch
    )

    assert len(sleeps.delays) == 7
    assert all(0 < d <= 1.0 for d in sleeps.delays)
    assert sleeps.delays == sorted(sleeps.delays)
    assert sleeps.delays[0] < sleeps.delays[-1]


def test_entries_that_fail_every_attempt_raise_emit_error_with_count_and_codes(
    client: Any, stubber: Stubber
) -> None:
    batch = entries(4)
    throttled = "ProvisionedThroughputExceededException"
    expect(stubber, partial([throttled, None, "InternalFailure", throttled]), batch)
    expect(stubber, partial([throttled, "InternalFailure", None]), [batch[0], batch[2], batch[3]])
    expect(stubber, partial([throttled, "InternalFailure"]), [batch[0], batch[2]])
    sleeps = Sleeps()
    sender = emitter(client, sleeps, max_attempts=3)

    with pytest.raises(EmitError) as info:
        sender.put_entries(STREAM, batch)

    message = str(info.value)
    assert "2 of 4 records" in message
    assert STREAM in message
    assert throttled in message
    assert "InternalFailure" in message
    assert "3 attempts" in message
    assert sender.calls == 3
    assert len(sleeps.delays) == 2  # no sleep after the last attempt


def test_whole_call_throughput_exceeded_is_retried(client: Any, stubber: Stubber) -> None:
    batch = entries(3)
    stubber.add_client_error(
        "put_records",
        service_error_code="ProvisionedThroughputExceededException",
        service_message="Rate exceeded for shard",
        http_status_code=400,
        expected_params={"StreamName": STREAM, "Records": records_param(batch)},
    )
    expect(stubber, ok(3), batch)
    sleeps = Sleeps()
    sender = emitter(client, sleeps)

    sender.put_entries(STREAM, batch)

    assert sender.calls == 2
    assert len(sleeps.delays) == 1


def test_whole_call_server_error_is_retried(client: Any, stubber: Stubber) -> None:
    batch = entries(2)
    stubber.add_client_error(
        "put_records", service_error_code="InternalFailure", http_status_code=500
    )
    expect(stubber, ok(2), batch)

    emitter(client).put_entries(STREAM, batch)


def test_whole_call_throttling_on_every_attempt_raises_emit_error(
    client: Any, stubber: Stubber
) -> None:
    batch = entries(3)
    for _ in range(4):
        stubber.add_client_error(
            "put_records",
            service_error_code="ProvisionedThroughputExceededException",
            http_status_code=400,
        )
    sender = emitter(client, max_attempts=4)

    with pytest.raises(EmitError) as info:
        sender.put_entries(STREAM, batch)

    assert "3 of 3 records" in str(info.value)
    assert "ProvisionedThroughputExceededException" in str(info.value)
    assert sender.calls == 4


def test_non_retryable_client_error_raises_emit_error_at_once_naming_the_stream(
    client: Any, stubber: Stubber
) -> None:
    stubber.add_client_error(
        "put_records",
        service_error_code="ResourceNotFoundException",
        service_message=f"Stream {STREAM} under account 123456789012 not found.",
        http_status_code=400,
    )
    sleeps = Sleeps()
    sender = emitter(client, sleeps)

    with pytest.raises(EmitError) as info:
        sender.put_entries(STREAM, entries(2))

    assert f"'{STREAM}'" in str(info.value)
    assert "ResourceNotFoundException" in str(info.value)
    assert sender.calls == 1
    assert sleeps.delays == []


def test_a_failing_chunk_stops_before_later_chunks_are_sent(client: Any, stubber: Stubber) -> None:
    batch = entries(600)
    stubber.add_client_error(
        "put_records", service_error_code="AccessDeniedException", http_status_code=400
    )
    sender = emitter(client)

    with pytest.raises(EmitError):
        sender.put_entries(STREAM, batch)

    assert sender.calls == 1


# --- chunks, as a property -----------------------------------------------------------


@functools.cache
def blob(size: int) -> bytes:
    return b"d" * size


def entry_size(entry: Entry) -> int:
    key, data = entry
    return len(data) + len(key.encode())


_run = st.tuples(
    st.text(min_size=1, max_size=256),
    st.one_of(
        st.integers(min_value=0, max_value=300),
        st.sampled_from([100_000, 700_000, MIB - 1024]),
    ),
    st.integers(min_value=1, max_value=450),
)


@st.composite
def entry_lists(draw: st.DrawFn) -> list[Entry]:
    """Entries of up to 1 MiB each (Kinesis' record limit), in runs so lists get long."""
    result: list[Entry] = []
    for key, size, repeat in draw(st.lists(_run, max_size=6)):
        for i in range(repeat if size < 1000 else min(repeat, 12)):
            result.append((f"{key}{i}"[:256], blob(size)))
    return result


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entry_lists())
def test_chunks_keep_order_cover_every_entry_once_and_respect_limits(
    batch: list[Entry],
) -> None:
    parts = [list(part) for part in chunks(batch)]

    flattened = [entry for part in parts for entry in part]
    assert flattened == batch
    assert all(a is b for a, b in zip(flattened, batch, strict=True))
    for part in parts:
        assert 1 <= len(part) <= MAX_RECORDS_PER_CALL
        assert sum(entry_size(e) for e in part) <= MAX_BYTES_PER_CALL
    # A call is cut only when the next entry would break a limit: no needless calls.
    for before, after in itertools.pairwise(parts):
        assert (
            len(before) == MAX_RECORDS_PER_CALL
            or sum(entry_size(e) for e in before) + entry_size(after[0]) > MAX_BYTES_PER_CALL
        )


def test_chunks_count_multibyte_keys_in_utf8_bytes() -> None:
    key = "é" * 128  # 128 characters, 256 bytes
    batch = [(key, b"x" * (MIB - 256)) for _ in range(6)]

    sizes = [len(part) for part in chunks(batch)]

    assert sizes == [5, 1]


def test_chunks_of_nothing_is_no_call() -> None:
    assert list(chunks([])) == []
