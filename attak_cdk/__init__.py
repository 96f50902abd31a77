"""attak: streaming pipelines of Python processors joined by streams.

The package stays light on import: loading, validating and simulating a topology never
imports ``aws_cdk`` (jsii starts a Node process). The CDK constructs live in
``attak_cdk.cdk``; ``attak_cdk.Topology``, the construct for your own CDK app, is the
same class, imported from there only when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .cdk.topology import Topology as Topology

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # PEP 562: `attak_cdk.Topology` loads the CDK only when it is asked for.
    if name == "Topology":
        from .cdk.topology import Topology

        return Topology
    raise AttributeError(f"module 'attak_cdk' has no attribute '{name}'")
