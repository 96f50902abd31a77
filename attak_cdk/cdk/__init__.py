"""CDK constructs for attak topologies: import this only where synthesizing (it loads jsii).

from attak_cdk.cdk import Topology
from attak_cdk.project import load_topology

Topology(self, "Pipeline", topology=load_topology("pipeline/"))
"""

from __future__ import annotations

from .processor import ProcessorFunction, ProcessorFunctionProps
from .stack import TopologyStack
from .stream import TopologyStream
from .topology import Topology

__all__ = [
    "ProcessorFunction",
    "ProcessorFunctionProps",
    "Topology",
    "TopologyStack",
    "TopologyStream",
]
