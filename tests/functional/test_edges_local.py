"""Existing streams at the edges, locally: ``simulate`` feeds an external Kinesis source
from the input and keeps what would have been written to external streams (text, JSON,
``attak_cdk.testing``); ``graph`` draws them as such; ``plan`` counts an external source
as an entry at the plan's rate, leaves its stream off attak's bill and prices the writes."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from attak_cdk.testing import run_topology
from attak_cdk.ui.app import create_app
from tests.conftest import WriteProject
from tests.functional.test_cli import run

CLICKS = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
LAKE = "arn:aws:firehose:us-east-1:123456789012:deliverystream/lake"
SHARED = "arn:aws:kinesis:us-east-1:123456789012:stream/shared"
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
  - [clicks, parse]
  - [parse, archive, parsed]
  - [archive, lake]
  - [parse, shared, counted]
plan:
  rate: 1000/s
  size: 2 KB
"""
PARSE = """
def handler(event, context):
    context.emit("parsed", {"page": event["page"]})
    context.emit("counted", 1, key=event["page"])
"""
ARCHIVE = """
def handler(event, context):
    context.emit("archived", event)
"""
INPUT = [{"page": "/a"}, {"page": "/b"}]


@pytest.fixture
def project(write_project: WriteProject) -> Path:
    return write_project(
        {
            "topology.yml": TOPOLOGY,
            "p/parse.py": PARSE,
            "p/archive.py": ARCHIVE,
            "input.json": json.dumps({"parse": INPUT[0]}),
        }
    )


def test_run_topology_feeds_the_external_source_and_keeps_the_would_be_writes(
    project: Path,
) -> None:
    result = run_topology(project, [("parse", event) for event in INPUT])
    result.assert_ok()
    # The input stands in for the existing stream's records: read through its mapping.
    assert [i.source for i in result.invocations if i.processor == "parse"] == [
        "clicks->parse",
        "clicks->parse",
    ]
    assert result.external == {"lake": INPUT, "shared": [1, 1]}


def test_simulate_says_what_it_would_have_written_and_sends_nothing(project: Path) -> None:
    code, out, err = run("simulate", str(project))
    assert code == 0, err
    assert (
        f"would have written 1 record to lake (Firehose delivery stream {LAKE}): not sent"
        in " ".join(out.split())
    )
    assert f"would have written 1 record to shared (Kinesis stream {SHARED})" in " ".join(
        out.split()
    )


def test_simulate_json_has_the_external_writes_and_names_them_as_emit_targets(
    project: Path,
) -> None:
    code, out, err = run("simulate", str(project), "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["external"] == {"lake": [INPUT[0]], "shared": [1]}
    archive = next(i for i in document["invocations"] if i["processor"] == "archive")
    assert archive["emits"] == [{"topic": "archived", "data": INPUT[0], "to": ["lake"]}]


def test_graph_draws_external_streams_as_cylinders_with_their_kind(project: Path) -> None:
    code, out, _ = run("graph", str(project), "--format", "mermaid")
    assert code == 0
    assert '[("clicks (kinesis)")]' in out and '[("lake (firehose)")]' in out
    code, out, _ = run("graph", str(project), "--format", "dot")
    assert '"lake" [label="lake (firehose)", shape=cylinder];' in out
    assert '"archive" -> "lake";' in out
    code, out, _ = run("graph", str(project))
    assert "← clicks" in out and "→ lake (external firehose)" in out


def test_plan_counts_the_external_source_as_an_entry_and_prices_the_writes(
    project: Path,
) -> None:
    code, out, err = run("plan", str(project), "--json")
    assert code == 0, err
    plan = json.loads(out)
    assert [s["name"] for s in plan["streams"]] == ["parse->archive[parsed]"]  # clicks is not ours
    events = {p["name"]: p["events_per_second"] for p in plan["processors"]}
    assert events == {"parse": 1000, "archive": 1000}
    (line,) = [x for x in plan["monthly"]["lines"] if x["item"] == "writes to existing streams"]
    records = Decimal(1000 * 730 * 3600)
    # A 2 KB event is one 5 KB Firehose increment and one 25 KB PUT payload unit.
    firehose = records * 5 * 1024 / 1024**3 * Decimal("0.029")
    kinesis = records / 1_000_000 * Decimal("0.014")
    assert Decimal(line["at_load"]) == (firehose + kinesis).quantize(Decimal("0.01"))
    assert line["idle"] == "0.00"
    assert "lake (firehose" in line["detail"] and "shared (kinesis" in line["detail"]


def test_the_ui_draws_each_external_stream_as_a_node_of_its_own(project: Path) -> None:
    view = TestClient(create_app(project)).get("/api/topology").json()
    nodes = {n["id"]: n for n in view["nodes"]}
    assert (nodes["lake"]["kind"], nodes["lake"]["external"], nodes["lake"]["arn"]) == (
        "external",
        "firehose",
        LAKE,
    )
    assert nodes["clicks"]["kind"] == "external" and nodes["parse"]["entry"]
    assert {(e["source"], e["target"]) for e in view["edges"]} >= {
        ("clicks", "parse"),
        ("archive", "lake"),
    }


def test_an_event_too_large_for_firehose_is_dead_lettered_with_its_data(project: Path) -> None:
    def padded(event: Any, context: Any) -> None:  # fits Kinesis' 1 MiB, not Firehose's
        context.emit("archived", {**event, "pad": "x" * (1000 * 1024)})

    result = run_topology(project, [("parse", INPUT[0])], handlers={"archive": padded})
    (letter,) = result.dead_letters
    assert letter.processor == "archive" and letter.event == INPUT[0]
    assert "over Firehose's limit of 1024000 (1,000 KiB) for delivery stream" in letter.error
    assert result.external["lake"] == []
