"""What a message in a processor's dead-letter queue says, whichever of three writers wrote it.

Each processor's SQS queue holds three shapes of message:

- ``event``: the runtime's own letter of one failed event (``runtime/dead_letters.py``):
  its data, error and handler traceback, processor, stream and sequence number, trace,
  topic, sender, hops and attempts. Everything needed to send it back is in it.
- ``batch``: Lambda's on-failure record for Kinesis records that failed as a whole (a
  timeout, emits that could not be written, a letter SQS refused). It holds no data, only
  where the records are: ``KinesisBatchInfo`` with ``shardId``, ``startSequenceNumber``,
  ``endSequenceNumber``, ``batchSize``, ``streamArn`` and the arrival times, beside
  ``requestContext`` (``condition``, ``approximateInvokeCount``, ``functionArn``) and
  ``responseContext`` ("Retain discarded batch records for a Kinesis Data Streams event
  source in Lambda": https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html).
  The records themselves are read back from the stream while its retention keeps them.
- ``invoke``: Lambda's invocation record of a direct (asynchronous) invocation that failed
  every attempt: ``requestPayload`` (the event as invoked), ``responsePayload``
  (``errorType``, ``errorMessage``), ``requestContext`` (``condition``,
  ``approximateInvokeCount``) and ``timestamp`` ("Capturing records of Lambda asynchronous
  invocations": https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).

Anything else (a message someone sent by hand) is ``unknown``: shown, never replayed.
Reading is pure: ``read_letter`` takes the message as SQS returned it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ..runtime import dead_letters as runtime_letters
from ..runtime.handler import stream_name

Kind = Literal["event", "batch", "invoke", "unknown"]


@dataclass(frozen=True)
class BatchInfo:
    """Where the Kinesis records of a Lambda on-failure record are."""

    shard: str
    start: str
    """The sequence number of the first record."""
    end: str
    """The sequence number of the last record."""
    stream_arn: str
    size: int
    first_arrival: str | None = None
    last_arrival: str | None = None

    @property
    def stream(self) -> str:
        return stream_name(self.stream_arn)


@dataclass(frozen=True)
class Letter:
    """One message of a processor's dead-letter queue, read (see the module docstring)."""

    processor: str
    """The processor whose queue holds it."""
    id: str
    """SQS's message id: how ``attak dead-letters show`` names it."""
    receipt: str
    """The receipt handle of the receive that holds it: what deleting it takes."""
    sent: float
    """When SQS received it (its ``SentTimestamp``), in epoch seconds."""
    kind: Kind
    document: Any
    """The message body, parsed (the text itself when it is not JSON)."""
    receives: int = 1
    """SQS's ``ApproximateReceiveCount``: how often it was read (listings count too)."""

    @property
    def trace(self) -> str | None:
        """The trace id of the failed event: the letter's own, or the one ``attak trigger``
        put in a direct invocation's payload; ``None`` when unknown (a batch record)."""
        if self.kind == "event":
            trace = self.document.get("trace") or self.document.get("sequence")
            return str(trace) if trace else None
        if self.kind == "invoke":
            payload = self.document.get("requestPayload")
            if isinstance(payload, dict) and isinstance(payload.get("trace"), str):
                return str(payload["trace"])
        return None

    @property
    def stream(self) -> str | None:
        """The physical name of the stream the failed event or records were read from;
        ``None`` for a direct invocation."""
        if self.kind == "event":
            return str(self.document.get("stream") or "") or None
        if self.kind == "batch":
            return self.batch.stream if self.batch else None
        return None

    @property
    def error(self) -> str:
        """The error, in one line."""
        document = self.document
        if self.kind == "event":
            return str(document.get("error", ""))
        if self.kind == "unknown":
            return "not a dead letter attak knows (shown as it is)"
        context = document.get("requestContext") or {}
        condition = str(context.get("condition", "")) if isinstance(context, dict) else ""
        response = document.get("responsePayload")
        if isinstance(response, dict) and response.get("errorMessage") is not None:
            kind = response.get("errorType")
            message = f"{kind}: {response['errorMessage']}" if kind else response["errorMessage"]
            return f"{message} ({condition})" if condition else str(message)
        function_error = (document.get("responseContext") or {}).get("functionError")
        parts = [
            condition or "failed",
            f"function error: {function_error}" if function_error else "",
        ]
        return ", ".join(part for part in parts if part)

    @property
    def traceback(self) -> str:
        if self.kind == "event":
            return str(self.document.get("traceback", ""))
        response = self.document.get("responsePayload") if self.kind == "invoke" else None
        trace = response.get("stackTrace") if isinstance(response, dict) else None
        if isinstance(trace, list):
            return "".join(str(line) for line in trace)
        return ""

    @property
    def attempts(self) -> int | None:
        if self.kind == "event":
            attempts = self.document.get("attempts")
            return attempts if isinstance(attempts, int) else None
        if self.kind in ("batch", "invoke"):
            context = self.document.get("requestContext") or {}
            count = context.get("approximateInvokeCount") if isinstance(context, dict) else None
            return count if isinstance(count, int) else None
        return None

    @property
    def batch(self) -> BatchInfo | None:
        """Where a Lambda on-failure record's Kinesis records are (``batch`` letters)."""
        info = self.document.get("KinesisBatchInfo") if self.kind == "batch" else None
        if not isinstance(info, dict):
            return None
        return BatchInfo(
            shard=str(info.get("shardId", "")),
            start=str(info.get("startSequenceNumber", "")),
            end=str(info.get("endSequenceNumber", "")),
            stream_arn=str(info.get("streamArn", "")),
            size=int(info.get("batchSize") or 0),
            first_arrival=info.get("approximateArrivalOfFirstRecord"),
            last_arrival=info.get("approximateArrivalOfLastRecord"),
        )

    @property
    def has_data(self) -> bool:
        """Whether the letter carries its event (a batch record carries only pointers)."""
        if self.kind == "event":
            return any(k in self.document for k in ("data", "data_base64", "record"))
        return self.kind == "invoke" and "requestPayload" in self.document

    @property
    def data(self) -> Any:
        """The failed event's data: JSON as it was, binary data as ``bytes``; a direct
        invocation's payload (its ``data`` when ``attak trigger`` sent it). ``None`` for a
        batch record (its records are in the stream, ``dead_letters.fetch_records``)."""
        document = self.document
        if self.kind == "event":
            if "data" in document:
                return document["data"]
            for key in ("data_base64", "record"):
                if key in document:
                    return base64.b64decode(document[key])
            return None
        if self.kind == "invoke":
            payload = document.get("requestPayload")
            if isinstance(payload, dict) and payload.get("v") == 1 and "data" in payload:
                return payload["data"]
            return payload
        return None

    def as_dict(self) -> dict[str, Any]:
        """The letter as ``--json`` prints it: what it says, and its message as it is."""
        data = self.data
        return {
            "processor": self.processor,
            "id": self.id,
            "kind": self.kind,
            "sent": self.sent,
            "trace": self.trace,
            "stream": self.stream,
            "error": self.error,
            "traceback": self.traceback,
            "attempts": self.attempts,
            "data": {"base64": base64.b64encode(data).decode()}
            if isinstance(data, bytes)
            else data,
            "receives": self.receives,
            "message": self.document,
        }


def kind_of(document: Any) -> Kind:
    """Which writer wrote a message body (see the module docstring)."""
    if not isinstance(document, dict):
        return "unknown"
    if document.get("attak") == runtime_letters.KIND:
        return "event"
    if isinstance(document.get("KinesisBatchInfo"), dict):
        return "batch"
    if "requestPayload" in document and isinstance(document.get("requestContext"), dict):
        return "invoke"
    return "unknown"


def read_letter(processor: str, message: dict[str, Any]) -> Letter:
    """A message as ReceiveMessage returned it (with its ``Attributes``), as a ``Letter``."""
    body = str(message.get("Body", ""))
    try:
        document: Any = json.loads(body)
    except ValueError:
        document = body
    attributes = message.get("Attributes") or {}
    sent = int(attributes.get("SentTimestamp", "0") or 0) / 1000
    return Letter(
        processor=processor,
        id=str(message.get("MessageId", "")),
        receipt=str(message.get("ReceiptHandle", "")),
        sent=sent,
        kind=kind_of(document),
        document=document,
        receives=int(attributes.get("ApproximateReceiveCount", "1") or 1),
    )


@dataclass(frozen=True)
class Selection:
    """Which letters a command acts on: every filter given must match (none: all)."""

    processors: Collection[str] = ()
    trace: str | None = None
    since: float | None = None
    """Sent at or after (epoch seconds)."""
    until: float | None = None
    """Sent at or before (epoch seconds)."""

    def matches(self, letter: Letter) -> bool:
        return (
            (not self.processors or letter.processor in self.processors)
            and (self.trace is None or letter.trace == self.trace)
            and (self.since is None or letter.sent >= self.since)
            and (self.until is None or letter.sent <= self.until)
        )

    def describe(self) -> str:
        """The filters given, as the options that set them (for messages)."""
        parts = [f"--processor {p}" for p in self.processors]
        if self.trace is not None:
            parts.append(f"--trace {self.trace}")
        if self.since is not None:
            parts.append(f"--since {_moment(self.since)}")
        if self.until is not None:
            parts.append(f"--until {_moment(self.until)}")
        return " ".join(parts)


def _moment(seconds: float) -> str:
    """An epoch time as the local ISO 8601 time a person typed or reads."""
    return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")
