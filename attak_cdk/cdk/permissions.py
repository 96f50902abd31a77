"""What a processor's function may do, and nothing more: its execution role and grants.

Each grant names one resource of the processor's own and the few actions used on it:

- its own log group: ``logs:CreateLogStream`` and ``logs:PutLogEvents``, on the group's ARN
  as CloudFormation returns it (``...:log-group:NAME:*``: the group and its streams);
- its own dead-letter queue: ``sqs:SendMessage`` (the runtime's dead letters, Lambda's
  on-failure records of its mappings and of its direct invokes);
- each stream it reads: the read actions a standard event-source mapping uses;
- each stream it writes: ``kinesis:PutRecords``, the one call the runtime's emitter makes;
- each SSM parameter and secret its ``environment:`` references: the one read the runtime
  makes at cold start, and ``kms:Decrypt`` on a customer managed key named for one
  (``references.statements``).

The CDK's conveniences grant more than that (``AWSLambdaBasicExecutionRole`` on ``*``, a
stream's ``grant_read`` with the enhanced fan-out actions, a queue's ``grant_send_messages``
with ``GetQueueAttributes`` and ``GetQueueUrl``), so the role is made here, with no managed
policy, and the queue is bound as a destination without its grant.

No KMS permission is needed: streams are encrypted with the AWS-managed Kinesis key, which
"does not require application of custom IAM permissions"
(https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html), and the
queues with SQS-owned keys (SSE-SQS), which are not KMS keys
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html).
"""

from __future__ import annotations

from collections.abc import Iterable

import jsii
from aws_cdk import Fn
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ..function_settings import Vpc, network_interface_statements
from ..grants import PARTITION, Grant, GrantStatement
from ..references import Reference, statements

LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
"""Writing to a log group that already exists. ``logs:CreateLogGroup``, the third action of
Lambda's logging permissions, is only for Lambda to create a missing group
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html,
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html);
CloudFormation creates the function's group before the function, as Lambda's own basic
policy template scopes these two actions to ``log-group:NAME:*``
(https://docs.aws.amazon.com/lambda/latest/dg/policy-templates.html)."""

DEAD_LETTER_ACTIONS = ("sqs:SendMessage",)
"""What an SQS on-failure destination needs, for stream mappings
(https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#events-kinesis-permissions)
and for asynchronous invokes
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html), and
the one call the runtime's own dead letters make."""

STREAM_READ_ACTIONS = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)
"""What Lambda lists for a Kinesis event-source mapping
(https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-create.html), less
``kinesis:SubscribeToShard``: that call reads through a registered enhanced fan-out
consumer (it names a consumer ARN, not a stream's), and attak's mappings read the stream
itself with a standard iterator. The same page says ``kinesis:ListStreams`` is not needed."""

STREAM_PUT_ACTIONS = ("kinesis:PutRecords",)
"""The only call the runtime's emitter makes (never ``PutRecord``)."""


def execution_role(scope: Construct, id: str) -> iam.Role:
    """A function's role with no permission yet (and no managed policy): the grants below
    add each one, scoped to one resource."""
    return iam.Role(scope, id, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))


def grant_logging(function: lambda_.Function, log_group: logs.LogGroup) -> None:
    """Let ``function`` write its logs into ``log_group`` (its own) and nowhere else."""
    _allow(function, LOG_ACTIONS, log_group.log_group_arn)


def grant_dead_letters(function: lambda_.Function, queue: sqs.Queue) -> None:
    """Let ``function`` (and Lambda on its behalf) send dead letters to ``queue``."""
    _allow(function, DEAD_LETTER_ACTIONS, queue.queue_arn)


def grant_read(function: lambda_.Function, stream: kinesis.Stream) -> None:
    """Let ``function``'s standard event-source mapping read ``stream``."""
    _allow(function, STREAM_READ_ACTIONS, stream.stream_arn)


def grant_put(function: lambda_.Function, stream: kinesis.Stream) -> None:
    """Let ``function`` put records into ``stream``."""
    _allow(function, STREAM_PUT_ACTIONS, stream.stream_arn)


def grant_network_interfaces(function: lambda_.Function, vpc: Vpc) -> None:
    """Let Lambda give ``function`` network interfaces in ``vpc``'s subnets, with its
    security groups (``function_settings.network_interface_statements``). In the role's
    default policy, on which the function's resource waits: Lambda checks these
    permissions when the function is created."""
    _add_statements(function, network_interface_statements(vpc))


def grant_configuration(function: lambda_.Function, references: Iterable[Reference]) -> None:
    """Let ``function``'s runtime read the parameters and secrets its environment
    references, each named alone (no wildcard but a secret's ``-??????`` suffix)."""
    _add_statements(function, statements(references))


def _add_statements(function: lambda_.Function, granted: Iterable[GrantStatement]) -> None:
    """Add statements made as plain data (``grants``' type) to ``function``'s default policy."""
    for statement in granted:
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=list(statement.actions),
                resources=[_resolved(r) for r in statement.resources],
            )
        )


def grant_declared(
    scope: Construct, id: str, role: iam.IRole, grants: Iterable[Grant]
) -> iam.Policy | None:
    """The topology's ``grants:`` of one processor, as one policy of their own on its
    ``role`` (apart from the default policy, so that a cdk-nag acknowledgement of the
    user's wildcards covers these statements and nothing attak grants itself)."""
    statements = [
        iam.PolicyStatement(
            actions=list(statement.actions),
            resources=[_resolved(r) for r in statement.resources],
            conditions={k: dict(v) for k, v in statement.conditions.items()} or None,
        )
        for grant in grants
        for statement in grant.statements
    ]
    if not statements:
        return None
    return iam.Policy(scope, id, roles=[role], statements=statements)


def _resolved(arn: str) -> str:
    """An ARN built from a name holds CloudFormation's pseudo parameters: ``Fn::Sub``
    fills in the stack's partition, region and account."""
    return Fn.sub(arn) if PARTITION in arn else arn


def _allow(function: lambda_.Function, actions: tuple[str, ...], resource: str) -> None:
    function.add_to_role_policy(iam.PolicyStatement(actions=list(actions), resources=[resource]))


@jsii.implements(lambda_.IEventSourceDlq)
class MappingDeadLetters:
    """A queue as a stream mapping's on-failure destination, without the CDK's
    ``SqsDlq`` grant (``grant_dead_letters`` gives the one action it needs)."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self.queue = queue

    def bind(
        self, target: lambda_.IEventSourceMapping, target_handler: lambda_.IFunction
    ) -> lambda_.DlqDestinationConfig:
        return lambda_.DlqDestinationConfig(destination=self.queue.queue_arn)


@jsii.implements(lambda_.IDestination)
class InvokeDeadLetters:
    """A queue as the on-failure destination of a function's asynchronous invokes, without
    the CDK's ``SqsDestination`` grant (``grant_dead_letters`` gives the one it needs)."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self.queue = queue

    def bind(
        self, scope: Construct, fn: lambda_.IFunction, *, type: lambda_.DestinationType
    ) -> lambda_.DestinationConfig:
        return lambda_.DestinationConfig(destination=self.queue.queue_arn)
