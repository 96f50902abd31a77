"""The stacks attak builds for a topology: one ``TopologyStack``, or several when large.

Logical ids are read from the construct tree rather than hashed, so a CloudFormation
review reads ``ReverseFunction``, ``HelloWorldSpoutToReverseStream``,
``ReverseDeadLetterQueue``. They are a public contract: renaming a processor or a stream
replaces its resources, and nothing else does.

A topology past CloudFormation's 500 resources per stack is spread over several stacks
(``build_stacks``): its streams in ``<name>-streams-N`` stacks, its processors in
``<name>-N`` stacks that reference those streams (CDK turns the references into exports
and imports). Processor stacks depend only on stream stacks, so loops in the topology
never become loops between stacks. Each processor stack carries the manifest part of its
own processors (``part`` N of ``parts``); ``attak_cdk.live`` reads and joins them all.
``build_stacks`` returns the stacks as ``TopologyStacks``, which finds each function and
stream by the topology's names wherever it was placed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import App, CfnElement, CfnOutput, CfnResource, Environment, Stack
from constructs import Construct

from .. import graph
from ..model import Topology as TopologyModel
from ..stacks import (
    MAX_PROCESSORS_PER_STACK,
    MAX_STREAMS_PER_STACK,
    PROCESSOR_RESOURCES,
    RESOURCE_BUDGET,
    estimate_resources,
    fits_one_stack,
    processor_stacks,
    stream_stacks,
)
from .nag import acknowledge_findings
from .parts import TopologyParts
from .topology import MAX_STACK_RESOURCES, Topology, build

TOPOLOGY_ID = "Topology"
_DROPPED = {"Resource", "Default"}


class ReadableIdsStack(Stack):
    """A stack whose topology resources get their constructs' paths as logical ids.

    Call ``name_resources`` once everything is built. (Overriding the stack's
    ``allocateLogicalId`` would do the same, but the CDK asks for every id each time
    something refers to it, and each question crosses from Node into Python: that was
    three quarters of a synthesis. Naming once costs one pass over the tree: a call into
    Node to read each element's path, and one to set its id.)
    """

    def name_resources(self, known: Mapping[CfnOutput, str] | None = None) -> None:
        """Give each CloudFormation element under ``Topology`` its readable logical id;
        an id two elements would share stays CDK's hashed one, which is unique.

        ``known``: elements made from Python directly in the ``Topology`` scope (its
        outputs), with their ids there, so that only the others are asked for their path.
        """
        known = known or {}
        prefix = f"{self.node.path}/{TOPOLOGY_ID}/"
        wanted: dict[str, list[CfnElement]] = {}
        for construct in self.node.find_all():
            if isinstance(construct, CfnElement):
                relative = known.get(construct) if isinstance(construct, CfnOutput) else None
                if relative is None:
                    path = _path(construct)
                    if not path.startswith(prefix):
                        continue
                    relative = path[len(prefix) :]
                parts = relative.split("/")
                readable = graph.logical_id(p for p in parts if p not in _DROPPED)
                wanted.setdefault(readable, []).append(construct)
        for readable, elements in wanted.items():
            if readable and len(elements) == 1:
                elements[0].override_logical_id(readable)


def _path(element: CfnElement) -> str:
    """The element's construct path, in one call into Node (``node.path`` takes two): its
    ``toString()``, which a ``CfnResource`` ends with its type, `` [AWS::SQS::Queue]``."""
    text = element.to_string()
    return text[: text.rindex(" [")] if isinstance(element, CfnResource) else text


class TopologyStack(ReadableIdsStack):
    """One CloudFormation stack, named after the topology, holding its ``Topology``."""

    def __init__(
        self,
        scope: Construct,
        *,
        topology: TopologyModel,
        env: Environment | None = None,
        **topology_options: Any,
    ) -> None:
        super().__init__(
            scope, topology.name, env=env, description=f"attak topology '{topology.name}'"
        )
        self.topology = Topology(self, TOPOLOGY_ID, topology=topology, **topology_options)
        self.name_resources(self.topology.outputs)


class TopologyStacks(TopologyParts):
    """The stacks attak's app builds for a topology, and the parts in them, found by name
    as in a ``Topology`` construct (``function("archive")``, ``stream("parse",
    "archive")``, ...), wherever each part was placed.

    ``stacks``: one ``TopologyStack``, or, for a topology past one stack, its stream
    stacks then its processor stacks. A resource of yours granted or wired to a part
    belongs in that part's stack (``Stack.of(stacks.function("archive"))``) or in a stack
    of its own: the CDK makes the exports and imports a reference between stacks needs.
    """

    def __init__(self, stacks: list[ReadableIdsStack], parts: TopologyParts) -> None:
        super().__init__(parts.model, parts.processors, parts._stream_constructs)
        self.stacks = stacks


def build_stacks(
    app: App, topology: TopologyModel, env: Environment | None = None
) -> TopologyStacks:
    """The stacks for ``topology``: one when it fits, else streams and processors apart."""
    if fits_one_stack(topology):
        whole = TopologyStack(app, topology=topology, env=env)
        return TopologyStacks([whole], whole.topology)
    layout = _SplitLayout(app, topology, env)
    built = build(layout, topology)
    acknowledge_findings(built.processors.values())
    for stack in layout.stacks:
        stack.name_resources(built.outputs)
    return TopologyStacks(layout.stacks, TopologyParts(topology, built.processors, built.streams))


class _SplitLayout:
    """Places streams in stream stacks and processors in processor stacks, in order."""

    def __init__(self, app: App, topology: TopologyModel, env: Environment | None) -> None:
        self.app, self.topology, self.env = app, topology, env
        self.stacks: list[ReadableIdsStack] = []
        self._scopes: dict[str, Construct] = {}
        self._processor_scopes: list[Construct] = []
        for part, names in enumerate(stream_stacks(topology), start=1):
            stream_scope = self._new_scope(f"{topology.name}-streams-{part}")
            for name in names:
                self._scopes[name] = stream_scope
        for part, names in enumerate(processor_stacks(topology), start=1):
            scope = self._new_scope(f"{topology.name}-{part}")
            self._processor_scopes.append(scope)
            for name in names:
                self._scopes[name] = scope

    def _new_scope(self, stack_name: str) -> Construct:
        stack = ReadableIdsStack(
            self.app,
            stack_name,
            env=self.env,
            description=f"attak topology '{self.topology.name}' (part {stack_name})",
        )
        self.stacks.append(stack)
        return Construct(stack, TOPOLOGY_ID)

    def processor_scope(self, name: str) -> Construct:
        return self._scopes[name]

    def stream_scope(self, name: str) -> Construct:
        return self._scopes[name]

    def manifest_scopes(self) -> list[Construct]:
        """Every processor stack, in part order: each holds the manifest of its own
        processors (a topology whose processors all fit one stack keeps one whole
        manifest, which is complete as it is)."""
        return list(self._processor_scopes)


__all__ = [
    "MAX_PROCESSORS_PER_STACK",
    "MAX_STACK_RESOURCES",
    "MAX_STREAMS_PER_STACK",
    "PROCESSOR_RESOURCES",
    "RESOURCE_BUDGET",
    "ReadableIdsStack",
    "TopologyStack",
    "TopologyStacks",
    "build_stacks",
    "estimate_resources",
]
