"""Unit tests touch neither disk nor network: a test that does fails, naming what it did.

An audit hook (PEP 578) sees every ``open``, socket connect or bind, subprocess and exec
of the interpreter, from Python and C code alike, so no patching of ``open``, ``Path`` or
``socket`` can be bypassed by a library reaching the OS another way. While a unit test
runs (its fixtures included) the hook refuses:

- opening any file for writing, except the caches of the interpreter (bytecode) and of
  hypothesis (its example database and character tables, in ``.hypothesis``);
- reading a file outside the interpreter's installation (standard library, virtualenv:
  lazy imports and their data files) and the ``attak_cdk`` and ``cli`` packages (their
  modules and data, such as the price tables): a topology, handler or corpus file read
  from disk makes a test functional, and it belongs in ``tests/functional``. The source
  of a module imported before the test began may be read (hypothesis reads the modules
  loaded, handlers of earlier functional tests among them, for constants);
- connecting or binding a socket, starting a subprocess, exec or fork.

The refused operation raises ``UnitTestIO``; as the code under test may catch it (the
runtime catches a handler's errors), every refusal is also recorded and fails the test
at its teardown. Tests that need such I/O live in ``tests/functional`` or
``tests/integration``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parent.parent.parent
_READABLE = tuple(
    str(Path(folder).resolve()) + os.sep
    for folder in {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        _REPO / "attak_cdk",
        _REPO / "cli",
    }
)
_TOOL_CACHES = (f"{os.sep}__pycache__{os.sep}", f"{os.sep}.hypothesis{os.sep}")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_REFUSED_EVENTS = frozenset(
    {
        "socket.connect",
        "socket.bind",
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "pty.spawn",
    }
)


class UnitTestIO(RuntimeError):
    """A unit test did disk or network I/O."""


_guarding = False
_refused: list[str] = []
_imported: frozenset[str] = frozenset()
"""The files of the modules imported before the running test began."""


def _writes(mode: object, flags: object) -> bool:
    if isinstance(mode, str):
        return any(letter in mode for letter in "wax+")
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def _refusal(event: str, args: tuple[object, ...]) -> str | None:
    """What is wrong with this audit event in a unit test, if anything."""
    if event in _REFUSED_EVENTS:
        return f"{event} {args[1:2] if event.startswith('socket') else args[:2]!r}"
    if event != "open" or not isinstance(args[0], (str, bytes, os.PathLike)):
        return None  # an open of a file descriptor: the file was opened before
    path = os.path.abspath(os.fsdecode(args[0]))  # noqa: PTH100 (no file system call in the hook)
    if any(cache in path for cache in _TOOL_CACHES) or path == os.devnull:
        return None
    mode, flags = args[1], args[2]
    if _writes(mode, flags):
        return f"open {path!r} for writing"
    if path.startswith(_READABLE) or path in _imported:
        return None
    real = os.path.realpath(path)
    if real.startswith(_READABLE):
        return None
    return f"open {path!r}: a file outside the installed packages"


def _audit(event: str, args: tuple[object, ...]) -> None:
    if not _guarding:
        return
    refusal = _refusal(event, args)
    if refusal is not None:
        _refused.append(refusal)
        raise UnitTestIO(f"a unit test does no I/O: {refusal} (move it to tests/functional)")


sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def no_io() -> Iterator[None]:
    """Refuse disk and network I/O for the whole unit test; fail it if any was tried."""
    global _guarding, _imported
    _refused.clear()
    _imported = frozenset(
        os.path.abspath(file)  # noqa: PTH100 (as the hook compares them)
        for module in list(sys.modules.values())
        if isinstance(file := getattr(module, "__file__", None), str)
    )
    _guarding = True
    try:
        yield
    finally:
        _guarding = False
    if _refused:
        refused = "; ".join(dict.fromkeys(_refused))
        pytest.fail(f"a unit test does no disk or network I/O; this one tried: {refused}")


def pytest_runtest_logfinish() -> None:
    """Whatever became of the test, the I/O after it (pytest's own) is allowed."""
    global _guarding
    _guarding = False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport() -> Iterator[None]:
    """pytest reads the test's source to show a failure: its own I/O, not the test's."""
    global _guarding
    guarding, _guarding = _guarding, False
    yield
    _guarding = guarding
