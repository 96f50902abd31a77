"""How a flush's emits become Kinesis records (``runtime/records.py``): grouped by key
bucket, aggregated, compressed where it pays, and tallied as Kinesis bills them."""

from __future__ import annotations

import json

from attak_cdk.runtime.aggregate import COMPRESSED_MAGIC, KPL_MAGIC, unpack
from attak_cdk.runtime.context import Emit
from attak_cdk.runtime.envelope import MAX_PARTITION_KEY
from attak_cdk.runtime.records import (
    AGGREGATE_BYTES,
    COMPRESS_FROM,
    KEY_BUCKETS,
    Tally,
    bucket_hash_key,
    bucket_of,
    bucket_partition_key,
    groups_for,
    records_for,
)


def emit(data: object, key: str | None = None) -> Emit:
    return Emit("t", json.dumps({"v": 1, "data": data}), key, ("s",))


def events_of(record_data: bytes, key: str) -> list[object]:
    return [json.loads(payload)["data"] for _, payload in unpack(record_data, key)]


def test_every_record_of_a_key_has_its_buckets_hash_key_and_partition_key() -> None:
    emits = [emit(n, key=f"user-{n % 40}") for n in range(400)]
    for record in records_for(emits):
        assert record.bucket is not None
        assert record.explicit_hash_key == bucket_hash_key(record.bucket)
        assert record.partition_key == bucket_partition_key(record.bucket)
        for key, _ in unpack(record.data, record.partition_key):
            assert bucket_of(key) == record.bucket  # and each event keeps its own key


def test_bucket_hash_keys_are_inside_their_slice_of_the_hash_space() -> None:
    width = (1 << 128) // KEY_BUCKETS
    for bucket in range(KEY_BUCKETS):
        assert bucket * width <= int(bucket_hash_key(bucket)) < (bucket + 1) * width


def test_a_keys_events_keep_emit_order_across_records() -> None:
    emits = [emit({"n": n, "pad": "x" * 900}, key=f"k{n % 3}") for n in range(300)]
    seen: dict[str, list[int]] = {}
    for record in records_for(emits):
        for key, payload in unpack(record.data, record.partition_key):
            seen.setdefault(key, []).append(json.loads(payload)["data"]["n"])
    assert all(numbers == sorted(numbers) for numbers in seen.values())
    assert sum(len(numbers) for numbers in seen.values()) == 300


def test_aggregates_stay_under_their_size_and_many_small_events_share_one() -> None:
    small = records_for([emit(n) for n in range(200)])
    assert len(small) == 1 and small[0].events == 200
    assert events_of(small[0].data, small[0].partition_key) == list(range(200))
    large = records_for([emit("x" * 10_000) for _ in range(40)])
    assert len(large) > 1 and all(r.events * 10_000 <= AGGREGATE_BYTES for r in large)


def test_compression_is_used_only_where_it_makes_the_record_smaller() -> None:
    (repetitive,) = records_for([emit({"page": "/home", "n": n}) for n in range(100)])
    assert repetitive.data.startswith(COMPRESSED_MAGIC)
    (tiny,) = records_for([emit("hi")])
    assert len(json.dumps({"v": 1, "data": "hi"})) < COMPRESS_FROM
    assert tiny.data == b'{"v": 1, "data": "hi"}'  # a lone keyless event travels as itself
    (keyed,) = records_for([emit("hi", key="k")])
    assert keyed.data.startswith(KPL_MAGIC)  # keyed: an aggregate, so its key survives
    assert unpack(keyed.data, keyed.partition_key)[0][0] == "k"


def test_keyless_events_share_a_random_key_never_an_empty_one() -> None:
    (record,) = records_for([emit(1), emit(2)])
    assert record.explicit_hash_key is None and record.bucket is None
    assert {key for key, _ in unpack(record.data, "")} == {record.partition_key}
    assert 0 < len(record.partition_key) <= MAX_PARTITION_KEY


def test_groups_split_by_bucket_and_keep_the_emits_themselves() -> None:
    emits = [emit(n, key=f"k{n}") for n in range(50)] + [emit("free")]
    groups = groups_for(emits)
    assert sorted(id(e) for _, members in groups for e in members) == sorted(map(id, emits))
    assert all(
        bucket_of(e.key) == bucket
        for bucket, members in groups
        if bucket is not None
        for e in members
        if e.key
    )


def test_a_tally_counts_records_events_bytes_payload_units_and_billed_kb() -> None:
    tally = Tally()
    for record in records_for([emit("x" * 30_000, key="a")]) + records_for([emit(1)]):
        tally.add(record)
    figures = tally.as_dict()
    assert (figures["records"], figures["events"]) == (2, 2)
    # 25 KB PUT payload units and 1 KB billed units, each record rounded up on its own
    assert figures["payload_units"] == 2
    assert figures["billed_kb"] >= 2
    assert figures["bytes"] < 30_000  # compressed
