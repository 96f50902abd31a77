"""What attak costs a month at 1 GB to 10 TB a day, against a Storm cluster and Managed
Flink sized for the same work, with the per-event figures it rests on.

Two topologies, each fed ~1 KB JSON clickstream events through an ingest stream (what
attak's producer writes) with ``shards: auto``:

- ``sample``: the sample topology (spout -> reverse), its spout reading an ingest stream,
  fed the same events as JSON text (its ``reverse`` reverses strings); its spout prints
  every event, as the seed's does; ``sample, quiet`` is the same
  without that print (the spout's handler replaced by one that only emits).
- ``clickstream``: ``bench/clickstream/`` (parse, filter bots, sessionize by user,
  aggregate per page category and minute, alert); and the same logging one trace in a
  thousand record by record instead of one in a hundred (``trace_sampling: 0.001``).

Each is run once locally (the memory engine, on ``--events`` events) and planned at each
rate with what the run measured (``attak plan --measure``): emits per event, sizes on the
wire, handler time scaled to a 256 MB function's share of a vCPU, what the handlers print.

    python bench/cost_at_scale.py [--events 3000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from wire_efficiency import clickstream

from attak_cdk.inputs import InputEvent
from attak_cdk.plan.assumptions import Assumptions
from attak_cdk.plan.cost import plan_topology
from attak_cdk.plan.measure import beneath, measured
from attak_cdk.plan.prices import read_prices
from attak_cdk.plan.quantities import parse_rate
from attak_cdk.plan.result import Plan
from attak_cdk.plan.shards import resolve_auto_shards
from attak_cdk.project import check_topology_plan
from attak_cdk.simulate import memory

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RATES = ("1 GB/day", "100 GB/day", "1 TB/day", "10 TB/day")
QUIET_SPOUT = "def handler(event, context):\n    context.emit('greetings', event)\n"


def sample_project(root: Path, *, quiet: bool) -> Path:
    """The sample topology, its spout reading an ingest stream, every stream auto-sized."""
    target = root / ("sample-quiet" if quiet else "sample")
    shutil.copytree(REPO / "sample_topology", target)
    text = (target / "topology.yml").read_text()
    text = text.replace(
        "hello_world_spout: ./processors/hello_world",
        "hello_world_spout: {handler: ./processors/hello_world, input: stream}",
    )
    text = text.replace("defaults: {shards: 1}", "defaults: {shards: auto}")
    (target / "topology.yml").write_text(f"{text}plan: {{rate: 1/s}}\n")
    if quiet:
        (target / "processors" / "hello_world.py").write_text(QUIET_SPOUT)
    return target


def plan_at(root: Path, entry: str, events: list[object]) -> dict[str, Plan]:
    planned = check_topology_plan(root)
    run = memory.simulate(planned.topology, [InputEvent(entry, data) for data in events])
    if not run.ok:
        raise SystemExit(f"{root.name}: the local run failed: {run!r}")
    found = measured(planned.topology, run)
    plans = {}
    for rate in RATES:
        given = Assumptions(rate=parse_rate(rate, "rate"))
        assumptions = beneath(found, given, dead_letters_given=False)
        topology = resolve_auto_shards(planned.topology, assumptions)
        plans[rate] = plan_topology(topology, assumptions, read_prices())
    return plans


def money(value: Decimal) -> str:
    return f"${value:,.0f}" if value >= 100 else f"${value:,.2f}"


def ratio(ours: Decimal, theirs: Decimal) -> str:
    return f"{ours / theirs:.2f}" if theirs else "-"


def report(name: str, plans: dict[str, Plan]) -> None:
    print(f"\n## {name}\n")
    columns = ("per day", "attak", "Storm, sized", "attak / Storm", "Flink", "attak / Flink")
    print(f"| {' | '.join(columns)} | seed's 4 x m1.large |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    idle = next(iter(plans.values()))
    storm, flink, seed = idle.alternatives
    print(
        f"| idle | {money(idle.idle)} | {money(storm.idle)} | {ratio(idle.idle, storm.idle)} | "
        f"{money(flink.idle)} | {ratio(idle.idle, flink.idle)} | {money(seed.idle)} |"
    )
    for rate, plan in plans.items():
        storm, flink, seed = plan.alternatives
        print(
            f"| {rate.removesuffix('/day')} | {money(plan.at_load)} | {money(storm.at_load)} | "
            f"{ratio(plan.at_load, storm.at_load)} | {money(flink.at_load)} | "
            f"{ratio(plan.at_load, flink.at_load)} | {money(seed.at_load)} |"
        )
    headline = plans["1 TB/day"]
    print("\nAt 1 TB/day:")
    for line in headline.lines:
        print(f"- {line.item}: {money(line.at_load)}")
    print(f"- dominant: {headline.dominant}")
    print(f"- Storm, sized: {headline.alternatives[0].detail}")
    print(f"- Flink: {headline.alternatives[1].detail}")
    print("Per-event figures the plans used (measured by the local run):")
    for stream in headline.streams:
        print(
            f"- stream {stream.name}: {stream.events_per_record:,.1f} events a record, "
            f"{stream.bytes_per_second / stream.events_per_second:,.0f} B an event on the wire "
            f"({stream.compression:,.1f}x compression), {stream.shards} shards"
            if stream.events_per_second
            else f"- stream {stream.name}: no events"
        )
    for processor in headline.processors:
        print(
            f"- {processor.name}: {processor.duration * 1000:,.3f} ms an event on Lambda, "
            f"{processor.events_per_second / processor.invocations_per_second:,.0f} events an "
            f"invocation, {processor.log_bytes_per_event:,.1f} B of log an event"
            if processor.invocations_per_second
            else f"- {processor.name}: idle"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    args = parser.parse_args()
    events: list[object] = list(clickstream(args.events))
    texts: list[object] = [json.dumps(event, separators=(",", ":")) for event in events]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        report(
            "sample, as the seed prints",
            plan_at(sample_project(root, quiet=False), "hello_world_spout", texts),
        )
        report(
            "sample, quiet", plan_at(sample_project(root, quiet=True), "hello_world_spout", texts)
        )
        report("clickstream", plan_at(HERE / "clickstream", "parse", events))
        sparse = root / "clickstream-sparse"
        shutil.copytree(HERE / "clickstream", sparse)
        with (sparse / "topology.yml").open("a") as topology:
            topology.write("trace_sampling: 0.001\n")
        report("clickstream, trace_sampling 0.1%", plan_at(sparse, "parse", events))


if __name__ == "__main__":
    main()
