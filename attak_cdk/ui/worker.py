"""One simulation run of ``attak ui``, in a process of its own (``python -m attak_cdk.ui.worker``).

The server (``run``) starts one worker per run and writes it one line of JSON on stdin:
``{"topology": file, "events": [[processor, data, where], ...], "max_hops", "seed"}``. The
worker reads the topology and its handlers fresh from disk, so a run always uses the code as
it is now, runs the memory engine, and writes the run's server-sent events (described in
``run``) to its stdout, which the server relays to the page. A handler that never returns
hangs only its own worker, which the server can kill.

That stdout carries nothing else. Before any user code is imported, the worker keeps the
event stream on a descriptor of its own (not inherited by subprocesses) and points
descriptor 1 at stderr: what handlers print at import time, write to descriptor 1 from C,
or have a subprocess print, goes to stderr, which the server reads only to explain a worker
that died. What handlers print during an invocation is captured by the engine as its logs.

The worker ends itself when its stdin closes: the server went away, and with it the page.
This module imports only what a run needs (no asyncio, no web server, no ``aws_cdk``), as
every run pays for the worker's start.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from base64 import b64decode, b64encode
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ..errors import AttakError
from ..inputs import InputEvent, check_processors
from ..project import check_topology
from ..simulate.configuration import local_environments
from ..simulate.memory import MemoryEngine
from ..simulate.result import (
    Invocation,
    dead_letter_document,
    describe_error,
    invocation_document,
)

MAX_STREAMED = 10_000
"""Invocations sent to the page one by one; a bigger run is summed up in ``end`` only, as a
browser list of a million rows helps nobody (``attak simulate --json`` has them all)."""

Send = Callable[[str], None]


def server_sent_event(kind: str, data: Any) -> str:
    """One server-sent event: its kind and its data as one line of JSON."""
    # Handler data is JSON already; repr() keeps anything else (an exception) readable.
    return f"event: {kind}\ndata: {json.dumps(data, default=repr, separators=(',', ':'))}\n\n"


def request(
    topology_file: str,
    events: list[InputEvent],
    max_hops: int | None,
    seed: int,
    env_file: str | None = None,
) -> bytes:
    """The line the server writes to a worker's stdin to start a run; ``env_file`` gives
    the values the topology keeps in AWS (``simulate/configuration.py``)."""
    document = {
        "topology": topology_file,
        "env_file": env_file,
        # Raw record data (a dead letter replayed) travels as base64 in the JSON line.
        "events": [
            [*event[:3], None if event.raw is None else b64encode(event.raw).decode(), *event[4:]]
            for event in events
        ],
        "max_hops": max_hops,
        "seed": seed,
    }
    return json.dumps(document, separators=(",", ":")).encode() + b"\n"


def run(document: dict[str, Any], send: Send) -> None:
    """Run the requested simulation, sending its events from ``start`` to ``end``."""
    # The server checked the topology and the input, but files may have changed since.
    topology, _ = check_topology(document["topology"])
    events = [
        InputEvent(processor, data, where, None if raw is None else b64decode(raw), stream)
        for processor, data, where, raw, stream in document["events"]
    ]
    check_processors(events, topology.processors)
    send(server_sent_event("start", {"topology": topology.name, "events": len(events)}))
    engine: MemoryEngine | None = None
    shown = 0

    def on_invocation(invocation: Invocation) -> None:
        nonlocal shown
        if engine is not None and shown < MAX_STREAMED:
            shown += 1
            send(server_sent_event("invocation", invocation_document(engine.result, invocation)))

    env_file = document.get("env_file")
    engine = MemoryEngine(
        topology,
        max_hops=document["max_hops"],
        seed=document["seed"],
        on_invocation=on_invocation,
        environments=local_environments(topology, Path(env_file) if env_file else None),
    )
    result = engine.run(events)
    send(
        server_sent_event(
            "end",
            {
                "ok": result.ok,
                "stopped": result.stopped,
                "unprocessed": result.unprocessed,
                "invocations": len(result.rows),
                "shown": shown,
                "summary": result.summary,
                "dead_letters": [dead_letter_document(letter) for letter in result.dead_letters],
                "emitted": result.emitted,
            },
        )
    )


def main() -> None:
    events = _event_stream()

    def send(text: str) -> None:
        events.write(text.encode())
        events.flush()  # each event reaches the page as soon as it happens

    try:
        document = json.loads(sys.stdin.buffer.readline())
        _exit_when_stdin_closes()
        run(document, send)
    except AttakError as exc:
        send(server_sent_event("failed", {"message": exc.message}))
    except BaseException as exc:  # a handler's sys.exit() too: the page is told, not left waiting
        send(server_sent_event("failed", {"message": f"the run failed: {describe_error(exc)}"}))


def _event_stream() -> IO[bytes]:
    """Stdout, on a descriptor of its own; descriptor 1 becomes stderr for the user's code."""
    sys.stdout.flush()
    # os.dup's descriptor is not inheritable: a handler's subprocess cannot write to it.
    events = os.dup(1)
    os.dup2(2, 1)
    return os.fdopen(events, "wb")


def _exit_when_stdin_closes() -> None:
    """End the process once the server closes stdin, or dies: no one reads the run then.

    Handlers get an empty stdin instead, as in Lambda, so one reading it is not left waiting.
    """
    server = os.dup(0)
    empty = os.open(os.devnull, os.O_RDONLY)
    os.dup2(empty, 0)
    os.close(empty)

    # Bound now: during a run a handler's os._exit is caught (simulate/failures.py).
    exit_process = os._exit

    def watch() -> None:
        while os.read(server, 4096):
            pass
        exit_process(1)

    threading.Thread(target=watch, name="attak-ui-server-watch", daemon=True).start()


if __name__ == "__main__":
    main()
