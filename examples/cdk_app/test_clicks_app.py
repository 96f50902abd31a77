"""Tests of the example app (``python -m pytest`` in this folder): its own wiring, attak's
resources beside it, and cdk-nag's AwsSolutions checks with nothing left unacknowledged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from app import HERE, ClicksStack
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from attak_cdk.testing import run_topology


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[ClicksStack, Path]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(outdir))
    stack = ClicksStack(app, "Clicks")
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()  # raises, naming each finding, if one is left unacknowledged
    return stack, outdir


@pytest.fixture(scope="module")
def stack(synthesized: tuple[ClicksStack, Path]) -> ClicksStack:
    return synthesized[0]


@pytest.fixture(scope="module")
def template(synthesized: tuple[ClicksStack, Path]) -> Template:
    stack, outdir = synthesized
    document = json.loads((outdir / stack.template_file).read_text(encoding="utf-8"))
    return Template.from_json(document)


def ref(stack: ClicksStack, value: str) -> Any:
    """What ``value`` (a token, such as a role's name) becomes in the template."""
    return stack.resolve(value)


def policy_of(template: Template, stack: ClicksStack, processor: str) -> list[dict[str, Any]]:
    """The statements of the default policy on ``processor``'s role."""
    role = ref(stack, stack.topology.role(processor).role_name)
    policies = template.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [role]}})
    (policy,) = policies.values()
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_bucket_grant_write_lands_in_the_archive_functions_own_role(
    template: Template, stack: ClicksStack
) -> None:
    bucket = ref(stack, stack.bucket.bucket_arn)
    statements = policy_of(template, stack, "archive")
    (granted,) = [s for s in statements if "s3:PutObject" in s["Action"]]
    assert granted["Resource"] == [bucket, {"Fn::Join": ["", [bucket, "/*"]]}]
    for other in ("parse", "alert"):
        actions = [a for s in policy_of(template, stack, other) for a in _list(s["Action"])]
        assert not [a for a in actions if a.startswith("s3:")], other


def test_the_alert_function_may_send_to_the_apps_queue_and_knows_its_url(
    template: Template, stack: ClicksStack
) -> None:
    queue_arn = ref(stack, stack.alerts.queue_arn)
    statements = policy_of(template, stack, "alert")
    assert any(
        "sqs:SendMessage" in _list(s["Action"]) and s["Resource"] == queue_arn for s in statements
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Role": ref(stack, stack.topology.role("alert").role_arn),
            "Environment": {
                "Variables": Match.object_like(
                    {"ALERTS_QUEUE_URL": ref(stack, stack.alerts.queue_url)}
                )
            },
        },
    )


def test_the_producer_role_may_write_into_the_ingest_stream_only(
    template: Template, stack: ClicksStack
) -> None:
    ingest = ref(stack, stack.topology.ingest_stream("parse").stream_arn)
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [ref(stack, stack.producer.role_name)],
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": ["kinesis:ListShards", "kinesis:PutRecord", "kinesis:PutRecords"],
                        "Effect": "Allow",
                        "Resource": ingest,
                    }
                ]
            },
        },
    )


def test_attaks_resources_are_all_there(template: Template) -> None:
    template.resource_count_is("AWS::Lambda::Function", 3)  # parse, archive, alert
    template.resource_count_is("AWS::Kinesis::Stream", 3)  # two streams and parse's ingest
    template.resource_count_is("AWS::Lambda::EventSourceMapping", 3)
    template.resource_count_is("AWS::SQS::Queue", 5)  # a dead-letter queue each, and the app's two
    template.resource_count_is("AWS::CloudWatch::Alarm", 15)  # five per processor
    template.has_output("ArchiveDeadLetters", {})


def test_cdk_nag_finds_nothing_unacknowledged(synthesized: tuple[ClicksStack, Path]) -> None:
    _, outdir = synthesized
    report = json.loads((outdir / "validation-report.json").read_text(encoding="utf-8"))
    (nag,) = [r for r in report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    assert nag["violations"] == []


def test_the_pipeline_simulated_with_spies_for_the_bucket_and_the_queue() -> None:
    # archive and alert reach AWS: in a local run, spies stand in for them.
    archived: list[Any] = []
    alerted: list[Any] = []
    result = run_topology(
        HERE,
        [
            ("parse", '{"user": "ada", "page": "/pricing", "per_minute": 3}'),
            ("parse", '{"user": "bot", "page": "/login", "per_minute": 900}'),
        ],
        handlers={
            "archive": lambda event, context: archived.append(event),
            "alert": lambda event, context: alerted.append(event),
        },
    )
    result.assert_ok()
    assert [click["user"] for click in archived] == ["ada", "bot"]
    assert [click["user"] for click in alerted] == ["bot"]


def _list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value
