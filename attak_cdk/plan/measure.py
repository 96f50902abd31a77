"""Figures a local run measured, as plan assumptions: ``measured(topology, run)``.

A run (``attak simulate``'s result, read through the small protocol below so the plan
does not depend on the simulator) holds every handler call with its event, its emits,
its error and its time. From it, per processor: emits per event per topic, the size of
the events it receives and emits, its handler time (median; p99 is reported) and the
share of events that failed; per stream, the emits themselves, so the plan packs and
compresses their real data with the runtime's code (``wire.py``). Figures written under
``plan:`` or given as options are laid over these.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol

from .. import graph
from ..model import Topology
from ..runtime.context import Emit
from ..runtime.envelope import encode_input
from .assumptions import Assumptions, ProcessorAssumptions
from .wire import TRACE

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


class Run(Protocol):
    @property
    def invocations(self) -> Sequence[Call]: ...


def measured(topology: Topology, run: Run) -> Assumptions:
    """What ``run`` measured, as assumptions (see the module docstring)."""
    resolved = graph.resolve(topology)
    events: dict[str, int] = defaultdict(int)
    failed: dict[str, int] = defaultdict(int)
    received: dict[str, int] = defaultdict(int)
    emitted_bytes: dict[str, int] = defaultdict(int)
    emitted: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    seconds: dict[str, list[float]] = defaultdict(list)
    samples: dict[str, list[Emit]] = defaultdict(list)
    ingest = {p.ingest.name for p in resolved.processors.values() if p.ingest is not None}
    for call in run.invocations:
        name = call.processor
        seconds[name].append(call.seconds)
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
    processors: dict[str, ProcessorAssumptions] = {}
    sizes: dict[str, Decimal] = {}
    errors: dict[str, Decimal] = {}
    for name in topology.processors:
        if not events[name]:
            continue
        count = Decimal(events[name])
        total = sum(emitted[name].values())
        processors[name] = ProcessorAssumptions(
            emits={topic: n / count for topic, n in emitted[name].items()}
            if resolved.processors[name].routes
            else None,
            duration=Decimal(str(statistics.median(seconds[name]))).quantize(Decimal("1e-6")),
            size=Decimal(emitted_bytes[name]) / total if total else None,
        )
        if name in resolved.entries:
            sizes[name] = Decimal(received[name]) / count
        errors[name] = Decimal(failed[name]) / count
    return Assumptions(
        sizes=sizes,
        processors=processors,
        samples={stream: tuple(emits) for stream, emits in samples.items() if emits},
        errors=errors,
        measured=tuple(sorted(processors)),
    )


def p99(run: Run, processor: str) -> float:
    """The 99th percentile of ``processor``'s handler time in ``run``, in seconds."""
    times = sorted(c.seconds for c in run.invocations if c.processor == processor)
    return times[min(len(times) - 1, int(len(times) * 0.99))] if times else 0.0


def _size(data: Any) -> int:
    """Bytes of an event's data as JSON, as it travels."""
    if isinstance(data, bytes):
        return len(data)
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
