"""The simulators stop an invocation that runs past its processor's timeout, as Lambda does.

Timeouts are 1 s (the least a topology allows) and retries few; the runs take a
processor's second as ``SECOND`` real seconds (``timeouts.TIME_SCALE``), so each case
costs a fraction of a second of waiting. Handlers that must outlast (or not) their
timeout sleep in multiples of ``SECOND``.
"""

from __future__ import annotations

import io
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from attak_cdk.simulate import timeouts
from attak_cdk.simulate.result import SimulationResult, document
from attak_cdk.testing import run_topology
from tests.conftest import REPO, WriteProject

TIMED_OUT = "Task timed out after 1.00 seconds"
SECOND = 0.25
"""Real seconds of a processor's timeout second in these runs."""

SLOW = """
import time

def handler(event, context):
    print("handling", event)
    context.emit("out", event)
    if event == "slow":
        time.sleep(30)
"""


def project(write_project: WriteProject, topology: str, **handlers: str) -> Path:
    files = {f"p/{name}.py": source for name, source in handlers.items()}
    files["p/sink.py"] = "def handler(event, context):\n    pass\n"
    return write_project({**files, "topology.yml": topology})


def consumer(write_project: WriteProject, handler: str, stream: str = "retry_attempts: 0") -> Path:
    """spout -> consumer (timeout 1 s) -> sink; the spout emits its input event's items,
    each keyed by itself: the keys used here fall in distinct key buckets, so each item is
    a Kinesis record of its own and Lambda's rules for separate records apply."""
    return project(
        write_project,
        f"""
        name: timeouts
        processors:
          spout: p/spout.py
          consumer: {{handler: p/consumer.py, timeout: 1}}
          sink: p/sink.py
        streams:
          - {{from: spout, to: consumer, {stream}}}
          - [consumer, sink]
        """,
        spout="def handler(event, context):\n    for item in event:\n        context.emit('out', item, key=item)\n",
        consumer=handler,
    )


def entry(write_project: WriteProject, handler: str) -> Path:
    """entry (invoked directly, timeout 1 s) -> sink."""
    return project(
        write_project,
        """
        name: direct
        processors: {entry: {handler: p/entry.py, timeout: 1}, sink: p/sink.py}
        streams: [[entry, sink]]
        """,
        entry=handler,
    )


def received(result: SimulationResult, processor: str) -> list[Any]:
    return [i.event for i in result.invocations if i.processor == processor and i.ok]


@pytest.fixture(autouse=True)
def short_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A processor's 1 s timeout lasts ``SECOND`` real seconds; its messages say 1 s."""
    monkeypatch.setattr(timeouts, "TIME_SCALE", SECOND)


pytestmark = pytest.mark.usefixtures("no_alarm_left")


def test_a_batch_that_times_out_is_retried_then_dead_lettered_with_its_emits_discarded(
    write_project: WriteProject,
) -> None:
    root = consumer(write_project, SLOW, "retry_attempts: 1, bisect_batch_on_error: false")
    result = run_topology(root, {"spout": ["a", "slow", "b"]})

    assert not result.ok
    # The whole batch failed twice (retry_attempts 1), then every record of it is a dead
    # letter with Lambda's error: nothing is lost.
    assert [(d.event, d.error, d.attempts) for d in result.dead_letters] == [
        ("a", TIMED_OUT, 2),
        ("slow", TIMED_OUT, 2),
        ("b", TIMED_OUT, 2),
    ]
    handled = [(i.event, i.attempt) for i in result.invocations if i.processor == "consumer"]
    assert handled == [("a", 1), ("slow", 1), ("a", 2), ("slow", 2)]  # each event's own count
    # "a" finished, but its emit was still pending when the invocation timed out.
    assert received(result, "sink") == []
    assert "consumer" not in result.emitted
    finished = result.invocations[1]
    assert finished.event == "a" and finished.error is not None
    assert "discarded" in str(finished.error)

    timed_out = result.invocations[2]
    assert str(timed_out.error) == TIMED_OUT
    assert timed_out.logs.splitlines() == [
        "handling slow",
        TIMED_OUT,
        "(attak) discarded with it: the emits of #2",
    ]
    assert 0.9 * SECOND < timed_out.seconds < 4 * SECOND  # cut at its timeout, not 30 s
    invocation = document(result)["invocations"][2]
    assert invocation["error"]["message"] == TIMED_OUT
    assert "time.sleep(30)" in invocation["error"]["traceback"]  # where the handler was stuck
    assert result.summary["consumer"]["errors"] == 4
    # Failed as whole invocations (no summary line in AWS): errors, not failed events.
    assert result.summary["consumer"]["failed"] == 0


def test_bisect_isolates_the_record_that_times_out(write_project: WriteProject) -> None:
    root = consumer(write_project, SLOW)
    result = run_topology(root, {"spout": ["a", "slow"]})

    assert [(d.event, d.error) for d in result.dead_letters] == [("slow", TIMED_OUT)]
    # "a" went through once its half of the batch ran without "slow": delivered once.
    assert received(result, "sink") == ["a"]
    assert result.emitted["consumer"]["out"] == ["a"]


def test_emits_already_sent_when_the_timeout_hits_stay_sent(write_project: WriteProject) -> None:
    # 500 pending emits are sent at once (the runtime's FLUSH_EVERY), as PutRecords would.
    handler = """
import time

def handler(event, context):
    if event == "many":
        for n in range(500):
            context.emit("out", n)
    else:
        time.sleep(30)
"""
    root = consumer(write_project, handler, "retry_attempts: 0, bisect_batch_on_error: false")
    result = run_topology(root, {"spout": ["many", "slow"]})

    assert [d.event for d in result.dead_letters] == ["many", "slow"]
    assert received(result, "sink") == list(range(500))
    assert result.invocations[1].ok  # its emits were sent: it stands


def test_a_busy_loop_is_interrupted(write_project: WriteProject) -> None:
    handler = "def handler(event, context):\n    while True:\n        pass\n"
    result = run_topology(consumer(write_project, handler), {"spout": ["spin"]})
    assert [(d.event, d.error) for d in result.dead_letters] == [("spin", TIMED_OUT)]


def test_a_socket_wait_is_interrupted(write_project: WriteProject) -> None:
    handler = """
import socket

def handler(event, context):
    mine, theirs = socket.socketpair()
    mine.recv(1)  # nothing ever arrives
"""
    result = run_topology(consumer(write_project, handler), {"spout": ["wait"]})
    assert [(d.event, d.error) for d in result.dead_letters] == [("wait", TIMED_OUT)]


def test_a_direct_invocation_that_times_out_is_retried_twice_then_dead_lettered(
    write_project: WriteProject,
) -> None:
    root = entry(write_project, SLOW)
    result = run_topology(root, [("entry", "before"), ("entry", "slow"), ("entry", "after")])

    attempts = [(i.event, i.attempt, i.ok) for i in result.invocations if i.processor == "entry"]
    assert attempts == [
        ("before", 1, True),
        ("slow", 1, False),
        ("slow", 2, False),
        ("slow", 3, False),
        ("after", 1, True),
    ]
    assert [(d.event, d.error, d.attempts) for d in result.dead_letters] == [("slow", TIMED_OUT, 3)]
    # The invocations around it stood alone: their emits were delivered.
    assert received(result, "sink") == ["before", "after"]


def test_catching_exception_cannot_swallow_the_timeout(write_project: WriteProject) -> None:
    handler = """
import time

def handler(event, context):
    try:
        time.sleep(30)
    except Exception:
        context.emit("out", "caught")
"""
    result = run_topology(consumer(write_project, handler), {"spout": ["x"]})
    assert [(d.event, d.error) for d in result.dead_letters] == [("x", TIMED_OUT)]
    assert received(result, "sink") == []


def test_a_handler_that_swallows_the_timeout_still_times_out(write_project: WriteProject) -> None:
    handler = """
import time

def handler(event, context):
    try:
        time.sleep(30)
    except BaseException:
        pass
    context.emit("out", "late")
"""
    result = run_topology(consumer(write_project, handler), {"spout": ["x"]})
    assert [(d.event, d.error) for d in result.dead_letters] == [("x", TIMED_OUT)]
    assert received(result, "sink") == []


def test_handlers_within_their_timeout_are_untouched(write_project: WriteProject) -> None:
    # Three direct invocations of 0.4 s: 1.2 s together, but each has its own second.
    handler = f"import time\n\ndef handler(event, context):\n    time.sleep({0.4 * SECOND})\n    context.emit('out', event)\n"
    result = run_topology(entry(write_project, handler), [("entry", 1), ("entry", 2), ("entry", 3)])
    assert result.ok
    assert received(result, "sink") == [1, 2, 3]


def test_no_timeouts_lets_a_slow_handler_finish(write_project: WriteProject) -> None:
    handler = f"import time\n\ndef handler(event, context):\n    time.sleep({1.2 * SECOND})\n    context.emit('out', event)\n"
    result = run_topology(consumer(write_project, handler), {"spout": ["x"]}, timeouts=False)
    assert result.ok
    assert received(result, "sink") == ["x"]


def test_a_debugger_at_its_prompt_is_not_cut_off_and_has_the_terminal(
    write_project: WriteProject, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # pdb itself, as breakpoint() starts it; the person at the prompt takes longer than
    # the timeout before they continue.
    handler = """
import pdb
import sys

def handler(event, context):
    pdb.Pdb(readrc=False).set_trace(sys._getframe())
    print("continued")
    context.emit("out", event)
"""
    monkeypatch.setattr(
        "sys.stdin", io.StringIO(f"p 6 * 7\nimport time; time.sleep({1.2 * SECOND})\nc\n")
    )
    result = run_topology(consumer(write_project, handler), {"spout": ["x"]})

    assert result.ok
    assert received(result, "sink") == ["x"]
    terminal = capsys.readouterr().out
    assert "(Pdb) 42" in terminal  # the prompt reached the person, not the logs
    (debugged,) = [i for i in result.invocations if i.processor == "consumer"]
    assert debugged.logs == "continued\n"


def test_a_timer_and_handler_installed_before_the_run_are_restored(
    write_project: WriteProject,
) -> None:
    fired: list[int] = []

    def mine(signum: int, frame: FrameType | None) -> None:
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, mine)
    signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        result = run_topology(consumer(write_project, SLOW), {"spout": ["slow"]})
        assert [d.error for d in result.dead_letters] == [TIMED_OUT]
        assert signal.getsignal(signal.SIGALRM) is mine
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 27 < left < 30 - 0.9 * SECOND  # its own 30 s, less the run's second
        assert fired == []
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_an_earlier_timer_that_comes_due_during_the_run_still_fires(
    write_project: WriteProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timeouts, "TIME_SCALE", 1.0)  # real seconds: the outer timer's
    fired: list[float] = []

    def mine(signum: int, frame: FrameType | None) -> None:
        fired.append(time.perf_counter())

    handler = "import time\n\ndef handler(event, context):\n    time.sleep(0.6)\n"
    previous = signal.signal(signal.SIGALRM, mine)
    signal.setitimer(signal.ITIMER_REAL, 0.2)  # as pytest-timeout's signal method would
    try:
        started = time.perf_counter()
        result = run_topology(consumer(write_project, handler), {"spout": ["x"]})
        assert result.ok
        assert len(fired) == 1 and fired[0] - started < 0.5  # on time, not after the run
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_run_in_another_thread_completes_untimed(write_project: WriteProject) -> None:
    handler = f"import time\n\ndef handler(event, context):\n    time.sleep({1.5 * SECOND})\n    context.emit('out', event)\n"
    root = consumer(write_project, handler)
    results: list[SimulationResult] = []
    thread = threading.Thread(target=lambda: results.append(run_topology(root, {"spout": ["x"]})))
    thread.start()
    thread.join(timeout=30)
    (result,) = results
    assert result.ok  # signals reach only the main thread: no timeout there
    assert received(result, "sink") == ["x"]


def test_a_second_ctrl_c_ends_a_run_stuck_in_one_long_c_call(write_project: WriteProject) -> None:
    # One C call: neither the timeout nor the first Ctrl-C can interrupt it (Python runs
    # signal handlers between bytecodes); the second Ctrl-C still ends the run.
    root = write_project(
        {
            "p/busy.py": "def handler(event, context):\n    sum(range(10**12))\n",
            "topology.yml": "name: c\nprocessors: {busy: {handler: p/busy.py, timeout: 1}}\n",
            "input.json": '{"busy": 1}',
        }
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "simulate", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert process.stdout is not None
        assert "simulating" in process.stdout.readline()
        time.sleep(1.5)  # inside the C call by now
        process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    finally:
        process.kill()  # a run that did not end must not outlive the test
    assert time.monotonic() - started < 5
    assert process.returncode != 0
    assert "interrupted again: ending the run now" in stderr
