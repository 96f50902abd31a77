"""Dead letters on the endpoint: Lambda's on-failure records, in one SQS queue a processor.

Where the endpoint speaks SQS (moto server, LocalStack), every processor gets a
dead-letter queue for the run, and records that run out of retries (or past
``max_record_age``) are sent there as the message Lambda's on-failure destination
receives: a ``KinesisBatchInfo`` record for a stream's consumer, the request payload for
a direct invocation. kinesalite speaks no SQS: dead letters then stay in the run's
``dead_letters`` (where they always are too).
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .. import graph
from .lambda_events import arrival_time, function_arn, iso_timestamp
from .resources import EndpointError, KinesisStream
from .result import DeadLetter
from .timeouts import TIMED_OUT

RETRIES_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"


class DeadLetterQueues:
    """The run's dead-letter queues on the endpoint, by processor (none without SQS)."""

    def __init__(self, sqs: Any) -> None:
        self.sqs = sqs
        self.urls: dict[str, str] = {}
        self.sent = 0
        """Messages sent (for the run's figures)."""

    def create(self, run: str, processors: Iterable[str]) -> None:
        """One queue per processor, named for ``run``; none if the endpoint has no SQS."""
        for processor in processors:
            name = f"attak-{run}-{graph.processor_id(processor)}"[:60] + "-dead-letters"
            try:
                url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
            except (BotoCoreError, ClientError):
                return  # the endpoint speaks no SQS (kinesalite): dead letters stay local
            self.urls[processor] = url

    def send(self, processor: str, message: dict[str, Any]) -> None:
        """Lambda's on-failure record into the processor's queue, when there is one."""
        url = self.urls.get(processor)
        if url is None:
            return
        try:
            self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message, default=str))
        except Exception as exc:
            raise EndpointError(
                f"the dead letter of processor '{processor}' could not be sent to {url}: {exc}"
            ) from None
        self.sent += 1

    def messages(self, processor: str) -> list[dict[str, Any]]:
        """The on-failure records in ``processor``'s queue, taken out of it (empty without
        SQS)."""
        url = self.urls.get(processor)
        messages: list[dict[str, Any]] = []
        while url is not None:
            answer = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
            batch = answer.get("Messages", [])
            if not batch:
                break
            for message in batch:
                messages.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return messages

    def delete(self) -> None:
        """Delete every queue, quietly: one already gone, or an endpoint gone away, leaves
        nothing to clean."""
        for url in self.urls.values():
            with contextlib.suppress(BotoCoreError, ClientError):
                self.sqs.delete_queue(QueueUrl=url)


def batch_message(
    stream: KinesisStream,
    shard_id: str,
    records: list[dict[str, Any]],
    condition: str,
    attempts: int,
    region: str,
) -> dict[str, Any]:
    """Lambda's on-failure record for ``records`` (GetRecords' own dicts, in order) that
    left ``stream``'s shard unprocessed under ``condition``."""
    return {
        "requestContext": _request_context(stream.consumer, region, condition, attempts),
        "responseContext": _response_context(),
        "version": "1.0",
        "timestamp": iso_timestamp(time.time()),
        "KinesisBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0]["SequenceNumber"],
            "endSequenceNumber": records[-1]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": iso_timestamp(arrival_time(records[0])),
            "approximateArrivalOfLastRecord": iso_timestamp(arrival_time(records[-1])),
            "batchSize": len(records),
            "streamArn": stream.arn,
        },
    }


def direct_message(processor: str, event: Any, letter: DeadLetter, region: str) -> dict[str, Any]:
    """Lambda's on-failure record of an asynchronous invocation that ran out of retries."""
    kind, _, message = letter.error.partition(": ")
    if letter.error.startswith(TIMED_OUT):  # Lambda's own error, not the function's
        kind, message = "Sandbox.Timedout", letter.error
    return {
        "version": "1.0",
        "timestamp": iso_timestamp(time.time()),
        "requestContext": _request_context(processor, region, "RetriesExhausted", letter.attempts),
        "requestPayload": event,
        "responseContext": _response_context(),
        "responsePayload": {"errorMessage": message, "errorType": kind},
    }


def _request_context(processor: str, region: str, condition: str, attempts: int) -> dict[str, Any]:
    return {
        "requestId": str(uuid.uuid4()),
        "functionArn": function_arn(processor, region),
        "condition": condition,
        "approximateInvokeCount": attempts,
    }


def _response_context() -> dict[str, Any]:
    # The function raised: Lambda answered 200 with an unhandled function error.
    return {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
