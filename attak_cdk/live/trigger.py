"""``attak trigger``: sends input events to a deployed topology, and says what became of each.

An event for a processor with an ingest stream (``input: stream``) is written into that
stream by the runtime's ``Producer``, as the same envelope ``simulate`` builds, aggregated
with the other events into few records like every record attak writes; each event's
``result`` says where it landed (shard, sequence number, index inside the record). Events
have no key: they need no order among themselves, and so spread over the shards. Any other
processor is invoked directly with ``{"v": 1, "trace", "log": 1, "data"}``, which the
runtime reads as input at hop 0: asynchronously (``Event``) by default, or waiting for the
handler's result.

An event for a processor with an HTTPS endpoint (``http:``) is posted to its function URL,
signed with SigV4 (``url.py``) unless the endpoint is public, as a JSON list of the same
``{"v": 1, "trace", "log": 1, "data"}`` envelopes, up to ``URL_BATCH_EVENTS`` events (and
``URL_BATCH_BYTES``) a request: that is the way the outside reaches it, so trigger takes it
too (``http=False`` invokes it directly instead). A request is synchronous: each event
comes back done, failed, or not run (an earlier event of its request failed).

Every event gets a trace id before it is sent, so ``attak logs --trace`` can follow it, and
the envelope's ``log`` mark, so that every processor it reaches logs its records whatever
the topology's ``trace_sampling`` (see ``runtime/logs.py``).
Throttled calls and throttled records are retried with backoff (the emitter's, for
streams); an event that still could not be sent comes back as a ``Delivery`` with
``sent=False`` and the reason, never dropped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ReadTimeoutError

from ..inputs import InputEvent
from ..runtime.emitter import MAX_BYTES_PER_CALL
from ..runtime.envelope import LOG, EmitError, new_id
from ..runtime.producer import Producer
from .connection import LiveError, error_text, with_backoff
from .deployment import Deployment
from .url import UrlClient

MAX_INVOKE_PAYLOAD = {"RequestResponse": 6 * 1024 * 1024, "Event": 1024 * 1024}
"""Lambda's limit on one invoke's payload: 6 MB waiting for the result, 1 MB queued."""
INVOKE_CONCURRENCY = 16
"""Direct invocations in flight at once: Lambda's Invoke takes one event per call."""
MAX_ATTEMPTS = 8
URL_BATCH_EVENTS = 100
"""Events in one request to a function URL: one invocation runs them all, in order, within
the function's timeout."""
URL_BATCH_BYTES = 1024 * 1024
"""Bytes of one request's body at most (a function URL takes 6 MB): a batch stays small
enough to run well within the function's timeout."""
FLUSH_BYTES = MAX_BYTES_PER_CALL
"""Events buffered for an ingest stream before they are written: about one PutRecords
call's worth, so a long input shows its progress as it goes."""


@dataclass
class Delivery:
    """What became of one input event."""

    event: InputEvent
    trace: str
    via: str
    """``stream`` (PutRecords into the ingest stream), ``invoke`` (direct Lambda invoke) or
    ``url`` (a request to the processor's function URL)."""
    target: str
    """The physical stream or function name, or the function URL."""
    sent: bool = False
    error: str | None = None
    """Why it was not sent, or (waiting) the error the handler raised."""
    result: Any = None
    """Waiting: what the handler's invocation returned. Streams: where the event landed,
    ``{"shard", "sequence", "index"}`` (its record's shard id and sequence number, and its
    place among the record's events)."""

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


Clients = tuple[Any, Any]
"""(kinesis client, lambda client)"""
OnDelivery = Callable[[Delivery], None]


def plan(
    deployment: Deployment,
    events: Sequence[InputEvent],
    new_trace: Callable[[], str] = new_id,
    *,
    http: bool | None = None,
) -> list[Delivery]:
    """One ``Delivery`` per event, with its trace id and where it goes (nothing sent).

    ``http``: ``None`` posts to a processor's function URL when it has one; ``True``
    insists (a processor without one is a ``LiveError``); ``False`` never does."""
    deliveries = []
    for event in events:
        processor = deployment.processor(event.processor)
        if http is True and processor.url is None:
            with_url = sorted(n for n, p in deployment.processors.items() if p.url)
            raise LiveError(
                f"processor '{event.processor}' has no HTTPS endpoint (http: in the topology, "
                f"then `attak deploy`); with one: {', '.join(with_url) or 'none'}. "
                "Leave out --http to invoke it directly"
            )
        if processor.url is not None and http is not False:
            deliveries.append(Delivery(event, new_trace(), "url", processor.url))
        elif processor.ingest_stream:
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
    urls: UrlClient | None = None,
    public: frozenset[str] = frozenset(),
) -> list[Delivery]:
    """Send every planned delivery; each comes back marked sent, or with its reason.

    ``urls`` posts the deliveries planned for function URLs (signed, unless their URL is
    in ``public``)."""
    report = on_delivery or (lambda _: None)
    requests = _url_requests([d for d in deliveries if d.via == "url"])
    if requests:
        if urls is None:
            raise ValueError("deliveries to function URLs need a UrlClient")
        client = urls
        with ThreadPoolExecutor(max_workers=min(INVOKE_CONCURRENCY, len(requests))) as pool:
            for posted in pool.map(lambda r: _post(client, r, r[0].target in public), requests):
                for delivery in posted:
                    report(delivery)
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
    """Write a stream's events through a ``Producer``, flushing about a call's worth at a
    time; each delivery learns where its event landed, or why it did not."""
    producer = Producer(kinesis, stream, max_attempts=MAX_ATTEMPTS, sleep=sleep)
    buffered: list[Delivery] = []

    def flush() -> None:
        for delivery, landing in zip(buffered, producer.flush(), strict=True):
            if landing.sent:
                delivery.sent = True
                delivery.result = {
                    "shard": landing.shard,
                    "sequence": landing.sequence,
                    "index": landing.index,
                }
            else:
                delivery.error = landing.error
            report(delivery)
        buffered.clear()

    for delivery in group:
        try:
            # Logged: every processor the trace reaches logs it, whatever the sampling.
            producer.send(delivery.event.data, trace=delivery.trace, logged=True)
        except EmitError as exc:
            delivery.error = str(exc)
            report(delivery)
            continue
        buffered.append(delivery)
        if producer.buffered_bytes >= FLUSH_BYTES:
            flush()
    flush()


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


def _url_requests(deliveries: list[Delivery]) -> list[list[Delivery]]:
    """The deliveries to function URLs grouped into requests: per URL, in order, up to
    ``URL_BATCH_EVENTS`` events and about ``URL_BATCH_BYTES`` each."""
    requests: list[list[Delivery]] = []
    open_by_url: dict[str, tuple[list[Delivery], int]] = {}
    for delivery in deliveries:
        size = len(json.dumps(delivery.event.data, ensure_ascii=False, default=str))
        current = open_by_url.get(delivery.target)
        if current is None or (
            len(current[0]) >= URL_BATCH_EVENTS or current[1] + size > URL_BATCH_BYTES
        ):
            current = ([], 0)
            requests.append(current[0])
        current[0].append(delivery)
        open_by_url[delivery.target] = (current[0], current[1] + size)
    return requests


def _post(client: UrlClient, request: list[Delivery], public: bool) -> list[Delivery]:
    """Post one request's events; each delivery learns whether its event was done."""
    envelopes = []
    sendable = []
    for delivery in request:
        envelope = {"v": 1, "trace": delivery.trace, LOG: 1, "data": delivery.event.data}
        try:
            json.dumps(envelope, allow_nan=False)
        except (TypeError, ValueError) as exc:
            delivery.error = f"input is not JSON-serializable: {exc}"
            continue
        envelopes.append(envelope)
        sendable.append(delivery)
    if not sendable:
        return request
    body = json.dumps(envelopes, ensure_ascii=False, allow_nan=False).encode()
    answer = client.post(sendable[0].target, body, signed=not public)
    document = answer.document if isinstance(answer.document, dict) else {}
    if answer.status == 200:
        for delivery in sendable:
            delivery.sent = True
            delivery.result = {"status": 200}
        return request
    if answer.status is not None and document.get("outcome") == "failed":
        # The runtime ran the events in order: those before the failed one are done.
        done = set(document.get("done", ()))
        for delivery in sendable:
            delivery.sent = True
            if delivery.trace in done:
                delivery.result = {"status": 200}
            elif delivery.trace == document.get("failed"):
                delivery.error = str(document.get("error") or answer.error)
            else:
                delivery.error = "not run: an earlier event of its request failed"
        return request
    for delivery in sendable:
        # Refused before running (400, 403, 429) or unreached: not sent. A 5xx may have
        # run part of the request: sent, with the error, and never sent again.
        delivery.sent = answer.status is not None and answer.status >= 500
        delivery.error = answer.error or f"the HTTPS endpoint answered {answer.status}"
    return request


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
