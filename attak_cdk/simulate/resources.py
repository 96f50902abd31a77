"""The streams a run makes on a Kinesis endpoint: their names, creation and removal.

Every stream of the topology (and every ingest stream) is created with its shard count
under a name unique to the run, opened with one reader per shard (its lanes one per
``parallelization_factor``), and deleted when the run ends: the endpoint may be the
user's and outlive the run. Nothing here ever talks to AWS itself: the clients are given
the endpoint and placeholder credentials.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .. import graph
from ..errors import AttakError
from ..model import StreamSettings
from ..runtime.context import Emit
from ..runtime.emitter import KinesisEmitter
from .engine import RetryState

ACTIVE_TIMEOUT = 30.0
"""Seconds a new stream may take to become ACTIVE."""


class EndpointError(AttakError):
    """The Kinesis endpoint cannot be reached or refuses what the engine needs."""


@dataclass
class Lane(RetryState):
    """One of a shard's concurrent batches (``parallelization_factor`` per shard, one by
    default): the records of its partition keys read and not yet finished, and the retry
    state at its head.

    A lane checkpoints on its own: a record leaves its buffer only once processed or
    dead-lettered, so whatever the shard's reader has read and a lane has not finished is
    here, whatever the other lanes do.
    """

    buffer: list[dict[str, Any]] = field(default_factory=list)
    """Records read and not yet checkpointed, oldest first (GetRecords' own dicts)."""
    since: float = 0.0
    """When the buffer stopped being empty (the batching window runs from here)."""


@dataclass
class ShardReader:
    """Lambda's poller for one shard: where it reads, and its lanes."""

    shard_id: str
    iterator: str | None
    lanes: list[Lane] = field(default_factory=lambda: [Lane()])
    last_read: str | None = None
    """Sequence number of the last record read, to renew an expired iterator after it."""
    caught_up: bool = False
    """The last GetRecords returned nothing and was at the tip of the shard."""

    def buffered(self) -> int:
        """How many records the lanes hold."""
        return sum(len(lane.buffer) for lane in self.lanes)


@dataclass
class KinesisStream:
    """A topology stream as created on the endpoint."""

    name: str
    """The local name (``from->to[topic]``), as the memory engine and the report use it."""
    physical: str
    """The stream's name on the endpoint."""
    consumer: str
    settings: StreamSettings
    arn: str = ""
    shards: list[ShardReader] = field(default_factory=list)


def physical_name(run: str, construct_id: str) -> str:
    """A Kinesis stream name (``[A-Za-z0-9_.-]``, at most 128) unique to the run."""
    name = f"attak-{run}-{construct_id}"
    if len(name) <= 128:
        return name
    digest = uuid.uuid5(uuid.NAMESPACE_OID, construct_id).hex[:12]
    return f"{name[:115]}-{digest}"


def run_streams(resolved: graph.ResolvedTopology, run: str) -> dict[str, KinesisStream]:
    """Every stream of the topology, ingest streams included, by local name, named for
    ``run`` (not created yet)."""
    return {
        name: KinesisStream(
            name, physical_name(run, stream.construct_id), stream.consumer, stream.settings
        )
        for name, stream in resolved.streams.items()
    }


class PhysicalNames:
    """The emitter, addressed with the topology's stream names.

    Routes keep the local names (``from->to[topic]``) so a run reports them as the memory
    engine does; the emitter writes to the streams' names on the endpoint. (In Lambda the
    CDK stack puts the deployed names straight into the routes.)"""

    def __init__(self, emitter: KinesisEmitter, names: Mapping[str, str]) -> None:
        self.emitter = emitter
        self.names = names

    def put(self, stream: str, emits: Sequence[Emit]) -> None:
        self.emitter.put(self.names[stream], emits)


def connect(endpoint_url: str, region: str, read_timeout: float) -> tuple[Any, Any]:
    """Kinesis and SQS clients for ``endpoint_url`` (and nowhere else)."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        # Placeholders: a local endpoint takes any, and the user's own credentials
        # (and with them a real account) are never picked up.
        aws_access_key_id="attak",
        aws_secret_access_key="attak",
        region_name=region,
    )
    config = Config(
        # The emitter and the shard readers retry themselves, as Lambda does.
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=2,
        read_timeout=read_timeout,
    )
    # Typed loosely: the engine reads the answers as the JSON documents they are.
    kinesis: Any = session.client("kinesis", endpoint_url=endpoint_url, config=config)
    sqs: Any = session.client("sqs", endpoint_url=endpoint_url, config=config)
    return kinesis, sqs


def check_endpoint(kinesis: Any, endpoint_url: str) -> None:
    """Fail with the fix when nothing speaking Kinesis answers at ``endpoint_url``."""
    try:
        kinesis.list_streams(Limit=1)
    except (BotoCoreError, ClientError) as exc:
        raise EndpointError(
            f"the Kinesis endpoint {endpoint_url} does not answer ({exc}); start "
            "kinesalite, moto server or LocalStack there, or leave out --endpoint-url "
            "and attak starts one"
        ) from None


def create_streams(kinesis: Any, streams: Iterable[KinesisStream], endpoint_url: str) -> None:
    """Create every stream, then open each (all are created first: creation is slow, and
    the streams become ACTIVE meanwhile)."""
    streams = list(streams)
    try:
        for stream in streams:
            kinesis.create_stream(
                StreamName=stream.physical, ShardCount=stream.settings.shards or 1
            )
        for stream in streams:
            _open(kinesis, stream, endpoint_url)
    except ClientError as exc:
        raise EndpointError(
            f"the Kinesis endpoint {endpoint_url} refused to create the topology's streams: {exc}"
        ) from None


def _open(kinesis: Any, stream: KinesisStream, endpoint_url: str) -> None:
    """Wait for the stream to be ACTIVE and open a TRIM_HORIZON iterator per shard.

    The iterators are taken before any input is sent, so LATEST would read the same
    records: ``starting_position`` makes no difference in a fresh run."""
    deadline = time.monotonic() + ACTIVE_TIMEOUT
    while True:
        summary = kinesis.describe_stream_summary(StreamName=stream.physical)
        description = summary["StreamDescriptionSummary"]
        if description["StreamStatus"] == "ACTIVE":
            break
        if time.monotonic() > deadline:
            raise EndpointError(
                f"stream '{stream.name}' ({stream.physical}) did not become ACTIVE on "
                f"{endpoint_url} within {ACTIVE_TIMEOUT:g} s"
            )
        time.sleep(0.05)
    stream.arn = description["StreamARN"]
    shards = kinesis.list_shards(StreamName=stream.physical)["Shards"]
    for shard in sorted(shards, key=lambda s: int(s["HashKeyRange"]["StartingHashKey"])):
        iterator = kinesis.get_shard_iterator(
            StreamName=stream.physical,
            ShardId=shard["ShardId"],
            ShardIteratorType="TRIM_HORIZON",
        )["ShardIterator"]
        lanes = [Lane() for _ in range(stream.settings.parallelization_factor)]
        stream.shards.append(ShardReader(shard["ShardId"], iterator, lanes))


def delete_streams(kinesis: Any, streams: Iterable[KinesisStream]) -> None:
    """Delete every stream, quietly: one already gone, or an endpoint gone away, leaves
    nothing to clean."""
    for stream in streams:
        with contextlib.suppress(BotoCoreError, ClientError):
            kinesis.delete_stream(StreamName=stream.physical, EnforceConsumerDeletion=True)
