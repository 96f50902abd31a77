"""Kinesis PutRecords for a processor's emits: aggregated records, order kept per key.

``put(stream, emits)`` writes ``records.records_for(emits)``: the emits packed into KPL
aggregated records (compressed where that pays), keyed emits grouped by key bucket, every
record of a bucket written with the bucket's explicit hash key so a key stays on one shard.

Order per key under partial failure. PutRecords writes each entry of a call on its own:
an entry can come back throttled while later entries of the same call are written, so
PutRecords alone does not keep order ("A single record failure does not stop the
processing of subsequent records. As a result, PutRecords doesn't guarantee the ordering
of records": https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html).
The emitter therefore writes in rounds: a call carries at most ONE record of each key
bucket, the oldest one not yet written, plus any number of records of keyless emits
(which need no order), within 500 records and 5 MiB. A bucket's next record is sent only
once the one before it has landed, so whatever fails and is retried, a bucket's records
are written in emit order.

Failures. Entries that come back failed are sent again in a later round, after
exponential backoff with jitter. A whole call that is throttled, fails with a 5xx or a
network error is retried as a round; when the answer was lost after the write happened,
the records are written again, in order (at-least-once: duplicates, never gaps). A record
that has failed ``max_attempts`` times raises ``EmitError``: the handler fails, Lambda
retries the batch, and nothing is lost. A refusal retrying cannot cure (a missing
stream, denied access) raises ``EmitError`` at once.

Where records landed. ``write`` may be given a ``landed`` callback: it is called once per
record as PutRecords answers that it was written, with the record's index in ``records``,
its shard id and its sequence number (a written record's result entry carries both:
https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecordsResultEntry.html).
Outside producers (``producer.Producer``) report each event's place from it.
"""

from __future__ import annotations

import random
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from .context import Emit
from .envelope import EmitError
from .records import OutgoingRecord, Tally, records_for

Landed = Callable[[int, str, str], None]
"""Told of each record written: its index in the records given, shard id, sequence number."""

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
"""PutRecords' limits on one call: records, and bytes of data plus partition keys."""
RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "LimitExceededException",
        "KMSThrottlingException",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)
_NETWORK_ERRORS = (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)


class WriteError(EmitError):
    """Records that could not be written to a stream. ``reason`` says why, without what
    the handler's caller does about it (the message adds that Lambda retries the batch)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def record_size(record: OutgoingRecord) -> int:
    """What a record counts against a call's 5 MiB: its data and partition key."""
    return len(record.data) + len(record.partition_key.encode())


def request_entry(record: OutgoingRecord) -> dict[str, Any]:
    """A record as a PutRecords request entry."""
    entry: dict[str, Any] = {"Data": record.data, "PartitionKey": record.partition_key}
    if record.explicit_hash_key is not None:
        entry["ExplicitHashKey"] = record.explicit_hash_key
    return entry


class _Unsent:
    """The records of one ``put`` not yet written: a queue per key bucket (only its head
    may be in flight) and the keyless records (any of them may be)."""

    def __init__(self, records: Sequence[OutgoingRecord]) -> None:
        self.records = records
        self.buckets: dict[int, deque[int]] = {}
        self.keyless: deque[int] = deque()
        for index, record in enumerate(records):
            if record.bucket is None:
                self.keyless.append(index)
            else:
                self.buckets.setdefault(record.bucket, deque()).append(index)
        self.count = len(records)

    def next_call(self) -> list[int]:
        """The records of the next call: each bucket's head, then keyless records, oldest
        first, within 500 records and 5 MiB (the first record always fits: a record is at
        most 1 MiB)."""
        call: list[int] = []
        size = 0
        records = self.records
        for queue in self.buckets.values():
            grows = record_size(records[queue[0]])
            if call and size + grows > MAX_BYTES_PER_CALL:
                continue  # this bucket waits a round; a smaller head may still fit
            call.append(queue[0])
            size += grows
            if len(call) == MAX_RECORDS_PER_CALL:
                return call
        keyless = self.keyless
        while keyless and len(call) < MAX_RECORDS_PER_CALL:
            grows = record_size(records[keyless[0]])
            if call and size + grows > MAX_BYTES_PER_CALL:
                break
            call.append(keyless.popleft())
            size += grows
        return call

    def landed(self, index: int) -> None:
        self.count -= 1
        bucket = self.records[index].bucket
        if bucket is not None:
            queue = self.buckets[bucket]
            queue.popleft()  # only a bucket's head is ever sent
            if not queue:
                del self.buckets[bucket]

    def failed(self, indexes: Sequence[int]) -> None:
        """Keyless records that failed go back to the front; a bucket's head stays."""
        for index in reversed(indexes):
            if self.records[index].bucket is None:
                self.keyless.appendleft(index)


class Retrying:
    """How a writer makes its calls and paces its retries: one call's errors sorted into
    refused (raised) and worth retrying (``send``), a record gets ``max_attempts``, and
    rounds are spaced by exponential backoff with jitter. The Kinesis emitter and the
    writers to existing streams (``edges.py``) share it."""

    def __init__(
        self,
        client: Any,
        *,
        max_attempts: int = 8,
        base_delay: float = 0.05,
        max_delay: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep
        self.jitter = jitter
        self.calls = 0
        """Calls made, retries included (for benchmarks and logs)."""

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: between half and all of base * 2^(attempt-1)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return float(ceiling * (0.5 + self.jitter() / 2))

    def send(
        self,
        call: Sequence[int],
        operation: Callable[..., Any],
        request: dict[str, Any],
        refused: Callable[[str], WriteError],
        reasons: Counter[str],
    ) -> Any | None:
        """Make one call of a round, ``operation(**request)`` for the records ``call``
        indexes: its response, or ``None`` when the whole call failed in a way worth
        retrying, counted in ``reasons`` for each record. An error retrying cannot cure
        raises ``refused(why)``."""
        self.calls += 1
        try:
            return operation(**request)
        except ClientError as exc:
            problem = _refusal(exc)
            if problem is not None:
                raise refused(problem) from exc
            reasons[_failure_code(exc)] += len(call)
        except _NETWORK_ERRORS as exc:
            # The write may have happened (a lost answer): sending the round again may
            # write these records twice (at least once), still in their order.
            reasons[type(exc).__name__] += len(call)
        return None

    @staticmethod
    def count_failures(failed: Sequence[int], failures: list[int]) -> int:
        """One more failure for each record of ``failed``; the most any of them has had."""
        worst = 0
        for index in failed:
            failures[index] += 1
            worst = max(worst, failures[index])
        return worst


def _refusal(exc: ClientError) -> str | None:
    """``Code: message`` of an error retrying cannot cure (a missing stream, denied
    access), or ``None`` for one worth retrying (throttling, a 5xx)."""
    code = exc.response.get("Error", {}).get("Code", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code not in RETRYABLE_CODES and status < 500:
        return f"{code}: {exc}"
    return None


def _failure_code(exc: ClientError) -> str:
    """How a retried error is counted in a ``WriteError``'s reason."""
    code = exc.response.get("Error", {}).get("Code", "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return str(code or f"HTTP {status}")


class KinesisEmitter(Retrying):
    """The ``Transport`` used in Lambda (and by the Kinesis simulation engine); ``calls``
    counts its PutRecords calls."""

    def __init__(
        self,
        client: Any,
        *,
        max_attempts: int = 8,
        base_delay: float = 0.05,
        max_delay: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(
            client,
            max_attempts=max_attempts,
            base_delay=base_delay,
            max_delay=max_delay,
            sleep=sleep,
            jitter=jitter,
        )
        self.written: dict[str, Tally] = {}
        """Per stream, what has landed: each record counted once, when PutRecords says
        it was written (a record written twice after a lost answer counts once)."""

    @classmethod
    def from_environment(cls) -> KinesisEmitter:
        import boto3
        from botocore.config import Config

        # botocore's own retries would hide partial failures' pacing; attak retries itself.
        return cls(boto3.client("kinesis", config=Config(retries={"max_attempts": 1})))

    def put(self, stream: str, emits: Sequence[Emit]) -> None:
        """Write ``emits`` to ``stream`` as aggregated records, a key's in emit order, or
        raise ``EmitError`` (see the module docstring)."""
        records = records_for(emits)
        if records:
            self.write(stream, records)

    def write(
        self, stream: str, records: Sequence[OutgoingRecord], landed: Landed | None = None
    ) -> None:
        """Write ``records`` to ``stream``, a bucket's in order, or raise ``WriteError``;
        ``landed`` is told where each record was written, as PutRecords answers."""
        tally = self.written.setdefault(stream, Tally())
        target = {"StreamARN": stream} if stream.startswith("arn:") else {"StreamName": stream}
        unsent = _Unsent(records)
        failures = [0] * len(records)
        reasons: Counter[str] = Counter()

        def refused(why: str) -> WriteError:
            return WriteError(
                f"PutRecords to stream '{stream}' was refused: {why}",
                f"PutRecords was refused: {why}",
            )

        while unsent.count:
            call = unsent.next_call()
            failed: list[int] = []
            response = self.send(
                call,
                self.client.put_records,
                {"Records": [request_entry(records[i]) for i in call], **target},
                refused,
                reasons,
            )
            if response is None:
                failed = call
            else:
                for index, result in zip(call, response["Records"], strict=True):
                    code = result.get("ErrorCode")
                    if code:
                        failed.append(index)
                        reasons[code] += 1
                    else:
                        unsent.landed(index)
                        tally.add(records[index])
                        if landed is not None:
                            landed(index, result["ShardId"], result["SequenceNumber"])
            if not failed:
                continue
            unsent.failed(failed)
            worst = self.count_failures(failed, failures)
            if worst >= self.max_attempts:
                raise self._gave_up(stream, records, unsent.count, reasons)
            self.sleep(self.backoff(worst))

    def _gave_up(
        self,
        stream: str,
        records: Sequence[OutgoingRecord],
        unsent: int,
        reasons: Counter[str],
    ) -> WriteError:
        detail = ", ".join(f"{count}x {code}" for code, count in sorted(reasons.items()))
        events = sum(r.events for r in records)
        reason = f"a record failed {self.max_attempts} attempts ({detail})"
        return WriteError(
            f"{unsent} of {len(records)} records ({events} events) could not be written to "
            f"stream '{stream}': {reason}; the batch fails so Lambda retries it and nothing "
            "is lost",
            reason,
        )
