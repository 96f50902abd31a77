"""`attak init --template clickstream`'s project, deployed into a moto server and triggered.

The real `cdk deploy` makes the stack from the scaffolded folder as a user gets it; boto3
reads back what a user relies on: parse's ingest stream fed by `attak trigger`, the
archive function's grant on its bucket prefix, the canary's schedule. moto cannot run the
functions' code (no Docker), so what happens after the ingest stream is simulate's to
show (``tests/functional/test_init_clickstream.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cli.scaffold import scaffold
from tests.integration.conftest_live import (
    attak,
    client_of,
    deploy,
    landed_events,
    manifest,
)

pytestmark = [pytest.mark.live, pytest.mark.slow]

NAME = "live-clicks"


@pytest.fixture(scope="module")
def deployed(
    shared_moto_server: str, aws_environment: None, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    """The scaffolded project deployed into the run's shared server; its folder and manifest."""
    folder = tmp_path_factory.mktemp("clickstream") / NAME
    scaffold(folder, template="clickstream")
    deploy(folder, shared_moto_server, tmp_path_factory.mktemp("clickstream.out"))
    return folder, manifest(client_of(shared_moto_server), NAME)


def test_every_processor_is_a_function_and_parse_has_its_ingest_stream(
    deployed: tuple[Path, dict[str, Any]],
) -> None:
    _, found = deployed
    assert set(found["processors"]) == {
        "parse", "filter_bots", "sessionize", "aggregate", "alert", "archive", "canary",
    }  # fmt: skip
    assert found["processors"]["parse"]["ingest_stream"]


def test_trigger_writes_the_input_into_parses_ingest_stream(
    deployed: tuple[Path, dict[str, Any]], shared_moto_server: str, aws_environment: None
) -> None:
    folder, found = deployed
    result = attak(
        "trigger", str(folder), "--endpoint-url", shared_moto_server, "--no-follow", "--json"
    )
    assert result.exit_code == 0, result.output
    events = json.loads(result.stdout)["events"]
    assert len(events) == 9
    assert {(e["processor"], e["via"], e["sent"]) for e in events} == {("parse", "stream", True)}
    landed = landed_events(
        client_of(shared_moto_server), found["processors"]["parse"]["ingest_stream"]
    )
    assert sorted(e["data"]["event_id"] for e in landed.values()) == [f"e{i}" for i in range(1, 10)]


def test_the_archive_may_write_only_under_its_prefix(
    deployed: tuple[Path, dict[str, Any]], shared_moto_server: str
) -> None:
    aws = client_of(shared_moto_server)
    _, found = deployed
    role = (
        aws("lambda")
        .get_function(FunctionName=found["processors"]["archive"]["function"])["Configuration"][
            "Role"
        ]
        .rsplit("/", 1)[1]
    )
    iam = aws("iam")
    statements = [
        statement
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
        for statement in iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"][
            "Statement"
        ]
    ]
    writes = [s for s in statements if "s3:PutObject" in s["Action"]]
    assert writes and all(
        s["Resource"].endswith(f":s3:::{NAME}-archive/page-minutes/*") for s in writes
    ), writes


def test_the_canary_runs_on_its_schedule(
    deployed: tuple[Path, dict[str, Any]], shared_moto_server: str
) -> None:
    aws = client_of(shared_moto_server)
    _, found = deployed
    canary = aws("lambda").get_function(FunctionName=found["processors"]["canary"]["function"])
    arn = canary["Configuration"]["FunctionArn"]
    (rule,) = [r for r in aws("events").list_rules()["Rules"] if r["Name"].startswith(NAME)]
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    targets = aws("events").list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert [t["Arn"] for t in targets] == [arn]
