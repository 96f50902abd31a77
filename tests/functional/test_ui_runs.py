"""The UI's runs as worker processes: stopped when the page goes away, side by side, and a
worker's death reported on the page."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from attak_cdk.inputs import InputEvent
from attak_cdk.project import load_topology
from attak_cdk.ui.app import create_app
from attak_cdk.ui.run import read_editor_input, run_events
from attak_cdk.ui.server import listen
from attak_cdk.ui.worker import request
from tests.conftest import REPO, SAMPLE, WriteProject
from tests.functional.test_ui_api import SAMPLE_INPUT, parse_events

HANG = """
import os, time
from pathlib import Path

def handler(event, context):
    Path(event).write_text(str(os.getpid()))
    time.sleep(10**9)
"""

MEET = """
import time
from pathlib import Path

def handler(event, context):
    Path(event["me"]).touch()
    deadline = time.monotonic() + 20
    while not Path(event["other"]).exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the other run never ran alongside this one")
        time.sleep(0.01)
    print("I am", Path(event["me"]).name)
"""


def one_processor(write_project: WriteProject, source: str) -> Path:
    return write_project(
        {"p/step.py": source, "topology.yml": "name: t\nprocessors: {step: p/step.py}\n"}
    )


async def collect(run: AsyncIterator[str]) -> list[tuple[str, Any]]:
    return parse_events("".join([text async for text in run]))


def run_to_end(root: Path, data: Any) -> list[tuple[str, Any]]:
    return asyncio.run(collect(run_events(load_topology(root), [InputEvent("step", data, "")])))


def wait_for_pid(file: Path) -> int:
    """The pid a handler wrote to ``file`` once it started."""
    deadline = time.monotonic() + 20
    while not file.exists() or not file.read_text():
        assert time.monotonic() < deadline, "the handler never started"
        time.sleep(0.02)
    return int(file.read_text())


def gone(pid: int, within: float) -> bool:
    """Whether process ``pid`` has ended and been reaped (a zombie still answers) in time."""
    deadline = time.monotonic() + within
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


@pytest.mark.parametrize("ignores_sigterm", [False, True])
def test_a_hung_run_is_stopped_when_its_reader_goes_away_and_the_next_run_works(
    write_project: WriteProject, tmp_path: Path, ignores_sigterm: bool
) -> None:
    source = HANG
    if ignores_sigterm:
        source = source.replace(
            "    time.sleep", "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n    time.sleep"
        )
        source = "import signal\n" + source
    root = one_processor(write_project, source)
    pid_file = tmp_path / "pid"

    async def hang_then_run_again() -> tuple[int, float, list[tuple[str, Any]]]:
        run = run_events(load_topology(root), [InputEvent("step", str(pid_file), "")])
        assert (await anext(run)).startswith("event: start\n")
        pid = await asyncio.to_thread(wait_for_pid, pid_file)
        started = time.monotonic()
        await run.aclose()
        seconds = time.monotonic() - started
        sample = load_topology(SAMPLE)
        after = await collect(run_events(sample, read_editor_input(SAMPLE_INPUT, sample)))
        return pid, seconds, after

    pid, seconds, after = asyncio.run(hang_then_run_again())
    assert gone(pid, within=0.5)
    assert seconds < 2.5
    assert [kind for kind, _ in after] == ["start", "invocation", "invocation", "end"]
    assert after[-1][1]["ok"]


def test_two_runs_at_once_each_complete_with_their_own_logs(
    write_project: WriteProject, tmp_path: Path
) -> None:
    root = one_processor(write_project, MEET)
    a, b = tmp_path / "a", tmp_path / "b"

    async def both() -> list[list[tuple[str, Any]]]:
        model = load_topology(root)
        runs = [
            collect(
                run_events(model, [InputEvent("step", {"me": str(me), "other": str(other)}, "")])
            )
            for me, other in ((a, b), (b, a))
        ]
        return await asyncio.gather(*runs)

    for name, events in zip("ab", asyncio.run(both()), strict=True):
        assert [kind for kind, _ in events] == ["start", "invocation", "end"]
        assert events[1][1]["error"] is None
        assert events[1][1]["logs"] == f"I am {name}\n"


def test_a_worker_that_dies_is_a_failed_event_saying_how(write_project: WriteProject) -> None:
    death = "os.write(2, b'last words\\n'); os.kill(os.getpid(), signal.SIGKILL)"
    root = one_processor(
        write_project, f"import os, signal\n\ndef handler(event, context):\n    {death}\n"
    )
    events = run_to_end(root, 1)
    assert [kind for kind, _ in events] == ["start", "failed"]
    message = events[-1][1]["message"]
    assert "the run stopped: its process was killed by SIGKILL before the run ended" in message
    assert message.endswith("the last lines it wrote to stderr:\nlast words")


def test_a_handler_that_ends_the_process_fails_its_invocation_as_in_lambda(
    write_project: WriteProject,
) -> None:
    root = one_processor(
        write_project, "import os\n\ndef handler(event, context):\n    os._exit(3)\n"
    )
    events = run_to_end(root, 1)
    assert events[0][0] == "start" and events[-1][0] == "end"
    errors = {e[1]["error"]["message"] for e in events if e[0] == "invocation"}
    assert errors == {"Runtime.ExitError: Runtime exited with error: exit status 3"}


def test_a_topology_broken_since_the_page_checked_it_is_a_failed_run(
    write_project: WriteProject,
) -> None:
    root = one_processor(write_project, "def handler(event, context):\n    pass\n")
    model = load_topology(root)
    (root / "topology.yml").write_text("name: t\nprocessors: {step: p/gone.py}\n")
    events = asyncio.run(collect(run_events(model, [InputEvent("step", 1, "")])))
    assert [kind for kind, _ in events] == ["failed"]
    assert "handler file not found" in events[0][1]["message"]


def test_a_run_imports_neither_aws_cdk_nor_the_web_server(tmp_path: Path) -> None:
    model = load_topology(SAMPLE)
    line = request(str(model.file), read_editor_input(SAMPLE_INPUT, model), None, 0)
    with (
        (tmp_path / "stderr").open("w+") as stderr,
        # Not communicate(): a worker whose stdin closes ends at once.
        subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "attak_cdk.ui.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=REPO,
        ) as worker,
    ):
        assert worker.stdin and worker.stdout
        worker.stdin.write(line)
        worker.stdin.flush()
        out = worker.stdout.read().decode()
        assert worker.wait(timeout=20) == 0
        stderr.seek(0)
        imported = {
            row.rpartition("|")[2].strip() for row in stderr if row.startswith("import time:")
        }
    assert [kind for kind, _ in parse_events(out)][-1] == "end"
    assert "attak_cdk.simulate.memory" in imported
    heavy = ("aws_cdk", "jsii", "starlette", "uvicorn", "asyncio")
    assert sorted(m for m in imported if m.split(".")[0] in heavy) == []


@pytest.fixture
def served(write_project: WriteProject) -> Iterator[tuple[int, Path]]:
    """A hung topology served by uvicorn in this process: (port, topology folder)."""
    root = one_processor(write_project, HANG)
    sock = listen(None)
    config = uvicorn.Config(create_app(root), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        time.sleep(0.01)
    yield sock.getsockname()[1], root
    server.should_exit = True
    thread.join(10)
    sock.close()


def test_the_page_closing_its_connection_stops_the_run(
    served: tuple[int, Path], tmp_path: Path
) -> None:
    port, _ = served
    pid_file = tmp_path / "pid"
    page = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    body = json.dumps({"input": json.dumps({"step": str(pid_file)})})
    page.request("POST", "/api/run", body, {"Content-Type": "application/json"})
    response = page.getresponse()
    assert response.status == 200
    assert response.readline() == b"event: start\n"
    pid = wait_for_pid(pid_file)
    page.close()  # what the browser does when the page aborts the fetch
    assert gone(pid, within=3)
