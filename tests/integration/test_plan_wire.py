"""The plan's wire figures are the Kinesis engine's: records, bytes and payload units per
event, within 5%, for real ~1 KB JSON events through two stages.

The topology's ingest stream and its one stream are read from one shard each, so the
engine's first stage handles the whole input in one batch and flushes it 500 emits at a
time, as the plan expects of a loaded stage (batches of 100 records of ~55 events).
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest

from attak_cdk.inputs import InputEvent
from attak_cdk.plan.cost import plan_topology
from attak_cdk.plan.load import propagate
from attak_cdk.plan.measure import beneath, measured
from attak_cdk.plan.prices import read_prices
from attak_cdk.project import check_topology_plan
from attak_cdk.simulate import kinesis, memory
from tests.conftest import PASS_ON, SINK, WriteProject

pytestmark = pytest.mark.integration

EVENTS = 3000
PAGES = [f"/products/{i}" for i in range(200)]


def clicks(count: int) -> list[dict[str, object]]:
    """~1 KB clickstream events, seeded: users, pages, referrers, a user agent, numbers."""
    rng = random.Random(7)
    return [
        {
            "user": f"user-{rng.randrange(5000):05d}",
            "session": f"{rng.getrandbits(64):016x}",
            "page": rng.choice(PAGES),
            "referrer": rng.choice(["https://www.google.com/", "https://news.example/", ""]),
            "agent": "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
            "time": 1_760_000_000_000 + i * 37,
            "scroll": rng.random(),
            "items": [rng.randrange(10**6) for _ in range(rng.randrange(40, 60))],
        }
        for i in range(count)
    ]


def project(write_project: WriteProject) -> Path:
    return write_project(
        {
            "parse.py": PASS_ON,
            "store.py": SINK,
            "topology.yml": """
                name: wire
                defaults: {shards: 1}
                processors:
                  parse: {handler: parse.py, input: stream}
                  store: store.py
                streams: [[parse, store]]
                plan: {rate: 50 MB/s, duration: 1 ms}
            """,
        }
    )


def test_the_plans_records_bytes_and_units_per_event_are_the_engines(
    kinesalite: str, write_project: WriteProject
) -> None:
    root = project(write_project)
    planned = check_topology_plan(root)
    events = [InputEvent("parse", data) for data in clicks(EVENTS)]
    run = memory.simulate(planned.topology, events)
    found = measured(planned.topology, run)
    # The written rate and duration over the measured sizes, emits and samples, as
    # `attak plan --measure` lays them.
    assumptions = beneath(found, planned.assumptions, dead_letters_given=False)
    load = propagate(planned.topology, assumptions)
    engine = kinesis.simulate(planned.topology, events, endpoint_url=kinesalite)
    assert engine.ok
    for stream in load.streams:
        seen = engine.transport[stream.name]
        assert seen["events"] == EVENTS
        per_event = {
            "records": stream.wire.records,
            "bytes": stream.wire.bytes,
            "payload_units": stream.wire.payload_units,
            "billed_kb": stream.wire.billed_bytes / 1024,
        }
        if stream.source is None:
            # How many events an outside producer writes per call is the plan's assumption
            # (500); the engine writes the whole input at once: not compared.
            continue
        for figure, planned_value in per_event.items():
            measured_value = Decimal(seen[figure]) / EVENTS
            assert planned_value == pytest.approx(measured_value, rel=Decimal("0.05")), (
                stream.name,
                figure,
            )
    # The plan prices those figures: its cost lines rest on the same records.
    plan = plan_topology(planned.topology, assumptions, read_prices())
    assert all(s.records_per_second > 0 for s in plan.streams)
