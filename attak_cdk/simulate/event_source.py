"""Lambda's event-source mapping over a run's shards: when a batch goes to its consumer.

One reader per shard reads up to ``batch_size`` records into its lanes: one, or
``parallelization_factor`` (Lambda's concurrent batches per shard), a partition key
always in the same lane. Each lane holds a batch back up to ``max_batching_window`` to
fill up (and cuts it at Lambda's 6 MB invoke payload), then invokes the consumer with a
Kinesis event. The ``batchItemFailures`` it returns are read as Lambda reads them:
records before the failing one are checkpointed, the batch is retried from it or
bisected, and after ``retry_attempts`` (or past ``max_record_age``) the records go to
the on-failure destination. Each lane has its own batch, window, retry state and
checkpoint: a failing record holds up only its lane, while the shard's reader reads on
for the others; a lane that retries keeps what is read for it, so no record is dropped
or read twice. Those rules are ``engine.py``'s, shared with the memory engine; the
mapping knows nothing of runners or results: the engine hands it the two calls Lambda's
mapping makes, invoke and on-failure.

Shards are read in rounds, one read per shard and one batch per lane per round, in one
thread: handler output is captured per invocation and runs are easy to follow. A drain
ends at quiescence: no batch buffered or waiting for a retry, and one whole round in
which every shard's GetRecords came back empty and caught up (``MillisBehindLatest`` 0).
Handlers run only inside a round and write synchronously, so after such a round nothing
more can arrive.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from .dead_letters import RECORD_AGE_EXCEEDED, RETRIES_EXHAUSTED
from .engine import batch_failed, batch_succeeded
from .lambda_events import arrival_time, failed_index, kinesis_event, within_payload
from .resources import KinesisStream, Lane, ShardReader
from .shard_reading import ShardReading

Invoke = Callable[
    [KinesisStream, dict[str, Any], int], tuple[dict[str, Any] | None, BaseException | None]
]
"""Invoke the stream's consumer with an event, as attempt n: its partial batch response
(``None`` when it raised as a whole) and its error."""
OnFailure = Callable[
    [KinesisStream, ShardReader, list[dict[str, Any]], BaseException, int, str], None
]
"""Records that leave the shard unprocessed: stream, reader, records, the error, the
attempts made and the condition (``RetryAttemptsExhausted`` or ``RecordAgeExceeded``)."""


class EventSourceMapping:
    """Polls ``streams`` through ``reading`` and hands ready batches to ``invoke``."""

    def __init__(
        self,
        streams: Iterable[KinesisStream],
        reading: ShardReading,
        *,
        invoke: Invoke,
        on_failure: OnFailure,
        region: str,
        clock: Callable[[], float],
        idle_sleep: float,
    ) -> None:
        self.streams = list(streams)
        self.reading = reading
        self.invoke = invoke
        self.on_failure = on_failure
        self.region = region
        self.clock = clock
        self.idle_sleep = idle_sleep
        """Pause between rounds when every shard is only waiting for a batching window."""

    def drain(self) -> None:
        """Poll every shard, round after round, until the topology is quiet (see above)."""
        while True:
            busy = False
            for stream in self.streams:
                for reader in stream.shards:
                    busy = self._poll(stream, reader) or busy
            if busy:
                continue
            if all(r.caught_up and not r.buffered() for s in self.streams for r in s.shards):
                return
            time.sleep(self.idle_sleep)  # only batching windows are left to run out

    def pending(self) -> int:
        """Records buffered by the readers plus those still unread in the streams."""
        return sum(
            reader.buffered() + self.reading.unread(reader)
            for stream in self.streams
            for reader in stream.shards
        )

    def _poll(self, stream: KinesisStream, reader: ShardReader) -> bool:
        """Read the shard, then invoke its consumer for each lane with a batch ready.
        Return whether anything happened (records read or a batch invoked)."""
        settings = stream.settings
        lanes = reader.lanes
        read = 0
        shortest = min(len(lane.buffer) for lane in lanes)
        if shortest < settings.batch_size and reader.iterator is not None:
            # Enough for a batch in the emptiest lane, or a batch in each (with factor 1
            # both are what the lane lacks of a batch).
            limit = max(
                settings.batch_size - shortest,
                settings.batch_size * len(lanes) - reader.buffered(),
            )
            read = self.reading.read(stream, reader, limit)
        busy = read > 0
        now = self.clock()
        for lane in lanes:
            if lane.buffer:
                busy = self._poll_lane(stream, reader, lane, now) or busy
        return busy

    def _poll_lane(
        self, stream: KinesisStream, reader: ShardReader, lane: Lane, now: float
    ) -> bool:
        """Invoke the consumer with the lane's batch if it is ready; return whether
        anything happened (records expired or a batch invoked)."""
        settings = stream.settings
        if settings.max_record_age is not None:
            self._expire(stream, reader, lane, now - settings.max_record_age)
            if not lane.buffer:
                return True
        ready = (
            len(lane.buffer) >= settings.batch_size
            or lane.failures > 0  # a retry does not wait for the window again
            or now - lane.since >= settings.max_batching_window
        )
        if not ready:
            return False
        self._invoke_batch(stream, reader, lane)
        return True

    def _invoke_batch(self, stream: KinesisStream, reader: ShardReader, lane: Lane) -> None:
        # The next batch: up to batch_size (or the bisect window), under 6 MB of event.
        size = min(stream.settings.batch_size, lane.window or stream.settings.batch_size)
        batch = within_payload(lane.buffer[:size])
        event = kinesis_event(batch, stream.arn, reader.shard_id, self.region)
        response, error = self.invoke(stream, event, lane.failures + 1)
        # No response at all means the function failed as a whole: the batch failed at 0.
        index = (
            0 if response is None else failed_index(response, [r["SequenceNumber"] for r in batch])
        )
        if index is None:
            del lane.buffer[: len(batch)]
            batch_succeeded(lane)
            return
        if index:
            del lane.buffer[:index]  # checkpointed: the failing record is the new head
        if error is None:
            error = RuntimeError("the batch response reported a failure")
        whole = response is None
        if not batch_failed(lane, stream.settings, index, len(batch) - index, whole=whole):
            return
        failing = batch[index:]
        del lane.buffer[: len(failing)]
        self.on_failure(stream, reader, failing, error, lane.failures, RETRIES_EXHAUSTED)
        batch_succeeded(lane)

    def _expire(
        self, stream: KinesisStream, reader: ShardReader, lane: Lane, oldest: float
    ) -> None:
        """Records older than max_record_age leave the lane as dead letters unprocessed."""
        expired = 0
        for record in lane.buffer:
            if arrival_time(record) >= oldest:
                break
            expired += 1
        if not expired:
            return
        records = lane.buffer[:expired]
        del lane.buffer[:expired]
        error = TimeoutError(f"record older than max_record_age {stream.settings.max_record_age} s")
        self.on_failure(stream, reader, records, error, lane.failures, RECORD_AGE_EXCEEDED)
        batch_succeeded(lane)
