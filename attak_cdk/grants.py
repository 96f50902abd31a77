"""A processor's ``grants:``: what its function may do beyond its own streams, as IAM data.

Each grant names one existing resource, by name or ARN, and becomes the narrowest
statements AWS documents for that use; names become ARNs in the stack's own partition,
region and account (CloudFormation's pseudo parameters, through ``Fn::Sub``). The loader
reads grants with ``read_grants`` (every problem an ``Issue`` at its path); the CDK layer
adds ``statements``; ``attak synth``'s review prints ``in_words``. Nothing here imports
``aws_cdk``: simulate never reads grants (they are AWS permissions, not behaviour).

The action lists follow AWS SAM's policy templates, where one exists, cut to the use the
grant names (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-policy-template-list.html),
checked against each service's authorization reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import did_you_mean
from .settings import ARN_ACCOUNT, ARN_PARTITION, ARN_REGION, shown

PARTITION = "${AWS::Partition}"
REGION = "${AWS::Region}"
ACCOUNT = "${AWS::AccountId}"
"""CloudFormation's pseudo parameters, written for ``Fn::Sub``: an ARN built from a name
holds them, and the CDK layer wraps such an ARN in ``Fn::Sub``."""

ACCESS = ("read", "write", "read-write")
_VERB = {"read": "read", "write": "write", "read-write": "read and write"}


@dataclass(frozen=True)
class GrantStatement:
    """One IAM ``Allow`` statement: actions on resources, and conditions if any."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Grant:
    """One entry of ``grants:``: its kind (``s3``, ``sqs``...), the statements it adds,
    what it means in words, and where it was written."""

    kind: str
    statements: tuple[GrantStatement, ...]
    words: str
    where: str
    reason: str = ""
    """The user's reason, for a ``statement`` whose actions or resources hold a wildcard."""


# Names and ARNs AWS accepts, per service (each service's naming rules; an ARN is
# arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE).
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
BUCKET = re.compile(r"^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
BUCKET_ARN = re.compile(rf"^arn:{ARN_PARTITION}:s3:::(?P<name>[a-z0-9][a-z0-9.-]{{1,61}}[a-z0-9])$")
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
TABLE_ARN = re.compile(
    rf"^arn:{ARN_PARTITION}:dynamodb:{ARN_REGION}:{ARN_ACCOUNT}:table/(?P<name>[A-Za-z0-9_.-]{{3,255}})$"
)
QUEUE = re.compile(r"^[A-Za-z0-9_-]{1,75}(\.fifo)?$")
QUEUE_ARN = re.compile(
    rf"^arn:{ARN_PARTITION}:sqs:{ARN_REGION}:{ARN_ACCOUNT}:[A-Za-z0-9_-]{{1,75}}(\.fifo)?$"
)
TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,256}(\.fifo)?$")
TOPIC_ARN = re.compile(
    rf"^arn:{ARN_PARTITION}:sns:{ARN_REGION}:{ARN_ACCOUNT}:[A-Za-z0-9_-]{{1,256}}(\.fifo)?$"
)
SECRET = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
SECRET_ARN = re.compile(
    rf"^arn:{ARN_PARTITION}:secretsmanager:{ARN_REGION}:{ARN_ACCOUNT}:secret:[A-Za-z0-9/_+=.@-]+$"
)
SSM_PATH = re.compile(r"^/[A-Za-z0-9_.\-/]{0,1010}$")
KMS_KEY_ARN = re.compile(
    rf"^arn:{ARN_PARTITION}:kms:{ARN_REGION}:{ARN_ACCOUNT}:key/[A-Za-z0-9-]{{1,128}}$"
)
FUNCTION = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
FUNCTION_ARN = re.compile(
    rf"^arn:{ARN_PARTITION}:lambda:{ARN_REGION}:{ARN_ACCOUNT}:function:[A-Za-z0-9_-]{{1,64}}(:[A-Za-z0-9$_-]+)?$"
)
BUS = re.compile(r"^[A-Za-z0-9._-]{1,256}$")
BUS_ARN = re.compile(
    rf"^arn:{ARN_PARTITION}:events:{ARN_REGION}:{ARN_ACCOUNT}:event-bus/[A-Za-z0-9._-]{{1,256}}$"
)
ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*]+$")
ANY_ARN = re.compile(r"^(\*|arn:[^:\s]+:[^:\s]+:[^:\s]*:[^:\s]*:\S+)$")

# What each kind allows, in AWS's own action names.
# S3 objects: https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
# ListBucket is on the bucket, narrowed to the prefix by the s3:prefix condition key:
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html
S3_READ = ("s3:GetObject",)
S3_LIST = ("s3:ListBucket",)
# PutObject, and AbortMultipartUpload to clean up a multipart upload that failed.
S3_WRITE = ("s3:AbortMultipartUpload", "s3:PutObject")
# SAM's DynamoDBReadPolicy and DynamoDBWritePolicy (read on the table and its indexes).
DYNAMODB_READ = (
    "dynamodb:BatchGetItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
DYNAMODB_WRITE = ("dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
# SendMessageBatch is authorized by sqs:SendMessage (SQS has no action of its own for it):
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-permissions-reference.html
SQS_SEND = ("sqs:SendMessage",)
SNS_PUBLISH = ("sns:Publish",)  # PublishBatch is authorized by sns:Publish too
SECRET_READ = ("secretsmanager:GetSecretValue",)
# GetParametersByPath is authorized on the path itself, GetParameter(s) on each parameter:
# https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html
SSM_READ = ("ssm:GetParameter", "ssm:GetParameters")
SSM_READ_PATH = ("ssm:GetParametersByPath",)
KMS_DECRYPT = ("kms:Decrypt",)
LAMBDA_INVOKE = ("lambda:InvokeFunction",)
EVENTS_PUT = ("events:PutEvents",)


def _arn(service: str, resource: str, *, region: bool = True) -> str:
    where = f"{REGION}:{ACCOUNT}" if region else ":"
    return f"arn:{PARTITION}:{service}:{where}:{resource}"


class _Reading:
    """One grant being read: its path, and the issues found."""

    def __init__(self, where: str, issue: Callable[[str, str, str], None]) -> None:
        self.where = where
        self.issue = issue
        self.ok = True

    def fail(self, path: str, message: str) -> None:
        self.ok = False
        self.issue("invalid-grant", path, message)

    def mapping(self, value: Any, path: str, keys: Mapping[str, str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"must be a mapping with {', '.join(keys)} (given {shown(value)})")
            return {}
        for key in value:
            if key not in keys:
                self.fail(
                    f"{path}.{key}",
                    f"unknown key '{key}'{did_you_mean(str(key), keys)} "
                    f"(allowed here: {', '.join(keys)})",
                )
        return value

    def name_or_arn(
        self,
        value: Any,
        path: str,
        what: str,
        name: re.Pattern[str],
        arn: re.Pattern[str],
        example: str,
    ) -> str | None:
        """A resource given by ``name`` or by ``arn``; ``None`` (and an issue) otherwise."""
        if value is None or value == "":
            self.fail(path, f"names no {what}: give its name or ARN, e.g. {example}")
            return None
        if not isinstance(value, str):
            self.fail(path, f"must be the {what}'s name or ARN (given {shown(value)})")
            return None
        if value.startswith("arn:"):
            if not arn.match(value):
                self.fail(path, f"not the ARN of {_a(what)} (given {shown(value)})")
                return None
            return value
        if not name.match(value):
            self.fail(path, f"not a name AWS allows for {_a(what)} (given {shown(value)})")
            return None
        return value

    def access(self, value: Any, path: str) -> str:
        if value is None:
            return "read"
        if value not in ACCESS:
            self.fail(path, f"must be one of {', '.join(ACCESS)} (given {shown(value)})")
        return str(value)


def _a(what: str) -> str:
    # Read aloud, S3, SQS and SNS start with a vowel sound ("an S3 bucket").
    spoken_vowel = what[:1] in "aeiouAEIOU" or what.split()[0] in ("S3", "SQS", "SNS")
    return ("an " if spoken_vowel else "a ") + what


def _s3(r: _Reading, value: Any, path: str) -> tuple[tuple[GrantStatement, ...], str]:
    spec = r.mapping(value, path, {"bucket": "", "prefix": "", "access": ""})
    given = r.name_or_arn(
        spec.get("bucket"), f"{path}.bucket", "S3 bucket", BUCKET, BUCKET_ARN, "bucket: my-archive"
    )
    prefix = spec.get("prefix", "")
    if not isinstance(prefix, str) or "*" in prefix or "?" in prefix:
        r.fail(f"{path}.prefix", f"must be a key prefix without wildcards (given {shown(prefix)})")
        prefix = ""
    access = r.access(spec.get("access"), f"{path}.access")
    if given is None:
        return (), ""
    match = BUCKET_ARN.match(given)
    name = match.group("name") if match else given
    bucket = _arn("s3", name, region=False)
    objects = f"{bucket}/{prefix.lstrip('/')}*"
    statements: list[GrantStatement] = []
    if access in ("read", "read-write"):
        statements.append(GrantStatement(S3_READ, (objects,)))
        listing = {"StringLike": {"s3:prefix": f"{prefix.lstrip('/')}*"}} if prefix else {}
        statements.append(GrantStatement(S3_LIST, (bucket,), listing))
    if access in ("write", "read-write"):
        statements.append(GrantStatement(S3_WRITE, (objects,)))
    under = f" under {prefix}" if prefix else ""
    return tuple(statements), f"{_VERB[access]} objects{under} in S3 bucket {name}"


def _dynamodb(r: _Reading, value: Any, path: str) -> tuple[tuple[GrantStatement, ...], str]:
    spec = r.mapping(value, path, {"table": "", "access": ""})
    given = r.name_or_arn(
        spec.get("table"), f"{path}.table", "DynamoDB table", TABLE, TABLE_ARN, "table: sessions"
    )
    access = r.access(spec.get("access"), f"{path}.access")
    if given is None:
        return (), ""
    match = TABLE_ARN.match(given)
    name = match.group("name") if match else given
    table = given if match else _arn("dynamodb", f"table/{name}")
    statements: list[GrantStatement] = []
    if access in ("read", "read-write"):
        statements.append(GrantStatement(DYNAMODB_READ, (table, f"{table}/index/*")))
    if access in ("write", "read-write"):
        statements.append(GrantStatement(DYNAMODB_WRITE, (table,)))
    words = f"{_VERB[access]} DynamoDB table {name}" + (
        " and its indexes" if "read" in access else ""
    )
    return tuple(statements), words


def _named(
    kind: str,
    actions: tuple[str, ...],
    what: str,
    key: str | None,
    name: re.Pattern[str],
    arn: re.Pattern[str],
    resource: Callable[[str], str],
    verb: str,
    example: str,
) -> Callable[[_Reading, Any, str], tuple[tuple[GrantStatement, ...], str]]:
    """A grant of ``actions`` on one resource named (under ``key``, or directly) or ARN'd."""

    def read(r: _Reading, value: Any, path: str) -> tuple[tuple[GrantStatement, ...], str]:
        if key is not None:
            value = r.mapping(value, path, {key: ""}).get(key)
            path = f"{path}.{key}"
        given = r.name_or_arn(value, path, what, name, arn, example)
        if given is None:
            return (), ""
        target = given if given.startswith("arn:") else resource(given)
        return (GrantStatement(actions, (target,)),), f"{verb} {what} {given}"

    return read


def _ssm(r: _Reading, value: Any, path: str) -> tuple[tuple[GrantStatement, ...], str]:
    if not isinstance(value, str) or not SSM_PATH.match(value):
        r.fail(path, f"must be a parameter path such as /pipeline/prod/ (given {shown(value)})")
        return (), ""
    inner = value.strip("/")
    under = f"parameter/{inner}" if inner else "parameter"
    statements = (
        GrantStatement(SSM_READ, (_arn("ssm", f"{under}/*"),)),
        GrantStatement(SSM_READ_PATH, (_arn("ssm", under),)),
    )
    return statements, f"read SSM parameters under {value}"


def _statement(r: _Reading, value: Any, path: str) -> tuple[tuple[GrantStatement, ...], str]:
    spec = r.mapping(value, path, {"actions": "", "resources": "", "reason": ""})
    parts: dict[str, tuple[str, ...]] = {}
    for key, pattern, example in (
        ("actions", ACTION, "s3:GetObject"),
        ("resources", ANY_ARN, "arn:aws:s3:::bucket/key"),
    ):
        items = spec.get(key)
        if not isinstance(items, list) or not items:
            r.fail(f"{path}.{key}", f"must be a non-empty list, e.g. [{example}]")
            continue
        for index, item in enumerate(items):
            if not isinstance(item, str) or not pattern.match(item):
                r.fail(f"{path}.{key}[{index}]", f"not an IAM {key[:-1]} (given {shown(item)})")
        parts[key] = tuple(str(item) for item in items)
    reason = spec.get("reason", "")
    if not isinstance(reason, str):
        r.fail(f"{path}.reason", f"must be text (given {shown(reason)})")
        reason = ""
    actions, resources = parts.get("actions", ()), parts.get("resources", ())
    if any("*" in item for item in (*actions, *resources)) and not reason.strip():
        r.fail(
            f"{path}.reason",
            "a wildcard (*) in actions or resources needs a reason: say why this function "
            "needs more than one named action on one named resource (it is shown to "
            "reviewers and acknowledged to cdk-nag with your words)",
        )
    if not actions or not resources:
        return (), ""
    words = f"call {', '.join(actions)} on {', '.join(resources)}"
    return (GrantStatement(actions, resources),), words


_KINDS: dict[str, Callable[[_Reading, Any, str], tuple[tuple[GrantStatement, ...], str]]] = {
    "s3": _s3,
    "dynamodb": _dynamodb,
    "sqs": _named(
        "sqs",
        SQS_SEND,
        "SQS queue",
        "queue",
        QUEUE,
        QUEUE_ARN,
        lambda name: _arn("sqs", name),
        "send to",
        "queue: orders",
    ),
    "sns": _named(
        "sns",
        SNS_PUBLISH,
        "SNS topic",
        "topic",
        TOPIC,
        TOPIC_ARN,
        lambda name: _arn("sns", name),
        "publish to",
        "topic: alerts",
    ),
    # A secret's ARN ends in '-' and six random characters: the name is matched with them.
    # https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html
    "secret": _named(
        "secret",
        SECRET_READ,
        "Secrets Manager secret",
        None,
        SECRET,
        SECRET_ARN,
        lambda name: _arn("secretsmanager", f"secret:{name}-??????"),
        "read",
        "secret: prod/db",
    ),
    "ssm": _ssm,
    "kms": _named(
        "kms",
        KMS_DECRYPT,
        "KMS key",
        None,
        re.compile(r"^(?!)"),
        KMS_KEY_ARN,
        lambda arn: arn,
        "decrypt with",
        "kms: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ),
    "lambda": _named(
        "lambda",
        LAMBDA_INVOKE,
        "Lambda function",
        None,
        FUNCTION,
        FUNCTION_ARN,
        lambda name: _arn("lambda", f"function:{name}"),
        "invoke",
        "lambda: enrich",
    ),
    "events": _named(
        "events",
        EVENTS_PUT,
        "EventBridge bus",
        None,
        BUS,
        BUS_ARN,
        lambda name: _arn("events", f"event-bus/{name}"),
        "put events on",
        "events: default",
    ),
    "statement": _statement,
}
GRANT_KINDS = tuple(_KINDS)
"""The grant kinds a topology may name, in the order messages list them."""


def read_grants(data: Any, where: str, issue: Callable[[str, str, str], None]) -> tuple[Grant, ...]:
    """``grants:`` at ``where``: a list of one-key mappings, each a grant kind and its
    value. Every problem is reported through ``issue(code, path, message)``; a grant with
    a problem is left out."""
    if data is None:
        return ()
    if not isinstance(data, list):
        issue("invalid-grant", where, f"must be a list of grants (given {shown(data)})")
        return ()
    grants: list[Grant] = []
    for index, entry in enumerate(data):
        path = f"{where}[{index}]"
        if not isinstance(entry, dict) or len(entry) != 1:
            issue(
                "invalid-grant",
                path,
                f"a grant is one of {', '.join(GRANT_KINDS)} with its value, e.g. "
                f"- s3: {{bucket: my-archive, access: write}} (given {shown(entry)})",
            )
            continue
        ((kind, value),) = entry.items()
        reader = _KINDS.get(str(kind))
        if reader is None:
            issue(
                "invalid-grant",
                f"{path}.{kind}",
                f"unknown grant '{kind}'{did_you_mean(str(kind), GRANT_KINDS)} "
                f"(allowed: {', '.join(GRANT_KINDS)})",
            )
            continue
        reading = _Reading(path, issue)
        statements, words = reader(reading, value, f"{path}.{kind}")
        if reading.ok and statements:
            reason = value.get("reason", "") if isinstance(value, dict) else ""
            grants.append(Grant(str(kind), statements, words, f"{path}.{kind}", str(reason)))
    return tuple(grants)
