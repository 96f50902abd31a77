"""``attak_cdk.testing``: what a user's test calls, and what it prints when it fails.

Inputs in every form ``attak simulate`` reads, handlers swapped for a run, one handler
called alone, ``assert_ok`` and the reprs a failing assertion shows. The README's example
test is this project's ``sample_topology/tests``, included in the README verbatim and run
here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from attak_cdk.errors import InputError
from attak_cdk.inputs import InputEvent
from attak_cdk.testing import SimulationResult, invoke, lambda_context, run_topology
from tests.conftest import PASS_ON, POISON, REPO, REVERSE, SAMPLE, WriteProject

EXAMPLE = SAMPLE / "tests" / "test_sample_topology.py"


def _reversed(result: SimulationResult) -> list[Any]:
    return result.emitted["reverse"]["reversed strings"]


def test_input_file_given_as_str_or_path_json_lines_or_input_json(tmp_path: Path) -> None:
    lines = tmp_path / "events.jsonl"
    lines.write_text(
        '{"processor": "hello_world_spout", "data": "ab"}\n'
        '{"processor": "hello_world_spout", "data": "cd"}\n'
    )
    assert _reversed(run_topology(SAMPLE, lines)) == ["ba", "dc"]
    assert _reversed(run_topology(str(SAMPLE), str(lines))) == ["ba", "dc"]
    document = tmp_path / "other.json"
    document.write_text('{"hello_world_spout": "xyz"}')
    assert _reversed(run_topology(SAMPLE, document)) == ["zyx"]


def test_a_relative_input_file_is_found_beside_the_topology(
    write_project: WriteProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_project(
        {
            "p/reverse.py": REVERSE,
            "topology.yml": "name: t\nprocessors: {reverse: p/reverse.py}\n",
            "events.jsonl": '{"processor": "reverse", "data": "olleh"}\n',
        }
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = run_topology(root, "events.jsonl")
    assert result.emitted["reverse"]["reversed strings"] == ["hello"]


def test_in_memory_inputs_as_a_mapping_pairs_or_input_events() -> None:
    assert _reversed(run_topology(SAMPLE, {"hello_world_spout": "ab"})) == ["ba"]
    pairs = [("hello_world_spout", "ab"), ("hello_world_spout", "cd")]
    assert _reversed(run_topology(SAMPLE, pairs)) == ["ba", "dc"]
    assert _reversed(run_topology(SAMPLE, [InputEvent("hello_world_spout", "ef")])) == ["fe"]


def test_an_input_that_is_no_event_names_the_forms_accepted() -> None:
    with pytest.raises(
        InputError, match=r"\(processor, data\) pair or an InputEvent \(given 'x'\)"
    ):
        run_topology(SAMPLE, ["x"])  # type: ignore[list-item]
    with pytest.raises(InputError, match="input file not found"):
        run_topology(SAMPLE, "no-such-events.jsonl")
    with pytest.raises(InputError, match="not both"):
        run_topology(SAMPLE, {"hello_world_spout": "a"}, input_file="input.json")


def test_handlers_replace_the_named_processors_only() -> None:
    seen: list[Any] = []

    def spy(event: Any, context: Any) -> None:
        seen.append(event)
        context.emit("reversed strings", event.upper())

    result = run_topology(SAMPLE, {"hello_world_spout": "ab"}, handlers={"reverse": spy})
    assert seen == ["ab"]
    assert _reversed(result) == ["AB"]
    assert result.emitted["hello_world_spout"]["greetings"] == ["ab"]  # its own handler
    with pytest.raises(InputError, match="unknown processor 'revers' \\(did you mean 'reverse'"):
        run_topology(SAMPLE, {"hello_world_spout": "ab"}, handlers={"revers": spy})


def test_assert_ok_says_every_dead_letter_with_data_error_trace_and_traceback(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {
            "p/pass.py": PASS_ON,
            "p/poison.py": POISON,
            "topology.yml": (
                "name: t\nprocessors: {spout: p/pass.py, check: p/poison.py}\n"
                "streams: [{from: spout, to: check, retry_attempts: 1}]\n"
            ),
        }
    )
    result = run_topology(root, [("spout", "poison"), ("spout", "fine"), ("spout", "poison")])
    assert len(result.dead_letters) == 2
    with pytest.raises(AssertionError) as failed:
        result.assert_ok()
    message = str(failed.value)
    assert "2 dead letters" in message
    assert message.count("check <- spout->check: 'poison'") == 2
    assert "ValueError: cannot take 'poison'" in message
    for letter in result.dead_letters:
        assert f"trace: {letter.trace}" in message
    assert 'raise ValueError(f"cannot take {event!r}")' in message  # the traceback's line
    assert "attempts: 2" in message


def test_assert_ok_says_why_a_loop_stopped_the_run(write_project: WriteProject) -> None:
    root = write_project(
        {
            "p/pass.py": PASS_ON,
            "topology.yml": "name: loop\nprocessors: {a: p/pass.py, b: p/pass.py}\nstreams: [[a, b], [b, a]]\n",
        }
    )
    result = run_topology(root, {"a": 1}, max_hops=3)
    with pytest.raises(AssertionError, match=r"stopped: .*past max_hops 3.*left unprocessed"):
        result.assert_ok()
    assert "stopped: processor" in repr(result)


def test_assert_ok_passes_when_every_record_was_processed() -> None:
    run_topology(SAMPLE, {"hello_world_spout": "ab"}).assert_ok()


def test_results_print_readably() -> None:
    result = run_topology(SAMPLE, {"hello_world_spout": "ab"})
    assert (
        repr(result)
        == "<SimulationResult 'attak-example': 2 invocations, 2 emits, 0 dead letters, ok>"
    )
    spout, reverse = result.invocations
    assert (
        repr(spout)
        == "<Invocation #1 hello_world_spout <- input: event='ab' emitted {'greetings': 'ab'}>"
    )
    assert repr(reverse) == (
        "<Invocation #2 reverse <- hello_world_spout: event='ab' emitted {'reversed strings': 'ba'}>"
    )
    assert repr(spout.emits[0]) == "Emit('greetings', 'ab', streams=['hello_world_spout->reverse'])"
    assert repr(reverse.emits[0]) == "Emit('reversed strings', 'ba', sink)"


def test_a_failed_result_prints_its_dead_letters() -> None:
    def broken(event: Any, context: Any) -> None:
        raise KeyError("user")

    result = run_topology(SAMPLE, {"hello_world_spout": "ab"}, handlers={"reverse": broken})
    assert repr(result) == (
        "<SimulationResult 'attak-example': 12 invocations, 1 emit, 1 dead letter, not ok: "
        "reverse <- hello_world_spout->reverse 'ab': KeyError: 'user'>"
    )
    letter = result.dead_letters[0]
    assert repr(letter) == (
        "<DeadLetter reverse <- hello_world_spout->reverse: event='ab' "
        f"error=\"KeyError: 'user'\" attempts=11 trace={letter.trace!r}>"
    )
    assert repr(result.invocations[-1]) == (
        "<Invocation #12 reverse <- hello_world_spout attempt 11: event='ab' failed: KeyError: 'user'>"
    )


def test_invoke_runs_one_handler_and_returns_its_emits_sinks_included(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {
            "p/fan.py": (
                "def handler(event, context):\n"
                "    context.emit('out', event)\n"
                "    context.emit('audit', {'seen': event})\n"
                "    context.emit('out', event * 2)\n"
            ),
            "p/never.py": "def handler(event, context):\n    raise AssertionError('ran')\n",
            "topology.yml": (
                "name: t\nprocessors: {fan: p/fan.py, never: p/never.py}\n"
                "streams: [[fan, never, out]]\n"
            ),
        }
    )
    assert invoke(root, "fan", 2) == {"out": [2, 4], "audit": [{"seen": 2}]}


def test_invoke_raises_the_handlers_error_and_checks_the_processor() -> None:
    with pytest.raises(TypeError, match="not subscriptable"):
        invoke(SAMPLE, "reverse", 42)
    with pytest.raises(InputError, match="unknown processor 'revrse'"):
        invoke(SAMPLE, "revrse", "x")


def test_invoke_passes_a_lambda_context_with_the_processors_settings() -> None:
    seen: dict[str, Any] = {}

    def spy(event: Any, context: Any) -> None:
        seen.update(
            name=context.function_name,
            memory=context.memory_limit_in_mb,
            remaining=context.get_remaining_time_in_millis(),
            request=context.aws_request_id,
            trace=context.trace_id,
        )

    assert invoke(SAMPLE, "reverse", "x", handler=spy) == {}
    assert seen["name"] == "reverse" and seen["memory"] == 256
    assert 59_000 < seen["remaining"] <= 60_000  # the processor's 60 s timeout
    assert re.fullmatch(r"[0-9a-f-]{36}", seen["request"])
    assert seen["trace"]
    context = lambda_context("reverse", timeout=2, request_id="req-1")
    invoke(SAMPLE, "reverse", "x", handler=spy, context=context)
    assert seen["request"] == "req-1" and seen["remaining"] <= 2000


def test_the_readme_shows_the_example_test_verbatim() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Test your topology") :]
    block = section[section.index("```python\n") + len("```python\n") :]
    assert block[: block.index("```\n")] == EXAMPLE.read_text(encoding="utf-8")


def test_the_readme_example_test_passes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout
