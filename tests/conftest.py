"""Shared fixtures: write small topology projects into a temporary folder."""

from __future__ import annotations

import ast
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_topology"

WriteProject = Callable[[dict[str, str]], Path]

_PROBE = """
import sys, runpy
sys.argv = ["attak", *{argv!r}]
try:
    runpy.run_module("cli", run_name="__main__")
except SystemExit as exit:
    assert not exit.code, exit.code
print(sorted(m for m in sys.modules if m in {packages!r} or m.startswith({dotted!r})))
"""


def modules_loaded_by(argv: list[str], *packages: str) -> list[str]:
    """Run ``attak *argv`` in a fresh interpreter and return which modules of ``packages``
    it imported: how tests prove that fast commands leave heavy libraries alone."""
    dotted = tuple(f"{p}." for p in packages)
    probe = _PROBE.format(argv=argv, packages=packages, dotted=dotted)
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    loaded: list[str] = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.fixture
def write_project(tmp_path: Path) -> WriteProject:
    """Write {relative path: text} into tmp_path (text dedented) and return the folder."""
    return lambda files: write_files(tmp_path, files)


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Write {relative path: text} below ``root`` (text dedented) and return ``root``: for
    module-scoped projects, which cannot use ``write_project``."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


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

ROUTER = """
def handler(event, context):
    context.emit(event["kind"], event["value"])
"""

KEYED = """
def handler(event, context):
    context.emit("by user", event, key=event["user"])
"""

RECORD = """
def handler(event, context):
    context.emit("seen", event)
"""

POISON = """
def handler(event, context):
    context.emit("seen", event)
    if event == "poison":
        raise ValueError(f"cannot take {event!r}")
"""


@pytest.fixture
def no_alarm_left() -> Iterator[None]:
    """The test gives SIGALRM back as it found it: a run's timeouts leave no handler or
    timer behind."""
    handler, timer = signal.getsignal(signal.SIGALRM), signal.getitimer(signal.ITIMER_REAL)
    yield
    assert signal.getsignal(signal.SIGALRM) == handler
    if timer == (0.0, 0.0):
        assert signal.getitimer(signal.ITIMER_REAL) == timer
