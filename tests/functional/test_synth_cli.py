"""`attak synth` and the cdk commands through the real CLI and the real cdk toolchain."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from attak_cdk import toolchain
from attak_cdk.errors import AttakError
from cli.main import app
from tests.conftest import REPO, SAMPLE

runner = CliRunner()
NO_CREDENTIALS = {
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
    "AWS_CONFIG_FILE": "/nonexistent/config",
    "AWS_ACCESS_KEY_ID": "",
    "AWS_SECRET_ACCESS_KEY": "",
    "AWS_SESSION_TOKEN": "",
    "AWS_PROFILE": "",
}


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("cdk.out")
    result = runner.invoke(app, ["synth", str(SAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    return out, result.stdout


def test_synth_writes_the_assembly_and_prints_the_review(synthesized: tuple[Path, str]) -> None:
    out, text = synthesized
    assert (out / "attak-example.template.json").is_file()
    assert "AWS::Lambda::Function" in text
    lines = text.splitlines()
    spout = next(line for line in lines if line.startswith("hello_world_spout "))
    assert "direct invoke" in spout and "hello_world_spout->reverse" in spout
    reverse = next(line for line in lines if line.startswith("reverse "))
    assert "256 MB" in reverse and "60 s" in reverse
    stream = next(line for line in lines if line.startswith("hello_world_spout->reverse"))
    assert "provisioned  1" in stream and "reverse DLQ" in stream
    assert "✓ synthesized 27 resources" in text


def test_synth_json_review_is_read_from_the_template(tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", str(SAMPLE), "-o", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.stderr
    review = json.loads(result.stdout)
    functions = {f["logical_id"]: f for f in review["functions"]}
    assert functions["HelloWorldSpoutFunction"]["writes"] == ["HelloWorldSpoutToReverseStream"]
    assert functions["ReverseFunction"]["reads"] == ["HelloWorldSpoutToReverseStream"]
    assert functions["ReverseFunction"]["writes"] == []
    (stream,) = review["streams"]
    assert stream["dead_letter_queues"] == ["ReverseDeadLetterQueue"]


def test_synth_print_writes_the_template_as_yaml(tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", str(SAMPLE), "-o", str(tmp_path), "--print"])
    assert result.exit_code == 0, result.stderr
    template = yaml.safe_load(result.stdout)
    assert template["Resources"]["ReverseFunction"]["Type"] == "AWS::Lambda::Function"


def test_synth_reads_and_validates_the_topology_once(tmp_path: Path) -> None:
    # A Python topology is run each time it is read: its function counts the reads.
    project = tmp_path / "counted"
    project.mkdir()
    (project / "spout.py").write_text("def handler(event, context):\n    pass\n")
    (project / "topology.py").write_text(
        "from pathlib import Path\n"
        "def topology():\n"
        "    with (Path(__file__).parent / 'reads.log').open('a') as log:\n"
        "        log.write('read\\n')\n"
        "    return {'name': 'counted', 'processors': {'spout': './spout.py'}}\n"
    )
    result = runner.invoke(app, ["synth", str(project), "-o", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.stderr
    assert (project / "reads.log").read_text().splitlines() == ["read"]


def test_synth_of_a_bad_topology_fails_before_the_cdk_starts(tmp_path: Path) -> None:
    (tmp_path / "topology.yml").write_text("name: x\nprocessors: {a: missing.py}\n")
    result = runner.invoke(app, ["synth", str(tmp_path)])
    assert result.exit_code == 1
    assert "handler file not found: missing.py" in result.stderr
    assert not (Path.cwd() / "cdk.out" / "x.template.json").exists()


def test_cdk_commands_without_credentials_say_how_to_get_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in NO_CREDENTIALS.items():
        monkeypatch.setenv(key, value) if value else monkeypatch.delenv(key, raising=False)
    for command in ("deploy", "diff", "destroy"):
        result = runner.invoke(app, [command, str(SAMPLE)])
        assert result.exit_code == 1, command
        assert f"`attak {command}` talks to AWS, and no AWS credentials were found" in result.stderr
        # The same hint as trigger's and logs': a local emulator needs only --endpoint-url.
        assert "for a local emulator (moto server) pass --endpoint-url" in result.stderr


@pytest.mark.cdk
def test_a_failing_cdk_command_exits_1_and_points_at_its_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Credentials that exist but an endpoint nothing listens on: the cdk CLI cannot resolve
    # the account and fails fast. Nothing leaves this machine.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    result = runner.invoke(app, ["diff", str(SAMPLE)])
    assert result.exit_code == 1
    assert "`cdk diff` failed with exit code" in result.stderr


def test_missing_node_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AttakError, match=r"needs Node\.js and npm"):
        toolchain.cdk_command(repo_root=tmp_path, search_path=str(tmp_path))


def test_the_pinned_cdk_cli_is_the_one_package_json_installs() -> None:
    assert toolchain.pinned_version() == toolchain.CDK_CLI_VERSION
    assert toolchain.cdk_command() == [str(REPO / "node_modules" / ".bin" / "cdk")]


@pytest.mark.cdk
def test_npx_cdk_synth_and_ls_work_at_the_repository_root(tmp_path: Path) -> None:
    """`cdk synth` at the root builds the sample; `cdk ls` there, given another topology
    in the context, lists that one (one cdk run each: they cost seconds)."""
    environment = {**os.environ, **toolchain.QUIET_ENVIRONMENT}
    synth = subprocess.run(
        ["npx", "cdk", "synth", "--quiet", "--output", str(tmp_path / "out")],
        cwd=REPO, env=environment, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert synth.returncode == 0, synth.stderr
    template = json.loads((tmp_path / "out" / "attak-example.template.json").read_text())
    assert "ReverseFunction" in template["Resources"]
    assert [path.name for path in (tmp_path / "out").glob("*.template.json")] == [
        "attak-example.template.json"
    ]
    # cdk_context_picks_another_topology:
    project = tmp_path / "other"
    project.mkdir()
    (project / "topology.yml").write_text("name: other-one\nprocessors: {solo: solo.py}\n")
    (project / "solo.py").write_text("def handler(event, context):\n    pass\n")
    listed = subprocess.run(
        ["npx", "cdk", "ls", "-c", f"topology={project}", "--output", str(tmp_path / "out2")],
        cwd=REPO, env=environment, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["other-one"]
