"""Lambda + Kinesis delivery semantics as one table of scenarios, for both engines.

Each scenario is a topology, its handlers, an input and the outcome every engine must
end with (``expect``, asserted on the result). ``tests/functional/test_simulate_semantics``
runs the table on the in-memory engine; ``tests/integration/test_kinesis_parity`` runs it
on the Kinesis engine against a local Kinesis API, asserts the same outcome there, and
that both engines end alike (same emits, same dead letters). ``on_the_wire`` adds what
only the Kinesis engine reports (its calls and records read).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from attak_cdk.simulate.engine import key_lane
from attak_cdk.simulate.result import SimulationResult
from tests.conftest import KEYED, PASS_ON, POISON, RECORD, ROUTER, SINK

Check = Callable[[SimulationResult], None]


@dataclass(frozen=True)
class Scenario:
    name: str
    """Named after the behaviour it protects (pytest's id)."""
    topology: str
    handlers: dict[str, str]
    """File name under ``p/`` (without ``.py``) to handler source."""
    inputs: list[tuple[str, Any]]
    expect: Check
    on_the_wire: Check | None = None
    """Kinesis engine only: its own figures (``result.engine``)."""
    needs_sqs: bool = False
    """Its dead letters go to SQS on the Kinesis engine: run against moto server."""
    options: dict[str, Any] = field(default_factory=dict)

    def files(self) -> dict[str, str]:
        files = {f"p/{name}.py": source for name, source in self.handlers.items()}
        return {**files, "topology.yml": self.topology}


def calls(result: SimulationResult, processor: str, *, ok: bool | None = None) -> list[Any]:
    """The events ``processor`` was called with (only the ones that went through, or only
    the failed ones, if ``ok`` is given)."""
    return [
        i.event
        for i in result.invocations
        if i.processor == processor and (ok is None or i.ok == ok)
    ]


# --- fan-out and fan-in ------------------------------------------------------------------


def fan_out_by_topic(result: SimulationResult) -> None:
    assert result.ok
    received = {p: calls(result, p) for p in ("evens", "odds", "all")}
    assert received == {"evens": [0, 2, 4], "odds": [1, 3, 5], "all": [0, 1, 2, 3, 4, 5]}


def fan_out_by_topic_on_the_wire(result: SimulationResult) -> None:
    # each direct invocation wrote its emit to two streams (its topic's and the catch-all)
    assert result.engine is not None
    assert result.engine["records_read"] == 12
    assert result.engine["put_records_calls"] == 6 * 2


def fan_in_collects_from_every_source(result: SimulationResult) -> None:
    assert sorted(calls(result, "merge")) == ["l1", "l2", "r1"]
    assert sorted(result.emitted["merge"]["out"]) == ["l1", "l2", "r1"]
    merged = [i for i in result.invocations if i.processor == "merge"]
    assert {i.source for i in merged} == {"left->merge", "right->merge"}
    assert all(i.parent is not None and i.sender in ("left", "right") for i in merged)


def emit_on_a_topic_without_stream_is_a_visible_sink(result: SimulationResult) -> None:
    assert result.ok
    assert result.emitted == {"only": {"out": ["x"]}}
    assert result.where_to(result.invocations[0].emits[0]) == []


# --- loops -------------------------------------------------------------------------------


def runaway_loop_stops_at_max_hops_with_a_message(result: SimulationResult) -> None:
    assert not result.ok
    assert result.stopped is not None and "past max_hops 5" in result.stopped
    assert len(result.invocations) == 6  # hops 0..5 handled, the 6th emit refused
    assert result.invocations[-1].error is not None
    assert len(result.loops) == 1


# --- failures: retries, bisect, dead letters ---------------------------------------------


def failing_record_is_retried_then_dead_lettered_with_its_error(result: SimulationResult) -> None:
    assert not result.ok
    (letter,) = result.dead_letters
    assert letter.event == "poison"
    assert letter.error == "ValueError: cannot take 'poison'"
    assert letter.source == "spout->picky"
    # retried in place twice (retry_attempts: 2), then dead-lettered by the runtime itself
    failed = [i.attempt for i in result.invocations if i.processor == "picky" and not i.ok]
    assert failed == [1, 2, 3] == [1, 2, letter.attempts]
    assert "raise ValueError" in letter.traceback and "poison.py" in letter.traceback
    # every other record went through: nothing dropped
    assert calls(result, "picky", ok=True) == ["a", "b"]
    # the failing record's own emits were discarded; the good ones were kept
    assert result.emitted["picky"] == {"seen": ["a", "b"]}


def dead_letter_went_into_sqs(result: SimulationResult) -> None:
    assert result.engine is not None
    assert result.engine["dead_letter_queue"] is True
    assert result.engine["dead_letter_messages"] == 1


def bisect_isolates_the_poison_record(result: SimulationResult) -> None:
    assert [d.event for d in result.dead_letters] == ["poison"]
    assert calls(result, "picky", ok=True) == ["e0", "e1", "e2", "e3", "e4", "e5", "e6"]


def a_poison_event_is_dead_lettered_alone_and_its_neighbours_run_once(
    result: SimulationResult,
) -> None:
    letters = [(d.event, d.attempts) for d in result.dead_letters]
    assert letters == [("poison", 2)]  # retried in place once, then dead-lettered alone
    assert calls(result, "picky", ok=True) == ["a", "b", "c", "d", "e"]  # each once
    assert len([i for i in result.invocations if i.processor == "picky"]) == 7


def without_bisect_a_record_that_fails_as_a_whole_takes_its_batch_with_it(
    result: SimulationResult,
) -> None:
    letters = [(d.event, d.attempts) for d in result.dead_letters]
    assert result.dead_letters[0].error.startswith("ValueError: cannot take 'poison'")
    # The poison event's letter is over SQS's limit, so its record fails as a whole.
    # "a" is checkpointed; the retried batch starts at "poison" and holds b, c and d too.
    # When retries run out AWS skips that whole batch (to the on-failure destination), so
    # b, c and d are dead letters that were never handed to the handler; "e" is processed.
    # "poison" was tried twice in place in each of its 2 invocations (retry_attempts 1)
    assert letters == [("poison", 4), ("b", 0), ("c", 0), ("d", 0)]
    assert "not processed: its batch was dead-lettered" in result.dead_letters[1].error
    assert calls(result, "picky", ok=True) == ["a", "e"]


def direct_invocation_is_retried_twice_then_dead_lettered(result: SimulationResult) -> None:
    attempts = [(i.event, i.attempt) for i in result.invocations]
    assert attempts == [("ok", 1), ("poison", 1), ("poison", 2), ("poison", 3), ("fine", 1)]
    (letter,) = result.dead_letters
    assert (letter.source, letter.attempts) == ("input", 3)


FLAKY = """
failures = {"left": 2}
def handler(event, context):
    if failures["left"]:
        failures["left"] -= 1
        raise TimeoutError("downstream busy")
    context.emit("done", event)
"""


def a_flaky_record_succeeds_on_retry_and_is_not_dead_lettered(result: SimulationResult) -> None:
    assert result.ok
    assert [i.attempt for i in result.invocations if i.processor == "flaky"] == [1, 2, 3]
    assert result.emitted["flaky"] == {"done": [1]}


def emit_of_non_json_data_fails_the_record_naming_processor_and_topic(
    result: SimulationResult,
) -> None:
    (letter,) = result.dead_letters
    assert "processor 'bad', topic 'objects': data is not JSON-serializable" in letter.error


def oversized_record_fails_with_the_limit(result: SimulationResult) -> None:
    (letter,) = result.dead_letters
    assert "over Kinesis' limit of 1048576 (1 MiB)" in letter.error


SLOW = (
    "import time\n\ndef handler(event, context):\n    context.emit('seen', event)\n"
    "    if event == 'slow':\n        time.sleep(30)\n"
)


def a_timed_out_record_is_dead_lettered(result: SimulationResult) -> None:
    (letter,) = result.dead_letters
    assert (letter.event, letter.error) == ("slow", "Task timed out after 1.00 seconds")
    assert result.emitted["slow"] == {"seen": ["a"]}  # "slow"'s emit was discarded


def the_batch_then_the_record_alone_failed(result: SimulationResult) -> None:
    assert result.engine is not None
    assert result.engine["function_errors"] >= 2  # the batch, then "slow" alone


# --- handlers that misbehave ---------------------------------------------------------------

EXITS = """
import os, sys

class Fatal(BaseException):
    pass

def handler(event, context):
    if event == "exit 3":
        sys.exit(3)
    if event == "os exit":
        os._exit(0)
    if event == "fatal":
        raise Fatal("not an Exception")
    context.emit("seen", event)
"""


def a_handler_that_ends_the_process_fails_its_invocation_as_lambda_does(
    result: SimulationResult,
) -> None:
    errors = {d.event: d.error for d in result.dead_letters}
    assert errors == {
        "exit 3": "Runtime.ExitError: Runtime exited with error: exit status 3",
        "os exit": "Runtime.ExitError: Runtime exited without providing a reason",
        "fatal": "Runtime.ExitError: Runtime exited with error: exit status 1 (the handler "
        "raised Fatal: not an Exception, which is not an Exception)",
    }
    # each failed its whole invocation and was retried; the others went through, once
    assert all(d.attempts >= 2 for d in result.dead_letters)
    assert sorted(calls(result, "quits", ok=True)) == ["a", "b", "c"]


RECURSES = """
def down(n):
    return down(n + 1)

def handler(event, context):
    if event == "deep":
        down(0)
    context.emit("seen", event)
"""


def a_runaway_recursion_is_an_event_failure_with_its_traceback_folded(
    result: SimulationResult,
) -> None:
    (letter,) = result.dead_letters
    assert (letter.event, letter.attempts) == ("deep", 1)
    assert letter.error.startswith("RecursionError: maximum recursion depth exceeded")
    assert "more times]" in letter.traceback and len(letter.traceback) < 2000
    assert calls(result, "worker", ok=True) == ["a"]


ASYNC = """
import asyncio

async def handler(event, context):
    await asyncio.sleep(0)
    context.emit("seen", event)
"""


def an_async_handler_runs_to_its_end(result: SimulationResult) -> None:
    assert result.ok
    assert sorted(result.emitted["worker"]["seen"]) == ["a", "b"]


LOGS = """
import logging
print("warming up")  # at import: Lambda's init log

logger = logging.getLogger()
named = logging.getLogger("orders")

def handler(event, context):
    logger.info("took %s", event)
    logger.debug("not at INFO")
    named.warning("checked %s", event)
"""


def logging_and_import_output_reach_the_invocations_log(result: SimulationResult) -> None:
    logs = [i.logs for i in result.invocations if i.processor == "worker"]
    assert logs == [
        "warming up\n[INFO] took a\n[WARNING] orders: checked a\n",
        "[INFO] took b\n[WARNING] orders: checked b\n",
    ]


MUTATES = """
def handler(event, context):
    data = {"n": 0}
    for n in range(3):
        data["n"] = n
        context.emit("out", data)
    data["n"] = 99
"""


def an_emit_reports_what_was_sent_not_what_the_object_became(result: SimulationResult) -> None:
    assert result.emitted["spout"]["out"] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert calls(result, "worker") == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert [e.data for e in result.invocations[0].emits] == [{"n": 0}, {"n": 1}, {"n": 2}]


def max_hops_counts_stream_hops_not_emits_to_a_sink(result: SimulationResult) -> None:
    assert result.ok and result.stopped is None
    # spout -> worker is the one stream hop; worker's emit goes to a sink, no hop
    assert result.emitted["worker"] == {"out": ["a"]}


# --- order, shards and lanes -------------------------------------------------------------

ORDER_EVENTS = [("spout", {"user": f"u{n % 5}", "n": n}) for n in range(60)]


def order_is_kept_per_partition_key_across_shards(result: SimulationResult) -> None:
    seen = result.emitted["consumer"]["seen"]
    assert len(seen) == 60
    for user in {e["user"] for _, e in ORDER_EVENTS}:
        numbers = [e["n"] for e in seen if e["user"] == user]
        assert numbers == sorted(numbers)
    # the keys land on their shards alike on both engines (MD5 over equal hash-key ranges)
    assert len({i.event["user"] for i in result.invocations if i.processor == "consumer"}) == 5


def order_is_kept_per_key_while_several_shards_really_interleave(
    result: SimulationResult,
) -> None:
    order_is_kept_per_partition_key_across_shards(result)
    assert [e["n"] for e in result.emitted["consumer"]["seen"]] != list(range(60))


# Its error is longer than a dead letter may be (SQS's 1 MiB), so the record it is in
# fails as a whole and Lambda's own rules (retry, bisect, lanes) decide what follows.
KEY_POISON = """
def handler(event, context):
    if event.get("poison"):
        raise ValueError(f"cannot take {event['user']}{event['n']} " + "!" * 1_100_000)
    context.emit("seen", event)
"""

UNLETTERED_POISON = """
def handler(event, context):
    if event == "poison":
        raise ValueError("cannot take 'poison' " + "!" * 1_100_000)
    context.emit("seen", event)
"""

# Keys A and B: on the one shard, A0 B0 A1 B1 A2 B2 A3 B3, with A1 a poison record.
LANE_EVENTS = [
    ("spout", {"user": user, "n": n, "poison": (user, n) == ("A", 1)})
    for n in range(4)
    for user in ("A", "B")
]


def lanes_topology(factor: int) -> str:
    return f"""
name: lanes
processors: {{spout: p/spout.py, picky: p/picky.py}}
streams:
  - {{from: spout, to: picky, parallelization_factor: {factor}, batch_size: 2, retry_attempts: 2}}
"""


def handled(result: SimulationResult, user: str) -> list[tuple[int, int, bool]]:
    """(invocation number, n, ok) of every call of picky on the records of key ``user``."""
    return [
        (number, i.event["n"], i.ok)
        for number, i in enumerate(result.invocations)
        if i.processor == "picky" and i.event["user"] == user
    ]


def with_parallelization_factor_2_a_poison_record_holds_up_only_its_keys_lane(
    result: SimulationResult,
) -> None:
    assert key_lane("A", 2) != key_lane("B", 2)  # the two keys share the shard, not a lane
    (letter,) = result.dead_letters
    assert letter.event["n"] == 1 and letter.error.startswith("ValueError: cannot take A1")
    # Its record failed as a whole (its letter is too big to keep), in its batch and on
    # Lambda's 2 retries; each time the runtime tried it 3 times in place (retry_attempts 2)
    assert letter.attempts == 9
    a_calls, b_calls = handled(result, "A"), handled(result, "B")
    poison_calls = [number for number, n, _ in a_calls if n == 1]
    # B's lane went on while A's retried: all of B, in order, some of it between A1's tries
    assert [(n, ok) for _, n, ok in b_calls] == [(0, True), (1, True), (2, True), (3, True)]
    assert any(poison_calls[0] < number < poison_calls[-1] for number, _, _ in b_calls)
    # A keeps its order: nothing after A1 was handed to the handler before A1 left
    assert [n for _, n, ok in a_calls if ok] == [0, 2, 3]
    assert min(number for number, n, _ in a_calls if n > 1) > poison_calls[-1]
    # every other record went through, its emits kept
    seen = result.emitted["picky"]["seen"]
    assert sorted((e["user"], e["n"]) for e in seen) == sorted(
        (e["user"], e["n"]) for _, e in LANE_EVENTS if not e["poison"]
    )


def with_parallelization_factor_1_a_poison_record_holds_up_its_whole_shard(
    result: SimulationResult,
) -> None:
    # A1's partial failure splits its batch at A1: Lambda retries A1 with the rest of that
    # batch (B1), and when retries run out both leave for the on-failure destination
    letters = [(d.event["user"], d.event["n"], d.attempts) for d in result.dead_letters]
    assert letters == [("A", 1, 9), ("B", 1, 0)]
    poison_calls = [number for number, n, _ in handled(result, "A") if n == 1]
    b_after = [number for number, n, _ in handled(result, "B") if n > 1]
    assert min(b_after) > poison_calls[-1]  # B2 on waited for A1's retries


# --- input, logs, traces -----------------------------------------------------------------


def ingest_stream_input_is_read_in_batches(result: SimulationResult) -> None:
    assert {i.source for i in result.invocations} == {"input->reader"}
    assert result.emitted["reader"]["out"] == [0, 1, 2]


def batching_window_and_batch_size_shape_the_invocations(result: SimulationResult) -> None:
    assert result.ok
    assert sorted(calls(result, "sink")) == list(range(25))


def handler_prints_are_captured_per_invocation(result: SimulationResult) -> None:
    assert [i.logs for i in result.invocations] == ["got 1\n", "got 2\n"]


def trace_and_parent_link_every_hop(result: SimulationResult) -> None:
    first, second = result.invocations
    assert second.parent == first.id
    assert second.trace == first.trace
    assert (first.sender, second.sender) == (None, "a")


NO_BISECT = """
name: nobisect
processors: {spout: p/pass.py, picky: p/poison.py}
streams: [{from: spout, to: picky, retry_attempts: 1, batch_size: 4, bisect_batch_on_error: false}]
"""

SCENARIOS = [
    Scenario(
        "fan_out_by_topic",
        """
        name: fan-out
        processors: {router: p/router.py, evens: p/sink.py, odds: p/sink.py, all: p/sink.py}
        streams: [[router, evens, even], [router, odds, odd], [router, all]]
        """,
        {"router": ROUTER, "sink": SINK},
        [("router", {"kind": "even" if n % 2 == 0 else "odd", "value": n}) for n in range(6)],
        fan_out_by_topic,
        on_the_wire=fan_out_by_topic_on_the_wire,
    ),
    Scenario(
        "fan_in_collects_from_every_source",
        """
        name: fan-in
        processors: {left: p/pass.py, right: p/pass.py, merge: p/pass.py}
        streams: [[left, merge], [right, merge]]
        """,
        {"pass": PASS_ON},
        [("left", "l1"), ("right", "r1"), ("left", "l2")],
        fan_in_collects_from_every_source,
    ),
    Scenario(
        "emit_on_a_topic_without_stream_is_a_visible_sink",
        "name: s\nprocessors: {only: p/pass.py}\n",
        {"pass": PASS_ON},
        [("only", "x")],
        emit_on_a_topic_without_stream_is_a_visible_sink,
    ),
    Scenario(
        "runaway_loop_stops_at_max_hops_with_a_message",
        "name: loop\nmax_hops: 5\nprocessors: {a: p/pass.py, b: p/pass.py}\nstreams: [[a, b], [b, a]]\n",
        {"pass": PASS_ON},
        [("a", 1)],
        runaway_loop_stops_at_max_hops_with_a_message,
    ),
    Scenario(
        "failing_record_is_retried_then_dead_lettered_with_its_error",
        """
        name: retry
        processors: {spout: p/pass.py, picky: p/poison.py}
        streams: [{from: spout, to: picky, retry_attempts: 2}]
        """,
        {"pass": PASS_ON, "poison": POISON},
        [("spout", "a"), ("spout", "poison"), ("spout", "b")],
        failing_record_is_retried_then_dead_lettered_with_its_error,
        on_the_wire=dead_letter_went_into_sqs,
        needs_sqs=True,
    ),
    Scenario(
        "bisect_isolates_the_poison_record",
        """
        name: bisect
        processors: {spout: p/pass.py, picky: p/poison.py}
        streams: [{from: spout, to: picky, retry_attempts: 0, batch_size: 8}]
        """,
        {"pass": PASS_ON, "poison": POISON},
        [("spout", f"e{n}") for n in range(3)]
        + [("spout", "poison")]
        + [("spout", f"e{n}") for n in range(3, 7)],
        bisect_isolates_the_poison_record,
    ),
    Scenario(
        "a_poison_event_is_dead_lettered_alone_and_its_neighbours_run_once",
        NO_BISECT,
        {"pass": PASS_ON, "poison": POISON},
        [("spout", v) for v in ("a", "poison", "b", "c", "d", "e")],
        a_poison_event_is_dead_lettered_alone_and_its_neighbours_run_once,
    ),
    Scenario(
        "without_bisect_a_record_that_fails_as_a_whole_takes_its_batch_with_it",
        NO_BISECT,
        {"pass": PASS_ON, "poison": UNLETTERED_POISON},
        [("spout", v) for v in ("a", "poison", "b", "c", "d", "e")],
        without_bisect_a_record_that_fails_as_a_whole_takes_its_batch_with_it,
    ),
    Scenario(
        "direct_invocation_is_retried_twice_then_dead_lettered",
        "name: d\nprocessors: {picky: p/poison.py}\n",
        {"poison": POISON},
        [("picky", "ok"), ("picky", "poison"), ("picky", "fine")],
        direct_invocation_is_retried_twice_then_dead_lettered,
    ),
    Scenario(
        "a_flaky_record_succeeds_on_retry_and_is_not_dead_lettered",
        "name: f\nprocessors: {spout: p/pass.py, flaky: p/flaky.py}\nstreams: [[spout, flaky]]\n",
        {"pass": PASS_ON, "flaky": FLAKY},
        [("spout", 1)],
        a_flaky_record_succeeds_on_retry_and_is_not_dead_lettered,
    ),
    Scenario(
        "emit_of_non_json_data_fails_the_record_naming_processor_and_topic",
        "name: j\nprocessors: {bad: p/bad.py}\n",
        {"bad": "def handler(event, context):\n    context.emit('objects', {1, 2})\n"},
        [("bad", 1)],
        emit_of_non_json_data_fails_the_record_naming_processor_and_topic,
    ),
    Scenario(
        "oversized_record_fails_with_the_limit",
        "name: b\nprocessors: {big: p/big.py}\n",
        {"big": "def handler(event, context):\n    context.emit('blob', 'x' * (1024 * 1024))\n"},
        [("big", 1)],
        oversized_record_fails_with_the_limit,
    ),
    Scenario(
        "a_timed_out_record_is_dead_lettered",
        """
        name: timeout
        processors: {spout: p/fan.py, slow: {handler: p/slow.py, timeout: 1}}
        streams: [{from: spout, to: slow, retry_attempts: 0}]
        """,
        {
            # "a" and "slow" fall in distinct key buckets: two Kinesis records.
            "fan": "def handler(event, context):\n    for item in event:\n        context.emit('out', item, key=item)\n",
            "slow": SLOW,
        },
        [("spout", ["a", "slow"])],
        a_timed_out_record_is_dead_lettered,
        on_the_wire=the_batch_then_the_record_alone_failed,
    ),
    Scenario(
        "order_is_kept_per_partition_key_across_shards",
        """
        name: order
        processors: {spout: p/keyed.py, consumer: p/record.py}
        streams: [{from: spout, to: consumer, shards: 4, batch_size: 3}]
        """,
        {"keyed": KEYED, "record": RECORD},
        ORDER_EVENTS,
        order_is_kept_per_key_while_several_shards_really_interleave,
    ),
    Scenario(
        "order_is_kept_per_key_across_shards_from_an_ingest_stream",
        """
        name: order
        processors: {spout: {handler: p/keyed.py, input: stream}, consumer: p/record.py}
        streams: [{from: spout, to: consumer, shards: 4, batch_size: 3}]
        """,
        {"keyed": KEYED, "record": RECORD},
        ORDER_EVENTS,
        order_is_kept_per_partition_key_across_shards,
    ),
    Scenario(
        "with_parallelization_factor_2_a_poison_record_holds_up_only_its_keys_lane",
        lanes_topology(2),
        {"spout": KEYED, "picky": KEY_POISON},
        LANE_EVENTS,
        with_parallelization_factor_2_a_poison_record_holds_up_only_its_keys_lane,
    ),
    Scenario(
        "with_parallelization_factor_1_a_poison_record_holds_up_its_whole_shard",
        lanes_topology(1),
        {"spout": KEYED, "picky": KEY_POISON},
        LANE_EVENTS,
        with_parallelization_factor_1_a_poison_record_holds_up_its_whole_shard,
    ),
    Scenario(
        "ingest_stream_input_is_read_in_batches",
        "name: i\nprocessors: {reader: {handler: p/pass.py, input: stream}}\n",
        {"pass": PASS_ON},
        [("reader", n) for n in range(3)],
        ingest_stream_input_is_read_in_batches,
    ),
    Scenario(
        "batching_window_and_batch_size_shape_the_invocations",
        """
        name: window
        processors: {spout: {handler: p/pass.py, input: stream}, sink: p/sink.py}
        streams: [{from: spout, to: sink, batch_size: 10, max_batching_window: 1}]
        """,
        {"pass": PASS_ON, "sink": SINK},
        [("spout", n) for n in range(25)],
        batching_window_and_batch_size_shape_the_invocations,
    ),
    Scenario(
        "handler_prints_are_captured_per_invocation",
        "name: p\nprocessors: {chatty: p/chatty.py}\n",
        {"chatty": "def handler(event, context):\n    print('got', event)\n"},
        [("chatty", 1), ("chatty", 2)],
        handler_prints_are_captured_per_invocation,
    ),
    Scenario(
        "trace_and_parent_link_every_hop",
        "name: t\nprocessors: {a: p/pass.py, b: p/pass.py}\nstreams: [[a, b]]\n",
        {"pass": PASS_ON},
        [("a", "x")],
        trace_and_parent_link_every_hop,
    ),
    Scenario(
        "a_handler_that_ends_the_process_fails_its_invocation_as_lambda_does",
        """
        name: exits
        processors: {spout: p/pass.py, quits: p/exits.py}
        streams: [{from: spout, to: quits, retry_attempts: 1}]
        """,
        {"pass": PASS_ON, "exits": EXITS},
        [("spout", v) for v in ("a", "exit 3", "b", "os exit", "c", "fatal")],
        a_handler_that_ends_the_process_fails_its_invocation_as_lambda_does,
    ),
    Scenario(
        "a_runaway_recursion_is_an_event_failure_with_its_traceback_folded",
        """
        name: r
        processors: {spout: p/pass.py, worker: p/recurses.py}
        streams: [{from: spout, to: worker, retry_attempts: 0}]
        """,
        {"pass": PASS_ON, "recurses": RECURSES},
        [("spout", "deep"), ("spout", "a")],
        a_runaway_recursion_is_an_event_failure_with_its_traceback_folded,
    ),
    Scenario(
        "an_async_handler_runs_to_its_end",
        "name: a\nprocessors: {spout: p/pass.py, worker: p/async.py}\nstreams: [[spout, worker]]\n",
        {"pass": PASS_ON, "async": ASYNC},
        [("spout", "a"), ("spout", "b")],
        an_async_handler_runs_to_its_end,
    ),
    Scenario(
        "logging_and_import_output_reach_the_invocations_log",
        "name: l\nprocessors: {spout: p/pass.py, worker: p/logs.py}\nstreams: [[spout, worker]]\n",
        {"pass": PASS_ON, "logs": LOGS},
        [("spout", "a"), ("spout", "b")],
        logging_and_import_output_reach_the_invocations_log,
    ),
    Scenario(
        "an_emit_reports_what_was_sent_not_what_the_object_became",
        "name: m\nprocessors: {spout: p/mutates.py, worker: p/record.py}\nstreams: [[spout, worker]]\n",
        {"mutates": MUTATES, "record": RECORD},
        [("spout", None)],
        an_emit_reports_what_was_sent_not_what_the_object_became,
    ),
    Scenario(
        "max_hops_counts_stream_hops_not_emits_to_a_sink",
        "name: h\nmax_hops: 1\nprocessors: {spout: p/pass.py, worker: p/pass.py}\nstreams: [[spout, worker]]\n",
        {"pass": PASS_ON},
        [("spout", "a")],
        max_hops_counts_stream_hops_not_emits_to_a_sink,
    ),
]
