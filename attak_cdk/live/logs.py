"""``attak logs``: the CloudWatch Logs of a deployed topology's processors, interleaved.

Each processor's log group comes from the manifest. Lines of all (or some) processors are
read with FilterLogEvents and merged by time; ``LogFollower`` polls for new ones.

The runtime (``runtime/logs.py``) writes JSON lines of its own: a summary line per
invocation (``{"attak": "batch", "records", "events", "errors", "emits", ...}``), and for
the records of sampled traces and of errors a record line after the handler ran
(``{"attak": "record", "processor", "trace", "topic", "outcome", ...}``), a sampled
record's preceded by a start line (``{"attak": "start", "trace"}``). ``TraceFilter``
follows one trace with them: a record line of that trace is kept with the lines its
handler printed (those after its start line; without one, those since the previous
attak line or Lambda line in the same log stream) and, when the record failed, the error
lines Lambda wrote after it. Start lines only delimit: they are never shown.

Lambda's own lines are read in either log format: text (``START RequestId: ...``) or JSON
(``{"time", "type": "platform.start", "record"}``), which the stack sets; printed lines
(the runtime's, a handler's ``print``) read the same in both.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..errors import UsageError
from .connection import error_code, with_backoff
from .deployment import Deployment

DEFAULT_SINCE = "10m"
LAMBDA_MARKERS = ("START RequestId:", "END RequestId:", "REPORT RequestId:", "INIT_START")
"""Lines Lambda itself writes around each invocation in the text log format: they close
a record's lines."""
PLATFORM_EVENT = "platform."
"""The ``type`` of Lambda's own lines in the JSON log format (``platform.start``,
``platform.report``, ...): https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html"""
CALLS_PER_SECOND = 4.0
"""FilterLogEvents allows 5 calls a second per account and region; followers stay under."""
LATE_MS = 30_000
"""How far back a follower looks again for lines CloudWatch made readable late."""

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class LogLine:
    """One log event of one processor."""

    processor: str
    timestamp: int
    """Milliseconds since the epoch."""
    message: str
    stream: str
    """The CloudWatch log stream (one per Lambda execution environment)."""
    event_id: str
    record: dict[str, Any] | None = None
    """The runtime's structured record line, parsed; None for any other line."""
    summary: dict[str, Any] | None = None
    """The runtime's summary line of an invocation, parsed; None for any other line."""
    start: str | None = None
    """The trace of the runtime's start line (a logged record's handler output follows)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "processor": self.processor,
            "timestamp": self.timestamp,
            "time": datetime.fromtimestamp(self.timestamp / 1000, UTC).isoformat(),
            "message": self.message,
            "stream": self.stream,
            "record": self.record,
            "summary": self.summary,
        }


def parse_since(text: str, now: float | None = None, option: str = "--since") -> int:
    """``10m``, ``2h``, ``1d``, ``90s`` (ago) or an ISO 8601 time -> epoch milliseconds;
    ``option`` names the option given in the message for anything else."""
    now = time.time() if now is None else now
    match = _DURATION.fullmatch(text.strip())
    if match:
        return int((now - float(match.group(1)) * _SECONDS[match.group(2)]) * 1000)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{option} must be a duration such as 30s, 10m, 2h, 1d, or a time such as "
            f"2024-05-01T12:00:00 (given '{text}')"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a time without zone is the user's local time
    return int(moment.timestamp() * 1000)


def attak_line(message: str) -> dict[str, Any] | None:
    """The runtime's own line (``attak``: ``record``, ``batch`` or ``start``), parsed, if
    ``message`` is one."""
    text = message.strip()
    if not text.startswith('{"attak"'):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) and isinstance(value.get("attak"), str) else None


def record_of(message: str) -> dict[str, Any] | None:
    """The runtime's structured record line, if ``message`` is one."""
    value = attak_line(message)
    return value if value is not None and value["attak"] == "record" else None


def is_lambda_line(message: str) -> bool:
    """A line Lambda itself wrote around an invocation, in the text or JSON log format."""
    if message.startswith(LAMBDA_MARKERS):
        return True
    if not message.startswith("{") or PLATFORM_EVENT not in message:
        return False
    try:
        value = json.loads(message)
    except ValueError:
        return False
    kind = value.get("type") if isinstance(value, dict) else None
    return isinstance(kind, str) and kind.startswith(PLATFORM_EVENT)


def log_line(processor: str, timestamp: int, message: str, stream: str, event_id: str) -> LogLine:
    """A log event, with the runtime's own line parsed when it is one."""
    own = attak_line(message)
    kind = own["attak"] if own is not None else None
    return LogLine(
        processor=processor,
        timestamp=timestamp,
        message=message,
        stream=stream,
        event_id=event_id,
        record=own if kind == "record" else None,
        summary=own if kind == "batch" else None,
        start=str(own.get("trace")) if own is not None and kind == "start" else None,
    )


def shown(lines: Iterable[LogLine]) -> list[LogLine]:
    """The lines to show: all but the runtime's start lines, which only delimit."""
    return [line for line in lines if line.start is None]


def select(deployment: Deployment, processors: Sequence[str]) -> list[str]:
    """The processors to read: all when none are named; unknown names fail."""
    for name in processors:
        deployment.processor(name)
    return list(processors) or list(deployment.processors)


class LogReader:
    """Reads the log groups of some processors through one CloudWatch Logs client."""

    def __init__(
        self,
        client: Any,
        deployment: Deployment,
        processors: Sequence[str] = (),
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.processors = select(deployment, processors)
        self.groups = {name: deployment.processors[name].log_group for name in self.processors}
        self.sleep = sleep

    def read(self, start: int, end: int | None = None) -> list[LogLine]:
        """Every line of the selected processors from ``start`` (to ``end``), by time."""
        lines: list[LogLine] = []
        for processor, group in self.groups.items():
            lines.extend(self._group(processor, group, start, end))
        order = {name: i for i, name in enumerate(self.processors)}
        return sorted(lines, key=lambda line: (line.timestamp, order[line.processor]))

    def _group(self, processor: str, group: str, start: int, end: int | None) -> Iterator[LogLine]:
        request: dict[str, Any] = {"logGroupName": group, "startTime": start}
        if end is not None:
            request["endTime"] = end
        while True:
            try:
                page = with_backoff(
                    lambda: self.client.filter_log_events(**request), sleep=self.sleep
                )
            except Exception as exc:
                # A log group appears with the first line in some setups: nothing yet.
                if error_code(exc) == "ResourceNotFoundException":
                    return
                raise
            for event in page.get("events", ()):
                yield log_line(
                    processor,
                    int(event.get("timestamp", 0)),
                    str(event.get("message", "")).rstrip("\n"),
                    str(event.get("logStreamName", "")),
                    str(event.get("eventId", "")),
                )
            token = page.get("nextToken")
            if not token or token == request.get("nextToken"):
                return
            request["nextToken"] = token


def follow(
    follower: LogFollower,
    show: Callable[[list[LogLine]], None],
    *,
    quiet: float | None = None,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Show new lines as they arrive; return why it stopped: ``quiet`` (nothing new for
    ``quiet`` seconds after the first line) or ``timeout``. Without either it runs until
    interrupted (Ctrl-C raises ``KeyboardInterrupt`` to the caller)."""
    started = last = clock()
    heard = False
    while True:
        lines = follower.poll()
        now = clock()
        if lines:
            show(lines)
            heard, last = True, now
        if quiet is not None and heard and now - last >= quiet:
            return "quiet"
        if timeout is not None and now - started >= timeout:
            return "timeout"
        sleep(follower.interval)


@dataclass
class LogFollower:
    """New lines at each ``poll``.

    CloudWatch Logs may make a line readable a few seconds after lines stamped later, so
    each poll reads again from ``LATE_MS`` before the newest line seen and drops lines
    already shown.
    """

    reader: LogReader
    start: int
    trace: TraceFilter | None = None
    """Only the lines of one trace."""
    seen: dict[str, int] = field(default_factory=dict)
    """Event id -> timestamp of the lines shown that a later poll may read again."""

    def poll(self) -> list[LogLine]:
        since = max(0, self.start - LATE_MS)
        fresh = [line for line in self.reader.read(since) if line.event_id not in self.seen]
        for line in fresh:
            self.seen[line.event_id] = line.timestamp
            self.start = max(self.start, line.timestamp)
        horizon = self.start - LATE_MS
        self.seen = {key: at for key, at in self.seen.items() if at >= horizon}
        return self.trace.feed(fresh) if self.trace is not None else shown(fresh)

    @property
    def interval(self) -> float:
        """Seconds between polls, so all groups together stay under FilterLogEvents' quota."""
        return max(1.0, len(self.reader.groups) / CALLS_PER_SECOND)


@dataclass
class _StreamState:
    pending: list[LogLine] = field(default_factory=list)
    """Lines since the last boundary (attak line or Lambda line): maybe the next record's
    handler output."""
    started: str | None = None
    """The trace whose start line came last: the lines since are its handler's output."""
    capturing: bool = False
    """The last record line was the followed trace failing: its error lines follow it."""


class TraceFilter:
    """Keeps the lines of one trace, fed lines in time order (possibly across polls)."""

    def __init__(self, trace: str) -> None:
        self.trace = trace
        self._streams: dict[tuple[str, str], _StreamState] = {}

    def feed(self, lines: Iterable[LogLine]) -> list[LogLine]:
        kept: list[LogLine] = []
        for line in lines:
            state = self._streams.setdefault((line.processor, line.stream), _StreamState())
            if line.start is not None:
                state.pending, state.capturing, state.started = [], False, line.start
            elif line.record is not None:
                ours = str(line.record.get("trace")) == self.trace
                if ours:
                    # Without a start line (a failing record of a trace not sampled), the
                    # lines since the last boundary are the best guess at its output.
                    if state.started is None:
                        kept.extend(state.pending)
                    kept.append(line)
                state.capturing = ours and line.record.get("outcome") == "error"
                state.pending, state.started = [], None
            elif line.summary is not None:
                # An invocation that raised is followed by Lambda's report of the error.
                state.capturing = state.capturing and "error" in line.summary
                state.pending, state.started = [], None
            elif is_lambda_line(line.message):
                state.pending, state.capturing, state.started = [], False, None
            elif state.capturing or state.started == self.trace:
                kept.append(line)
            elif state.started is None:
                state.pending.append(line)
        return kept
