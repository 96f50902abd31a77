"""Input that used to break the CLI: where it writes, what follows ``--``, duplicate keys.

Each case is a command line a user could type: attak must exit 1 with the reason (2 for
usage), show no traceback, and leave the file system as it found it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from attak_cdk import toolchain
from attak_cdk.errors import AttakError
from attak_cdk.live.connection import Connection
from cli.main import app
from tests.conftest import SAMPLE

runner = CliRunner()


def _run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


def _clean(result: Result, code: int) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output


def test_synth_output_at_an_existing_file_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    target = tmp_path / "cdk.out"
    target.write_text("mine")

    result = _run("synth", str(SAMPLE), "-o", str(target))

    _clean(result, 1)
    assert f"{target}: the cloud assembly folder (--output) must be a folder" in result.stderr
    assert target.read_text() == "mine"
    assert _files(tmp_path) == [target]


def test_synth_output_below_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("mine")

    result = _run("synth", str(SAMPLE), "-o", str(tmp_path / "file" / "out"))

    _clean(result, 1)
    assert "is a file, not a folder" in result.stderr


def test_synth_output_under_proc_fails_at_once(tmp_path: Path) -> None:
    result = _run("synth", str(SAMPLE), "-o", "/proc/attak-cdk.out")

    _clean(result, 1)
    assert "/proc/attak-cdk.out: the cloud assembly folder (--output) cannot be written" in (
        result.stderr
    )
    assert not Path("/proc/attak-cdk.out").exists()


def test_synth_output_where_no_one_may_write_is_refused(tmp_path: Path) -> None:
    # sysfs takes no new files, whoever asks (root included, as the tests run): the same
    # check before writing that a read-only folder meets
    result = _run("synth", str(SAMPLE), "-o", "/sys/attak-cdk.out")

    _clean(result, 1)
    assert "cannot be written" in result.stderr
    assert not Path("/sys/attak-cdk.out").exists()


def test_init_onto_an_existing_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("mine")

    result = _run("init", str(target))

    _clean(result, 1)
    assert "the project folder must be a folder, and this is a file" in result.stderr
    assert _files(tmp_path) == [target]


def test_init_into_a_non_empty_folder_is_refused_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("mine")

    result = _run("init", str(tmp_path))

    _clean(result, 1)
    assert "is not empty (it holds README.md)" in result.stderr
    assert "--force" in result.stderr
    assert _files(tmp_path) == [tmp_path / "README.md"]
    _clean(_run("init", str(tmp_path), "--force"), 0)
    assert (tmp_path / "topology.yml").is_file()
    assert (tmp_path / "README.md").read_text() == "mine"


def test_init_with_force_where_a_folder_must_go_is_refused_before_writing(tmp_path: Path) -> None:
    (tmp_path / "processors").write_text("a file where the processors folder goes")

    result = _run("init", str(tmp_path), "--force")

    _clean(result, 1)
    assert "processors is a file, where attak init makes a folder" in result.stderr
    assert _files(tmp_path) == [tmp_path / "processors"]


@pytest.fixture
def cdk_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Path, list[str]]]:
    """The cdk CLI replaced by a recorder that stops the command once called."""
    calls: list[tuple[str, Path, list[str]]] = []

    def record(action: str, file: Path, args: list[str], **_: object) -> None:
        calls.append((action, file, list(args)))
        raise AttakError("cdk recorded")

    monkeypatch.setattr(toolchain, "run_cdk", record)
    return calls


@pytest.mark.parametrize("command", ["deploy", "diff", "destroy"])
def test_arguments_after_double_dash_go_to_cdk_and_the_path_defaults(
    command: str, cdk_calls: list[tuple[str, Path, list[str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(SAMPLE)

    result = _run(command, "--", "--require-approval", "never")

    assert "cdk recorded" in result.stderr, result.output
    assert cdk_calls == [(command, SAMPLE / "topology.yml", ["--require-approval", "never"])]


def test_a_path_before_double_dash_is_still_the_path(
    cdk_calls: list[tuple[str, Path, list[str]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    _run("deploy", str(SAMPLE), "--", "--require-approval", "never", "--", "x")

    assert cdk_calls == [
        ("deploy", SAMPLE / "topology.yml", ["--require-approval", "never", "--", "x"])
    ]


def test_trigger_refuses_duplicate_keys_before_calling_aws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = tmp_path / "input.json"
    events.write_text('{"hello_world_spout": "one",\n "hello_world_spout": "two"}\n')
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing answers there

    result = _run("trigger", str(SAMPLE), "--input", str(events), "--no-follow")

    _clean(result, 1)
    assert f"{events}:2: key 'hello_world_spout' appears twice" in result.stderr


@pytest.mark.parametrize("url", ["notaurl", "http://[::1", "ftp://x", ""])
def test_a_connection_refuses_an_endpoint_that_is_not_a_url(url: str) -> None:
    with pytest.raises(AttakError, match="--endpoint-url"):
        Connection(endpoint_url=url)


@pytest.mark.parametrize("url", ["http://localhost:5000", "https://[::1]:4566/", "http://moto"])
def test_a_connection_takes_an_http_endpoint(url: str) -> None:
    assert Connection(endpoint_url=url).endpoint_url == url
