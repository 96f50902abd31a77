"""Writing emits to existing streams at the edges of a topology: the event's JSON, no more.

A route the stack marks ``external`` (``config.ROUTES_FILE``: ``{"stream": ARN, "topic",
"to", "external": "kinesis" | "firehose"}``) leads out of attak, to consumers that are not
attak's: each emit becomes one record whose data is its event's JSON (UTF-8, compact), with
no envelope and no aggregation.

- Kinesis (``kinesis``): PutRecords on the stream's ARN through ``KinesisEmitter.write``,
  so with its rounds, retries and per-key order under partial failures. The partition key
  is the emit's ``key``, or a random one (spread over the shards, as attak's own keyless
  emits are).
- Firehose (``firehose``): PutRecordBatch, at most 500 records and 4 MiB per call, each
  record at most 1,000 KiB; each record ends with a newline, since Firehose concatenates
  records as they are and AWS's answer to telling them apart at the destination is "a
  delimiter in the data, such as a newline"
  (https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html). A
  call may succeed with some records failed ("FailedPutCount", each failed entry of
  "RequestResponses" with its "ErrorCode", same page): those are sent again, after
  backoff, as the Kinesis emitter sends its failed entries again.

Nothing is dropped silently: a record that still fails after ``max_attempts``, or a call
refused for good, raises ``WriteError`` (an ``EmitError``); the handler's batch fails,
Lambda retries it and, after the stream's ``retry_attempts``, sends it to the processor's
dead-letter queue, as for attak's own writes. An event too large for Firehose is refused
earlier, at ``emit`` (``context.py``), so the runtime dead-letters it with its data; the
check here stands behind that one.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from collections.abc import Mapping, Sequence

from .config import FIREHOSE, FIREHOSE_MAX_RECORD_BYTES, KINESIS
from .context import Emit
from .emitter import (
    KinesisEmitter,
    Retrying,
    WriteError,
)
from .envelope import decode, new_id
from .handler import Transport
from .records import OutgoingRecord

# PutRecordBatch's limits, "These limits cannot be changed":
# https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html
FIREHOSE_MAX_RECORDS_PER_CALL = 500
FIREHOSE_MAX_BYTES_PER_CALL = 4 * 1024 * 1024
DELIMITER = b"\n"

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def event_json(emit: Emit) -> bytes:
    """The JSON of the event an emit carries, as consumers outside attak read it."""
    return _encode(decode(emit.payload, "")["data"]).encode()


def kinesis_records(emits: Sequence[Emit]) -> list[OutgoingRecord]:
    """One record per emit, its data the event's JSON; a key's records share an order
    bucket (the emitter writes a bucket's records one after the other, in emit order)."""
    buckets: dict[str, int] = {}
    records = []
    for emit in emits:
        key = emit.key
        bucket = None if key is None else buckets.setdefault(key, len(buckets))
        records.append(OutgoingRecord(key or new_id(), None, event_json(emit), 1, bucket))
    return records


class FirehoseWriter(Retrying):
    """PutRecordBatch into a delivery stream (named by its ARN), retrying failed records
    (``calls`` counts PutRecordBatch calls)."""

    def put(self, arn: str, emits: Sequence[Emit]) -> None:
        """Write one record per emit (the event's JSON and a newline), or raise
        ``WriteError`` (see the module docstring)."""
        name = arn.rpartition("/")[2]  # PutRecordBatch names the stream, not its ARN
        data = [event_json(emit) + DELIMITER for emit in emits]
        for index, record in enumerate(data):
            if len(record) > FIREHOSE_MAX_RECORD_BYTES:
                raise WriteError(
                    f"record {index + 1} of {len(data)} for delivery stream '{name}' is "
                    f"{len(record)} bytes, over Firehose's {FIREHOSE_MAX_RECORD_BYTES} "
                    "(1,000 KiB): emit smaller events there; the batch fails so Lambda "
                    "retries it and dead-letters it",
                    "a record is over Firehose's 1,000 KiB",
                )

        def refused(why: str) -> WriteError:
            return WriteError(
                f"PutRecordBatch to delivery stream '{name}' was refused: {why}",
                f"PutRecordBatch was refused: {why}",
            )

        unsent = deque(range(len(data)))
        failures = [0] * len(data)
        reasons: Counter[str] = Counter()
        while unsent:
            call: list[int] = []
            size = 0
            while unsent and len(call) < FIREHOSE_MAX_RECORDS_PER_CALL:
                grows = len(data[unsent[0]])
                if call and size + grows > FIREHOSE_MAX_BYTES_PER_CALL:
                    break
                call.append(unsent.popleft())
                size += grows
            failed: list[int] = []
            response = self.send(
                call,
                self.client.put_record_batch,
                {"DeliveryStreamName": name, "Records": [{"Data": data[i]} for i in call]},
                refused,
                reasons,
            )
            if response is None:
                failed = call
            elif response.get("FailedPutCount", 0):
                for index, result in zip(call, response["RequestResponses"], strict=True):
                    code = result.get("ErrorCode")
                    if code:
                        failed.append(index)
                        reasons[code] += 1
            if not failed:
                continue
            unsent.extendleft(reversed(failed))
            worst = self.count_failures(failed, failures)
            if worst >= self.max_attempts:
                detail = ", ".join(f"{count}x {code}" for code, count in sorted(reasons.items()))
                reason = f"a record failed {self.max_attempts} attempts ({detail})"
                raise WriteError(
                    f"{len(unsent)} of {len(data)} records could not be written to delivery "
                    f"stream '{name}': {reason}; the batch fails so Lambda retries it and "
                    "nothing is lost",
                    reason,
                )
            self.sleep(self.backoff(worst))


class EdgeTransport:
    """The Lambda transport of a processor that writes to existing streams: a route
    marked external goes out as its kind says, every other one to ``inner`` (attak's
    own records)."""

    def __init__(
        self,
        inner: Transport,
        external: Mapping[str, str],
        kinesis: KinesisEmitter,
        firehose: FirehoseWriter | None = None,
    ) -> None:
        self.inner = inner
        self.external = dict(external)
        self.kinesis = kinesis
        self.firehose = firehose

    def put(self, stream: str, emits: Sequence[Emit]) -> None:
        kind = self.external.get(stream)
        if kind is None:
            self.inner.put(stream, emits)
        elif kind == KINESIS:
            self.kinesis.write(stream, kinesis_records(emits))
        elif self.firehose is not None:
            self.firehose.put(stream, emits)
        else:
            raise WriteError(
                f"no Firehose client for delivery stream '{stream}'", "no Firehose client"
            )


def edge_transport(emitter: KinesisEmitter, external: Mapping[str, str]) -> Transport:
    """``emitter`` as it is, or wrapped to write the ``external`` routes (stream ARN ->
    kind) too; a Firehose client is made only for a processor that writes to one."""
    if not external:
        return emitter
    firehose = None
    if FIREHOSE in external.values():
        import boto3
        from botocore.config import Config

        # As the emitter's client: attak paces its own retries of failed records.
        firehose = FirehoseWriter(
            boto3.client("firehose", config=Config(retries={"max_attempts": 1}))
        )
    return EdgeTransport(emitter, external, emitter, firehose)
