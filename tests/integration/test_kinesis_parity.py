"""The Kinesis engine ends a run as the memory engine does: same emits, same dead letters.

Each case of the delivery semantics (the table in ``tests/delivery_scenarios.py``) runs
on both engines; the Kinesis one goes through a real Kinesis API (kinesalite, and moto
server where SQS matters). The outcome the table expects is asserted on the Kinesis
engine's result, and the two results are compared: lists without their order where
several shards interleave.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from attak_cdk.inputs import InputEvent
from attak_cdk.model import Topology
from attak_cdk.project import load_topology
from attak_cdk.simulate import kinesis, memory, timeouts
from attak_cdk.simulate.result import SimulationResult, document
from tests.conftest import PASS_ON, POISON, WriteProject
from tests.delivery_scenarios import SCENARIOS, UNLETTERED_POISON, Scenario

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def short_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A processor's timeout second lasts a quarter of a real one (its messages say 1 s)."""
    monkeypatch.setattr(timeouts, "TIME_SCALE", 0.25)


def run_both(
    endpoint: str, root: Path, inputs: Iterable[tuple[str, Any]], **options: Any
) -> tuple[SimulationResult, SimulationResult]:
    topology = load_topology(root)
    events = [InputEvent(name, data) for name, data in inputs]
    in_memory = memory.simulate(topology, events, **options)
    # A copy of the project: handlers imported afresh, so one that keeps state between
    # calls (a flaky one) starts the Kinesis run as it started the memory one.
    copy = shutil.copytree(root, root.with_name(f"{root.name}-kinesis"))
    over_kinesis = kinesis.simulate(load_topology(copy), events, endpoint_url=endpoint, **options)
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
    assert over_kinesis.stopped == in_memory.stopped
    # the same events written to every stream, packed alike by the runtime's records.py
    # (how batches form on a real stream, and so what each flush packs, can differ a little)
    assert over_kinesis.transport.keys() == in_memory.transport.keys()
    for stream, written in in_memory.transport.items():
        wire = over_kinesis.transport[stream]
        assert wire["events"] == written["events"], stream
        assert abs(wire["bytes"] - written["bytes"]) <= 0.05 * written["bytes"], stream
    # the same document, with the wire's own figures added
    memory_keys = set(document(in_memory))
    assert set(document(over_kinesis)) == memory_keys | {"engine"}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.name)
def test_delivery_scenario_ends_alike_on_both_engines(
    scenario: Scenario, write_project: WriteProject, request: pytest.FixtureRequest
) -> None:
    endpoint = request.getfixturevalue("moto" if scenario.needs_sqs else "kinesalite")
    root = write_project(scenario.files())
    in_memory, over_kinesis = run_both(endpoint, root, scenario.inputs, **scenario.options)
    scenario.expect(over_kinesis)
    if scenario.on_the_wire is not None:
        scenario.on_the_wire(over_kinesis)
    assert_same(in_memory, over_kinesis)


def queue_project(write_project: WriteProject, poison: str) -> Topology:
    return load_topology(
        write_project(
            {
                "p/pass.py": PASS_ON,
                "p/poison.py": poison,
                "topology.yml": """
                name: queue
                processors: {spout: p/pass.py, picky: p/poison.py}
                streams: [{from: spout, to: picky, retry_attempts: 0}]
                """,
            }
        )
    )


def test_queue_holds_the_runtimes_letter_with_the_events_data_and_error(
    moto: str, write_project: WriteProject
) -> None:
    topology = queue_project(write_project, POISON)
    with kinesis.KinesisEngine(topology, endpoint_url=moto) as engine:
        result = engine.run([InputEvent("spout", "poison")])
        (message,) = engine.queue_messages("picky")
    assert (message["attak"], message["processor"]) == ("dead-letter", "picky")
    assert (message["data"], message["attempts"]) == ("poison", 1)
    assert message["error"] == "ValueError: cannot take 'poison'"
    assert "poison.py" in message["traceback"] and "raise ValueError" in message["traceback"]
    (letter,) = result.dead_letters
    assert message["trace"] == letter.trace and message["stream"].endswith("SpoutToPickyStream")


def test_queue_holds_lambdas_on_failure_record_for_a_record_failing_whole(
    moto: str, write_project: WriteProject
) -> None:
    # A letter over SQS's limit cannot be kept: the record fails, Lambda's net catches it.
    topology = queue_project(write_project, UNLETTERED_POISON)
    with kinesis.KinesisEngine(topology, endpoint_url=moto) as engine:
        engine.run([InputEvent("spout", "poison")])
        (message,) = engine.queue_messages("picky")
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    info = message["KinesisBatchInfo"]
    assert info["batchSize"] == 1
    assert info["streamArn"].endswith("SpoutToPickyStream")


def test_a_record_past_max_record_age_is_a_dead_letter_with_its_attempts_and_last_error(
    kinesalite: str, write_project: WriteProject
) -> None:
    shift = [0.0]

    def picky(event: Any, context: Any) -> None:
        if event == "old":
            shift[0] += 61  # each attempt ages the record by a minute
            sys.exit(1)  # its invocation fails as a whole: Lambda retries the record
        context.emit("seen", event)

    root = write_project(
        {
            "p/pass.py": PASS_ON,
            "p/picky.py": "def handler(event, context):\n    pass\n",
            "topology.yml": """
            name: aging
            processors: {spout: p/pass.py, picky: p/picky.py}
            streams: [{from: spout, to: picky, retry_attempts: 100, max_record_age: 60}]
            """,
        }
    )
    engine = kinesis.KinesisEngine(
        load_topology(root),
        endpoint_url=kinesalite,
        handlers={"picky": picky},
        clock=lambda: time.time() + shift[0],
    )
    with engine:
        result = engine.run([InputEvent("spout", "old")])
    (letter,) = result.dead_letters
    assert letter.event == "old" and letter.attempts >= 1 and letter.invocation is not None
    assert letter.error == (
        "TimeoutError: record older than max_record_age 60 s; its last attempt failed with "
        "Runtime.ExitError: Runtime exited with error: exit status 1"
    )
