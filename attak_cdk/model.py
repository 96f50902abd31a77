"""The topology model: frozen, behaviour-free data that every backend reads.

The loader builds it from a file; validation, the routing graph, the simulator and the CDK
constructs all read this one model. Each element keeps ``where``, its path inside the
topology file, so any later check can point the user at the line that needs fixing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .endpoint import HttpEndpoint
from .function_settings import Vpc
from .grants import Grant
from .references import Reference
from .schedules import Schedule
from .settings import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_BISECT_BATCH_ON_ERROR,
    DEFAULT_INPUT,
    DEFAULT_MAX_BATCHING_WINDOW,
    DEFAULT_MAX_HOPS,
    DEFAULT_MEMORY,
    DEFAULT_PARALLELIZATION_FACTOR,
    DEFAULT_RETENTION_HOURS,
    DEFAULT_RETRY_ATTEMPTS,
    DEFAULT_STARTING_POSITION,
    DEFAULT_SYSTEM_LOG_LEVEL,
    DEFAULT_TIMEOUT,
    DEFAULT_TRACE_SAMPLING,
)


@dataclass(frozen=True)
class Processor:
    """A user handler function, deployed as one Lambda function."""

    name: str
    file: Path
    """The Python file holding the handler (absolute)."""
    function: str = "handler"
    memory: int = DEFAULT_MEMORY
    timeout: int = DEFAULT_TIMEOUT
    reserved_concurrency: int | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    references: Mapping[str, Reference] = field(default_factory=dict)
    """Environment variables whose values live in SSM Parameter Store or Secrets Manager
    (``defaults.environment``'s first): read by the runtime at cold start in AWS, from the
    process environment or a dotenv file locally (``references.py``)."""
    input: str = DEFAULT_INPUT
    """``direct``: invoked directly when it has no incoming stream; ``stream``: also gets an
    ingest stream that outside producers write to."""
    system_log_level: str = DEFAULT_SYSTEM_LOG_LEVEL
    """Lambda's system log level: ``WARN`` drops its START and REPORT lines."""
    grants: tuple[Grant, ...] = ()
    """What the function may do beyond its own streams (``defaults:``' grants first):
    AWS permissions only, which simulate does not model."""
    schedule: Schedule | None = None
    """When EventBridge invokes it (an entry processor only), and with what event."""
    ephemeral_storage: int | None = None
    """MB of ``/tmp``; ``None``: Lambda's 512."""
    tracing: bool = False
    """X-Ray active tracing."""
    architecture: str | None = None
    """``arm64`` or ``x86_64``; ``None``: the stack's (``DEFAULT_ARCHITECTURE``)."""
    python: str | None = None
    """The Python runtime's version (``"3.12"``); ``None``: ``DEFAULT_PYTHON``."""
    layers: tuple[str, ...] = ()
    """Layer version ARNs, ``defaults:``' first. Like ``vpc``, a deployment setting that
    simulate ignores."""
    vpc: Vpc | None = None
    http: HttpEndpoint | None = None
    """An entry's HTTPS endpoint (a Lambda function URL), or ``None``."""
    where: str = ""
    handler_spec: str = ""
    """The handler as the user wrote it, for messages."""


@dataclass(frozen=True)
class StreamSettings:
    """How a stream is provisioned and how its consumer reads it (AWS's names)."""

    batch_size: int = DEFAULT_BATCH_SIZE
    starting_position: str = DEFAULT_STARTING_POSITION
    max_batching_window: int = DEFAULT_MAX_BATCHING_WINDOW
    parallelization_factor: int = DEFAULT_PARALLELIZATION_FACTOR
    retry_attempts: int = DEFAULT_RETRY_ATTEMPTS
    bisect_batch_on_error: bool = DEFAULT_BISECT_BATCH_ON_ERROR
    max_record_age: int | None = None
    """Seconds after which Lambda stops retrying a record and sends it to the on-failure
    destination; ``None`` for no limit. The loader sets it to ``default_max_record_age``
    of the stream's retention unless the topology gives one (``-1`` is no limit)."""
    shards: int | None = None
    """Provisioned shard count; ``None`` is on-demand (or ``shards: auto`` not yet sized)."""
    retention_hours: int = DEFAULT_RETENTION_HOURS
    auto_shards: str = ""
    """Where ``shards: auto`` was written (``streams[1].shards``, ``defaults.shards``), or
    empty. ``plan`` sizes such a stream from the topology's ``plan:`` section."""


@dataclass(frozen=True)
class Stream:
    """A Kinesis stream carrying ``source``'s emits (on ``topic``, or all) to ``target``."""

    source: str
    target: str
    topic: str | None = None
    settings: StreamSettings = field(default_factory=StreamSettings)
    where: str = ""


@dataclass(frozen=True)
class PlanValue:
    """One value of the ``plan:`` section as written (``1000/s``, ``20 ms``), and where."""

    value: object
    where: str


@dataclass(frozen=True)
class ProcessorPlan:
    """What the ``plan:`` section says one processor does with an event; unset is ``None``."""

    emits: PlanValue | Mapping[str, PlanValue] | None = None
    """One ratio for every outgoing stream, or a ratio per topic."""
    duration: PlanValue | None = None
    size: PlanValue | None = None
    log: PlanValue | None = None


@dataclass(frozen=True)
class PlanSection:
    """The topology's ``plan:`` section, its shape checked; ``plan`` reads the quantities.

    ``rate`` and ``size`` are given for every entry processor, or per entry in ``rates``
    and ``sizes``.
    """

    rate: PlanValue | None = None
    rates: Mapping[str, PlanValue] = field(default_factory=dict)
    size: PlanValue | None = None
    sizes: Mapping[str, PlanValue] = field(default_factory=dict)
    duration: PlanValue | None = None
    dead_letters: PlanValue | None = None
    region: str | None = None
    processors: Mapping[str, ProcessorPlan] = field(default_factory=dict)
    compression: PlanValue | None = None


@dataclass(frozen=True)
class Alerts:
    """Who is told when a processor's alarm goes off (and when it is OK again): the
    topology's ``alerts:``. Empty: the alarms have no action."""

    emails: tuple[str, ...] = ()
    """Addresses subscribed to the topic the stack creates for its alarms."""
    topics: tuple[str, ...] = ()
    """ARNs of existing SNS topics every alarm notifies as well."""
    where: str = "alerts"

    def __bool__(self) -> bool:
        """Whether anyone is told: ``if topology.alerts``."""
        return bool(self.emails or self.topics)


@dataclass(frozen=True)
class Topology:
    """Processors and the streams between them, as one deployable unit."""

    name: str
    processors: Mapping[str, Processor]
    streams: tuple[Stream, ...] = ()
    max_hops: int = DEFAULT_MAX_HOPS
    trace_sampling: float = DEFAULT_TRACE_SAMPLING
    """The share of traces every processor logs record by record (the same traces in
    each: see ``runtime/logs.py``)."""
    file: Path = Path("topology.yml")
    ingest_settings: StreamSettings = field(default_factory=StreamSettings)
    """Settings of the ingest streams of processors declared ``input: stream``: the
    topology's stream ``defaults``."""
    plan: PlanSection = field(default_factory=PlanSection)
    alerts: Alerts = field(default_factory=Alerts)

    @property
    def root(self) -> Path:
        """The folder the topology file lives in; relative paths start here."""
        return self.file.parent
