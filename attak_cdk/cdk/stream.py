"""``TopologyStream``: one Kinesis data stream of a topology, encrypted at rest."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kinesis as kinesis
from constructs import Construct

from ..model import StreamSettings
from . import values


class TopologyStream(Construct):
    """A Kinesis data stream carrying records between processors.

    - ``name``: its name in AWS (``graph.physical_stream_name``), fixed at synth so that
      each processor's routes can be written into its asset.
    - ``settings.shards``: provisioned shard count; ``None`` (the default) is on-demand.
    - ``settings.retention_hours``: how long records stay readable. Default: 24 hours.

    Encryption at rest uses the AWS-managed Kinesis key (no key to manage or pay for).
    """

    def __init__(self, scope: Construct, id: str, *, name: str, settings: StreamSettings) -> None:
        super().__init__(scope, id)
        self.construct_id = id
        """This construct's id, kept on the Python side (``node.id`` is a call into Node)."""
        self.settings = settings
        self.name = name
        """Its name in AWS, kept on the Python side (no token: known at synth)."""
        provisioned = settings.shards is not None
        # "Default" makes this the construct's default child, so ids read `<Name>Stream`.
        self.stream = kinesis.Stream(
            self,
            "Default",
            stream_name=name,
            encryption=kinesis.StreamEncryption.MANAGED,
            stream_mode=kinesis.StreamMode.PROVISIONED
            if provisioned
            else kinesis.StreamMode.ON_DEMAND,
            shard_count=settings.shards if provisioned else None,
            retention_period=values.hours(settings.retention_hours),
            # A stream is a buffer between processors, not a store: `attak destroy` removes
            # it with the rest instead of leaving it behind, billed by the hour.
            removal_policy=RemovalPolicy.DESTROY,
        )
