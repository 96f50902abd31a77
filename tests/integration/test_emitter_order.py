"""A key's events land in order, none lost, on one shard: the emitter over a faulty Kinesis.

The runtime's ``KinesisEmitter`` writes 10,000 keyed events of about 1 KB, in flushes of
2,000 (so each key bucket gets several records), into a four-shard kinesalite stream
through the fault proxy: 30% of PutRecords entries come back throttled while the rest of
their call is written, some calls fail with a 5xx and some lose their answer after the
write. Every shard is then read back from the start,
each record unpacked and each envelope decoded: every event must be there, each key's
first sightings in emit order (a repeat is only what a lost answer allows), and each
key's records all on one shard.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from attak_cdk.runtime.aggregate import unpack
from attak_cdk.runtime.context import Emit
from attak_cdk.runtime.emitter import KinesisEmitter
from attak_cdk.runtime.envelope import decode, encode
from attak_cdk.simulate.faults import FaultProxy, Faults
from attak_cdk.simulate.resources import connect

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EVENTS = 10_000
KEYS = 50
FLUSH = 2_000
"""Emits per ``put``: a flush of ~1 KB events, so each key bucket gets several records."""
STREAM = "emitter-order"


def emits(start: int, count: int) -> list[Emit]:
    out = []
    for i in range(start, start + count):
        key = f"user-{i % KEYS}"
        data = {"user": key, "n": i // KEYS, "page": f"/products/{i % 97}", "pad": "x" * 1000}
        payload = encode(data, topic="clicks", source="spout", trace=f"t{i}", hops=1)
        out.append(Emit("clicks", payload, key, (STREAM,)))
    return out


def read_shard(kinesis: Any, shard: str) -> list[dict[str, Any]]:
    """Every record of a shard, from the start, in order."""
    iterator = kinesis.get_shard_iterator(
        StreamName=STREAM, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = []
    while iterator:
        page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
        records.extend(page["Records"])
        if not page["Records"] and page.get("MillisBehindLatest", 0) == 0:
            break
        iterator = page.get("NextShardIterator")
    return records


def test_ten_thousand_keyed_events_land_in_order_on_one_shard_per_key(kinesalite: str) -> None:
    kinesis, _ = connect(kinesalite, "us-east-1", read_timeout=10)
    kinesis.create_stream(StreamName=STREAM, ShardCount=4)
    deadline = time.monotonic() + 30
    while (
        kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"][
            "StreamStatus"
        ]
        != "ACTIVE"
    ):
        assert time.monotonic() < deadline, "stream did not become ACTIVE"
        time.sleep(0.05)
    faults = Faults(throttle=0.30, server_errors=0.05, lost_answers=0.05, seed=11)
    try:
        with FaultProxy(kinesalite, faults) as proxy:
            through_proxy, _ = connect(proxy.url, "us-east-1", read_timeout=10)
            sender = KinesisEmitter(through_proxy, max_attempts=30, base_delay=0.001)
            for start in range(0, EVENTS, FLUSH):
                sender.put(STREAM, emits(start, FLUSH))
        counts = proxy.counts

        shards = [s["ShardId"] for s in kinesis.list_shards(StreamName=STREAM)["Shards"]]
        assert len(shards) == 4
        seen: dict[str, int] = {}
        shard_of: dict[str, set[str]] = {}
        out_of_order = repeats = 0
        for shard in shards:
            for record in read_shard(kinesis, shard):
                for key, data in unpack(record["Data"], record["PartitionKey"]):
                    n = decode(data, "")["data"]["n"]
                    shard_of.setdefault(key, set()).add(shard)
                    last = seen.get(key, -1)
                    if n == last + 1:
                        seen[key] = n
                    elif n <= last:
                        repeats += 1
                    else:
                        out_of_order += 1
        assert out_of_order == 0
        assert seen == {f"user-{k}": EVENTS // KEYS - 1 for k in range(KEYS)}  # none lost
        assert all(len(on) == 1 for on in shard_of.values())
        assert len({next(iter(on)) for on in shard_of.values()}) > 1  # keys spread over shards
        assert sender.written[STREAM].events == EVENTS
        assert counts.throttled_entries > 0 and counts.server_errors > 0
        assert counts.lost_answers > 0
        print(
            f"{sender.calls} PutRecords calls, {sender.written[STREAM].records} records, "
            f"{counts.throttled_entries} throttled entries, {counts.server_errors} server "
            f"errors, {counts.lost_answers} lost answers, {repeats} events read twice"
        )
    finally:
        kinesis.delete_stream(StreamName=STREAM)
