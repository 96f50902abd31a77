"""Function settings from the topology file to the template: layers, vpc,
reserved_concurrency, ephemeral_storage, tracing, architecture and python.

One topology holds a processor that sets every one of them (some through ``defaults:``)
and one that sets none, so the template shows both what each setting writes and that a
function left alone keeps attak's defaults. The stack is synthesized once, with cdk-nag,
and linted with cfn-lint as every template shape attak makes is
(``test_synth_compliance.py``).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from attak_cdk.errors import Issue, TopologyError
from attak_cdk.loader import read_topology
from attak_cdk.plan.assumptions import plan_assumptions
from attak_cdk.plan.cost import plan_topology
from attak_cdk.plan.prices import read_prices
from attak_cdk.review import review_stacks
from attak_cdk.testing import run_topology
from tests.conftest import PASS_ON, SINK, WriteProject, write_files
from tests.functional.test_cli import run
from tests.functional.test_synth_compliance import (
    CFN_LINT_IGNORED,
    ERROR_SEVERITIES,
    Synthesized,
    describe,
    nag_report,
    synthesize_with_nag,
)

BASE = "arn:aws:lambda:us-east-1:123456789012:layer:base:1"
EXTRA = "arn:aws:lambda:us-east-1:123456789012:layer:extra:7"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-89abcdef"]
GROUP = "sg-0123456789abcdef0"
TOPOLOGY = f"""
name: tuned
defaults:
  layers: [{BASE}]
  tracing: true
processors:
  tuned:
    handler: p/tuned.py
    layers: [{EXTRA}]
    vpc: {{subnets: [{", ".join(SUBNETS)}], security_groups: [{GROUP}]}}
    reserved_concurrency: 5
    ephemeral_storage: 2048
    architecture: x86_64
    python: "3.12"
  plain:
    handler: p/plain.py
    tracing: false
    layers: []
streams:
  - [tuned, plain]
plan: {{rate: 100/s, duration: 20 ms}}
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = {
        "topology.yml": TOPOLOGY,
        "p/tuned.py": PASS_ON,
        "p/plain.py": SINK,
    }
    return write_files(tmp_path_factory.mktemp("tuned"), files)


@pytest.fixture(scope="module")
def synthesized(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize_with_nag("tuned", project, tmp_path_factory.mktemp("tuned-out"))


@pytest.fixture(scope="module")
def resources(synthesized: Synthesized) -> dict[str, Any]:
    template: dict[str, Any] = json.loads(synthesized.template.read_text(encoding="utf-8"))
    return dict(template["Resources"])


def function(resources: dict[str, Any], name: str) -> dict[str, Any]:
    properties: dict[str, Any] = resources[f"{name}Function"]["Properties"]
    return properties


def role_statements(resources: dict[str, Any], name: str) -> list[dict[str, Any]]:
    policy = resources[f"{name}FunctionServiceRoleDefaultPolicy"]["Properties"]
    statements: list[dict[str, Any]] = policy["PolicyDocument"]["Statement"]
    return statements


def actions_on(statements: list[dict[str, Any]]) -> dict[str, Any]:
    """Each action -> the resource(s) of the statement granting it."""
    found: dict[str, Any] = {}
    for s in statements:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        for action in actions:
            found[action] = s["Resource"]
    return found


def test_each_setting_reaches_the_function_that_sets_it(resources: dict[str, Any]) -> None:
    tuned = function(resources, "Tuned")
    assert tuned["Layers"] == [BASE, EXTRA]  # the defaults' layers first
    assert tuned["VpcConfig"] == {"SubnetIds": SUBNETS, "SecurityGroupIds": [GROUP]}
    assert tuned["ReservedConcurrentExecutions"] == 5
    assert tuned["EphemeralStorage"] == {"Size": 2048}
    assert tuned["TracingConfig"] == {"Mode": "Active"}  # from defaults
    assert tuned["Architectures"] == ["x86_64"]
    assert tuned["Runtime"] == "python3.12"


def test_a_function_that_sets_nothing_keeps_attaks_defaults(resources: dict[str, Any]) -> None:
    plain = function(resources, "Plain")
    assert plain["Layers"] == [BASE]  # layers: [] adds none to the defaults'
    for absent in ("VpcConfig", "ReservedConcurrentExecutions", "EphemeralStorage"):
        assert absent not in plain
    assert "TracingConfig" not in plain  # tracing: false overrides the default
    assert plain["Architectures"] == ["arm64"]
    assert plain["Runtime"] == "python3.13"


def test_a_vpc_function_may_manage_network_interfaces_and_nothing_wider(
    resources: dict[str, Any],
) -> None:
    granted = actions_on(role_statements(resources, "Tuned"))
    here = "arn:${AWS::Partition}:ec2:${AWS::Region}"
    interfaces = {"Fn::Sub": f"{here}:${{AWS::AccountId}}:network-interface/*"}
    assert sorted(r["Fn::Sub"] for r in granted["ec2:CreateNetworkInterface"]) == sorted(
        [interfaces["Fn::Sub"], f"{here}:*:security-group/{GROUP}"]
        + [f"{here}:*:subnet/{subnet}" for subnet in SUBNETS]
    )
    for action in (
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    ):
        assert granted[action] == interfaces
    assert granted["ec2:DescribeNetworkInterfaces"] == "*"
    assert granted["ec2:DescribeSubnets"] == "*"
    # No managed policy: the role holds exactly these statements and attak's own.
    assert "ManagedPolicyArns" not in resources["TunedFunctionServiceRole"]["Properties"]
    # Lambda checks the role when it creates the function: the function waits for it.
    assert "TunedFunctionServiceRoleDefaultPolicy" in resources["TunedFunction"]["DependsOn"]


def test_active_tracing_may_send_traces_and_a_plain_function_may_not(
    resources: dict[str, Any],
) -> None:
    granted = actions_on(role_statements(resources, "Tuned"))
    assert granted["xray:PutTraceSegments"] == "*"
    assert granted["xray:PutTelemetryRecords"] == "*"
    plain = actions_on(role_statements(resources, "Plain"))
    assert not [a for a in plain if a.startswith(("xray:", "ec2:"))]


def test_cdk_nag_finds_nothing_unacknowledged(synthesized: Synthesized) -> None:
    report = nag_report(synthesized)
    assert not report["violations"], describe(report["violations"])
    assert synthesized.error is None, synthesized.error
    assert report["conclusion"] == "success"


def test_the_settings_wildcards_are_acknowledged_on_the_role_with_why(
    synthesized: Synthesized,
) -> None:
    suppressed = nag_report(synthesized).get("suppressedViolations", [])
    on_role = {
        f["acknowledgedId"]: f for f in suppressed if "AwsSolutions-IAM5[" in f["acknowledgedId"]
    }
    assert on_role, "the VPC's and X-Ray's wildcards were expected to be acknowledged"
    for finding in on_role.values():
        assert finding["acknowledgedAt"].endswith(
            "/Tuned/FunctionServiceRole/DefaultPolicy/Resource"
        )
    everywhere = on_role["AwsSolutions::AwsSolutions-IAM5[Resource::*]"]["reason"]
    assert "no resource-level permissions" in everywhere and "X-Ray" in everywhere
    interfaces = [k for k in on_role if "network-interface/*" in k]
    assert len(interfaces) == 1 and "ids are not known" in on_role[interfaces[0]]["reason"]
    runtime = [f for f in suppressed if f["acknowledgedId"].endswith("AwsSolutions-L1")]
    assert any("pins this processor to Python 3.12" in f["reason"] for f in runtime)


def test_cfn_lint_accepts_the_settings(synthesized: Synthesized) -> None:
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(synthesized.template, config=ManualArgs(regions=["us-east-1"]))
    problems = [
        f"{m.rule.id} line {m.linenumber}: {m.message}"
        for m in matches
        if m.rule.id.startswith("E") or m.rule.id not in CFN_LINT_IGNORED
    ]
    assert not problems, "\n".join(problems)
    assert not {m.rule.id for m in matches} & ERROR_SEVERITIES


def test_the_review_names_each_functions_settings_beyond_the_defaults(
    synthesized: Synthesized, resources: dict[str, Any]
) -> None:
    template = json.loads(synthesized.template.read_text(encoding="utf-8"))
    (summary,) = review_stacks({"tuned": template})
    said = {f.logical_id: f.settings for f in summary.functions}
    assert said["TunedFunction"] == [
        "Python 3.12",
        "x86_64",
        f"layers {BASE}, {EXTRA}",
        f"in VPC subnets {', '.join(SUBNETS)} with security groups {GROUP}",
        "reserved concurrency 5",
        "/tmp 2048 MB",
        "X-Ray active tracing",
    ]
    assert said["PlainFunction"] == [f"layers {BASE}"]


def test_plan_prices_each_function_at_its_own_architecture(project: Path) -> None:
    topology = read_topology(project)
    prices = read_prices()
    assumptions, problems = plan_assumptions(topology)
    assert problems == []
    planned = {p.name: p for p in plan_topology(topology, assumptions, prices).processors}
    per_gb_second = prices.region("us-east-1").lambda_gb_second
    for name, architecture, other in (("tuned", "x86_64", "arm64"), ("plain", "arm64", "x86_64")):
        p = planned[name]
        assert p.compute > 0
        # compute / compute_other_architecture is the ratio of the two prices, to the cent.
        expected = p.gb_seconds_per_month * per_gb_second[architecture]
        assert abs(p.compute - expected) <= Decimal("0.01"), name
        assert abs(
            p.compute_other_architecture - p.gb_seconds_per_month * per_gb_second[other]
        ) <= Decimal("0.01")


def test_simulate_runs_the_settings_topology_locally(project: Path) -> None:
    result = run_topology(project, [("tuned", "hi")])
    assert [i.processor for i in result.invocations] == ["tuned", "plain"]


BAD = f"""
name: bad
defaults:
  layers: [{BASE}, not-an-arn]
processors:
  a:
    handler: p/plain.py
    layers: [{", ".join(f"arn:aws:lambda:us-east-1:123456789012:layer:l{i}:1" for i in range(5))}]
    vpc: {{subnets: [subnet-123], security_groups: [{GROUP}]}}
    ephemeral_storage: 100
    architecture: arm
    python: "3.8"
    tracing: "yes"
"""


def test_every_bad_setting_is_reported_with_file_and_path_at_once(
    write_project: WriteProject,
) -> None:
    root = write_project({"p/plain.py": SINK, "topology.yml": BAD})
    with pytest.raises(TopologyError) as raised:
        read_topology(root)
    found = {issue.path: issue.message for issue in raised.value.issues}
    assert all(issue.file.endswith("topology.yml") for issue in raised.value.issues)
    assert "not a layer version ARN" in found["defaults.layers[1]"]
    assert found["processors.a.layers"] == (
        "6 layers with the 1 of defaults.layers; Lambda allows at most 5 per function"
    )
    assert "not a subnet id" in found["processors.a.vpc.subnets[0]"]
    assert "from 512 to 10240 MB (given 100)" in found["processors.a.ephemeral_storage"]
    assert "one of arm64, x86_64 (given 'arm')" in found["processors.a.architecture"]
    assert "deprecated in AWS Lambda since 2024-10-14" in found["processors.a.python"]
    assert "true or false (given 'yes')" in found["processors.a.tracing"]
    assert len(found) == 7


def test_attak_validate_exits_1_on_a_bad_setting(write_project: WriteProject) -> None:
    root = write_project({"p/plain.py": SINK, "topology.yml": BAD})
    code, _, err = run("validate", str(root))
    assert code == 1
    assert "processors.a.vpc.subnets[0]" in err and "topology.yml" in err


def test_a_processors_vpc_replaces_the_defaults_vpc(write_project: WriteProject) -> None:
    other = "subnet-fedcba9876543210f"
    root = write_project(
        {
            "p/plain.py": SINK,
            "topology.yml": f"""
                name: placed
                defaults:
                  vpc: {{subnets: [{SUBNETS[0]}], security_groups: [{GROUP}]}}
                processors:
                  inherits: p/plain.py
                  own:
                    handler: p/plain.py
                    vpc: {{subnets: [{other}], security_groups: [{GROUP}]}}
            """,
        }
    )
    processors = read_topology(root).processors
    inherited, own = processors["inherits"].vpc, processors["own"].vpc
    assert inherited is not None and inherited.subnets == (SUBNETS[0],)
    assert own is not None and own.subnets == (other,)


def test_reserving_more_than_a_default_account_allows_is_a_warning(
    write_project: WriteProject,
) -> None:
    from attak_cdk import validate

    def reserving(a: int, b: int) -> list[Issue]:
        root = write_project(
            {
                "p/plain.py": SINK,
                "topology.yml": f"""
                    name: reserving
                    processors:
                      a: {{handler: p/plain.py, reserved_concurrency: {a}}}
                      b: {{handler: p/plain.py, reserved_concurrency: {b}}}
                """,
            }
        )
        return list(validate.reserved_concurrency(read_topology(root)))

    assert reserving(500, 400) == []  # 900: the default 1,000 less the 100 kept unreserved
    (issue,) = reserving(600, 400)
    assert (issue.severity, issue.path) == ("warning", "processors.a.reserved_concurrency")
    assert "reserve 1000 concurrent executions together (a 600, b 400)" in issue.message
    assert "can reserve at most 900" in issue.message
