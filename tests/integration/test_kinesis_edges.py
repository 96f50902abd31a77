"""Existing streams at the edges on the Kinesis engine, as on the memory engine: the input
goes through a local stand-in for the external source stream (created and deleted with
the run's own streams on kinesalite), and writes to external streams are kept, not sent."""

from __future__ import annotations

import shutil

import pytest

from attak_cdk.inputs import InputEvent
from attak_cdk.project import load_topology
from attak_cdk.simulate import kinesis, memory
from tests.conftest import WriteProject

pytestmark = pytest.mark.integration

TOPOLOGY = """
name: edges
external:
  clicks: {kinesis: arn:aws:kinesis:us-east-1:123456789012:stream/clicks}
  lake: {firehose: arn:aws:firehose:us-east-1:123456789012:deliverystream/lake}
processors:
  parse: p/parse.py
streams:
  - [clicks, parse]
  - [parse, lake]
"""
PARSE = """
def handler(event, context):
    context.emit("parsed", {"page": event["page"]}, key=event["page"])
"""


def test_both_engines_feed_the_external_source_and_keep_the_same_writes(
    write_project: WriteProject, kinesalite: str
) -> None:
    root = write_project({"topology.yml": TOPOLOGY, "p/parse.py": PARSE})
    events = [InputEvent("parse", {"page": f"/{i}"}) for i in range(5)]
    in_memory = memory.simulate(load_topology(root), events)
    copy = shutil.copytree(root, root.with_name(f"{root.name}-kinesis"))
    over_kinesis = kinesis.simulate(load_topology(copy), events, endpoint_url=kinesalite)
    over_kinesis.assert_ok()
    expected = [{"page": f"/{i}"} for i in range(5)]
    assert sorted(over_kinesis.external["lake"], key=str) == sorted(expected, key=str)
    assert sorted(in_memory.external["lake"], key=str) == sorted(expected, key=str)
    assert {i.source for i in over_kinesis.invocations} == {"clicks->parse"}
