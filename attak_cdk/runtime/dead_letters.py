"""Dead letters the runtime writes itself: one failed event, with what it takes to act on it.

A Kinesis record carries many events, so a poison event must not fail its record: its
good neighbours would be re-run on every retry and dead-lettered with it. The runner
retries a failing event in place, then hands it here. In AWS the letter goes to the
processor's SQS queue (kept 14 days), holding the event's data, the error with the
handler's traceback, the processor, the stream and sequence number, the trace and the
attempts. Lambda's own on-failure destination stays the net for whole records (a timeout,
emits that could not be written), and it keeps only pointers to them.

SQS takes messages of up to 1 MiB since 2025 (up from 256 KiB, for existing queues too:
https://aws.amazon.com/blogs/compute/more-room-to-build-serverless-services-now-support-payloads-up-to-1-mb).
A larger letter is refused here, and one the queue refuses fails too: the record then
fails as a whole and Lambda's net catches it.
"""

from __future__ import annotations

import base64
import json
import time
import traceback
from pathlib import Path
from typing import Any

from .envelope import Envelope

VERSION = 1
KIND = "dead-letter"
"""The ``attak`` field of a letter: tells it from Lambda's on-failure records in a queue."""
MAX_LETTER_BYTES = 1024 * 1024
_RUNTIME_DIR = str(Path(__file__).resolve().parent)


class DeadLetterError(Exception):
    """A letter that could not be written: the record it came from must fail instead."""


def handler_traceback(error: BaseException) -> str:
    """The error's traceback from the handler down, without the runtime's own frames."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not frame.filename.startswith(_RUNTIME_DIR)
    ]
    # StackSummary.format folds a frame repeated over and over (a runaway recursion) into
    # one "[Previous line repeated N more times]", as Python's own tracebacks do.
    stack = traceback.StackSummary.from_list(frames).format()
    lines = ["Traceback (most recent call last):\n", *stack]
    return "".join(lines + traceback.format_exception_only(type(error), error))


def letter(
    *,
    processor: str,
    source: str,
    sequence: str,
    payload: bytes | str,
    envelope: Envelope | None,
    error: BaseException,
    attempts: int,
) -> dict[str, Any]:
    """The letter of one event: everything JSON, the data as the handler received it
    (bytes as base64), or the raw record when it could not be decoded."""
    document: dict[str, Any] = {
        "attak": KIND,
        "v": VERSION,
        "processor": processor,
        "stream": source,
        "sequence": sequence,
        "error": f"{type(error).__name__}: {error}",
        "traceback": handler_traceback(error),
        "attempts": attempts,
        "time": round(time.time(), 3),
    }
    if envelope is None:
        raw = payload.encode() if isinstance(payload, str) else payload
        document["record"] = base64.b64encode(raw).decode()
        return document
    data = envelope["data"]
    document.update(
        trace=envelope["trace"],
        topic=envelope["topic"],
        sender=envelope["from"],
        hops=envelope["hops"],
    )
    if isinstance(data, bytes):
        document["data_base64"] = base64.b64encode(data).decode()
    else:
        document["data"] = data
    return document


def encode(document: dict[str, Any]) -> str:
    """A letter as the message body; ``DeadLetterError`` when SQS would refuse it."""
    body = json.dumps(document, ensure_ascii=False, default=repr, separators=(",", ":"))
    size = len(body.encode())
    if size > MAX_LETTER_BYTES:
        raise DeadLetterError(
            f"the dead letter of this event is {size} bytes, over SQS's "
            f"{MAX_LETTER_BYTES // (1024 * 1024)} MiB: the record fails instead"
        )
    return body


class SqsDeadLetters:
    """Where the Lambda entry sends letters: the processor's dead-letter queue."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self.client = client
        self.queue_url = queue_url

    def send(self, document: dict[str, Any], error: BaseException, record: object) -> None:
        body = encode(document)
        try:
            self.client.send_message(QueueUrl=self.queue_url, MessageBody=body)
        except Exception as exc:  # botocore's errors: the record fails and is retried
            raise DeadLetterError(
                f"the dead letter could not be sent to {self.queue_url}: {exc}"
            ) from exc
