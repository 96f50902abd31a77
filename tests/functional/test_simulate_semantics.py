"""The in-memory engine keeps Lambda + Kinesis delivery semantics (DESIGN.md).

Every case of ``tests/delivery_scenarios.py`` runs here on the memory engine (the same
table runs on the Kinesis engine in ``tests/integration/test_kinesis_parity.py``); the
tests after it are of what only the memory engine offers (seeds, counted request ids) or
would take the Kinesis engine long to run (deep loops).
"""

from __future__ import annotations

import json

import pytest

from attak_cdk.simulate import timeouts
from attak_cdk.simulate.result import document
from attak_cdk.testing import run_topology
from tests.conftest import PASS_ON, SINK, WriteProject
from tests.delivery_scenarios import SCENARIOS, Scenario


@pytest.fixture(autouse=True)
def short_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A processor's timeout second lasts a quarter of a real one (its messages say 1 s)."""
    monkeypatch.setattr(timeouts, "TIME_SCALE", 0.25)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
def test_delivery_scenario(scenario: Scenario, write_project: WriteProject) -> None:
    root = write_project(scenario.files())
    scenario.expect(run_topology(root, scenario.inputs, **scenario.options))


def project(write_project: WriteProject, topology: str, **handlers: str):  # type: ignore[no-untyped-def]
    files = {f"p/{name}.py": source for name, source in handlers.items()}
    return write_project({**files, "topology.yml": topology})


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


# Keys A and B: on the one shard, A0 B0 A1 B1 A2 B2 A3 B3, with A1 a poison record.


FAILS_ON_BAD = """
def handler(event, context):
    if event == "bad":
        raise ValueError("bad event")
    context.emit("out", event)
"""


def test_summary_counts_failed_events_retries_and_dead_letters_as_the_metrics_do(
    write_project: WriteProject,
) -> None:
    root = project(
        write_project,
        "name: counts\nprocessors: {spout: p/spout.py, picky: p/picky.py}\n"
        "streams: [{from: spout, to: picky, retry_attempts: 2}]\n",
        spout=PASS_ON,
        picky=FAILS_ON_BAD,
    )
    result = run_topology(root, [("spout", "a"), ("spout", "bad"), ("spout", "b")])

    picky = result.summary["picky"]
    # "bad": its call and two retries in place, then the runtime dead-letters it: one
    # event given up on, as the deployed processor's summary line counts it.
    assert (picky["errors"], picky["retries"], picky["failed"]) == (3, 2, 1)
    assert picky["dead_letters"] == 1
    assert document(result)["summary"]["picky"]["failed"] == 1


def test_a_failed_direct_invocation_is_a_failed_event_each_time_lambda_retries_it(
    write_project: WriteProject,
) -> None:
    root = project(
        write_project, "name: direct\nprocessors: {picky: p/picky.py}\n", picky=FAILS_ON_BAD
    )
    result = run_topology(root, {"picky": "bad"})

    picky = result.summary["picky"]
    # Lambda's two retries of an asynchronous invoke: each invocation gives the event up.
    assert (picky["errors"], picky["retries"], picky["failed"], picky["dead_letters"]) == (
        3,
        2,
        3,
        1,
    )


def test_one_emit_fanned_out_to_two_streams_is_a_first_attempt_in_each(
    write_project: WriteProject,
) -> None:
    # The memory engine queues one emit object into both streams: each consumer's call is
    # that stream's first attempt, not a retry of the other's.
    root = project(
        write_project,
        "name: fan\nprocessors: {spout: p/spout.py, left: p/sink.py, right: p/sink.py}\n"
        "streams: [[spout, left], [spout, right]]\n",
        spout=PASS_ON,
        sink=SINK,
    )
    result = run_topology(root, [("spout", "a"), ("spout", "b")])

    result.assert_ok()
    consumers = [i for i in result.invocations if i.processor in ("left", "right")]
    assert len(consumers) == 4
    assert [(i.attempt, i.previous) for i in consumers] == [(1, None)] * 4
    assert result.summary["left"]["retries"] == result.summary["right"]["retries"] == 0
