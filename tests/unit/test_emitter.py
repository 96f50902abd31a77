"""``KinesisEmitter``: emits written as aggregated records, a key's records in emit order
whatever PutRecords fails, every event landing or ``EmitError`` raised (DESIGN.md
"Delivery semantics"). Driven through an in-memory Kinesis that injects faults from a
seeded random generator; no network."""

from __future__ import annotations

import hashlib
import random
import string
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from attak_cdk.runtime.aggregate import unpack
from attak_cdk.runtime.context import Emit
from attak_cdk.runtime.emitter import MAX_BYTES_PER_CALL, MAX_RECORDS_PER_CALL, KinesisEmitter
from attak_cdk.runtime.envelope import GENERATED_KEY_LENGTH, EmitError, decode, encode
from attak_cdk.runtime.records import bucket_hash_key, bucket_of, records_for

STREAM = "attak-example-reverse"
ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/attak-example-reverse"
THROTTLED = "ProvisionedThroughputExceededException"
Entry = dict[str, Any]
"""A PutRecords request entry: Data, PartitionKey and maybe ExplicitHashKey."""


class FakeKinesis:
    """One stream in memory: PutRecords appends each written entry to its shard (by
    explicit hash key, else the MD5 of the partition key, as Kinesis does). Faults are
    drawn from a seeded generator: ``throttle`` of the entries come back throttled while
    the rest of the call is written, ``server_errors`` of the calls fail whole with a
    500 ``InternalFailure``, ``lost_answers`` of the calls are written and then raise a
    network error, as a dropped connection does. ``refuse(entry)`` may name an error
    code for an entry, for tests that script their failures."""

    def __init__(
        self,
        *,
        shards: int = 4,
        throttle: float = 0.0,
        server_errors: float = 0.0,
        lost_answers: float = 0.0,
        seed: int = 0,
        refuse: Callable[[Entry], str | None] | None = None,
    ) -> None:
        self.shards: list[list[Entry]] = [[] for _ in range(shards)]
        self.throttle = throttle
        self.server_errors = server_errors
        self.lost_answers = lost_answers
        self.random = random.Random(seed)
        self.refuse = refuse or (lambda entry: None)
        self.requests: list[dict[str, Any]] = []
        self.injected: Counter[str] = Counter()
        self.written_unanswered: set[bytes] = set()
        """Data of entries written by calls whose answer was lost (may be written again)."""

    def shard_of(self, entry: Entry) -> int:
        hash_key = entry.get("ExplicitHashKey")
        if hash_key is None:
            digest = hashlib.md5(entry["PartitionKey"].encode(), usedforsecurity=False).digest()
            point = int.from_bytes(digest, "big")
        else:
            point = int(hash_key)
        return point * len(self.shards) >> 128

    def put_records(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if self.random.random() < self.server_errors:
            self.injected["server error"] += 1
            raise ClientError(
                {
                    "Error": {"Code": "InternalFailure", "Message": "injected"},
                    "ResponseMetadata": {"HTTPStatusCode": 500},
                },
                "PutRecords",
            )
        results: list[dict[str, str]] = []
        for entry in request["Records"]:
            code = self.refuse(entry)
            if code is None and self.random.random() < self.throttle:
                code = THROTTLED
            if code is not None:
                self.injected[code] += 1
                results.append({"ErrorCode": code, "ErrorMessage": f"{code} (injected)"})
                continue
            shard = self.shard_of(entry)
            self.shards[shard].append(entry)
            sequence = f"{len(self.shards[shard]):056d}"
            results.append({"SequenceNumber": sequence, "ShardId": f"shardId-{shard:012d}"})
        if self.random.random() < self.lost_answers:
            self.injected["lost answer"] += 1
            self.written_unanswered.update(
                e["Data"]
                for e, r in zip(request["Records"], results, strict=True)
                if "ShardId" in r
            )
            lost = ReadTimeoutError if self.random.random() < 0.5 else ConnectionClosedError
            raise lost(endpoint_url="https://kinesis.us-east-1.amazonaws.com/")
        failed = sum("ErrorCode" in r for r in results)
        return {"FailedRecordCount": failed, "Records": results}

    def written(self) -> list[Entry]:
        return [entry for shard in self.shards for entry in shard]


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


def emit(data: Any, key: str | None) -> Emit:
    payload = encode(data, topic="clicks", source="spout", trace="t1", hops=1)
    return Emit("clicks", payload, key, (STREAM,))


def keyed(count: int, keys: int = 50, pad: int = 0, start: int = 0) -> list[Emit]:
    """Emits i = start.. count-1 of key ``k{i % keys}``, valued (key, per-key counter)."""
    out = []
    for i in range(start, start + count):
        key = f"k{i % keys}"
        out.append(emit({"key": key, "n": i // keys, "pad": "p" * pad}, key))
    return out


def events_of(entry: Entry) -> list[tuple[str, Any]]:
    """The (partition key, data) of the events in one written record."""
    return [(key, decode(data, "")["data"]) for key, data in unpack(entry["Data"], "")]


# --- what is written -----------------------------------------------------------------


def test_keyed_emits_are_written_as_aggregates_with_their_bucket_hash_key() -> None:
    kinesis = FakeKinesis()
    emits = keyed(2000, pad=100)
    sender = emitter(kinesis)

    sender.put(STREAM, emits)

    written = kinesis.written()
    assert len(written) == len(records_for(emits)) < len(emits) // 10
    by_key: dict[str, list[int]] = {}
    for entry in written:
        for key, data in events_of(entry):
            assert entry["ExplicitHashKey"] == bucket_hash_key(bucket_of(key))
            by_key.setdefault(key, []).append(data["n"])
    assert by_key == {f"k{k}": list(range(40)) for k in range(50)}


def test_keyless_emits_share_records_under_random_partition_keys_without_hash_key() -> None:
    kinesis = FakeKinesis()
    emits = [emit(i, None) for i in range(20_000)]

    emitter(kinesis).put(STREAM, emits)

    written = kinesis.written()
    assert 1 < len(written) < 100
    assert all("ExplicitHashKey" not in entry for entry in written)
    keys = [entry["PartitionKey"] for entry in written]
    assert all(len(k) == GENERATED_KEY_LENGTH for k in keys) and len(set(keys)) == len(keys)
    assert sorted(data for entry in written for _, data in events_of(entry)) == list(range(20_000))


def test_empty_put_makes_no_call() -> None:
    kinesis = FakeKinesis()
    sender = emitter(kinesis)

    sender.put(STREAM, [])

    assert sender.calls == 0 and kinesis.requests == [] and sender.written == {}


def test_stream_given_as_an_arn_is_addressed_by_stream_arn() -> None:
    kinesis = FakeKinesis()

    emitter(kinesis).put(ARN, keyed(3))

    assert [set(r) for r in kinesis.requests] == [{"StreamARN", "Records"}]
    assert kinesis.requests[0]["StreamARN"] == ARN


def test_tally_counts_each_landed_record_once_even_when_written_twice() -> None:
    kinesis = FakeKinesis(lost_answers=0.5, seed=1)
    sender = emitter(kinesis, max_attempts=30)
    emits = keyed(3000, pad=200)

    sender.put(STREAM, emits)

    records = records_for(emits)  # deterministic for keyed emits
    tally = sender.written[STREAM]
    assert kinesis.injected["lost answer"] > 0
    assert len(kinesis.written()) > tally.records == len(records)
    assert tally.events == 3000
    assert tally.bytes == sum(len(r.data) + len(r.partition_key) for r in records)
    assert tally.billed_kb == sum(-(-(len(r.data) + len(r.partition_key)) // 1024) for r in records)
    assert tally.payload_units >= tally.records


# --- order per key bucket ------------------------------------------------------------


def test_a_bucket_sends_its_next_record_only_after_the_one_before_landed() -> None:
    # One key, three aggregates: the first is throttled twice; keyless records go freely.
    first_attempts = Counter[bytes]()
    emits = keyed(300, keys=1, pad=500)
    records = records_for(emits)
    assert len(records) == 3

    def refuse(entry: Entry) -> str | None:
        first_attempts[entry["Data"]] += 1
        if entry["Data"] == records[0].data and first_attempts[entry["Data"]] <= 2:
            return THROTTLED
        return None

    kinesis = FakeKinesis(refuse=refuse)
    sleeps = Sleeps()
    sender = emitter(kinesis, sleeps)

    sender.put(STREAM, [*emits, emit("loose", None)])

    keyed_per_call = [
        [e["Data"] for e in r["Records"] if "ExplicitHashKey" in e] for r in kinesis.requests
    ]
    assert keyed_per_call == [[r.data] for r in (records[0], records[0], *records)]
    assert sum(len(r["Records"]) for r in kinesis.requests) == 6  # the keyless one went first
    assert len(sleeps.delays) == 2 and sleeps.delays[0] < sleeps.delays[1]
    assert [e["Data"] for e in kinesis.shards[kinesis.shard_of(kinesis.written()[0])]][-3:] == [
        r.data for r in records
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_under_throttling_server_errors_and_lost_answers_no_event_is_lost_or_reordered(
    seed: int,
) -> None:
    kinesis = FakeKinesis(throttle=0.30, server_errors=0.05, lost_answers=0.05, seed=seed)
    sender = KinesisEmitter(kinesis, max_attempts=25, sleep=lambda s: None)
    events, keys = 10_000, 50

    for start in range(0, events, 2500):  # a handler's flushes
        sender.put(STREAM, keyed(2500, keys=keys, pad=900, start=start))

    assert kinesis.injected[THROTTLED] > 0
    assert kinesis.injected["server error"] > 0 and kinesis.injected["lost answer"] > 0
    hash_keys: dict[str, set[str]] = {}
    shards: dict[str, set[int]] = {}
    seen: dict[str, int] = {}  # key -> highest counter seen: firsts must come in order
    out_of_order = duplicates = 0
    for shard, entries in enumerate(kinesis.shards):
        records_seen: set[bytes] = set()
        for entry in entries:
            if entry["Data"] in records_seen:
                # A record written twice: only a call whose answer was lost does that.
                assert entry["Data"] in kinesis.written_unanswered
            records_seen.add(entry["Data"])
            for key, data in events_of(entry):
                hash_keys.setdefault(key, set()).add(entry["ExplicitHashKey"])
                shards.setdefault(key, set()).add(shard)
                last = seen.get(key, -1)
                if data["n"] == last + 1:
                    seen[key] = data["n"]
                elif data["n"] <= last:
                    duplicates += 1
                else:
                    out_of_order += 1
    assert out_of_order == 0
    assert seen == {f"k{k}": events // keys - 1 for k in range(keys)}  # every event landed
    assert all(len(h) == 1 for h in hash_keys.values())
    assert all(len(s) == 1 for s in shards.values())
    assert sender.written[STREAM].events == events
    for request in kinesis.requests:  # the rule that keeps the order
        hash_keys_in_call = [e["ExplicitHashKey"] for e in request["Records"]]
        assert len(hash_keys_in_call) == len(set(hash_keys_in_call))


# --- PutRecords' limits --------------------------------------------------------------


def call_bytes(request: dict[str, Any]) -> int:
    return sum(len(e["Data"]) + len(e["PartitionKey"].encode()) for e in request["Records"])


def test_600_small_records_are_sent_in_calls_of_500_and_100() -> None:
    # 40 KB events: two do not fit in one aggregate, and each compresses to a few bytes.
    kinesis = FakeKinesis()
    emits = [emit("x" * 40_000 + str(i), None) for i in range(600)]
    sender = emitter(kinesis)

    sender.put(STREAM, emits)

    assert [len(r["Records"]) for r in kinesis.requests] == [MAX_RECORDS_PER_CALL, 100]
    assert sender.written[STREAM].records == 600


def test_records_over_5_mib_in_total_are_split_by_bytes() -> None:
    draw = random.Random(7)
    letters = string.ascii_letters + string.digits + string.punctuation
    emits = [emit("".join(draw.choices(letters, k=900_000)), None) for _ in range(12)]
    kinesis = FakeKinesis()

    emitter(kinesis).put(STREAM, emits)

    sizes = [call_bytes(r) for r in kinesis.requests]
    assert len(sizes) >= 2 and all(size <= MAX_BYTES_PER_CALL for size in sizes)
    assert sum(len(r["Records"]) for r in kinesis.requests) == len(kinesis.written()) == 12
    for before, after in zip(kinesis.requests, kinesis.requests[1:], strict=False):
        # a call is cut only when the next record would not fit
        first = after["Records"][0]
        assert call_bytes(before) + len(first["Data"]) + len(first["PartitionKey"]) > (
            MAX_BYTES_PER_CALL
        )


# --- failures ------------------------------------------------------------------------


def test_whole_call_server_error_is_retried() -> None:
    kinesis = FakeKinesis()
    failures = iter([True])

    def put_records(**request: Any) -> dict[str, Any]:
        if next(failures, False):
            kinesis.requests.append(request)
            raise ClientError(
                {"Error": {"Code": ""}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "PutRecords"
            )
        return FakeKinesis.put_records(kinesis, **request)

    kinesis.put_records = put_records  # type: ignore[method-assign]
    sleeps = Sleeps()
    sender = emitter(kinesis, sleeps)

    sender.put(STREAM, keyed(10))

    assert sender.calls == 2 and len(sleeps.delays) == 1
    assert kinesis.requests[0] == kinesis.requests[1]
    assert sender.written[STREAM].events == 10


def test_non_retryable_client_error_raises_emit_error_at_once_naming_the_stream() -> None:
    class Refusing:
        def put_records(self, **request: Any) -> dict[str, Any]:
            raise ClientError(
                {
                    "Error": {"Code": "ResourceNotFoundException", "Message": "not found"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                "PutRecords",
            )

    sleeps = Sleeps()
    sender = emitter(Refusing(), sleeps)

    with pytest.raises(EmitError) as info:
        sender.put(STREAM, keyed(5))

    assert f"'{STREAM}'" in str(info.value)
    assert "ResourceNotFoundException" in str(info.value)
    assert sender.calls == 1 and sleeps.delays == []


def test_a_record_that_never_lands_raises_emit_error_after_max_attempts() -> None:
    # Key k0's records are always throttled; the other keys land.
    doomed = bucket_hash_key(bucket_of("k0"))
    kinesis = FakeKinesis(
        refuse=lambda e: THROTTLED if e.get("ExplicitHashKey") == doomed else None
    )
    sleeps = Sleeps()
    sender = emitter(kinesis, sleeps, max_attempts=4)

    with pytest.raises(EmitError) as info:
        sender.put(STREAM, keyed(100, keys=3))

    message = str(info.value)
    assert f"'{STREAM}'" in message
    assert "4 attempts" in message and f"4x {THROTTLED}" in message
    assert "1 of 3 records (100 events)" in message
    assert sender.calls == 4
    assert len(sleeps.delays) == 3  # no sleep after the last attempt
    assert sender.written[STREAM].records == 2


def test_backoff_grows_but_never_exceeds_max_delay() -> None:
    attempts = Counter[bytes]()

    def refuse(entry: Entry) -> str | None:
        attempts[entry["Data"]] += 1
        return "InternalFailure" if attempts[entry["Data"]] <= 7 else None

    sleeps = Sleeps()
    sender = emitter(FakeKinesis(refuse=refuse), sleeps, base_delay=0.1, max_delay=1.0)

    sender.put(STREAM, keyed(1))

    assert len(sleeps.delays) == 7
    assert all(0 < d <= 1.0 for d in sleeps.delays)
    assert sleeps.delays == sorted(sleeps.delays)
    assert sleeps.delays[0] < sleeps.delays[-1] == 1.0


# --- where records landed ------------------------------------------------------------


def test_write_tells_where_each_record_landed_once_whatever_was_retried() -> None:
    kinesis = FakeKinesis(throttle=0.3, server_errors=0.2, lost_answers=0.2, seed=1)
    sender = emitter(kinesis, max_attempts=30)
    records = records_for(keyed(2000, pad=200))
    places: list[tuple[int, str, str]] = []

    sender.write(STREAM, records, lambda *place: places.append(place))

    assert kinesis.injected[THROTTLED] > 0 and kinesis.injected["server error"] > 0
    assert kinesis.injected["lost answer"] > 0
    assert sorted(index for index, _, _ in places) == list(range(len(records)))
    for index, shard, sequence in places:
        entry = kinesis.shards[int(shard.removeprefix("shardId-"))][int(sequence) - 1]
        assert entry["Data"] == records[index].data
