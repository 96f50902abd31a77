"""``http:`` in the synthesized stack: a function URL per http entry, IAM auth unless made
public (then the two public permissions, acknowledged to cdk-nag with the user's reason),
its URL as an output and in the manifest, the review's words, and the stack sizing.

moto's CloudFormation makes no ``AWS::Lambda::Url`` (it skips the resource type, and a
``Fn::GetAtt`` on it fails the stack), so the deployed URL cannot be checked against the
moto server: the template is checked here, and cfn-lint and cdk-nag's AwsSolutions pack
read it in ``test_synth_compliance.py``.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cdk_nag import NIST80053R5Checks

from attak_cdk.cdk.app import build_app, synthesize
from attak_cdk.manifest import parse
from attak_cdk.project import load_topology
from attak_cdk.review import review_stacks
from attak_cdk.stacks import estimate_resources
from tests.conftest import PASS_ON, SINK, write_files

REASON = "the payment provider posts its webhooks here and cannot sign them"
TOPOLOGY = f"""
name: hooks
processors:
  signed: {{handler: p/entry.py, http: true}}
  public:
    handler: p/entry.py
    http: {{auth: none, cors: [https://app.example.com], reason: {REASON}}}
  sink: p/sink.py
streams:
  - [signed, sink]
  - [public, sink]
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = {
        "topology.yml": TOPOLOGY,
        "p/entry.py": PASS_ON,
        "p/sink.py": SINK,
    }
    return write_files(tmp_path_factory.mktemp("hooks"), files)


@pytest.fixture(scope="module")
def template(project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    (file,) = synthesize(project, tmp_path_factory.mktemp("out")).values()
    document: dict[str, Any] = json.loads(Path(file).read_text(encoding="utf-8"))
    return document


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == kind}


def test_an_http_entry_gets_a_function_url_with_iam_auth_by_default(
    template: dict[str, Any],
) -> None:
    urls = of_type(template, "AWS::Lambda::Url")
    assert urls["SignedFunctionFunctionUrl"] == {
        "AuthType": "AWS_IAM",
        "TargetFunctionArn": {"Fn::GetAtt": ["SignedFunction", "Arn"]},
    }
    assert set(urls) == {"SignedFunctionFunctionUrl", "PublicFunctionFunctionUrl"}
    permissions = of_type(template, "AWS::Lambda::Permission")
    # An IAM endpoint opens nothing: callers need their own lambda:InvokeFunctionUrl.
    assert not [p for p in permissions.values() if "SignedFunction" in json.dumps(p)]


def test_a_public_endpoint_allows_anyone_both_actions_and_its_origins_post_only(
    template: dict[str, Any],
) -> None:
    url = of_type(template, "AWS::Lambda::Url")["PublicFunctionFunctionUrl"]
    assert url["AuthType"] == "NONE"
    assert url["Cors"]["AllowOrigins"] == ["https://app.example.com"]
    assert url["Cors"]["AllowMethods"] == ["POST"]
    permissions = of_type(template, "AWS::Lambda::Permission")
    public = {
        p["Action"]: p
        for p in permissions.values()
        if p["FunctionName"] == {"Fn::GetAtt": ["PublicFunction", "Arn"]}
    }
    assert set(public) == {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}
    assert all(p["Principal"] == "*" for p in public.values())
    assert public["lambda:InvokeFunctionUrl"]["FunctionUrlAuthType"] == "NONE"


def resolved_manifest(template: dict[str, Any]) -> dict[str, Any]:
    """The manifest output with each reference written as ``<logical id>``."""
    parts = template["Outputs"]["Manifest"]["Value"]["Fn::Join"][1]
    text = "".join(
        part if isinstance(part, str) else f"<{part.get('Ref') or '.'.join(part['Fn::GetAtt'])}>"
        for part in parts
    )
    document: dict[str, Any] = json.loads(text)
    return document


def test_the_url_is_an_output_and_in_the_manifest_with_its_auth(template: dict[str, Any]) -> None:
    output = template["Outputs"]["SignedFunctionUrl"]
    assert output["Value"] == {"Fn::GetAtt": ["SignedFunctionFunctionUrl", "FunctionUrl"]}
    assert "HTTPS endpoint, IAM auth" in output["Description"]
    manifest = parse(json.dumps(resolved_manifest(template)), "hooks")
    signed, public = manifest.processors["signed"], manifest.processors["public"]
    assert (signed.url, signed.url_auth) == ("<SignedFunctionFunctionUrl.FunctionUrl>", "iam")
    assert (public.url, public.url_auth) == ("<PublicFunctionFunctionUrl.FunctionUrl>", "none")
    assert "url" not in resolved_manifest(template)["processors"]["sink"]  # as it was before


def test_the_review_says_each_endpoint_in_words(template: dict[str, Any]) -> None:
    (summary,) = review_stacks({"hooks": template})
    words = {f.logical_id: f.endpoint for f in summary.functions}
    assert words == {
        "SignedFunction": "HTTPS endpoint, IAM auth",
        "PublicFunction": "HTTPS endpoint, public (no auth)",
        "SinkFunction": None,
    }


def test_the_endpoint_resources_are_counted_where_stacks_are_sized(
    project: Path, template: dict[str, Any]
) -> None:
    without = TOPOLOGY.replace("http: true", "input: direct")
    (project / "bare").mkdir(exist_ok=True)
    bare = project / "bare" / "topology.yml"
    bare.write_text(
        without.replace(
            f"    http: {{auth: none, cors: [https://app.example.com], reason: {REASON}}}\n", ""
        ).replace("p/", "../p/"),
        encoding="utf-8",
    )
    # The URL of each, and the two permissions of the public one, as the template has them.
    assert (
        estimate_resources(load_topology(project))
        == estimate_resources(load_topology(bare.parent)) + 4
    )
    assert (
        len(of_type(template, "AWS::Lambda::Url"))
        + len(of_type(template, "AWS::Lambda::Permission"))
        == 4
    )


def test_a_public_endpoint_is_acknowledged_with_the_users_reason(
    project: Path, tmp_path: Path
) -> None:
    """NIST 800-53 (like HIPAA and PCI DSS) flags a permission anyone may use; the public
    endpoint's two are acknowledged there, each, with the reason the topology gives."""
    app = build_app(project, tmp_path)
    cdk.Validations.of(app).add_plugins(NIST80053R5Checks(app))
    with contextlib.suppress(RuntimeError):  # NIST's other rules fail it: read the report
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text(encoding="utf-8"))
    (nist,) = [r for r in report["pluginReports"] if r["pluginName"] == "NIST.800.53.R5"]
    rule = "NIST.800.53.R5-LambdaFunctionPublicAccessProhibited"
    assert not [v for v in nist["violations"] if v["ruleName"] == rule]
    suppressed = [
        s for s in nist.get("suppressedViolations", []) if s["acknowledgedId"].endswith(rule)
    ]
    assert sorted(s["acknowledgedAt"].rsplit("/", 1)[-1] for s in suppressed) == [
        "invoke-function",
        "invoke-function-url",
    ]
    assert all(s["reason"] == f"processors.public.http: {REASON}" for s in suppressed)
