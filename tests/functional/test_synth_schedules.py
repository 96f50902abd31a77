"""A processor's ``schedule:`` as an EventBridge rule: its expression, its target's input
(the constant event, or the scheduled time filled in by EventBridge, in attak's envelope),
the invoke permission limited to the rule, and failed deliveries kept in the processor's
dead-letter queue. cdk-nag and cfn-lint see schedules in ``test_synth_compliance.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from attak_cdk.cdk.app import synthesize
from attak_cdk.project import load_topology
from attak_cdk.review import review_stacks
from attak_cdk.stacks import SCHEDULE_RESOURCES, estimate_resources
from tests.conftest import PASS_ON, SINK

TOPOLOGY = """
name: scheduled
processors:
  rollup: {handler: p/rollup.py, schedule: rate(5 minutes)}
  report:
    handler: p/report.py
    schedule: {every: "cron(0 8 ? * MON-FRI *)", event: {kind: daily}}
  sink: p/sink.py
streams:
  - [rollup, sink]
"""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("scheduled")
    for relative, text in {
        "topology.yml": TOPOLOGY,
        "p/rollup.py": PASS_ON,
        "p/report.py": SINK,
        "p/sink.py": SINK,
    }.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text.lstrip("\n"), encoding="utf-8")
    (file,) = synthesize(root, tmp_path_factory.mktemp("out")).values()
    document: dict[str, Any] = json.loads(Path(file).read_text(encoding="utf-8"))
    return document


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in template["Resources"].items() if v["Type"] == kind}


def test_each_schedule_is_a_rule_invoking_its_function(template: dict[str, Any]) -> None:
    rules = of_type(template, "AWS::Events::Rule")
    assert sorted(rules) == ["ReportSchedule", "RollupSchedule"]  # graph.schedule_rule_id
    assert rules["RollupSchedule"]["ScheduleExpression"] == "rate(5 minutes)"
    assert rules["ReportSchedule"]["ScheduleExpression"] == "cron(0 8 ? * MON-FRI *)"
    for name, rule in rules.items():
        (target,) = rule["Targets"]
        function = name.removesuffix("Schedule") + "Function"
        assert target["Arn"] == {"Fn::GetAtt": [function, "Arn"]}
        assert rule["State"] == "ENABLED"


def test_a_constant_event_is_the_targets_input_in_attaks_envelope(
    template: dict[str, Any],
) -> None:
    (target,) = of_type(template, "AWS::Events::Rule")["ReportSchedule"]["Targets"]
    assert json.loads(target["Input"]) == {"v": 1, "data": {"kind": "daily"}}


def test_without_one_eventbridge_fills_in_the_scheduled_time(template: dict[str, Any]) -> None:
    (target,) = of_type(template, "AWS::Events::Rule")["RollupSchedule"]["Targets"]
    transformer = target["InputTransformer"]
    assert transformer["InputPathsMap"] == {"time": "$.time"}
    # EventBridge writes the path's JSON value in place of <time>: a quoted string.
    filled = transformer["InputTemplate"].replace("<time>", '"2026-12-03T08:00:00Z"')
    assert json.loads(filled) == {
        "v": 1,
        "data": {"time": "2026-12-03T08:00:00Z", "schedule": "rate(5 minutes)"},
    }


def test_failed_deliveries_are_retried_then_dead_lettered(template: dict[str, Any]) -> None:
    rules = of_type(template, "AWS::Events::Rule")
    for name, rule in rules.items():
        (target,) = rule["Targets"]
        queue = name.removesuffix("Schedule") + "DeadLetterQueue"
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue, "Arn"]}}
        assert target["RetryPolicy"] == {
            "MaximumRetryAttempts": 185,
            "MaximumEventAgeInSeconds": 86400,
        }
    # EventBridge may send to the queue for this rule only.
    policies = of_type(template, "AWS::SQS::QueuePolicy")
    (policy,) = [
        p for p in policies.values() if p["Queues"] == [{"Ref": "ReportDeadLetterQueue"}]
    ] or [p for p in policies.values() if {"Ref": "ReportDeadLetterQueue"} in p["Queues"]]
    (statement,) = [
        s
        for s in policy["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["ReportSchedule", "Arn"]}}
    }


def test_the_invoke_permission_is_limited_to_the_rule(template: dict[str, Any]) -> None:
    permissions = [
        p
        for p in of_type(template, "AWS::Lambda::Permission").values()
        if p["Principal"] == "events.amazonaws.com"
    ]
    assert sorted(p["SourceArn"]["Fn::GetAtt"][0] for p in permissions) == [
        "ReportSchedule",
        "RollupSchedule",
    ]
    assert all(p["Action"] == "lambda:InvokeFunction" for p in permissions)


def test_the_review_says_each_schedule_in_words(template: dict[str, Any]) -> None:
    (summary,) = review_stacks({"scheduled": template})
    words = {f.logical_id: f.schedule for f in summary.functions}
    assert words == {
        "RollupFunction": "every 5 minutes (rate(5 minutes)), with the scheduled time",
        "ReportFunction": "on cron(0 8 ? * MON-FRI *) (UTC), with a constant event",
        "SinkFunction": "",
    }


def test_a_schedule_is_counted_where_stacks_are_sized(
    template: dict[str, Any], tmp_path: Path
) -> None:
    (tmp_path / "p.py").write_text("def handler(event, context):\n    pass\n")
    plain = "name: g\nprocessors:\n  a: p.py\n  b: p.py\n"
    (tmp_path / "topology.yml").write_text(plain)
    without = estimate_resources(load_topology(tmp_path))
    (tmp_path / "topology.yml").write_text(
        plain.replace("  b: p.py\n", "  b: {handler: p.py, schedule: rate(1 hour)}\n")
    )
    assert estimate_resources(load_topology(tmp_path)) == without + SCHEDULE_RESOURCES
    # As many as the synthesized rules and their permissions.
    added = len(of_type(template, "AWS::Events::Rule")) + len(
        [
            p
            for p in of_type(template, "AWS::Lambda::Permission").values()
            if p["Principal"] == "events.amazonaws.com"
        ]
    )
    assert added == 2 * SCHEDULE_RESOURCES
