"""No record lost under faults: 10,000 events through three stages over a faulty Kinesis.

The fault proxy sits between the engine and kinesalite, at the HTTP layer: 30% of
PutRecords entries come back throttled, some whole calls fail with a 5xx, lose their
answer after the write (so the caller writes again) or time out, and GetRecords calls
fail now and then. In the middle stage 1% of the records are poison (the handler always
raises) and another 1% crash the handler once, mid-batch. Every event must end processed
by the last stage or dead-lettered with its error; duplicates are what at-least-once
allows, counted and reported.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from pathlib import Path

import pytest

from attak_cdk.inputs import InputEvent
from attak_cdk.project import load_topology
from attak_cdk.simulate import kinesis
from attak_cdk.simulate.faults import FaultProxy, Faults
from attak_cdk.simulate.result import SimulationResult
from tests.conftest import WriteProject

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EVENTS = 10_000

# Padded so that a flush holds more than one record of a key bucket (64 KiB each): the
# emitter's order per key under partial failures is then really exercised.
SPOUT = """
def handler(event, context):
    context.emit("orders", {**event, "note": "." * 2500}, key=str(event["id"] % 64))
"""
# Poison: id % 100 == 7 always raises. Crash once: id % 100 == 42 raises on first sight.
ENRICH = """
crashed = set()

def handler(event, context):
    n = event["id"]
    if n % 100 == 7:
        raise ValueError(f"poison order {n}")
    if n % 100 == 42 and n not in crashed:
        crashed.add(n)
        raise ConnectionError(f"order {n}: lost the database connection")
    context.emit("enriched", {"id": n, "total": n * 3}, key=str(n % 64))
"""
STORE = """
def handler(event, context):
    context.emit("stored", event["id"])
"""


def out_of_order(result: SimulationResult, sender: str, receiver: str) -> int:
    """Events of a key that ``receiver`` first handled before one ``sender`` emitted earlier
    on the same key (first emission and first handling count: duplicates are allowed)."""
    emitted: dict[int, int] = {}
    for invocation in result.invocations:
        if invocation.processor == sender and invocation.ok:
            for emit in invocation.emits:
                emitted.setdefault(emit.data["id"], len(emitted))
    handled: dict[str, list[int]] = {}
    seen: set[int] = set()
    for invocation in result.invocations:
        n = invocation.event["id"] if invocation.processor == receiver else None
        if n is not None and n not in seen:
            seen.add(n)
            handled.setdefault(str(n % 64), []).append(emitted[n])
    return sum(1 for order in handled.values() for a, b in itertools.pairwise(order) if b < a)


def test_ten_thousand_events_none_lost(
    kinesalite: str, write_project: WriteProject, tmp_path: Path
) -> None:
    root = write_project(
        {
            "p/spout.py": SPOUT,
            "p/enrich.py": ENRICH,
            "p/store.py": STORE,
            "topology.yml": """
            name: orders
            defaults: {batch_size: 500, retry_attempts: 2}
            processors:
              spout: {handler: p/spout.py, input: stream}
              enrich: p/enrich.py
              store: p/store.py
            streams:
              - {from: spout, to: enrich, shards: 2, batch_size: 100}
              - {from: enrich, to: store, shards: 2}
            """,
        }
    )
    topology = load_topology(root)
    events = [InputEvent("spout", {"id": n}) for n in range(EVENTS)]
    faults = Faults(
        throttle=0.30,
        server_errors=0.03,
        lost_answers=0.02,
        timeouts=0.003,
        hold=0.5,
        operations=frozenset({"PutRecords", "GetRecords"}),
        seed=5,
    )
    # Tuned for a quick test, not for other semantics: short backoff and read timeout.
    options = kinesis.KinesisOptions(
        read_timeout=0.3, emit_base_delay=0.002, emit_max_delay=0.02, read_retry_delay=0.005
    )
    started = time.perf_counter()
    with FaultProxy(kinesalite, faults) as proxy:
        result = kinesis.simulate(topology, events, endpoint_url=proxy.url, options=options)
    seconds = time.perf_counter() - started

    stored = Counter(i.event["id"] for i in result.invocations if i.processor == "store" and i.ok)
    letters = {d.event["id"]: d for d in result.dead_letters}
    poison = {n for n in range(EVENTS) if n % 100 == 7}

    # every event accounted for: stored, or a dead letter with its error; none both
    assert set(stored) | set(letters) == set(range(EVENTS))
    assert not set(stored) & set(letters)
    lost = EVENTS - len(set(stored) | set(letters))
    assert lost == 0
    # exactly the poison records are dead letters, each with the handler's own error,
    # after at least its retry attempts (bisecting adds attempts that do not count)
    assert set(letters) == poison
    assert all(
        d.processor == "enrich" and d.error == f"ValueError: poison order {n}" and d.attempts >= 3
        for n, d in letters.items()
    )
    # the crash-once records were retried and went through
    assert all(stored[n] >= 1 for n in range(42, EVENTS, 100))
    # order per key: each stage first handled a key's events in the order they were emitted
    assert out_of_order(result, "spout", "enrich") == 0
    assert out_of_order(result, "enrich", "store") == 0

    engine = result.engine
    assert engine is not None
    duplicates = sum(stored.values()) - len(stored)
    counts = proxy.counts
    assert counts.throttled_entries > 0.25 * counts.entries
    assert counts.server_errors and counts.lost_answers
    retries = sum(1 for i in result.invocations if i.attempt > 1)
    print(
        f"\n{EVENTS} events in {seconds:.1f} s: {counts.entries} PutRecords entries, "
        f"{counts.throttled_entries} throttled; {counts.server_errors} 5xx, "
        f"{counts.lost_answers} lost answers, {counts.timeouts} timeouts "
        f"(calls: {counts.calls}); {engine['put_records_calls']} PutRecords calls, "
        f"{engine['function_errors']} whole-batch failures, {retries} retried invocations, "
        f"{engine['duplicates']} duplicate records read, {duplicates} events stored twice, "
        f"{len(letters)} dead letters, lost {lost}"
    )
    # duplicates are only what at-least-once allows: a write whose answer was lost, or a
    # batch retried as a whole, and the engine counts them
    assert engine["duplicates"] <= counts.lost_answers * 500 + engine["function_errors"] * 500
    # a record carries many events: every event stored twice came in a record read twice
    assert not duplicates or engine["duplicates"] > 0


def test_emits_that_cannot_be_written_fail_the_batch_and_are_retried(
    kinesalite: str, write_project: WriteProject
) -> None:
    """With two PutRecords attempts and most entries throttled, emits keep failing: the
    invocation raises as a whole, Lambda retries the whole batch, nothing is lost."""
    root = write_project(
        {
            "p/spout.py": SPOUT,
            "p/store.py": STORE,
            "topology.yml": """
            name: pressure
            processors: {spout: {handler: p/spout.py, input: stream}, store: p/store.py}
            streams: [{from: spout, to: store, batch_size: 10, retry_attempts: 10000}]
            """,
        }
    )
    events = [InputEvent("spout", {"id": n}) for n in range(300)]
    options = kinesis.KinesisOptions(emit_attempts=2, emit_base_delay=0.001, emit_max_delay=0.002)
    with FaultProxy(kinesalite, Faults(throttle=0.3, seed=1)) as proxy:
        result = kinesis.simulate(
            load_topology(root), events, endpoint_url=proxy.url, options=options
        )
    assert result.engine is not None and result.engine["function_errors"] > 0
    stored = {i.event["id"] for i in result.invocations if i.processor == "store" and i.ok}
    assert stored == set(range(300))
    assert result.ok
