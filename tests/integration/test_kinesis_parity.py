"""The Kinesis engine ends a run as the memory engine does: same emits, same dead letters.

Each case of the delivery semantics runs on both engines; the Kinesis one goes through a
real Kinesis API (kinesalite, and moto server where SQS matters). Lists are compared
without their order where several shards interleave.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from attak_cdk.inputs import InputEvent
from attak_cdk.project import load_topology
from attak_cdk.simulate import kinesis, memory
from attak_cdk.simulate.result import SimulationResult, document
from tests.conftest import KEYED, PASS_ON, POISON, RECORD, ROUTER, SINK, WriteProject

pytestmark = pytest.mark.integration


def project(write_project: WriteProject, topology: str, **handlers: str) -> Path:
    files = {f"p/{name}.py": source for name, source in handlers.items()}
    return write_project({**files, "topology.yml": topology})


def run_both(
    endpoint: str, root: Path, inputs: Iterable[tuple[str, Any]], **options: Any
) -> tuple[SimulationResult, SimulationResult]:
    topology = load_topology(root)
    events = [InputEvent(name, data) for name, data in inputs]
    in_memory = memory.simulate(topology, events, **options)
    over_kinesis = kinesis.simulate(topology, events, endpoint_url=endpoint, **options)
    return in_memory, over_kinesis


def unordered(emitted: dict[str, dict[str, list[Any]]]) -> dict[str, dict[str, list[str]]]:
    return {
        processor: {topic: sorted(json.dumps(d) for d in data) for topic, data in topics.items()}
        for processor, topics in emitted.items()
    }


def letters(result: SimulationResult) -> list[tuple[str, str, str, str, int]]:
    return sorted(
        (d.processor, d.source, json.dumps(d.event), d.error, d.attempts)
        for d in result.dead_letters
    )


def assert_same(in_memory: SimulationResult, over_kinesis: SimulationResult) -> None:
    assert unordered(over_kinesis.emitted) == unordered(in_memory.emitted)
    assert letters(over_kinesis) == letters(in_memory)
    assert over_kinesis.ok == in_memory.ok
    # the same document, with the wire's own figures added
    memory_keys = set(document(in_memory))
    assert set(document(over_kinesis)) == memory_keys | {"engine"}


def test_fan_out_by_topic(kinesalite: str, write_project: WriteProject) -> None:
    root = project(
        write_project,
        """
        name: fan-out
        processors: {router: p/router.py, evens: p/sink.py, odds: p/sink.py, all: p/sink.py}
        streams: [[router, evens, even], [router, odds, odd], [router, all]]
        """,
        router=ROUTER,
        sink=SINK,
    )
    inputs = [("router", {"kind": "even" if n % 2 == 0 else "odd", "value": n}) for n in range(6)]
    in_memory, over_kinesis = run_both(kinesalite, root, inputs)
    assert_same(in_memory, over_kinesis)
    received = {
        p: [i.event for i in over_kinesis.invocations if i.processor == p]
        for p in ("evens", "odds", "all")
    }
    assert received == {"evens": [0, 2, 4], "odds": [1, 3, 5], "all": [0, 1, 2, 3, 4, 5]}
    # each direct invocation wrote its emit to two streams (its topic's and the catch-all)
    assert over_kinesis.engine is not None
    assert over_kinesis.engine["records_read"] == 12
    assert over_kinesis.engine["put_records_calls"] == 6 * 2


def test_fan_in(kinesalite: str, write_project: WriteProject) -> None:
    root = project(
        write_project,
        """
        name: fan-in
        processors: {left: p/pass.py, right: p/pass.py, merge: p/pass.py}
        streams: [[left, merge], [right, merge]]
        """,
        **{"pass": PASS_ON},
    )
    in_memory, over_kinesis = run_both(
        kinesalite, root, [("left", "l1"), ("right", "r1"), ("left", "l2")]
    )
    assert_same(in_memory, over_kinesis)
    assert sorted(over_kinesis.emitted["merge"]["out"]) == ["l1", "l2", "r1"]
    merged = [i for i in over_kinesis.invocations if i.processor == "merge"]
    assert {i.source for i in merged} == {"left->merge", "right->merge"}
    assert all(i.parent is not None and i.sender in ("left", "right") for i in merged)


def test_loop_stops_at_max_hops(kinesalite: str, write_project: WriteProject) -> None:
    root = project(
        write_project,
        "name: loop\nmax_hops: 5\nprocessors: {a: p/pass.py, b: p/pass.py}\nstreams: [[a, b], [b, a]]\n",
        **{"pass": PASS_ON},
    )
    in_memory, over_kinesis = run_both(kinesalite, root, [("a", 1)])
    assert_same(in_memory, over_kinesis)
    assert over_kinesis.stopped == in_memory.stopped
    assert over_kinesis.stopped is not None and "past max_hops 5" in over_kinesis.stopped
    assert len(over_kinesis.invocations) == len(in_memory.invocations) == 6


def test_failing_record_retries_then_dead_letter_into_sqs(
    moto: str, write_project: WriteProject
) -> None:
    root = project(
        write_project,
        """
        name: retry
        processors: {spout: p/pass.py, picky: p/poison.py}
        streams: [{from: spout, to: picky, retry_attempts: 2}]
        """,
        **{"pass": PASS_ON, "poison": POISON},
    )
    inputs = [("spout", "a"), ("spout", "poison"), ("spout", "b")]
    in_memory, over_kinesis = run_both(moto, root, inputs)
    assert_same(in_memory, over_kinesis)
    (letter,) = over_kinesis.dead_letters
    assert (letter.event, letter.error) == ("poison", "ValueError: cannot take 'poison'")

    def attempts(result: SimulationResult) -> list[int]:
        return [i.attempt for i in result.invocations if i.processor == "picky" and not i.ok]

    # failed in its batch, bisected (a retry that does not count), then 2 retries
    assert (
        attempts(over_kinesis) == attempts(in_memory) == [1, 2, 3, 4] == [1, 2, 3, letter.attempts]
    )
    assert over_kinesis.engine is not None
    assert over_kinesis.engine["dead_letter_queue"] is True
    assert over_kinesis.engine["dead_letter_messages"] == 1


def test_queue_holds_lambdas_on_failure_record(moto: str, write_project: WriteProject) -> None:
    root = project(
        write_project,
        """
        name: queue
        processors: {spout: p/pass.py, picky: p/poison.py}
        streams: [{from: spout, to: picky, retry_attempts: 0}]
        """,
        **{"pass": PASS_ON, "poison": POISON},
    )
    topology = load_topology(root)
    with kinesis.KinesisEngine(topology, endpoint_url=moto) as engine:
        engine.run([InputEvent("spout", "poison")])
        (message,) = engine.queue_messages("picky")
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    info = message["KinesisBatchInfo"]
    assert info["batchSize"] == 1
    assert info["streamArn"].endswith("SpoutToPickyStream")


def test_bisect_and_no_bisect_dead_letter_the_same_records(
    kinesalite: str, write_project: WriteProject
) -> None:
    root = project(
        write_project,
        """
        name: bisect
        processors: {spout: p/pass.py, picky: p/poison.py, strict: p/poison.py}
        streams:
          - {from: spout, to: picky, retry_attempts: 0, batch_size: 8}
          - {from: spout, to: strict, retry_attempts: 1, batch_size: 4, bisect_batch_on_error: false}
        """,
        **{"pass": PASS_ON, "poison": POISON},
    )
    inputs = [("spout", v) for v in ("a", "poison", "b", "c", "d", "e", "f", "g")]
    in_memory, over_kinesis = run_both(kinesalite, root, inputs)
    assert_same(in_memory, over_kinesis)
    assert [d.event for d in over_kinesis.dead_letters if d.processor == "picky"] == ["poison"]
    assert [d.event for d in over_kinesis.dead_letters if d.processor == "strict"] == [
        "poison",
        "b",
        "c",
        "d",
    ]


def test_direct_invocation_retried_twice_then_dead_lettered(
    kinesalite: str, write_project: WriteProject
) -> None:
    root = project(write_project, "name: d\nprocessors: {picky: p/poison.py}\n", poison=POISON)
    in_memory, over_kinesis = run_both(
        kinesalite, root, [("picky", "ok"), ("picky", "poison"), ("picky", "fine")]
    )
    assert_same(in_memory, over_kinesis)
    attempts = [(i.event, i.attempt) for i in over_kinesis.invocations]
    assert attempts == [("ok", 1), ("poison", 1), ("poison", 2), ("poison", 3), ("fine", 1)]


def test_order_is_kept_per_key_across_shards(kinesalite: str, write_project: WriteProject) -> None:
    root = project(
        write_project,
        """
        name: order
        processors: {spout: {handler: p/keyed.py, input: stream}, consumer: p/record.py}
        streams: [{from: spout, to: consumer, shards: 4, batch_size: 3}]
        """,
        keyed=KEYED,
        record=RECORD,
    )
    events = [("spout", {"user": f"u{n % 5}", "n": n}) for n in range(60)]
    in_memory, over_kinesis = run_both(kinesalite, root, events)
    assert_same(in_memory, over_kinesis)
    seen = over_kinesis.emitted["consumer"]["seen"]
    for user in {e["user"] for _, e in events}:
        numbers = [e["n"] for e in seen if e["user"] == user]
        assert numbers == sorted(numbers)
    # the keys land on the same shards as in memory (MD5 over equal hash-key ranges)
    shard_of = {
        i.event["user"]: i.source for i in over_kinesis.invocations if i.processor == "consumer"
    }
    assert len(shard_of) == 5


def test_batching_window_and_batch_size_shape_the_invocations(
    kinesalite: str, write_project: WriteProject
) -> None:
    root = project(
        write_project,
        """
        name: window
        processors: {spout: {handler: p/pass.py, input: stream}, sink: p/sink.py}
        streams: [{from: spout, to: sink, batch_size: 10, max_batching_window: 1}]
        """,
        **{"pass": PASS_ON, "sink": SINK},
    )
    topology = load_topology(root)
    events = [InputEvent("spout", n) for n in range(25)]
    result = kinesis.simulate(topology, events, endpoint_url=kinesalite)
    assert result.ok
    assert sorted(i.event for i in result.invocations if i.processor == "sink") == list(range(25))


def test_a_timed_out_record_is_dead_lettered_alike(
    kinesalite: str, write_project: WriteProject
) -> None:
    root = project(
        write_project,
        """
        name: timeout
        processors: {spout: p/fan.py, slow: {handler: p/slow.py, timeout: 1}}
        streams: [{from: spout, to: slow, retry_attempts: 0}]
        """,
        fan="def handler(event, context):\n    for item in event:\n        context.emit('out', item)\n",
        slow=(
            "import time\n\ndef handler(event, context):\n    context.emit('seen', event)\n"
            "    if event == 'slow':\n        time.sleep(30)\n"
        ),
    )
    in_memory, over_kinesis = run_both(kinesalite, root, [("spout", ["a", "slow"])])
    assert_same(in_memory, over_kinesis)
    (letter,) = over_kinesis.dead_letters
    assert (letter.event, letter.error) == ("slow", "Task timed out after 1.00 seconds")
    assert over_kinesis.emitted["slow"] == {"seen": ["a"]}  # "slow"'s emit was discarded
    assert over_kinesis.engine is not None
    assert over_kinesis.engine["function_errors"] >= 2  # the batch, then "slow" alone


def test_parallel_lanes_dead_letter_a_poison_key_while_the_other_key_flows_in_order(
    kinesalite: str, write_project: WriteProject
) -> None:
    root = project(
        write_project,
        """
        name: lanes
        processors: {spout: p/spout.py, picky: p/picky.py}
        streams:
          - {from: spout, to: picky, parallelization_factor: 2, batch_size: 2, retry_attempts: 2}
        """,
        spout=KEYED,
        picky=(
            "def handler(event, context):\n    if event['poison']:\n"
            "        raise ValueError(f\"cannot take {event['user']}{event['n']}\")\n"
            "    context.emit('seen', event)\n"
        ),
    )
    # Keys A and B on one shard, in two lanes: A0 B0 A1 B1 A2 B2 A3 B3, A1 a poison record.
    inputs = [
        ("spout", {"user": user, "n": n, "poison": (user, n) == ("A", 1)})
        for n in range(4)
        for user in ("A", "B")
    ]
    in_memory, over_kinesis = run_both(kinesalite, root, inputs)
    assert_same(in_memory, over_kinesis)
    for result in (in_memory, over_kinesis):
        (letter,) = result.dead_letters
        assert (letter.error, letter.attempts) == ("ValueError: cannot take A1", 4)
        calls = [
            (number, i.event["user"], i.event["n"], i.ok)
            for number, i in enumerate(result.invocations)
            if i.processor == "picky"
        ]
        poison = [number for number, key, n, _ in calls if (key, n) == ("A", 1)]
        # B's lane went on while A1 was retried, in order; A's waited for A1 to leave
        b_calls = [(number, n) for number, key, n, ok in calls if key == "B" and ok]
        assert [n for _, n in b_calls] == [0, 1, 2, 3]
        assert any(poison[0] < number < poison[-1] for number, _ in b_calls)
        assert [n for _, key, n, ok in calls if key == "A" and ok] == [0, 2, 3]
        assert min(number for number, key, n, _ in calls if key == "A" and n > 1) > poison[-1]
