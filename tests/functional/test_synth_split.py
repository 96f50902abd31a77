"""A topology past one stack's 500 resources is spread over several deployable stacks."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from attak_cdk import graph
from attak_cdk.cdk.app import build_app
from attak_cdk.cdk.stack import estimate_resources
from attak_cdk.project import load_topology
from attak_cdk.review import review_stacks
from cli.main import app
from tests.conftest import SAMPLE

CHAIN = 60
ONCALL = "oncall@example.com"
PAGER = "arn:aws:sns:us-east-1:123456789012:pager"


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("chain")
    (root / "p").mkdir()
    (root / "p" / "step.py").write_text(
        "def handler(event, context):\n    context.emit('next', event)\n"
    )
    lines = ["name: long-chain", "processors:"]
    lines += [f"  s{i}: p/step.py" for i in range(CHAIN)]
    lines += ["  tail: {handler: p/step.py, input: stream}", "streams:"]
    lines += [f"  - [s{i}, s{i + 1}]" for i in range(CHAIN - 1)]
    lines += [f"  - [s{CHAIN - 1}, s0]"]  # a loop across the whole chain
    lines += [f"alerts: [{ONCALL}, {PAGER}]"]
    (root / "topology.yml").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def templates(chain: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:  # type: ignore[type-arg]
    assembly = build_app(chain, tmp_path_factory.mktemp("out")).synth()
    directory = Path(assembly.directory)
    return {
        s.stack_name: json.loads((directory / s.template_file).read_text()) for s in assembly.stacks
    }


def test_large_topology_becomes_stream_and_processor_stacks(templates: dict[str, dict]) -> None:  # type: ignore[type-arg]
    # 61 streams: 60 fit one stream stack's 200 outputs (three each), the last goes on.
    assert sorted(templates) == [
        "long-chain-1",
        "long-chain-2",
        "long-chain-streams-1",
        "long-chain-streams-2",
    ]
    for name, template in templates.items():
        assert len(template["Resources"]) <= 500, name
        assert len(template.get("Outputs", {})) <= 200, name
    streams = [
        resource
        for name in ("long-chain-streams-1", "long-chain-streams-2")
        for resource in templates[name]["Resources"].values()
    ]
    assert {r["Type"] for r in streams} == {"AWS::Kinesis::Stream"}
    assert len(streams) == CHAIN + 1  # the chain's streams, the loop's and the ingest stream


def test_every_processor_and_mapping_is_built_once(templates: dict[str, dict]) -> None:  # type: ignore[type-arg]
    types = [r["Type"] for t in templates.values() for r in t["Resources"].values()]
    assert types.count("AWS::Lambda::Function") == CHAIN + 1
    assert types.count("AWS::Lambda::EventSourceMapping") == CHAIN + 1


def spelled(value: Any) -> str:
    """A template string with its intrinsics spelled out (``<<Ref:X>>``, ``<<GetAtt:X.A>>``,
    ``<<Import:name>>``) and ``Fn::Join`` joined, so a manifest reads as JSON."""
    if isinstance(value, str):
        return value
    ((key, argument),) = value.items()
    if key == "Fn::Join":
        return str(argument[0]).join(spelled(part) for part in argument[1])
    if key == "Ref":
        return f"<<Ref:{argument}>>"
    if key == "Fn::GetAtt":
        return f"<<GetAtt:{argument[0]}.{argument[1]}>>"
    if key == "Fn::ImportValue":
        return f"<<Import:{argument}>>"
    raise AssertionError(f"cannot read {value!r} as a string")


PROCESSOR_STACKS = ("long-chain-1", "long-chain-2")


def test_each_processor_stack_carries_the_manifest_part_of_its_own_processors(
    templates: dict[str, dict],  # type: ignore[type-arg]
    chain: Path,
) -> None:
    streams = graph.resolve(load_topology(chain)).streams
    created = {
        resource["Properties"]["Name"]
        for name, template in templates.items()
        if name.startswith("long-chain-streams-")
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Kinesis::Stream"
    }
    assert all(n.startswith("long-chain-streams-") for n in created)
    seen: list[str] = []
    for number, name in enumerate(PROCESSOR_STACKS, start=1):
        template = templates[name]
        manifest = json.loads(spelled(template["Outputs"]["Manifest"]["Value"]))
        assert (manifest["version"], manifest["topology"]) == (1, "long-chain")
        assert (manifest["part"], manifest["parts"]) == (number, len(PROCESSOR_STACKS))
        functions = {
            logical
            for logical, resource in template["Resources"].items()
            if resource["Type"] == "AWS::Lambda::Function"
        }
        own = manifest["processors"]
        assert {f"{p.capitalize()}Function" for p in own} == functions, name
        for processor, entry in own.items():
            # Its own resources, by Ref: nothing comes from another processor stack.
            assert entry["function"] == f"<<Ref:{processor.capitalize()}Function>>"
            assert entry["log_group"] == f"<<Ref:{processor.capitalize()}LogGroup>>"
            assert entry["dead_letter_queue"] == f"<<Ref:{processor.capitalize()}DeadLetterQueue>>"
        used = {s for entry in own.values() for s in entry["inputs"] + entry["outputs"]}
        used |= {f"input->{p}" for p, entry in own.items() if entry.get("ingest_stream")}
        assert set(manifest["streams"]) == used, name
        for local, physical in manifest["streams"].items():
            # Names are fixed at synth, prefixed with the stream stack's name: the manifest
            # needs nothing from the stream stacks, and names the streams they create.
            assert physical.endswith(f"-{streams[local].construct_id}"), physical
            assert physical in created, physical
        seen += own
    assert sorted(seen) == sorted([f"s{i}" for i in range(CHAIN)] + ["tail"])
    assert (
        "input->tail"
        in json.loads(spelled(templates["long-chain-2"]["Outputs"]["Manifest"]["Value"]))["streams"]
    )


def test_processor_stacks_import_only_from_stream_stacks(
    templates: dict[str, dict],  # type: ignore[type-arg]
) -> None:
    # No processor stack reads another's function, log group or queue (so none depends on
    # another, and a part's manifest never waits on the rest of the topology).
    for name in PROCESSOR_STACKS:
        text = json.dumps(templates[name])
        imports = re.findall(r'"Fn::ImportValue": "([^"]+)"', text)
        assert imports, name  # stream ARNs come from the streams stacks (names are fixed)
        assert {i.split(":")[0] for i in imports} <= {
            "long-chain-streams-1",
            "long-chain-streams-2",
        }
        assert not any("Export" in o for o in templates[name]["Outputs"].values()), name
    outputs = {k for t in templates.values() for k in t.get("Outputs", {})}
    assert {"S0FunctionName", "TailFunctionName", "S0ToS1StreamName"} <= outputs


def test_stream_stacks_never_import_from_processor_stacks(templates: dict[str, dict]) -> None:  # type: ignore[type-arg]
    # Processor stacks depend on stream stacks, never the reverse: the topology's loop
    # (s59 -> s0) does not become a loop between stacks.
    for name in ("long-chain-streams-1", "long-chain-streams-2"):
        assert "Fn::ImportValue" not in json.dumps(templates[name])


def test_estimate_matches_what_a_single_stack_holds(tmp_path: Path) -> None:
    assembly = build_app(SAMPLE, tmp_path).synth()
    (stack,) = assembly.stacks
    assert len(stack.template["Resources"]) == estimate_resources(load_topology(SAMPLE))


def test_estimate_counts_the_alerts_topic_and_its_subscriptions(tmp_path: Path) -> None:
    root = tmp_path / "alerted"
    (root / "p").mkdir(parents=True)
    (root / "p" / "h.py").write_text("def handler(event, context):\n    pass\n")
    (root / "topology.yml").write_text(
        f"name: alerted\nprocessors: {{a: p/h.py}}\nalerts: [{ONCALL}, ops@example.com, {PAGER}]\n"
    )
    (stack,) = build_app(root, tmp_path / "out").synth().stacks
    assert len(stack.template["Resources"]) == estimate_resources(load_topology(root))


def test_each_processor_stack_tells_people_through_a_topic_of_its_own(
    templates: dict[str, dict],  # type: ignore[type-arg]
) -> None:
    for name, template in templates.items():
        resources = template["Resources"]
        topics = [k for k, r in resources.items() if r["Type"] == "AWS::SNS::Topic"]
        if "streams" in name:
            assert topics == [], name
            continue
        assert topics == ["AlertsTopic"], name
        keys = [r for r in resources.values() if r["Type"] == "AWS::KMS::Key"]
        assert len(keys) == 1 and keys[0]["Properties"]["EnableKeyRotation"] is True
        (subscription,) = (
            r["Properties"] for r in resources.values() if r["Type"] == "AWS::SNS::Subscription"
        )
        assert (subscription["Protocol"], subscription["Endpoint"]) == ("email", ONCALL)
        alarms = [
            r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"
        ]
        assert alarms, name
        for alarm in alarms:
            # Its own stack's topic (no cross-stack reference) and the existing one.
            expected = [{"Ref": "AlertsTopic"}, PAGER]
            assert alarm["AlarmActions"] == expected, name
            assert alarm["OKActions"] == expected, name
        assert "AlertsTopicArn" in template["Outputs"], name


def _project_with_requirements(root: Path, requirement: str) -> Path:
    (root / "proc").mkdir(parents=True)
    (root / "proc" / "main.py").write_text("import six\n\ndef handler(event, context):\n    pass\n")
    (root / "proc" / "requirements.txt").write_text(requirement + "\n")
    (root / "topology.yml").write_text("name: with-deps\nprocessors: {main: proc/main.py}\n")
    return root


def test_requirements_are_installed_into_the_asset_for_lambda(tmp_path: Path) -> None:
    # six ships a universal wheel: pip fetches it for the Lambda platform from the index.
    project = _project_with_requirements(tmp_path / "project", "six==1.16.0")
    build_app(project, tmp_path / "out").synth()
    (asset,) = (tmp_path / "out").glob("asset.*")
    assert (asset / "six.py").is_file()
    assert (asset / "main.py").is_file()
    assert (asset / "attak_runtime" / "handler.py").is_file()


def test_requirements_that_cannot_be_installed_are_a_clear_error(tmp_path: Path) -> None:
    from attak_cdk.cdk.asset import BundlingError

    project = _project_with_requirements(tmp_path / "project", "attak-no-such-package-xyz==0.0.1")
    with pytest.raises(BundlingError, match="installing the requirements for Lambda"):
        build_app(project, tmp_path / "out")


def test_the_review_follows_streams_into_the_stacks_that_import_them(
    templates: dict[str, dict],  # type: ignore[type-arg]
) -> None:
    reviews = {r.stack: r for r in review_stacks(templates)}
    functions = {f.logical_id: f for r in reviews.values() for f in r.functions}
    # s59 is in the second processor stack; both its streams are in stream stacks.
    assert (functions["S59Function"].reads, functions["S59Function"].writes) == (
        ["S58ToS59Stream"],
        ["S59ToS0Stream"],
    )
    assert functions["S0Function"].reads == ["S59ToS0Stream"]
    assert functions["TailFunction"].reads == ["TailInputStream"]
    streams = {s.logical_id: s for r in reviews.values() for s in r.streams}
    assert (streams["S58ToS59Stream"].consumers, streams["S58ToS59Stream"].dead_letter_queues) == (
        ["S59Function"],
        ["S59DeadLetterQueue"],
    )
    assert all(s.consumers for s in streams.values())  # every stream has its reader


def test_synth_of_a_split_topology_says_to_add_new_parts_at_the_end(
    chain: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(app, ["synth", str(chain), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "in 4 stacks" in result.stdout
    notice = " ".join(result.stdout.split())
    assert "fill these stacks in the order the topology lists them: add new ones at the end" in (
        notice
    )
