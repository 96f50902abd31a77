"""``attak trigger``: sends input events to a deployed topology, and says what became of each.

An event for a processor with an ingest stream (``input: stream``) is written into that
stream with PutRecords, in calls of at most 500 records and 5 MiB, as the same envelope
``simulate`` builds (partition key: the trace id). Any other processor is invoked
directly with ``{"v": 1, "trace", "log": 1, "data"}``, which the runtime reads as input at
hop 0: asynchronously (``Event``) by default, or waiting for the handler's result.

Every event gets a trace id before it is sent, so ``attak logs --trace`` can follow it, and
the envelope's ``log`` mark, so that every processor it reaches logs its records whatever
the topology's ``trace_sampling`` (see ``runtime/logs.py``).
Throttled calls and throttled records are retried with backoff; an event that still
could not be sent comes back as a ``Delivery`` with ``sent=False`` and the reason,
never dropped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ReadTimeoutError

from ..inputs import InputEvent
from ..runtime.emitter import MAX_BYTES_PER_CALL, MAX_RECORDS_PER_CALL
from ..runtime.envelope import LOG, EmitError, encode_input, new_id
from .connection import RETRYABLE_CODES, backoff, error_code, error_text, with_backoff
from .deployment import Deployment

MAX_INVOKE_PAYLOAD = {"RequestResponse": 6 * 1024 * 1024, "Event": 1024 * 1024}
"""Lambda's limit on one invoke's payload: 6 MB waiting for the result, 1 MB queued."""
INVOKE_CONCURRENCY = 16
"""Direct invocations in flight at once: Lambda's Invoke takes one event per call."""
MAX_ATTEMPTS = 8


@dataclass
class Delivery:
    """What became of one input event."""

    event: InputEvent
    trace: str
    via: str
    """``stream`` (PutRecords into the ingest stream) or ``invoke`` (direct Lambda invoke)."""
    target: str
    """The physical stream or function name."""
    sent: bool = False
    error: str | None = None
    """Why it was not sent, or (waiting) the error the handler raised."""
    result: Any = None
    """Waiting: what the handler's invocation returned. Streams: the shard and sequence."""

    @property
    def failed(self) -> bool:
        return not self.sent or self.error is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "processor": self.event.processor,
            "data": self.event.data,
            "trace": self.trace,
            "via": self.via,
            "target": self.target,
            "sent": self.sent,
            "error": self.error,
            "result": self.result,
        }


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


Clients = tuple[Any, Any]
"""(kinesis client, lambda client)"""
OnDelivery = Callable[[Delivery], None]


def plan(
    deployment: Deployment, events: Sequence[InputEvent], new_trace: Callable[[], str] = new_id
) -> list[Delivery]:
    """One ``Delivery`` per event, with its trace id and where it goes (nothing sent)."""
    deliveries = []
    for event in events:
        processor = deployment.processor(event.processor)
        if processor.ingest_stream:
            deliveries.append(Delivery(event, new_trace(), "stream", processor.ingest_stream))
        else:
            deliveries.append(Delivery(event, new_trace(), "invoke", processor.function))
    return deliveries


def send(
    deliveries: list[Delivery],
    kinesis: Any,
    lambda_client: Any,
    *,
    wait: bool = False,
    on_delivery: OnDelivery | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Delivery]:
    """Send every planned delivery; each comes back marked sent, or with its reason."""
    report = on_delivery or (lambda _: None)
    by_stream: dict[str, list[Delivery]] = {}
    for delivery in deliveries:
        if delivery.via == "stream":
            by_stream.setdefault(delivery.target, []).append(delivery)
    for stream, group in by_stream.items():
        _put(kinesis, stream, group, report, sleep)
    invokes = [d for d in deliveries if d.via == "invoke"]
    if invokes:
        with ThreadPoolExecutor(max_workers=min(INVOKE_CONCURRENCY, len(invokes))) as pool:
            for done in pool.map(lambda d: _invoke(lambda_client, d, wait, sleep), invokes):
                report(done)
    return deliveries


def _put(
    kinesis: Any,
    stream: str,
    group: list[Delivery],
    report: OnDelivery,
    sleep: Callable[[float], None],
) -> None:
    entries: list[Entry] = []
    ready: list[Delivery] = []
    for delivery in group:
        try:
            payload = encode_input(delivery.event.data, delivery.trace, logged=True).encode()
        except EmitError as exc:
            delivery.error = str(exc)
            report(delivery)
            continue
        entries.append((delivery.trace, payload))
        ready.append(delivery)
    start = 0
    for chunk in chunks(entries):
        _put_chunk(kinesis, stream, ready[start : start + len(chunk)], chunk, sleep)
        for delivery in ready[start : start + len(chunk)]:
            report(delivery)
        start += len(chunk)


def _put_chunk(
    kinesis: Any,
    stream: str,
    deliveries: list[Delivery],
    entries: Sequence[Entry],
    sleep: Callable[[float], None],
) -> None:
    """One PutRecords call, and retries of the records it refused, with backoff."""
    pending = list(zip(deliveries, entries, strict=True))
    reason = ""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            response = kinesis.put_records(
                StreamName=stream,
                Records=[{"Data": data, "PartitionKey": key} for _, (key, data) in pending],
            )
        except Exception as exc:
            reason = error_text(exc)
            if error_code(exc) not in RETRYABLE_CODES:
                break
        else:
            refused = []
            for (delivery, entry), result in zip(pending, response["Records"], strict=True):
                if result.get("ErrorCode"):
                    refused.append((delivery, entry))
                    reason = f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}"
                else:
                    delivery.sent = True
                    delivery.result = {
                        "shard": result.get("ShardId"),
                        "sequence": result.get("SequenceNumber"),
                    }
            pending = refused
            if not pending:
                return
        if attempt < MAX_ATTEMPTS:
            sleep(backoff(attempt))
    for delivery, _ in pending:
        delivery.error = f"not written to stream {stream}: {reason}"


def _invoke(
    lambda_client: Any, delivery: Delivery, wait: bool, sleep: Callable[[float], None]
) -> Delivery:
    payload = {"v": 1, "trace": delivery.trace, LOG: 1, "data": delivery.event.data}
    try:
        body = json.dumps(payload, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        delivery.error = f"input is not JSON-serializable: {exc}"
        return delivery
    kind = "RequestResponse" if wait else "Event"
    encoded = body.encode()
    if len(encoded) > MAX_INVOKE_PAYLOAD[kind]:
        # Lambda would refuse it anyway; saying so here names the limit and the way out.
        limit = MAX_INVOKE_PAYLOAD[kind] // (1024 * 1024)
        delivery.error = (
            f"not invoked: the event is {len(encoded):,} bytes, and Lambda takes at most "
            f"{limit} MB for an {'invoke that waits' if wait else 'asynchronous invoke'}; "
            + ("send a smaller event" if wait else "send it with --wait (6 MB) or make it smaller")
        )
        return delivery
    try:
        response = with_backoff(
            lambda: lambda_client.invoke(
                FunctionName=delivery.target, InvocationType=kind, Payload=encoded
            ),
            attempts=MAX_ATTEMPTS,
            sleep=sleep,
        )
    except ReadTimeoutError:
        # The request reached Lambda: the handler may still be running, so never resend.
        delivery.sent = True
        delivery.error = "no result in time (--timeout); the invocation may still be running"
        return delivery
    except Exception as exc:
        delivery.error = f"not invoked: {error_text(exc)}"
        return delivery
    delivery.sent = True
    if wait:
        result = _read_payload(response.get("Payload"))
        if response.get("FunctionError"):
            delivery.error = _function_error(result)
        else:
            delivery.result = result
    return delivery


def _read_payload(stream: Any) -> Any:
    raw = stream.read() if stream is not None else b""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


def _function_error(result: Any) -> str:
    """Lambda's error document (``errorType``, ``errorMessage``) as one line."""
    if isinstance(result, dict) and "errorMessage" in result:
        kind = result.get("errorType")
        return f"{kind}: {result['errorMessage']}" if kind else str(result["errorMessage"])
    return str(result)
