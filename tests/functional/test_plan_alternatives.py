"""The plan's alternatives do the plan's own work: a Storm cluster and Managed Flink sized
from the CPU per event, beside the seed's fixed cluster; and On-demand Advantage priced
with its account-wide minimum."""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from pathlib import Path

from attak_cdk.plan.alternatives import FRAMEWORK_SECONDS, UTILIZATION
from attak_cdk.plan.assumptions import with_command_line
from attak_cdk.plan.cost import plan_topology
from attak_cdk.plan.prices import default_table_file, read_prices
from attak_cdk.plan.result import Plan
from attak_cdk.project import check_topology_plan
from tests.conftest import PASS_ON, SINK, WriteProject

PRICES = read_prices()
HOURS = Decimal(730)
US = json.loads(default_table_file().read_text())["regions"]["us-east-1"]


def project(write_project: WriteProject) -> Path:
    # At 1,769 MB a function has a whole vCPU: its handler time is a full core's.
    return write_project(
        {
            "a.py": PASS_ON,
            "b.py": SINK,
            "topology.yml": """
                name: sized
                defaults: {memory: 1769}
                processors:
                  a: {handler: a.py, input: stream}
                  b: b.py
                streams: [[a, b]]
                plan: {rate: 1000/s, size: 1 KB, duration: 10 ms}
            """,
        }
    )


def planned(root: Path, *rates: str, prices: Path | None = None) -> Plan:
    plan = check_topology_plan(root)
    assumptions = with_command_line(plan.assumptions, plan.topology.processors, rates=rates)
    return plan_topology(plan.topology, assumptions, read_prices(prices))


def test_storm_and_flink_are_sized_from_the_cpu_per_event(write_project: WriteProject) -> None:
    result = planned(project(write_project))
    storm, flink, seed = result.alternatives
    # Two processors, 1,000 events/s each, 10 ms of a full core plus the framework's share.
    cores = 2 * 1000 * (Decimal("0.010") + FRAMEWORK_SECONDS)
    workers = math.ceil(cores / UTILIZATION / 4)
    kpus = math.ceil(cores / UTILIZATION)
    assert f"{workers} x c7g.xlarge supervisors for {cores:,.2f} busy cores" in storm.detail
    assert f"{kpus} KPU(s) + 1 for orchestration" in flink.detail
    # 1,000 x 1 KB/s into the input queue: one shard.
    assert "an input queue of 1 Kinesis shard(s)" in storm.detail
    ec2 = US["ec2"]
    nodes = workers * Decimal(ec2["c7g.xlarge_hour"]) + Decimal(ec2["m7g.large_hour"])
    nodes += 3 * Decimal(ec2["t4g.medium_hour"])
    disks = (workers + 4) * 20 * Decimal(ec2["gp3_gb_month"])
    queue = Decimal(US["kinesis"]["shard_hour"]) * HOURS
    assert storm.at_load > (nodes * HOURS + disks + queue).quantize(Decimal("0.01"))
    assert storm.at_load - (nodes * HOURS + disks + queue) < 2  # PUT units on top
    flink_kpus = (kpus + 1) * Decimal(US["flink"]["kpu_hour"]) * HOURS
    storage = kpus * 50 * Decimal(US["flink"]["running_storage_gb_month"])
    assert flink.at_load - (flink_kpus + storage + queue) < 2
    # The seed's reference does not move with the load.
    assert seed.at_load == seed.idle == Decimal("511.00") and not seed.sized


def test_a_bigger_load_needs_a_bigger_cluster_and_idle_is_the_smallest(
    write_project: WriteProject,
) -> None:
    root = project(write_project)
    small, large = planned(root, "100/s"), planned(root, "10000/s")
    assert large.alternatives[0].at_load > small.alternatives[0].at_load
    assert large.alternatives[1].at_load > small.alternatives[1].at_load
    assert small.alternatives[0].idle == large.alternatives[0].idle  # 2 supervisors, 3 ZK
    assert "2 x c7g.xlarge" in small.alternatives[0].detail


def test_the_json_gives_attaks_fraction_of_each_alternative(write_project: WriteProject) -> None:
    result = planned(project(write_project))
    document = result.as_dict()
    for alternative, listed in zip(result.alternatives, document["alternatives"], strict=True):
        assert listed["name"] == alternative.name
        expected = float(round(result.at_load / alternative.at_load, 4))
        assert listed["attak_fraction_at_load"] == expected


def test_a_price_table_without_cluster_prices_compares_with_the_seed_only(
    write_project: WriteProject, tmp_path: Path
) -> None:
    table = json.loads(default_table_file().read_text())
    for region in table["regions"].values():
        region.pop("flink")
    old = tmp_path / "old.json"
    old.write_text(json.dumps(table))
    result = planned(project(write_project), prices=old)
    assert [a.name for a in result.alternatives] == ["Storm, the seed's cluster"]


def test_on_demand_advantage_is_offered_only_past_its_minimum_commitment(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {
            "a.py": PASS_ON,
            "b.py": SINK,
            "topology.yml": """
                name: advantage
                processors:
                  a: {handler: a.py, input: stream}
                  b: b.py
                streams: [[a, b]]
                plan: {size: 1 KB, duration: 1 ms, compression: 1x}
            """,
        }
    )
    # 1 MB/s of on-demand streams: the 25 MiB/s minimum costs more than Standard.
    assert planned(root, "1 MB/s").advantage_at_load is None
    big = planned(root, "100 MB/s")
    assert big.advantage_at_load is not None and big.advantage_at_load < big.at_load
    for stream in big.streams:
        # No stream-hour; ingest and retrieval per billed GB at 40% of Standard's prices.
        assert stream.advantage is not None and stream.advantage < stream.on_demand


def test_telling_people_of_failures_is_priced(write_project: WriteProject) -> None:
    root = write_project(
        {
            "a.py": PASS_ON,
            "b.py": SINK,
            "topology.yml": """
                name: told
                alerts: oncall@example.com
                processors: {a: a.py, b: b.py}
                streams: [[a, b]]
                plan: {rate: 100/s, dead_letters: 1%}
            """,
        }
    )
    lines = {line.item: line for line in planned(root).lines}
    # Each failing processor publishes 3 counts as custom metrics; the alerts topic of
    # the one processor stack has a key of its own.
    metric = Decimal(US["cloudwatch"]["custom_metric_month"])
    assert lines["CloudWatch custom metrics"].at_load == 2 * 3 * metric
    assert lines["CloudWatch custom metrics"].idle == 0
    key = Decimal(US["kms"]["key_month"])
    assert lines["KMS keys (alerts: topics)"].idle == key
    quiet = planned(project(write_project))
    assert not {"CloudWatch custom metrics", "KMS keys (alerts: topics)"} & {
        line.item for line in quiet.lines
    }


def batching_project(write_project: WriteProject, stream: str, plan: str) -> Path:
    return write_project(
        {
            "a.py": PASS_ON,
            "b.py": SINK,
            "topology.yml": f"""
                name: batching
                processors:
                  a: {{handler: a.py, input: stream}}
                  b: b.py
                streams:
                  - {stream}
                plan: {plan}
            """,
        }
    )


def test_full_batches_are_offered_a_batch_size_that_fits_the_timeout(
    write_project: WriteProject,
) -> None:
    root = batching_project(
        write_project,
        "{from: a, to: b, batch_size: 1, shards: 2}",
        "{rate: 1000/s, size: 1 KB, duration: 1 ms}",
    )
    result = planned(root)
    (choice,) = [c for c in result.choices if c.startswith("stream a->b")]
    # One record a batch: the invocations are the records; a bigger batch reads a second
    # of records per poll, each batch far within its 60 s timeout.
    match = re.search(
        r"batch_size (\d+) would take ([\d,.]+) invocations a second to ([\d,.]+)", choice
    )
    assert match is not None, choice
    size, now, later = int(match[1]), float(match[2].replace(",", "")), float(match[3])
    assert size > 1 and later < now
    assert "within a quarter of the 60 s timeout" in choice
    assert result.as_dict()["choices"] == list(result.choices)


def test_a_light_stream_on_many_shards_is_offered_a_batching_window(
    write_project: WriteProject,
) -> None:
    root = batching_project(
        write_project,
        "{from: a, to: b, shards: 50}",
        "{rate: 5000/s, size: 1 KB, duration: 1 ms}",
    )
    choices = [c for c in planned(root).choices if c.startswith("stream a->b")]
    assert len(choices) == 1
    assert "max_batching_window 5" in choices[0] and "up to 5 s more latency" in choices[0]


def test_settings_right_for_the_load_get_no_offer(write_project: WriteProject) -> None:
    root = batching_project(
        write_project, "{from: a, to: b, shards: 1}", "{rate: 10/s, size: 1 KB, duration: 1 ms}"
    )
    assert planned(root).choices == ()
