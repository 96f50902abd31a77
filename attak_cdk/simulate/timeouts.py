"""Each invocation runs under its processor's timeout, as it does in Lambda.

In AWS an invocation (one batch from a stream, one direct invoke) that runs past its
function's timeout is stopped: "Task timed out after 3.00 seconds" in its log, and the
invocation counts as an error, so the event source retries the whole batch and an
asynchronous invoke is retried twice. A local run does the same: a handler that waits on
something unreachable fails as it would in Lambda instead of hanging the run.

How: ``setitimer(ITIMER_REAL)`` is armed once per invocation (not per record, so
throughput is unaffected) and the SIGALRM handler raises ``TaskTimedOut`` in the
handler's code. ``TaskTimedOut`` derives from ``BaseException``: neither a handler's
``except Exception`` nor the runtime's per-record one takes it, so it unwinds to the
engine, which fails the invocation as a whole. A signal stops ``time.sleep``, socket and
lock waits and busy loops alike (PEP 475: an interrupted call runs the signal handler and
raises what it raises).

- The exception is raised only while the user's handler runs. A signal that lands in
  attak's own code (the runtime's decode and flush, the engine's recording) comes back
  50 ms later, so no state of the run is ever torn; a handler that returns after its
  deadline (it swallowed the exception with a bare ``except:``) is failed as it returns.
- While a debugger is active (pdb and its kin, debugpy) nothing is raised and that
  invocation runs on untimed: a person at the prompt is not cut off.
- A SIGALRM handler and timer set before the run (pytest-timeout's) are put back after it,
  and if that timer comes due during the run its handler is called then.

Signals reach only the main thread, and Windows has no ``setitimer``: a run anywhere
else is not timed (``Timer.active`` stays false).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from ..runtime.handler import Runner
from .failures import InvocationFailed

TIMED_OUT = "Task timed out after"
REFIRE = 0.05
"""Seconds until a timed-out invocation is interrupted again (its handler was in attak's
own code, or swallowed the exception)."""
TIME_SCALE = 1.0
"""Real seconds a processor's timeout second lasts: always 1 in a run; tests of timeouts
shrink it, so a 1-second timeout (the least a topology allows) hits in a fraction of one.
Messages keep the processor's own figure, as Lambda's."""
_SOON = 1e-6
_PROCESS = Runner.process.__code__
_ATTAK = str(Path(__file__).parent.parent) + os.sep
"""The package's folder, as its code objects name it: frames from files in it are attak's."""


class TaskTimedOut(InvocationFailed):
    """An invocation ran past its processor's timeout; the message is Lambda's."""


def timed_out(seconds: float) -> str:
    """Lambda's words for an invocation that ran out of time."""
    return f"{TIMED_OUT} {seconds:.2f} seconds"


def debugging() -> bool:
    """Whether a debugger is active in this thread: pdb and its kin (ipdb, pudb: all
    ``bdb.Bdb``), debugpy/pydevd, or any debugger registered with ``sys.monitoring``.
    Coverage and profilers trace too, but are not debuggers."""
    trace = sys.gettrace()
    if trace is not None:
        owner = getattr(trace, "__self__", trace)
        bdb = sys.modules.get("bdb")
        if bdb is not None and isinstance(owner, bdb.Bdb):
            return True
        if "pydevd" in (getattr(trace, "__module__", None) or type(owner).__module__):
            return True
    monitoring: Any = getattr(sys, "monitoring", None)  # Python 3.12+
    return monitoring is not None and monitoring.get_tool(monitoring.DEBUGGER_ID) is not None


def in_handler(frame: FrameType | None) -> bool:
    """Whether ``frame`` runs inside the user's handler: the frame that ``Runner.process``
    called is not attak's own (decode, the engine's observer, flush)."""
    child = None
    while frame is not None:
        if frame.f_code is _PROCESS:
            return child is not None and not child.f_code.co_filename.startswith(_ATTAK)
        child, frame = frame, frame.f_back
    return False


class Timer:
    """SIGALRM around the invocations of one run: ``install``, then ``arm`` and ``disarm``
    around each invocation, then ``restore``.

    ``each`` invocations are a run of direct invokes handed to ``Runner.process`` together:
    each record is an invocation of its own, so its deadline counts from ``started``,
    which the engine sets as each record begins; otherwise the deadline counts from
    ``arm``.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.active = False
        """Invocations are timed: enabled, and the run is in the main thread on POSIX."""
        self.overdue = False
        """The armed invocation is past its deadline (the engine fails it at the next record
        boundary if the handler did not let the exception through)."""
        self.raised: TaskTimedOut | None = None
        """The first exception raised in the handler, for where it was when time ran out."""
        self.seconds = 0
        self.scale = TIME_SCALE
        """Real seconds per timeout second, read when the run starts (``TIME_SCALE``)."""
        self.began = 0.0
        self.started = 0.0
        """When the record now running began (``time.perf_counter``): set by ``arm``, and
        by the engine as each record of an ``each`` run begins."""
        self._armed = False
        self.each = False
        self._previous: Any = signal.SIG_DFL
        self._outer_due: float | None = None
        self._outer_interval = 0.0

    def install(self) -> None:
        """Take SIGALRM for the run, keeping the handler and timer that held it."""
        if not (
            self.enabled
            and hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread()
        ):
            return
        try:
            self._previous = signal.signal(signal.SIGALRM, self._alarm)
        except ValueError:  # the main thread of a subinterpreter
            return
        left, self._outer_interval = signal.setitimer(signal.ITIMER_REAL, 0)
        self._outer_due = time.perf_counter() + left if left else None
        self.active = True

    def restore(self) -> None:
        """Give SIGALRM back: the earlier handler, and its timer with the time it has left."""
        if not self.active:
            return
        self.active = self._armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        previous = self._previous
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
        if self._outer_due is not None:
            left = max(self._outer_due - time.perf_counter(), _SOON)
            signal.setitimer(signal.ITIMER_REAL, left, self._outer_interval)

    def arm(self, seconds: int, *, each: bool = False) -> None:
        """An invocation with a timeout of ``seconds`` starts now."""
        self.seconds, self.each = seconds, each
        self.began = self.started = time.perf_counter()
        self.overdue, self.raised, self._armed = False, None, True
        self._set(seconds * self.scale)

    def disarm(self) -> None:
        """The invocation ended (or failed): no more alarms for it."""
        self._armed = self.overdue = False
        self._set(None)

    def expired(self) -> TaskTimedOut:
        """The exception that fails the invocation: the one the handler swallowed, if any."""
        return self.raised or TaskTimedOut(timed_out(self.seconds))

    def _set(self, delay: float | None) -> None:
        """The next alarm in ``delay`` seconds (``None``: none), or sooner if the earlier
        timer comes due first."""
        if self._outer_due is not None:
            left = max(self._outer_due - time.perf_counter(), _SOON)
            delay = left if delay is None else min(delay, left)
        signal.setitimer(signal.ITIMER_REAL, 0.0 if delay is None else max(delay, _SOON))

    def _alarm(self, signum: int, frame: FrameType | None) -> None:
        now = time.perf_counter()
        if self._outer_due is not None and now >= self._outer_due:
            interval = self._outer_interval
            self._outer_due = now + interval if interval else None
            if callable(self._previous):
                self._previous(signum, frame)  # may raise: pytest-timeout fails the test
        if not self._armed:
            self._set(None)
            return
        deadline = (self.started if self.each else self.began) + self.seconds * self.scale
        if now < deadline:  # a later record of an ``each`` run: its own time is not up
            self._set(deadline - now)
            return
        if debugging():
            self._armed = False  # a person is at the prompt: this invocation runs untimed
            self._set(None)
            return
        self.overdue = True
        self._set(REFIRE)
        if in_handler(frame):
            error = TaskTimedOut(timed_out(self.seconds))
            if self.raised is None:
                self.raised = error
            raise error
