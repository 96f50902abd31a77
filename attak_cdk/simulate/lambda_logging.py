"""What ``logging`` in a handler writes during a run: what Lambda's Python runtime logs.

In Lambda the runtime puts a handler on the root logger, so the usual
``logging.getLogger().info(...)`` reaches the function's log. With the JSON log format the
stack configures, the root logger's level is the function's application log level, INFO
by default, and records below it are dropped
(https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html). A run does the same
for its duration: records go to the invocation's log as ``[LEVEL] message`` lines (the
content of Lambda's JSON lines, without their timestamp and request id, so a run
repeats to the byte), and the logging setup is given back as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Writable(Protocol):
    def write(self, text: str, /) -> int: ...


APPLICATION_LOG_LEVEL = logging.INFO
"""Lambda's default application log level with the JSON log format."""


class _InvocationLog(logging.Handler):
    """Writes each record to the stream the engine collects an invocation's output in."""

    def __init__(self, stream: Writable) -> None:
        super().__init__(APPLICATION_LOG_LEVEL)
        self.stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            where = "" if record.name == "root" else f"{record.name}: "
            self.stream.write(f"[{record.levelname}] {where}{message}\n")
        except Exception:  # a broken log call must not fail the handler, as in logging
            self.handleError(record)


@contextmanager
def lambda_logging(stream: Writable) -> Iterator[None]:
    """Install Lambda's root handler (writing to ``stream``) for the length of a run."""
    root = logging.getLogger()
    handler = _InvocationLog(stream)
    level = root.level
    if level == logging.NOTSET or level > APPLICATION_LOG_LEVEL:
        root.setLevel(APPLICATION_LOG_LEVEL)
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
