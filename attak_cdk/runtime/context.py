"""The ``context`` a handler receives: Lambda's context plus ``emit`` and attak's names.

A context lives for one record. Its emits are kept aside and only handed on once the
handler returns, so a record that fails takes its emits with it.
"""

from __future__ import annotations

import json
from typing import Any

from .envelope import MAX_PARTITION_KEY, MAX_RECORD_BYTES, EmitError, encode_with, header


class LoopError(EmitError):
    """An emit that would take a trace past ``max_hops``: a runaway loop is stopped here."""


class Emit:
    """One ``emit`` call, encoded, with the streams it goes to (none for a sink topic).

    ``tag`` is opaque to the runtime: the simulator uses it to link each record to the
    handler call that emitted it.
    """

    __slots__ = ("data", "key", "payload", "streams", "tag", "topic")

    def __init__(
        self, topic: str, data: Any, payload: bytes, key: str, streams: tuple[str, ...]
    ) -> None:
        self.topic = topic
        self.data = data
        self.payload = payload
        self.key = key
        self.streams = streams
        self.tag: object = None


class Routes:
    """Which streams an emit on a topic goes to: streams with that topic or with none."""

    def __init__(self, routes: list[dict[str, Any]]) -> None:
        self._any = tuple(r["stream"] for r in routes if r.get("topic") is None)
        self._topics: dict[str, tuple[str, ...]] = {}
        for route in routes:
            topic = route.get("topic")
            if topic is not None and topic not in self._topics:
                self._topics[topic] = tuple(
                    r["stream"] for r in routes if r.get("topic") in (None, topic)
                )

    @classmethod
    def from_json(cls, text: str) -> Routes:
        return cls(json.loads(text) if text else [])

    def streams_for(self, topic: str) -> tuple[str, ...]:
        return self._topics.get(topic, self._any)


class Context:
    """Passed to ``handler(event, context)``; anything else is read from Lambda's context."""

    __slots__ = (
        "_emits",
        "_head",
        "_hops",
        "_lambda",
        "_max_hops",
        "_new_key",
        "_routes",
        "processor",
        "topology",
        "trace_id",
    )

    def __init__(
        self,
        *,
        processor: str,
        topology: str,
        trace_id: str,
        hops: int,
        max_hops: int,
        routes: Routes,
        new_key: Any,
        emits: list[Emit],
        lambda_context: Any = None,
    ) -> None:
        self.processor = processor
        self.topology = topology
        self.trace_id = trace_id
        self._hops = hops + 1
        self._max_hops = max_hops
        self._routes = routes
        self._new_key = new_key
        self._emits = emits
        self._lambda = lambda_context
        self._head = ""

    def emit(self, topic: str, data: Any, key: str | None = None) -> None:
        """Send ``data`` on ``topic`` to every stream leaving this processor for it.

        ``key`` is the partition key: records with the same key stay in order. Without
        one, records spread evenly. Raises ``EmitError`` if the record cannot be sent.
        """
        if type(topic) is not str or not topic:
            raise EmitError(
                f"processor '{self.processor}': emit's topic must be a non-empty string "
                f"(given {topic!r})"
            )
        if self._hops > self._max_hops:
            raise LoopError(
                f"processor '{self.processor}' emitting on topic '{topic}' would take trace "
                f"{self.trace_id} to hop {self._hops}, past max_hops {self._max_hops}: "
                "a runaway loop? Raise max_hops if this depth is intended"
            )
        if key is None:
            key = self._new_key()
        elif type(key) is not str or not 0 < len(key) <= MAX_PARTITION_KEY:
            raise EmitError(
                f"processor '{self.processor}', topic '{topic}': key must be a string of 1 to "
                f"{MAX_PARTITION_KEY} characters (given {key!r})"
            )
        if not self._head:
            self._head = header(self.processor, self.trace_id, self._hops)
        try:
            payload = encode_with(self._head, topic, data)
        except EmitError as exc:
            raise EmitError(f"processor '{self.processor}', topic '{topic}': {exc}") from None
        size = len(payload) + len(key.encode())
        if size > MAX_RECORD_BYTES:
            raise EmitError(
                f"processor '{self.processor}', topic '{topic}': the record is {size} bytes, "
                f"over Kinesis' limit of {MAX_RECORD_BYTES} (1 MiB); emit smaller pieces or "
                "store the payload elsewhere and emit a reference"
            )
        self._emits.append(Emit(topic, data, payload, key, self._routes.streams_for(topic)))

    def __getattr__(self, name: str) -> Any:
        if self._lambda is None:
            raise AttributeError(
                f"context has no attribute '{name}' (running without a Lambda context)"
            )
        return getattr(self._lambda, name)
