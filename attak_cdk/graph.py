"""The topology as a graph: routing, entry processors, reachability, cycles, and all naming.

Every name attak derives from a topology (construct ids, logical ids, the local stream
names the simulator uses, the routes handed to the runtime) is made here and only here, so
the simulator, the CDK stack and the live commands can never disagree about one.

``resolve`` turns a validated topology into a ``ResolvedTopology``: every stream (ingest
streams included) with its names, producer, consumer and settings, and every processor with
its routes and role. The engines, the planner, the CDK constructs and the review read that
one resolution instead of listing streams or building names themselves. The smaller
functions below it (``routes``, ``incoming``, ``cycles``, ...) also work on a topology that
failed validation, which is what the validation rules need.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .model import Processor, Stream, StreamSettings, Topology

_WORD = re.compile(r"[A-Za-z0-9]+")


def pascal(name: str) -> str:
    """``hello_world spout`` -> ``HelloWorldSpout``: the form construct ids are built from."""
    return "".join(word[:1].upper() + word[1:] for word in _WORD.findall(name))


FUNCTION = "Function"
"""The id of a processor's Lambda function inside its ``ProcessorFunction`` construct."""
DEAD_LETTER_QUEUE = "DeadLetterQueue"
"""The id of a processor's dead-letter queue inside its ``ProcessorFunction`` construct."""

SCHEDULE = "Schedule"
"""The id of a scheduled processor's EventBridge rule inside its ``ProcessorFunction``."""


def processor_id(processor: str) -> str:
    """The construct id of a processor (``hello_world`` -> ``HelloWorld``)."""
    return pascal(processor)


def function_id(processor: str) -> str:
    """The logical id of a processor's Lambda function (``reverse`` -> ``ReverseFunction``)."""
    return logical_id((processor_id(processor), FUNCTION))


def dead_letter_queue_id(processor: str) -> str:
    """The logical id of a processor's dead-letter queue (``ReverseDeadLetterQueue``)."""
    return logical_id((processor_id(processor), DEAD_LETTER_QUEUE))


def schedule_rule_id(processor: str) -> str:
    """The logical id of a scheduled processor's EventBridge rule (``RollupSchedule``)."""
    return logical_id((processor_id(processor), SCHEDULE))


def stream_id(stream: Stream) -> str:
    """The construct id of a stream: ``HelloWorldSpoutToReverseStream`` (topic included)."""
    topic = pascal(stream.topic) if stream.topic else ""
    return f"{pascal(stream.source)}To{pascal(stream.target)}{topic}Stream"


def ingest_stream_id(processor: str) -> str:
    """The construct id of the ingest stream of a processor declared with ``input: stream``."""
    return f"{pascal(processor)}InputStream"


def handler_module(processor: Processor) -> str:
    """The handler as its Lambda asset holds it, ``module:function`` from the processor's
    folder (``reverse:handler``; a package's ``__init__.py`` is the package's name)."""
    file = processor.file
    module = file.parent.name if file.name == "__init__.py" else file.stem
    return f"{module}:{processor.function}"


def logical_id(parts: Iterable[str]) -> str:
    """A CloudFormation logical id from construct-path parts: letters and digits only,
    at most 255 characters (``Reverse``, ``Function`` -> ``ReverseFunction``)."""
    return "".join(pascal(part) for part in parts)[:255]


# Kinesis' CreateStream: a StreamName is 1 to 128 characters of [a-zA-Z0-9_.-], unique in
# its account and Region.
# https://docs.aws.amazon.com/kinesis/latest/APIReference/API_CreateStream.html
MAX_STREAM_NAME = 128
"""The longest name Kinesis gives a stream."""
_NOT_IN_STREAM_NAMES = re.compile(r"[^A-Za-z0-9_.-]")
_NAME_HASH = 8
"""Hex digits of the hash that ends a shortened physical name."""


def physical_stream_name(stack: str, construct_id: str) -> str:
    """A stream's name in AWS, fixed at synth: ``attak-example-HelloWorldSpoutToReverseStream``.

    ``stack``: the name of the stack the stream is built in (attak's app names it for the
    topology, or ``<topology>-streams-N`` in a split one). A stack name is unique in its
    account and region, so two deployments of one topology (a dev and a prod stack, or a
    split and a one-stack layout) never claim the same stream; construct ids are letters
    and digits. Past 128 characters the name is cut and ends with a hash of the whole
    (``<first 119>-1a2b3c4d``): still unique, still stable.
    """
    full = _NOT_IN_STREAM_NAMES.sub("-", f"{stack}-{construct_id}")
    if len(full) <= MAX_STREAM_NAME:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:_NAME_HASH]
    return f"{full[: MAX_STREAM_NAME - _NAME_HASH - 1]}-{digest}"


def stream_name(stream: Stream) -> str:
    """The readable local name of a stream: ``from->to`` or ``from->to[topic]``."""
    topic = f"[{stream.topic}]" if stream.topic else ""
    return f"{stream.source}->{stream.target}{topic}"


def ingest_stream_name(processor: str) -> str:
    """The local name of a processor's ingest stream."""
    return f"input->{processor}"


def stream_targets(topology: Topology) -> dict[str, str]:
    """Every local stream name (ingest streams included) -> the processor that reads it."""
    return resolve(topology).stream_targets()


@dataclass(frozen=True)
class Route:
    """One way out of a processor: emits on ``topic`` (or any, if ``None``) go to ``stream``."""

    stream: str
    topic: str | None
    target: str


def routes(topology: Topology) -> dict[str, tuple[Route, ...]]:
    """Every processor's outgoing routes, in stream order (processors with none map to ())."""
    table: dict[str, list[Route]] = {name: [] for name in topology.processors}
    for stream in topology.streams:
        table.setdefault(stream.source, []).append(
            Route(stream_name(stream), stream.topic, stream.target)
        )
    return {name: tuple(found) for name, found in table.items()}


def routes_payload(
    outgoing: tuple[Route, ...], physical_names: Mapping[str, str] | None = None
) -> str:
    """The routes as the runtime reads them (JSON), with stream names mapped if given.

    ``runtime_routes`` passes the streams' names in AWS as ``physical_names``; the
    simulator passes none and keeps the local names.
    """
    names = physical_names or {}
    return json.dumps(
        [
            {"stream": names.get(r.stream, r.stream), "topic": r.topic, "to": r.target}
            for r in outgoing
        ],
        separators=(",", ":"),
    )


def incoming(topology: Topology) -> dict[str, tuple[Stream, ...]]:
    """Every processor's incoming streams."""
    table: dict[str, list[Stream]] = {name: [] for name in topology.processors}
    for stream in topology.streams:
        table.setdefault(stream.target, []).append(stream)
    return {name: tuple(found) for name, found in table.items()}


def is_entry(processor: Processor, inputs: tuple[Stream, ...]) -> bool:
    """An entry takes outside input: it has no incoming stream, or an ingest stream."""
    return not inputs or processor.input == "stream"


def entries(topology: Topology) -> list[str]:
    """The processors outside input can reach, in topology order."""
    inputs = incoming(topology)
    return [
        name for name, processor in topology.processors.items() if is_entry(processor, inputs[name])
    ]


def reachable(topology: Topology) -> set[str]:
    """Processors that some input can reach, following streams from the entries."""
    successors = {name: {r.target for r in out} for name, out in routes(topology).items()}
    seen: set[str] = set()
    todo = entries(topology)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(successors.get(name, ()))
    return seen


def cycles(topology: Topology) -> list[list[str]]:
    """Each loop of processors once, starting at its first processor in topology order."""
    order = {name: i for i, name in enumerate(topology.processors)}
    successors = {
        name: sorted({r.target for r in out}, key=lambda n: order.get(n, len(order)))
        for name, out in routes(topology).items()
    }
    found: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()

    def walk(start: str, node: str, path: list[str]) -> None:
        for nxt in successors.get(node, []):
            if nxt == start:
                key = tuple(sorted(path))
                if key not in seen:
                    seen.add(key)
                    found.append(list(path))
            elif nxt not in path and order.get(nxt, -1) > order[start]:
                walk(start, nxt, [*path, nxt])

    for name in topology.processors:
        walk(name, name, [name])
    return found


# --- The resolved topology ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResolvedStream:
    """One Kinesis stream of a topology, as every backend names and reads it."""

    name: str
    """The local name: ``from->to``, ``from->to[topic]``, or ``input->to`` for an ingest stream."""
    construct_id: str
    """Its construct id (and logical id): ``HelloWorldSpoutToReverseStream``."""
    physical_name: str
    """Its name in AWS (``physical_stream_name``): what the runtime writes to and reads
    its retries by."""
    producer: str | None
    """The processor that writes it; ``None`` for an ingest stream (outside producers)."""
    consumer: str
    """The processor it is mapped into."""
    topic: str | None
    """The topic it carries; ``None`` carries every topic (and every ingest record)."""
    settings: StreamSettings
    """Its settings with the topology's defaults applied."""
    where: str
    """Its path inside the topology file, for messages."""

    @property
    def ingest(self) -> bool:
        """Outside producers write it (a processor declared ``input: stream``)."""
        return self.producer is None


@dataclass(frozen=True, slots=True)
class ResolvedProcessor:
    """One processor with everything derived from its place in the topology."""

    name: str
    processor: Processor
    routes: tuple[Route, ...]
    """Where its emits go, in stream order."""
    inputs: tuple[ResolvedStream, ...]
    """The topology streams mapped into it (its ingest stream is ``ingest``)."""
    ingest: ResolvedStream | None
    """Its ingest stream, when declared ``input: stream``."""

    @property
    def entry(self) -> bool:
        """Outside input reaches it: it has no incoming stream, or an ingest stream."""
        return not self.inputs or self.ingest is not None

    @property
    def reads(self) -> tuple[ResolvedStream, ...]:
        """Every stream mapped into it: its inputs, then its ingest stream."""
        return (*self.inputs, self.ingest) if self.ingest is not None else self.inputs

    @property
    def writes(self) -> tuple[str, ...]:
        """The local names of the streams it writes, in stream order."""
        return tuple(route.stream for route in self.routes)


@dataclass(frozen=True)
class ResolvedTopology:
    """A validated topology resolved once: read by the engines, the planner, ``cdk/``,
    the review and ``live/``.

    ``streams`` lists the topology's streams in file order, then the ingest streams in
    processor order: the order resources are built and streams are drained in.
    """

    topology: Topology
    streams: Mapping[str, ResolvedStream]
    processors: Mapping[str, ResolvedProcessor]

    @property
    def name(self) -> str:
        return self.topology.name

    @property
    def entries(self) -> tuple[str, ...]:
        """The processors outside input reaches, in topology order."""
        return tuple(name for name, p in self.processors.items() if p.entry)

    def stream_targets(self) -> dict[str, str]:
        """Every local stream name -> the processor that reads it."""
        return {name: stream.consumer for name, stream in self.streams.items()}

    def physical_names(self) -> dict[str, str]:
        """Every local stream name -> its name in AWS when built in one stack named for
        the topology (what the validator checks limits with)."""
        return {name: stream.physical_name for name, stream in self.streams.items()}

    def runtime_routes(self, processor: str, names: Mapping[str, str] | None = None) -> str:
        """What a deployed processor's runtime reads from its asset (``ROUTES_FILE``), as
        JSON: ``routes``, where its emits go (``routes_payload`` with the streams' names in
        AWS), and ``retries``, each stream it reads by that name with its ``retry_attempts``.
        ``names``: each local stream name -> its name in AWS (default: ``physical_names``).
        ``{"routes":[{"stream":"t-AToBStream","topic":null,"to":"b"}],"retries":{}}``"""
        resolved = self.processors[processor]
        names = names if names is not None else self.physical_names()
        routes = json.loads(routes_payload(resolved.routes, names))
        retries = {names[s.name]: s.settings.retry_attempts for s in resolved.reads}
        return json.dumps({"routes": routes, "retries": retries}, separators=(",", ":"))


def resolve(topology: Topology) -> ResolvedTopology:
    """Resolve ``topology``: every stream named once, every processor's routes, inputs and
    ingest stream (see ``ResolvedTopology``). Meant for a validated topology; on one that
    failed validation, a stream's unknown producer or consumer has no processor entry."""
    streams: dict[str, ResolvedStream] = {}
    inputs: dict[str, list[ResolvedStream]] = {name: [] for name in topology.processors}
    for stream in topology.streams:
        construct_id = stream_id(stream)
        resolved = ResolvedStream(
            name=stream_name(stream),
            construct_id=construct_id,
            physical_name=physical_stream_name(topology.name, construct_id),
            producer=stream.source,
            consumer=stream.target,
            topic=stream.topic,
            settings=stream.settings,
            where=stream.where,
        )
        streams[resolved.name] = resolved
        inputs.setdefault(stream.target, []).append(resolved)
    ingest: dict[str, ResolvedStream] = {}
    for name, processor in topology.processors.items():
        if processor.input == "stream":
            ingest[name] = streams[ingest_stream_name(name)] = ResolvedStream(
                name=ingest_stream_name(name),
                construct_id=ingest_stream_id(name),
                physical_name=physical_stream_name(topology.name, ingest_stream_id(name)),
                producer=None,
                consumer=name,
                topic=None,
                settings=topology.ingest_settings,
                where=f"{processor.where.removesuffix('.handler')}.input",
            )
    outgoing = routes(topology)
    processors = {
        name: ResolvedProcessor(
            name=name,
            processor=processor,
            routes=outgoing[name],
            inputs=tuple(inputs[name]),
            ingest=ingest.get(name),
        )
        for name, processor in topology.processors.items()
    }
    return ResolvedTopology(topology, streams, processors)
