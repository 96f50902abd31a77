"""Every `attak` command the README shows still works as written.

Each `attak ...` line of the README's shell blocks is read as a shell would read it (one
line may hold two commands joined by ``&&``). Every one is checked against the CLI: its
command exists and takes the options it is shown with (``--help`` added, so nothing runs;
click refuses an unknown command or option before it reads ``--help``). The ones that need
no AWS account (simulate, synth, plan, graph, validate, schema, init) are then run for
real, in a folder holding what the README names: ``sample_topology`` (a copy of the
sample), ``pipeline/`` (`attak init --template clickstream`'s project, whose entry is
``parse``), ``events.jsonl`` (events for the topology the line names), ``prod.env`` (an env
file), ``my-pipeline``
(a new project). The commands that reach AWS (deploy, trigger, logs, dead-letters, diff,
destroy) and the UI's server are run against a moto server by ``tests/integration``.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.scaffold import scaffold
from tests.conftest import REPO, SAMPLE

BLOCK = re.compile(r"```(?:sh|bash)\n(.*?)```", re.S)
RUN_LOCALLY = {"simulate", "synth", "plan", "graph", "validate", "schema", "init"}
"""Commands that need no AWS account: the test runs these."""
SAMPLE_EVENTS = (
    '{"processor": "hello_world_spout", "data": "hello"}\n'
    '{"processor": "hello_world_spout", "data": "world"}\n'
)


def readme_lines() -> list[list[list[str]]]:
    """Each line of the README's shell blocks that runs `attak`: the argument lists of its
    `attak` commands, in order (``attak init x && attak simulate x`` is one line)."""
    lines = []
    text = (REPO / "README.md").read_text(encoding="utf-8")
    for block in BLOCK.findall(text):
        for line in block.splitlines():
            words, commands = shlex.split(line, comments=True), []
            while words:
                command = words[: words.index("&&")] if "&&" in words else words
                words = words[len(command) + 1 :]
                if command and command[0] == "attak":
                    commands.append(command[1:])
            if commands:
                lines.append(commands)
    return lines


LINES = readme_lines()
COMMANDS = [command for line in LINES for command in line]


def shown(arguments: list[str]) -> str:
    return shlex.join(["attak", *arguments])


def test_the_readme_shows_commands_of_every_kind() -> None:
    # A guard on the reading itself: a changed fence or prompt would leave nothing to check.
    assert len(COMMANDS) > 30
    assert {arguments[0] for arguments in COMMANDS} >= {"simulate", "synth", "plan", "deploy"}


@pytest.mark.parametrize("arguments", COMMANDS, ids=shown)
def test_the_command_and_its_options_exist(arguments: list[str]) -> None:
    ahead = arguments.index("--") if "--" in arguments else len(arguments)
    result = CliRunner().invoke(app, [*arguments[:ahead], "--help", *arguments[ahead:]])
    assert result.exit_code == 0, f"{shown(arguments)}:\n{result.output}"
    assert "Usage:" in result.output


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding what the README's commands name, for those naming the sample."""
    folder = tmp_path_factory.mktemp("readme")
    shutil.copytree(SAMPLE, folder / "sample_topology", ignore=shutil.ignore_patterns("cdk.out"))
    (folder / "events.jsonl").write_text(SAMPLE_EVENTS, encoding="utf-8")
    (folder / "prod.env").write_text("# values for the processors' SSM and secret references\n")
    return folder


@pytest.fixture(scope="module")
def pipeline_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder whose ``pipeline/`` is a clickstream project, with its events beside it."""
    folder = tmp_path_factory.mktemp("readme-pipeline")
    scaffold(folder / "pipeline", template="clickstream")
    shutil.copy(folder / "pipeline" / "input.jsonl", folder / "events.jsonl")
    return folder


LOCAL = [line for line in LINES if all(command[0] in RUN_LOCALLY for command in line)]


@pytest.mark.parametrize("line", LOCAL, ids=lambda line: " && ".join(map(shown, line)))
def test_the_command_runs_as_shown(
    line: list[list[str]],
    workdir: Path,
    pipeline_workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    words = {word for arguments in line for word in arguments}
    folder = pipeline_workdir if "pipeline/" in words else workdir
    if "init" in words:  # a new project each time
        folder = tmp_path
    monkeypatch.chdir(folder)
    for arguments in line:
        result = CliRunner().invoke(app, arguments)
        assert result.exit_code == 0, f"{shown(arguments)}:\n{result.output}"
