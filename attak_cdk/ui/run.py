"""A simulation started from the page, streamed back as server-sent events.

The memory engine runs in a worker thread, the one ``attak simulate`` runs, and reports
each handler call through ``on_invocation``; every report is sent to the page as soon as
it is made, so a long run fills the page while it runs. Events, in order:

``start``       ``{"topology", "events"}``: the run began with this many input events;
``invocation``  one per handler call, in the ``attak simulate --json`` form (id, parent,
                trace, processor, source stream, event, emits, error with the user's
                traceback, logs, seconds);
``end``         ``{"ok", "stopped", "unprocessed", "summary", "dead_letters", "emitted",
                "invocations", "shown"}``: what ``attak simulate`` would print at the end;
``failed``      ``{"message"}``: the run could not go on (a handler failed to import).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import AttakError, InputError
from ..inputs import InputEvent, check_processors
from ..model import Topology
from ..simulate.memory import MemoryEngine
from ..simulate.result import Invocation, describe_error

MAX_STREAMED = 10_000
"""Invocations sent to the page one by one; a bigger run is summed up in ``end`` only, as a
browser list of a million rows helps nobody (``attak simulate --json`` has them all)."""

_one_run_at_a_time = threading.Lock()
"""A run captures what handlers print by swapping ``sys.stdout`` for the whole process,
so two runs at once would mix each other's logs."""


def read_editor_input(text: str, topology: Topology) -> list[InputEvent]:
    """The input editor's text, in input.json's form (``{processor: data}``), as events.

    Raises ``InputError`` with the message ``attak simulate`` gives for the same file.
    """
    # The parser of input.json itself, so the page and the command agree on every message.
    from ..inputs import read_input_object

    events = read_input_object(Path("input"), text)
    if not events:
        example = next(iter(topology.processors), "processor")
        raise InputError(
            f'input: no events to send; name a processor and its event, e.g. {{"{example}": '
            '"hello world"}'
        )
    check_processors(events, topology.processors)
    return events


def server_sent_event(kind: str, data: Any) -> str:
    """One server-sent event: its kind and its data as one line of JSON."""
    # Handler data is JSON already; repr() keeps anything else (an exception) readable.
    return f"event: {kind}\ndata: {json.dumps(data, default=repr, separators=(',', ':'))}\n\n"


async def run_events(
    topology: Topology, events: list[InputEvent], *, max_hops: int | None = None, seed: int = 0
) -> AsyncIterator[str]:
    """Run ``events`` through ``topology`` and yield the run's server-sent events."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    gone = threading.Event()  # the page went away: stop sending, let the run finish

    def send(text: str | None) -> None:
        if gone.is_set():
            return
        try:
            loop.call_soon_threadsafe(queue.put_nowait, text)
        except RuntimeError:  # the server's loop is closed: nobody to send to
            gone.set()

    def work() -> None:
        try:
            with _one_run_at_a_time:
                _run(topology, events, max_hops, seed, send)
        except AttakError as exc:
            send(server_sent_event("failed", {"message": exc.message}))
        except Exception as exc:  # a crash is reported on the page, not lost in a thread
            send(server_sent_event("failed", {"message": f"the run failed: {describe_error(exc)}"}))
        finally:
            send(None)

    threading.Thread(target=work, name="attak-ui-run", daemon=True).start()
    try:
        while True:
            text = await queue.get()
            if text is None:
                return
            # Whatever else is queued goes out in the same write: fewer, larger writes keep
            # up with a fast engine.
            chunk = [text]
            while not queue.empty():
                more = queue.get_nowait()
                if more is None:
                    yield "".join(chunk)
                    return
                chunk.append(more)
            yield "".join(chunk)
    finally:
        gone.set()


def _run(
    topology: Topology,
    events: list[InputEvent],
    max_hops: int | None,
    seed: int,
    send: Callable[[str | None], None],
) -> None:
    from ..simulate.result import (
        invocation_document,  # the `attak simulate --json` form of one call
    )

    send(server_sent_event("start", {"topology": topology.name, "events": len(events)}))
    engine: MemoryEngine | None = None
    shown = 0

    def on_invocation(invocation: Invocation) -> None:
        nonlocal shown
        if engine is not None and shown < MAX_STREAMED:
            shown += 1
            send(server_sent_event("invocation", invocation_document(engine.result, invocation)))

    engine = MemoryEngine(topology, max_hops=max_hops, seed=seed, on_invocation=on_invocation)
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
                "dead_letters": [asdict(letter) for letter in result.dead_letters],
                "emitted": result.emitted,
            },
        )
    )
