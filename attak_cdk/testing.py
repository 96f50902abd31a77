"""Run a topology in your own tests: ``run_topology`` simulates it and returns the result.

from attak_cdk.testing import run_topology

def test_reverse():
    result = run_topology("sample_topology", {"hello_world_spout": "hello world"})
    assert result.emitted["reverse"]["reversed strings"] == ["dlrow olleh"]
    assert result.ok
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .inputs import InputEvent, check_processors, default_input, raw_record, read_inputs
from .model import Topology
from .project import load_topology
from .simulate.memory import simulate
from .simulate.result import DeadLetter, Invocation, SimulationResult

__all__ = ["DeadLetter", "Invocation", "SimulationResult", "raw_record", "run_topology"]


def run_topology(
    topology: str | Path | Topology,
    inputs: Mapping[str, Any] | Iterable[tuple[str, Any] | InputEvent] | None = None,
    *,
    input_file: str | Path | None = None,
    max_hops: int | None = None,
    seed: int = 0,
    timeouts: bool = True,
) -> SimulationResult:
    """Simulate ``topology`` (a path or a loaded model) with ``inputs`` and return the result.

    ``inputs`` maps processor names to data like ``input.json``, or is a sequence of
    ``(processor, data)`` pairs to send several events to one processor; a pair may also
    be an ``InputEvent``, such as ``raw_record(processor, data)``: bytes an outside
    producer wrote into the processor's ingest stream (a KPL aggregate, a CloudWatch Logs
    subscription's gzip data), which the processor reads as Lambda would. Without
    ``inputs``, ``input_file`` (default: ``input.json`` beside the topology) is read.
    The result's ``emitted`` maps processor -> topic -> data; ``dead_letters`` lists the
    records that failed for good; ``ok`` is true when every record was processed.

    Each invocation runs under its processor's ``timeout``, as in Lambda: one that runs
    past it fails with "Task timed out after N.NN seconds" and is retried, then
    dead-lettered. Timeouts are enforced with SIGALRM, so only when the run is in the main
    thread on POSIX: in another thread, or on Windows, handlers run untimed. A SIGALRM
    timer of your own (pytest-timeout's) keeps working. An active debugger
    (``breakpoint()``) is never interrupted; ``timeouts=False`` turns timing off.
    """
    model = topology if isinstance(topology, Topology) else load_topology(topology)
    if inputs is None:
        events = read_inputs(input_file or default_input(model.file), model.processors)
    else:
        pairs = inputs.items() if isinstance(inputs, Mapping) else inputs
        events = [
            pair
            if isinstance(pair, InputEvent)
            else InputEvent(str(pair[0]), pair[1], f"inputs[{pair[0]!r}]")
            for pair in pairs
        ]
        check_processors(events, model.processors)
    return simulate(model, events, max_hops=max_hops, seed=seed, timeouts=timeouts)
