"""Existing streams at the edges (``external:``) in the synthesized stack: an existing
Kinesis stream is mapped into its processor by ARN with the settings attak's own streams
take, and never created; a processor writing to an existing Kinesis stream or Firehose
delivery stream may make the one call the runtime makes, on that ARN alone; the routes
file names the target and its kind. cfn-lint and cdk-nag stay clean."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from attak_cdk.loader import read_topology
from attak_cdk.project import load_topology
from attak_cdk.review import names, review_stacks
from attak_cdk.runtime.config import ROUTES_FILE
from attak_cdk.stacks import estimate_resources
from tests.conftest import PASS_ON, write_files
from tests.functional.test_synth_compliance import (
    CFN_LINT_IGNORED,
    ERROR_SEVERITIES,
    Synthesized,
    nag_report,
    synthesize_with_nag,
)

CLICKS = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
LAKE = "arn:aws:firehose:us-east-1:123456789012:deliverystream/lake"
SHARED = "arn:aws:kinesis:eu-west-1:210987654321:stream/shared-events"
TOPOLOGY = f"""
name: edges
external:
  clicks: {{kinesis: {CLICKS}}}
  lake: {{firehose: {LAKE}}}
  shared: {{kinesis: {SHARED}}}
processors:
  parse: p/parse.py
  archive: p/archive.py
streams:
  - {{from: clicks, to: parse, batch_size: 50, starting_position: TRIM_HORIZON, retry_attempts: 3}}
  - [parse, archive]
  - [archive, lake]
  - [parse, shared, out]
"""
READ_ACTIONS = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = {
        "topology.yml": TOPOLOGY,
        "p/parse.py": PASS_ON,
        "p/archive.py": PASS_ON,
    }
    return write_files(tmp_path_factory.mktemp("edges"), files)


@pytest.fixture(scope="module")
def synthesized(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize_with_nag("edges", project, tmp_path_factory.mktemp("out"))


@pytest.fixture(scope="module")
def template(synthesized: Synthesized) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(synthesized.template.read_text(encoding="utf-8"))
    return document


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def allowed(template: dict[str, Any], processor: str) -> set[tuple[str, str]]:
    """Every (action, resource) ``processor``'s default policy allows (CDK merges
    statements with the same actions, so they are compared pair by pair)."""
    (policy,) = [
        v["Properties"]
        for k, v in of_type(template, "AWS::IAM::Policy").items()
        if k.startswith(f"{processor}FunctionServiceRoleDefaultPolicy")
    ]
    pairs = set()
    for s in policy["PolicyDocument"]["Statement"]:
        assert s["Effect"] == "Allow" and "Condition" not in s
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        pairs |= {(a, json.dumps(r)) for a in actions for r in resources}
    return pairs


def on(pairs: set[tuple[str, str]], arn: str) -> list[str]:
    return sorted(a for a, r in pairs if r == json.dumps(arn))


def test_an_existing_stream_is_mapped_by_arn_with_its_settings_and_never_created(
    template: dict[str, Any],
) -> None:
    # attak's one stream (parse -> archive); none for clicks, shared or lake.
    assert list(of_type(template, "AWS::Kinesis::Stream")) == ["ParseToArchiveStream"]
    (mapping,) = [
        v["Properties"]
        for v in of_type(template, "AWS::Lambda::EventSourceMapping").values()
        if v["Properties"]["EventSourceArn"] == CLICKS
    ]
    assert mapping["FunctionName"] == {"Ref": "ParseFunction"}
    assert mapping["BatchSize"] == 50
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["MaximumRetryAttempts"] == 3
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "MaximumRecordAgeInSeconds" in mapping
    destination = mapping["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination["Fn::GetAtt"][0].startswith("ParseDeadLetterQueue")


def test_the_estimate_that_sizes_stacks_counts_the_mapping_but_no_stream(
    project: Path, template: dict[str, Any]
) -> None:
    assert len(template["Resources"]) == estimate_resources(load_topology(project))


def test_each_function_may_do_exactly_what_its_edges_need_on_their_arns(
    template: dict[str, Any],
) -> None:
    parse, archive = allowed(template, "Parse"), allowed(template, "Archive")
    assert on(parse, CLICKS) == READ_ACTIONS
    assert on(parse, SHARED) == ["kinesis:PutRecords"]
    assert on(parse, LAKE) == []
    assert on(archive, LAKE) == ["firehose:PutRecordBatch"]
    assert on(archive, CLICKS) == on(archive, SHARED) == []
    # No wildcard anywhere: each edge is one ARN.
    assert not [r for _, r in parse | archive if "*" in r]


def test_the_routes_file_names_each_external_target_by_arn_with_its_kind(
    synthesized: Synthesized,
) -> None:
    found = {}
    for file in synthesized.template.parent.glob(f"asset.*/{ROUTES_FILE}"):
        document = json.loads(file.read_text(encoding="utf-8"))
        for route in document["routes"]:
            found[route["to"]] = route
        found.update({f"retries:{k}": v for k, v in document["retries"].items()})
    assert found["lake"] == {"stream": LAKE, "topic": None, "to": "lake", "external": "firehose"}
    assert found["shared"] == {
        "stream": SHARED,
        "topic": "out",
        "to": "shared",
        "external": "kinesis",
    }
    assert "external" not in found["archive"]
    # The runtime finds a batch's retries by the name in its eventSourceARN.
    assert found["retries:clicks"] == 3


def test_the_review_names_the_existing_streams_read_and_written(
    project: Path, template: dict[str, Any]
) -> None:
    (summary,) = review_stacks({"edges": template})
    table = names(read_topology(project))
    functions = {table[f.logical_id]: f for f in summary.functions}
    assert [table[r] for r in functions["parse"].reads] == ["clicks (external kinesis)"]
    assert table[LAKE] in [table.get(w, w) for w in functions["archive"].writes]


def test_cdk_nag_and_cfn_lint_stay_clean(synthesized: Synthesized) -> None:
    report = nag_report(synthesized)
    assert not report["violations"], report["violations"]
    assert synthesized.error is None, synthesized.error
    matches = lint_file(synthesized.template, config=ManualArgs(regions=["us-east-1"]))
    problems = [m for m in matches if m.rule.id not in CFN_LINT_IGNORED]
    assert not [m for m in problems if m.rule.id.startswith("E")], problems
    assert not problems, problems
    assert ERROR_SEVERITIES  # the same severities the compliance test fails on
