"""Throughput of the in-memory engine against a bare Python loop, side by side.

The pipeline is spout -> reverse -> sink (bench/pipeline). The bare loop calls the same
three handler functions with a minimal context and one JSON encode + decode per hop: the
least any engine that keeps JSON fidelity must do. The engine runs the full runtime: the
envelope, routing, batching, per-invocation records, retries bookkeeping.

    python bench/simulate_throughput.py [--events 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from attak_cdk.handlers import load_handler
from attak_cdk.inputs import InputEvent
from attak_cdk.project import load_topology
from attak_cdk.simulate.memory import simulate

HERE = Path(__file__).resolve().parent
PIPELINE = HERE / "pipeline"


class BareContext:
    __slots__ = ("emits",)

    def __init__(self) -> None:
        self.emits: list[object] = []

    def emit(self, topic: str, data: object, key: str | None = None) -> None:
        self.emits.append(data)


def bare_loop(events: list[str], spout, reverse, sink) -> int:  # type: ignore[no-untyped-def]
    dumps, loads = json.dumps, json.loads
    calls = 0
    for event in events:
        first = BareContext()
        spout(loads(dumps(event)), first)
        calls += 1
        for data in first.emits:
            second = BareContext()
            reverse(loads(dumps(data)), second)
            calls += 1
            for out in second.emits:
                sink(loads(dumps(out)), BareContext())
                calls += 1
    return calls


def engine_run(topology, events: list[str]) -> int:  # type: ignore[no-untyped-def]
    result = simulate(topology, [InputEvent("spout", e) for e in events])
    assert result.ok
    return len(result.rows)  # the recorded invocations (built into objects only on demand)


def wall_time_of_sample() -> float:
    """Median wall time of `attak simulate sample_topology` as a user runs it."""
    attak = Path(sys.executable).with_name("attak")
    times = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run(
            [str(attak), "simulate", str(HERE.parent / "sample_topology")],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    topology = load_topology(PIPELINE)
    handlers = [load_handler(topology.processors[n]) for n in ("spout", "reverse", "sink")]
    events = [f"hello world {i:06d}" for i in range(args.events)]

    bare_best = engine_best = float("inf")
    for _ in range(args.rounds):  # interleaved, best of N, so drift hits both alike
        started = time.perf_counter()
        bare_calls = bare_loop(events, *handlers)
        bare_best = min(bare_best, time.perf_counter() - started)
        started = time.perf_counter()
        engine_calls = engine_run(topology, events)
        engine_best = min(engine_best, time.perf_counter() - started)
    assert bare_calls == engine_calls == 3 * args.events

    print(f"events: {args.events:,} through spout -> reverse -> sink ({engine_calls:,} calls)")
    print(f"bare loop : {bare_best:7.3f} s  {args.events / bare_best:>10,.0f} events/s")
    print(f"attak     : {engine_best:7.3f} s  {args.events / engine_best:>10,.0f} events/s")
    print(f"ratio     : {engine_best / bare_best:.2f}x the bare loop's time (target <= 1.5x)")
    print(f"attak simulate sample_topology: {wall_time_of_sample():.3f} s wall (target < 0.5 s)")


if __name__ == "__main__":
    main()
