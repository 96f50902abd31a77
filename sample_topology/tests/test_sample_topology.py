"""Tests of the sample topology, run with pytest (the README shows this file)."""

from pathlib import Path

import pytest

from attak_cdk.testing import invoke, lambda_context, run_topology

HERE = Path(__file__).resolve().parent.parent  # the folder of topology.yml


def test_the_greeting_comes_out_reversed():
    result = run_topology(HERE, {"hello_world_spout": "hello world"})
    result.assert_ok()  # on failure: every dead letter's data, error, trace and traceback
    assert result.emitted["reverse"]["reversed strings"] == ["dlrow olleh"]


def test_input_files_are_read_as_simulate_reads_them(tmp_path):
    events = tmp_path / "events.jsonl"  # JSON Lines: one event per line
    events.write_text(
        '{"processor": "hello_world_spout", "data": "ab"}\n'
        '{"processor": "hello_world_spout", "data": "cd"}\n'
    )
    result = run_topology(HERE, events)  # or "input.json", beside the topology
    assert result.emitted["reverse"]["reversed strings"] == ["ba", "dc"]


def test_a_failing_handler_ends_as_a_dead_letter():
    def broken(event, context):
        raise ValueError(f"cannot reverse {event!r}")

    result = run_topology(HERE, {"hello_world_spout": "hi"}, handlers={"reverse": broken})
    assert not result.ok
    [letter] = result.dead_letters
    assert letter.processor == "reverse"
    assert letter.event == "hi"
    assert letter.error == "ValueError: cannot reverse 'hi'"
    with pytest.raises(AssertionError, match="cannot reverse"):
        result.assert_ok()


def test_one_handler_on_its_own():
    assert invoke(HERE, "reverse", "abc") == {"reversed strings": ["cba"]}
    with pytest.raises(TypeError):  # the handler's own error, raised as it is
        invoke(HERE, "reverse", 42)


def test_a_handler_reads_the_lambda_context():
    seen = []

    def spy(event, context):  # stands in for reverse's handler in this call
        seen.append((context.function_name, context.get_remaining_time_in_millis()))
        context.emit("reversed strings", event[::-1])

    context = lambda_context("reverse", timeout=3)
    assert invoke(HERE, "reverse", "ab", context=context, handler=spy) == {
        "reversed strings": ["ba"]
    }
    [(name, remaining)] = seen
    assert name == "reverse" and 0 < remaining <= 3000
