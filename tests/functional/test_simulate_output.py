"""``attak simulate``'s text output when things fail: what someone debugging reads.

Dead letters carry their trace id and the commands that follow it; a traceback is printed
once per distinct error; attempts are counted against the stream's retry_attempts and
say who retried; warnings come back in the closing summary, and the verdict says which
processors never ran.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from attak_cdk.simulate import timeouts
from cli.main import app
from tests.conftest import PASS_ON, WriteProject

runner = CliRunner()

FAILING = """
import json


def handler(event, context):
    return json.loads(event)
"""


def simulate(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["simulate", *args])
    return result.exit_code, result.stdout


@pytest.fixture
def failing(write_project: WriteProject) -> str:
    root = write_project(
        {
            "p/pass.py": PASS_ON,
            "p/parse.py": FAILING,
            "topology.yml": (
                "name: t\nprocessors: {spout: p/pass.py, parse: p/parse.py}\n"
                "streams: [{from: spout, to: parse, retry_attempts: 2}]\n"
            ),
            "input.json": '{"spout": "not json"}',
        }
    )
    return str(root)


def test_a_dead_letter_carries_its_trace_and_the_commands_that_follow_it(failing: str) -> None:
    code, out = simulate(failing, "--seed", "3", "--show", "0")
    assert code == 1
    trace = json.loads(simulate(failing, "--seed", "3", "--json")[1])["dead_letters"][0]["trace"]
    assert len(trace) == 16
    assert f'parse ← spout->parse  "not json"  trace {trace}' in out
    assert f"attak logs {failing} --trace {trace}" in out
    assert f"attak ui {failing} (trace filter {trace})" in out


def test_one_traceback_per_distinct_error_then_same_error_on_the_other_attempts(
    failing: str,
) -> None:
    code, out = simulate(failing)
    assert code == 1
    # once in the trace, once in the dead letter: not once per attempt
    assert out.count("return json.loads(event)") == 2
    assert "(same error as #2)" in out
    assert "attempt 1 (#2): JSONDecodeError: Expecting value" in out
    assert "same error on attempts 2-3 (#3-#4)" in out
    # the standard library's frames folded into one line
    assert 'json/decoder.py", line' not in out
    assert "… 3 frames in Python's standard library (json/__init__.py, json/decoder.py)" in out


def test_attempts_read_against_retry_attempts(failing: str) -> None:
    _, out = simulate(failing)
    assert "parse ← spout attempt 2 of 3" in out  # retried in place by the runtime
    assert "parse ← spout attempt 3 of 3" in out
    assert "after 3 of 3 attempts (retry_attempts: 2)" in out


def test_direct_invocation_retries_are_lambdas_two(write_project: WriteProject) -> None:
    root = write_project(
        {
            "p/parse.py": FAILING,
            "topology.yml": "name: t\nprocessors: {parse: p/parse.py}\n",
            "input.json": '{"parse": "x"}',
        }
    )
    _, out = simulate(str(root))
    assert "parse ← input attempt 3 of 3" in out
    assert "after 3 of 3 attempts (Lambda retries an asynchronous invoke twice)" in out


def test_a_retry_of_a_whole_record_by_lambda_shows_as_such(
    write_project: WriteProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timeouts, "TIME_SCALE", 0.25)
    root = write_project(
        {
            "p/fan.py": "def handler(event, context):\n    context.emit('out', 0)\n    context.emit('out', 1)\n",
            "p/slow.py": "import time\n\ndef handler(event, context):\n    if event:\n        time.sleep(0.3)\n",
            "topology.yml": (
                "name: slow\nprocessors: {spout: p/fan.py, slow: {handler: p/slow.py, timeout: 1}}\n"
                "streams: [{from: spout, to: slow, retry_attempts: 1, batch_size: 10}]\n"
            ),
            "input.json": '{"spout": "x"}',
        }
    )
    code, out = simulate(str(root))
    assert code == 1
    assert "slow ← spout attempt 2, Lambda retrying the whole record  1" in out
    assert "slow ← spout attempt 2, again with its batch  0" in out
    assert "dead-lettered with its batch: Task timed out after 1.00 seconds" in out


def test_warnings_return_in_the_summary_and_the_verdict_names_idle_processors(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {
            "p/pass.py": PASS_ON,
            "topology.yml": (
                "name: t\nprocessors: {spout: p/pass.py, parse: p/pass.py, store: p/pass.py}\n"
                "streams: [{from: spout, to: parse, topic: typo}, [parse, store]]\n"
            ),
            "input.json": '{"spout": 1}',
        }
    )
    code, out = simulate(str(root))
    assert code == 0
    summary = out[out.index("processor  invocations") :]
    assert "1 warning (as at the top):" in summary
    assert "'spout' never emits topic 'typo'" in summary
    assert "✓ every record processed, but 2 of 3 processors never ran: parse, store" in out


def test_json_output_adds_only_the_previous_attempt(failing: str) -> None:
    _, out = simulate(failing, "--json")
    first, *retries = json.loads(out)["invocations"][1:]
    assert first["previous"] is None
    assert [(r["attempt"], r["previous"]) for r in retries] == [(2, 2), (3, 3)]
