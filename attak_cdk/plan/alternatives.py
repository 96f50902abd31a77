"""What the same work costs on a cluster: a self-managed Apache Storm cluster and Amazon
Managed Service for Apache Flink, each sized for the plan's load, and the seed's own
reference (4 x m1.large, whatever the load).

The work is the plan's own: every processor's events per second times its CPU seconds per
event (``Assumptions.cpu_of``: measured on a full core, or the Lambda time given, as the
share of a vCPU its function has), plus a framework cost per event per stage. Both
clusters read their input from a durable queue, as attak's entries read an ingest stream:
a provisioned Kinesis stream sized for the input, with producers packing records.

Sizing leans toward the cluster, so a ratio in attak's favour is not flattered: cores run
at 70% (Flink's autoscaling adds capacity at 75%), handler time counts as all CPU (a
server does not pay for an I/O wait the way Lambda's duration does), traffic between a
cluster's nodes is free, and nobody is paid to run it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from .. import graph
from ..model import Topology
from .assumptions import Assumptions
from .load import Load
from .prices import ClusterPrices, RegionPrices
from .result import cents

SEED_INSTANCES = 4
"""The seed's comparison: Apache Storm's usual cluster of 4 m1.large instances."""
FRAMEWORK_SECONDS = Decimal("0.000005")
"""CPU seconds a cluster spends per event per stage besides the handler: passing the
tuple on and acknowledging it. Storm's own benchmarks report about a million emits a
second on one machine (apache/storm pull request 1362); 5 µs per event per stage with
acking is an assumption on the cluster's side."""
UTILIZATION = Decimal("0.7")
"""The share of its cores a cluster is run at, leaving room for peaks and rebalancing."""
WORKER_CORES = 4
"""vCPUs of a Storm supervisor (c7g.xlarge)."""
MIN_WORKERS = 2
"""Supervisors in the smallest cluster that survives losing one."""
ZOOKEEPER_NODES = 3
"""A ZooKeeper ensemble that keeps a quorum when one node fails."""
NODE_DISK_GB = 20
"""The gp3 volume each node boots and logs to."""
KPU_STORAGE_GB = 50
"""Managed Flink's running application storage per KPU."""
ORCHESTRATION_KPUS = 1
"""Managed Flink bills one KPU per application for orchestration, besides its own."""
SHARD_BYTES = Decimal(1024 * 1024)
"""A provisioned shard takes 1 MiB/s of writes."""
PAYLOAD_UNIT = Decimal(25 * 1024)


@dataclass(frozen=True)
class Alternative:
    """A cluster doing the plan's work: its monthly cost idle (its smallest size) and at
    load, and what it is made of."""

    name: str
    idle: Decimal
    at_load: Decimal
    detail: str
    sized: bool = True
    """Sized for the load; ``False`` for a fixed reference (the seed's cluster)."""

    def as_dict(self) -> dict[str, str | bool]:
        return {
            "name": self.name,
            "idle": str(self.idle),
            "at_load": str(self.at_load),
            "detail": self.detail,
            "sized_for_the_load": self.sized,
        }


@dataclass(frozen=True)
class Work:
    """What any engine must do a second for the plan's load."""

    cores: Decimal
    """Busy cores: handler CPU plus the framework's per event per stage."""
    input_bytes: Decimal
    """Bytes a second into the entries: what the durable input queue takes."""


def work(topology: Topology, load: Load, assumptions: Assumptions) -> Work:
    cores = Decimal(0)
    for name, processor in load.processors.items():
        cpu = assumptions.cpu_of(name, topology.processors[name].memory)
        cores += processor.events_per_second * (cpu + FRAMEWORK_SECONDS)
    input_bytes = Decimal(0)
    for entry in graph.resolve(topology).entries:
        rate = assumptions.entry_rate(entry)
        if rate is not None:
            size = assumptions.entry_size(entry)
            input_bytes += rate.events_per_second(size) * size
    return Work(cores=cores, input_bytes=input_bytes)


def alternatives(done: Work, price: RegionPrices, hours: Decimal) -> tuple[Alternative, ...]:
    """The sized Storm cluster and Managed Flink (when the price table has their prices),
    then the seed's fixed reference."""
    seed = cents(SEED_INSTANCES * price.storm_instance_hour * hours)
    reference = Alternative(
        "Storm, the seed's cluster",
        seed,
        seed,
        f"{SEED_INSTANCES} x m1.large on-demand, running or idle, whatever the load",
        sized=False,
    )
    if price.cluster is None:
        return (reference,)
    queue_idle, queue = (
        _input_queue(Decimal(0), price, hours),
        _input_queue(done.input_bytes, price, hours),
    )
    storm_idle, _ = _storm(Decimal(0), price.cluster, hours)
    storm, storm_detail = _storm(done.cores, price.cluster, hours)
    flink_idle, _ = _flink(Decimal(0), price.cluster, hours)
    flink, flink_detail = _flink(done.cores, price.cluster, hours)
    queue_detail = f"an input queue of {_shards(done.input_bytes)} Kinesis shard(s)"
    return (
        Alternative(
            "Storm cluster, sized for this load",
            cents(storm_idle + queue_idle),
            cents(storm + queue),
            f"{storm_detail}; {queue_detail}",
        ),
        Alternative(
            "Managed Service for Apache Flink",
            cents(flink_idle + queue_idle),
            cents(flink + queue),
            f"{flink_detail}; {queue_detail}",
        ),
        reference,
    )


def _storm(cores: Decimal, price: ClusterPrices, hours: Decimal) -> tuple[Decimal, str]:
    workers = max(MIN_WORKERS, math.ceil(cores / UTILIZATION / WORKER_CORES))
    nodes = workers + 1 + ZOOKEEPER_NODES
    monthly = (
        workers * price.worker_hour * hours
        + price.coordinator_hour * hours
        + ZOOKEEPER_NODES * price.zookeeper_hour * hours
        + nodes * NODE_DISK_GB * price.volume_gb_month
    )
    detail = (
        f"{workers} x c7g.xlarge supervisors for {cores:,.2f} busy cores at "
        f"{UTILIZATION:.0%}, Nimbus on m7g.large, {ZOOKEEPER_NODES} x t4g.medium ZooKeeper"
    )
    return monthly, detail


def _flink(cores: Decimal, price: ClusterPrices, hours: Decimal) -> tuple[Decimal, str]:
    kpus = max(1, math.ceil(cores / UTILIZATION))
    monthly = (kpus + ORCHESTRATION_KPUS) * price.kpu_hour * hours + (
        kpus * KPU_STORAGE_GB * price.kpu_storage_gb_month
    )
    detail = f"{kpus} KPU(s) + {ORCHESTRATION_KPUS} for orchestration, {cores:,.2f} busy cores"
    return monthly, detail


def _shards(input_bytes: Decimal) -> int:
    return max(1, math.ceil(input_bytes / SHARD_BYTES))


def _input_queue(input_bytes: Decimal, price: RegionPrices, hours: Decimal) -> Decimal:
    """A provisioned stream for the input, its producers packing records to 25 KB."""
    seconds = hours * 3600
    units = input_bytes / PAYLOAD_UNIT * seconds
    return _shards(input_bytes) * price.shard_hour * hours + (
        units / 1_000_000 * price.put_payload_units_per_million
    )
