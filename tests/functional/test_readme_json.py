"""The README's outline of `attak simulate --json` is the document the code writes: every
key the outline names is written at that place, and every key written is in the outline.
"""

from __future__ import annotations

import json
import re
from typing import Any

from typer.testing import CliRunner

from cli.main import app
from tests.conftest import REPO, WriteProject

runner = CliRunner()

OUTLINE = re.compile(r"`--json` prints one document.*?```\n(.*?)```", re.S)


def outline() -> str:
    found = OUTLINE.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert found is not None, "the README's --json outline is missing"
    return found.group(1)


class Outline:
    """The README's outline read as what it is: objects of keys, each key perhaps with a
    value; ``"key"`` is a key written as it is, a bare word (``processor``) one per name,
    ``[...]`` a list of what it holds, ``data`` and ``...`` any value."""

    def __init__(self, text: str) -> None:
        self.tokens = re.findall(r'"\w+"|\w+|\.\.\.|[{}\[\]:,]', text)
        self.at = 0

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.at]
        assert expected is None or token == expected, (expected, token, self.at)
        self.at += 1
        return token

    def value(self) -> Any:
        token = self.tokens[self.at]
        if token == "{":
            return self.mapping()
        if token == "[":
            self.take("[")
            held = self.value()
            while self.tokens[self.at] == ",":
                self.take(",")
                self.value()  # "..." or another of the same
            self.take("]")
            return [held]
        self.take()
        return None

    def mapping(self) -> dict[str, Any]:
        self.take("{")
        keys: dict[str, Any] = {}
        while self.tokens[self.at] != "}":
            key = self.take()
            key = key.strip('"') if key.startswith('"') else "*"
            keys[key] = None
            if self.tokens[self.at] == ":":
                self.take(":")
                keys[key] = self.value()
            if self.tokens[self.at] == ",":
                self.take(",")
        self.take("}")
        return keys


def read_outline() -> dict[str, Any]:
    return Outline(outline()).mapping()


def failing_run(write_project: WriteProject) -> dict[str, Any]:
    root = write_project(
        {
            "a.py": "def handler(event, context):\n    context.emit('x', event)\n",
            "b.py": "def handler(event, context):\n    raise ValueError('no')\n",
            "topology.yml": "name: j\nprocessors: {a: a.py, b: b.py}\n"
            "streams: [{from: a, to: b, retry_attempts: 0}]\n",
            "input.json": '{"a": 1}',
        }
    )
    result = runner.invoke(app, ["simulate", str(root), "--json"])
    assert result.exit_code == 1, result.output  # b's event was dead-lettered
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_the_readme_outlines_every_key_of_the_json_document(write_project: WriteProject) -> None:
    shape, document = read_outline(), failing_run(write_project)
    # The kinesis engine's "engine" section is outlined too; the memory engine has none.
    assert set(shape) == {*document, "engine"}
    (invocation_shape,) = shape["invocations"]
    invocation = document["invocations"][0]
    assert set(invocation_shape) == set(invocation)
    failed = next(i for i in document["invocations"] if i["error"])
    assert set(invocation_shape["error"]) == set(failed["error"])
    assert set(invocation_shape["emits"][0]) == set(invocation["emits"][0])
    assert set(shape["dead_letters"][0]) == set(document["dead_letters"][0])
    assert set(shape["summary"]["*"]) == set(next(iter(document["summary"].values())))
    assert set(shape["transport"]["*"]) == set(next(iter(document["transport"].values())))
    assert shape["emitted"] == {"*": {"*": [None]}}
