"""CDK constructs for attak topologies: import this only where synthesizing (it loads jsii).

from attak_cdk.cdk import Topology

topology = Topology(self, "Pipeline", topology="pipeline/")
bucket.grant_write(topology.function("archive"))
"""

from __future__ import annotations

from .parts import AmbiguousStream, TopologyParts, UnknownPart
from .processor import ProcessorFunction, ProcessorFunctionProps
from .stack import TopologyStack, TopologyStacks, build_stacks
from .stream import TopologyStream
from .topology import Topology

__all__ = [
    "AmbiguousStream",
    "ProcessorFunction",
    "ProcessorFunctionProps",
    "Topology",
    "TopologyParts",
    "TopologyStack",
    "TopologyStacks",
    "TopologyStream",
    "UnknownPart",
    "build_stacks",
]
