"""`attak deploy | trigger | logs | destroy` end to end against a moto server.

The real cdk CLI bootstraps the emulator and deploys two topologies into it: the sample,
once per run and shared with ``test_ui_live``, and one with an ingest stream and fan-out;
`attak trigger` and `attak logs` then run through the CLI, and boto3 reads back what
arrived. moto cannot run Lambda code, so the tests check that each direct invoke reached
the right function (moto logs its attempt in that function's `/aws/lambda/...` group) and
write the processors' log lines themselves.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from attak_cdk.runtime.aggregate import KPL_MAGIC
from tests.conftest import SAMPLE, WriteProject
from tests.integration.conftest_live import (
    DEPLOY_SECONDS,
    Client,
    attak,
    deploy,
    invocation_attempts,
    landed_events,
    landing,
    manifest,
    read_stream,
    record_line,
    wait_for,
    write_log_lines,
)
from tests.integration.conftest_live import sample as sample  # the fixture, shared

pytestmark = [pytest.mark.live, pytest.mark.slow]

FANOUT = {
    "topology.yml": """
        name: live-fanout
        processors:
          orders: {handler: ./orders.py, input: stream}
          audit: ./audit.py
          billing: ./billing.py
          shipping: ./shipping.py
        streams:
          - [orders, billing]
          - [orders, shipping, shipped]
          - [audit, billing]
        """,
    "orders.py": """
        def handler(event, context):
            context.emit("billed", event)
            context.emit("shipped", event)
        """,
    "audit.py": """
        def handler(event, context):
            context.emit("audited", event)
        """,
    "billing.py": "def handler(event, context):\n    pass\n",
    "shipping.py": "def handler(event, context):\n    pass\n",
    "input.jsonl": """
        {"processor": "orders", "data": {"order": 1, "item": "book"}}
        {"processor": "orders", "data": {"order": 2, "item": "lamp"}}
        {"processor": "audit", "data": "daily check"}
        """,
}


@pytest.fixture(scope="module")
def moto_server(shared_moto_server: str) -> str:
    """The run's shared moto server, where the sample is deployed once for every module."""
    return shared_moto_server


@pytest.fixture(scope="module")
def fanout(
    sample: dict[str, Any],
    moto_server: str,
    aws: Client,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, Any]]:
    """A topology with an ingest stream and fan-out, deployed; its folder and manifest."""
    import textwrap

    folder = tmp_path_factory.mktemp("fanout")
    for name, text in FANOUT.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip("\n"))
    DEPLOY_SECONDS[str(folder)] = deploy(folder, moto_server, tmp_path_factory.mktemp("fanout.out"))
    return folder, manifest(aws, "live-fanout")


# --- deploy ----------------------------------------------------------------------------------


def test_deploy_bootstraps_the_emulator_and_creates_the_stack(
    sample: dict[str, Any], aws: Client
) -> None:
    cloudformation = aws("cloudformation")
    assert cloudformation.describe_stacks(StackName="CDKToolkit")["Stacks"]
    (stack,) = cloudformation.describe_stacks(StackName="attak-example")["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert set(sample["processors"]) == {"hello_world_spout", "reverse"}
    for processor in sample["processors"].values():
        aws("lambda").get_function(FunctionName=processor["function"])
    print(f"deploy times: {DEPLOY_SECONDS}")


def test_diff_against_the_emulator_finds_nothing_to_change(
    sample: dict[str, Any],
    moto_server: str,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    result = attak("diff", str(SAMPLE), "--endpoint-url", moto_server, "--", f"--output={tmp_path}")
    assert result.exit_code == 0, result.output
    # The cdk CLI reports on stderr, or on stdout when CI=true is set.
    printed = capfd.readouterr()
    assert "Number of stacks with differences: 0" in printed.out + printed.err


# --- trigger ---------------------------------------------------------------------------------


def test_trigger_invokes_the_entry_processor_directly(
    sample: dict[str, Any],
    moto_server: str,
    aws: Client,
) -> None:
    spout = sample["processors"]["hello_world_spout"]["function"]
    reverse = sample["processors"]["reverse"]["function"]
    before = invocation_attempts(aws, spout), invocation_attempts(aws, reverse)
    result = attak("trigger", str(SAMPLE), "--endpoint-url", moto_server, "--no-follow", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    (event,) = document["events"]
    assert event["processor"] == "hello_world_spout"
    assert event["data"] == "hello world"
    assert (event["via"], event["target"], event["sent"]) == ("invoke", spout, True)
    assert re.fullmatch(r"[0-9a-f]{16}", event["trace"])
    assert wait_for(lambda: invocation_attempts(aws, spout) > before[0])
    assert invocation_attempts(aws, reverse) == before[1]


def test_trigger_prints_every_trace_id(
    sample: dict[str, Any],
    moto_server: str,
) -> None:
    result = attak("trigger", str(SAMPLE), "--endpoint-url", moto_server, "--no-follow")
    assert result.exit_code == 0, result.output
    (trace,) = re.findall(r"trace ([0-9a-f]{16})", result.stdout.split("\n\n")[1])
    assert "✓ 1 event sent (1 invoked, 0 into ingest streams)" in result.stdout
    assert f"--trace {trace}" in result.stdout


def test_trigger_wait_shows_what_the_function_answered(
    sample: dict[str, Any],
    moto_server: str,
) -> None:
    # moto reached the function and tried to run it in Docker: that error is its answer.
    result = attak("trigger", str(SAMPLE), "--endpoint-url", moto_server, "--wait", "--no-follow")
    assert result.exit_code == 1
    assert "error running docker" in result.stdout
    assert "✗ 1 of 1 events failed; 1 event sent" in result.stdout


def test_trigger_writes_envelopes_into_the_ingest_stream_and_invokes_the_rest(
    fanout: tuple[Path, dict[str, Any]],
    moto_server: str,
    aws: Client,
) -> None:
    folder, deployed = fanout
    result = attak(
        "trigger", str(folder), "--input", str(folder / "input.jsonl"),
        "--endpoint-url", moto_server, "--no-follow", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    events = json.loads(result.stdout)["events"]
    assert [(e["processor"], e["via"], e["sent"]) for e in events] == [
        ("orders", "stream", True),
        ("orders", "stream", True),
        ("audit", "invoke", True),
    ]
    assert events[2]["target"] == deployed["processors"]["audit"]["function"]
    ingest = deployed["processors"]["orders"]["ingest_stream"]
    assert ingest == deployed["streams"]["input->orders"]
    # Each event is where trigger says it landed: both in one aggregated record.
    landed = landed_events(aws, ingest)
    streamed = events[:2]
    assert [landing(e)[1:] for e in streamed] == [
        (streamed[0]["result"]["sequence"], i) for i in (0, 1)
    ]
    for event in streamed:
        envelope = landed[landing(event)]
        assert envelope["data"] == event["data"]
        assert envelope["trace"] == event["trace"]
        assert envelope["log"] == 1  # every triggered event is logged, whatever the sampling
        assert (envelope["topic"], envelope["from"], envelope["hops"]) == (None, None, 0)
    assert sorted(e["data"]["order"] for e in landed.values()) == [1, 2]
    (record,) = read_stream(aws, ingest)
    assert record["Data"].startswith(KPL_MAGIC)
    audit = deployed["processors"]["audit"]["function"]
    assert wait_for(lambda: invocation_attempts(aws, audit) > 0)


# --- logs ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def written_logs(sample: dict[str, Any], aws: Client) -> int:
    """Log lines of two traces written into both processors' log groups; the first's time."""
    now = int(time.time() * 1000) - 60_000
    spout = sample["processors"]["hello_world_spout"]["log_group"]
    reverse = sample["processors"]["reverse"]["log_group"]
    lines = {
        spout: ["START RequestId: r1", "hello world", record_line("hello_world_spout", "trace-one", None),
                "END RequestId: r1", "START RequestId: r2", "bonjour", record_line("hello_world_spout", "trace-two", None)],
        reverse: [record_line("reverse", "trace-one", "greetings"), "about to fail",
                  record_line("reverse", "trace-two", "greetings", "error"), "[ERROR] ValueError: boom",
                  "END RequestId: r3",
                  # The runtime's lines in Lambda's JSON log format, as the stack sets it: a
                  # sampled record between its start and record lines, among others' output.
                  "printed by an unsampled record", START_THREE, "reversing three",
                  record_line("reverse", "trace-three", "greetings"), BATCH, JSON_REPORT],
    }  # fmt: skip
    write_log_lines(aws, lines, now)
    return now


START_THREE = '{"attak":"start","trace":"trace-three"}'
BATCH = (
    '{"attak":"batch","processor":"reverse","records":2,"events":2,"errors":0,'
    '"emits":{"reversed strings":2},"ms":4.25}'
)
JSON_REPORT = (
    '{"time":"2026-11-27T00:00:00.000Z","type":"platform.report","record":{"status":"success"}}'
)


def logs_json(*arguments: str) -> list[dict[str, Any]]:
    result = attak("logs", str(SAMPLE), *arguments, "--json")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_logs_interleaves_every_processor_by_time(
    written_logs: int,
    moto_server: str,
) -> None:
    lines = logs_json("--endpoint-url", moto_server, "--since", "1h")
    ours = [line for line in lines if line["timestamp"] >= written_logs]
    # The runtime's start line only delimits: it is never shown.
    assert [line["processor"] for line in ours] == ["hello_world_spout"] * 7 + ["reverse"] * 10
    assert ours[2]["record"]["trace"] == "trace-one"
    assert ours[-2]["summary"]["emits"] == {"reversed strings": 2}
    result = attak("logs", str(SAMPLE), "--endpoint-url", moto_server, "--since", "1h")
    assert re.search(r"^hello_world_spout \d\d:\d\d:\d\d  hello world$", result.stdout, re.M)
    assert re.search(r"^reverse {11}\d\d:\d\d:\d\d  about to fail$", result.stdout, re.M)
    assert "✗ record ← 'greetings'  trace trace-two  ValueError: boom" in result.stdout
    assert "▤ 2 records, 2 events  → 2 'reversed strings'  4.25 ms" in result.stdout
    assert 'trace-three"}' not in result.stdout


def test_logs_trace_follows_one_input_across_processors(
    written_logs: int,
    moto_server: str,
) -> None:
    lines = logs_json("--endpoint-url", moto_server, "--since", "1h", "--trace", "trace-two")
    assert [(line["processor"], line["message"][:20]) for line in lines] == [
        ("hello_world_spout", "bonjour"),
        ("hello_world_spout", '{"attak": "record", '),
        ("reverse", "about to fail"),
        ("reverse", '{"attak": "record", '),
        ("reverse", "[ERROR] ValueError: "),
    ]
    sampled = logs_json("--endpoint-url", moto_server, "--since", "1h", "--trace", "trace-three")
    assert [line["message"][:20] for line in sampled] == [
        "reversing three",
        '{"attak": "record", ',
    ]


def test_logs_of_some_processors_only(
    written_logs: int,
    moto_server: str,
) -> None:
    lines = logs_json("reverse", "--endpoint-url", moto_server, "--since", "1h")
    assert {line["processor"] for line in lines} == {"reverse"}
    result = attak("logs", str(SAMPLE), "revrse", "--endpoint-url", moto_server)
    assert result.exit_code == 1
    assert "processor 'revrse' is not in the deployed topology" in result.stderr
    assert "did you mean 'reverse'?" in result.stderr


def test_trigger_follow_shows_the_logs_that_arrive(
    sample: dict[str, Any],
    moto_server: str,
    aws: Client,
) -> None:
    group = sample["processors"]["reverse"]["log_group"]
    aws("logs").create_log_stream(logGroupName=group, logStreamName="follow")
    aws("logs").put_log_events(
        logGroupName=group,
        logStreamName="follow",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "reversed: dlrow olleh"}],
    )
    result = attak(
        "trigger", str(SAMPLE), "--endpoint-url", moto_server, "--follow", "--timeout", "2"
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"reverse\s+\d\d:\d\d:\d\d  reversed: dlrow olleh", result.stdout)


# --- errors ----------------------------------------------------------------------------------


def test_a_topology_not_deployed_is_named_with_the_fix(
    sample: dict[str, Any],
    moto_server: str,
    write_project: WriteProject,
) -> None:
    folder = write_project(
        {"topology.yml": "name: never-deployed\nprocessors: {solo: solo.py}\n",
         "solo.py": "def handler(event, context):\n    pass\n",
         "input.json": '{"solo": 1}'}
    )  # fmt: skip
    for command in ("trigger", "logs"):
        result = attak(command, str(folder), "--endpoint-url", moto_server)
        assert result.exit_code == 1, command
        assert "topology 'never-deployed' is not deployed: no CloudFormation stack" in result.stderr
        assert "deploy it with `attak deploy`" in result.stderr
        assert "Traceback" not in result.output


def test_a_stack_of_another_manifest_version_is_refused(
    sample: dict[str, Any],
    moto_server: str,
    aws: Client,
    write_project: WriteProject,
) -> None:
    future = json.dumps({"version": 99, "topology": "from-the-future", "processors": {}})
    template = {
        "Resources": {"Nothing": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {"Manifest": {"Value": future, "Description": "attak manifest"}},
    }
    aws("cloudformation").create_stack(
        StackName="from-the-future", TemplateBody=json.dumps(template)
    )
    folder = write_project(
        {"topology.yml": "name: from-the-future\nprocessors: {solo: solo.py}\n",
         "solo.py": "def handler(event, context):\n    pass\n",
         "input.json": '{"solo": 1}'}
    )  # fmt: skip
    result = attak("trigger", str(folder), "--endpoint-url", moto_server)
    assert result.exit_code == 1
    assert "was deployed by another attak version (manifest version 99" in result.stderr


def test_an_input_for_a_processor_not_deployed_sends_nothing(
    sample: dict[str, Any],
    moto_server: str,
    write_project: WriteProject,
) -> None:
    # The local topology grew a processor that was never deployed.
    folder = write_project(
        {"topology.yml": "name: attak-example\nprocessors: {hello_world_spout: spout.py, reverse: spout.py, shout: spout.py}\n"
                         "streams: [[hello_world_spout, reverse]]\n",
         "spout.py": "def handler(event, context):\n    pass\n",
         "input.json": '{"hello_world_spout": "hi", "shout": "HI"}'}
    )  # fmt: skip
    result = attak("trigger", str(folder), "--endpoint-url", moto_server, "--no-follow")
    assert result.exit_code == 1
    assert "warning: the deployed topology differs" in result.stderr
    assert "processors not deployed yet: shout" in result.stderr
    assert "processor 'shout' is not in the deployed topology 'attak-example'" in result.stderr
    assert "sending" not in result.stdout


def test_an_endpoint_that_does_not_answer(
    aws_environment: None,
) -> None:
    from tests.integration.conftest_live import free_port

    endpoint = f"http://localhost:{free_port()}"
    for command in ("trigger", "logs"):
        result = attak(command, str(SAMPLE), "--endpoint-url", endpoint)
        assert result.exit_code == 1
        assert f"nothing answers at {endpoint}" in result.stderr
        assert "Traceback" not in result.output


def test_without_credentials_or_endpoint_nothing_is_sent(
    aws_environment: None,
) -> None:
    result = attak("trigger", str(SAMPLE))
    assert result.exit_code == 1
    assert "no AWS credentials were found" in result.stderr


# --- destroy (last: it removes what the tests above use) -------------------------------------


def test_destroy_removes_the_stack(
    fanout: tuple[Path, dict[str, Any]],
    moto_server: str,
    aws: Client,
    tmp_path: Path,
) -> None:
    folder, _ = fanout
    result = attak(
        "destroy", str(folder), "--endpoint-url", moto_server, "--", "--force",
        f"--output={tmp_path}",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    stacks = aws("cloudformation").list_stacks()["StackSummaries"]
    assert {s["StackStatus"] for s in stacks if s["StackName"] == "live-fanout"} <= {
        "DELETE_COMPLETE"
    }
    again = attak("logs", str(folder), "--endpoint-url", moto_server)
    assert again.exit_code == 1
    assert "topology 'live-fanout' is not deployed" in again.stderr


def test_trigger_and_logs_do_not_import_the_cdk() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, cli.main, attak_cdk.live.trigger, attak_cdk.live.logs, attak_cdk.toolchain; "
        "assert 'aws_cdk' not in sys.modules"
    )
    assert subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0
