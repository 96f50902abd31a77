"""Input typed into the UI's editor: input.json's form or JSON Lines, told apart by shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from attak_cdk.errors import InputError
from attak_cdk.inputs import InputEvent, read_input_text

EDITOR = Path("input")


def test_an_object_of_processors_is_input_json() -> None:
    assert read_input_text(EDITOR, '{"a": 1, "b": {"x": 2}}') == [
        InputEvent("a", 1, "input: a"),
        InputEvent("b", {"x": 2}, "input: b"),
    ]


def test_objects_one_per_line_are_json_lines_in_order() -> None:
    text = '{"processor": "a", "data": 1}\n\n{"processor": "a", "data": [2]}\n'
    assert read_input_text(EDITOR, text) == [
        InputEvent("a", 1, "input:1"),
        InputEvent("a", [2], "input:3"),
    ]


def test_one_event_in_json_lines_form_is_that_event_even_spread_over_lines() -> None:
    text = '{\n  "processor": "a",\n  "data": "hello"\n}\n'
    assert read_input_text(EDITOR, text) == [InputEvent("a", "hello", "input:1")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"processor": "a", "data": 1}\n{"processor": "b"}',
            'input:2: each line must be {"processor": name, "data": ...}',
        ),
        ('{"a": 1,}', "input: invalid JSON at line 1, column 9"),
        ("[1, 2]", "input: input must be a JSON object mapping processor names"),
        ('{"a": NaN}', "input: NaN is not JSON data"),
    ],
)
def test_bad_text_gets_the_message_of_the_form_it_is_in(text: str, message: str) -> None:
    with pytest.raises(InputError) as raised:
        read_input_text(EDITOR, text)
    assert raised.value.message.startswith(message)
