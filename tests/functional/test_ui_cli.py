"""`attak ui` as a command: it serves, prints its address, stops on Ctrl-C, explains errors."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.conftest import REPO, SAMPLE, modules_loaded_by

runner = CliRunner()


def start_ui(*args: str) -> tuple[subprocess.Popen[str], str]:
    """Start `attak ui` in a process of its own and return it with the URL it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "ui", *args, "--no-open"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("attak ui: http://127.0.0.1:"):
        process.kill()
        raise AssertionError(f"no address printed: {line!r} {process.communicate()}")
    return process, line.split()[2]


@pytest.fixture
def served_sample() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process, url = start_ui(str(SAMPLE))
    yield process, url
    if process.poll() is None:
        process.kill()
        process.communicate()


def test_ui_serves_the_sample_on_localhost_and_stops_on_ctrl_c(
    served_sample: tuple[subprocess.Popen[str], str],
) -> None:
    process, url = served_sample
    with urllib.request.urlopen(url + "api/topology", timeout=10) as response:
        assert json.load(response)["topology"] == "attak-example"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "attak ui stopped" in out
    assert "Traceback" not in err


def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["ui", str(SAMPLE), "--port", str(port), "--no-open"])
    assert result.exit_code == 1
    assert f"port {port} is already in use on 127.0.0.1" in result.stderr
    assert "--port N" in result.stderr


def test_a_missing_topology_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ui", str(tmp_path / "nowhere"), "--no-open"])
    assert result.exit_code == 1
    assert "no such file or folder" in result.stderr


def test_ui_help_has_an_example() -> None:
    result = runner.invoke(app, ["ui", "--help"])
    assert result.exit_code == 0
    assert "Example: attak ui" in result.stdout
    assert "--open / --no-open" in result.stdout or "--no-open" in result.stdout


@pytest.mark.parametrize("argv", [["--help"], ["simulate", str(SAMPLE)]])
def test_other_commands_never_import_the_web_server(argv: list[str]) -> None:
    assert modules_loaded_by(argv, "starlette", "uvicorn", "attak_cdk.ui", "aws_cdk") == []
