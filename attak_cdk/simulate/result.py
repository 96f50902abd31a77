"""What a simulation produced: invocations, emits, dead letters, and the summary per processor.

Plain data shared by the engines, the CLI's renderers and ``attak_cdk.testing``. The
``document`` function gives the ``attak simulate --json`` form.
"""

from __future__ import annotations

import base64
import traceback
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from ..runtime.context import Emit, LoopError
from ..runtime.envelope import Envelope
from .failures import InvocationFailed

_RUNTIME_DIR = str(Path(__file__).resolve().parent.parent)


def _short(data: Any, limit: int = 60) -> str:
    """Data in a repr: its own repr, cut to ``limit`` characters."""
    text = repr(data)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _count(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass(slots=True)
class Invocation:
    """One handler call on one record (a retry is another invocation)."""

    id: int
    processor: str
    event: Any
    parent: int | None
    """The invocation that emitted this record; ``None`` for outside input."""
    trace: str
    sender: str | None
    """The processor that emitted the record; ``None`` for outside input."""
    attempt: int
    source: str
    """The stream it was read from, or ``input`` for a direct invocation."""
    emits: list[Emit]
    error: BaseException | None
    seconds: float
    logs: str = ""
    """What the handler printed (in Lambda: its log lines)."""
    previous: int | None = None
    """The invocation that tried this event before (its previous attempt); ``None`` on
    its first."""

    @property
    def ok(self) -> bool:
        return self.error is None

    def __repr__(self) -> str:
        attempt = f" attempt {self.attempt}" if self.attempt > 1 else ""
        head = f"<Invocation #{self.id} {self.processor} <- {self.sender or self.source}{attempt}"
        event = f"event={_short(self.event)}"
        if self.error is not None:
            return f"{head}: {event} failed: {describe_error(self.error)}>"
        emits = ", ".join(f"{e.topic!r}: {_short(e.data)}" for e in self.emits[:3])
        more = f", ... {len(self.emits) - 3} more" if len(self.emits) > 3 else ""
        return f"{head}: {event} emitted {{{emits}{more}}}>"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that ran out of retries, with the error that put it here."""

    processor: str
    source: str
    event: Any
    trace: str
    error: str
    attempts: int
    invocation: int | None
    """The last invocation that tried it; ``None`` if it was never handed to the handler
    (it shared a batch with a failing record while bisect_batch_on_error was off)."""
    traceback: str = ""
    """The handler's traceback, for an event the runtime dead-lettered itself."""
    topic: str | None = None
    """The topic it was emitted on; ``None`` for outside input."""
    sender: str | None = None
    """The processor that emitted it; ``None`` for outside input."""
    hops: int = 0
    """Its envelope's hop count: what ``--replay-dead-letters`` sends it back with."""

    def __repr__(self) -> str:
        return (
            f"<DeadLetter {self.processor} <- {self.source}: event={_short(self.event)} "
            f"error={self.error!r} attempts={self.attempts} trace={self.trace!r}>"
        )

    def explain(self) -> str:
        """The letter for a person: where it was, its data, its error, its trace, and the
        handler's traceback when there is one."""
        lines = [
            f"{self.processor} <- {self.source}: {_short(self.event, 200)}",
            f"  error: {self.error}",
            f"  attempts: {self.attempts}, trace: {self.trace or '-'}",
        ]
        lines += [f"  {line}" for line in self.traceback.rstrip().splitlines()]
        return "\n".join(lines)


class Row(NamedTuple):
    """How the engine records a handler call cheaply, as it happens: the envelope as read,
    not yet the event taken from it. ``SimulationResult.invocations`` builds from these."""

    processor: str
    source: str
    """The stream the record was read from, or ``input`` for a direct invocation."""
    parent: int | None
    """The number of the invocation that emitted the record; ``None`` for outside input."""
    envelope: Envelope | None
    """The record's envelope; ``None`` when it could not be decoded."""
    emits: list[Emit]
    error: BaseException | None
    seconds: float
    logs: str
    attempt: int
    previous: int | None
    """The number of the invocation that tried the same event before, if any."""


@dataclass
class SimulationResult:
    """Everything a run produced, in the order it happened."""

    topology: str
    rows: list[Row] = field(default_factory=list, repr=False)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    stopped: str | None = None
    """Why the run stopped early (a runaway loop), or ``None`` if it drained every stream."""
    unprocessed: int = 0
    """Records still in streams when the run stopped early."""
    processors: tuple[str, ...] = ()
    targets: dict[str, str] = field(default_factory=dict)
    """Stream name -> consuming processor, to say where each emit went."""
    _transport: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)
    _count: Callable[[], dict[str, dict[str, int]]] | None = field(default=None, repr=False)
    engine: dict[str, Any] | None = None
    """What an engine other than the memory one measured on the wire (the Kinesis engine:
    calls, duplicates, dead-letter messages); ``None`` for the memory engine."""
    external: dict[str, list[Any]] = field(default_factory=dict)
    """Per external stream written to (its name under ``external:``), the data of each
    record the runtime would have written there, in order: a local run sends none."""
    retried_in_place: dict[str, int] = field(default_factory=dict)
    """Per processor, the handler calls the runtime made to retry an event in place
    (within an invocation): what tells its failed events (``summary``) from its retries."""

    _built: list[Invocation] = field(default_factory=list, repr=False)

    def __repr__(self) -> str:
        """Short: the counts, whether it is ok, and the dead letters (the first few)."""
        emits = sum(len(row.emits) for row in self.rows if row.error is None)
        head = (
            f"<SimulationResult {self.topology!r}: {_count(len(self.rows), 'invocation')}, "
            f"{_count(emits, 'emit')}, {_count(len(self.dead_letters), 'dead letter')}"
        )
        if self.ok:
            return f"{head}, ok>"
        letters = "; ".join(
            f"{d.processor} <- {d.source} {_short(d.event)}: {d.error}"
            for d in self.dead_letters[:3]
        )
        more = f"; ... {len(self.dead_letters) - 3} more" if len(self.dead_letters) > 3 else ""
        stopped = f", stopped: {self.stopped}" if self.stopped else ""
        return f"{head}, not ok{stopped}{': ' if letters else ''}{letters}{more}>"

    def assert_ok(self) -> None:
        """Raise ``AssertionError`` unless every record was processed, saying for each
        dead letter its processor, data, error, trace and traceback, and why the run
        stopped if a loop stopped it."""
        if self.ok:
            return
        parts = [f"simulation of {self.topology!r} is not ok:"]
        if self.stopped is not None:
            parts.append(
                f"stopped: {self.stopped} "
                f"({_count(self.unprocessed, 'record')} left unprocessed in streams)"
            )
        if self.dead_letters:
            parts.append(f"{_count(len(self.dead_letters), 'dead letter')}:")
            parts += [letter.explain() for letter in self.dead_letters]
        raise AssertionError("\n".join(parts))

    @property
    def transport(self) -> dict[str, dict[str, int]]:
        """Per stream, what the runtime writes to it in AWS: Kinesis records, the events
        they carry, bytes, PUT payload units and on-demand billed KB
        (``runtime.records.Tally``)."""
        if self._count is not None:
            self._transport, self._count = self._count(), None
        return self._transport

    @transport.setter
    def transport(self, figures: dict[str, dict[str, int]]) -> None:
        self._transport, self._count = figures, None

    def count_transport(self, count: Callable[[], dict[str, dict[str, int]]]) -> None:
        """Have ``transport`` counted by ``count`` when first asked for: packing and
        compressing every record costs more than a run that does not need it."""
        self._transport, self._count = {}, count

    def invocation(self, index: int) -> Invocation:
        """The invocation recorded at ``index`` (ids count from 1)."""
        row = self.rows[index]
        envelope = row.envelope
        return Invocation(
            id=index + 1,
            processor=row.processor,
            event=envelope["data"] if envelope is not None else None,
            parent=row.parent,
            trace=envelope["trace"] if envelope is not None else "",
            sender=envelope["from"] if envelope is not None else None,
            attempt=row.attempt,
            source=row.source,
            emits=row.emits,
            error=row.error,
            seconds=row.seconds,
            logs=row.logs,
            previous=row.previous,
        )

    @property
    def invocations(self) -> list[Invocation]:
        """Every handler call, in the order they happened."""
        built = self._built
        for index in range(len(built), len(self.rows)):
            built.append(self.invocation(index))
        return built

    @property
    def ok(self) -> bool:
        """Every record was processed: nothing dead-lettered, no loop stopped the run."""
        return not self.dead_letters and self.stopped is None

    @property
    def emitted(self) -> dict[str, dict[str, list[Any]]]:
        """processor -> topic -> data, in emit order (successful handler calls only)."""
        table: dict[str, dict[str, list[Any]]] = {}
        for invocation in self.invocations:
            if invocation.error is None and invocation.emits:
                topics = table.setdefault(invocation.processor, {})
                for emit in invocation.emits:
                    topics.setdefault(emit.topic, []).append(emit.data)
        return table

    @property
    def summary(self) -> dict[str, dict[str, Any]]:
        """Per processor: invocations (handler calls), errors (calls that raised), failed
        events, retries, emits, dead letters, seconds.

        ``failed``, ``retries`` and ``dead_letters`` are the counts a deployed processor
        publishes as metrics (``runtime/logs.py``), summed over the run: ``failed`` counts
        the events an invocation gave up on (dead-lettered, or handed back to Lambda to
        retry), each time one did. ``retries`` counts every retry, the runtime's in place
        and Lambda's of a whole invocation (after a timeout, or of a direct invocation),
        which a deployed processor cannot see: Lambda's Errors metric counts those
        invocations. An invocation that failed as a whole (a timeout) is in ``errors``,
        not in ``failed``, as it writes no summary line in AWS.
        """

        def empty() -> dict[str, Any]:
            counts: dict[str, Any] = dict.fromkeys(
                ("invocations", "errors", "failed", "retries", "emits", "dead_letters"), 0
            )
            return {**counts, "seconds": 0.0}

        table = {name: empty() for name in self.processors}
        for invocation in self.invocations:
            row = table.get(invocation.processor) or table.setdefault(invocation.processor, empty())
            row["invocations"] += 1
            row["seconds"] += invocation.seconds
            if invocation.attempt > 1:
                row["retries"] += 1
            if invocation.error is None:
                row["emits"] += len(invocation.emits)
            else:
                row["errors"] += 1
                if not isinstance(invocation.error, InvocationFailed):
                    row["failed"] += 1
        for letter in self.dead_letters:
            table[letter.processor]["dead_letters"] += 1
        # Each retry in place follows a failed call of its event: that call was not given up.
        for name, retried in self.retried_in_place.items():
            if name in table:
                table[name]["failed"] -= retried
        for row in table.values():
            row["seconds"] = round(row["seconds"], 6)
        return table

    def where_to(self, emit: Emit) -> list[str]:
        """The processors an emit was delivered to (empty for a sink topic)."""
        return [self.targets.get(s, s) for s in emit.streams]

    @property
    def loops(self) -> list[Invocation]:
        """Invocations stopped by the max_hops guard."""
        return [i for i in self.invocations if isinstance(i.error, LoopError)]


def describe_error(error: BaseException) -> str:
    """``Type: message``; a timeout in Lambda's own words."""
    if isinstance(error, InvocationFailed):
        return str(error)
    return f"{type(error).__name__}: {error}"


def user_traceback(error: BaseException) -> list[str]:
    """The traceback lines of the user's own code, without attak's frames."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not frame.filename.startswith(_RUNTIME_DIR)
    ]
    # Folds a frame repeated over and over (a runaway recursion), as Python's tracebacks do.
    return traceback.StackSummary.from_list(frames).format()


def document(result: SimulationResult) -> dict[str, Any]:
    """The ``attak simulate --json`` document."""
    return {
        "topology": result.topology,
        "ok": result.ok,
        "stopped": result.stopped,
        "unprocessed": result.unprocessed,
        "invocations": [invocation_document(result, i) for i in result.invocations],
        "emitted": result.emitted,
        "dead_letters": [dead_letter_document(d) for d in result.dead_letters],
        "summary": result.summary,
        "transport": result.transport,
        "external": {
            name: [event_document(d) for d in data] for name, data in result.external.items()
        },
        **({"engine": result.engine} if result.engine is not None else {}),
    }


def invocation_document(result: SimulationResult, invocation: Invocation) -> dict[str, Any]:
    error = invocation.error
    return {
        "id": invocation.id,
        "processor": invocation.processor,
        "source": invocation.source,
        "event": event_document(invocation.event),
        "parent": invocation.parent,
        "from": invocation.sender,
        "trace": invocation.trace,
        "attempt": invocation.attempt,
        "previous": invocation.previous,
        "emits": _emits(result, invocation.emits) if error is None else [],
        "discarded_emits": len(invocation.emits) if error is not None else 0,
        "error": None
        if error is None
        else {"message": describe_error(error), "traceback": "".join(user_traceback(error))},
        "logs": invocation.logs,
        "seconds": round(invocation.seconds, 6),
    }


def _emits(result: SimulationResult, emits: Iterable[Emit]) -> list[dict[str, Any]]:
    return [{"topic": e.topic, "data": e.data, "to": result.where_to(e)} for e in emits]


def event_document(event: Any) -> Any:
    """An event as a JSON document holds it: binary data (the bytes an outside producer
    wrote into an ingest stream) as ``{"base64": ...}``, anything else as it is."""
    if isinstance(event, bytes):
        return {"base64": base64.b64encode(event).decode("ascii")}
    return event


def dead_letter_document(letter: DeadLetter) -> dict[str, Any]:
    """A dead letter as a JSON document holds it."""
    document = asdict(letter)
    document["event"] = event_document(letter.event)
    return document
