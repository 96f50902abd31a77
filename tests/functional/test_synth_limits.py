"""A synthesized topology stays within AWS's length and size limits at any fan-out.

moto accepts what AWS would refuse (it enforces neither Lambda's 4 KB environment nor
Kinesis' 128-character stream names), so the limits are checked here, on the template,
for a 50-way fan-out with the longest names the validator allows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from attak_cdk import limits
from attak_cdk.cdk.app import build_app
from attak_cdk.project import load_topology
from attak_cdk.validate import validate

FAN_OUT = 50
TOPOLOGY_NAME = "t" + "-x" * 58 + "y"  # 118: room for the "-streams-1" of a split
SOURCE = "s" * 64
TARGETS = [f"t{i:02d}" + "_" * 61 for i in range(FAN_OUT)]
TOPIC = "the topic of stream {:02d} " + "x" * 233  # 256 characters
HANDLER = "h" * 100  # a handler file and function with long names: both are in ATTAK_HANDLER
FUNCTION = "f" * 60
STREAM_NAME = re.compile(r"[a-zA-Z0-9_.-]{1,128}")


@pytest.fixture(scope="module")
def fan_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fan-out")
    (root / f"{HANDLER}.py").write_text(f"def {FUNCTION}(event, context):\n    pass\n")
    lines = [f"name: {TOPOLOGY_NAME}", "processors:"]
    lines += [f"  {name}: {{handler: '{HANDLER}.py:{FUNCTION}'}}" for name in [SOURCE, *TARGETS]]
    lines += ["streams:"]
    lines += [
        f"  - {{from: {SOURCE}, to: {target}, topic: '{TOPIC.format(i)}'}}"
        for i, target in enumerate(TARGETS)
    ]
    (root / "topology.yml").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def outdir(fan_out: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(build_app(fan_out, tmp_path_factory.mktemp("out")).synth().directory)


@pytest.fixture(scope="module")
def templates(outdir: Path) -> dict[str, Any]:
    return {
        file.name.removesuffix(".template.json"): json.loads(file.read_text())
        for file in outdir.glob("*.template.json")
    }


def resources(templates: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for template in templates.values()
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == type_
    }


def deployed_size(variables: dict[str, Any]) -> int:
    """The environment's bytes as Lambda counts them once deployed: a value only known at
    deploy (the dead-letter queue's URL, a ``Ref``) as long as it can be."""
    return sum(
        len(key.encode())
        + (len(value.encode()) if isinstance(value, str) else limits.QUEUE_URL_BOUND)
        for key, value in variables.items()
    )


def test_the_fan_out_uses_the_longest_names_the_validator_allows(fan_out: Path) -> None:
    topology = load_topology(fan_out)
    assert [i for i in validate(topology) if i.severity == "error"] == []
    assert len(topology.name) == 118 and len(SOURCE) == 64
    assert all(len(s.topic or "") == 256 for s in topology.streams)


def test_every_function_environment_fits_lambdas_4_kb(
    fan_out: Path, templates: dict[str, Any]
) -> None:
    functions = resources(templates, "AWS::Lambda::Function")
    assert len(functions) == FAN_OUT + 1
    topology = load_topology(fan_out)
    ours = {
        name: limits.environment_bytes(limits.attak_variables(topology, processor))
        for name, processor in topology.processors.items()
    }
    for logical_id, props in functions.items():
        variables = props["Environment"]["Variables"]
        size = deployed_size(variables)
        assert size < limits.MAX_ENVIRONMENT_BYTES, (logical_id, size)
        # What the validator counts is what the stack sets: no variable it does not know.
        assert size == ours[variables["ATTAK_PROCESSOR"]], logical_id


def test_every_stream_name_is_one_kinesis_accepts_and_unique(templates: dict[str, Any]) -> None:
    names = [props["Name"] for props in resources(templates, "AWS::Kinesis::Stream").values()]
    assert len(names) == FAN_OUT
    assert len(set(names)) == FAN_OUT
    for name in names:
        assert STREAM_NAME.fullmatch(name), name
    assert max(len(name) for name in names) == limits.MAX_STREAM_NAME  # shortened, not refused


def test_function_names_are_left_to_cloudformation_and_descriptions_fit(
    templates: dict[str, Any],
) -> None:
    # CloudFormation generates a name within 64 characters for a function given none.
    for logical_id, props in resources(templates, "AWS::Lambda::Function").items():
        assert len(props.get("FunctionName", "")) <= limits.MAX_FUNCTION_NAME, logical_id
        assert "FunctionName" not in props, logical_id
        assert len(props["Description"]) <= 256, logical_id


def test_stack_output_export_and_logical_names_fit_cloudformation(
    templates: dict[str, Any],
) -> None:
    assert len(templates) > 1, "a 50-way fan-out is split over stacks: exports are checked"
    exports = []
    for stack, template in templates.items():
        assert len(stack) <= limits.MAX_STACK_NAME, stack
        for output_id, output in template.get("Outputs", {}).items():
            assert len(output_id) <= limits.MAX_OUTPUT_NAME, output_id
            if "Export" in output:
                exports.append(output["Export"]["Name"])
        for logical_id in template["Resources"]:
            assert len(logical_id) <= limits.MAX_OUTPUT_NAME, logical_id
    assert exports
    for name in exports:
        assert isinstance(name, str) and len(name) <= limits.MAX_OUTPUT_NAME, name


def test_the_routes_live_in_the_source_asset_not_its_environment(
    templates: dict[str, Any], outdir: Path
) -> None:
    (source,) = (
        props
        for props in resources(templates, "AWS::Lambda::Function").values()
        if props["Environment"]["Variables"]["ATTAK_PROCESSOR"] == SOURCE
    )
    asset = outdir / f"asset.{source['Code']['S3Key'].removesuffix('.zip')}"
    routes = json.loads((asset / "attak_routes.json").read_text())["routes"]
    streams = {props["Name"] for props in resources(templates, "AWS::Kinesis::Stream").values()}
    assert {route["stream"] for route in routes} == streams
    assert [route["to"] for route in routes] == TARGETS
