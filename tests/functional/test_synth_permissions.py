"""Least privilege, exactly: every statement of every role of a fan-out/fan-in topology.

The topology has every shape a grant follows: ``fan`` has an ingest stream and writes
three streams; ``join`` reads two; ``left`` and ``join`` make a loop. Each role must allow
exactly, as (action, resource) pairs with resources read as the logical ids they point at:

- its own log group: ``logs:CreateLogStream``, ``logs:PutLogEvents``;
- its own dead-letter queue: ``sqs:SendMessage``;
- each stream it reads: the five actions of a standard event-source mapping;
- each stream it writes: ``kinesis:PutRecords``;

and nothing else: no managed policy, no inline policy, no other policy attached, no
condition, no wildcard. The grouping of pairs into statements is the CDK's (its policy
minimisation merges statements), so it is the pairs that are compared.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from attak_cdk.cdk.app import synthesize
from tests.conftest import PASS_ON, SINK

TOPOLOGY = """
name: fan-in-out
processors:
  fan: {handler: p/fan.py, input: stream}
  left: p/step.py
  right: p/step.py
  join: p/step.py
  audit: p/sink.py
streams:
  - [fan, left]
  - [fan, right]
  - [fan, audit]
  - [left, join]
  - [right, join]
  - [join, left]
"""

LOGS = ("logs:CreateLogStream", "logs:PutLogEvents")
DEAD_LETTERS = ("sqs:SendMessage",)
READ = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)
PUT = ("kinesis:PutRecords",)

Pairs = set[tuple[str, str]]


def own(prefix: str) -> Pairs:
    """What every function may do with its own resources: log, and dead-letter."""
    return {(a, f"{prefix}LogGroup") for a in LOGS} | {
        (a, f"{prefix}DeadLetterQueue") for a in DEAD_LETTERS
    }


def reads(*streams: str) -> Pairs:
    return {(a, s) for s in streams for a in READ}


def puts(*streams: str) -> Pairs:
    return {(a, s) for s in streams for a in PUT}


EXPECTED: dict[str, Pairs] = {
    "FanFunction": own("Fan")
    | reads("FanInputStream")
    | puts("FanToLeftStream", "FanToRightStream", "FanToAuditStream"),
    "LeftFunction": own("Left")
    | reads("FanToLeftStream", "JoinToLeftStream")
    | puts("LeftToJoinStream"),
    "RightFunction": own("Right") | reads("FanToRightStream") | puts("RightToJoinStream"),
    "JoinFunction": own("Join")
    | reads("LeftToJoinStream", "RightToJoinStream")
    | puts("JoinToLeftStream"),
    "AuditFunction": own("Audit") | reads("FanToAuditStream"),
}
"""Function logical id -> every (action, resource logical id) its role allows."""


@pytest.fixture(scope="module")
def resources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("fan-in-out")
    files = {
        "topology.yml": TOPOLOGY,
        "p/fan.py": PASS_ON,
        "p/step.py": PASS_ON,
        "p/sink.py": SINK,
    }
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text.lstrip("\n"), encoding="utf-8")
    (template,) = synthesize(root, tmp_path_factory.mktemp("out")).values()
    document: dict[str, Any] = json.loads(Path(template).read_text(encoding="utf-8"))
    return document["Resources"]


def of_type(resources: dict[str, Any], type_: str) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == type_}


def arn_of(resource: Any) -> str:
    """The logical id a statement's resource is the ARN of: ``Fn::GetAtt [X, Arn]`` only
    (a ``*``, a pattern or a hand-built ARN fails here)."""
    assert isinstance(resource, dict) and list(resource) == ["Fn::GetAtt"], resource
    target, attribute = resource["Fn::GetAtt"]
    assert attribute == "Arn", resource
    return str(target)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allowed(resources: dict[str, Any], role: str) -> Pairs:
    """Every (action, resource) the role's policies allow; fails on anything that is not a
    plain Allow of listed actions on listed ARNs."""
    policies = [
        p["Properties"]
        for p in of_type(resources, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
    ]
    assert len(policies) == 1, f"{role}: {len(policies)} policies attached"
    assert policies[0]["Roles"] == [{"Ref": role}], "a policy shared between roles"
    pairs: Pairs = set()
    for statement in policies[0]["PolicyDocument"]["Statement"]:
        assert set(statement) == {"Action", "Effect", "Resource"}, statement
        assert statement["Effect"] == "Allow", statement
        for action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                pairs.add((action, arn_of(resource)))
    return pairs


def test_every_function_has_its_own_role(resources: dict[str, Any]) -> None:
    functions = of_type(resources, "AWS::Lambda::Function")
    assert set(functions) == set(EXPECTED)
    roles = {f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()}
    assert roles == set(of_type(resources, "AWS::IAM::Role"))
    assert len(roles) == len(functions)


def test_roles_carry_no_managed_or_inline_policy(resources: dict[str, Any]) -> None:
    for role, definition in of_type(resources, "AWS::IAM::Role").items():
        properties = definition["Properties"]
        assert set(properties) == {"AssumeRolePolicyDocument"}, (role, properties)
        assert properties["AssumeRolePolicyDocument"]["Statement"] == [
            {
                "Action": "sts:AssumeRole",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
            }
        ], role
    assert not of_type(resources, "AWS::IAM::ManagedPolicy")


@pytest.mark.parametrize("function", sorted(EXPECTED))
def test_each_role_allows_exactly_what_its_processor_uses(
    resources: dict[str, Any], function: str
) -> None:
    role = resources[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    assert allowed(resources, role) == EXPECTED[function]


def test_each_role_reads_exactly_the_streams_mapped_into_its_function(
    resources: dict[str, Any],
) -> None:
    """The read grants and the mappings agree: nothing mapped without its permission, no
    permission without a mapping."""
    mapped: dict[str, set[str]] = {}
    for mapping in of_type(resources, "AWS::Lambda::EventSourceMapping").values():
        properties = mapping["Properties"]
        function = properties["FunctionName"]["Ref"]
        mapped.setdefault(function, set()).add(arn_of(properties["EventSourceArn"]))
    for function, pairs in EXPECTED.items():
        assert mapped.get(function, set()) == {r for a, r in pairs if a in READ}, function


def test_failures_go_only_to_the_processors_own_dead_letter_queue(
    resources: dict[str, Any],
) -> None:
    """The on-failure destinations (mappings and direct invokes) that Lambda sends to with
    the role's ``sqs:SendMessage``: each the function's own queue."""
    destinations: list[tuple[str, str]] = []
    for type_, function_key in (
        ("AWS::Lambda::EventSourceMapping", "FunctionName"),
        ("AWS::Lambda::EventInvokeConfig", "FunctionName"),
    ):
        for definition in of_type(resources, type_).values():
            properties = definition["Properties"]
            queue = arn_of(properties["DestinationConfig"]["OnFailure"]["Destination"])
            destinations.append((properties[function_key]["Ref"], queue))
    assert len(destinations) == 7 + 5  # seven mappings, five functions' invoke configs
    for function, queue in destinations:
        assert queue == function.removesuffix("Function") + "DeadLetterQueue", function
