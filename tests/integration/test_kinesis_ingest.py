"""The Kinesis engine reads what real producers write into an ingest stream, as the memory
engine does.

Each case of ``tests/ingest_scenarios.py`` runs on both engines: on this one the raw data
is written as it is with PutRecord into kinesalite and read back as Lambda reads it. The
outcome the table expects is asserted on the Kinesis engine's result, and both results
are compared (a corrupt record's error names each engine's own stream and sequence
number, so those two are left out of the comparison). Then: emits that arrive packed
into one aggregated record each find the handler call that emitted them.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence

import pytest

from attak_cdk.inputs import InputEvent
from attak_cdk.project import load_topology
from attak_cdk.runtime.aggregate import pack
from attak_cdk.runtime.context import Emit
from attak_cdk.runtime.emitter import KinesisEmitter
from attak_cdk.simulate import kinesis, memory
from attak_cdk.simulate.result import SimulationResult, event_document
from tests.conftest import PASS_ON, SINK, WriteProject
from tests.delivery_scenarios import Scenario
from tests.ingest_scenarios import INGEST_SCENARIOS

pytestmark = pytest.mark.integration


def input_events(scenario: Scenario) -> list[InputEvent]:
    return [e if isinstance(e, InputEvent) else InputEvent(*e) for e in scenario.inputs]


def unordered(result: SimulationResult) -> dict[str, dict[str, list[str]]]:
    return {
        processor: {topic: sorted(json.dumps(d) for d in data) for topic, data in topics.items()}
        for processor, topics in result.emitted.items()
    }


def letters(result: SimulationResult) -> list[tuple[str, str, str, str, int]]:
    """Dead letters, their errors without the stream and sequence number they name."""
    return sorted(
        (
            d.processor,
            d.source,
            json.dumps(event_document(d.event)),
            re.sub(r"stream '[^']+', record [^:]+:", "stream S, record N:", d.error),
            d.attempts,
        )
        for d in result.dead_letters
    )


@pytest.mark.parametrize("scenario", INGEST_SCENARIOS, ids=lambda scenario: scenario.name)
def test_ingest_scenario_ends_alike_on_both_engines(
    scenario: Scenario, write_project: WriteProject, kinesalite: str
) -> None:
    root = write_project(scenario.files())
    events = input_events(scenario)
    in_memory = memory.simulate(load_topology(root), events)
    copy = shutil.copytree(root, root.with_name(f"{root.name}-kinesis"))
    over_kinesis = kinesis.simulate(load_topology(copy), events, endpoint_url=kinesalite)

    scenario.expect(over_kinesis)
    assert unordered(over_kinesis) == unordered(in_memory)
    assert letters(over_kinesis) == letters(in_memory)
    assert [i.event for i in over_kinesis.invocations] == [i.event for i in in_memory.invocations]


def test_emits_packed_into_one_aggregated_record_each_find_their_parent(
    write_project: WriteProject, kinesalite: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fan = (
        "def handler(event, context):\n    for item in event:\n        context.emit('out', item)\n"
    )
    root = write_project(
        {
            "p/fan.py": fan,
            "p/pass.py": PASS_ON,
            "p/sink.py": SINK,
            "topology.yml": "name: agg\nprocessors: {fan: p/fan.py, mid: p/pass.py, sink: p/sink.py}\n"
            "streams: [[fan, mid], [mid, sink]]\n",
        }
    )

    def put_aggregated(self: KinesisEmitter, stream: str, emits: Sequence[Emit]) -> None:
        # a producer that packs every flush into one KPL aggregate
        entries = [(e.key or "k", e.payload.encode()) for e in emits]
        self.client.put_record(StreamName=stream, Data=pack(entries), PartitionKey="k")
        self.calls += 1

    monkeypatch.setattr(KinesisEmitter, "put", put_aggregated)
    result = kinesis.simulate(
        load_topology(root), [InputEvent("fan", ["a", "b", "c"])], endpoint_url=kinesalite
    )

    assert result.ok
    assert result.engine is not None and result.engine["records_read"] == 2  # one per flush
    by_id = {i.id: i for i in result.invocations}
    [fan_call] = [i for i in result.invocations if i.processor == "fan"]
    mids = [i for i in result.invocations if i.processor == "mid"]
    sinks = [i for i in result.invocations if i.processor == "sink"]
    assert [i.event for i in mids] == ["a", "b", "c"]
    assert all(i.parent == fan_call.id for i in mids)
    # each sink call links to the mid call that emitted its event, though they came packed
    assert [(by_id[i.parent].event, i.event) for i in sinks if i.parent is not None] == [
        ("a", "a"),
        ("b", "b"),
        ("c", "c"),
    ]
    assert all(i.trace == fan_call.trace for i in mids + sinks)
