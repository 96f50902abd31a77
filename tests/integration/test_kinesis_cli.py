"""`attak simulate --engine kinesis` from the command line, and its clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.conftest import SAMPLE

pytestmark = pytest.mark.integration
runner = CliRunner()


def test_kinesis_engine_prints_the_memory_engines_document(kinesalite: str) -> None:
    over_kinesis = runner.invoke(
        app,
        ["simulate", str(SAMPLE), "--json", "--engine", "kinesis", "--endpoint-url", kinesalite],
    )
    in_memory = runner.invoke(app, ["simulate", str(SAMPLE), "--json"])
    assert over_kinesis.exit_code == in_memory.exit_code == 0, over_kinesis.output
    kinesis_doc, memory_doc = json.loads(over_kinesis.stdout), json.loads(in_memory.stdout)
    assert kinesis_doc["emitted"] == memory_doc["emitted"]
    assert kinesis_doc["dead_letters"] == memory_doc["dead_letters"] == []
    assert kinesis_doc["engine"]["endpoint"] == kinesalite
    assert "engine" not in memory_doc


def test_kinesis_engine_fires_schedules_as_the_memory_engine(
    kinesalite: str, tmp_path: Path
) -> None:
    (tmp_path / "p.py").write_text("def handler(event, context):\n    context.emit('t', event)\n")
    (tmp_path / "topology.yml").write_text(
        "name: ticking\nprocessors:\n"
        "  report: {handler: p.py, schedule: {every: rate(1 hour), event: {kind: hourly}}}\n"
        "  sink: p.py\nstreams:\n  - [report, sink]\n"
    )
    ticks = ["simulate", str(tmp_path), "--json", "--schedule-ticks", "2"]
    over_kinesis = runner.invoke(app, [*ticks, "--engine", "kinesis", "--endpoint-url", kinesalite])
    in_memory = runner.invoke(app, ticks)
    assert over_kinesis.exit_code == in_memory.exit_code == 0, over_kinesis.output
    kinesis_doc, memory_doc = json.loads(over_kinesis.stdout), json.loads(in_memory.stdout)
    assert kinesis_doc["emitted"] == memory_doc["emitted"]
    assert kinesis_doc["emitted"]["sink"]["t"] == [{"kind": "hourly"}] * 2


def test_kinesis_engine_starts_its_own_emulator() -> None:
    result = runner.invoke(app, ["simulate", str(SAMPLE), "--engine", "kinesis"])
    assert result.exit_code == 0, result.output
    assert "over Kinesis at http://127.0.0.1:" in result.stdout
    assert "every record processed" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message", "code"),
    [
        (["--engine", "kafka"], "'kafka' is not one of 'memory', 'kinesis'", 2),
        (["--endpoint-url", "http://127.0.0.1:9"], "--endpoint-url needs --engine kinesis", 2),
        (
            ["--engine", "kinesis", "--endpoint-url", "http://127.0.0.1:9"],
            "the Kinesis endpoint http://127.0.0.1:9 does not answer",
            1,
        ),
    ],
)
def test_bad_engine_options_are_clear_errors(arguments: list[str], message: str, code: int) -> None:
    # usage errors exit 2; an endpoint that does not answer is an error of the run, 1
    result = runner.invoke(app, ["simulate", str(SAMPLE), *arguments])
    assert result.exit_code == code
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_memory_engine_does_not_import_boto3() -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from cli.main import app; "
        f"r = CliRunner().invoke(app, ['simulate', {str(SAMPLE)!r}, '--json']); "
        "assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'aws_cdk')))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert output.strip() == "[]"
