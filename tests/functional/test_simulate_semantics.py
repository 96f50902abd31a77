"""The in-memory engine keeps Lambda + Kinesis delivery semantics (DESIGN.md)."""

from __future__ import annotations

import json

import pytest

from attak_cdk.simulate.engine import key_lane
from attak_cdk.simulate.result import document
from attak_cdk.testing import run_topology
from tests.conftest import KEYED, PASS_ON, POISON, RECORD, ROUTER, SINK, WriteProject


def project(write_project: WriteProject, topology: str, **handlers: str):  # type: ignore[no-untyped-def]
    files = {f"p/{name}.py": source for name, source in handlers.items()}
    return write_project({**files, "topology.yml": topology})


def test_fan_out_by_topic(write_project: WriteProject) -> None:
    root = project(
        write_project,
        """
        name: fan-out
        processors: {router: p/router.py, evens: p/sink.py, odds: p/sink.py, all: p/sink.py}
        streams:
          - [router, evens, even]
          - [router, odds, odd]
          - [router, all]
        """,
        router=ROUTER,
        sink=SINK,
    )
    inputs = [("router", {"kind": "even" if n % 2 == 0 else "odd", "value": n}) for n in range(6)]
    result = run_topology(root, inputs)
    assert result.ok
    received = {
        p: [i.event for i in result.invocations if i.processor == p]
        for p in ("evens", "odds", "all")
    }
    assert received == {"evens": [0, 2, 4], "odds": [1, 3, 5], "all": [0, 1, 2, 3, 4, 5]}


def test_fan_in_collects_from_every_source(write_project: WriteProject) -> None:
    root = project(
        write_project,
        """
        name: fan-in
        processors: {left: p/pass.py, right: p/pass.py, merge: p/sink.py}
        streams: [[left, merge], [right, merge]]
        """,
        **{"pass": PASS_ON, "sink": SINK},
    )
    result = run_topology(root, [("left", "l1"), ("right", "r1"), ("left", "l2")])
    merged = sorted(i.event for i in result.invocations if i.processor == "merge")
    assert merged == ["l1", "l2", "r1"]


def test_emit_on_a_topic_without_stream_is_a_visible_sink(write_project: WriteProject) -> None:
    root = project(write_project, "name: s\nprocessors: {only: p/pass.py}\n", **{"pass": PASS_ON})
    result = run_topology(root, {"only": "x"})
    assert result.ok
    assert result.emitted == {"only": {"out": ["x"]}}
    assert result.where_to(result.invocations[0].emits[0]) == []


def test_runaway_loop_stops_at_max_hops_with_a_message(write_project: WriteProject) -> None:
    root = project(
        write_project,
        "name: loop\nmax_hops: 5\nprocessors: {a: p/pass.py, b: p/pass.py}\nstreams: [[a, b], [b, a]]\n",
        **{"pass": PASS_ON},
    )
    result = run_topology(root, {"a": 1})
    assert not result.ok
    assert result.stopped is not None and "past max_hops 5" in result.stopped
    assert len(result.invocations) == 6  # hops 0..5 handled, the 6th emit refused
    assert result.invocations[-1].error is not None
    assert len(result.loops) == 1


def test_fan_out_loop_ends_promptly(write_project: WriteProject) -> None:
    doubling = (
        "def handler(event, context):\n    context.emit('x', event)\n    context.emit('x', event)\n"
    )
    root = project(
        write_project,
        "name: boom\nprocessors: {a: p/double.py}\nstreams: [[a, a]]\n",
        double=doubling,
    )
    result = run_topology(root, {"a": 0})  # default max_hops 16
    assert result.stopped is not None
    assert len(result.invocations) < 2**17  # stopped at the first hit, not after 2^16 records
    assert result.unprocessed > 0


def test_max_hops_override_allows_deeper_legit_chains(write_project: WriteProject) -> None:
    counter = """
def handler(event, context):
    if event < 30:
        context.emit("next", event + 1)
"""
    root = project(
        write_project, "name: c\nprocessors: {a: p/count.py}\nstreams: [[a, a]]\n", count=counter
    )
    assert not run_topology(root, {"a": 0}).ok
    assert run_topology(root, {"a": 0}, max_hops=40).ok


def test_failing_record_is_retried_then_dead_lettered_with_its_error(
    write_project: WriteProject,
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
    result = run_topology(root, [("spout", "a"), ("spout", "poison"), ("spout", "b")])
    assert not result.ok
    (letter,) = result.dead_letters
    assert letter.event == "poison"
    assert letter.error == "ValueError: cannot take 'poison'"
    assert letter.source == "spout->picky"
    attempts = [
        i.attempt for i in result.invocations if i.processor == "picky" and i.event == "poison"
    ]
    assert attempts[-1] == letter.attempts
    # every other record went through: nothing dropped
    processed = [i.event for i in result.invocations if i.processor == "picky" and i.ok]
    assert processed == ["a", "b"]
    # the failing record's own emits were discarded; the good ones were kept
    assert result.emitted["picky"] == {"seen": ["a", "b"]}


def test_bisect_isolates_the_poison_record(write_project: WriteProject) -> None:
    root = project(
        write_project,
        """
        name: bisect
        processors: {spout: p/pass.py, picky: p/poison.py}
        streams: [{from: spout, to: picky, retry_attempts: 0, batch_size: 8}]
        """,
        **{"pass": PASS_ON, "poison": POISON},
    )
    events = (
        [("spout", f"e{n}") for n in range(3)]
        + [("spout", "poison")]
        + [("spout", f"e{n}") for n in range(3, 7)]
    )
    result = run_topology(root, events)
    assert [d.event for d in result.dead_letters] == ["poison"]
    handled = [i.event for i in result.invocations if i.processor == "picky" and i.ok]
    assert handled == ["e0", "e1", "e2", "e3", "e4", "e5", "e6"]


def test_without_bisect_the_rest_of_the_failing_batch_is_dead_lettered(
    write_project: WriteProject,
) -> None:
    root = project(
        write_project,
        """
        name: nobisect
        processors: {spout: p/pass.py, picky: p/poison.py}
        streams: [{from: spout, to: picky, retry_attempts: 1, batch_size: 4, bisect_batch_on_error: false}]
        """,
        **{"pass": PASS_ON, "poison": POISON},
    )
    result = run_topology(root, [("spout", v) for v in ("a", "poison", "b", "c", "d", "e")])
    letters = [(d.event, d.attempts) for d in result.dead_letters]
    # "a" is checkpointed; the retried batch starts at "poison" and holds b, c and d too.
    # When retries run out AWS skips that whole batch (to the on-failure destination), so
    # b, c and d are dead letters that were never handed to the handler; "e" is processed.
    assert letters == [("poison", 2), ("b", 0), ("c", 0), ("d", 0)]
    assert "not processed: its batch was dead-lettered" in result.dead_letters[1].error
    assert [i.event for i in result.invocations if i.processor == "picky" and i.ok] == ["a", "e"]


def test_direct_invocation_is_retried_twice_then_dead_lettered(write_project: WriteProject) -> None:
    root = project(write_project, "name: d\nprocessors: {picky: p/poison.py}\n", poison=POISON)
    result = run_topology(root, [("picky", "ok"), ("picky", "poison"), ("picky", "fine")])
    attempts = [(i.event, i.attempt) for i in result.invocations]
    assert attempts == [("ok", 1), ("poison", 1), ("poison", 2), ("poison", 3), ("fine", 1)]
    (letter,) = result.dead_letters
    assert (letter.source, letter.attempts) == ("input", 3)


def test_a_flaky_record_succeeds_on_retry_and_is_not_dead_lettered(
    write_project: WriteProject,
) -> None:
    flaky = """
failures = {"left": 2}
def handler(event, context):
    if failures["left"]:
        failures["left"] -= 1
        raise TimeoutError("downstream busy")
    context.emit("done", event)
"""
    root = project(
        write_project,
        "name: f\nprocessors: {spout: p/pass.py, flaky: p/flaky.py}\nstreams: [[spout, flaky]]\n",
        **{"pass": PASS_ON, "flaky": flaky},
    )
    result = run_topology(root, {"spout": 1})
    assert result.ok
    assert [i.attempt for i in result.invocations if i.processor == "flaky"] == [1, 2, 3]
    assert result.emitted["flaky"] == {"done": [1]}


def test_order_is_kept_per_partition_key_across_shards(write_project: WriteProject) -> None:
    root = project(
        write_project,
        """
        name: order
        processors: {spout: p/keyed.py, consumer: p/record.py}
        streams: [{from: spout, to: consumer, shards: 4, batch_size: 3}]
        """,
        keyed=KEYED,
        record=RECORD,
    )
    events = [("spout", {"user": f"u{n % 5}", "n": n}) for n in range(60)]
    result = run_topology(root, events)
    seen = result.emitted["consumer"]["seen"]
    assert len(seen) == 60
    for user in {e["user"] for _, e in events}:
        numbers = [e["n"] for e in seen if e["user"] == user]
        assert numbers == sorted(numbers)
    assert [e["n"] for e in seen] != list(range(60))  # several shards really interleaved


def test_emit_of_non_json_data_fails_the_record_naming_processor_and_topic(
    write_project: WriteProject,
) -> None:
    bad = "def handler(event, context):\n    context.emit('objects', {1, 2})\n"
    root = project(write_project, "name: j\nprocessors: {bad: p/bad.py}\n", bad=bad)
    result = run_topology(root, {"bad": 1})
    (letter,) = result.dead_letters
    assert "processor 'bad', topic 'objects': data is not JSON-serializable" in letter.error


def test_oversized_record_fails_with_the_limit(write_project: WriteProject) -> None:
    big = "def handler(event, context):\n    context.emit('blob', 'x' * (1024 * 1024))\n"
    root = project(write_project, "name: b\nprocessors: {big: p/big.py}\n", big=big)
    (letter,) = run_topology(root, {"big": 1}).dead_letters
    assert "over Kinesis' limit of 1048576 (1 MiB)" in letter.error


def test_ingest_stream_input_is_read_in_batches(write_project: WriteProject) -> None:
    root = project(
        write_project,
        "name: i\nprocessors: {reader: {handler: p/pass.py, input: stream}}\n",
        **{"pass": PASS_ON},
    )
    result = run_topology(root, [("reader", n) for n in range(3)])
    assert {i.source for i in result.invocations} == {"input->reader"}
    assert result.emitted["reader"]["out"] == [0, 1, 2]


def test_handler_prints_are_captured_per_invocation(write_project: WriteProject) -> None:
    chatty = "def handler(event, context):\n    print('got', event)\n"
    root = project(write_project, "name: p\nprocessors: {chatty: p/chatty.py}\n", chatty=chatty)
    result = run_topology(root, [("chatty", 1), ("chatty", 2)])
    assert [i.logs for i in result.invocations] == ["got 1\n", "got 2\n"]


def test_trace_and_parent_link_every_hop(write_project: WriteProject) -> None:
    root = project(
        write_project,
        "name: t\nprocessors: {a: p/pass.py, b: p/pass.py}\nstreams: [[a, b]]\n",
        **{"pass": PASS_ON},
    )
    first, second = run_topology(root, {"a": "x"}).invocations
    assert second.parent == first.id
    assert second.trace == first.trace
    assert (first.sender, second.sender) == (None, "a")


def test_runs_are_deterministic_for_a_seed(write_project: WriteProject) -> None:
    root = project(
        write_project,
        "name: det\nprocessors: {a: p/pass.py, b: p/sink.py}\nstreams: [{from: a, to: b, shards: 3}]\n",
        **{"pass": PASS_ON, "sink": SINK},
    )
    inputs = [("a", n) for n in range(20)]

    def strip_times(doc: dict) -> str:  # type: ignore[type-arg]
        for invocation in doc["invocations"]:
            invocation["seconds"] = 0
        for row in doc["summary"].values():
            row["seconds"] = 0
        return json.dumps(doc)

    first = strip_times(document(run_topology(root, inputs, seed=7)))
    assert first == strip_times(document(run_topology(root, inputs, seed=7)))
    assert first != strip_times(document(run_topology(root, inputs, seed=8)))


def test_unknown_input_processor_is_refused(write_project: WriteProject) -> None:
    from attak_cdk.errors import InputError

    root = project(
        write_project, "name: u\nprocessors: {reverse: p/pass.py}\n", **{"pass": PASS_ON}
    )
    with pytest.raises(
        InputError, match="unknown processor 'revrse' \\(did you mean 'reverse'\\?\\)"
    ):
        run_topology(root, {"revrse": 1})


CONTEXT_READER = """
def handler(event, context):
    remaining = context.get_remaining_time_in_millis()
    print(context.function_name, context.memory_limit_in_mb, context.aws_request_id)
    assert 0 < remaining <= 7000, remaining
    if event == "again":
        raise ValueError("fails, to be retried")
    context.emit("seen", event)
"""


def test_handlers_get_lambdas_context_with_an_id_and_full_time_per_invocation(
    write_project: WriteProject,
) -> None:
    root = project(
        write_project,
        "name: c\nprocessors:\n  reader: {handler: p/reader.py, timeout: 7, memory: 512}\n",
        reader=CONTEXT_READER,
    )
    events = [("reader", "one"), ("reader", "two"), ("reader", "again")]
    result = run_topology(root, events)
    logs = [i.logs.split() for i in result.invocations]
    assert [line[:2] for line in logs] == [["reader", "512"]] * 5  # two, then three attempts
    ids = [line[2] for line in logs]
    assert len(set(ids[:3])) == 3  # every invocation its own id
    assert ids[2] == ids[3] == ids[4]  # Lambda retries an asynchronous invoke under its id
    assert result.emitted == {"reader": {"seen": ["one", "two"]}}
    # Counted, not random: the same run gives the same ids.
    again = run_topology(root, events)
    assert [i.logs.split()[2] for i in again.invocations] == ids


KEY_POISON = """
def handler(event, context):
    if event.get("poison"):
        raise ValueError(f"cannot take {event['user']}{event['n']}")
    context.emit("seen", event)
"""


def lanes_project(write_project: WriteProject, factor: int):  # type: ignore[no-untyped-def]
    return project(
        write_project,
        f"""
        name: lanes
        processors: {{spout: p/spout.py, picky: p/picky.py}}
        streams:
          - {{from: spout, to: picky, parallelization_factor: {factor}, batch_size: 2, retry_attempts: 2}}
        """,
        spout=KEYED,
        picky=KEY_POISON,
    )


# Keys A and B: on the one shard, A0 B0 A1 B1 A2 B2 A3 B3, with A1 a poison record.
LANE_EVENTS = [
    ("spout", {"user": user, "n": n, "poison": (user, n) == ("A", 1)})
    for n in range(4)
    for user in ("A", "B")
]


def handled(result, user: str) -> list[tuple[int, int, bool]]:  # type: ignore[no-untyped-def]
    """(invocation number, n, ok) of every call of picky on the records of key ``user``."""
    return [
        (number, i.event["n"], i.ok)
        for number, i in enumerate(result.invocations)
        if i.processor == "picky" and i.event["user"] == user
    ]


def test_with_parallelization_factor_2_a_poison_record_holds_up_only_its_keys_lane(
    write_project: WriteProject,
) -> None:
    assert key_lane("A", 2) != key_lane("B", 2)  # the two keys share the shard, not a lane
    result = run_topology(lanes_project(write_project, 2), LANE_EVENTS)
    (letter,) = result.dead_letters
    assert (letter.event["n"], letter.error) == (1, "ValueError: cannot take A1")
    assert letter.attempts == 4  # in its batch, bisected alone, then 2 retries
    a_calls, b_calls = handled(result, "A"), handled(result, "B")
    poison_calls = [number for number, n, _ in a_calls if n == 1]
    # B's lane went on while A's retried: all of B, in order, before A1 was dead-lettered
    assert [(n, ok) for _, n, ok in b_calls] == [(0, True), (1, True), (2, True), (3, True)]
    assert max(number for number, _, _ in b_calls) < poison_calls[-1]
    # A keeps its order: nothing after A1 was handed to the handler before A1 left
    assert [n for _, n, ok in a_calls if ok] == [0, 2, 3]
    assert min(number for number, n, _ in a_calls if n > 1) > poison_calls[-1]
    # every other record went through, its emits kept
    seen = result.emitted["picky"]["seen"]
    assert sorted((e["user"], e["n"]) for e in seen) == sorted(
        (e["user"], e["n"]) for _, e in LANE_EVENTS if not e["poison"]
    )


def test_with_parallelization_factor_1_a_poison_record_holds_up_its_whole_shard(
    write_project: WriteProject,
) -> None:
    result = run_topology(lanes_project(write_project, 1), LANE_EVENTS)
    assert [d.event["n"] for d in result.dead_letters] == [1]
    poison_calls = [number for number, n, _ in handled(result, "A") if n == 1]
    b_after = [number for number, n, _ in handled(result, "B") if n >= 1]
    assert min(b_after) > poison_calls[-1]  # B1 shared A1's batch: it waited
