"""The synthesized CloudFormation template: what DESIGN.md's "Synthesized stack" promises.

Each CDK synthesis costs about two seconds (jsii), so every topology is built once per
module (module-scoped fixtures) and its template shared by the tests reading it.

The golden template of ``sample_topology`` lives in ``tests/golden``; after an intended
change to the stack, regenerate it with ``ATTAK_UPDATE_GOLDEN=1 pytest <this file>``
and review the diff.
"""

from __future__ import annotations

import difflib
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from attak_cdk.cdk.app import build_app, synthesize
from attak_cdk.cdk.stack import TopologyStack
from attak_cdk.cdk.topology import TopologyTooLarge
from attak_cdk.manifest import parse as parse_manifest
from attak_cdk.project import load_topology
from tests.conftest import PASS_ON, REPO, SAMPLE, SINK

GOLDEN = REPO / "tests" / "golden" / "sample_topology.template.json"
UPDATE_GOLDEN = os.environ.get("ATTAK_UPDATE_GOLDEN") == "1"

FUNCTION = "AWS::Lambda::Function"
STREAM = "AWS::Kinesis::Stream"
MAPPING = "AWS::Lambda::EventSourceMapping"
QUEUE = "AWS::SQS::Queue"
ALARM = "AWS::CloudWatch::Alarm"

PUT_ACTIONS = {"kinesis:PutRecord", "kinesis:PutRecords"}
READ_ACTIONS = {
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:SubscribeToShard",
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:DescribeStreamConsumer",
}
"""Actions only a consumer needs. (``ListShards`` is in CDK's write grant too: it reads
no records, so it is checked only to stay within the function's own streams.)"""

# The property that would give each resource type a hard-coded physical name.
PHYSICAL_NAME_PROPERTIES = {
    FUNCTION: "FunctionName",
    STREAM: "Name",
    QUEUE: "QueueName",
    "AWS::Logs::LogGroup": "LogGroupName",
    ALARM: "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::IAM::Role": "RoleName",
}


# --- building ----------------------------------------------------------------------------


@dataclass
class Built:
    """One synthesized topology: the stack, its assertions template and the assembly."""

    stack: TopologyStack
    template: Template
    json: dict[str, Any]
    template_file: Path
    outdir: Path

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == type_}

    def props(self, logical_id: str) -> dict[str, Any]:
        properties: dict[str, Any] = self.json["Resources"][logical_id]["Properties"]
        return properties


@pytest.fixture(scope="module")
def no_cdk_environment() -> Iterator[None]:
    """Builds must not pick up an account/region from the shell: it changes the template."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CDK_DEFAULT_ACCOUNT", raising=False)
        patch.delenv("CDK_DEFAULT_REGION", raising=False)
        yield


def write_files(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def build(topology_path: Path, outdir: Path) -> Built:
    app = build_app(topology_path, outdir)
    (stack,) = (c for c in app.node.children if isinstance(c, TopologyStack))
    template = Template.from_stack(stack)
    assembly = app.synth()
    template_file = (
        Path(assembly.directory) / assembly.get_stack_by_name(stack.stack_name).template_file
    )
    return Built(stack, template, template.to_json(), template_file, outdir)


def flatten(value: Any) -> str:
    """A template string value with its intrinsics spelled out: ``<<Ref:X>>``,
    ``<<GetAtt:X.Attr>>``; ``Fn::Join``/``Fn::Sub`` are joined/substituted."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref":
            return f"<<Ref:{argument}>>"
        if key == "Fn::GetAtt":
            return f"<<GetAtt:{argument[0]}.{argument[1]}>>"
        if key == "Fn::Join":
            separator, parts = argument
            return str(separator).join(flatten(part) for part in parts)
        if key == "Fn::Sub":
            text = argument if isinstance(argument, str) else argument[0]

            def name(match: re.Match[str]) -> str:
                ref = match.group(1)
                return f"<<GetAtt:{ref}>>" if "." in ref else f"<<Ref:{ref}>>"

            return re.sub(r"\$\{([^}]+)\}", name, text)
    raise AssertionError(f"cannot read {value!r} as a string")


def getatt_target(resource: Any) -> str:
    """The logical id an IAM statement's resource points at; only ``Fn::GetAtt [X, Arn]``
    is acceptable for a stream (``*`` or a hand-written ARN fails here)."""
    assert isinstance(resource, dict), f"statement resource {resource!r} is not a stream ARN"
    assert list(resource) == ["Fn::GetAtt"], f"statement resource {resource!r} is not GetAtt"
    target, attribute = resource["Fn::GetAtt"]
    assert attribute == "Arn", resource
    return str(target)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def kinesis_grants(built: Built, function_id: str) -> dict[str, set[str]]:
    """Kinesis action -> the logical ids of the streams the function's role may use it on."""
    role = built.props(function_id)["Role"]["Fn::GetAtt"][0]
    role_props = built.props(role)
    assert "Policies" not in role_props, "grants belong in the role's one default policy"
    # No managed policy (AWSLambdaBasicExecutionRole writes logs anywhere): every
    # permission is a grant in the role's default policy.
    assert "ManagedPolicyArns" not in role_props, role_props["ManagedPolicyArns"]
    grants: dict[str, set[str]] = {}
    policies = [
        p["Properties"]
        for p in built.resources("AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
    ]
    assert policies, f"{function_id} has no policy"
    for policy in policies:
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow", statement
            actions = [a for a in as_list(statement["Action"]) if a.startswith("kinesis:")]
            for action in actions:
                assert "*" not in action, f"{function_id}: wildcard action {action}"
                for resource in as_list(statement["Resource"]):
                    grants.setdefault(action, set()).add(getatt_target(resource))
    return grants


def targets(grants: dict[str, set[str]], actions: set[str]) -> set[str]:
    return set().union(*(grants.get(action, set()) for action in actions))


def normalise(template_text: str) -> str:
    """The template with asset hashes (which follow the runtime's source) made constant."""
    text = re.sub(r"[0-9a-f]{64}\.zip", "ASSET.zip", template_text)
    return re.sub(r"[0-9a-f]{64}", "ASSET_HASH", text)


def stream_ids(built: Built) -> list[str]:
    return list(built.resources(STREAM))


# --- topologies ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(no_cdk_environment: None, tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(SAMPLE, tmp_path_factory.mktemp("sample-app") / "cdk.out")


@pytest.fixture(scope="module")
def sample_template_file(
    no_cdk_environment: None, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The sample synthesized the way ``attak synth`` does it."""
    result = synthesize(SAMPLE.resolve(), tmp_path_factory.mktemp("sample-synth") / "cdk.out")
    return only_template(result)


def only_template(result: Path | dict[str, Path]) -> Path:
    """``synthesize``'s one template (it returns {stack name: template} or a path)."""
    if isinstance(result, dict):
        assert list(result) == ["attak-example"], "the sample is one stack"
        (result,) = result.values()
    return Path(result)


TUNED = """
    name: tuned
    max_hops: 7
    trace_sampling: 0.25
    processors:
      src:
        handler: processors/src.py
        memory: 1024
        timeout: 30
        reserved_concurrency: 3
        environment: {GREETING: hi}
        system_log_level: INFO
      dst: processors/dst.py
      other: processors/other.py
    streams:
      - from: src
        to: dst
        batch_size: 7
        max_batching_window: 5
        parallelization_factor: 3
        retry_attempts: 4
        max_record_age: 3600
        starting_position: LATEST
        shards: 2
        retention_hours: 48
      - {from: src, to: other, shards: on-demand}
"""


@pytest.fixture(scope="module")
def tuned(no_cdk_environment: None, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Non-default processor and stream settings next to an all-defaults stream."""
    root = write_files(
        tmp_path_factory.mktemp("tuned"),
        {
            "topology.yml": TUNED,
            "processors/src.py": PASS_ON,
            "processors/dst.py": SINK,
            "processors/other.py": SINK,
        },
    )
    return build(root, root / "cdk.out")


PIPELINE = """
    name: pipeline
    defaults: {retention_hours: 72, batch_size: 25}
    processors:
      a: a/a.py
      b: b/b.py
      c:
        handler: c/c.py
        input: stream
    streams:
      - [a, b]
      - [b, c]
      - [a, c, loud]
"""


@pytest.fixture(scope="module")
def pipeline(no_cdk_environment: None, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """a -> b -> c, a -> c on topic ``loud``, and c with an ingest stream."""
    root = write_files(
        tmp_path_factory.mktemp("pipeline"),
        {"topology.yml": PIPELINE, "a/a.py": PASS_ON, "b/b.py": PASS_ON, "c/c.py": SINK},
    )
    return build(root, root / "cdk.out")


PAGER_TOPIC = "arn:aws:sns:eu-west-1:123456789012:pager"


@pytest.fixture(scope="module")
def alerted(no_cdk_environment: None, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One processor whose alarms tell two addresses and an existing topic."""
    root = write_files(
        tmp_path_factory.mktemp("alerted"),
        {
            "topology.yml": f"""
                name: alerted
                processors: {{solo: p/solo.py}}
                alerts: [ops@example.com, {PAGER_TOPIC}, pager@example.com]
            """,
            "p/solo.py": SINK,
        },
    )
    return build(root, root / "cdk.out")


FAN_OUT = 12


@pytest.fixture(scope="module")
def fan(no_cdk_environment: None, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One spout fanning out to 12 consumers: 12 streams."""
    consumers = [f"c{i:02d}" for i in range(1, FAN_OUT + 1)]
    topology = "name: fan\nprocessors:\n  spout: p/spout.py\n"
    topology += "".join(f"  {c}: p/sink.py\n" for c in consumers)
    topology += "streams:\n" + "".join(f"  - [spout, {c}]\n" for c in consumers)
    root = write_files(
        tmp_path_factory.mktemp("fan"),
        {"topology.yml": topology, "p/spout.py": PASS_ON, "p/sink.py": SINK},
    )
    return build(root, root / "cdk.out")


@pytest.fixture(scope="module")
def python_form(no_cdk_environment: None, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """A Python topology whose ``topology()`` builds the document; one folder per processor."""
    root = write_files(
        tmp_path_factory.mktemp("python-form"),
        {
            "topology.py": """
                def topology():
                    names = ["spout", "sink"]
                    return {
                        "name": "from-code",
                        "processors": {n: f"{n}/{n}.py" for n in names},
                        "streams": [names],
                    }
            """,
            "spout/spout.py": PASS_ON,
            "sink/sink.py": SINK,
        },
    )
    return build(root, root / "cdk.out")


@dataclass
class FolderBuild:
    built: Built
    leftover_staging: list[str]
    """``attak-assets-*`` folders still in the temporary directory after synthesis."""


@pytest.fixture(scope="module")
def folder_form(no_cdk_environment: None, tmp_path_factory: pytest.TempPathFactory) -> FolderBuild:
    """``processors: ./processors``: every processor in one folder, a helper beside them."""
    root = write_files(
        tmp_path_factory.mktemp("folder-form"),
        {
            "topology.yml": """
                name: folder
                processors: ./processors
                streams: [[spout, sink]]
            """,
            "processors/spout.py": PASS_ON,
            "processors/sink.py": SINK,
            "processors/_helpers.py": "GREETING = 'hi'\n",
        },
    )
    scratch = tmp_path_factory.mktemp("folder-form-tmp")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(scratch))
        built = build(root, root / "cdk.out")
    leftover = sorted(p.name for p in scratch.glob("attak-assets-*"))
    return FolderBuild(built, leftover)


def chain_topology(root: Path, length: int) -> Path:
    names = [f"p{i}" for i in range(length)]
    topology = "name: chain\nprocessors:\n" + "".join(f"  {n}: p/h.py\n" for n in names)
    topology += "streams:\n" + "".join(f"  - [{a}, {b}]\n" for a, b in itertools.pairwise(names))
    return write_files(root, {"topology.yml": topology, "p/h.py": PASS_ON})


@dataclass
class TooLarge:
    message: str
    resources_in_tree: int
    processors: int


@pytest.fixture(scope="module")
def too_large(no_cdk_environment: None, tmp_path_factory: pytest.TempPathFactory) -> TooLarge:
    root = chain_topology(tmp_path_factory.mktemp("chain60"), 60)
    app = cdk.App(outdir=str(root / "cdk.out"))
    with pytest.raises(TopologyTooLarge) as raised:
        TopologyStack(app, topology=load_topology(root))
    count = sum(1 for c in app.node.find_all() if isinstance(c, cdk.CfnResource))
    return TooLarge(str(raised.value), count, 60)


# --- 1. sample topology: shape, ids, names --------------------------------------------------


def test_sample_has_exactly_the_expected_resources_by_type(sample: Built) -> None:
    counts = Counter(r["Type"] for r in sample.json["Resources"].values())
    assert counts == {
        FUNCTION: 2,
        STREAM: 1,
        MAPPING: 1,
        QUEUE: 2,
        "AWS::SQS::QueuePolicy": 2,
        "AWS::Logs::LogGroup": 2,
        ALARM: 10,
        "AWS::CloudWatch::Dashboard": 1,
        "AWS::IAM::Role": 2,
        "AWS::IAM::Policy": 2,
        "AWS::Lambda::EventInvokeConfig": 2,
    }
    sample.template.resource_count_is(FUNCTION, 2)
    sample.template.resource_count_is(STREAM, 1)


def test_sample_logical_ids_read_as_topology_names(sample: Built) -> None:
    resources = sample.json["Resources"]
    expected = {
        "ReverseFunction": FUNCTION,
        "HelloWorldSpoutFunction": FUNCTION,
        "HelloWorldSpoutToReverseStream": STREAM,
        "ReverseDeadLetterQueue": QUEUE,
        "HelloWorldSpoutDeadLetterQueue": QUEUE,
        "ReverseLogGroup": "AWS::Logs::LogGroup",
        "ReverseFunctionFromHelloWorldSpoutToReverseStream": MAPPING,
    }
    assert {k: resources.get(k, {}).get("Type") for k in expected} == expected


def test_only_streams_have_a_physical_name_fixed_at_synth(sample: Built) -> None:
    # A stream's name is written into its producers' assets, so it is known at synth;
    # every other name is left to CloudFormation (unique per stack, within each limit).
    named = {
        logical_id: r["Properties"][PHYSICAL_NAME_PROPERTIES[r["Type"]]]
        for logical_id, r in sample.json["Resources"].items()
        if PHYSICAL_NAME_PROPERTIES.get(r["Type"]) in r.get("Properties", {})
    }
    assert named == {
        "HelloWorldSpoutToReverseStream": "attak-example-HelloWorldSpoutToReverseStream"
    }


# --- 2. Lambda ---------------------------------------------------------------------------


def test_functions_run_the_attak_runtime_on_python_arm64(sample: Built) -> None:
    for function_id in ("HelloWorldSpoutFunction", "ReverseFunction"):
        props = sample.props(function_id)
        assert props["Runtime"] == "python3.13"
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == "attak_runtime.handler.lambda_handler"
        assert (props["MemorySize"], props["Timeout"]) == (256, 60)
        assert "ReservedConcurrentExecutions" not in props


def test_function_environment_names_handler_processor_topology_hops(sample: Built) -> None:
    # Only small, fixed variables: the routes and retries are in the asset (see below).
    variables = sample.props("ReverseFunction")["Environment"]["Variables"]
    assert variables == {
        "ATTAK_HANDLER": "reverse:handler",
        "ATTAK_PROCESSOR": "reverse",
        "ATTAK_TOPOLOGY": "attak-example",
        "ATTAK_MAX_HOPS": "16",
        "ATTAK_DEAD_LETTERS": {"Ref": "ReverseDeadLetterQueue"},
    }
    spout = sample.props("HelloWorldSpoutFunction")["Environment"]["Variables"]
    assert spout["ATTAK_HANDLER"] == "hello_world:handler"
    assert spout["ATTAK_PROCESSOR"] == "hello_world_spout"


def routes_file(built: Built, function_id: str) -> dict[str, Any]:
    """The routes file in a function's asset, as synthesized into cdk.out."""
    key = built.props(function_id)["Code"]["S3Key"]
    asset = built.outdir / f"asset.{key.removesuffix('.zip')}"
    document: dict[str, Any] = json.loads((asset / "attak_routes.json").read_text())
    return document


def test_spout_routes_in_its_asset_name_the_deployed_stream(sample: Built) -> None:
    stream = sample.props("HelloWorldSpoutToReverseStream")["Name"]
    assert routes_file(sample, "HelloWorldSpoutFunction") == {
        "routes": [{"stream": stream, "topic": None, "to": "reverse"}],
        "retries": {},
    }
    # The consumer retries an event in place as often as its mapping would retry it.
    assert routes_file(sample, "ReverseFunction") == {"routes": [], "retries": {stream: 10}}


def test_memory_timeout_concurrency_environment_and_hops_come_from_the_topology(
    tuned: Built,
) -> None:
    props = tuned.props("SrcFunction")
    assert (props["MemorySize"], props["Timeout"]) == (1024, 30)
    assert props["ReservedConcurrentExecutions"] == 3
    variables = props["Environment"]["Variables"]
    assert variables["GREETING"] == "hi"
    assert variables["ATTAK_MAX_HOPS"] == "7"
    assert variables["ATTAK_TRACE_SAMPLING"] == "0.25"
    assert routes_file(tuned, "SrcFunction")["routes"] == [
        {"stream": "tuned-SrcToDstStream", "topic": None, "to": "dst"},
        {"stream": "tuned-SrcToOtherStream", "topic": None, "to": "other"},
    ]
    assert routes_file(tuned, "DstFunction")["retries"] == {"tuned-SrcToDstStream": 4}


def test_functions_log_json_without_lambdas_per_invocation_lines_by_default(
    sample: Built,
) -> None:
    # START and REPORT are INFO-level platform lines: WARN drops them; the runtime's
    # sampling rate is the default, so no variable spends environment bytes on it.
    for function_id in ("HelloWorldSpoutFunction", "ReverseFunction"):
        props = sample.props(function_id)
        assert props["LoggingConfig"]["LogFormat"] == "JSON"
        assert props["LoggingConfig"]["SystemLogLevel"] == "WARN"
        assert "ApplicationLogLevel" not in props["LoggingConfig"]
        assert "ATTAK_TRACE_SAMPLING" not in props["Environment"]["Variables"]


def test_system_log_level_comes_from_the_processor(tuned: Built) -> None:
    assert tuned.props("SrcFunction")["LoggingConfig"]["SystemLogLevel"] == "INFO"
    assert tuned.props("DstFunction")["LoggingConfig"]["SystemLogLevel"] == "WARN"
    assert tuned.props("DstFunction")["Environment"]["Variables"]["ATTAK_TRACE_SAMPLING"] == "0.25"


def test_each_function_logs_to_its_own_log_group_kept_two_weeks(sample: Built) -> None:
    for name in ("HelloWorldSpout", "Reverse"):
        props = sample.props(f"{name}Function")
        assert props["LoggingConfig"]["LogGroup"] == {"Ref": f"{name}LogGroup"}
        assert sample.props(f"{name}LogGroup")["RetentionInDays"] == 14


def test_direct_invocations_retry_twice_then_go_to_the_dead_letter_queue(sample: Built) -> None:
    configs = {
        c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
        for c in sample.resources("AWS::Lambda::EventInvokeConfig").values()
    }
    assert set(configs) == {"HelloWorldSpoutFunction", "ReverseFunction"}
    for function_id, config in configs.items():
        queue = function_id.removesuffix("Function") + "DeadLetterQueue"
        assert config["MaximumRetryAttempts"] == 2
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
            "Fn::GetAtt": [queue, "Arn"]
        }


# --- 3. Kinesis ----------------------------------------------------------------------------


def test_streams_are_encrypted_with_the_aws_managed_key(sample: Built, tuned: Built) -> None:
    for built in (sample, tuned):
        for logical_id, stream in built.resources(STREAM).items():
            assert stream["Properties"]["StreamEncryption"] == {
                "EncryptionType": "KMS",
                "KeyId": "alias/aws/kinesis",
            }, logical_id


def test_streams_are_on_demand_by_default(tuned: Built) -> None:
    props = tuned.props("SrcToOtherStream")
    assert props["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
    assert "ShardCount" not in props
    assert props["RetentionPeriodHours"] == 24


def test_the_sample_declares_one_provisioned_shard_for_every_stream(sample: Built) -> None:
    # defaults: {shards: 1}: idle, a shard's hours cost less than an on-demand stream's.
    props = sample.props("HelloWorldSpoutToReverseStream")
    assert props["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert props["ShardCount"] == 1


def test_shards_make_a_provisioned_stream_and_retention_is_kept(tuned: Built) -> None:
    props = tuned.props("SrcToDstStream")
    assert props["StreamModeDetails"] == {"StreamMode": "PROVISIONED"}
    assert props["ShardCount"] == 2
    assert props["RetentionPeriodHours"] == 48


# --- 4. event-source mappings ------------------------------------------------------------


def test_default_mapping_reports_item_failures_bisects_and_retries_finitely(
    sample: Built,
) -> None:
    props = sample.props("ReverseFunctionFromHelloWorldSpoutToReverseStream")
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["HelloWorldSpoutToReverseStream", "Arn"]}
    assert props["FunctionName"] == {"Ref": "ReverseFunction"}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert props["MaximumRetryAttempts"] == 10
    assert props["StartingPosition"] == "TRIM_HORIZON"
    assert props["BatchSize"] == 100
    # Lambda gives up on a record an hour before the stream's 24 hours would drop it.
    assert props["MaximumRecordAgeInSeconds"] == 23 * 3600
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["ReverseDeadLetterQueue", "Arn"]
    }


def test_mapping_takes_every_stream_setting_from_the_topology(tuned: Built) -> None:
    props = tuned.props("DstFunctionFromSrcToDstStream")
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["SrcToDstStream", "Arn"]}
    assert props["FunctionName"] == {"Ref": "DstFunction"}
    assert props["BatchSize"] == 7
    assert props["MaximumBatchingWindowInSeconds"] == 5
    assert props["ParallelizationFactor"] == 3
    assert props["MaximumRetryAttempts"] == 4
    assert props["MaximumRecordAgeInSeconds"] == 3600
    assert props["StartingPosition"] == "LATEST"
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["DstDeadLetterQueue", "Arn"]
    }
    untouched = tuned.props("OtherFunctionFromSrcToOtherStream")
    assert (untouched["BatchSize"], untouched["MaximumRetryAttempts"]) == (100, 10)
    assert untouched["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["OtherDeadLetterQueue", "Arn"]
    }


def test_every_mapping_retries_finitely_and_dead_letters(
    sample: Built, tuned: Built, pipeline: Built, fan: Built
) -> None:
    for built in (sample, tuned, pipeline, fan):
        for logical_id, mapping in built.resources(MAPPING).items():
            props = mapping["Properties"]
            assert 0 <= props["MaximumRetryAttempts"] <= 10_000, logical_id
            assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], logical_id
            assert "OnFailure" in props["DestinationConfig"], logical_id


def test_topology_defaults_apply_to_ingest_streams_too(pipeline: Built) -> None:
    """README: ``defaults:`` are "for every processor and stream"; an ``input: stream``
    processor's ingest stream is one of the topology's streams."""
    retention = {
        k: s["Properties"]["RetentionPeriodHours"] for k, s in pipeline.resources(STREAM).items()
    }
    assert retention == dict.fromkeys(
        ("AToBStream", "BToCStream", "AToCLoudStream", "CInputStream"), 72
    )
    batch = {k: m["Properties"]["BatchSize"] for k, m in pipeline.resources(MAPPING).items()}
    assert batch == dict.fromkeys(
        (
            "BFunctionFromAToBStream",
            "CFunctionFromBToCStream",
            "CFunctionFromAToCLoudStream",
            "CFunctionFromCInputStream",
        ),
        25,
    )


# --- 5. SQS ------------------------------------------------------------------------------


def test_dead_letter_queues_are_encrypted_and_keep_messages_two_weeks(sample: Built) -> None:
    queues = sample.resources(QUEUE)
    assert set(queues) == {"HelloWorldSpoutDeadLetterQueue", "ReverseDeadLetterQueue"}
    for logical_id, queue in queues.items():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True, logical_id
        assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600, logical_id


def test_dead_letter_queues_refuse_requests_without_tls(sample: Built) -> None:
    policies = sample.resources("AWS::SQS::QueuePolicy").values()
    for queue in sample.resources(QUEUE):
        statements = [
            statement
            for policy in policies
            if {"Ref": queue} in policy["Properties"]["Queues"]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        assert {
            "Action": "sqs:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Resource": {"Fn::GetAtt": [queue, "Arn"]},
        } in statements, queue


# --- 6. alarms ---------------------------------------------------------------------------


def test_each_processor_has_errors_iterator_age_and_dead_letter_alarms(sample: Built) -> None:
    alarms = [a["Properties"] for a in sample.resources(ALARM).values()]

    def matching(namespace: str, metric: str, dimension: str, value: Any) -> list[Any]:
        return [
            a
            for a in alarms
            if (a["Namespace"], a["MetricName"]) == (namespace, metric)
            and a["Dimensions"] == [{"Name": dimension, "Value": value}]
        ]

    for name in ("HelloWorldSpout", "Reverse"):
        function = {"Ref": f"{name}Function"}
        queue = {"Fn::GetAtt": [f"{name}DeadLetterQueue", "QueueName"]}
        (errors,) = matching("AWS/Lambda", "Errors", "FunctionName", function)
        assert (errors["Threshold"], errors["ComparisonOperator"]) == (
            1,
            "GreaterThanOrEqualToThreshold",
        )
        (age,) = matching("AWS/Lambda", "IteratorAge", "FunctionName", function)
        assert age["Statistic"] == "Maximum"
        assert age["ComparisonOperator"] == "GreaterThanThreshold"
        (dead,) = matching("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue)
        assert (dead["Threshold"], dead["ComparisonOperator"]) == (
            1,
            "GreaterThanOrEqualToThreshold",
        )


def test_each_processor_alarms_on_the_failed_and_dead_lettered_events_its_runtime_counts(
    sample: Built,
) -> None:
    alarms = [a["Properties"] for a in sample.resources(ALARM).values()]
    for processor in ("hello_world_spout", "reverse"):
        dimensions = [
            {"Name": "processor", "Value": processor},
            {"Name": "topology", "Value": "attak-example"},
        ]
        runtime = {
            a["MetricName"]: a
            for a in alarms
            if a["Namespace"] == "attak"
            and sorted(a["Dimensions"], key=lambda d: d["Name"]) == dimensions
        }
        # The names the runtime's summary line gives its counts (runtime/logs.py).
        assert set(runtime) == {"failed", "dead_letters"}
        for alarm in runtime.values():
            assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Sum", 60, 1)
            assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
            # A minute without a summary line of failures is a minute without failures.
            assert alarm["TreatMissingData"] == "notBreaching"


def test_without_alerts_no_topic_is_made_and_alarms_have_no_action(sample: Built) -> None:
    assert sample.resources("AWS::SNS::Topic") == {}
    for alarm in sample.resources(ALARM).values():
        assert "AlarmActions" not in alarm["Properties"]


def test_alerts_wire_every_alarm_to_an_encrypted_topic_and_the_existing_ones(
    alerted: Built,
) -> None:
    ((topic_id, topic),) = alerted.resources("AWS::SNS::Topic").items()
    assert topic_id == "AlertsTopic"
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": ["AlertsKey", "Arn"]}
    (key,) = alerted.resources("AWS::KMS::Key").values()
    assert key["Properties"]["EnableKeyRotation"] is True
    # CloudWatch publishes to an encrypted topic only with the key's use granted to it.
    granted = [
        statement
        for statement in key["Properties"]["KeyPolicy"]["Statement"]
        if statement.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert granted and set(granted[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    (policy,) = alerted.resources("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )
    assert any(
        s["Effect"] == "Allow"
        and s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        and s["Action"] == "sns:Publish"
        for s in statements
    )
    endpoints = sorted(
        (s["Properties"]["Protocol"], s["Properties"]["Endpoint"])
        for s in alerted.resources("AWS::SNS::Subscription").values()
    )
    assert endpoints == [("email", "ops@example.com"), ("email", "pager@example.com")]
    alarms = alerted.resources(ALARM)
    assert len(alarms) == 5
    expected = [{"Ref": "AlertsTopic"}, PAGER_TOPIC]
    for logical_id, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == expected, logical_id
        assert alarm["Properties"]["OKActions"] == expected, logical_id
    assert "AlertsTopicArn" in alerted.json["Outputs"]


def test_the_dashboard_graphs_the_runtimes_failure_counts(sample: Built) -> None:
    (dashboard,) = sample.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for name in ("failed events, retries, dead-lettered events", '\\"attak\\",\\"failed'):
        assert name in body, name


# --- 7. IAM least privilege ------------------------------------------------------------------


def test_spout_may_only_put_into_its_outgoing_stream(sample: Built) -> None:
    grants = kinesis_grants(sample, "HelloWorldSpoutFunction")
    assert grants["kinesis:PutRecords"] == {"HelloWorldSpoutToReverseStream"}
    assert targets(grants, PUT_ACTIONS) == {"HelloWorldSpoutToReverseStream"}
    assert targets(grants, READ_ACTIONS) == set()
    assert targets(grants, set(grants)) == {"HelloWorldSpoutToReverseStream"}


def test_consumer_may_only_read_its_input_stream_and_never_put(sample: Built) -> None:
    grants = kinesis_grants(sample, "ReverseFunction")
    stream = {"HelloWorldSpoutToReverseStream"}
    for action in (
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:ListShards",
    ):
        assert grants.get(action) == stream, action
    assert targets(grants, PUT_ACTIONS) == set()
    assert targets(grants, set(grants)) == stream


@pytest.mark.parametrize(
    ("function_id", "inputs", "outputs"),
    [
        ("AFunction", set(), {"AToBStream", "AToCLoudStream"}),
        ("BFunction", {"AToBStream"}, {"BToCStream"}),
        ("CFunction", {"BToCStream", "AToCLoudStream", "CInputStream"}, set()),
    ],
)
def test_each_function_puts_only_to_its_outputs_and_reads_only_its_inputs(
    pipeline: Built, function_id: str, inputs: set[str], outputs: set[str]
) -> None:
    grants = kinesis_grants(pipeline, function_id)
    assert targets(grants, PUT_ACTIONS) == outputs
    assert grants.get("kinesis:PutRecords", set()) == outputs
    assert targets(grants, READ_ACTIONS) == inputs
    assert grants.get("kinesis:GetRecords", set()) == inputs
    assert grants.get("kinesis:GetShardIterator", set()) == inputs
    assert targets(grants, set(grants)) == inputs | outputs


# --- 8. outputs ---------------------------------------------------------------------------


def test_outputs_name_every_function_and_stream(sample: Built) -> None:
    outputs = sample.json["Outputs"]
    assert set(outputs) == {
        "HelloWorldSpoutFunctionName",
        "ReverseFunctionName",
        "HelloWorldSpoutToReverseStreamName",
        "Manifest",
    }
    for output in ("HelloWorldSpoutFunction", "ReverseFunction"):
        assert outputs[f"{output}Name"]["Value"] == {"Ref": output}
    # A stream's name is fixed at synth: the output says it as it is.
    stream = outputs["HelloWorldSpoutToReverseStreamName"]["Value"]
    assert stream == sample.props("HelloWorldSpoutToReverseStream")["Name"]


def test_manifest_output_describes_every_processor(sample: Built) -> None:
    manifest = json.loads(flatten(sample.json["Outputs"]["Manifest"]["Value"]))
    assert manifest["topology"] == "attak-example"
    expected = {
        "hello_world_spout": {
            "function": "<<Ref:HelloWorldSpoutFunction>>",
            "log_group": "<<Ref:HelloWorldSpoutLogGroup>>",
            "dead_letter_queue": "<<Ref:HelloWorldSpoutDeadLetterQueue>>",
            "inputs": [],
            "outputs": ["hello_world_spout->reverse"],
        },
        "reverse": {
            "function": "<<Ref:ReverseFunction>>",
            "log_group": "<<Ref:ReverseLogGroup>>",
            "dead_letter_queue": "<<Ref:ReverseDeadLetterQueue>>",
            "inputs": ["hello_world_spout->reverse"],
            "outputs": [],
        },
    }
    assert set(manifest["processors"]) == set(expected)
    for name, fields in expected.items():
        assert {k: manifest["processors"][name].get(k) for k in fields} == fields, name
    assert manifest["streams"] == {
        "hello_world_spout->reverse": "attak-example-HelloWorldSpoutToReverseStream"
    }
    # The live commands' reader takes the written manifest as it is.
    read = parse_manifest(flatten(sample.json["Outputs"]["Manifest"]["Value"]), "attak-example")
    assert read.processors["reverse"].inputs == ("hello_world_spout->reverse",)


def test_manifest_names_the_ingest_stream_and_topic_streams(pipeline: Built) -> None:
    manifest = json.loads(flatten(pipeline.json["Outputs"]["Manifest"]["Value"]))
    c = manifest["processors"]["c"]
    assert c["ingest_stream"] == "pipeline-CInputStream"
    assert c["inputs"] == ["b->c", "a->c[loud]"]
    assert manifest["processors"]["a"]["outputs"] == ["a->b", "a->c[loud]"]
    assert manifest["streams"] == {
        "a->b": "pipeline-AToBStream",
        "b->c": "pipeline-BToCStream",
        "a->c[loud]": "pipeline-AToCLoudStream",
        "input->c": "pipeline-CInputStream",
    }
    assert "CInputStreamName" in pipeline.json["Outputs"]


# --- 9. streams created in waves --------------------------------------------------------------


def test_at_most_five_streams_are_created_at_once(fan: Built) -> None:
    ids = stream_ids(fan)
    assert ids == [f"SpoutToC{i:02d}Stream" for i in range(1, FAN_OUT + 1)]
    depends = {
        logical_id: set(as_list(fan.json["Resources"][logical_id].get("DependsOn", []))) & set(ids)
        for logical_id in ids
    }
    assert depends == {
        logical_id: ({ids[k - 5]} if k >= 5 else set()) for k, logical_id in enumerate(ids)
    }


# --- 10. determinism and 11. golden ------------------------------------------------------------


def test_same_topology_gives_a_byte_identical_template(
    sample: Built, sample_template_file: Path, tmp_path: Path
) -> None:
    """Three separate apps and outdirs, one of them in another process with another hash
    seed: the template files are identical bytes."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")
    }
    env["PYTHONHASHSEED"] = "12345"
    code = (
        "import sys; from attak_cdk.cdk.app import synthesize; "
        "from tests.functional.test_synth_template import only_template; "
        "print(only_template(synthesize(sys.argv[1], sys.argv[2])))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(SAMPLE.resolve()), str(tmp_path / "cdk.out")],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    other_process = Path(done.stdout.strip().splitlines()[-1])
    assert sample.template_file != sample_template_file
    first = sample.template_file.read_bytes()
    assert sample_template_file.read_bytes() == first
    assert other_process.read_bytes() == first


def test_sample_template_matches_the_golden_file(sample_template_file: Path) -> None:
    actual_text = normalise(sample_template_file.read_text(encoding="utf-8"))
    if UPDATE_GOLDEN:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(actual_text, encoding="utf-8")
        return
    assert GOLDEN.is_file(), f"{GOLDEN} is missing: run with ATTAK_UPDATE_GOLDEN=1"
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    actual = json.loads(actual_text)
    if actual != expected:
        diff = "\n".join(
            difflib.unified_diff(
                json.dumps(expected, indent=1, sort_keys=True).splitlines(),
                json.dumps(actual, indent=1, sort_keys=True).splitlines(),
                fromfile=str(GOLDEN),
                tofile="synthesized",
                lineterm="",
            )
        )
        pytest.fail(
            "the sample template changed; if intended, regenerate with ATTAK_UPDATE_GOLDEN=1\n"
            + diff
        )


def test_golden_file_has_its_asset_hashes_normalised() -> None:
    text = GOLDEN.read_text(encoding="utf-8")
    assert '"S3Key": "ASSET.zip"' in text
    assert re.search(r"[0-9a-f]{64}", text) is None


# --- 12. other topology forms and assets ----------------------------------------------------------


def test_python_topology_synthesizes_one_function_per_processor(python_form: Built) -> None:
    assert python_form.stack.stack_name == "from-code"
    assert set(python_form.resources(FUNCTION)) == {"SpoutFunction", "SinkFunction"}
    assert set(python_form.resources(STREAM)) == {"SpoutToSinkStream"}
    keys = {k: f["Properties"]["Code"]["S3Key"] for k, f in python_form.resources(FUNCTION).items()}
    assert keys["SpoutFunction"] != keys["SinkFunction"], "separate folders, separate assets"


def test_folder_topology_synthesizes_one_function_per_file(folder_form: FolderBuild) -> None:
    built = folder_form.built
    assert set(built.resources(FUNCTION)) == {"SpoutFunction", "SinkFunction"}
    assert set(built.resources(STREAM)) == {"SpoutToSinkStream"}


def test_processors_sharing_a_folder_each_get_an_asset_of_their_own(
    folder_form: FolderBuild,
) -> None:
    built = folder_form.built
    keys = {k: f["Properties"]["Code"]["S3Key"] for k, f in built.resources(FUNCTION).items()}
    assert len(set(keys.values())) == 2
    asset_dirs = sorted(p.name for p in built.outdir.glob("asset.*"))
    assert asset_dirs == sorted(f"asset.{key.removesuffix('.zip')}" for key in keys.values())
    # Each holds its own handler and not the other's (the helper is imported by neither).
    spout = built.outdir / f"asset.{keys['SpoutFunction'].removesuffix('.zip')}"
    files = sorted(p.relative_to(spout).as_posix() for p in spout.rglob("*") if p.is_file())
    assert [f for f in files if not f.startswith("attak_runtime/")] == [
        "attak_routes.json",
        "spout.py",
    ]
    assert "attak_runtime/handler.py" in files
    assert not list(spout.rglob("__pycache__"))


def test_synthesis_leaves_no_staged_asset_folders_behind(folder_form: FolderBuild) -> None:
    """Each synthesis stages assets in a temporary folder; once the CDK has copied them
    into cdk.out, that folder must go (else every synth leaks a copy into /tmp)."""
    assert folder_form.leftover_staging == []


# --- 13. too large ---------------------------------------------------------------------------


def test_too_large_topology_is_refused_naming_its_resource_count(too_large: TooLarge) -> None:
    match = re.search(r"needs (\d+) CloudFormation resources", too_large.message)
    assert match, too_large.message
    assert int(match.group(1)) == too_large.resources_in_tree > 500
    assert "at most 500" in too_large.message
    assert f"{too_large.processors} processors" in too_large.message
