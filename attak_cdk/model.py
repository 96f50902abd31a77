"""The topology model: frozen, behaviour-free data that every backend reads.

The loader builds it from a file; validation, the routing graph, the simulator and the CDK
constructs all read this one model. Each element keeps ``where``, its path inside the
topology file, so any later check can point the user at the line that needs fixing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .settings import DEFAULT_MAX_HOPS


@dataclass(frozen=True)
class Processor:
    """A user handler function, deployed as one Lambda function."""

    name: str
    file: Path
    """The Python file holding the handler (absolute)."""
    function: str = "handler"
    memory: int = 256
    timeout: int = 60
    reserved_concurrency: int | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    input: str = "direct"
    """``direct``: invoked directly when it has no incoming stream; ``stream``: also gets an
    ingest stream that outside producers write to."""
    where: str = ""
    handler_spec: str = ""
    """The handler as the user wrote it, for messages."""


@dataclass(frozen=True)
class StreamSettings:
    """How a stream is provisioned and how its consumer reads it (AWS's names)."""

    batch_size: int = 100
    starting_position: str = "TRIM_HORIZON"
    max_batching_window: int = 0
    parallelization_factor: int = 1
    retry_attempts: int = 10
    bisect_batch_on_error: bool = True
    max_record_age: int | None = None
    shards: int | None = None
    """Provisioned shard count; ``None`` is on-demand."""
    retention_hours: int = 24


@dataclass(frozen=True)
class Stream:
    """A Kinesis stream carrying ``source``'s emits (on ``topic``, or all) to ``target``."""

    source: str
    target: str
    topic: str | None = None
    settings: StreamSettings = field(default_factory=StreamSettings)
    where: str = ""


@dataclass(frozen=True)
class Topology:
    """Processors and the streams between them, as one deployable unit."""

    name: str
    processors: Mapping[str, Processor]
    streams: tuple[Stream, ...] = ()
    max_hops: int = DEFAULT_MAX_HOPS
    file: Path = Path("topology.yml")
    ingest_settings: StreamSettings = field(default_factory=StreamSettings)
    """Settings of the ingest streams of processors declared ``input: stream``: the
    topology's stream ``defaults``."""

    @property
    def root(self) -> Path:
        """The folder the topology file lives in; relative paths start here."""
        return self.file.parent
