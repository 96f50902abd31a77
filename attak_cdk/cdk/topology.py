"""``Topology``: a whole topology as one construct, for attak's stack or your own CDK app.

Every processor becomes a ``ProcessorFunction``, every stream a ``TopologyStream`` mapped
into its consumer; a processor declared ``input: stream`` also gets an ingest stream.
Entries without one are invoked directly. Each function may write only to the streams
it emits into and read only, through its mappings, the streams it consumes.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, CfnResource, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_logs as logs
from constructs import Construct

from .. import graph
from ..errors import AttakError
from ..model import StreamSettings
from ..model import Topology as TopologyModel
from .asset import AssetStager, handler_module
from .processor import ProcessorFunction, ProcessorFunctionProps
from .stream import TopologyStream

MAX_CREATING_STREAMS = 5
"""Kinesis refuses a sixth stream while five are CREATING: streams are created in waves."""
MAX_STACK_RESOURCES = 500
"""CloudFormation's limit of resources in one stack."""
MANIFEST_VERSION = 1


class TopologyTooLarge(AttakError):
    """The topology needs more resources than one CloudFormation stack may hold."""


class Topology(Construct):
    """All processors and streams of a topology.

    ``topology``: the model, e.g. ``load_topology("pipeline/")``.
    ``architecture``: Lambda architecture. Default: ``arm64``.
    ``log_retention``: how long processors' logs are kept. Default: two weeks.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        topology: TopologyModel,
        architecture: str = "arm64",
        log_retention: logs.RetentionDays = logs.RetentionDays.TWO_WEEKS,
    ) -> None:
        super().__init__(scope, id)
        self.model = topology
        stager = AssetStager(architecture)
        self.processors: dict[str, ProcessorFunction] = {
            name: ProcessorFunction(
                self,
                graph.pascal(name),
                props=ProcessorFunctionProps(
                    processor=name,
                    topology=topology.name,
                    asset=stager.stage(processor),
                    handler=handler_module(processor),
                    memory=processor.memory,
                    timeout=processor.timeout,
                    reserved_concurrency=processor.reserved_concurrency,
                    environment=dict(processor.environment),
                    max_hops=topology.max_hops,
                    architecture=architecture,
                    log_retention=log_retention,
                ),
            )
            for name, processor in topology.processors.items()
        }
        self.streams: dict[str, TopologyStream] = {}
        """Local stream name (``a->b[topic]``, ``input->a``) -> its construct."""
        for stream in topology.streams:
            built = TopologyStream(self, graph.stream_id(stream), settings=stream.settings)
            self.streams[graph.stream_name(stream)] = built
            self.processors[stream.target].read_from(built, stream.settings)
            self.processors[stream.source].write_to(built)
        for name, processor in topology.processors.items():
            if processor.input == "stream":
                ingest = TopologyStream(
                    self, graph.ingest_stream_id(name), settings=StreamSettings()
                )
                self.streams[graph.ingest_stream_name(name)] = ingest
                self.processors[name].read_from(ingest, ingest.settings)
        self._create_streams_in_waves()
        physical = {local: built.stream.stream_name for local, built in self.streams.items()}
        for name, outgoing in graph.routes(topology).items():
            self.processors[name].set_routes(graph.routes_payload(outgoing, physical))
        self._outputs()
        self.dashboard = self._dashboard()
        self._check_size()

    def _create_streams_in_waves(self) -> None:
        streams = [s.stream.node.default_child for s in self.streams.values()]
        for index in range(MAX_CREATING_STREAMS, len(streams)):
            streams[index].node.add_dependency(streams[index - MAX_CREATING_STREAMS])  # type: ignore[union-attr]

    def _outputs(self) -> None:
        stack = Stack.of(self)
        for name, processor in self.processors.items():
            CfnOutput(
                self,
                f"{graph.function_id(name)}Name",
                value=processor.function.function_name,
                description=f"Lambda function of processor '{name}'",
            )
        for local, built in self.streams.items():
            CfnOutput(
                self,
                f"{built.node.id}Name",
                value=built.stream.stream_name,
                description=f"Kinesis stream {local}",
            )
        inputs = graph.incoming(self.model)
        outgoing = graph.routes(self.model)
        manifest = {
            "version": MANIFEST_VERSION,
            "topology": self.model.name,
            "processors": {
                name: {
                    "function": processor.function.function_name,
                    "log_group": processor.log_group.log_group_name,
                    "dead_letter_queue": processor.dead_letter_queue.queue_url,
                    "ingest_stream": self.streams[graph.ingest_stream_name(name)].stream.stream_name
                    if graph.ingest_stream_name(name) in self.streams
                    else None,
                    "inputs": [graph.stream_name(s) for s in inputs[name]],
                    "outputs": [route.stream for route in outgoing[name]],
                }
                for name, processor in self.processors.items()
            },
            "streams": {local: built.stream.stream_name for local, built in self.streams.items()},
        }
        CfnOutput(
            self,
            "Manifest",
            value=stack.to_json_string(manifest),
            description="attak manifest: how `attak trigger` and `attak logs` find this topology",
        )

    def _dashboard(self) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(self, "Dashboard")
        for name, processor in self.processors.items():
            function = processor.function
            dashboard.add_widgets(
                cloudwatch.GraphWidget(
                    title=f"{name}: invocations and errors",
                    left=[function.metric_invocations(), function.metric_errors()],
                    width=12,
                ),
                cloudwatch.GraphWidget(
                    title=f"{name}: iterator age (ms) and dead letters",
                    left=[function.metric("IteratorAge", statistic="Maximum")],
                    right=[
                        processor.dead_letter_queue.metric_approximate_number_of_messages_visible()
                    ],
                    width=12,
                ),
            )
        return dashboard

    def _check_size(self) -> None:
        count = sum(1 for c in Stack.of(self).node.find_all() if isinstance(c, CfnResource))
        if count > MAX_STACK_RESOURCES:
            raise TopologyTooLarge(
                f"topology '{self.model.name}' needs {count} CloudFormation resources "
                f"({len(self.processors)} processors, {len(self.streams)} streams); one stack "
                f"holds at most {MAX_STACK_RESOURCES}: split it into several topologies "
                "(about 45 processors fit in one)"
            )
