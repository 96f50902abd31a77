"""A processor's ``grants:``: every statement each grant adds, exactly, in its own policy.

One topology holds one grant of each kind (and a default every processor gets). Each
grant's statements are compared, actions and resources, with what AWS documents as the
narrowest policy for that use; a name becomes an ARN in the stack's own partition, region
and account (``Fn::Sub``), an ARN is kept as written. attak's own grants (logs, dead
letters, streams) stay in the function's default policy, untouched
(``test_synth_permissions.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from attak_cdk.cdk.app import synthesize
from attak_cdk.loader import read_topology
from attak_cdk.project import load_topology
from attak_cdk.review import granted, review_stacks
from attak_cdk.stacks import estimate_resources
from tests.conftest import PASS_ON, SINK, write_files

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPOLOGY = f"""
name: granted
defaults:
  grants:
    - ssm: /granted/config/
processors:
  archive:
    handler: p/archive.py
    grants:
      - s3: {{bucket: clicks-archive, prefix: logs/, access: read-write}}
      - dynamodb: {{table: sessions, access: read-write}}
      - sqs: {{queue: orders}}
      - sns: {{topic: arn:aws:sns:us-east-1:123456789012:alerts}}
      - secret: prod/db
      - kms: {KEY}
      - lambda: enrich
      - events: clicks-bus
      - statement:
          actions: [cloudwatch:PutMetricData]
          resources: ["*"]
          reason: PutMetricData supports no resource-level permissions
  sink: p/sink.py
streams:
  - [archive, sink]
"""


def sub(arn: str) -> dict[str, str]:
    return {"Fn::Sub": arn}


HERE = "${AWS::Region}:${AWS::AccountId}"
SSM = [
    (
        ["ssm:GetParameter", "ssm:GetParameters"],
        [sub(f"arn:${{AWS::Partition}}:ssm:{HERE}:parameter/granted/config/*")],
        None,
    ),
    (
        ["ssm:GetParametersByPath"],
        [sub(f"arn:${{AWS::Partition}}:ssm:{HERE}:parameter/granted/config")],
        None,
    ),
]
TABLE = f"arn:${{AWS::Partition}}:dynamodb:{HERE}:table/sessions"
ARCHIVE = [
    (["s3:GetObject"], [sub("arn:${AWS::Partition}:s3:::clicks-archive/logs/*")], None),
    (
        ["s3:ListBucket"],
        [sub("arn:${AWS::Partition}:s3:::clicks-archive")],
        {"StringLike": {"s3:prefix": "logs/*"}},
    ),
    (
        ["s3:AbortMultipartUpload", "s3:PutObject"],
        [sub("arn:${AWS::Partition}:s3:::clicks-archive/logs/*")],
        None,
    ),
    (
        [
            "dynamodb:BatchGetItem",
            "dynamodb:DescribeTable",
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:Scan",
        ],
        [sub(TABLE), sub(f"{TABLE}/index/*")],
        None,
    ),
    (["dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [sub(TABLE)], None),
    (["sqs:SendMessage"], [sub(f"arn:${{AWS::Partition}}:sqs:{HERE}:orders")], None),
    (["sns:Publish"], ["arn:aws:sns:us-east-1:123456789012:alerts"], None),
    (
        ["secretsmanager:GetSecretValue"],
        [sub(f"arn:${{AWS::Partition}}:secretsmanager:{HERE}:secret:prod/db-??????")],
        None,
    ),
    (["kms:Decrypt"], [KEY], None),
    (
        ["lambda:InvokeFunction"],
        [sub(f"arn:${{AWS::Partition}}:lambda:{HERE}:function:enrich")],
        None,
    ),
    (
        ["events:PutEvents"],
        [sub(f"arn:${{AWS::Partition}}:events:{HERE}:event-bus/clicks-bus")],
        None,
    ),
    (["cloudwatch:PutMetricData"], ["*"], None),
]

Statement = tuple[list[str], list[Any], dict[str, Any] | None]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = {
        "topology.yml": TOPOLOGY,
        "p/archive.py": PASS_ON,
        "p/sink.py": SINK,
    }
    return write_files(tmp_path_factory.mktemp("granted"), files)


@pytest.fixture(scope="module")
def template(project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    (file,) = synthesize(project, tmp_path_factory.mktemp("out")).values()
    document: dict[str, Any] = json.loads(Path(file).read_text(encoding="utf-8"))
    return document


def grants_policy(template: dict[str, Any], processor: str) -> list[Statement]:
    """The statements of ``processor``'s grants policy, in order, as (actions, resources,
    condition); the policy is attached to that processor's role alone."""
    resources = template["Resources"]
    (policy,) = [
        v["Properties"]
        for k, v in resources.items()
        if v["Type"] == "AWS::IAM::Policy" and k.startswith(f"{processor}GrantsPolicy")
    ]
    assert len(policy["Roles"]) == 1
    assert policy["Roles"][0]["Ref"].startswith(f"{processor}FunctionServiceRole")
    found: list[Statement] = []
    for s in policy["PolicyDocument"]["Statement"]:
        assert s["Effect"] == "Allow" and set(s) <= {"Action", "Effect", "Resource", "Condition"}
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        resources_ = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        found.append((actions, resources_, s.get("Condition")))
    return found


def test_each_grant_adds_exactly_its_narrowest_statements(template: dict[str, Any]) -> None:
    assert grants_policy(template, "Archive") == SSM + ARCHIVE


def test_a_default_grant_is_given_to_every_processor(template: dict[str, Any]) -> None:
    assert grants_policy(template, "Sink") == SSM


def test_the_review_says_each_grant_in_words(project: Path, template: dict[str, Any]) -> None:
    (summary,) = review_stacks({"granted": template}, granted(read_topology(project)))
    words = {f.logical_id: f.grants for f in summary.functions}
    assert words["SinkFunction"] == ["read SSM parameters under /granted/config/"]
    assert words["ArchiveFunction"][1:] == [
        "read and write objects under logs/ in S3 bucket clicks-archive",
        "read and write DynamoDB table sessions and its indexes",
        "send to SQS queue orders",
        "publish to SNS topic arn:aws:sns:us-east-1:123456789012:alerts",
        "read Secrets Manager secret prod/db",
        f"decrypt with KMS key {KEY}",
        "invoke Lambda function enrich",
        "put events on EventBridge bus clicks-bus",
        "call cloudwatch:PutMetricData on *",
    ]


def test_a_processors_grants_policy_is_counted_where_stacks_are_sized(tmp_path: Path) -> None:
    (tmp_path / "p.py").write_text("def handler(event, context):\n    pass\n")
    plain = "name: g\nprocessors:\n  a: p.py\n  b: p.py\n"
    (tmp_path / "topology.yml").write_text(plain)
    without = estimate_resources(load_topology(tmp_path))
    (tmp_path / "topology.yml").write_text(
        plain.replace("  b: p.py\n", "  b: {handler: p.py, grants: [{sqs: {queue: jobs}}]}\n")
    )
    # One more resource: b's GrantsPolicy, as the synthesized stack has it.
    assert estimate_resources(load_topology(tmp_path)) == without + 1
