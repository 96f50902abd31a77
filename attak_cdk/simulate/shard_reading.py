"""GetRecords on a run's shards, as Lambda's event-source mapping calls it.

Each read continues from the reader's iterator and appends what came back to the
reader's lanes, each record to its partition key's lane, where the engine's poll loop
batches it. A failed call (an error, a timeout, a dropped connection) counts and is
simply tried again a moment later; an expired iterator (they live 5 minutes) is renewed
just after the last record read: every record read before it is in a lane until
finished, so none is lost or read again.

Duplicates are what at-least-once delivery allows: a PutRecords call whose answer was
lost after the write, or a batch retried after some of its emits went out. A consumer
reading the same bytes (same trace, hop, sender, topic and data) again under another
sequence number counts one duplicate; the run reports them in ``result.engine``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .engine import key_lane
from .resources import KinesisStream, Lane, ShardReader

MAX_GET_RECORDS = 10_000
"""GetRecords' own limit on records per call."""


class ShardReading:
    """Reads shards through ``kinesis`` and counts what it saw (for the run's figures)."""

    def __init__(self, kinesis: Any, clock: Callable[[], float], retry_delay: float) -> None:
        self.kinesis = kinesis
        self.clock = clock
        self.retry_delay = retry_delay
        """Pause before a shard is read again after GetRecords failed."""
        self.calls = 0
        self.errors = 0
        self.records = 0
        self.duplicates = 0
        self._seen: dict[str, dict[bytes, str]] = {}
        """Per stream: record data -> sequence number first read, to count duplicates."""

    def read(self, stream: KinesisStream, reader: ShardReader, limit: int) -> int:
        """One GetRecords of at most ``limit`` records into ``reader``'s lanes; return how
        many came."""
        self.calls += 1
        try:
            answer = self.kinesis.get_records(
                ShardIterator=reader.iterator, Limit=min(limit, MAX_GET_RECORDS)
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ExpiredIteratorException":
                reader.iterator = self._renew(stream, reader)
                # Records may have arrived since the last read: the shard is not known
                # to be read to its end until the new iterator says so.
                reader.caught_up = False
            else:
                self._failed(reader)
            return 0
        except BotoCoreError:  # a timeout or a dropped connection: read again shortly
            self._failed(reader)
            return 0
        records: list[dict[str, Any]] = answer["Records"]
        reader.iterator = answer.get("NextShardIterator")
        behind = answer.get("MillisBehindLatest", 0)
        reader.caught_up = not records and not behind
        if not records:
            return 0
        seen = self._seen.setdefault(stream.physical, {})
        for record in records:
            data: bytes = record["Data"]
            first = seen.setdefault(data, record["SequenceNumber"])
            if first != record["SequenceNumber"]:
                self.duplicates += 1
        lanes = reader.lanes
        if len(lanes) == 1:
            self._take(lanes[0], records)
        else:
            # How Lambda maps partition keys to a shard's concurrent batches is not
            # documented: a stable hash of the key keeps each key in one lane, in order.
            # ``key_lane`` over shards * lanes slices is the memory engine's mapping too.
            split: list[list[dict[str, Any]]] = [[] for _ in lanes]
            slices = max(len(stream.shards), 1) * len(lanes)
            for record in records:
                split[key_lane(record["PartitionKey"], slices) % len(lanes)].append(record)
            for lane, taken in zip(lanes, split, strict=True):
                if taken:
                    self._take(lane, taken)
        reader.last_read = records[-1]["SequenceNumber"]
        self.records += len(records)
        return len(records)

    def _take(self, lane: Lane, records: list[dict[str, Any]]) -> None:
        if not lane.buffer:
            lane.since = self.clock()  # the lane's batching window starts
        lane.buffer.extend(records)

    def unread(self, reader: ShardReader) -> int:
        """Records still in ``reader``'s shard past its iterator (read to the end, and not
        counted as reads: only a run stopped at a loop asks)."""
        count = 0
        while reader.iterator:
            try:
                answer = self.kinesis.get_records(
                    ShardIterator=reader.iterator, Limit=MAX_GET_RECORDS
                )
            except Exception:
                break
            count += len(answer["Records"])
            reader.iterator = answer.get("NextShardIterator")
            if not answer["Records"]:
                break
        return count

    def _failed(self, reader: ShardReader) -> None:
        self.errors += 1
        reader.caught_up = False
        time.sleep(self.retry_delay)

    def _renew(self, stream: KinesisStream, reader: ShardReader) -> str:
        """A new iterator just after the last record read."""
        if reader.last_read is None:
            kind: dict[str, str] = {"ShardIteratorType": "TRIM_HORIZON"}
        else:
            kind = {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "StartingSequenceNumber": reader.last_read,
            }
        answer = self.kinesis.get_shard_iterator(
            StreamName=stream.physical, ShardId=reader.shard_id, **kind
        )
        return str(answer["ShardIterator"])
