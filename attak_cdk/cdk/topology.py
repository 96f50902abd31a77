"""``Topology``: a whole topology as one construct, for attak's stack or your own CDK app.

Every processor becomes a ``ProcessorFunction``, every stream a ``TopologyStream`` mapped
into its consumer; a processor declared ``input: stream`` also gets an ingest stream.
Entries without one are invoked directly. Each function may write only to the streams
it emits into and read only, through its mappings, the streams it consumes.

The building itself (``build``) takes a ``Placement`` saying which scope each part goes
in: the ``Topology`` construct puts everything in itself; ``stack.build_stacks`` spreads a
large topology over several stacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from aws_cdk import CfnOutput, CfnResource, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_logs as logs
from constructs import Construct

from .. import graph, manifest
from ..errors import AttakError
from ..model import Topology as TopologyModel
from ..project import load_topology
from ..runtime import config
from ..settings import DEFAULT_PYTHON
from .alerts import AlertTopic
from .asset import AssetStager
from .nag import acknowledge_findings
from .parts import TopologyParts
from .processor import ProcessorFunction, ProcessorFunctionProps
from .stream import TopologyStream

MAX_CREATING_STREAMS = 5
"""Kinesis refuses a sixth stream while five are CREATING: streams are created in waves."""
MAX_STACK_RESOURCES = 500
"""CloudFormation's limit of resources in one stack."""
ALERTS_ID = "Alerts"
"""The construct id of a stack's alert topic (``AlertsTopic`` in its template)."""


class TopologyTooLarge(AttakError):
    """The topology needs more resources than one CloudFormation stack may hold."""


class Placement(Protocol):
    """Which scope each part of a topology is built in: asked again for the same part, it
    returns the same scope object (the outputs and dashboards find their scopes that way,
    without asking Node for each construct's parent)."""

    def processor_scope(self, name: str) -> Construct: ...

    def stream_scope(self, name: str) -> Construct: ...

    def manifest_scopes(self) -> list[Construct]:
        """The scopes that each get a ``Manifest`` output, in order; together they hold
        every processor.

        Each manifest lists the processors built in its scope and the streams those read
        or write. One scope gets the whole topology's manifest; several (a topology spread
        over processor stacks) each get a part numbered ``part`` of ``parts``, so no output
        grows with the whole topology and no stack reads another stack's processors.
        """
        ...


@dataclass(frozen=True)
class Built:
    """The constructs a topology was built into."""

    processors: dict[str, ProcessorFunction]
    streams: dict[str, TopologyStream]
    """Local stream name (``a->b[topic]``, ``input->a``) -> its construct."""
    outputs: dict[CfnOutput, str] = field(default_factory=dict)
    """Each output -> its id in the placement's scope it was made in."""


def build(
    placement: Placement,
    topology: TopologyModel,
    *,
    architecture: str = "arm64",
    log_retention: logs.RetentionDays = logs.RetentionDays.TWO_WEEKS,
) -> Built:
    """Create every resource of ``topology`` in the scopes ``placement`` gives."""
    stager = AssetStager(architecture)
    try:
        return _build(placement, topology, stager, architecture, log_retention)
    finally:
        stager.cleanup()  # the CDK copied each staged folder into the assembly already


def _build(
    placement: Placement,
    topology: TopologyModel,
    stager: AssetStager,
    architecture: str,
    log_retention: logs.RetentionDays,
) -> Built:
    resolved = graph.resolve(topology)
    names = _stream_names(placement, resolved)
    processors: dict[str, ProcessorFunction] = {}
    for name, processor in topology.processors.items():
        # A processor's own architecture and Python win over the stack's.
        machine = processor.architecture or architecture
        python = processor.python or DEFAULT_PYTHON
        routes = resolved.runtime_routes(name, names)
        processors[name] = ProcessorFunction(
            placement.processor_scope(name),
            graph.processor_id(name),
            props=ProcessorFunctionProps(
                processor=name,
                topology=topology.name,
                asset=stager.stage(processor, routes, architecture=machine, python=python),
                handler=graph.handler_module(processor),
                memory=processor.memory,
                timeout=processor.timeout,
                reserved_concurrency=processor.reserved_concurrency,
                environment=dict(processor.environment),
                grants=processor.grants,
                http=processor.http,
                references=dict(processor.references),
                schedule=processor.schedule,
                max_hops=topology.max_hops,
                trace_sampling=topology.trace_sampling,
                system_log_level=processor.system_log_level,
                architecture=machine,
                python=python,
                layers=processor.layers,
                vpc=processor.vpc,
                ephemeral_storage=processor.ephemeral_storage,
                tracing=processor.tracing,
                log_retention=log_retention,
            ),
        )
    streams: dict[str, TopologyStream] = {}
    for local, stream in resolved.streams.items():
        built = TopologyStream(
            placement.stream_scope(local),
            stream.construct_id,
            name=names[local],
            settings=stream.settings,
        )
        streams[local] = built
        processors[stream.consumer].read_from(built, stream.settings)
        if stream.producer is not None:
            processors[stream.producer].write_to(built)
    _create_in_waves(list(streams.values()))
    result = Built(processors, streams)
    _outputs(placement, resolved, result, names)
    _alerts(placement, topology, result)
    _dashboards(placement, result)
    return result


def _alerts(placement: Placement, topology: TopologyModel, built: Built) -> None:
    """With ``alerts:`` set, one alert topic in each scope holding processors, notified
    by every alarm of those processors, and an output naming it (to subscribe more)."""
    alerts = topology.alerts
    if not (alerts.emails or alerts.topics):
        return
    topics: dict[Construct, AlertTopic] = {}  # by scope identity
    for name, processor in built.processors.items():
        scope = placement.processor_scope(name)
        topic = topics.get(scope)
        if topic is None:
            topic = topics[scope] = AlertTopic(
                scope, ALERTS_ID, alerts=alerts, topology=topology.name
            )
            output_id = f"{ALERTS_ID}TopicArn"
            output = CfnOutput(
                scope,
                output_id,
                value=topic.topic.topic_arn,
                description="SNS topic the processors' alarms notify: subscribe to it",
            )
            built.outputs[output] = output_id
        topic.notify(processor.alarms)


def _stream_names(placement: Placement, resolved: graph.ResolvedTopology) -> dict[str, str]:
    """Each stream's name in AWS, prefixed with the name of the stack it is built in (see
    ``graph.physical_stream_name``). A stack's name is read once per scope (each read is a
    call into Node)."""
    stacks: dict[int, str] = {}
    names = {}
    for local, stream in resolved.streams.items():
        scope = placement.stream_scope(local)
        stack = stacks.get(id(scope))
        if stack is None:
            stack = stacks[id(scope)] = Stack.of(scope).stack_name
        names[local] = graph.physical_stream_name(stack, stream.construct_id)
    return names


def _create_in_waves(streams: list[TopologyStream]) -> None:
    """Each stream waits for the one five before it. (A construct's dependency is one on
    every resource under it, and a ``TopologyStream`` holds exactly one: its stream.)"""
    for index in range(MAX_CREATING_STREAMS, len(streams)):
        streams[index].node.add_dependency(streams[index - MAX_CREATING_STREAMS])


def _outputs(
    placement: Placement,
    resolved: graph.ResolvedTopology,
    built: Built,
    stream_names: dict[str, str],
) -> None:
    """Name outputs beside each function and stream; a manifest in each manifest scope.

    A manifest names only what its own stack holds or reads (its processors, and the
    streams they read or write, which come from stream stacks), so a processor stack
    never refers to another one and the manifests of a split topology stay small.
    ``stream_names``: each stream's name in AWS, known at synth (no call into Node).
    """

    def output(scope: Construct, id: str, *, value: str, description: str) -> None:
        built.outputs[CfnOutput(scope, id, value=value, description=description)] = id

    function_names = {name: p.function.function_name for name, p in built.processors.items()}
    for name in built.processors:
        output(
            placement.processor_scope(name),
            f"{graph.function_id(name)}Name",
            value=function_names[name],
            description=f"Lambda function of processor '{name}'",
        )
    for name, built_processor in built.processors.items():
        if built_processor.url is not None:
            endpoint = built_processor.props.http
            assert endpoint is not None  # the URL is made from it
            output(
                placement.processor_scope(name),
                f"{graph.function_id(name)}Url",
                value=built_processor.url.url,
                description=f"processor '{name}': {endpoint.words} (its function URL)",
            )
    for local, stream in built.streams.items():
        output(
            placement.stream_scope(local),
            f"{stream.construct_id}Name",
            value=stream_names[local],
            description=f"Kinesis stream {local}",
        )
    scopes = placement.manifest_scopes()
    members: dict[Construct, list[str]] = {scope: [] for scope in scopes}  # by identity
    for name in built.processors:
        members[placement.processor_scope(name)].append(name)

    def entry(name: str) -> manifest.DeployedProcessor:
        processor, resolved_processor = built.processors[name], resolved.processors[name]
        ingest = resolved_processor.ingest
        return manifest.DeployedProcessor(
            name=name,
            function=function_names[name],
            log_group=processor.log_group.log_group_name,
            dead_letter_queue=processor.dead_letter_queue.queue_url,
            ingest_stream=stream_names[ingest.name] if ingest is not None else None,
            inputs=tuple(s.name for s in resolved_processor.inputs),
            outputs=resolved_processor.writes,
            url=processor.url.url if processor.url is not None else None,
            url_auth=processor.props.http.auth if processor.props.http is not None else None,
        )

    for part, scope in enumerate(scopes, start=1):
        names = members[scope]
        used = {s.name for name in names for s in resolved.processors[name].reads}
        used.update(stream for name in names for stream in resolved.processors[name].writes)
        split = len(scopes) > 1
        written = manifest.Manifest(
            topology=resolved.name,
            processors={name: entry(name) for name in names},
            # Built order, so a whole topology's manifest lists its streams as it always has.
            streams={local: n for local, n in stream_names.items() if local in used},
            part=part if split else None,
            parts=len(scopes) if split else None,
        )
        of = f" (part {part} of {len(scopes)})" if split else ""
        output(
            scope,
            manifest.OUTPUT_KEY,
            value=Stack.of(scope).to_json_string(manifest.document(written)),
            description=f"{manifest.DESCRIPTION}: how `attak trigger` and `attak logs` find "
            f"this topology{of}",
        )


def _dashboards(placement: Placement, built: Built) -> None:
    """One dashboard per scope holding processors, so no stack reads another's metrics:
    a row of two graphs per processor."""
    rows: dict[Construct, list[list[cloudwatch.IWidget]]] = {}  # by scope identity
    for name, processor in built.processors.items():
        rows.setdefault(placement.processor_scope(name), []).append(_dashboard_row(processor))
    for scope, widgets in rows.items():
        # The rows given to the constructor, not added after: one call into Node fewer each.
        cloudwatch.Dashboard(scope, "Dashboard", widgets=widgets)


def _dashboard_row(processor: ProcessorFunction) -> list[cloudwatch.IWidget]:
    name, function = processor.props.processor, processor.function
    return [
        cloudwatch.GraphWidget(
            title=f"{name}: invocations and errors",
            left=[function.metric_invocations(), function.metric_errors()],
            width=8,
        ),
        # The runtime's own counts (its summary lines' metrics): no data is no failure.
        cloudwatch.GraphWidget(
            title=f"{name}: failed events, retries, dead-lettered events",
            left=[
                processor.runtime_metric(config.METRIC_FAILED),
                processor.runtime_metric(config.METRIC_RETRIES),
                processor.runtime_metric(config.METRIC_DEAD_LETTERS),
            ],
            width=8,
        ),
        cloudwatch.GraphWidget(
            title=f"{name}: iterator age (ms) and dead letters",
            left=[function.metric("IteratorAge", statistic="Maximum")],
            right=[processor.dead_letter_queue.metric_approximate_number_of_messages_visible()],
            width=8,
        ),
    ]


class Topology(Construct, TopologyParts):
    """A topology's processors and streams, in one stack of your CDK app.

    Each processor becomes a Lambda function with its log group, dead-letter queue and
    alarms; each stream a Kinesis stream mapped into its consumer. Find them by the names
    of the topology file to wire your own resources to them::

        topology = Topology(stack, "Pipeline", topology="pipeline/")
        bucket.grant_write(topology.function("archive"))

    (see ``TopologyParts`` for every lookup). cdk-nag's findings attak departs from on
    purpose are acknowledged on its own resources, with their reasons.

    ``topology``: the topology file, or its folder (read and validated here, as
    ``attak validate`` does), or a model already read with
    ``attak_cdk.project.load_topology``.
    ``architecture``: Lambda architecture, ``arm64`` or ``x86_64``. Default: ``arm64``.
    ``log_retention``: how long processors' logs are kept. Default: two weeks.

    :raises TopologyError: the topology file has problems (every one is listed).
    :raises TopologyTooLarge: the stack would pass CloudFormation's 500 resources.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        topology: TopologyModel | str | Path,
        architecture: str = "arm64",
        log_retention: logs.RetentionDays = logs.RetentionDays.TWO_WEEKS,
    ) -> None:
        # Read first, so that a topology with problems leaves nothing half-built in `scope`.
        model = topology if isinstance(topology, TopologyModel) else load_topology(topology)
        super().__init__(scope, id)
        built = build(_Here(self), model, architecture=architecture, log_retention=log_retention)
        TopologyParts.__init__(self, model, built.processors, built.streams)
        self.outputs = built.outputs
        acknowledge_findings(built.processors.values())
        self._check_size()

    def _check_size(self) -> None:
        count = sum(1 for c in Stack.of(self).node.find_all() if isinstance(c, CfnResource))
        if count > MAX_STACK_RESOURCES:
            raise TopologyTooLarge(
                f"topology '{self.model.name}' needs {count} CloudFormation resources "
                f"({len(self.processors)} processors, {len(self.streams)} streams); one stack "
                f"holds at most {MAX_STACK_RESOURCES}: build it with attak's app, which "
                "spreads it over several stacks, or split the topology"
            )


class _Here:
    """Everything in one scope."""

    def __init__(self, scope: Construct) -> None:
        self.scope = scope

    def processor_scope(self, name: str) -> Construct:
        return self.scope

    def stream_scope(self, name: str) -> Construct:
        return self.scope

    def manifest_scopes(self) -> list[Construct]:
        return [self.scope]
