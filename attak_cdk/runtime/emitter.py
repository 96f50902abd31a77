"""Buffered Kinesis PutRecords: how emits leave a processor in AWS.

Records are sent in calls of at most 500 records and 5 MiB (PutRecords' limits). Entries
that come back throttled or failed are retried alone, with exponential backoff and jitter;
whole calls that are throttled, time out or fail with a 5xx are retried the same way. If
records still fail after the last attempt, ``EmitError`` is raised so the handler fails
and Lambda retries the batch: an emit is never lost.

Under partial failures a retried record lands after records sent later in the same call,
so order per partition key is kept only when no entry had to be retried (as with any
PutRecords producer).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from .context import Emit
from .envelope import EmitError, new_id

MAX_RECORDS_PER_CALL = 500
MAX_BYTES_PER_CALL = 5 * 1024 * 1024
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

Entry = tuple[str, bytes]
"""(partition key, data)"""


def chunks(entries: Sequence[Entry]) -> Iterator[Sequence[Entry]]:
    """Split entries into PutRecords calls of at most 500 records and 5 MiB, in order."""
    start, size = 0, 0
    for index, (key, data) in enumerate(entries):
        entry_size = len(data) + len(key.encode())
        if index > start and (
            index - start == MAX_RECORDS_PER_CALL or size + entry_size > MAX_BYTES_PER_CALL
        ):
            yield entries[start:index]
            start, size = index, 0
        size += entry_size
    if start < len(entries):
        yield entries[start:]


class KinesisEmitter:
    """The ``Transport`` used in Lambda (and by the Kinesis simulation engine)."""

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
        """PutRecords calls made, retries included (for benchmarks and logs)."""

    @classmethod
    def from_environment(cls) -> KinesisEmitter:
        import boto3
        from botocore.config import Config

        # botocore's own retries would hide partial failures' pacing; attak retries itself.
        return cls(boto3.client("kinesis", config=Config(retries={"max_attempts": 1})))

    def put(self, stream: str, emits: Sequence[Emit]) -> None:
        self.put_entries(
            stream,
            [
                (e.key or new_id(), e.payload.encode() if isinstance(e.payload, str) else e.payload)
                for e in emits
            ],
        )

    def put_entries(self, stream: str, entries: Sequence[Entry]) -> None:
        """Write every entry to ``stream`` or raise ``EmitError`` saying how many failed."""
        for chunk in chunks(entries):
            self._put_chunk(stream, chunk)

    def _put_chunk(self, stream: str, chunk: Sequence[Entry]) -> None:
        remaining = list(chunk)
        target = {"StreamARN": stream} if stream.startswith("arn:") else {"StreamName": stream}
        reasons: dict[str, int] = {}
        for attempt in range(1, self.max_attempts + 1):
            self.calls += 1
            try:
                response = self.client.put_records(
                    Records=[{"Data": data, "PartitionKey": key} for key, data in remaining],
                    **target,
                )
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                if code not in RETRYABLE_CODES and status < 500:
                    raise EmitError(
                        f"PutRecords to stream '{stream}' was refused: {code}: {exc}"
                    ) from exc
                reasons = {code or f"HTTP {status}": len(remaining)}
            except _NETWORK_ERRORS as exc:
                reasons = {type(exc).__name__: len(remaining)}
            else:
                if not response.get("FailedRecordCount"):
                    return
                failed = []
                reasons = {}
                for entry, result in zip(remaining, response["Records"], strict=True):
                    code = result.get("ErrorCode")
                    if code:
                        failed.append(entry)
                        reasons[code] = reasons.get(code, 0) + 1
                remaining = failed
                if not remaining:
                    return
            if attempt < self.max_attempts:
                self.sleep(self.backoff(attempt))
        detail = ", ".join(f"{count}x {code}" for code, count in sorted(reasons.items()))
        raise EmitError(
            f"{len(remaining)} of {len(chunk)} records could not be written to stream "
            f"'{stream}' after {self.max_attempts} attempts ({detail}); the batch fails "
            "so Lambda retries it and nothing is lost"
        )

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: between half and all of base * 2^(attempt-1)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return float(ceiling * (0.5 + self.jitter() / 2))
