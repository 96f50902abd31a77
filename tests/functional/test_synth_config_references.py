"""Environment values kept in SSM and Secrets Manager, as synthesized.

The function's environment holds only the references (``ATTAK_CONFIG``), never a value
nor a dynamic reference CloudFormation would resolve into one; its role may call
``ssm:GetParameters`` on exactly the parameters referenced, ``secretsmanager:GetSecretValue``
on exactly the secrets (``-??????`` for one named by name), and ``kms:Decrypt`` only on a
customer managed key named with ``kms_key``. cdk-nag finds nothing unacknowledged, cfn-lint
nothing, and ``attak synth``'s review says each reference in words.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from attak_cdk.project import load_topology
from attak_cdk.review import configured, review_stacks
from tests.conftest import PASS_ON, SINK, write_files
from tests.functional.test_synth_compliance import (
    CFN_LINT_IGNORED,
    Synthesized,
    describe,
    nag_report,
    synthesize_with_nag,
)

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SHARED = "arn:aws:ssm:us-east-1:210987654321:parameter/shared/endpoint"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/keyed-AbCdEf"
TOPOLOGY = f"""
name: configured
defaults:
  environment:
    API_URL: {{ssm: /clickstream/api-url}}
processors:
  parse:
    handler: p/parse.py
    environment:
      STAGE: prod
      DB_PASSWORD: {{secret: prod/clickstream/db, key: password}}
      DB_USER: {{secret: prod/clickstream/db, key: user}}
      SIGNING_KEY: {{secret: "{SECRET_ARN}", kms_key: "{KEY}"}}
      ENDPOINT: {{ssm: "{SHARED}"}}
  sink: p/sink.py
streams:
  - [parse, sink]
"""
HERE = "${AWS::Region}:${AWS::AccountId}"


def sub(arn: str) -> dict[str, str]:
    return {"Fn::Sub": arn}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = {
        "topology.yml": TOPOLOGY,
        "p/parse.py": PASS_ON,
        "p/sink.py": SINK,
    }
    return write_files(tmp_path_factory.mktemp("configured"), files)


@pytest.fixture(scope="module")
def synthesized(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize_with_nag("configured", project, tmp_path_factory.mktemp("out"))


@pytest.fixture(scope="module")
def template(synthesized: Synthesized) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(synthesized.template.read_text(encoding="utf-8"))
    return document


def variables(template: dict[str, Any], function: str) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"][function]["Properties"]["Environment"][
        "Variables"
    ]
    return found


def configuration_statements(template: dict[str, Any], processor: str) -> list[Any]:
    """The statements of the function's default policy on SSM, Secrets Manager and KMS."""
    (policy,) = [
        v["Properties"]["PolicyDocument"]["Statement"]
        for k, v in template["Resources"].items()
        if v["Type"] == "AWS::IAM::Policy"
        and k.startswith(f"{processor}FunctionServiceRoleDefaultPolicy")
    ]
    return [
        s
        for s in policy
        if str(s["Action"]).startswith(("ssm:", "secretsmanager:", "kms:"))
        or any(str(a).startswith(("ssm:", "secretsmanager:", "kms:")) for a in s["Action"])
    ]


def test_the_environment_holds_the_references_and_no_value(template: dict[str, Any]) -> None:
    parse = variables(template, "ParseFunction")
    assert json.loads(parse["ATTAK_CONFIG"]) == {
        "API_URL": {"ssm": "/clickstream/api-url"},
        "DB_PASSWORD": {"secret": "prod/clickstream/db", "key": "password"},
        "DB_USER": {"secret": "prod/clickstream/db", "key": "user"},
        "ENDPOINT": {"ssm": SHARED},
        "SIGNING_KEY": {"secret": SECRET_ARN},
    }
    assert parse["STAGE"] == "prod"
    for name in ("API_URL", "DB_PASSWORD", "DB_USER", "ENDPOINT", "SIGNING_KEY"):
        assert name not in parse  # read at cold start, into the variable of that name
    assert "resolve:" not in json.dumps(template)  # no dynamic reference anywhere
    sink = variables(template, "SinkFunction")
    assert json.loads(sink["ATTAK_CONFIG"]) == {"API_URL": {"ssm": "/clickstream/api-url"}}


def test_the_role_may_read_exactly_the_referenced_parameters_and_secrets(
    template: dict[str, Any],
) -> None:
    assert configuration_statements(template, "Parse") == [
        {
            "Action": "ssm:GetParameters",
            "Effect": "Allow",
            "Resource": [
                SHARED,
                sub(f"arn:${{AWS::Partition}}:ssm:{HERE}:parameter/clickstream/api-url"),
            ],
        },
        {
            "Action": "secretsmanager:GetSecretValue",
            "Effect": "Allow",
            "Resource": [
                SECRET_ARN,
                sub(
                    f"arn:${{AWS::Partition}}:secretsmanager:{HERE}:secret:prod/clickstream/db-??????"
                ),
            ],
        },
        {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": KEY},
    ]
    assert configuration_statements(template, "Sink") == [
        {
            "Action": "ssm:GetParameters",
            "Effect": "Allow",
            "Resource": sub(f"arn:${{AWS::Partition}}:ssm:{HERE}:parameter/clickstream/api-url"),
        }
    ]


def test_cdk_nag_finds_nothing_unacknowledged(synthesized: Synthesized) -> None:
    report = nag_report(synthesized)
    assert not report["violations"], describe(report["violations"])
    assert synthesized.error is None, synthesized.error
    assert report["conclusion"] == "success"


def test_cfn_lint_finds_nothing(synthesized: Synthesized) -> None:
    matches = lint_file(synthesized.template, config=ManualArgs(regions=["us-east-1"]))
    unexplained = [m for m in matches if m.rule.id not in CFN_LINT_IGNORED]
    assert not unexplained, [f"{m.rule.id}: {m.message}" for m in unexplained]


def test_the_review_says_each_reference_in_words(project: Path, template: dict[str, Any]) -> None:
    (summary,) = review_stacks({"configured": template}, {}, configured(load_topology(project)))
    words = {f.logical_id: f.configuration for f in summary.functions}
    assert words["ParseFunction"] == [
        "API_URL from SSM parameter /clickstream/api-url",
        "DB_PASSWORD from field 'password' of Secrets Manager secret prod/clickstream/db",
        "DB_USER from field 'user' of Secrets Manager secret prod/clickstream/db",
        f"SIGNING_KEY from Secrets Manager secret {SECRET_ARN} (decrypted with KMS key {KEY})",
        f"ENDPOINT from SSM parameter {SHARED}",
    ]
    assert words["SinkFunction"] == ["API_URL from SSM parameter /clickstream/api-url"]


def test_attak_synth_prints_what_each_function_reads_at_cold_start(
    project: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    result = CliRunner().invoke(app, ["synth", str(project), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "read at cold start" in text
    assert "sink: API_URL from SSM parameter /clickstream/api-url" in text
    assert (
        "parse: DB_PASSWORD from field 'password' of Secrets Manager secret prod/clickstream/db"
    ) in text
