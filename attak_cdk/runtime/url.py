"""A function URL's request, read into events, and the HTTP answer the runtime gives.

A request to a processor's function URL (``http:``) reaches Lambda's entry as an event in
API Gateway's payload format 2.0: ``version`` "2.0", ``requestContext.http.method``, the
``body`` as text, base64-encoded when ``isBase64Encoded`` is true. The function answers
with ``statusCode``, ``headers`` and ``body``, which Lambda turns into the HTTP response.
https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads

The body holds the events, each run through the processor as a direct invocation is:
- one JSON value (an object, a string, a number) is one event;
- a JSON list is a list of events, each one event (a list meant as one event is sent
  inside a list: ``[[1, 2]]``);
- otherwise JSON Lines: each non-empty line one JSON event.
An event written as attak's own input envelope (``{"v": 1, "trace", "data"}``, which
``attak trigger`` sends) keeps its trace id. A body that is none of these is answered
400 with what is wrong, and nothing runs: the caller sent it, the caller can fix it, so
it is never dead-lettered. Standard library only.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

METHOD = "POST"
"""The only method the endpoint takes: events are sent, never fetched."""
CONTENT_TYPE = {"content-type": "application/json"}


class BadRequest(ValueError):
    """A request the runtime refuses before running anything: its ``status`` and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def is_request(event: Any) -> bool:
    """Whether a Lambda event is a function URL's request (payload format 2.0)."""
    if not isinstance(event, dict) or event.get("version") != "2.0":
        return False
    context = event.get("requestContext")
    return isinstance(context, dict) and isinstance(context.get("http"), dict)


def events(request: dict[str, Any]) -> list[Any]:
    """The events a request's body holds (see the module docstring), or ``BadRequest``."""
    method = str(request["requestContext"]["http"].get("method", "")).upper()
    if method != METHOD:
        raise BadRequest(405, f"send events with POST (given {method or 'no method'})")
    body = request.get("body") or ""
    if request.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest(400, "the body is marked base64 but is not base64") from None
    else:
        raw = body.encode() if isinstance(body, str) else bytes(body)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(400, f"the body is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise BadRequest(400, "the body is empty: " + _SEND)
    try:
        value = json.loads(text)
    except ValueError as whole:
        return _json_lines(text, whole)
    if isinstance(value, list):
        if not value:
            raise BadRequest(400, "the body is an empty list: " + _SEND)
        return value
    return [value]


_SEND = "send one JSON event, a JSON list of events, or JSON Lines (one event a line)"


def _json_lines(text: str, whole: ValueError) -> list[Any]:
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if len(lines) < 2:
        # One line that is not JSON: the message JSON itself gives is the clearer one.
        raise BadRequest(400, f"the body is not JSON ({whole}): {_SEND}")
    found = []
    for number, line in lines:
        try:
            found.append(json.loads(line))
        except ValueError as exc:
            raise BadRequest(
                400,
                f"the body is not JSON, and its line {number} is not a JSON event ({exc}): {_SEND}",
            ) from None
    return found


def response(status: int, document: dict[str, Any]) -> dict[str, Any]:
    """The function's answer, which Lambda turns into the HTTP response."""
    return {
        "statusCode": status,
        "headers": dict(CONTENT_TYPE),
        "body": json.dumps(document, ensure_ascii=False),
        "isBase64Encoded": False,
    }
