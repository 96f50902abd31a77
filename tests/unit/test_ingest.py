"""Unpacking one Kinesis record into its events (``runtime/ingest.py``, ``record_events``):
KPL aggregates and compressed records round trip, anything cut short or corrupt is a
``CorruptRecord`` (never another exception, never wrong events), a bomb is refused, and
a CloudWatch Logs subscription's gzip data is its log events."""

from __future__ import annotations

import gzip
import json
import random
import zlib

import pytest

from attak_cdk.runtime import aggregate
from attak_cdk.runtime.aggregate import CorruptRecord, compress, pack
from attak_cdk.runtime.handler import kinesis_records, record_events, stream_name
from attak_cdk.runtime.ingest import events
from tests.ingest_scenarios import cloudwatch_logs


def entries_of(count: int, size: int, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    keys = ["k", "clé-ü", "键🔑", "x" * 256, ""]
    return [(rng.choice(keys), rng.randbytes(rng.randint(0, size))) for _ in range(count)]


@pytest.mark.parametrize("count", [1, 2, 3, 17, 300])
@pytest.mark.parametrize("size", [0, 1, 127, 128, 20_000])
def test_an_aggregate_round_trips_its_entries_in_order(count: int, size: int) -> None:
    entries = entries_of(count, size, seed=count * 1000 + size)
    assert events(pack(entries), "outer") == entries
    assert events(compress(pack(entries)), "outer") == entries


def test_a_compressed_lone_event_is_its_data_with_the_record_s_key() -> None:
    assert events(compress(b'{"a": 1}'), "pk") == [("pk", b'{"a": 1}')]


def test_plain_data_is_one_event() -> None:
    assert events(b'{"a": 1}', "pk") == [("pk", b'{"a": 1}')]
    assert events(b"", "pk") == [("pk", b"")]


SMALL = pack([("k1", b'{"n": 1}'), ("k2", b"two"), ("k1", b"\x00\xff")])


@pytest.mark.parametrize("cut", range(1, len(SMALL)))
def test_an_aggregate_cut_at_any_byte_is_a_corrupt_record(cut: int) -> None:
    with pytest.raises(CorruptRecord):
        events(SMALL[:cut], "k")


@pytest.mark.parametrize("cut", range(len(aggregate.COMPRESSED_MAGIC), len(compress(SMALL))))
def test_a_compressed_aggregate_cut_at_any_byte_is_a_corrupt_record(cut: int) -> None:
    with pytest.raises(CorruptRecord):
        events(compress(SMALL)[:cut], "k")


@pytest.mark.parametrize("position", range(len(aggregate.KPL_MAGIC), len(SMALL)))
def test_an_aggregate_with_any_byte_changed_is_a_corrupt_record(position: int) -> None:
    changed = bytearray(SMALL)
    changed[position] ^= 0x40
    with pytest.raises(CorruptRecord):
        events(bytes(changed), "k")


def test_a_zlib_bomb_is_refused() -> None:
    bomb = aggregate.COMPRESSED_MAGIC + zlib.compress(b"\x00" * (aggregate.MAX_UNPACKED_BYTES + 1))
    with pytest.raises(CorruptRecord, match="inflates past 64 MiB"):
        events(bomb, "k")


def test_a_gzip_bomb_is_refused() -> None:
    bomb = gzip.compress(b"\x00" * (aggregate.MAX_UNPACKED_BYTES + 1))
    with pytest.raises(CorruptRecord, match="gzip data inflates past 64 MiB"):
        events(bomb, "k")


def test_a_cloudwatch_logs_data_message_is_one_event_per_log_event() -> None:
    out = events(cloudwatch_logs("DATA_MESSAGE", "START", "café ☃"), "pk")
    assert [key for key, _ in out] == ["pk", "pk"]
    assert [json.loads(data) for _, data in out] == [
        {
            "id": "0",
            "timestamp": 1_700_000_000_000,
            "message": "START",
            "logGroup": "/aws/lambda/checkout",
            "logStream": "2024/01/01/[$LATEST]abc",
        },
        {
            "id": "1",
            "timestamp": 1_700_000_000_001,
            "message": "café ☃",
            "logGroup": "/aws/lambda/checkout",
            "logStream": "2024/01/01/[$LATEST]abc",
        },
    ]


def test_a_cloudwatch_logs_control_message_carries_no_event() -> None:
    assert events(cloudwatch_logs("CONTROL_MESSAGE", "CWL CONTROL MESSAGE"), "pk") == []


def test_other_gzip_data_is_its_decompressed_bytes() -> None:
    assert events(gzip.compress(b'{"messageType": 7}'), "pk") == [("pk", b'{"messageType": 7}')]
    assert events(gzip.compress(b"\x00\x01"), "pk") == [("pk", b"\x00\x01")]


def test_corrupt_or_truncated_gzip_is_a_corrupt_record() -> None:
    data = cloudwatch_logs("DATA_MESSAGE", "x")
    with pytest.raises(CorruptRecord, match="gzip data is truncated"):
        events(data[:-10], "pk")
    with pytest.raises(CorruptRecord, match="gzip data is corrupt"):
        events(data[:-8] + bytes(8), "pk")  # its CRC-32 does not match


def test_record_events_number_the_events_of_one_record() -> None:
    records = record_events("4962", "outer", pack([("a", b"1"), ("b", b"2")]), "clicks")
    assert [(r.sequence, r.key, r.payload, r.sub, r.error) for r in records] == [
        ("4962", "a", b"1", 0, None),
        ("4962", "b", b"2", 1, None),
    ]


def test_a_corrupt_record_is_one_record_whose_error_names_stream_and_sequence() -> None:
    data = SMALL[:-1]
    [record] = record_events("49620000000017", "pk", data, "clicks")
    assert (record.sequence, record.key, record.payload) == ("49620000000017", "pk", data)
    assert isinstance(record.error, CorruptRecord)
    assert str(record.error) == (
        "stream 'clicks', record 49620000000017: aggregated record's checksum does not match "
        "(corrupt or truncated)"
    )


def test_kinesis_records_read_the_stream_name_from_the_event_source_arn() -> None:
    assert stream_name("arn:aws:kinesis:us-east-1:123456789012:stream/clicks") == "clicks"
    event = {
        "Records": [
            {
                "kinesis": {"sequenceNumber": "7", "partitionKey": "p", "data": "84mawgA="},
                "eventSource": "aws:kinesis",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/clicks",
            }
        ]
    }
    [record] = kinesis_records(event)
    assert str(record.error).startswith("stream 'clicks', record 7: ")
