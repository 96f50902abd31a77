"""Shared fixtures: write small topology projects into a temporary folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_topology"

WriteProject = Callable[[dict[str, str]], Path]


@pytest.fixture
def write_project(tmp_path: Path) -> WriteProject:
    """Write {relative path: text} into tmp_path (text dedented) and return the folder."""

    def write(files: dict[str, str]) -> Path:
        for relative, text in files.items():
            path = tmp_path / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return tmp_path

    return write


# Handlers reused across tests, as source text.
PASS_ON = """
def handler(event, context):
    context.emit("out", event)
"""

REVERSE = """
def handler(event, context):
    context.emit("reversed strings", event[::-1])
"""

SINK = """
def handler(event, context):
    pass
"""
