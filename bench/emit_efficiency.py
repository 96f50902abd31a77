"""PutRecords efficiency of the emitter, and end-to-end throughput of the Kinesis engine.

1. n keyed emits from one invocation, through the runtime's ``KinesisEmitter`` into a
   local kinesalite: how many records (aggregated by key bucket, ``runtime/records.py``)
   and PutRecords calls, and the largest call in bytes (under 5 MiB, also with 100 KiB
   events).
2. Events per second through ``bench/pipeline`` (spout -> reverse -> sink) on the Kinesis
   engine against kinesalite, next to the memory engine on the same events. The spout
   reads an ingest stream so input arrives in 500-record calls, as a producer writes it.

    python bench/emit_efficiency.py [--events 10000]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path
from typing import Any

from attak_cdk.inputs import InputEvent
from attak_cdk.project import load_topology
from attak_cdk.runtime.context import Context, Routes
from attak_cdk.runtime.emitter import MAX_BYTES_PER_CALL, KinesisEmitter
from attak_cdk.runtime.envelope import encode_input
from attak_cdk.runtime.handler import Record, Runner
from attak_cdk.simulate import emulator, kinesis, memory

PIPELINE = Path(__file__).resolve().parent / "pipeline"


class Measured:
    """The real boto3 client, with the size of each PutRecords call written down."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.sizes: list[int] = []

    def put_records(self, **call: Any) -> Any:
        self.sizes.append(sum(len(r["Data"]) + len(r["PartitionKey"]) for r in call["Records"]))
        return self.client.put_records(**call)


def emits_per_call(endpoint: str, n: int, size: int) -> tuple[int, int, int]:
    """Emit n keyed events of about ``size`` bytes from one invocation; return (records
    written, PutRecords calls, largest call)."""
    import boto3

    client = boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="attak",
        aws_secret_access_key="attak",
    )
    stream = f"emit-{n}-{size}"
    client.create_stream(StreamName=stream, ShardCount=4)
    measured = Measured(client)
    emitter = KinesisEmitter(measured)
    blob = os.urandom(size // 2).hex()  # incompressible, so sizes are the events' own

    def handler(event: Any, context: Context) -> None:
        for i in range(n):
            context.emit("out", blob, key=str(i))

    runner = Runner(
        handler=handler,
        processor="spout",
        topology="bench",
        routes=Routes([{"stream": stream, "topic": None}]),
        transport=emitter,
        max_hops=16,
    )
    assert runner.process([Record("1", "1", encode_input(None, "t"))]) is None
    client.delete_stream(StreamName=stream)
    return emitter.written[stream].records, emitter.calls, max(measured.sizes)


def throughput(endpoint: str, events: int) -> tuple[float, float]:
    topology = load_topology(PIPELINE)
    spout = dataclasses.replace(topology.processors["spout"], input="stream")
    topology = dataclasses.replace(topology, processors={**topology.processors, "spout": spout})
    inputs = [InputEvent("spout", f"hello world {i:06d}") for i in range(events)]
    started = time.perf_counter()
    assert memory.simulate(topology, inputs).ok
    in_memory = time.perf_counter() - started
    started = time.perf_counter()
    result = kinesis.simulate(topology, inputs, endpoint_url=endpoint)
    over_kinesis = time.perf_counter() - started
    assert result.ok and len(result.rows) == 3 * events
    return events / in_memory, events / over_kinesis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    with emulator.start("kinesalite") as local:
        print("emits  event size  records  PutRecords calls  largest call")
        for n, size in ((1, 10), (500, 10), (501, 10), (10_000, 10), (200, 100 * 1024)):
            records, calls, largest = emits_per_call(local.endpoint_url, n, size)
            assert largest <= MAX_BYTES_PER_CALL
            print(f"{n:>5}  {size:>10,}  {records:>7,}  {calls:>16}  {largest:>12,}")
        in_memory, over_kinesis = throughput(local.endpoint_url, args.events)
        print(f"\n{args.events:,} events through spout -> reverse -> sink:")
        print(f"memory engine : {in_memory:>9,.0f} events/s")
        print(f"kinesis engine: {over_kinesis:>9,.0f} events/s (kinesalite, {local.endpoint_url})")


if __name__ == "__main__":
    main()
