"""Figures a local run measured, as plan assumptions: ``measured(topology, run)``.

A run (``attak simulate``'s result, read through the small protocol below so the plan
does not depend on the simulator) holds every handler call with its event, its emits,
its error and its time. From it, per processor: emits per event per topic, the size of
the events it receives and emits, its handler time (median; p99 is reported) and the
share of events that failed and of those dead-lettered; per stream, the emits
themselves, so the plan packs and compresses their real data with the runtime's code
(``wire.py``).

Figures written under ``plan:`` or given as options are laid over these (``beneath``):
what a person wrote down is what they mean to plan for, a run only fills in the rest.
Each measured figure is named in ``Assumptions.measured`` (``parse.duration``), so the
plan can say which of its figures a run measured and which it assumed.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any, Protocol

from .. import graph
from ..errors import AttakError
from ..model import Topology
from ..runtime.context import Emit
from ..runtime.envelope import encode_input
from .assumptions import LAMBDA_VCPU_MB, Assumptions, ProcessorAssumptions
from .wire import TRACE


class MeasureError(AttakError):
    """A local run could not measure the topology: it was given no events."""


SAMPLE_EMITS = 2000
"""Emits kept per stream: enough for several flushes of real data."""


class Call(Protocol):
    processor: str
    event: Any
    source: str
    attempt: int
    emits: list[Emit]
    error: BaseException | None
    seconds: float
    logs: str


class Letter(Protocol):
    @property
    def processor(self) -> str: ...

    @property
    def error(self) -> str: ...


class Run(Protocol):
    @property
    def invocations(self) -> Sequence[Call]: ...

    @property
    def dead_letters(self) -> Sequence[Letter]: ...

    @property
    def stopped(self) -> str | None: ...


def measured(topology: Topology, run: Run) -> Assumptions:
    """What ``run`` measured, as assumptions (see the module docstring)."""
    resolved = graph.resolve(topology)
    events: dict[str, int] = defaultdict(int)
    failed: dict[str, int] = defaultdict(int)
    received: dict[str, int] = defaultdict(int)
    emitted_bytes: dict[str, int] = defaultdict(int)
    emitted: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    seconds: dict[str, list[float]] = defaultdict(list)
    printed: dict[str, int] = defaultdict(int)
    samples: dict[str, list[Emit]] = defaultdict(list)
    ingest = {p.ingest.name for p in resolved.processors.values() if p.ingest is not None}
    for call in run.invocations:
        name = call.processor
        seconds[name].append(call.seconds)
        if call.logs:
            printed[name] += len(call.logs.encode())
        if call.attempt == 1:
            events[name] += 1
            received[name] += _size(call.event)
            if call.source in ingest and len(samples[call.source]) < SAMPLE_EMITS:
                samples[call.source].append(Emit("", encode_input(call.event, TRACE), None, ()))
        if call.error is not None:
            failed[name] += 1
            continue
        for emit in call.emits:
            emitted[name][emit.topic] += 1
            emitted_bytes[name] += _size(emit.data)
            for stream in emit.streams:
                if len(samples[stream]) < SAMPLE_EMITS:
                    samples[stream].append(emit)
    lettered: dict[str, int] = defaultdict(int)
    for letter in run.dead_letters:
        lettered[letter.processor] += 1
    processors: dict[str, ProcessorAssumptions] = {}
    sizes: dict[str, Decimal] = {}
    errors: dict[str, Decimal] = {}
    dead: dict[str, Decimal] = {}
    slowest: dict[str, Decimal] = {}
    cpu: dict[str, Decimal] = {}
    figures: list[str] = []
    for name in topology.processors:
        if not events[name]:
            continue
        count = Decimal(events[name])
        total = sum(emitted[name].values())
        routed = bool(resolved.processors[name].routes)
        # Measured on a full core; on Lambda the handler has its memory's share of one.
        slower = max(Decimal(1), Decimal(LAMBDA_VCPU_MB) / topology.processors[name].memory)
        cpu[name] = _seconds(statistics.median(seconds[name]))
        processors[name] = ProcessorAssumptions(
            emits={topic: n / count for topic, n in emitted[name].items()} if routed else None,
            duration=_seconds(cpu[name] * slower),
            size=Decimal(emitted_bytes[name]) / total if total else None,
            log=Decimal(printed[name]) / count,
        )
        slowest[name] = _seconds(Decimal(_p99(seconds[name])) * slower)
        figures += [f"{name}.duration", f"{name}.errors", f"{name}.dead_letters", f"{name}.log"]
        figures += [f"{name}.emits"] if routed else []
        figures += [f"{name}.size"] if total else []
        if name in resolved.entries:
            sizes[name] = Decimal(received[name]) / count
            figures.append(f"{name}.input_size")
        errors[name] = Decimal(failed[name]) / count
        dead[name] = Decimal(lettered[name]) / count
    return Assumptions(
        sizes=sizes,
        processors=processors,
        samples={stream: tuple(emits) for stream, emits in samples.items() if emits},
        errors=errors,
        dead_letter_shares=dead,
        p99=slowest,
        cpu=cpu,
        measured=tuple(figures),
        run_problems=_problems(run, events),
    )


def _problems(run: Run, events: dict[str, int]) -> tuple[str, ...]:
    """What went wrong in ``run``, each naming the figures it puts in doubt."""
    problems = []
    if run.stopped is not None:
        problems.append(
            f"the measured run stopped before its end ({run.stopped}): its figures are of "
            "the part that ran; `attak simulate` shows why"
        )
    first: dict[str, Letter] = {}
    count: dict[str, int] = defaultdict(int)
    for letter in run.dead_letters:
        first.setdefault(letter.processor, letter)
        count[letter.processor] += 1
    for name, letter in first.items():
        error = letter.error.strip().splitlines()[-1] if letter.error.strip() else "an error"
        problems.append(
            f"processor {name}: the measured run dead-lettered {count[name]} of its "
            f"{events.get(name, 0)} events ({error}): its figures come from a failing run; "
            "fix the handler (`attak simulate` shows each failure) or write them under plan:"
        )
    return tuple(problems)


def beneath(found: Assumptions, given: Assumptions, *, dead_letters_given: bool) -> Assumptions:
    """``given`` (the ``plan:`` section with the options on top) laid over ``found``.

    A figure given for every processor (``duration``, ``size``) outranks each measured
    one; ``dead_letters_given``: the ``plan:`` section wrote a dead-letter share, which
    then stands for every processor instead of the measured ones. A stream's measured
    emits stand for its records only while no written size governs them: a written input
    size replaces an ingest stream's sample, a processor's written emitted size the
    samples of the streams it writes.
    """
    figures = set(found.measured)
    processors: dict[str, ProcessorAssumptions] = {}
    cpu = dict(found.cpu)
    for name in {*found.processors, *given.processors}:
        mine, theirs = found.of(name), given.of(name)
        duration_written = theirs.duration is not None or given.duration is not None
        duration = theirs.duration if duration_written else mine.duration
        processors[name] = ProcessorAssumptions(
            emits=theirs.emits if theirs.emits is not None else mine.emits,
            duration=duration,
            size=theirs.size if theirs.size is not None else mine.size,
            log=theirs.log if theirs.log is not None else mine.log,
        )
        overridden = {
            "emits": theirs.emits is not None,
            "duration": duration_written,
            "size": theirs.size is not None,
            "log": theirs.log is not None,
            "errors": dead_letters_given,
            "dead_letters": dead_letters_given,
        }
        figures -= {f"{name}.{figure}" for figure, yes in overridden.items() if yes}
        if duration_written:
            cpu.pop(name, None)
    sizes = dict(given.sizes) if given.size is not None else {**found.sizes, **given.sizes}
    figures -= {f"{name}.input_size" for name in found.sizes if name not in sizes}
    figures -= {f"{name}.input_size" for name in given.sizes}
    samples = dict(found.samples)
    for name in found.sizes:
        if f"{name}.input_size" not in figures:
            samples.pop(graph.ingest_stream_name(name), None)
    for name, own in given.processors.items():
        if own.size is not None:
            for stream in [s for s in samples if s.startswith(f"{name}->")]:
                samples.pop(stream)
    return replace(
        given,
        sizes=sizes,
        processors=processors,
        samples=samples,
        errors={} if dead_letters_given else dict(found.errors),
        dead_letter_shares={} if dead_letters_given else dict(found.dead_letter_shares),
        p99=dict(found.p99),
        cpu=cpu,
        measured_from=found.measured_from,
        run_problems=found.run_problems,
        measured=tuple(f for f in found.measured if f in figures),
    )


def _p99(times: list[float]) -> float:
    """The 99th percentile of ``times`` (nearest rank)."""
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


def _seconds(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("1e-7"))


def _size(data: Any) -> int:
    """Bytes of an event's data as JSON, as it travels."""
    if isinstance(data, bytes):
        return len(data)
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
