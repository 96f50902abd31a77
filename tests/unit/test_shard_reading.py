"""Reading a shard as Lambda's poller does: an expired iterator is renewed, and the run
does not take the shard for read to its end until a read with the new iterator says so."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from attak_cdk.model import StreamSettings
from attak_cdk.simulate.resources import KinesisStream, ShardReader
from attak_cdk.simulate.shard_reading import ShardReading


class ExpiringKinesis:
    """A Kinesis whose first iterator has expired (they live five minutes)."""

    def __init__(self) -> None:
        self.renewed: dict[str, Any] = {}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        if ShardIterator == "expired":
            error = {"Error": {"Code": "ExpiredIteratorException", "Message": "expired"}}
            raise ClientError(error, "GetRecords")  # type: ignore[arg-type]
        record = {"SequenceNumber": "2", "Data": b"late", "PartitionKey": "k"}
        return {"Records": [record], "NextShardIterator": "next", "MillisBehindLatest": 0}

    def get_shard_iterator(self, **request: Any) -> dict[str, Any]:
        self.renewed = request
        return {"ShardIterator": "renewed"}


def test_an_expired_iterator_is_renewed_after_the_last_record_and_the_shard_read_again() -> None:
    kinesis = ExpiringKinesis()
    reading = ShardReading(kinesis, clock=lambda: 0.0, retry_delay=0.0)
    stream = KinesisStream(name="a->b", physical="run-a-b", consumer="b", settings=StreamSettings())
    # An earlier read found the shard at its tip, then no read came for five minutes.
    reader = ShardReader(shard_id="shard-0", iterator="expired", last_read="1", caught_up=True)

    assert reading.read(stream, reader, limit=100) == 0
    assert reader.caught_up is False  # records may have come meanwhile: not the end
    assert (reader.iterator, kinesis.renewed["StartingSequenceNumber"]) == ("renewed", "1")
    assert kinesis.renewed["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER"
    assert reading.read(stream, reader, limit=100) == 1
    (lane,) = reader.lanes
    assert [r["Data"] for r in lane.buffer] == [b"late"]
