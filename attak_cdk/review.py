"""The review summary of a synthesized stack: what a reviewer checks before deploying.

Read from the template itself (not from the topology), so it shows what CloudFormation
will be asked to create: resources by type; per function its memory, timeout, the
streams it reads (through mappings) and writes (through its IAM policy), and the settings
it has that attak does not give every function (layers, VPC, tracing...), and its HTTPS
endpoint if it has a function URL, with its auth in words; per stream its
mode, shards, consumer and the consumer's dead-letter queue.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from . import graph
from .endpoint import HttpEndpoint
from .model import Topology
from .references import in_words
from .schedules import describe
from .settings import DEFAULT_ARCHITECTURE, DEFAULT_PYTHON

Template = dict[str, Any]
KINESIS = "AWS::Kinesis::Stream"
LAMBDA = "AWS::Lambda::Function"
FUNCTION_URL = "AWS::Lambda::Url"
RULE = "AWS::Events::Rule"


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
    schedule: str = ""
    """The EventBridge rule invoking it, in words (``every 5 minutes (rate(5 minutes)),
    with the scheduled time``), or empty."""
    settings: list[str] = field(default_factory=list)
    """Its settings that differ from every function's, in words (``Python 3.12``,
    ``X-Ray active tracing``)."""
    endpoint: str | None = None
    """Its function URL, in words (``HTTPS endpoint, IAM auth``), or None."""
    configuration: list[str] = field(default_factory=list)
    """The environment values its runtime reads at cold start, in words (``DB_PASSWORD
    from field 'password' of Secrets Manager secret prod/db``)."""


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
    return table


def granted(topology: Topology) -> dict[str, list[str]]:
    """Function logical id -> its processor's ``grants:`` in words. A grant's policy is
    built from the topology's words, so they are read there rather than from the
    template's statements."""
    return {
        graph.function_id(name): [grant.words for grant in processor.grants]
        for name, processor in topology.processors.items()
        if processor.grants
    }


def configured(topology: Topology) -> dict[str, list[str]]:
    """Function logical id -> the SSM parameters and secrets its environment references,
    in words: the template holds only the references, as JSON in one variable."""
    return {
        graph.function_id(name): in_words(processor.references)
        for name, processor in topology.processors.items()
        if processor.references
    }


def review(stack: str, template: Template) -> Review:
    """The review of one stack that stands alone."""
    return review_stacks({stack: template})[0]


def review_stacks(
    templates: dict[str, Template],
    grants: dict[str, list[str]] | None = None,
    configuration: dict[str, list[str]] | None = None,
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
    schedules: dict[str, str] = {}
    consumers: dict[str, list[str]] = {k: [] for k in streams}
    queues: dict[str, list[str]] = {k: [] for k in streams}
    endpoints: dict[str, str] = {}
    for found in resources.values():
        functions = {k for k, r in found.items() if r["Type"] == LAMBDA}
        role_of = {k: _target(found[k]["Properties"].get("Role")) for k in functions}
        for function in functions:
            reads[function], writes[function] = [], set()
        for resource in found.values():
            properties = resource.get("Properties", {})
            if resource["Type"] == "AWS::IAM::Policy":
                targets = _written_streams(properties, exports) & streams
                roles = {_target(r) for r in properties.get("Roles", [])}
                for function, role in role_of.items():
                    if role in roles:
                        writes[function] |= targets
            elif resource["Type"] == FUNCTION_URL:
                target = _target(properties.get("TargetFunctionArn"))
                if target is not None:
                    auth = "none" if properties.get("AuthType") == "NONE" else "iam"
                    endpoints[target] = HttpEndpoint(auth=auth).words
            elif resource["Type"] == "AWS::Lambda::EventSourceMapping":
                reader = _target(properties.get("FunctionName"))
                source = _target(properties.get("EventSourceArn"), exports)
                if reader in functions and source in streams:
                    assert reader is not None and source is not None
                    reads[reader].append(source)
                    consumers[source].append(reader)
                    destination = properties.get("DestinationConfig", {}).get("OnFailure", {})
                    queue = _target(destination.get("Destination"))
                    if queue is not None:
                        queues[source].append(queue)
            elif resource["Type"] == RULE and "ScheduleExpression" in properties:
                for target in properties.get("Targets", []):
                    function = _target(target.get("Arn"))
                    if function in functions:
                        assert function is not None
                        schedules[function] = _scheduled(properties, target)
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
                    schedule=schedules.get(k, ""),
                    settings=function_settings(r["Properties"]),
                    endpoint=endpoints.get(k),
                    configuration=list((configuration or {}).get(k, [])),
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


def _scheduled(rule: dict[str, Any], target: dict[str, Any]) -> str:
    """A scheduled rule's target in words: when, and with which event."""
    expression = str(rule["ScheduleExpression"])
    words = describe(expression)
    if expression not in words:
        words += f" ({expression})"
    event = "a constant event" if "Input" in target else "the scheduled time"
    return f"{words}, with {event}"


def function_settings(properties: dict[str, Any]) -> list[str]:
    """A function's settings, from its template properties, that differ from those attak
    gives every function: its runtime and architecture, layers, VPC, reserved
    concurrency, ``/tmp`` size and X-Ray tracing, in words."""
    said: list[str] = []
    runtime = str(properties.get("Runtime", ""))
    if runtime and runtime != f"python{DEFAULT_PYTHON}":
        said.append(runtime.replace("python", "Python "))
    architectures = properties.get("Architectures", [DEFAULT_ARCHITECTURE])
    if architectures != [DEFAULT_ARCHITECTURE]:
        said.append(", ".join(map(str, architectures)))
    layers = _as_list(properties.get("Layers", []))
    if layers:
        said.append("layers " + ", ".join(map(str, layers)))
    vpc = properties.get("VpcConfig")
    if isinstance(vpc, dict):
        said.append(
            "in VPC subnets "
            + ", ".join(map(str, vpc.get("SubnetIds", [])))
            + " with security groups "
            + ", ".join(map(str, vpc.get("SecurityGroupIds", [])))
        )
    if "ReservedConcurrentExecutions" in properties:
        said.append(f"reserved concurrency {properties['ReservedConcurrentExecutions']}")
    storage = properties.get("EphemeralStorage", {}).get("Size")
    if storage is not None:
        said.append(f"/tmp {storage} MB")
    if properties.get("TracingConfig", {}).get("Mode") == "Active":
        said.append("X-Ray active tracing")
    return said


def _written_streams(policy: dict[str, Any], exports: dict[str, str]) -> set[str]:
    """The logical ids an IAM policy lets put records into."""
    written: set[str] = set()
    for statement in policy.get("PolicyDocument", {}).get("Statement", []):
        actions = _as_list(statement.get("Action", []))
        if any(str(a).startswith("kinesis:PutRecord") for a in actions):
            for resource in _as_list(statement.get("Resource")):
                target = _target(resource, exports)
                if target is not None:
                    written.add(target)
    return written
