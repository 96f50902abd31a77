"""Every command through the real CLI: output, exit codes, and errors without tracebacks."""

from __future__ import annotations

import importlib.util
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attak_cdk.simulate import timeouts
from cli.main import app
from tests.conftest import PASS_ON, SAMPLE, WriteProject, modules_loaded_by

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_help_lists_the_commands_with_examples() -> None:
    code, out, _ = run("--help")
    assert code == 0
    for command in ("validate", "graph", "simulate", "synth", "deploy", "diff", "destroy", "init"):
        assert command in out
    code, out, _ = run("simulate", "--help")
    assert code == 0
    assert "Example: attak simulate" in out


def test_simulate_sample_shows_the_reversed_greeting() -> None:
    code, out, err = run("simulate", str(SAMPLE))
    assert code == 0, err
    assert "reverse ← hello_world_spout" in out
    assert "reversed strings → sink" in out
    assert '"dlrow olleh"' in out
    assert "│ hello world" in out  # what the spout printed, shown under its invocation
    assert "✓ every record processed: 2 invocations, 2 emits, 0 dead letters" in out


def test_simulate_json_is_the_documented_document() -> None:
    code, out, _ = run("simulate", str(SAMPLE), "--json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) >= {"topology", "invocations", "emitted", "dead_letters", "summary"}
    assert doc["emitted"]["reverse"] == {"reversed strings": ["dlrow olleh"]}
    spout, reverse = doc["invocations"]
    assert set(spout) >= {
        "id",
        "processor",
        "event",
        "parent",
        "trace",
        "attempt",
        "emits",
        "error",
    }
    assert spout["emits"] == [{"topic": "greetings", "data": "hello world", "to": ["reverse"]}]
    assert reverse["parent"] == spout["id"]
    assert doc["summary"]["reverse"]["invocations"] == 1


def test_simulate_exits_1_when_a_record_is_dead_lettered(write_project: WriteProject) -> None:
    root = write_project(
        {
            "p/bad.py": "def handler(event, context):\n    raise RuntimeError('broken ' + event)\n",
            "topology.yml": "name: bad\nprocessors: {bad: p/bad.py}\n",
            "input.json": '{"bad": "x"}',
        }
    )
    code, out, _ = run("simulate", str(root))
    assert code == 1
    assert "RuntimeError: broken x" in out
    assert 'File "' in out and "p/bad.py" in out  # the user's frame, not attak's
    assert "attak_cdk" not in out
    assert "dead letters (1)" in out
    code, out, _ = run("simulate", str(root), "--json")
    assert code == 1
    assert json.loads(out)["dead_letters"][0]["error"] == "RuntimeError: broken x"


def test_simulate_stops_a_handler_at_its_timeout_unless_told_not_to(
    write_project: WriteProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A timeout second lasts a quarter of a real one here; the handler sleeps 1.2 of them.
    monkeypatch.setattr(timeouts, "TIME_SCALE", 0.25)
    root = write_project(
        {
            "p/fan.py": "def handler(event, context):\n    context.emit('out', event)\n",
            "p/slow.py": "import time\n\ndef handler(event, context):\n    time.sleep(0.3)\n",
            "topology.yml": (
                "name: slow\nprocessors: {spout: p/fan.py, slow: {handler: p/slow.py, timeout: 1}}\n"
                "streams: [{from: spout, to: slow, retry_attempts: 0}]\n"
            ),
            "input.json": '{"spout": "x"}',
        }
    )
    code, out, _ = run("simulate", str(root))
    assert code == 1
    assert "Task timed out after 1.00 seconds" in out
    assert "time.sleep(0.3)" in out  # where the handler was when time ran out
    code, out, _ = run("simulate", str(root), "--no-timeouts")
    assert code == 0, out


def test_simulate_stops_a_runaway_loop_and_exits_1(write_project: WriteProject) -> None:
    root = write_project(
        {
            "p/pass.py": PASS_ON,
            "topology.yml": "name: loop\nprocessors: {a: p/pass.py, b: p/pass.py}\nstreams: [[a, b], [b, a]]\n",
            "input.json": '{"a": 1}',
        }
    )
    code, out, _ = run("simulate", str(root), "--max-hops", "3")
    assert code == 1
    assert "✗ stopped:" in out
    assert "past max_hops 3" in out


def test_simulate_reads_json_lines_input(write_project: WriteProject, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(
        '{"processor": "hello_world_spout", "data": "ab"}\n\n'
        '{"processor": "hello_world_spout", "data": "cd"}\n'
    )
    code, out, _ = run("simulate", str(SAMPLE), "--input", str(events), "--json")
    assert code == 0
    assert json.loads(out)["emitted"]["reverse"]["reversed strings"] == ["ba", "dc"]


def test_simulate_quiet_and_show_limit(write_project: WriteProject, tmp_path: Path) -> None:
    events = tmp_path / "many.jsonl"
    events.write_text(
        "".join(f'{{"processor": "hello_world_spout", "data": "e{n}"}}\n' for n in range(10))
    )
    code, out, _ = run("simulate", str(SAMPLE), "--input", str(events), "--show", "3")
    assert code == 0
    assert "… 17 more invocations not shown" in out
    _, out, _ = run("simulate", str(SAMPLE), "--input", str(events), "--quiet")
    assert "●" not in out
    assert "20 invocations" in out


def test_bad_topology_exits_1_with_every_problem_and_no_traceback(
    write_project: WriteProject,
) -> None:
    root = write_project({"topology.yml": "name: x\nprocessors: {a: nope.py}\nstreams: [[a, b]]\n"})
    code, out, err = run("simulate", str(root))
    assert code == 1
    assert "the topology has 2 problems" in err
    assert "topology.yml: streams[0].to: unknown processor 'b'" in err
    assert "topology.yml: processors.a: handler file not found: nope.py" in err
    assert "Traceback" not in out + err


def test_usage_errors_exit_2() -> None:
    assert run("simulate", "--max-hops", "0")[0] == 2
    assert run("simulate", "--no-such-option")[0] == 2
    assert run("nonsense")[0] == 2


def test_validate_ok_warnings_and_json(write_project: WriteProject) -> None:
    code, out, _ = run("validate", str(SAMPLE))
    assert code == 0
    assert "✓ attak-example: 2 processors, 1 stream, entries: hello_world_spout" in out
    root = write_project(
        {
            "p/pass.py": PASS_ON,
            "topology.yml": "name: w\nprocessors: {a: p/pass.py, b: p/pass.py}\nstreams: [[a, b, nope]]\n",
        }
    )
    code, out, err = run("validate", str(root))
    assert code == 0
    assert "warning: 'a' never emits topic 'nope'" in err
    code, out, _ = run("validate", str(root), "--json")
    doc = json.loads(out)
    assert (code, doc["ok"], doc["issues"][0]["severity"]) == (0, True, "warning")


def test_graph_formats() -> None:
    code, out, _ = run("graph", str(SAMPLE))
    assert code == 0
    assert "hello_world_spout (entry)" in out
    assert "→ reverse  any topic" in out
    assert "⇥ sink  'reversed strings'" in out
    code, out, _ = run("graph", str(SAMPLE), "--format", "mermaid")
    # The entry double-bordered; the sink topic the text graph shows, dotted into a sink.
    assert out.splitlines() == [
        "flowchart LR",
        '  p0[["hello_world_spout"]]',
        '  p1["reverse"]',
        "  p0 --> p1",
        '  p1_sink(["sink"])',
        '  p1 -.->|"reversed strings"| p1_sink',
    ]
    code, out, _ = run("graph", str(SAMPLE), "-f", "dot")
    assert '"hello_world_spout" -> "reverse";' in out
    assert '"hello_world_spout" [peripheries=2];' in out
    assert '"reverse" -> "reverse sink" [label="reversed strings", style=dotted];' in out
    code, _, err = run("graph", str(SAMPLE), "-f", "png")
    assert code == 2  # a usage error, as the README says
    assert "'png' is not one of 'text', 'mermaid', 'dot'" in err


def test_graph_shows_loops(write_project: WriteProject) -> None:
    root = write_project(
        {
            "p/pass.py": PASS_ON,
            "topology.yml": "name: l\nprocessors: {a: p/pass.py, b: p/pass.py}\nstreams: [[a, b], [b, a]]\n",
        }
    )
    code, out, _ = run("graph", str(root))
    assert code == 0
    assert "loop: a → b → a" in out


def test_init_scaffolds_a_project_that_simulates_and_tests_green(tmp_path: Path) -> None:
    target = tmp_path / "My Pipeline"
    code, out, _ = run("init", str(target))
    assert code == 0
    assert "created" in out
    assert "name: my-pipeline" in (target / "topology.yml").read_text()
    code, out, _ = run("simulate", str(target))
    assert code == 0
    assert "dlrow olleh" in out
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target / "tests")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "1 passed" in tests.stdout


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    assert run("init", str(tmp_path))[0] == 0
    code, _, err = run("init", str(tmp_path))
    assert code == 1
    assert "already exists; choose an empty folder or pass --force" in err
    assert run("init", str(tmp_path), "--force")[0] == 0


@pytest.mark.parametrize("argv", [["--help"], ["simulate", str(SAMPLE)], ["validate", str(SAMPLE)]])
def test_fast_commands_never_import_aws_cdk(argv: list[str]) -> None:
    assert importlib.util.find_spec("aws_cdk") is not None  # it could be imported...
    assert modules_loaded_by(argv, "aws_cdk", "jsii") == []  # ...and is not


def test_text_that_has_no_utf8_form_is_reported_not_crashed_on(write_project: WriteProject) -> None:
    root = write_project({"topology.yml": 'name: "bad\\uD800"\nprocessors: {a: x.py}\n'})
    code, out, err = run("validate", str(root))
    assert code == 1
    assert "cannot be a stack name" in err
    code, out, _ = run("validate", str(root), "--json")
    assert code == 1
    assert json.loads(out)["topology"] == "bad\ud800"


def test_version_and_short_help_follow_cli_conventions() -> None:
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0
    assert version.stdout.startswith("attak ") and version.stdout.split()[1][0].isdigit()
    for command in ([], ["simulate"], ["deploy"], ["plan"]):
        result = runner.invoke(app, [*command, "-h"])
        assert result.exit_code == 0, (command, result.output)
        assert result.stdout.startswith("Usage:")


def test_graph_draws_loops_dashed_and_quotes_topics(write_project: WriteProject) -> None:
    root = write_project(
        {
            "a.py": "def handler(event, context):\n    context.emit('say \"hi\"', event)\n",
            "b.py": "def handler(event, context):\n    context.emit('back', event)\n",
            "topology.yml": """
                name: loop
                processors: {a: a.py, b: b.py}
                streams:
                  - {from: a, to: b, topic: 'say "hi"'}
                  - {from: b, to: a, topic: back}
            """,
        }
    )
    code, out, _ = run("graph", str(root), "-f", "mermaid")
    assert code == 0
    assert '  p0 -.->|"say #quot;hi#quot;"| p1' in out.splitlines()
    assert '  p1 -.->|"back"| p0' in out.splitlines()
    code, out, _ = run("graph", str(root), "-f", "dot")
    assert '"a" -> "b" [label="say \\"hi\\"", style=dashed];' in out


def test_init_suggests_commands_quoted_for_a_folder_with_a_space(tmp_path: Path) -> None:
    folder = tmp_path / "My Pipe"
    code, out, err = run("init", str(folder))
    assert code == 0, err
    next_line = next(line for line in out.splitlines() if line.startswith("Next:"))
    quoted = shlex.quote(str(folder))
    assert next_line == f"Next: attak simulate {quoted} and pytest {quoted}"


def test_a_usage_error_in_a_subcommand_of_a_group_points_at_that_subcommands_help() -> None:
    # No filter: a usage error raised by `attak dead-letters replay` itself, before any
    # AWS call; the help named must be the replay command's, not its group's.
    code, _, err = run("dead-letters", "replay", str(SAMPLE))
    assert code == 2
    assert "say which letters to replay" in err
    assert err.rstrip().endswith("dead-letters replay --help' for help.")
