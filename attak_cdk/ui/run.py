"""A simulation started from the page, run in a worker process and streamed back as
server-sent events.

Each run is a process of its own (``worker``), started with this Python; it reads the
topology and handlers fresh from disk and writes the run's events to its stdout, which is
relayed to the page as they come, so a long run fills the page while it runs. A handler
that never returns holds up only its own run, and runs do not wait for each other. When the
page stops reading (it cancels the run or goes away), the worker is stopped: SIGTERM, then
SIGKILL after ``GRACE`` seconds. Events, in order:

``start``       ``{"topology", "events"}``: the run began with this many input events;
``invocation``  one per handler call, in the ``attak simulate --json`` form (id, parent,
                trace, processor, source stream, event, emits, error with the user's
                traceback, logs, seconds);
``end``         ``{"ok", "stopped", "unprocessed", "summary", "dead_letters", "emitted",
                "invocations", "shown"}``: what ``attak simulate`` would print at the end;
``failed``      ``{"message"}``: the run could not go on (a handler failed to import, the
                topology on disk has errors now, the worker process died: its exit code or
                signal and the last lines it wrote to stderr).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncGenerator
from contextlib import aclosing, suppress
from pathlib import Path

from ..errors import InputError
from ..inputs import InputEvent, check_processors
from ..model import Topology
from .worker import MAX_STREAMED, request, server_sent_event

__all__ = ["GRACE", "MAX_STREAMED", "read_editor_input", "run_events", "server_sent_event"]

GRACE = 1.0
"""Seconds a worker has to end after being asked to (SIGTERM) before it is killed."""

_STDERR_KEPT = 4096
"""Bytes of a worker's stderr kept to explain its death: a traceback's worth."""

_ending: set[asyncio.Task[None]] = set()
"""Workers being stopped; the loop keeps only weak references to tasks."""


def read_editor_input(text: str, topology: Topology) -> list[InputEvent]:
    """The input editor's text, in input.json's form (``{processor: data}``) or as JSON
    Lines (``{"processor": ..., "data": ...}`` on each line), as events.

    Raises ``InputError`` with the message ``attak simulate`` gives for the same file.
    """
    # The parsers of the input files themselves, so the page and the command agree on
    # every message.
    from ..inputs import read_input_text

    events = read_input_text(Path("input"), text)
    if not events:
        example = next(iter(topology.processors), "processor")
        raise InputError(
            f'input: no events to send; name a processor and its event, e.g. {{"{example}": '
            '"hello world"}'
        )
    check_processors(events, topology.processors)
    return events


async def run_events(
    topology: Topology,
    events: list[InputEvent],
    *,
    max_hops: int | None = None,
    seed: int = 0,
    env_file: Path | None = None,
) -> AsyncGenerator[str, None]:
    """Run ``events`` through ``topology`` in a worker process and yield the run's
    server-sent events, several in one string when they arrive together. ``env_file``
    gives the values the topology keeps in AWS (default: ``.env`` beside it, if any).

    Closing or cancelling the iterator stops the worker and reaps it.
    """
    try:
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "attak_cdk.ui.worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            # No terminal to hold a debugger's prompt: breakpoint() in a handler does
            # nothing here (`attak simulate` is the place to step through one).
            env={**os.environ, "PYTHONBREAKPOINT": "0"},
        )
    except OSError as exc:
        yield server_sent_event("failed", {"message": f"cannot start the run: {exc}"})
        return
    assert worker.stdin and worker.stdout and worker.stderr
    stderr = bytearray()
    reading_stderr = asyncio.create_task(_keep_tail(worker.stderr, stderr))
    finished = False
    try:
        try:
            worker.stdin.write(
                request(
                    str(topology.file),
                    events,
                    max_hops,
                    seed,
                    str(env_file) if env_file is not None else None,
                )
            )
            await worker.stdin.drain()
        except ConnectionError:
            pass  # the worker died at once: its stderr says why
        async with aclosing(_whole_events(worker.stdout)) as texts:
            async for text in texts:
                finished = _last_kind(text) in {"end", "failed"}
                yield text
                if finished:
                    return
        # The event stream closed before the end: the worker died.
        await worker.wait()
        await asyncio.wait({reading_stderr}, timeout=GRACE)
        finished = True
        yield server_sent_event("failed", {"message": _died(worker.returncode, stderr)})
    finally:
        # Signalled at once and reaped by a task of its own: when the page goes away, this
        # generator is cancelled, and may be cancelled again at each await.
        if not finished:
            _signal(worker, signal.SIGTERM)
            worker.stdin.close()  # this too ends a worker, even one ignoring SIGTERM
        ending = asyncio.create_task(_end(worker, reading_stderr, asked=not finished))
        _ending.add(ending)
        ending.add_done_callback(_ending.discard)
        await asyncio.shield(ending)


async def _whole_events(stream: asyncio.StreamReader) -> AsyncGenerator[str, None]:
    """The server-sent events read from ``stream``, as whole events only."""
    pending = bytearray()
    while chunk := await stream.read(1 << 16):
        searched = max(len(pending) - 1, 0)  # an event's "\n\n" may straddle two chunks
        pending += chunk
        cut = pending.rfind(b"\n\n", searched)
        if cut >= 0:
            yield pending[: cut + 2].decode()
            del pending[: cut + 2]


def _last_kind(text: str) -> str:
    """The kind of the last of these whole events (``event: KIND\\ndata: ...\\n\\n``)."""
    last = text[: -len("\n\n")].rpartition("\n\n")[2]
    return last.partition("\n")[0].removeprefix("event: ")


async def _keep_tail(stream: asyncio.StreamReader, kept: bytearray) -> None:
    """Read ``stream`` to its end (a worker blocks on a full pipe), keeping its last bytes."""
    while chunk := await stream.read(1 << 16):
        kept += chunk
        if len(kept) > 2 * _STDERR_KEPT:
            del kept[:-_STDERR_KEPT]


def _died(returncode: int | None, stderr: bytearray) -> str:
    """Why a run stopped before its end, in the words of its worker's exit."""
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        how = f"was killed by {name}"
    else:
        how = f"exited with code {returncode}"
    message = f"the run stopped: its process {how} before the run ended"
    lines = stderr[-_STDERR_KEPT:].decode(errors="replace").strip().splitlines()[-20:]
    if lines:
        message += "; the last lines it wrote to stderr:\n" + "\n".join(lines)
    return message


def _signal(worker: asyncio.subprocess.Process, signal_number: int) -> None:
    if worker.returncode is None:
        with suppress(ProcessLookupError):  # it ended on its own in the meantime
            worker.send_signal(signal_number)


async def _exited(worker: asyncio.subprocess.Process, seconds: float) -> bool:
    try:
        await asyncio.wait_for(worker.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def _end(
    worker: asyncio.subprocess.Process, reading_stderr: asyncio.Task[None], *, asked: bool
) -> None:
    """Reap the worker. One not ``asked`` to end (its run is over) has ``GRACE`` seconds to
    exit by itself before SIGTERM; one still there ``GRACE`` seconds after SIGTERM is killed."""
    if not asked and not await _exited(worker, GRACE):
        _signal(worker, signal.SIGTERM)
    if not await _exited(worker, GRACE):
        _signal(worker, signal.SIGKILL)
    await worker.wait()
    assert worker.stdin
    worker.stdin.close()
    # A subprocess the worker left behind may hold its stderr open: stop waiting for it.
    reading_stderr.cancel()
