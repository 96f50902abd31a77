"""A second Ctrl-C ends a run at once, even while a handler is inside one long C call.

Python runs signal handlers between bytecodes, so a handler stuck in a single C call (a
huge ``sum(range(...))``, a regex, a blocking extension call) holds off
``KeyboardInterrupt`` and the processor's timeout alike until the call returns, and it
holds the GIL, so no thread of the process can act either. The C part of Python's signal
handling still writes each signal's number to the wakeup file descriptor at once: a
small forked watcher process reads it and, on the second SIGINT of a run, says so and
ends the run's process (SIGKILL: nothing else reaches a process stuck in C). The first
Ctrl-C is Python's usual ``KeyboardInterrupt``, which ends the run cleanly whenever the
handler lets it.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_EXIT = os._exit
"""Bound at import: during a run a handler's ``os._exit`` is caught (``failures.py``), and
the watcher must really end."""


@contextmanager
def second_interrupt_ends_the_process() -> Iterator[None]:
    """For the length of a run of ``attak simulate`` at a terminal, in the main thread of
    a POSIX process, when nothing else owns the wakeup descriptor. (The UI stops a run by
    ending its worker process; a library caller handles its own signals.)"""
    if (
        threading.current_thread() is not threading.main_thread()
        or not hasattr(os, "fork")
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    read, write = os.pipe()
    os.set_blocking(write, False)
    try:
        previous = signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    except ValueError:
        previous = None
    if previous != -1:  # not ours to take: give it back and do without
        if previous is not None:
            signal.set_wakeup_fd(previous)
        os.close(read)
        os.close(write)
        yield
        return
    parent = os.getpid()
    watcher = os.fork()
    if watcher == 0:  # the watcher: reads signal numbers until the run's end closes the pipe
        try:
            os.close(write)
            _watch(read, parent)
        finally:
            _EXIT(0)  # whatever happens, the watcher never runs its parent's code
    os.close(read)
    try:
        yield
    finally:
        signal.set_wakeup_fd(-1)
        os.close(write)  # the watcher reads the end of the pipe and exits
        os.waitpid(watcher, 0)


def _watch(read: int, parent: int) -> None:
    # Ctrl-C reaches the whole foreground process group: the watcher must outlive it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.set_wakeup_fd(-1)
    seen = 0
    while data := os.read(read, 64):
        seen += data.count(signal.SIGINT)
        if seen >= 2:
            os.write(2, b"\ninterrupted again: ending the run now\n")
            os.kill(parent, signal.SIGKILL)
            return
