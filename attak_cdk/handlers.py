"""Imports user code (processor handlers, Python topologies) and explains its failures.

User modules are imported from their file with their folder on ``sys.path``, as they are in
their Lambda asset, so a handler can import its neighbours. A failure is described by the
user's own file and line, never by attak's frames.

A handler file is imported once, and again when it has changed on disk (its modification
time or size), so a long-lived process such as ``attak ui`` sees the user's edits. Modules
the handler imports itself are Python's to cache, as usual.

A processor's environment variables are set while its module is imported (``load_handler``)
and while it runs (``environment``, around an invocation; ``with_environment``, around
each call), as Lambda sets them for its function: the processors of a local run share one
process, so each sees its own values and not another's.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.machinery
import importlib.util
import inspect
import io
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Coroutine, Iterator, Mapping
from pathlib import Path
from stat import S_ISREG
from types import CodeType, ModuleType
from typing import Any

from .errors import AttakError
from .model import Processor

Handler = Callable[[Any, Any], Any]

_modules: dict[Path, tuple[ModuleType, tuple[int, int, tuple[tuple[str, str], ...]]]] = {}
"""Each handler file's module, with the file's (modification time, size) and the
variables set when it was imported: a change to either imports it again."""
_printed: dict[Path, str] = {}
"""What each handler file printed as it was imported (its init log in Lambda)."""


class HandlerError(AttakError):
    """A processor's handler cannot be imported or is not a usable function."""


class _SourceLoader(importlib.machinery.SourceFileLoader):
    """Compiles the file itself, never a ``__pycache__`` copy: that cache is checked against
    the file's modification time in whole seconds, so an edit that keeps the size, saved
    within the second, would run the old code."""

    def get_code(self, fullname: str) -> CodeType:
        return self.source_to_code(self.get_data(self.path), self.path)


def import_file(file: Path, module_name: str) -> ModuleType:
    """Execute a Python file as a module named ``module_name`` and return it."""
    spec = importlib.util.spec_from_file_location(
        module_name, file, loader=_SourceLoader(module_name, str(file))
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"{file} is not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def describe_exception(exc: BaseException, file: Path) -> str:
    """One line naming the exception and where in the user's file it happened."""
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename or file}, line {exc.lineno}"
        return f"{where}: SyntaxError: {exc.msg}"
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == file:
            line = frame.lineno
    where = f"{file}, line {line}" if line else str(file)
    return f"{where}: {type(exc).__name__}: {exc}"


INIT_SECONDS = 10
"""Lambda's init phase limit: importing the handler's module must end within it."""


class InitTimedOut(BaseException):
    """A handler module still importing when Lambda's init phase would have ended."""


@contextlib.contextmanager
def _init_phase(file: Path) -> Iterator[None]:
    """Bound an import as Lambda bounds its init phase: 10 s. Past it, Lambda retries the
    init inside the first invocation under the function's timeout, which then times out
    ("Understanding the Lambda execution environment lifecycle", Lambda developer guide):
    the handler can never run, so attak says so instead of waiting. Bounded with SIGALRM:
    only in the main thread, on POSIX; elsewhere the import is not timed."""
    timed = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not timed:
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise InitTimedOut(
            f"importing the handler {file} did not finish within Lambda's {INIT_SECONDS} s "
            "init phase (in AWS its first invocation would retry it and time out): move "
            "slow work out of the module's top level, into the handler or a lazy helper"
        )

    previous = signal.signal(signal.SIGALRM, expire)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, INIT_SECONDS)
    started = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # an outer timer was running: give it back what is left of it
            left = outer - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6))


def printed_at_import(processor: Processor) -> str:
    """What the processor's module printed when it was last imported."""
    return _printed.get(processor.file, "")


@contextlib.contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Set ``variables`` in ``os.environ`` for the duration, then put back what was there."""
    if not variables:
        yield
        return
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def with_environment(handler: Handler, variables: Mapping[str, str]) -> Handler:
    """``handler`` running with ``variables`` set (an ``async def`` one while it is
    awaited); ``handler`` itself when there are none, so a run without pays nothing."""
    if not variables:
        return handler

    async def awaited(coroutine: Coroutine[Any, Any, Any]) -> Any:
        with environment(variables):
            return await coroutine

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        with environment(variables):
            result = handler(event, context)
        if isinstance(result, Coroutine):
            return awaited(result)
        return result

    return run


def load_handler(processor: Processor, variables: Mapping[str, str] | None = None) -> Handler:
    """Import the processor's module (again if its file, or the ``variables`` set in the
    environment while it is imported, changed since) and return its handler function:
    code at a module's top level may read its variables."""
    file = processor.file
    try:
        # Read before the import: an edit made during it is seen by the next call.
        info = file.stat()
    except OSError:
        info = None
    if info is None or not S_ISREG(info.st_mode):
        raise HandlerError(f"handler file {file} not found")
    version = (info.st_mtime_ns, info.st_size, tuple(sorted((variables or {}).items())))
    known = _modules.get(file)
    if known is not None and known[1] == version:
        module = known[0]
    else:
        # A new import replaces the old module under the same name.
        name = known[0].__name__ if known else f"attak_processor_{file.stem}_{len(_modules)}"
        folder = str(file.parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        output = io.StringIO()
        try:
            # Output at import time is the function's init log in Lambda; it must never
            # mix with attak's own output (a `--json` document, for one).
            with (
                contextlib.redirect_stdout(output),
                contextlib.redirect_stderr(output),
                environment(variables or {}),
                _init_phase(file),
            ):
                module = import_file(file, name)
        except InitTimedOut as exc:
            raise HandlerError(str(exc)) from None
        except BaseException as exc:
            # A user module calling sys.exit() or raising KeyboardInterrupt at import time
            # is still a broken handler, not a reason to stop attak.
            raise HandlerError(
                f"importing the handler failed: {describe_exception(exc, file)}"
            ) from exc
        _modules[file] = module, version
        _printed[file] = output.getvalue()
    function = getattr(module, processor.function, None)
    if function is None:
        public = sorted(
            n
            for n, v in vars(module).items()
            if callable(v)
            and not n.startswith("_")
            and getattr(v, "__module__", None) == module.__name__
        )
        choices = f" (functions in the file: {', '.join(public)})" if public else ""
        raise HandlerError(
            f"{file} has no function '{processor.function}'{choices}; define "
            f"`def {processor.function}(event, context):` or name another with "
            f"'{file.name}:other_function'"
        )
    if not callable(function):
        raise HandlerError(
            f"'{processor.function}' in {file} is a {type(function).__name__}, not a function"
        )
    try:
        inspect.signature(function).bind(None, None)
    except TypeError:
        raise HandlerError(
            f"'{processor.function}' in {file} must accept two arguments (event, context)"
        ) from None
    except ValueError:
        pass  # builtins without a signature: let the call itself decide
    return function  # type: ignore[no-any-return]
