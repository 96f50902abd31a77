"""What `attak deploy` shows of the cdk CLI's output: all of it, the manifest summarised.

After a deploy, cdk prints every stack output, one line each. attak's ``Manifest`` output
(the JSON `attak trigger`, `logs` and `dead-letters` read to find functions and streams)
is one line of kilobytes there, longer the larger the topology: it is shown as a summary
(``attak-example.Manifest = attak's manifest: 2 processors, 1 stream``). Every other byte
passes through as cdk wrote it.

cdk draws its progress bar and colours only when its stderr is a terminal, so when
attak's is one, cdk writes into a pseudo-terminal of the same size and attak copies what
comes out; otherwise into a pipe. A line is held back only until it ends, or until cdk
pauses (a prompt, a progress bar redrawn in place), so nothing waits on the summary.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import BinaryIO

from .manifest import OUTPUT_KEY

PAUSE_SECONDS = 0.1
"""How long a line without its end waits for the rest before it is shown as it is."""

_RESET = b"\x1b[0m"
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
_MANIFEST_LINE = re.compile(rb"^(?P<head>.*?(?P<stack>[\w-]+)\." + OUTPUT_KEY.encode() + rb" = )\{")


def summarise_line(line: bytes) -> bytes:
    """``line`` itself, or when it is cdk's line of a ``Manifest`` output, its summary
    (the line's colour codes and end kept)."""
    plain = _ANSI.sub(b"", line)
    found = _MANIFEST_LINE.match(plain)
    if found is None:
        return line
    body = plain[found.end() - 1 :].rstrip(b"\r\n")
    ending = line[len(line.rstrip(b"\r\n")) :]
    if plain == line:
        return found.group("head") + _summary(body).encode() + ending
    # Coloured: the stack and key as cdk coloured them, the summary plain.
    head = line[: line.index(b" = ") + 3]
    return head + _RESET + _summary(body).encode() + ending


def _summary(body: bytes) -> str:
    try:
        document = json.loads(body)
        processors, streams = len(document["processors"]), len(document.get("streams", {}))
    except (ValueError, KeyError, TypeError):
        return f"attak's manifest ({len(body):,} bytes)"
    part = f", part {document['part']} of {document['parts']}" if "parts" in document else ""
    return (
        f"attak's manifest: {processors} processor{'s' * (processors != 1)}, "
        f"{streams} stream{'s' * (streams != 1)}{part} (read by attak trigger, logs and "
        "dead-letters)"
    )


class LineFilter:
    """Bytes in, bytes out: whole lines through ``summarise_line``; a partial line held
    until its end arrives or ``flush`` is called (cdk paused)."""

    def __init__(self, write: Callable[[bytes], None]) -> None:
        self._write = write
        self._pending = b""

    def feed(self, data: bytes) -> None:
        lines = (self._pending + data).split(b"\n")
        self._pending = lines.pop()
        if lines:
            self._write(b"".join(summarise_line(line + b"\n") for line in lines))

    def flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, b""
            self._write(summarise_line(pending))


def run_summarised(
    command: Sequence[str], environment: dict[str, str], target: BinaryIO | None = None
) -> int:
    """Run ``command`` with its stderr (where cdk writes) filtered onto ``target`` (our
    stderr); its exit code."""
    if target is None:
        target = getattr(sys.stderr, "buffer", None)
    if target is None or os.name == "nt":
        # A stderr without bytes (a test runner's capture), or no select() on pipes: as is.
        return subprocess.run(command, env=environment, check=False).returncode

    def write(data: bytes) -> None:
        target.write(data)
        target.flush()

    lines = LineFilter(write)
    terminal = _pseudo_terminal(target)
    if terminal is None:
        process = subprocess.Popen(command, env=environment, stderr=subprocess.PIPE)
        assert process.stderr is not None
        reading = process.stderr.fileno()
    else:
        reading, writing = terminal
        process = subprocess.Popen(command, env=environment, stderr=writing)
        os.close(writing)  # cdk holds its end; ours is read until cdk closes it
    try:
        _copy(reading, lines)
    finally:
        lines.flush()
        if terminal is not None:
            os.close(reading)
        elif process.stderr is not None:
            process.stderr.close()
    return process.wait()


def _copy(reading: int, lines: LineFilter) -> None:
    while True:
        ready, _, _ = select.select([reading], [], [], PAUSE_SECONDS)
        if not ready:
            lines.flush()
            continue
        try:
            data = os.read(reading, 65536)
        except OSError:  # a pseudo-terminal whose other end closed: the end of output
            return
        if not data:
            return
        lines.feed(data)


def _pseudo_terminal(target: BinaryIO) -> tuple[int, int] | None:
    """A pseudo-terminal the size of ``target``'s terminal (its two ends), or None when
    ``target`` is not a terminal or the platform has none."""
    try:
        if not os.isatty(target.fileno()):
            return None
        import fcntl
        import pty
        import termios
    except (ImportError, OSError, ValueError):
        return None
    reading, writing = pty.openpty()
    with contextlib.suppress(OSError, termios.error):
        # Bytes through as cdk writes them: no "\n" -> "\r\n", which our terminal adds.
        modes = termios.tcgetattr(writing)
        modes[1] &= ~termios.ONLCR
        termios.tcsetattr(writing, termios.TCSANOW, modes)
    with contextlib.suppress(OSError):
        size = fcntl.ioctl(target.fileno(), termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(writing, termios.TIOCSWINSZ, size)
    return reading, writing
