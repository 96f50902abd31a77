"""What Lambda hands a function that reads Kinesis, and how it reads the answer back.

The Kinesis engine invokes processors with these: the event of a batch of GetRecords'
records (base64 data, sequence numbers, partition keys, ``eventSource: aws:kinesis``),
cut to fit one invoke payload, the context object a handler may read, and the partial
batch response (``batchItemFailures``) read back as Lambda reads it. Pure shapes: no
endpoint and no engine state, so they can be tested on their own.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

ACCOUNT = "000000000000"
"""The placeholder account of every ARN a local run makes up."""
LOCAL_REGION = "us-east-1"
"""The region of an in-memory run's ARNs (the Kinesis engine uses its endpoint's)."""
MAX_INVOKE_PAYLOAD = 6 * 1024 * 1024
"""Lambda's limit on a synchronous invocation's event: a batch is cut before it."""


def function_arn(processor: str, region: str) -> str:
    """The ARN of ``processor``'s function, as Lambda names it in contexts and records."""
    return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{processor}"


class LambdaContext:
    """The parts of Lambda's context object a handler may read, for a local invocation.

    ``request_id`` (default: a random UUID, as Lambda's; a number is that UUID's value) is
    the invocation's ``aws_request_id``; ``restart`` makes the same object the next
    invocation's, for an engine that hands several invocations to the runtime at once.
    """

    def __init__(
        self, processor: str, timeout: int, memory: int, region: str, request_id: int | str = ""
    ) -> None:
        self.function_name = processor
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_arn(processor, region)
        self.memory_limit_in_mb = memory
        self.log_group_name = f"/aws/lambda/{processor}"
        self.log_stream_name = "local"
        self._timeout = timeout
        self._request = request_id or str(uuid.uuid4())
        self._deadline = time.monotonic() + timeout

    @property
    def aws_request_id(self) -> str:
        """A UUID; a number given as the id is spelled as one only when asked (most
        handlers never ask, and an engine may start an invocation per record)."""
        request = self._request
        return request if isinstance(request, str) else str(uuid.UUID(int=request))

    @property
    def request(self) -> int | str:
        """The request id as given: what ``restart`` takes to go on under the same id."""
        return self._request

    def restart(self, request_id: int | str) -> None:
        """Become the context of a new invocation: its id, and its full time again."""
        self._request = request_id
        self._deadline = time.monotonic() + self._timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def kinesis_event(
    records: Iterable[Mapping[str, Any]], stream_arn: str, shard_id: str, region: str
) -> dict[str, Any]:
    """The event Lambda's event-source mapping hands a function for GetRecords' records."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record["PartitionKey"],
                    "sequenceNumber": record["SequenceNumber"],
                    "data": base64.b64encode(record["Data"]).decode("ascii"),
                    "approximateArrivalTimestamp": arrival_time(record),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{record['SequenceNumber']}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/attak-local",
                "awsRegion": region,
                "eventSourceARN": stream_arn,
            }
            for record in records
        ]
    }


def within_payload(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The leading ``records`` whose event fits in one invoke payload (at least one)."""
    batch: list[dict[str, Any]] = []
    payload = 0
    for record in records:
        # base64 data plus the record's JSON keys and metadata (about 600 bytes)
        weight = (len(record["Data"]) + 2) // 3 * 4 + len(record["PartitionKey"]) + 600
        if batch and payload + weight > MAX_INVOKE_PAYLOAD:
            break
        batch.append(record)
        payload += weight
    return batch


def failed_index(response: Any, sequences: list[str]) -> int | None:
    """Where a partial batch response says the batch failed, as Lambda reads it.

    ``None``: every record succeeded. An identifier that is missing, empty or not in the
    batch fails the whole batch (index 0); of several, the lowest position counts, since
    Lambda checkpoints only below it.
    """
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if not failures:
        return None
    positions = {sequence: index for index, sequence in enumerate(sequences)}
    found = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in positions:
            return 0
        found.append(positions[identifier])
    return min(found)


def arrival_time(record: Mapping[str, Any]) -> float:
    """When Kinesis took the record in (epoch seconds); now, if the endpoint gave no time."""
    stamp = record.get("ApproximateArrivalTimestamp")
    return stamp.timestamp() if isinstance(stamp, datetime) else time.time()


def iso_timestamp(seconds: float) -> str:
    """Epoch seconds in the form Lambda's on-failure records use."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")
