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
KINESIS = "AWS::Kinesis::Stream"
LAMBDA = "AWS::Lambda::Function"


@dataclass(frozen=True)
class FunctionReview:
    logical_id: str
    memory: int
    timeout: int
    reads: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    grants: list[str] = field(default_factory=list)
    """The topology's ``grants:`` of the function, in words (``read-write objects under
    logs/ in S3 bucket archive``)."""


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


def _target(value: Any, exports: dict[str, str] | None = None) -> str | None:
    """The logical id a ``Ref``, ``Fn::GetAtt`` or (with ``exports``) ``Fn::ImportValue``
    points at: a split topology's processor stacks import their streams."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
        if "Fn::ImportValue" in value and exports:
            return exports.get(str(value["Fn::ImportValue"]))
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def names(topology: Topology) -> dict[str, str]:
    """Logical id -> the topology's own name for it (processor, stream, DLQ), so a review
    speaks the user's words. Valid for ``TopologyStack``'s readable logical ids."""
    resolved = graph.resolve(topology)
    table = {}
    for name in resolved.processors:
        table[graph.function_id(name)] = name
        table[graph.dead_letter_queue_id(name)] = f"{name} DLQ"
    for local, stream in resolved.streams.items():
        table[stream.construct_id] = local
    # An existing stream is named by its ARN in the template (``_external``).
    for edge in resolved.topology.external.values():
        table[edge.arn] = f"{edge.name} (external {edge.kind})"
    return table


def _external(value: Any) -> str | None:
    """An existing stream's ARN written as it is (``external:``): not one of the stack's."""
    if isinstance(value, str) and value.startswith("arn:") and ":kinesis:" in value:
        return value
    if isinstance(value, str) and value.startswith("arn:") and ":firehose:" in value:
        return value
    return None


def granted(topology: Topology) -> dict[str, list[str]]:
    """Function logical id -> its processor's ``grants:`` in words. A grant's policy is
    built from the topology's words, so they are read there rather than from the
    template's statements."""
    return {
        graph.function_id(name): [grant.words for grant in processor.grants]
        for name, processor in topology.processors.items()
        if processor.grants
    }


def review(stack: str, template: Template) -> Review:
    """The review of one stack that stands alone."""
    return review_stacks({stack: template})[0]


def review_stacks(
    templates: dict[str, Template], grants: dict[str, list[str]] | None = None
) -> list[Review]:
    """The review of each stack of one app, in order. A split topology's functions read
    and write streams of other stacks, and its streams are read from other stacks: those
    links are followed through the stacks' exports."""
    exports = {
        str(output["Export"]["Name"]): target
        for template in templates.values()
        for output in template.get("Outputs", {}).values()
        if isinstance(output.get("Export", {}).get("Name"), str)
        and (target := _target(output.get("Value"))) is not None
    }
    resources = {
        stack: dict(template.get("Resources", {})) for stack, template in templates.items()
    }
    streams = {k for found in resources.values() for k, r in found.items() if r["Type"] == KINESIS}
    reads: dict[str, list[str]] = {}
    writes: dict[str, set[str]] = {}
    consumers: dict[str, list[str]] = {k: [] for k in streams}
    queues: dict[str, list[str]] = {k: [] for k in streams}
    for found in resources.values():
        functions = {k for k, r in found.items() if r["Type"] == LAMBDA}
        role_of = {k: _target(found[k]["Properties"].get("Role")) for k in functions}
        for function in functions:
            reads[function], writes[function] = [], set()
        for resource in found.values():
            properties = resource.get("Properties", {})
            if resource["Type"] == "AWS::IAM::Policy":
                targets = {
                    t
                    for t in _written_streams(properties, exports)
                    if t in streams or _external(t) is not None
                }
                roles = {_target(r) for r in properties.get("Roles", [])}
                for function, role in role_of.items():
                    if role in roles:
                        writes[function] |= targets
            elif resource["Type"] == "AWS::Lambda::EventSourceMapping":
                reader = _target(properties.get("FunctionName"))
                arn = properties.get("EventSourceArn")
                source = _target(arn, exports) or _external(arn)
                if reader in functions and source in streams:
                    assert reader is not None and source is not None
                    reads[reader].append(source)
                    consumers[source].append(reader)
                    destination = properties.get("DestinationConfig", {}).get("OnFailure", {})
                    queue = _target(destination.get("Destination"))
                    if queue is not None:
                        queues[source].append(queue)
                elif reader is not None and reader in functions and source is not None:
                    reads[reader].append(source)  # an existing stream, by its ARN
    return [
        Review(
            stack=stack,
            resources=dict(sorted(Counter(r["Type"] for r in found.values()).items())),
            functions=[
                FunctionReview(
                    logical_id=k,
                    memory=int(r["Properties"].get("MemorySize", 128)),
                    timeout=int(r["Properties"].get("Timeout", 3)),
                    reads=reads[k],
                    writes=sorted(writes[k]),
                    grants=list((grants or {}).get(k, [])),
                )
                for k, r in found.items()
                if r["Type"] == LAMBDA
            ],
            streams=[
                StreamReview(
                    logical_id=k,
                    mode=r["Properties"]
                    .get("StreamModeDetails", {})
                    .get("StreamMode", "PROVISIONED"),
                    shards=r["Properties"].get("ShardCount"),
                    retention_hours=int(r["Properties"].get("RetentionPeriodHours", 24)),
                    consumers=consumers[k],
                    dead_letter_queues=queues[k],
                )
                for k, r in found.items()
                if r["Type"] == KINESIS
            ],
        )
        for stack, found in resources.items()
    ]


def _written_streams(policy: dict[str, Any], exports: dict[str, str]) -> set[str]:
    """The logical ids an IAM policy lets put records into."""
    written: set[str] = set()
    for statement in policy.get("PolicyDocument", {}).get("Statement", []):
        actions = _as_list(statement.get("Action", []))
        if any(str(a).startswith(("kinesis:PutRecord", "firehose:PutRecord")) for a in actions):
            for resource in _as_list(statement.get("Resource")):
                target = _target(resource, exports) or _external(resource)
                if target is not None:
                    written.add(target)
    return written
