"""``attak plan`` through the CLI, and ``shards: auto`` through validate and synth."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.conftest import PASS_ON, SAMPLE, SINK, WriteProject, modules_loaded_by

runner = CliRunner()

AUTO_TOPOLOGY = """
name: auto-shards
processors: {a: a.py, b: b.py}
streams:
  - {from: a, to: b, shards: auto}
plan: {rate: 2500/s, size: 100 B, duration: 0.1 ms}
"""


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_plan_prints_the_bill_idle_and_at_load_beside_storm() -> None:
    code, out, err = run("plan", str(SAMPLE), "--rate", "1 TB/day", "--duration", "1ms")
    assert code == 0, err
    assert "hello_world_spout->reverse" in out
    assert "Storm, the seed's cluster" in out and "511.00" in out
    assert "Storm cluster, sized for this load" in out
    assert "Managed Service for Apache Flink" in out
    assert "total" in out and "14.95" in out  # idle
    assert "hello_world_spout: 1 TB/day = 12,427.567 events/s of 1 KB (assumed)" in out
    assert "Traceback" not in out + err


def test_plan_json_is_one_document_with_money_as_strings() -> None:
    code, out, _ = run("plan", str(SAMPLE), "--json", "--rate", "1000/s", "--size", "1KB")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) >= {
        "topology",
        "region",
        "prices",
        "assumptions",
        "streams",
        "processors",
        "monthly",
    }
    assert doc["monthly"]["idle"] == "14.95"
    assert doc["monthly"]["storm_cluster"] == "511.00"
    (stream,) = doc["streams"]
    assert stream["records_per_second"] == 1000
    assert stream["monthly"]["cheaper"] == "provisioned"
    assert doc["prices"]["checked"] and doc["prices"]["sources"]["kinesis"].startswith("https://")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rate", "fast"], "--rate must be events per second"),
        (["--rate", "-1"], "a rate cannot be negative"),
        (["--rate", "10 GB/parsec"], "write the time unit as /s, /min, /h or /day"),
        (["--size", "2 MB"], "a Kinesis record holds at most 1 MB"),
        (["--emits", "revers=2"], "did you mean 'reverse'"),
        (["--region", "mars-1"], "no prices for region 'mars-1'"),
        (["--prices", "missing.json"], "cannot read the price table"),
    ],
)
def test_bad_plan_options_exit_1_with_a_message(args: list[str], message: str) -> None:
    code, out, err = run("plan", str(SAMPLE), *args)
    assert code == 1
    assert message in err
    assert "Traceback" not in out + err


def test_an_option_outside_its_choices_is_a_usage_error_exit_2() -> None:
    code, out, err = run("plan", str(SAMPLE), "--architecture", "sparc")
    assert code == 2
    assert "--architecture must be one of arm64, x86_64 (given 'sparc')" in err
    assert "Traceback" not in out + err


def test_plan_never_imports_aws_cdk() -> None:
    argv = ["plan", str(SAMPLE), "--rate", "100/s"]
    assert modules_loaded_by(argv, "aws_cdk", "jsii") == []


def test_validate_warns_when_declared_shards_are_below_the_plan(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {
            "a.py": PASS_ON,
            "b.py": SINK,
            "topology.yml": AUTO_TOPOLOGY.replace("shards: auto", "shards: 1"),
        }
    )
    code, out, err = run("validate", str(root))
    assert code == 0
    assert (
        "streams[0].shards: warning: stream a->b declares 1 shard(s) but the planned load needs 3"
        in err
    )
    code, out, _ = run("validate", str(root), "--json")
    assert [i["code"] for i in json.loads(out)["issues"]] == ["shards-below-plan"]


def test_plan_shows_auto_streams_with_their_planned_shards(write_project: WriteProject) -> None:
    root = write_project({"a.py": PASS_ON, "b.py": SINK, "topology.yml": AUTO_TOPOLOGY})
    code, out, err = run("plan", str(root))
    assert code == 0, err
    assert "auto: 3" in out
    assert run("validate", str(root))[2] == ""  # nothing to warn about


@pytest.mark.slow
def test_synth_provisions_the_planned_shards(write_project: WriteProject) -> None:
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    import aws_cdk as cdk
    from aws_cdk.assertions import Template

    from attak_cdk.cdk.app import build_app

    root = write_project({"a.py": PASS_ON, "b.py": SINK, "topology.yml": AUTO_TOPOLOGY})
    app = build_app(root, Path(root) / "cdk.out")
    (stack,) = [c for c in app.node.children if isinstance(c, cdk.Stack)]
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::Kinesis::Stream",
        {"ShardCount": 3, "StreamModeDetails": {"StreamMode": "PROVISIONED"}},
    )


def test_shards_auto_is_sized_for_the_rate_given_as_an_option(write_project: WriteProject) -> None:
    root = write_project(
        {
            "a.py": PASS_ON,
            "b.py": SINK,
            "topology.yml": AUTO_TOPOLOGY.replace("rate: 2500/s", "rate: 1/s"),
        }
    )
    code, out, err = run("plan", str(root), "--rate", "1 TB/day", "--size", "1KB", "--json")
    assert code == 0, err
    (stream,) = json.loads(out)["streams"]
    # The plan: section's 1/s needs one shard; the 1 TB/day asked for needs more, and the
    # auto stream is planned with what that load needs, not with the file's.
    assert stream["auto"] and stream["shards"] == stream["shards_needed"] > 1
