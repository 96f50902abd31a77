"""The review summary of a synthesized stack: what a reviewer checks before deploying.

Read from the template itself (not from the topology), so it shows what CloudFormation
will be asked to create: resources by type; per function its memory, timeout, and the
streams it reads (through mappings) and writes (through its IAM policy); per stream its
mode, shards, consumer and the consumer's dead-letter queue.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from . import graph
from .model import Topology

Template = dict[str, Any]


@dataclass(frozen=True)
class FunctionReview:
    logical_id: str
    memory: int
    timeout: int
    reads: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StreamReview:
    logical_id: str
    mode: str
    shards: int | None
    retention_hours: int
    consumers: list[str] = field(default_factory=list)
    dead_letter_queues: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Review:
    stack: str
    resources: dict[str, int]
    functions: list[FunctionReview]
    streams: list[StreamReview]

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "resources": self.resources,
            "functions": [vars(f) for f in self.functions],
            "streams": [vars(s) for s in self.streams],
        }


def _target(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points at."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def names(topology: Topology) -> dict[str, str]:
    """Logical id -> the topology's own name for it (processor, stream, DLQ), so a review
    speaks the user's words. Valid for ``TopologyStack``'s readable logical ids."""
    table = {}
    for name in topology.processors:
        table[graph.function_id(name)] = name
        table[f"{graph.pascal(name)}DeadLetterQueue"] = f"{name} DLQ"
        table[graph.ingest_stream_id(name)] = graph.ingest_stream_name(name)
    for stream in topology.streams:
        table[graph.stream_id(stream)] = graph.stream_name(stream)
    return table


def review(stack: str, template: Template) -> Review:
    resources: dict[str, Any] = template.get("Resources", {})
    counts = Counter(r["Type"] for r in resources.values())
    functions = {k: r for k, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}
    streams = {k: r for k, r in resources.items() if r["Type"] == "AWS::Kinesis::Stream"}
    role_of = {k: _target(r["Properties"].get("Role")) for k, r in functions.items()}
    writes: dict[str, set[str]] = {k: set() for k in functions}
    for resource in resources.values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        roles = {_target(r) for r in resource["Properties"].get("Roles", [])}
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            actions = _as_list(statement.get("Action", []))
            if not any(str(a).startswith("kinesis:PutRecord") for a in actions):
                continue
            targets = {_target(r) for r in _as_list(statement.get("Resource"))} & set(streams)
            for function, role in role_of.items():
                if role in roles:
                    writes[function] |= {t for t in targets if t}
    reads: dict[str, list[str]] = {k: [] for k in functions}
    consumers: dict[str, list[str]] = {k: [] for k in streams}
    queues: dict[str, list[str]] = {k: [] for k in streams}
    for resource in resources.values():
        if resource["Type"] != "AWS::Lambda::EventSourceMapping":
            continue
        properties = resource["Properties"]
        reader = _target(properties.get("FunctionName"))
        source = _target(properties.get("EventSourceArn"))
        if reader in reads and source in consumers:
            assert reader is not None and source is not None
            reads[reader].append(source)
            consumers[source].append(reader)
            destination = properties.get("DestinationConfig", {}).get("OnFailure", {})
            queue = _target(destination.get("Destination"))
            if queue is not None:
                queues[source].append(queue)
    return Review(
        stack=stack,
        resources=dict(sorted(counts.items())),
        functions=[
            FunctionReview(
                logical_id=k,
                memory=int(r["Properties"].get("MemorySize", 128)),
                timeout=int(r["Properties"].get("Timeout", 3)),
                reads=reads[k],
                writes=sorted(writes[k]),
            )
            for k, r in functions.items()
        ],
        streams=[
            StreamReview(
                logical_id=k,
                mode=r["Properties"].get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED"),
                shards=r["Properties"].get("ShardCount"),
                retention_hours=int(r["Properties"].get("RetentionPeriodHours", 24)),
                consumers=consumers[k],
                dead_letter_queues=queues[k],
            )
            for k, r in streams.items()
        ],
    )
