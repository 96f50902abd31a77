"""Plans computed by hand, asserted to the cent with the shipped us-east-1 prices.

us-east-1: shard-hour $0.015, PUT payload units $0.014 per million, on-demand $0.04 per
stream-hour, $0.08 per GB in and $0.04 per GB out, Lambda arm64 $0.0000133334 per GB-s,
requests $0.20 per million; a month is 730 hours (2,628,000 s), a GB 2^30 bytes.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from attak_cdk.errors import TopologyError
from attak_cdk.loader import read_topology
from attak_cdk.model import PlanValue
from attak_cdk.plan.assumptions import Assumptions, plan_assumptions, with_command_line
from attak_cdk.plan.cost import plan_topology
from attak_cdk.plan.load import propagate
from attak_cdk.plan.prices import default_table_file, read_prices
from attak_cdk.plan.quantities import PlanError
from attak_cdk.plan.result import Plan
from attak_cdk.plan.shards import auto_needs_plan, auto_stream_names, resolve_auto_shards
from attak_cdk.plan.wire import runtime_seconds
from attak_cdk.project import check_topology_plan, inspect_topology, load_topology
from tests.conftest import PASS_ON, SINK, WriteProject

PRICES = read_prices()


def plan(
    root: Path, *options: tuple[str, list[str] | str], prices_file: Path | None = None
) -> Plan:
    planned = check_topology_plan(root)
    assumptions = with_command_line(
        planned.assumptions, planned.topology.processors, **dict(options)
    )
    prices = read_prices(prices_file) if prices_file else PRICES
    return plan_topology(planned.topology, assumptions, prices, auto_streams=planned.auto_streams)


def ingest_project(write_project: WriteProject, extra: str = "") -> Path:
    """One processor reading an ingest stream, which producers write 500 events a call."""
    return write_project(
        {
            "sink.py": SINK,
            "topology.yml": f"""
                name: edge
                processors: {{sink: {{handler: sink.py, input: stream}}}}
                {extra}
            """,
        }
    )


def test_an_ingest_stream_carries_its_events_aggregated_500_to_a_call(
    write_project: WriteProject,
) -> None:
    root = ingest_project(write_project)
    options = (("rates", ["1000/s"]), ("sizes", ["1008 B"]), ("durations", ["0.5 ms"]))
    result = plan(root, *options, ("compression", "1x"))
    (stream,) = result.streams
    assert (stream.name, stream.events_per_second, stream.flush) == ("input->sink", 1000, 500)
    # A call of 500 events of ~1,050 B (event, input envelope, KPL entry) fills 8 records
    # of 64 KiB and a ninth: 9 records per 500 events.
    assert stream.records_per_second == 18
    assert stream.events_per_record == pytest.approx(Decimal(500) / 9, rel=Decimal("1e-6"))
    # Each full record is 3 PUT payload units (64 KiB is past 50 KB): 25 units per 500.
    assert stream.put_payload_units_per_second == 50
    # Bytes are the events', with about 60 B of envelope, KPL entry and key each.
    assert 1008 + 40 < stream.bytes_per_second / 1000 < 1008 + 80
    assert (stream.shards_needed, stream.limit) == (2, "write MB/s")
    # 2 shards x 730 h x $0.015 = 21.90; 50 units/s x 2,628,000 s x $0.014/M = 1.8396
    assert stream.provisioned == Decimal("23.74")
    compressed = plan(root, *options).streams[0]  # the assumed 4x
    assert compressed.bytes_per_second == pytest.approx(
        stream.bytes_per_second / 4, rel=Decimal("0.01")
    )
    assert (compressed.shards_needed, compressed.records_per_second) == (1, 18)


def test_a_direct_entry_writes_each_events_emits_as_one_record(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {
            "a.py": PASS_ON,
            "b.py": SINK,
            "topology.yml": "name: env\nprocessors: {a: a.py, b: b.py}\nstreams: [[a, b]]\n",
        }
    )
    options = (("rates", ["1000/s"]), ("sizes", ["1 KB"]), ("durations", ["0.1 ms"]))
    result = plan(root, *options, ("compression", "1x"))
    (stream,) = result.streams
    # Invoked once per event, a flushes each emit as a lone record: the envelope (from,
    # trace, hops, topic) and a 16-character partition key push it past 1 MB/s.
    assert (stream.records_per_second, stream.flush) == (1000, 1)
    assert 1024 + 60 < stream.record_bytes < 1024 + 130
    assert (stream.shards_needed, stream.limit) == (2, "write MB/s")


def test_fan_out_multiplies_by_each_topics_emits(write_project: WriteProject) -> None:
    root = write_project(
        {
            "a.py": PASS_ON,
            "b.py": SINK,
            "c.py": SINK,
            "topology.yml": """
                name: fan-out
                processors: {a: a.py, b: b.py, c: c.py}
                streams: [[a, b, x], [a, c, y]]
                plan:
                  rate: 100/s
                  size: 200 B
                  processors: {a: {emits: {x: 2, y: 0.5}}}
            """,
        }
    )
    result = plan(root)
    by_name = {s.name: s for s in result.streams}
    assert by_name["a->b[x]"].events_per_second == 200
    assert by_name["a->c[y]"].events_per_second == 50
    # An invocation's two emits on x are flushed together: one record.
    assert by_name["a->b[x]"].records_per_second == 100
    events = {p.name: p.events_per_second for p in result.processors}
    assert events == {"a": 100, "b": 200, "c": 50}
    # a is invoked once per event: 100/s x 2,628,000 s x $0.20/M = 52.56
    assert result.processors[0].requests == Decimal("52.56")


def test_fan_in_adds_up_its_inputs(write_project: WriteProject) -> None:
    root = write_project(
        {
            "a.py": PASS_ON,
            "b.py": PASS_ON,
            "c.py": SINK,
            "topology.yml": """
                name: fan-in
                processors: {a: a.py, b: b.py, c: c.py}
                streams: [[a, c], [b, c]]
                plan: {rate: {a: 100/s, b: 50/s}, size: 1 KB, duration: 10 ms}
            """,
        }
    )
    result = plan(root)
    c = next(p for p in result.processors if p.name == "c")
    assert c.events_per_second == 150
    # Lambda bills the handler's 10 ms and the runtime's work on each 1 KB event: 6 µs +
    # 14 µs per KB of a full core, 1,769 / 256 times longer on a 256 MB function.
    runtime = c.duration - Decimal("0.010")
    assert runtime == pytest.approx(runtime_seconds(Decimal(1024)) * Decimal(1769) / 256)
    # 150 events/s x 0.0101382 s x 0.25 GB x 2,628,000 s = 999,120 GB-s x $0.0000133334
    assert c.gb_seconds_per_month == 150 * c.duration * Decimal("0.25") * 2_628_000
    assert c.compute == Decimal("13.32")
    assert c.compute_other_architecture == Decimal("16.65")  # x86_64: $0.0000166667
    # Each on-demand stream gives about 4 shards: c may run 8 batches at once.
    assert c.concurrency == 8
    # Light streams: one batch per shard per second polls, 4 + 4 invocations/s.
    assert c.invocations_per_second == 8


def test_on_demand_and_provisioned_cross_over(write_project: WriteProject, tmp_path: Path) -> None:
    table = json.loads(default_table_file().read_text())
    table["regions"]["us-east-1"]["kinesis"]["on_demand_stream_hour"] = "0.001"
    cheap_hours = tmp_path / "prices.json"
    cheap_hours.write_text(json.dumps(table))
    root = write_project(
        {
            "a.py": PASS_ON,
            "b.py": SINK,
            "topology.yml": "name: x\nprocessors: {a: a.py, b: b.py}\nstreams: [[a, b]]\n",
        }
    )

    def stream_at(rate: str):  # type: ignore[no-untyped-def]
        options = (("rates", [rate]), ("sizes", ["900 B"]), ("durations", ["1 ms"]))
        return plan(root, *options, ("compression", "1x"), prices_file=cheap_hours).streams[0]

    # Lone records of about 1 KB: on-demand bills 1 KB each, in and out.
    # on-demand: 0.73 + r x 0.3007507 ; provisioned: 10.95 + r x 0.036792 ; equal at r = 38.7
    below, above = stream_at("38/s"), stream_at("39/s")
    assert (below.on_demand, below.provisioned, below.cheaper) == (
        Decimal("12.16"),
        Decimal("12.35"),
        "on-demand",
    )
    assert (above.on_demand, above.provisioned, above.cheaper) == (
        Decimal("12.46"),
        Decimal("12.38"),
        "provisioned",
    )


def test_idle_sample_topology_costs_its_stream_hours_alarms_and_dashboard() -> None:
    result = plan_topology(load_topology("sample_topology"), Assumptions(), PRICES)
    # 10.95 (one provisioned shard) + 10 alarms x 0.10 + 3.00 dashboard: at most $15
    assert (result.idle, result.at_load) == (Decimal("14.95"), Decimal("14.95"))
    assert result.seed.at_load == Decimal("511.00")  # 4 x $0.175 x 730 h
    assert "hello_world_spout: no input rate given: planned as idle" in result.assumptions
    assert all(line.at_load == line.at_load.quantize(Decimal("0.01")) for line in result.lines)


def test_a_loop_settles_when_each_pass_emits_less(write_project: WriteProject) -> None:
    root = write_project(
        {
            "a.py": PASS_ON,
            "b.py": PASS_ON,
            "topology.yml": """
                name: loop
                processors: {a: {handler: a.py, input: stream}, b: b.py}
                streams: [[a, b], [b, a]]
                plan: {rate: 90/s, processors: {b: {emits: 0.5}}}
            """,
        }
    )
    load = propagate(check_topology_plan(root).topology, check_topology_plan(root).assumptions)
    # a sees 90 + 45 + 22.5 + ... at hops 0, 2, ..., 16 (max_hops): 9 terms of the series to 180
    assert load.processors["a"].events_per_second == 90 * (1 - Decimal("0.5") ** 9) / Decimal("0.5")
    assert load.processors["a"].events_per_second == Decimal("179.6484375")


def test_a_loop_that_never_settles_is_reported(write_project: WriteProject) -> None:
    root = write_project(
        {
            "a.py": PASS_ON,
            "b.py": PASS_ON,
            "topology.yml": "name: runaway\nprocessors: {a: {handler: a.py, input: stream}, b: b.py}\nstreams: [[a, b], [b, a]]\nplan: {rate: 1/s}\n",
        }
    )
    result = plan(root)
    assert any("reach max_hops (16) and fail" in w for w in result.warnings)


def test_declared_shards_below_the_plan_are_warned_about(write_project: WriteProject) -> None:
    root = write_project(
        {
            "a.py": PASS_ON,
            "b.py": SINK,
            "topology.yml": "name: short\nprocessors: {a: a.py, b: b.py}\nstreams: [{from: a, to: b, shards: 1}]\nplan: {rate: 5000/s, size: 100 B, duration: 0.1 ms}\n",
        }
    )
    planned = check_topology_plan(root)
    (warning,) = [w for w in planned.warnings if w.code == "shards-below-plan"]
    assert warning.path == "streams[0].shards"
    assert "declares 1 shard(s) but the planned load needs 5 (write records/s)" in warning.message
    result = plan(root)
    assert result.streams[0].at_load < result.streams[0].provisioned  # priced as declared
    assert any("declares 1 shard(s); the load needs 5" in w for w in result.warnings)


def test_shards_auto_takes_the_planned_count(write_project: WriteProject) -> None:
    root = write_project(
        {
            "a.py": PASS_ON,
            "b.py": SINK,
            "topology.yml": "name: auto\nprocessors: {a: a.py, b: b.py}\nstreams: [{from: a, to: b, shards: auto}]\nplan: {rate: 2500/s, size: 100 B, duration: 0.1 ms}\n",
        }
    )
    topology = load_topology(root)
    assert topology.streams[0].settings.shards == 3
    result = plan(root)
    assert (result.streams[0].auto, result.streams[0].shards, result.streams[0].mode) == (
        True,
        3,
        "provisioned",
    )


def test_the_loader_records_shards_auto_and_the_plan_as_written_for_plan_to_size(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {
            "a.py": PASS_ON,
            "b.py": SINK,
            "topology.yml": "name: auto\nprocessors: {a: a.py, b: b.py}\nstreams: [{from: a, to: b, shards: auto}]\nplan: {rate: 2500/s, size: 100 B, duration: 0.1 ms}\n",
        }
    )
    written = read_topology(root)
    settings = written.streams[0].settings
    assert (settings.shards, settings.auto_shards) == (None, "streams[0].shards")
    assert written.plan.rate == PlanValue("2500/s", "plan.rate")
    assumptions, issues = plan_assumptions(written)
    assert issues == [] and assumptions.duration == Decimal("0.0001")
    assert auto_needs_plan(written, assumptions) == []
    sized = resolve_auto_shards(written, assumptions)
    assert sized.streams[0].settings.shards == 3
    assert auto_stream_names(sized) == {"a->b"}


def test_shards_auto_on_a_stream_to_an_unknown_processor_reports_it_instead_of_sizing(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {
            "a.py": PASS_ON,
            "topology.yml": "name: auto\nprocessors: {a: a.py}\nstreams: [{from: a, to: c, shards: auto}]\nplan: {rate: 10/s}\n",
        }
    )
    topology, issues = inspect_topology(root)
    assert [(i.code, i.path) for i in issues] == [("unknown-processor", "streams[0].to")]
    assert topology is not None and topology.streams[0].settings.shards is None  # not sized


def test_shards_auto_without_a_rate_is_an_error(write_project: WriteProject) -> None:
    root = write_project(
        {
            "a.py": PASS_ON,
            "b.py": SINK,
            "topology.yml": "name: auto\nprocessors: {a: a.py, b: b.py}\nstreams: [{from: a, to: b, shards: auto}]\n",
        }
    )
    with pytest.raises(TopologyError) as caught:
        load_topology(root)
    (issue,) = caught.value.issues
    assert (issue.code, issue.path) == ("auto-needs-plan", "streams[0].shards")
    assert "plan: {rate: 1000/s, size: 1 KB}" in issue.message


def test_a_bad_plan_section_reports_every_problem_with_its_path(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {
            "a.py": PASS_ON,
            "topology.yml": """
                name: bad-plan
                processors: {a: a.py}
                plan:
                  rate: fast
                  size: -1
                  speed: 3
                  processors: {b: {emits: 1}, a: {emits: lots, duration: 10 GB}}
            """,
        }
    )
    with pytest.raises(TopologyError) as caught:
        load_topology(root)
    found = {i.path: i.message for i in caught.value.issues}
    assert set(found) == {
        "plan.rate",
        "plan.size",
        "plan.speed",
        "plan.processors.b",
        "plan.processors.a.emits",
        "plan.processors.a.duration",
    }
    assert "(given 'fast')" in found["plan.rate"]
    assert "unknown processor 'b'" in found["plan.processors.b"]


def test_command_line_options_name_known_processors() -> None:
    topology = load_topology("sample_topology")
    with pytest.raises(PlanError, match=r"unknown processor 'revers' \(did you mean 'reverse'\?\)"):
        with_command_line(Assumptions(), topology.processors, emits=["revers=2"])
    with pytest.raises(PlanError, match="--emits needs PROCESSOR=NUMBER"):
        with_command_line(Assumptions(), topology.processors, emits=["2"])


def test_an_unknown_region_or_a_broken_table_is_explained(tmp_path: Path) -> None:
    topology = load_topology("sample_topology")
    with pytest.raises(
        PlanError, match=r"no prices for region 'mars-1' \(known: eu-west-1, us-east-1\)"
    ):
        plan_topology(topology, Assumptions(), PRICES, region="mars-1")
    broken = tmp_path / "prices.json"
    table = json.loads(default_table_file().read_text())
    table["regions"]["us-east-1"]["kinesis"]["shard_hour"] = "cheap"
    broken.write_text(json.dumps(table))
    with pytest.raises(PlanError, match=r"regions.us-east-1.kinesis.shard_hour: a price must be"):
        read_prices(broken)
    with pytest.raises(PlanError, match="cannot read the price table"):
        read_prices(tmp_path / "missing.json")


def test_eu_west_1_is_priced_and_says_what_is_unconfirmed() -> None:
    result = plan_topology(
        load_topology("sample_topology"), Assumptions(), PRICES, region="eu-west-1"
    )
    assert result.region == "eu-west-1"
    assert result.prices["unconfirmed"]
    assert result.prices["checked"] == PRICES.checked
