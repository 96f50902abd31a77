"""The synthesized stack passes cdk-nag (AwsSolutions) and cfn-lint.

Three topologies are synthesized once each: the sample, `attak init --template
clickstream`'s project, and a richer one with every shape attak generates (a direct
entry, an ``input: stream`` ingest, topic streams, a provisioned stream, environment
variables, more than five streams so they are created in waves, an alerts topic, grants
with wildcards: a prefix, a table's indexes, and one the user wrote with its reason, an
HTTPS endpoint with IAM auth and a public one with its reason, schedules).

cdk-nag 3 runs as an aws-cdk-lib validation plugin: ``app.synth()`` writes
``validation-report.json`` into the cloud assembly and, under pytest, raises
``ValidationFailed`` when a violation is left unacknowledged. The tests read that report.
Every finding attak's design departs from is acknowledged in ``attak_cdk/cdk/nag.py``,
construct by construct, with its reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint_file

from attak_cdk.cdk.app import build_app
from cli.scaffold import scaffold
from tests.conftest import PASS_ON, REVERSE, SAMPLE, SINK

NAG_PLUGIN = "AwsSolutions"
ERROR_SEVERITIES = {"error", "fatal"}

ACKNOWLEDGED = {
    "AwsSolutions::AwsSolutions-SQS3": "DeadLetterQueue",
    "AwsSolutions::AwsSolutions-L1": "Function/Resource",
    "AwsSolutions::AwsSolutions-IAM5": "GrantsPolicy/Resource",
}
"""Every acknowledged rule -> the one construct, below each processor, it is scoped to."""

CFN_LINT_IGNORED = {
    "W3005": "aws-cdk-lib's Function depends on its whole service role so that the role's "
    "DefaultPolicy exists before the function; the Role half of that DependsOn duplicates "
    "the GetAtt in Role, which is redundant but harmless",
}
"""cfn-lint warnings accepted, with why; every other warning (and every error) fails."""

RICH_TOPOLOGY = """
name: rich-pipeline
processors:
  spout:
    handler: processors/spout.py
    input: stream
    http: true
    environment: {STAGE: test, GREETING: hello}
    schedule: rate(5 minutes)
  reverse:
    handler: processors/reverse.py
    memory: 512
    timeout: 30
    environment: {COUNT: 3}
  audit:
    handler: processors/audit.py
    http:
      auth: none
      cors: [https://audit.example.com]
      reason: the auditors' form posts here from their browsers, which cannot sign requests
    schedule: {every: "cron(0 8 ? * MON-FRI *)", event: {kind: daily}}
    grants:
      - s3: {bucket: rich-archive, prefix: audit/, access: write}
      - dynamodb: {table: sessions}
      - statement:
          actions: [cloudwatch:PutMetricData]
          resources: ["*"]
          reason: PutMetricData supports no resource-level permissions
  sink: processors/sink.py
streams:
  - {from: spout, to: reverse, topic: out}
  - {from: reverse, to: sink, topic: reversed strings, shards: 2, batch_size: 10}
  - [spout, sink]
  - {from: audit, to: sink, shards: 1, retention_hours: 48}
  - {from: audit, to: reverse, topic: out}
alerts: [oncall@example.com, arn:aws:sns:us-east-1:123456789012:pager]
"""


@dataclass(frozen=True)
class Synthesized:
    name: str
    template: Path
    report: dict[str, Any]
    error: str | None
    """The exception ``app.synth()`` raised, if any (an unacknowledged violation)."""


def synthesize_with_nag(name: str, topology: Path, outdir: Path) -> Synthesized:
    app = build_app(topology, outdir)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        app.synth()
        error = None
    except RuntimeError as exc:  # jsii's form of the CDK's ValidationFailed
        if not (outdir / "validation-report.json").is_file():
            raise  # failed before validation: not a finding
        error = str(exc)
    (template,) = outdir.glob("*.template.json")
    report = json.loads((outdir / "validation-report.json").read_text(encoding="utf-8"))
    return Synthesized(name, template, report, error)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize_with_nag("sample", SAMPLE, tmp_path_factory.mktemp("sample-out"))


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    root = tmp_path_factory.mktemp("rich")
    files = {
        "processors/spout.py": PASS_ON,
        "processors/reverse.py": REVERSE,
        "processors/audit.py": PASS_ON,
        "processors/sink.py": SINK,
        "topology.yml": RICH_TOPOLOGY,
    }
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip("\n"), encoding="utf-8")
    return synthesize_with_nag("rich", root, tmp_path_factory.mktemp("rich-out"))


@pytest.fixture(scope="module")
def clickstream(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """`attak init --template clickstream`'s project, as a user gets it."""
    root = tmp_path_factory.mktemp("clickstream") / "clicks"
    scaffold(root, template="clickstream")
    return synthesize_with_nag("clickstream", root, tmp_path_factory.mktemp("clickstream-out"))


@pytest.fixture(params=["sample", "rich", "clickstream"])
def synthesized(request: pytest.FixtureRequest) -> Synthesized:
    result: Synthesized = request.getfixturevalue(request.param)
    return result


def nag_report(synthesized: Synthesized) -> dict[str, Any]:
    reports = [r for r in synthesized.report["pluginReports"] if r["pluginName"] == NAG_PLUGIN]
    assert len(reports) == 1, synthesized.report["pluginReports"]
    report: dict[str, Any] = reports[0]
    return report


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['severity']} {v['ruleName']}: {v['description']} at "
        + ", ".join(c["constructPath"] for c in v["violatingConstructs"])
        for v in violations
    )


def test_the_rich_topology_has_every_resource_shape(rich: Synthesized) -> None:
    resources = json.loads(rich.template.read_text(encoding="utf-8"))["Resources"]
    streams = {
        k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::Kinesis::Stream"
    }
    assert len(streams) == 6  # five edges and spout's ingest stream: created in two waves
    modes = [s["StreamModeDetails"]["StreamMode"] for s in streams.values()]
    assert modes.count("PROVISIONED") == 2
    assert sorted(s["ShardCount"] for s in streams.values() if "ShardCount" in s) == [1, 2]
    assert any("DependsOn" in v for k, v in resources.items() if k in streams)
    functions = [
        v["Properties"] for v in resources.values() if v["Type"] == "AWS::Lambda::Function"
    ]
    assert len(functions) == 4
    variables = [f["Environment"]["Variables"] for f in functions]
    assert any(v.get("STAGE") == "test" for v in variables)
    assert "AuditGrantsPolicy" in "".join(resources)
    urls = sorted(
        v["Properties"]["AuthType"] for v in resources.values() if v["Type"] == "AWS::Lambda::Url"
    )
    assert urls == ["AWS_IAM", "NONE"]
    rules = [v for v in resources.values() if v["Type"] == "AWS::Events::Rule"]
    assert len(rules) == 2  # spout's and audit's schedules


def test_a_wildcard_grant_is_acknowledged_with_the_users_reason(rich: Synthesized) -> None:
    suppressed = nag_report(rich).get("suppressedViolations", [])
    reasons = [f["reason"] for f in suppressed if "AwsSolutions-IAM5[" in f["acknowledgedId"]]
    assert reasons, "the grants' wildcards were expected to be acknowledged"
    assert len(reasons) == 3  # the prefix, the table's indexes, and the user's statement
    assert any("PutMetricData supports no resource-level permissions" in r for r in reasons)


def test_cdk_nag_finds_no_unacknowledged_error(synthesized: Synthesized) -> None:
    report = nag_report(synthesized)
    errors = [v for v in report["violations"] if v["severity"] in ERROR_SEVERITIES]
    assert not errors, f"cdk-nag errors in {synthesized.name}:\n{describe(errors)}"
    assert synthesized.error is None, synthesized.error
    assert report["conclusion"] == "success"


def test_cdk_nag_finds_no_unacknowledged_warning(synthesized: Synthesized) -> None:
    report = nag_report(synthesized)
    warnings = [v for v in report["violations"] if v["severity"] not in ERROR_SEVERITIES]
    assert not warnings, f"cdk-nag warnings in {synthesized.name}:\n{describe(warnings)}"


def test_every_acknowledgement_is_reasoned_and_scoped_to_one_construct(
    synthesized: Synthesized,
) -> None:
    suppressed = nag_report(synthesized).get("suppressedViolations", [])
    assert suppressed, "nag.py's acknowledgements were expected to apply"
    # Acknowledgements live in the assembly's metadata, never in the template.
    assert "cdk_nag" not in synthesized.template.read_text(encoding="utf-8")
    for finding in suppressed:
        rule, where = finding["acknowledgedId"], finding["acknowledgedAt"]
        rule = rule.partition("[")[0]  # IAM5[Resource::ARN]: one per wildcard granted
        assert rule in ACKNOWLEDGED, f"unexpected acknowledgement {rule} at {where}"
        assert len(finding["reason"].strip()) > 40, f"{rule} at {where}: reason too thin"
        # Scoped to one processor's queue, role or function: never the stack or topology.
        _, topology, processor, *inside = where.split("/")
        assert (topology, "/".join(inside)) == ("Topology", ACKNOWLEDGED[rule]), where
        assert processor, where
        for construct in finding["violatingConstructs"]:
            path = construct["constructPath"]
            assert path == where or path.startswith(f"{where}/"), (rule, path)


def test_cfn_lint_reports_no_error_and_no_unexplained_warning(synthesized: Synthesized) -> None:
    matches = lint_file(synthesized.template, config=ManualArgs(regions=["us-east-1"]))
    listing = "\n".join(
        f"{m.rule.id} line {m.linenumber}: {m.message}"
        for m in sorted(matches, key=lambda m: m.linenumber)
    )
    errors = [m for m in matches if m.rule.id.startswith("E")]
    assert not errors, f"cfn-lint errors in {synthesized.name}:\n{listing}"
    unexplained = [m for m in matches if m.rule.id not in CFN_LINT_IGNORED]
    assert not unexplained, f"cfn-lint warnings in {synthesized.name}:\n{listing}"
