"""A topology too large for one CloudFormation stack, deployed into a moto server and found.

The topology is generated just past the split: one more processor than a processor stack
holds (``MAX_PROCESSORS_PER_STACK``), and more resources than one stack is planned to hold
(``RESOURCE_BUDGET``). So `attak deploy` makes a stream stack and two processor stacks,
each processor stack carrying its numbered part of the manifest, and `attak trigger` and
`attak logs` must join the parts to reach processors in either stack. Then a processor
stack goes missing (refused, until deployed again), the topology is also deployed in one
stack (refused: two layouts), and `attak destroy` removes every stack.

moto resolves ``Fn::ImportValue`` from the stream stack's exports (it refuses an import
whose export is missing, so the stream stack must come first), but it does not answer
ListImports, and it deletes a stack whose exports another stack still imports (AWS
refuses): the destroy test reads the order of deletion from the stacks' events instead.
"""

from __future__ import annotations

import json
import re
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from attak_cdk.cdk.stack import MAX_PROCESSORS_PER_STACK, RESOURCE_BUDGET, estimate_resources
from attak_cdk.project import load_topology
from attak_cdk.stacks import processor_stacks
from tests.integration.conftest_live import (
    Client,
    attak,
    deploy,
    invocation_attempts,
    landed_events,
    landing,
    manifest,
    record_line,
    wait_for,
    write_log_lines,
)

pytestmark = [pytest.mark.live, pytest.mark.slow]

NAME = "live-split"
STEPS = [f"step{i:02d}" for i in range(1, MAX_PROCESSORS_PER_STACK)]
"""With ``intake``, ``tail`` and ``audit``: two more processors than a stack may hold, and
more resources than its budget; the first stack fills in order, the rest go on."""
STREAM_STACK, FIRST, SECOND = f"{NAME}-streams-1", f"{NAME}-1", f"{NAME}-2"
STACKS = [STREAM_STACK, FIRST, SECOND]
"""In the order attak reads them: stream stacks, then processor stacks by number."""
INPUT = """\
{"processor": "intake", "data": {"order": 1}}
{"processor": "intake", "data": {"order": 2}}
{"processor": "audit", "data": "nightly check"}
"""


def topology_text() -> str:
    """``intake`` (an ingest stream) -> step01 -> ... -> step39 -> ``tail``; ``audit``, a
    direct entry in the second stack, emits into the middle of the chain in the first."""
    chain = ["intake", *STEPS, "tail"]
    lines = [f"name: {NAME}", "processors:", "  intake: {handler: ./step.py, input: stream}"]
    lines += [f"  {name}: ./step.py" for name in [*STEPS, "tail", "audit"]]
    lines += ["streams:"]
    lines += [f"  - [{source}, {target}]" for source, target in pairwise(chain)]
    lines += [f"  - [audit, {STEPS[len(STEPS) // 2]}]"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated topology: one shared handler file for every processor."""
    folder = tmp_path_factory.mktemp("split")
    (folder / "step.py").write_text(
        "def handler(event, context):\n    context.emit('next', event)\n"
    )
    (folder / "topology.yml").write_text(topology_text())
    (folder / "input.jsonl").write_text(INPUT)
    topology = load_topology(folder)
    # Just past both thresholds, so the test keeps deploying a split if they move.
    assert estimate_resources(topology) > RESOURCE_BUDGET
    assert len(topology.processors) == MAX_PROCESSORS_PER_STACK + 2
    return folder


DEPLOY_SECONDS: dict[str, float] = {}


@pytest.fixture(scope="module")
def deployed(
    project: Path,
    moto_server: str,
    aws_environment: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """The split topology deployed (bootstrapping the emulator first); its folder."""
    DEPLOY_SECONDS["first deploy"] = deploy(
        project, moto_server, tmp_path_factory.mktemp("split.out")
    )
    print(f"\nsplit topology deploy: {DEPLOY_SECONDS['first deploy']:.1f} s")
    return project


def live_stacks(aws: Client) -> dict[str, str]:
    """Name -> state of every stack of the topology not deleted."""
    pattern = re.compile(rf"{re.escape(NAME)}(-streams)?-\d+")
    summaries = aws("cloudformation").list_stacks()["StackSummaries"]
    return {
        s["StackName"]: s["StackStatus"]
        for s in summaries
        if pattern.fullmatch(s["StackName"]) and s["StackStatus"] != "DELETE_COMPLETE"
    }


MOTO_PLACEHOLDERS = {
    "AWS::CloudWatch::Alarm",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::SQS::QueuePolicy",
}
"""Types moto's CloudFormation accepts without making anything: it lists them untyped."""


def resource_counts(aws: Client, stack: str) -> dict[str, int]:
    """How many resources of each type the stack made (moto's placeholders under "")."""
    counts: dict[str, int] = {}
    pages = aws("cloudformation").get_paginator("list_stack_resources").paginate(StackName=stack)
    for page in pages:
        for resource in page["StackResourceSummaries"]:
            assert resource["ResourceStatus"] == "CREATE_COMPLETE", resource
            counts[resource["ResourceType"]] = counts.get(resource["ResourceType"], 0) + 1
    return counts


def physical_ids(aws: Client, stack: str, kind: str) -> dict[str, str]:
    pages = aws("cloudformation").get_paginator("list_stack_resources").paginate(StackName=stack)
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for page in pages
        for r in page["StackResourceSummaries"]
        if r["ResourceType"] == kind
    }


# --- deploy ----------------------------------------------------------------------------------


def test_deployed_stacks_are_the_ones_synth_says_it_makes(
    deployed: Path, aws: Client, tmp_path: Path
) -> None:
    result = attak("synth", str(deployed), "--output", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    synthesized = {s["stack"]: s for s in json.loads(result.stdout)["stacks"]}
    assert sorted(synthesized) == sorted(STACKS)
    assert live_stacks(aws) == dict.fromkeys(STACKS, "CREATE_COMPLETE")
    for name, review in synthesized.items():
        made = resource_counts(aws, name)
        placeholders = sum(
            n for kind, n in review["resources"].items() if kind in MOTO_PLACEHOLDERS
        )
        modelled = {k: n for k, n in review["resources"].items() if k not in MOTO_PLACEHOLDERS}
        assert made == {**modelled, **({"": placeholders} if placeholders else {})}, name
        functions = physical_ids(aws, name, "AWS::Lambda::Function")
        assert sorted(functions) == sorted(f["logical_id"] for f in review["functions"]), name
        streams = physical_ids(aws, name, "AWS::Kinesis::Stream")
        assert sorted(streams) == sorted(s["logical_id"] for s in review["streams"]), name


def test_each_processor_stack_holds_its_manifest_part_with_imported_stream_names(
    deployed: Path, aws: Client
) -> None:
    parts = [manifest(aws, stack) for stack in (FIRST, SECOND)]
    assert [(p["topology"], p["part"], p["parts"]) for p in parts] == [(NAME, 1, 2), (NAME, 2, 2)]
    # Processors fill the first stack in order until its resource budget: each part lists
    # exactly the processors its stack holds.
    layout = processor_stacks(load_topology(deployed))
    assert [list(p["processors"]) for p in parts] == layout
    assert layout[0][0] == "intake" and layout[1][-2:] == ["tail", "audit"]
    # The stream names each part lists came through Fn::ImportValue: they must be the
    # streams the stream stack made, and those streams must exist in Kinesis.
    made = set(physical_ids(aws, STREAM_STACK, "AWS::Kinesis::Stream").values())
    listed = {physical for part in parts for physical in part["streams"].values()}
    assert listed == made
    kinesis = aws("kinesis")
    for stream in listed:
        summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        assert summary["StreamStatus"] == "ACTIVE"
    for part, stack in zip(parts, (FIRST, SECOND), strict=True):
        for processor in part["processors"].values():
            assert processor["function"].startswith(f"{stack}-")
            aws("lambda").get_function(FunctionName=processor["function"])


# --- trigger ---------------------------------------------------------------------------------


def test_trigger_reaches_an_ingest_stream_and_a_function_in_different_stacks(
    deployed: Path, moto_server: str, aws: Client
) -> None:
    first, second = manifest(aws, FIRST), manifest(aws, SECOND)
    audit = second["processors"]["audit"]["function"]
    before = invocation_attempts(aws, audit)
    result = attak(
        "trigger", str(deployed), "--input", str(deployed / "input.jsonl"),
        "--endpoint-url", moto_server, "--no-follow", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["stacks"] == STACKS
    events = document["events"]
    ingest = first["processors"]["intake"]["ingest_stream"]
    assert [(e["processor"], e["via"], e["target"], e["sent"]) for e in events] == [
        ("intake", "stream", ingest, True),
        ("intake", "stream", ingest, True),
        ("audit", "invoke", audit, True),
    ]
    landed = landed_events(aws, ingest)
    for event in events[:2]:
        assert landed[landing(event)]["trace"] == event["trace"]
        assert landed[landing(event)]["data"] == event["data"]
    assert wait_for(lambda: invocation_attempts(aws, audit) > before)


# --- logs ------------------------------------------------------------------------------------


def test_logs_reads_processors_of_every_processor_stack(
    deployed: Path, moto_server: str, aws: Client
) -> None:
    now = int(time.time() * 1000) - 60_000
    written = {
        (FIRST, "intake"): ["intake got order 7", record_line("intake", "split-trace", None)],
        (SECOND, "tail"): ["tail got order 7", record_line("tail", "split-trace", None)],
    }
    groups = {
        manifest(aws, stack)["processors"][processor]["log_group"]: messages
        for (stack, processor), messages in written.items()
    }
    write_log_lines(aws, groups, now)
    result = attak("logs", str(deployed), "--endpoint-url", moto_server, "--since", "1h", "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["processor"], line["message"][:18]) for line in lines] == [
        ("intake", "intake got order 7"),
        ("intake", '{"attak": "record"'),
        ("tail", "tail got order 7"),
        ("tail", '{"attak": "record"'),
    ]
    traced = attak(
        "logs", str(deployed), "--endpoint-url", moto_server, "--since", "1h",
        "--trace", "split-trace", "--json",
    )  # fmt: skip
    assert traced.exit_code == 0, traced.output
    assert [json.loads(line)["processor"] for line in traced.stdout.splitlines()] == [
        "intake", "intake", "tail", "tail",
    ]  # fmt: skip


# --- a stack missing (then deployed again) ---------------------------------------------------


def test_a_missing_processor_stack_is_named_and_deploy_restores_it(
    deployed: Path, moto_server: str, aws: Client, tmp_path: Path
) -> None:
    aws("cloudformation").delete_stack(StackName=SECOND)
    assert SECOND not in live_stacks(aws)
    trigger = ("trigger", "--input", str(deployed / "input.jsonl"), "--no-follow")
    for command, *options in (trigger, ("logs",)):
        result = attak(command, str(deployed), "--endpoint-url", moto_server, *options)
        assert result.exit_code == 1, command
        assert (
            f"topology '{NAME}' is deployed only in part: manifest part(s) 2 of 2 are missing "
            f"(part 1 in {FIRST})"
        ) in result.stderr, command
        assert "deploy the topology again with `attak deploy`" in result.stderr
        assert "Traceback" not in result.output
    DEPLOY_SECONDS["deploy again"] = deploy(deployed, moto_server, tmp_path)
    states = live_stacks(aws)
    assert sorted(states) == sorted(STACKS)
    assert states[SECOND] == "CREATE_COMPLETE"
    assert {states[STREAM_STACK], states[FIRST]} <= {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
    again = attak(
        "trigger", str(deployed), "--input", str(deployed / "input.jsonl"),
        "--endpoint-url", moto_server, "--no-follow", "--json",
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    audit = manifest(aws, SECOND)["processors"]["audit"]["function"]
    assert json.loads(again.stdout)["events"][2]["target"] == audit


# --- the same topology deployed in two layouts -----------------------------------------------


def test_a_topology_also_left_in_one_stack_is_refused_not_read_from_the_old_stack(
    deployed: Path, moto_server: str, aws: Client, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # The topology shrank back into one stack: `cdk deploy` makes stack `live-split` and
    # keeps the split stacks. Neither may be read as if it were the only deployment.
    shrunk = tmp_path_factory.mktemp("shrunk")
    (shrunk / "step.py").write_text((deployed / "step.py").read_text())
    (shrunk / "topology.yml").write_text(
        f"name: {NAME}\nprocessors:\n  intake: {{handler: ./step.py, input: stream}}\n"
        "  audit: ./step.py\n"
    )
    started = time.perf_counter()
    output = tmp_path_factory.mktemp("o")
    redeployed = attak(
        "deploy", str(shrunk), "--endpoint-url", moto_server, "--", f"--output={output}"
    )
    DEPLOY_SECONDS["one-stack layout"] = time.perf_counter() - started
    assert redeployed.exit_code == 0, redeployed.output
    # The deploy itself says that the older layout is still there, and how to remove it.
    warned = " ".join(redeployed.stderr.split())
    assert f"warning: topology '{NAME}' is deployed twice: in stack {NAME}" in warned
    assert (
        "delete the older deployment, in this order: "
        + "; ".join(
            f"aws cloudformation delete-stack --stack-name {name}"
            for name in (FIRST, SECOND, STREAM_STACK)
        )
        in warned
    )
    assert "try again" not in warned
    for folder in (deployed, shrunk):
        result = attak("logs", str(folder), "--endpoint-url", moto_server)
        assert result.exit_code == 1
        assert (
            f"topology '{NAME}' is deployed twice: in stack {NAME}, and spread over stacks "
            f"{FIRST}, {SECOND}, {STREAM_STACK}"
        ) in result.stderr
        assert "delete the older deployment, in this order: " + "; ".join(
            f"aws cloudformation delete-stack --stack-name {name}"
            for name in (FIRST, SECOND, STREAM_STACK)
        ) in " ".join(result.stderr.split())
        assert "Traceback" not in result.output
    removed = attak(
        "destroy", str(shrunk), "--endpoint-url", moto_server, "--force",
        f"--output={tmp_path_factory.mktemp('o')}",
    )  # fmt: skip
    assert removed.exit_code == 0, removed.output
    # With one layout gone, the other is the deployment again.
    again = attak("logs", str(deployed), "--endpoint-url", moto_server, "--json")
    assert again.exit_code == 0, again.output


# --- destroy (last: it removes what the tests above use) -------------------------------------


def test_destroy_removes_every_stack_processor_stacks_first(
    deployed: Path, moto_server: str, aws: Client, tmp_path: Path
) -> None:
    result = attak(
        "destroy", str(deployed), "--endpoint-url", moto_server, "--force", f"--output={tmp_path}"
    )
    assert result.exit_code == 0, result.output
    assert live_stacks(aws) == {}
    # AWS refuses to delete exports still imported; moto does not, so check the order.
    deleted = deletions(aws)
    assert max(deleted[FIRST][1], deleted[SECOND][1]) <= deleted[STREAM_STACK][0]
    print(f"deploy times: { {step: round(s, 1) for step, s in DEPLOY_SECONDS.items()} }")
    gone = attak("logs", str(deployed), "--endpoint-url", moto_server)
    assert gone.exit_code == 1
    assert f"topology '{NAME}' is not deployed" in gone.stderr


def deletions(aws: Client) -> dict[str, tuple[Any, Any]]:
    """When the latest deletion of each of the topology's stacks started and ended."""
    cloudformation = aws("cloudformation")
    found: dict[str, tuple[Any, Any]] = {}
    for summary in cloudformation.list_stacks()["StackSummaries"]:
        name = summary["StackName"]
        if name not in STACKS or summary["StackStatus"] != "DELETE_COMPLETE":
            continue
        events = cloudformation.describe_stack_events(StackName=summary["StackId"])
        times = {
            e["ResourceStatus"]: e["Timestamp"]
            for e in events["StackEvents"]
            if e["LogicalResourceId"] == name and e["ResourceStatus"].startswith("DELETE_")
        }
        window = (times["DELETE_IN_PROGRESS"], times["DELETE_COMPLETE"])
        if name not in found or window > found[name]:
            found[name] = window
    assert set(found) == set(STACKS)
    return found
