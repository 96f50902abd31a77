"""``ProcessorFunction``: one processor as a Lambda function, with what it needs to be run
and watched: its log group, its dead-letter queue, its stream mappings and its alarms.

``read_from`` owns both the event-source mapping and the permission it needs (CDK's
``bind`` pattern), and ``write_to`` the only write grant a processor ever gets, so wiring
and IAM cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aws_cdk import RemovalPolicy, Size
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .. import graph
from ..endpoint import HttpEndpoint
from ..function_settings import Vpc
from ..grants import Grant
from ..model import StreamSettings
from ..references import Reference, payloads
from ..runtime import config
from ..schedules import Schedule
from ..settings import (
    DEFAULT_ARCHITECTURE,
    DEFAULT_MAX_HOPS,
    DEFAULT_MEMORY,
    DEFAULT_PYTHON,
    DEFAULT_SYSTEM_LOG_LEVEL,
    DEFAULT_TIMEOUT,
    DEFAULT_TRACE_SAMPLING,
)
from . import permissions, values
from .asset import LAMBDA_ENTRY
from .schedule import scheduled_rule
from .stream import TopologyStream


@dataclass(frozen=True)
class ProcessorFunctionProps:
    """What a processor's function is made of (every field documents its default)."""

    processor: str
    topology: str
    asset: Path
    """The staged folder: the processor's code, ``attak_runtime`` and its routes file
    (where its emits go, and its streams' retries: ``config.ROUTES_FILE``)."""
    handler: str
    """``module:function`` inside the asset."""
    memory: int = DEFAULT_MEMORY
    """MB. Default: the ``memory`` setting's (256)."""
    timeout: int = DEFAULT_TIMEOUT
    """Seconds. Default: the ``timeout`` setting's (60)."""
    reserved_concurrency: int | None = None
    """Default: none reserved (the account's shared pool)."""
    environment: dict[str, str] = field(default_factory=dict)
    """The user's variables; attak adds its own ``ATTAK_*`` ones."""
    references: dict[str, Reference] = field(default_factory=dict)
    """Variables whose values the runtime reads from SSM or Secrets Manager at cold start.
    Default: none. The function gets the reads on exactly those parameters and secrets."""
    grants: tuple[Grant, ...] = ()
    """The topology's ``grants:`` for this processor. Default: none (its streams, logs and
    dead-letter queue only)."""
    http: HttpEndpoint | None = None
    """The topology's ``http:`` for this entry processor: a function URL. Default: none
    (invoked directly, or through its ingest stream)."""
    schedule: Schedule | None = None
    """The topology's ``schedule:``: an EventBridge rule invoking the function. Default:
    none (invoked by its streams, or directly)."""
    max_hops: int = DEFAULT_MAX_HOPS
    """Stream hops a trace may take. Default: the runtime's (16)."""
    trace_sampling: float = DEFAULT_TRACE_SAMPLING
    """Share of traces the runtime logs record by record. Default: the runtime's (0.01),
    which it knows without an environment variable."""
    system_log_level: str = DEFAULT_SYSTEM_LOG_LEVEL
    """Lambda's system log level: ``DEBUG``, ``INFO`` (START and REPORT lines per
    invocation) or ``WARN`` (default: the platform's warnings only)."""
    architecture: str = DEFAULT_ARCHITECTURE
    """``arm64`` (default: cheaper per GB-second) or ``x86_64``."""
    python: str = DEFAULT_PYTHON
    """The Python runtime's version. Default: ``"3.13"``."""
    layers: tuple[str, ...] = ()
    """Layer version ARNs, in order. Default: none."""
    vpc: Vpc | None = None
    """Subnets and security groups to reach a VPC through. Default: none (Lambda's own
    network, with the internet and AWS's public endpoints)."""
    ephemeral_storage: int | None = None
    """MB of ``/tmp``. Default: Lambda's (512)."""
    tracing: bool = False
    """X-Ray active tracing. Default: off (Lambda's PassThrough)."""
    log_retention: logs.RetentionDays = logs.RetentionDays.TWO_WEEKS
    """Default: two weeks."""
    alarm_iterator_age_seconds: int = 60
    """Alarm when a stream's oldest unread record is older. Default: 60 seconds."""


SIGNED_REQUEST_HEADERS = (
    "authorization",
    "content-type",
    "x-amz-content-sha256",
    "x-amz-date",
    "x-amz-security-token",
)
"""Headers a browser may send to a function URL with CORS: a SigV4 signature's and JSON's."""
GRANTS_POLICY = "GrantsPolicy"
"""The construct id of the policy holding a processor's ``grants:``."""


class ProcessorFunction(Construct):
    """A processor's Lambda function (Python 3.13 on arm64 unless its processor says
    otherwise) with its log group and DLQ."""

    def __init__(self, scope: Construct, id: str, *, props: ProcessorFunctionProps) -> None:
        super().__init__(scope, id)
        self.props = props
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            retention=props.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # One dead-letter queue per processor, for its stream mappings and direct invokes.
        self.dead_letter_queue = sqs.Queue(
            self,
            graph.DEAD_LETTER_QUEUE,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=values.days(14),
        )
        module, _, function = props.handler.partition(":")
        # Made here, not by the function, so that it has no managed policy and stays typed
        # as a Role (``function.role`` is an optional IRole).
        self.role = permissions.execution_role(self, f"{graph.FUNCTION}ServiceRole")
        self.function = lambda_.Function(
            self,
            graph.FUNCTION,
            runtime=values.python_runtime(props.python),
            architecture=values.architecture(props.architecture),
            layers=[
                lambda_.LayerVersion.from_layer_version_arn(self, f"Layer{index}", arn)
                for index, arn in enumerate(props.layers)
            ]
            or None,
            ephemeral_storage_size=Size.mebibytes(props.ephemeral_storage)
            if props.ephemeral_storage is not None
            else None,
            # The CDK adds the X-Ray statement active tracing needs to the role's policy
            # (xray:PutTraceSegments and xray:PutTelemetryRecords, on "*": see nag.py).
            # https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html
            tracing=lambda_.Tracing.ACTIVE if props.tracing else None,
            code=lambda_.Code.from_asset(str(props.asset)),
            handler=LAMBDA_ENTRY,
            memory_size=props.memory,
            timeout=values.seconds(props.timeout),
            reserved_concurrent_executions=props.reserved_concurrency,
            log_group=self.log_group,
            role=self.role,
            # JSON log format: Lambda's own lines become JSON objects and can be filtered by
            # level; the runtime's lines, printed JSON, pass through as they are. The system
            # log level filters the platform's lines: START and REPORT are INFO.
            # https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html
            # https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
            logging_format=lambda_.LoggingFormat.JSON,
            system_log_level_v2=getattr(lambda_.SystemLogLevel, props.system_log_level),
            description=f"attak processor '{props.processor}' of topology '{props.topology}'",
            environment={
                **props.environment,
                **config.environment(
                    handler=f"{module}:{function or 'handler'}",
                    processor=props.processor,
                    topology=props.topology,
                    max_hops=props.max_hops,
                    # Failed events are dead-lettered by the runtime itself, with their data.
                    dead_letters=self.dead_letter_queue.queue_url,
                    trace_sampling=props.trace_sampling,
                    references=payloads(props.references),
                ),
            },
            # Direct invokes' retries and DLQ: as `configure_async_invoke` after, in one call.
            retry_attempts=config.DIRECT_RETRIES,
            on_failure=permissions.InvokeDeadLetters(self.dead_letter_queue),
        )
        permissions.grant_logging(self.function, self.log_group)
        permissions.grant_dead_letters(self.function, self.dead_letter_queue)
        if props.vpc is not None:
            self._place_in(props.vpc)
        permissions.grant_configuration(self.function, props.references.values())
        assert self.function.role is not None  # made above
        self.grants_policy = permissions.grant_declared(
            self, GRANTS_POLICY, self.function.role, props.grants
        )
        self.url = self._url(props.http) if props.http is not None else None
        self.schedule_rule = (
            scheduled_rule(
                self, props.schedule, self.function, self.dead_letter_queue, props.processor
            )
            if props.schedule is not None
            else None
        )
        self._metrics: dict[str, cloudwatch.Metric] = {}
        self.alarms = self._alarms()

    def _place_in(self, vpc: Vpc) -> None:
        """Attach the function to existing subnets and security groups, by id, with the
        network-interface permissions Lambda needs to do it. Set on the CloudFormation
        resource itself: the CDK's ``vpc`` prop wants the VPC as a construct (its id and
        zones too) and adds the managed AWSLambdaVPCAccessExecutionRole, on every
        resource, that ``permissions.grant_network_interfaces`` narrows."""
        function = self.function.node.default_child
        assert isinstance(function, lambda_.CfnFunction)
        function.vpc_config = lambda_.CfnFunction.VpcConfigProperty(
            subnet_ids=list(vpc.subnets), security_group_ids=list(vpc.security_groups)
        )
        permissions.grant_network_interfaces(self.function, vpc)

    def _url(self, http: HttpEndpoint) -> lambda_.FunctionUrl:
        """The function URL of an ``http:`` entry: AWS_IAM (SigV4-signed requests from a
        principal allowed lambda:InvokeFunctionUrl) unless the topology made it public,
        which CDK then allows in the function's resource policy; CORS only for the origins
        written, POST only (events are sent, never fetched).
        https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html
        https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html#urls-cors"""
        cors = (
            lambda_.FunctionUrlCorsOptions(
                allowed_origins=list(http.cors),
                allowed_methods=[lambda_.HttpMethod.POST],
                # What a SigV4-signed request from a browser carries, and its JSON body.
                allowed_headers=list(SIGNED_REQUEST_HEADERS),
            )
            if http.cors
            else None
        )
        return self.function.add_function_url(
            auth_type=lambda_.FunctionUrlAuthType.NONE
            if http.public
            else lambda_.FunctionUrlAuthType.AWS_IAM,
            cors=cors,
        )

    def read_from(self, stream: TopologyStream, settings: StreamSettings) -> None:
        """Map ``stream`` into this function, with partial-batch responses, bisect, finite
        retries and this processor's DLQ; grants the read permission the mapping needs."""
        permissions.grant_read(self.function, stream.stream)
        self.function.add_event_source_mapping(
            f"From{stream.construct_id}",
            event_source_arn=stream.stream.stream_arn,
            starting_position=getattr(lambda_.StartingPosition, settings.starting_position),
            batch_size=settings.batch_size,
            max_batching_window=values.seconds(settings.max_batching_window),
            parallelization_factor=settings.parallelization_factor,
            retry_attempts=settings.retry_attempts,
            bisect_batch_on_error=settings.bisect_batch_on_error,
            # The loader sets one below the stream's retention unless the topology asked
            # for no limit (None): Lambda's own default is -1, never give up.
            max_record_age=values.seconds(settings.max_record_age)
            if settings.max_record_age is not None
            else None,
            report_batch_item_failures=True,
            on_failure=permissions.MappingDeadLetters(self.dead_letter_queue),
        )

    def write_to(self, stream: TopologyStream) -> None:
        """Let this function put records into ``stream`` (PutRecords only)."""
        permissions.grant_put(self.function, stream.stream)

    def runtime_metric(self, name: str) -> cloudwatch.Metric:
        """One of the counts the runtime publishes in its summary lines (``runtime/logs.py``:
        ``failed``, ``retries``, ``dead_letters``), per minute, summed. Made once: the
        alarms and the dashboard share it (each one made is a call into Node)."""
        metric = self._metrics.get(name)
        if metric is None:
            metric = self._metrics[name] = cloudwatch.Metric(
                namespace=config.METRICS_NAMESPACE,
                metric_name=name,
                dimensions_map={
                    "topology": self.props.topology,
                    "processor": self.props.processor,
                },
                period=values.minutes(1),
                statistic="Sum",
            )
        return metric

    def _alarms(self) -> list[cloudwatch.Alarm]:
        minute = values.minutes(1)
        name = self.props.processor
        return [
            # Handler exceptions never reach Lambda's Errors metric (the runtime retries,
            # dead-letters and answers with batchItemFailures): it counts invocations that
            # failed as a whole (a timeout, a crash, emits that could not be written, a
            # direct invocation's error), which the runtime cannot count itself.
            self._alarm(
                "ErrorsAlarm",
                self.function.metric_errors(period=minute, statistic="Sum"),
                f"invocations of processor '{name}' failed as a whole (timeout, crash, "
                "emits not written, or a direct invocation's error)",
            ),
            self._alarm(
                "FailedEventsAlarm",
                self.runtime_metric(config.METRIC_FAILED),
                f"processor '{name}' gave up on events: they were dead-lettered, or handed "
                "back to Lambda to retry",
            ),
            self._alarm(
                "DeadLetteredEventsAlarm",
                self.runtime_metric(config.METRIC_DEAD_LETTERS),
                f"processor '{name}' wrote events to its dead-letter queue",
            ),
            self._alarm(
                "IteratorAgeAlarm",
                self.function.metric("IteratorAge", period=minute, statistic="Maximum"),
                f"processor '{name}' is falling behind its streams",
                # A slow consumer, not a blip: five minutes past the age allowed.
                threshold=self.props.alarm_iterator_age_seconds * 1000,
                periods=5,
                operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            ),
            self._alarm(
                "DeadLettersAlarm",
                self.dead_letter_queue.metric_approximate_number_of_messages_visible(
                    period=minute, statistic="Maximum"
                ),
                f"the dead-letter queue of processor '{name}' holds letters",
            ),
        ]

    def _alarm(
        self,
        id: str,
        metric: cloudwatch.IMetric,
        description: str,
        *,
        threshold: float = 1,
        periods: int = 1,
        operator: cloudwatch.ComparisonOperator = (
            cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        ),
    ) -> cloudwatch.Alarm:
        """An alarm when ``metric`` reaches ``threshold`` (one event, by default) for
        ``periods`` minutes; no data means nothing is wrong (an idle pipeline is fine)."""
        return cloudwatch.Alarm(
            self,
            id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=operator,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
