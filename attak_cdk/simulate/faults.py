"""A fault-injecting HTTP proxy in front of a Kinesis endpoint: see a topology survive AWS.

It forwards every call to the real endpoint and, at random (seeded), makes the calls fail
the ways Kinesis does under load, at the HTTP layer, where attak's code cannot tell it
from the real thing:

- ``throttle``: this fraction of PutRecords *entries* comes back with
  ``ProvisionedThroughputExceededException`` (the rest of the call is written);
- ``server_errors``: this fraction of calls is answered 500 ``InternalFailure`` (or 503
  ``ServiceUnavailable``) without reaching the endpoint;
- ``lost_answers``: this fraction of calls reaches the endpoint (the write happens), then
  the connection drops before the answer: the caller retries, and at-least-once delivery
  writes the records twice;
- ``timeouts``: this fraction of calls reaches the endpoint, then the answer is held for
  ``hold`` seconds (longer than the caller's read timeout) and dropped.

Call-level faults hit the operations in ``operations`` (PutRecords by default). Use it in
tests (``FaultProxy`` is a context manager), or from the command line in front of any
local endpoint, then point ``attak simulate --engine kinesis --endpoint-url`` at it:

    python -m attak_cdk.simulate.faults --target http://127.0.0.1:4567 --throttle 0.3
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

THROTTLED = {
    "ErrorCode": "ProvisionedThroughputExceededException",
    "ErrorMessage": "Rate exceeded for shard in stream under account (injected by attak's "
    "fault proxy).",
}


@dataclass
class Faults:
    """What to break, as fractions from 0 to 1 (see the module docstring)."""

    throttle: float = 0.0
    server_errors: float = 0.0
    lost_answers: float = 0.0
    timeouts: float = 0.0
    hold: float = 2.0
    operations: frozenset[str] = frozenset({"PutRecords"})
    seed: int = 0


@dataclass
class FaultCounts:
    """What the proxy did: calls seen per operation and faults injected."""

    calls: dict[str, int] = field(default_factory=dict)
    entries: int = 0
    """PutRecords entries seen."""
    throttled_entries: int = 0
    server_errors: int = 0
    lost_answers: int = 0
    timeouts: int = 0


class FaultProxy:
    """A proxy on a free 127.0.0.1 port in front of ``target``; ``url`` is its endpoint."""

    def __init__(self, target: str, faults: Faults | None = None) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.faults = faults or Faults()
        self.counts = FaultCounts()
        self._random = random.Random(self.faults.seed)
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as botocore expects

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes: without this, Nagle's algorithm
                # and the client's delayed ACK hold every answer back about 40 ms.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                proxy._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the counts say what happened

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _draw(self, fraction: float) -> bool:
        with self._lock:
            return fraction > 0 and self._random.random() < fraction

    def _count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self.counts, name, getattr(self.counts, name) + amount)

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        target = request.headers.get("X-Amz-Target", "")
        operation = target.rpartition(".")[2] or "?"
        with self._lock:
            self.counts.calls[operation] = self.counts.calls.get(operation, 0) + 1
        faults = self.faults
        call_faults = operation in faults.operations
        if call_faults and self._draw(faults.server_errors):
            self._count("server_errors")
            status, code = (
                (500, "InternalFailure")
                if self._draw(0.5)
                else (
                    503,
                    "ServiceUnavailable",
                )
            )
            _answer(request, status, json.dumps({"__type": code, "message": "injected"}).encode())
            return
        throttled: list[int] = []
        if operation == "PutRecords" and faults.throttle > 0:
            document = json.loads(body)
            entries = document["Records"]
            with self._lock:
                throttled = [
                    i for i in range(len(entries)) if self._random.random() < faults.throttle
                ]
                self.counts.entries += len(entries)
                self.counts.throttled_entries += len(throttled)
            if throttled:
                skip = set(throttled)
                document["Records"] = [e for i, e in enumerate(entries) if i not in skip]
                body = json.dumps(document).encode()
                if not document["Records"]:
                    _answer(request, 200, _merge(b"", throttled, len(entries)))
                    return
        elif operation == "PutRecords":
            with self._lock:
                self.counts.entries += len(json.loads(body).get("Records", []))
        status, headers, answer = self._forward(request, body)
        if call_faults and self._draw(faults.lost_answers):
            self._count("lost_answers")
            request.close_connection = True  # the write happened; the caller never hears
            return
        if call_faults and self._draw(faults.timeouts):
            self._count("timeouts")
            time.sleep(faults.hold)
            request.close_connection = True
            return
        if throttled and status == 200:
            answer = _merge(answer, throttled, len(throttled) + _record_count(answer))
        _answer(request, status, answer, headers)

    def _forward(
        self, request: BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(*self.target, timeout=60)
        try:
            headers = {
                k: v
                for k, v in request.headers.items()
                if k.lower() not in ("content-length", "connection", "host")
            }
            headers["Content-Length"] = str(len(body))
            connection.request("POST", request.path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            kept = {
                k: v
                for k, v in response.getheaders()
                if k.lower() in ("content-type", "x-amzn-requestid", "x-amz-id-2")
            }
            return response.status, kept, answer
        finally:
            connection.close()


def _record_count(answer: bytes) -> int:
    return len(json.loads(answer).get("Records", [])) if answer else 0


def _merge(answer: bytes, throttled: list[int], total: int) -> bytes:
    """Put the throttled entries back in their places in a PutRecords answer."""
    document: dict[str, Any] = (
        json.loads(answer) if answer else {"FailedRecordCount": 0, "Records": []}
    )
    written = iter(document.get("Records", []))
    skip = set(throttled)
    document["Records"] = [dict(THROTTLED) if i in skip else next(written) for i in range(total)]
    document["FailedRecordCount"] = document.get("FailedRecordCount", 0) + len(throttled)
    return json.dumps(document).encode()


def _answer(
    request: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    headers: dict[str, str] | None = None,
) -> None:
    request.send_response(status)
    for key, value in (headers or {"Content-Type": "application/x-amz-json-1.1"}).items():
        request.send_header(key, value)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)


def main() -> None:
    """Run the proxy until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="the endpoint to forward to")
    for name in ("throttle", "server_errors", "lost_answers", "timeouts"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    faults = Faults(
        throttle=args.throttle,
        server_errors=args.server_errors,
        lost_answers=args.lost_answers,
        timeouts=args.timeouts,
        seed=args.seed,
    )
    with FaultProxy(args.target, faults) as proxy:
        print(f"fault proxy on {proxy.url} -> {args.target} (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print(json.dumps(proxy.counts.__dict__))


if __name__ == "__main__":
    main()
