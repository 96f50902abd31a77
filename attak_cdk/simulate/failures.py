"""Invocations that fail as a whole, in Lambda's words: a timeout, or a handler that ends
the process.

Lambda's runtime reports both as the invocation's error, whatever the handler was doing:
the batch is retried (or the direct invocation), as for any failed invocation. They are
``BaseException``s so that the runtime's handling of a handler's ``Exception`` (retry in
place, dead letter) never sees them: only the engine does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn


class InvocationFailed(BaseException):
    """An invocation that failed as a whole; the message is Lambda's."""


class RuntimeExited(InvocationFailed):
    """The handler ended the process (``sys.exit``, ``os._exit``): Lambda reports
    ``Runtime.ExitError`` and the invocation failed."""


class _ProcessExit(SystemExit):
    """``os._exit`` called by a handler during a run: raised instead of ending attak."""


def runtime_exited(exit: SystemExit) -> RuntimeExited:
    """Lambda's error for a runtime that exited with ``exit``'s status."""
    code = exit.code
    if code is None or code == 0:
        reason = "Runtime exited without providing a reason"
    elif isinstance(code, int):
        reason = f"Runtime exited with error: exit status {code}"
    else:  # sys.exit("message") prints the message and exits with status 1
        reason = f"Runtime exited with error: exit status 1 ({code})"
    return RuntimeExited(f"Runtime.ExitError: {reason}")


def runtime_died(error: BaseException) -> RuntimeExited:
    """Lambda's error for a handler that raised a ``BaseException`` other than
    ``SystemExit``: past the runtime's ``except Exception``, it ends the process as an
    uncaught exception does (exit status 1)."""
    return RuntimeExited(
        "Runtime.ExitError: Runtime exited with error: exit status 1 "
        f"(the handler raised {type(error).__name__}: {error}, which is not an Exception)"
    )


@contextmanager
def process_exits_caught() -> Iterator[None]:
    """While a run lasts, ``os._exit`` in a handler ends its invocation, not attak: in
    Lambda it ends the runtime's process, which fails the invocation."""
    real: Callable[[int], NoReturn] = os._exit

    def _exit(status: int) -> NoReturn:
        raise _ProcessExit(status)

    setattr(os, "_exit", _exit)  # noqa: B010 (assigning os._exit directly does not type-check)
    try:
        yield
    finally:
        setattr(os, "_exit", real)  # noqa: B010
