"""Acknowledged cdk-nag findings: each rule attak knowingly does not follow, and why.

Recorded with aws-cdk-lib's own ``Validations`` API, so the library needs no cdk-nag at
run time; a CDK app (or attak's tests) that adds ``AwsSolutionsChecks`` sees them as
acknowledged, with the reason, instead of as errors.

Each acknowledgement is scoped to the one construct it concerns (a processor's queue or
function resource), never to the stack, so the same rule still fails anywhere else.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

from ..function_settings import network_interface_statements
from ..grants import Grant
from ..settings import DEFAULT_PYTHON
from .processor import ProcessorFunction

NAMESPACE = "AwsSolutions"
"""cdk-nag's AwsSolutions pack reports under this plugin name; rule ids are qualified by it."""

DEAD_LETTER_QUEUE_HAS_NO_DLQ = Acknowledgment(
    id=f"{NAMESPACE}::AwsSolutions-SQS3",
    reason=(
        "This queue is itself the dead-letter queue of the processor: the on-failure "
        "destination of its Kinesis event-source mappings and of its asynchronous invokes. "
        "cdk-nag only recognises SQS redrive policies, and a dead-letter queue needs no "
        "dead-letter queue of its own (messages stay 14 days and raise DeadLettersAlarm)."
    ),
)
PINNED_PYTHON_RUNTIME = Acknowledgment(
    id=f"{NAMESPACE}::AwsSolutions-L1",
    reason=(
        "The Python runtime is pinned deliberately, to a version in standard support: "
        "asset.py installs the processor's requirements as wheels for that exact Python "
        "version, so runtime and wheels change together in one reviewed release, not "
        "whenever aws-cdk-lib learns of a newer runtime."
    ),
)

NETWORK_INTERFACES_REASON = (
    "The function is attached to a VPC (its topology's vpc:), and Lambda creates and "
    "deletes its network interfaces with the function's role: the interfaces' ids are not "
    "known before Lambda creates them (network-interface/* of this account and region), "
    "ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets have no resource-level "
    "permissions (only '*'), and the subnets and security groups are matched by their "
    "unique ids in any account, as a subnet shared through VPC sharing belongs to the "
    "account sharing it."
)
TRACING_REASON = (
    "The function has X-Ray active tracing (its topology's tracing: true): "
    "xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level "
    "permissions, so IAM can only grant them on '*'."
)


PUBLIC_ACCESS_PACKS = ("HIPAA.Security", "NIST.800.53.R4", "NIST.800.53.R5", "PCI.DSS.321")
"""The cdk-nag packs whose rule LambdaFunctionPublicAccessProhibited flags a permission
anyone may use: the two a public function URL needs (AwsSolutions has no such rule)."""
PUBLIC_URL_PERMISSIONS = ("invoke-function-url", "invoke-function")
"""The construct ids, below the function, of the permissions CDK adds for a public
function URL: since October 2025 a caller needs both actions
(https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html)."""


def acknowledge_findings(processors: Iterable[ProcessorFunction]) -> None:
    """Acknowledge, with reasons, the cdk-nag rules attak's design deliberately departs from,
    on each of ``processors`` (the ones built, held in Python: no walk of the stack)."""
    for processor in processors:
        _acknowledge_processor(processor)


def _acknowledge_processor(processor: ProcessorFunction) -> None:
    _acknowledge(processor.dead_letter_queue, DEAD_LETTER_QUEUE_HAS_NO_DLQ)
    _acknowledge(processor.function.node.default_child, _pinned_runtime(processor))
    _acknowledge_settings(processor)
    http = processor.props.http
    if http is not None and http.public:
        _acknowledge_public_url(processor, f"{http.where}: {http.reason}")
    if processor.grants_policy is None:
        return
    policy = processor.grants_policy.node.default_child
    for grant in processor.props.grants:
        for acknowledgment in _granted_wildcards(grant):
            _acknowledge(policy, acknowledgment)


def _pinned_runtime(processor: ProcessorFunction) -> Acknowledgment:
    """AwsSolutions-L1, with the version the topology chose if it chose one."""
    if processor.props.python == DEFAULT_PYTHON:
        return PINNED_PYTHON_RUNTIME
    return Acknowledgment(
        id=PINNED_PYTHON_RUNTIME.id,
        reason=(
            f"The topology pins this processor to Python {processor.props.python} (its "
            "python: setting, one of the runtimes Lambda supports without a deprecation "
            "date passed): asset.py installs the processor's requirements as wheels for "
            "that exact version, so runtime and wheels change together, when the topology "
            "says so."
        ),
    )


def _acknowledge_settings(processor: ProcessorFunction) -> None:
    """AwsSolutions-IAM5 for the wildcards the function's settings need in its role's
    default policy: a VPC's network interfaces, active tracing's X-Ray calls. One
    acknowledgement per finding, with every reason it is there."""
    reasons: dict[str, list[str]] = {}
    if processor.props.vpc is not None:
        for statement in network_interface_statements(processor.props.vpc):
            for resource in statement.resources:
                if "*" in resource:
                    reasons.setdefault(_finding(resource), []).append(NETWORK_INTERFACES_REASON)
    if processor.props.tracing:
        reasons.setdefault(_finding("*"), []).append(TRACING_REASON)
    role = processor.function.role
    policy = role.node.try_find_child("DefaultPolicy") if role is not None else None
    if policy is None:
        return
    for finding, why in reasons.items():
        _acknowledge(
            policy.node.default_child,
            Acknowledgment(id=f"{NAMESPACE}::AwsSolutions-IAM5[{finding}]", reason=" ".join(why)),
        )


def _finding(resource: str) -> str:
    """How cdk-nag names a wildcard resource: ``Resource::ARN``, with an ``Fn::Sub``'s
    pseudo parameters written ``<AWS::Region>``."""
    return "Resource::" + resource.replace("${", "<").replace("}", ">")


def _acknowledge_public_url(processor: ProcessorFunction, reason: str) -> None:
    """A public endpoint (``http: {auth: none}``) is written with the user's reason, which
    acknowledges the public permissions it needs, each on its own."""
    for id in PUBLIC_URL_PERMISSIONS:
        permission = processor.function.node.try_find_child(id)
        for pack in PUBLIC_ACCESS_PACKS:
            rule = f"{pack}::{pack}-LambdaFunctionPublicAccessProhibited"
            _acknowledge(permission, Acknowledgment(id=rule, reason=reason))


def _granted_wildcards(grant: Grant) -> list[Acknowledgment]:
    """AwsSolutions-IAM5 for each wildcard of one grant, as cdk-nag names its findings
    (``AwsSolutions-IAM5[Resource::ARN]``, pseudo parameters written ``<AWS::Region>``), so
    each pattern is acknowledged alone, with why it is there: the user's reason for a
    statement they wrote, or why a named grant needs it (an S3 prefix, a table's indexes,
    the parameters under a path are resources matched by a pattern, which IAM writes with
    ``*``)."""
    reason = (
        f"{grant.where}: {grant.reason.strip()}"
        if grant.kind == "statement"
        else f"{grant.where}: the topology grants '{grant.words}': a pattern of resources, "
        "which IAM can only write with '*', scoped to that one resource"
    )
    found = []
    for statement in grant.statements:
        found += [f"Action::{a}" for a in statement.actions if "*" in a]
        found += [_finding(r) for r in statement.resources if "*" in r]
    return [
        Acknowledgment(id=f"{NAMESPACE}::AwsSolutions-IAM5[{finding}]", reason=reason)
        for finding in dict.fromkeys(found)
    ]


def _acknowledge(scope: IConstruct | None, acknowledgment: Acknowledgment) -> None:
    if scope is None:  # nothing generated, so nothing to acknowledge
        return
    Validations.of(scope).acknowledge(acknowledgment)
