"""``external:``: existing streams at the edges, read and checked with the file and the
path of every problem, all at once (loader shapes and ARNs, then validation's rules)."""

from __future__ import annotations

from pathlib import Path

from attak_cdk import graph
from attak_cdk.project import inspect_topology
from tests.conftest import PASS_ON, SINK, WriteProject
from tests.functional.test_cli import run

HANDLERS = {"p/parse.py": PASS_ON, "p/archive.py": SINK}
CLICKS = "arn:aws:kinesis:us-east-1:123456789012:stream/clicks"
LAKE = "arn:aws:firehose:us-east-1:123456789012:deliverystream/lake"
GOOD = f"""
name: edges
external:
  clicks: {{kinesis: {CLICKS}}}
  lake: {{firehose: {LAKE}}}
processors:
  parse: p/parse.py
  archive: p/archive.py
streams:
  - [clicks, parse]
  - [parse, archive]
  - [parse, lake, out]
"""
BAD = """
name: edges
external:
  clicks: {kinesis: arn:aws:sqs:us-east-1:123456789012:clicks}
  wrong: {kinesis: arn:aws:firehose:us-east-1:123456789012:deliverystream/wrong}
  short: {kinesis: arn:aws:kinesis:us-east-1:1234:stream/short}
  lake: {firehose: arn:aws:firehose:us-east-1:123456789012:deliverystream/lake}
  parse: {kinesis: arn:aws:kinesis:us-east-1:123456789012:stream/parse}
  spare: {kinesis: arn:aws:kinesis:us-east-1:123456789012:stream/spare}
  odd: {kafka: arn:aws:kafka:us-east-1:123456789012:cluster/odd}
processors:
  parse: p/parse.py
  archive: p/archive.py
streams:
  - [lake, parse]
  - [parse, archiv]
  - [parse, lake]
  - [lake, parse, topic]
"""


def issues(root: Path) -> dict[str, tuple[str, str, str]]:
    _, found = inspect_topology(root)
    assert all(issue.file.endswith("topology.yml") for issue in found)
    return {issue.path: (issue.code, issue.severity, issue.message) for issue in found}


def test_a_good_topology_with_edges_has_no_issue_and_resolves_them(
    write_project: WriteProject,
) -> None:
    root = write_project({**HANDLERS, "topology.yml": GOOD})
    topology, found = inspect_topology(root)
    assert found == []
    assert topology is not None
    resolved = graph.resolve(topology)
    clicks = resolved.streams["clicks->parse"]
    assert clicks.external is not None and clicks.physical_name == "clicks"
    assert not clicks.ingest and clicks.producer is None
    assert resolved.entries == ("parse",)  # fed by an existing stream: an entry
    assert resolved.processors["parse"].feed is clicks
    (write,) = resolved.external_writes.values()
    assert (write.name, write.producer, write.topic, write.external.arn) == (
        "parse->lake[out]",
        "parse",
        "out",
        LAKE,
    )
    assert resolved.stream_targets()["parse->lake[out]"] == "lake"


def test_every_problem_with_edges_is_reported_at_its_path_at_once(
    write_project: WriteProject,
) -> None:
    root = write_project({**HANDLERS, "topology.yml": BAD})
    found = issues(root)
    code, _, message = found["external.clicks.kinesis"]
    assert code == "invalid-external"
    assert "not the ARN of a Kinesis stream: it is a sqs ARN" in message
    assert "write it as firehose:" in found["external.wrong.kinesis"][2]
    assert "not the ARN of a Kinesis stream, which reads like" in found["external.short.kinesis"][2]
    assert "unknown kind 'kafka'" in found["external.odd.kafka"][2]
    assert found["external.parse.kinesis"][:2] == ("name-clash", "error")
    assert "names both a processor and an external stream" in found["external.parse.kinesis"][2]
    assert found["external.spare.kinesis"][:2] == ("unused-external", "warning")
    assert found["streams[0].from"][:2] == ("unreadable-external", "error")
    assert "only a Kinesis stream may be a stream's from" in found["streams[0].from"][2]
    assert found["streams[1].to"][0] == "unknown-processor"
    assert (
        "unknown processor or external stream 'archiv' (did you mean 'archive'?)"
        in (found["streams[1].to"][2])
    )
    assert "have no topic" in found["streams[3].topic"][2]
    # The bad ARNs' names are left out, so a stream naming one is reported as unknown too;
    # nothing else is reported.
    assert set(found) == {
        "external.clicks.kinesis",
        "external.wrong.kinesis",
        "external.short.kinesis",
        "external.odd.kafka",
        "external.parse.kinesis",
        "external.spare.kinesis",
        "streams[0].from",
        "streams[1].to",
        "streams[3].from",
        "streams[3].topic",
    }


def test_a_stream_between_two_external_streams_is_refused(write_project: WriteProject) -> None:
    text = GOOD.replace("  - [parse, archive]\n", "  - [clicks, lake]\n  - [parse, archive]\n")
    root = write_project({**HANDLERS, "topology.yml": text})
    code, severity, message = issues(root)["streams[1]"]
    assert (code, severity) == ("external-to-external", "error")
    assert "both ends are external streams ('clicks' -> 'lake')" in message


def test_validate_exits_1_naming_the_file_and_the_path(write_project: WriteProject) -> None:
    root = write_project({**HANDLERS, "topology.yml": BAD})
    code, _, err = run("validate", str(root))
    assert code == 1
    assert "topology.yml" in err and "external.clicks.kinesis" in err and "streams[0].from" in err


def test_validate_counts_the_external_streams(write_project: WriteProject) -> None:
    root = write_project({**HANDLERS, "topology.yml": GOOD})
    code, out, _ = run("validate", str(root))
    assert code == 0
    assert "✓ edges: 2 processors, 3 streams, 2 external streams, entries: parse" in out
