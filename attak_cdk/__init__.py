"""attak: streaming pipelines of Python processors joined by streams.

The package stays light on import: loading, validating and simulating a topology never
imports ``aws_cdk`` (jsii starts a Node process). The CDK constructs live in
``attak_cdk.cdk`` and are imported only by the commands that synthesize.
"""

from __future__ import annotations

__version__ = "0.1.0"
