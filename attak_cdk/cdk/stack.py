"""``TopologyStack``: the stack ``attak synth`` and ``cdk deploy`` build for a topology.

Its logical ids are read from the construct tree rather than hashed, so a CloudFormation
review reads ``ReverseFunction``, ``HelloWorldSpoutToReverseStream``,
``ReverseDeadLetterQueue``. They are a public contract: renaming a processor or a stream
replaces its resources, and nothing else does.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Environment, Stack
from constructs import Construct

from .. import graph
from ..model import Topology as TopologyModel
from .nag import acknowledge_findings
from .topology import Topology

TOPOLOGY_ID = "Topology"
_DROPPED = {"Resource", "Default"}


class TopologyStack(Stack):
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
            scope,
            topology.name,
            env=env,
            description=f"attak topology '{topology.name}'",
        )
        self._owners: dict[str, str] = {}
        """Readable logical id -> the construct path it was given to (CDK asks repeatedly)."""
        self.topology = Topology(self, TOPOLOGY_ID, topology=topology, **topology_options)
        acknowledge_findings(self)

    def _allocate_logical_id(self, cfn_element: Any) -> str:
        full_path = cfn_element.node.path
        path = full_path.split("/")[1:]  # below the stack
        if path[:1] == [TOPOLOGY_ID]:
            path = path[1:]
        readable = graph.logical_id(part for part in path if part not in _DROPPED)
        owner = self._owners.setdefault(readable, full_path)
        if not readable or owner != full_path:  # taken: CDK's hashed id keeps it unique
            return str(super()._allocate_logical_id(cfn_element))
        return readable
