"""The topology as a graph: routing, entry processors, reachability, cycles, and all naming.

Every name attak derives from a topology (construct ids, the local stream names the
simulator uses, the routes handed to the runtime) is made here and only here, so the
simulator, the CDK stack and the live commands can never disagree about one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .model import Processor, Stream, Topology

_WORD = re.compile(r"[A-Za-z0-9]+")


def pascal(name: str) -> str:
    """``hello_world spout`` -> ``HelloWorldSpout``: the form construct ids are built from."""
    return "".join(word[:1].upper() + word[1:] for word in _WORD.findall(name))


def function_id(processor: str) -> str:
    """The construct id of a processor's Lambda function."""
    return f"{pascal(processor)}Function"


def stream_id(stream: Stream) -> str:
    """The construct id of a stream: ``HelloWorldSpoutToReverseStream`` (topic included)."""
    topic = pascal(stream.topic) if stream.topic else ""
    return f"{pascal(stream.source)}To{pascal(stream.target)}{topic}Stream"


def ingest_stream_id(processor: str) -> str:
    """The construct id of the ingest stream of a processor declared with ``input: stream``."""
    return f"{pascal(processor)}InputStream"


def logical_id(parts: Iterable[str]) -> str:
    """A CloudFormation logical id from construct-path parts: letters and digits only,
    at most 255 characters (``Reverse``, ``Function`` -> ``ReverseFunction``)."""
    return "".join(pascal(part) for part in parts)[:255]


def stream_name(stream: Stream) -> str:
    """The readable local name of a stream: ``from->to`` or ``from->to[topic]``."""
    topic = f"[{stream.topic}]" if stream.topic else ""
    return f"{stream.source}->{stream.target}{topic}"


def ingest_stream_name(processor: str) -> str:
    """The local name of a processor's ingest stream."""
    return f"input->{processor}"


def stream_targets(topology: Topology) -> dict[str, str]:
    """Every local stream name (ingest streams included) -> the processor that reads it."""
    targets = {stream_name(s): s.target for s in topology.streams}
    for name, processor in topology.processors.items():
        if processor.input == "stream":
            targets[ingest_stream_name(name)] = name
    return targets


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

    The CDK stack passes the deployed stream names (tokens) as ``physical_names``; the
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
