"""The ``Topology`` construct in a user's own CDK app: its parts found by the topology's
names, the CDK's ``grant_*`` idioms landing in a processor's own role, and the errors of a
name the topology does not have; the same lookups on a topology split over stacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

import attak_cdk
from attak_cdk import graph
from attak_cdk.cdk import stack as stack_module
from attak_cdk.cdk.parts import AmbiguousStream, UnknownPart
from attak_cdk.cdk.stack import TopologyStacks, build_stacks
from attak_cdk.cdk.topology import Topology
from attak_cdk.errors import TopologyError
from attak_cdk.project import load_topology
from tests.conftest import PASS_ON, REPO, SINK

TOPOLOGY = """
name: shop
processors:
  parse: {handler: p/parse.py, input: stream}
  archive: p/sink.py
  alert: p/sink.py
streams:
  - [parse, archive, clicks]
  - [parse, alert, suspicious]
  - [parse, alert, errors]
  - [archive, alert]
"""


def write(root: Path, topology: str = TOPOLOGY) -> Path:
    (root / "p").mkdir(parents=True, exist_ok=True)
    (root / "p" / "parse.py").write_text(PASS_ON)
    (root / "p" / "sink.py").write_text(SINK)
    (root / "topology.yml").write_text(topology.lstrip("\n"))
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("shop"))


@pytest.fixture(scope="module")
def built(project: Path) -> tuple[cdk.Stack, Topology, s3.Bucket]:
    """A user's stack: the topology beside a bucket of the user's, granted to `archive`."""
    stack = cdk.Stack(cdk.App(), "Shop")
    topology = Topology(stack, "Pipeline", topology=project)
    bucket = s3.Bucket(stack, "Archive")
    bucket.grant_read(topology.function("archive"))
    return stack, topology, bucket


@pytest.fixture(scope="module")
def topology(built: tuple[cdk.Stack, Topology, s3.Bucket]) -> Topology:
    return built[1]


def statements(template: Template, stack: cdk.Stack, role: iam.IRole) -> list[dict[str, Any]]:
    """The statements of every policy attached to ``role`` in ``template``."""
    found = template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"Roles": [stack.resolve(role.role_name)]}}
    )
    return [s for p in found.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]


def test_a_grant_to_a_processors_function_lands_in_its_own_role_only(
    built: tuple[cdk.Stack, Topology, s3.Bucket],
) -> None:
    stack, topology, bucket = built
    template = Template.from_stack(stack)
    bucket_arn = stack.resolve(bucket.bucket_arn)
    granted = [
        s
        for s in statements(template, stack, topology.role("archive"))
        if bucket_arn in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    ]
    assert len(granted) == 1 and "s3:GetObject*" in granted[0]["Action"]
    assert topology.function("archive").role is topology.role("archive")
    for other in ("parse", "alert"):
        assert "s3:" not in str(statements(template, stack, topology.role(other))), other


def test_functions_and_streams_are_listed_by_the_topologys_names(topology: Topology) -> None:
    assert list(topology.functions) == ["parse", "archive", "alert"]
    assert all(isinstance(f, lambda_.Function) for f in topology.functions.values())
    assert topology.functions["alert"] is topology.function("alert")
    assert list(topology.streams) == [
        "parse->archive[clicks]",
        "parse->alert[suspicious]",
        "parse->alert[errors]",
        "archive->alert",
        "input->parse",
    ]


def test_a_stream_is_found_by_its_ends_and_its_topic(topology: Topology) -> None:
    # The only stream from parse to archive needs no topic; it may still be given.
    assert topology.stream("parse", "archive") is topology.streams["parse->archive[clicks]"]
    assert topology.stream("parse", "archive", topic="clicks") is topology.stream(
        "parse", "archive"
    )
    assert (
        topology.stream("parse", "alert", topic="errors")
        is topology.streams["parse->alert[errors]"]
    )
    assert topology.stream("archive", "alert") is topology.streams["archive->alert"]
    assert topology.ingest_stream("parse") is topology.streams["input->parse"]


def test_a_processors_queue_role_log_group_and_alarms(topology: Topology) -> None:
    archive = topology.processors["archive"]
    assert topology.dead_letter_queue("archive") is archive.dead_letter_queue
    assert topology.log_group("archive") is archive.log_group
    assert topology.alarms("archive") == archive.alarms and len(archive.alarms) == 5


def test_an_unknown_processor_names_the_closest_and_lists_them_all(topology: Topology) -> None:
    with pytest.raises(UnknownPart) as raised:
        topology.function("archiv")
    assert raised.value.message == (
        "topology 'shop' has no processor 'archiv' (did you mean 'archive'?); "
        "its processors: parse, archive, alert"
    )
    with pytest.raises(UnknownPart, match="no processor 'pars' \\(did you mean 'parse'\\?\\)"):
        topology.stream("pars", "archive")


def test_streams_joined_by_several_topics_need_one(topology: Topology) -> None:
    with pytest.raises(AmbiguousStream) as raised:
        topology.stream("parse", "alert")
    assert raised.value.message == (
        "topology 'shop' has 2 streams from 'parse' to 'alert', with the topics "
        "'suspicious', 'errors': name one by its topic, e.g. "
        'stream("parse", "alert", topic="suspicious")'
    )


def test_an_unknown_topic_or_stream_says_what_there_is(topology: Topology) -> None:
    with pytest.raises(UnknownPart) as raised:
        topology.stream("parse", "alert", topic="eror")
    assert raised.value.message == (
        "topology 'shop' has no stream from 'parse' to 'alert' with the topic 'eror' "
        "(did you mean 'errors'?); the topics there: 'suspicious', 'errors'"
    )
    with pytest.raises(UnknownPart) as raised:
        topology.stream("archive", "alert", topic="clicks")
    assert raised.value.message == (
        "topology 'shop' has no stream from 'archive' to 'alert' with the topic 'clicks'; "
        "the topics there: no topic (it carries every topic)"
    )
    with pytest.raises(UnknownPart) as raised:
        topology.stream("alert", "archive")
    assert raised.value.message == (
        "topology 'shop' has no stream from 'alert' to 'archive'; streams from 'alert': none"
    )
    with pytest.raises(UnknownPart, match="did you mean 'parse->archive\\[clicks\\]'"):
        topology.stream("parse", "parse", topic="clicks")


def test_only_a_processor_declared_input_stream_has_an_ingest_stream(topology: Topology) -> None:
    with pytest.raises(UnknownPart) as raised:
        topology.ingest_stream("archive")
    assert raised.value.message == (
        "processor 'archive' of topology 'shop' has no ingest stream: only a processor "
        "declared with `input: stream` has one; processors with one: parse"
    )


def test_the_topology_is_given_as_a_path_a_str_or_a_model(project: Path) -> None:
    stack = cdk.Stack(cdk.App(), "Forms")
    for id, given in (
        ("File", project / "topology.yml"),
        ("Text", str(project)),
        ("Model", load_topology(project)),
    ):
        assert list(Topology(stack, id, topology=given).functions) == ["parse", "archive", "alert"]


def test_a_topology_with_problems_raises_and_builds_nothing(tmp_path: Path) -> None:
    root = write(tmp_path, TOPOLOGY.replace("[parse, archive, clicks]", "[parse, archiv]"))
    stack = cdk.Stack(cdk.App(), "Broken")
    with pytest.raises(TopologyError, match="archiv"):
        Topology(stack, "Pipeline", topology=root)
    assert stack.node.try_find_child("Pipeline") is None


def test_attak_cdk_topology_is_the_construct_and_loads_no_cdk_until_asked() -> None:
    assert attak_cdk.Topology is Topology
    probe = (
        "import sys, attak_cdk; assert 'aws_cdk' not in sys.modules; "
        "attak_cdk.Topology; assert 'aws_cdk' in sys.modules"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_parts_are_found_by_name_across_the_stacks_of_a_split_topology(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real split takes 40 processors or more (a minute of synthesis; test_synth_split
    # covers it): here the layout puts each processor and each stream in a stack alone.
    monkeypatch.setattr(stack_module, "fits_one_stack", lambda topology: False)
    monkeypatch.setattr(
        stack_module, "processor_stacks", lambda topology: [[n] for n in topology.processors]
    )
    monkeypatch.setattr(
        stack_module,
        "stream_stacks",
        lambda topology: [[n] for n in graph.resolve(topology).streams],
    )
    app = cdk.App()
    stacks = build_stacks(app, load_topology(project))
    assert isinstance(stacks, TopologyStacks) and len(stacks.stacks) == 8
    archive = stacks.function("archive")
    assert cdk.Stack.of(archive).stack_name == "shop-2"
    assert cdk.Stack.of(stacks.stream("parse", "alert", topic="errors")).stack_name == (
        "shop-streams-3"
    )
    assert cdk.Stack.of(stacks.ingest_stream("parse")).stack_name == "shop-streams-5"
    with pytest.raises(AmbiguousStream):
        stacks.stream("parse", "alert")
    # A bucket of the user's, in a stack of its own, granted to a function of another.
    bucket = s3.Bucket(cdk.Stack(app, "Storage"), "Archive")
    bucket.grant_write(archive)
    template = Template.from_stack(cdk.Stack.of(archive))
    policy = statements(template, cdk.Stack.of(archive), stacks.role("archive"))
    assert any("s3:PutObject" in s["Action"] for s in policy)
