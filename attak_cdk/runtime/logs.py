"""What a processor's function writes to its log: one summary line per invocation, and the
records of sampled traces and of errors, one line each.

At a terabyte a day a line per record costs more than the records themselves, so the
runtime writes, as single JSON lines on stdout (``attak logs`` and the UI read them):

- ``{"attak":"batch","processor","records","events","errors","emits":{topic: n},"ms"}``
  once per invocation, after it: the records Lambda delivered, the events the handler
  was called with (more than the records when records are aggregated or a record is
  retried in place), the calls that failed, the emits per topic, and ``error`` when the
  invocation itself failed. When a call failed, the line also says what became of it,
  each count when not zero: ``failed`` (events the invocation gave up on: dead-lettered,
  or handed back to Lambda), ``retries`` (calls that retried an event in place) and
  ``dead_letters`` (events written to the dead-letter queue); those counts are CloudWatch
  metrics (below);
- ``{"attak":"start","trace"}`` before the handler runs on a record of a logged trace,
  so that what the handler prints is found between it and the record line;
- ``{"attak":"record","processor","trace","topic","sequence","outcome","emits","ms"}``
  after each record of a logged trace, and after every record that failed, whatever its
  trace (``error`` then says why).

Head-based sampling: a trace is logged whole or not at all. Whether it is logged is
decided where it starts and carried with it, at no cost in envelope bytes: it is a
deterministic function of the trace id and the topology's ``trace_sampling`` rate, which
every processor of the topology is given, so each one reaches the same answer for the same
trace (and the simulator could too). A trace marked ``"log": 1`` in its envelope (every
event ``attak trigger`` sends) is always logged; the mark is passed on to every record
that trace leads to. The rate is read once per execution environment: while a deployment
changes it, a trace in flight may be logged in some processors only.

Lambda's JSON log format passes a line a function prints through as it is, reading its
``level`` (none here: INFO) for application log-level filtering
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html),
so these lines read the same in both formats.

Metrics without an API call: a summary line with failure counts carries the CloudWatch
Embedded Metric Format's ``_aws`` block (``Timestamp``, then ``CloudWatchMetrics``: the
``attak`` namespace, the ``topology`` and ``processor`` dimensions, each count present as a
metric with its ``Unit``), and CloudWatch Logs extracts the counts as metrics from the
line itself: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
A function only has to write the line to stdout
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Lambda.html).
Under Lambda's JSON log format, what Python's ``print`` (stdout) writes is sent as it is,
not wrapped in Lambda's JSON object (only the ``logging`` module's records are:
https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html), and Lambda does not
encode again a line that is JSON already
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-logformat.html): the
log event is the EMF document, as the specification asks. The block is written only when
there is something to count, so a healthy invocation's line stays as small as it was, and
a metric with no data is a processor with no failures (the alarms read it so).

Standard library only, like the rest of the runtime.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any
from zlib import crc32

from .config import (
    DEFAULT_TRACE_SAMPLING,
    METRIC_DEAD_LETTERS,
    METRIC_DIMENSIONS,
    METRIC_FAILED,
    METRIC_RETRIES,
    METRICS_NAMESPACE,
)
from .context import Context, Emit
from .envelope import LOG, Envelope

_SCALE = 1 << 32
"""crc32 values are spread evenly over [0, 2**32)."""

_COUNTED = (METRIC_FAILED, METRIC_RETRIES, METRIC_DEAD_LETTERS)
"""The summary line's counts that are metrics, in the order they are written."""
METRICS_PER_PROCESSOR = _COUNTED
"""The custom metrics a processor publishes (in a month with failures): what they cost."""

_line = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def sampling_bound(rate: float) -> int:
    """The crc32 of a trace id below which the trace is logged: ``rate`` of all ids
    (0 logs none, 1 logs every one)."""
    return int(max(0.0, min(1.0, rate)) * _SCALE)


def sampled(trace: str, rate: float) -> bool:
    """Whether the trace ``trace`` is logged record by record at sampling ``rate``: the
    same answer in every processor, every time, for the same trace."""
    return _hash(trace) < sampling_bound(rate)


def _hash(trace: str) -> int:
    # A trace id read from JSON may hold a lone surrogate: hash it all the same.
    return crc32(trace.encode("utf-8", "surrogatepass"))


class RecordLog:
    """The function's log: an observer of each record (``Runner``'s), a ``before`` hook
    for each handler call (``announced``), and ``begin``/``end`` around an invocation,
    where ``end`` writes the summary line.

    ``write`` takes one line at a time (default: the ``sys.stdout`` of the moment, which
    Lambda sends to CloudWatch Logs). ``topology`` names the metrics' topology dimension;
    ``now`` is the wall clock their timestamp is read from.
    """

    def __init__(
        self,
        processor: str,
        sampling: float = DEFAULT_TRACE_SAMPLING,
        *,
        topology: str = "",
        write: Callable[[str], Any] | None = None,
        clock: Callable[[], float] = time.perf_counter,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.processor = processor
        self.topology = topology
        self.sampling = sampling
        self._bound = sampling_bound(sampling)
        self._write = write
        self._clock = clock
        self._now = now
        self._started = clock()
        self.events = 0
        self.errors = 0
        self.retries = 0
        self.dead_letters = 0
        self.emits: dict[str, int] = {}

    def logs(self, trace: str, marked: bool = False) -> bool:
        """Whether the records of ``trace`` are logged one line each."""
        return marked or _hash(trace) < self._bound

    def begin(self) -> None:
        """A new invocation: the counts start again."""
        self._started = self._clock()
        self.events = self.errors = self.retries = self.dead_letters = 0
        self.emits = {}

    def before(self, context: Context) -> None:
        """Before the handler runs: mark where a logged trace's handler output begins."""
        if context.logged or _hash(context.trace_id) < self._bound:
            self.write({"attak": "start", "trace": context.trace_id})

    def __call__(
        self,
        record: Any,
        envelope: Envelope | None,
        emits: list[Emit],
        error: BaseException | None,
        seconds: float,
        attempt: int | None = None,
    ) -> None:
        """After a record: count it, and log it when its trace is logged or it failed."""
        self.events += 1
        if attempt is not None and attempt > 1:
            self.retries += 1
        if error is not None:
            self.errors += 1
        elif emits:
            counts = self.emits
            for emit in emits:
                counts[emit.topic] = counts.get(emit.topic, 0) + 1
        if error is None and not (
            envelope is not None and self.logs(envelope["trace"], bool(envelope.get(LOG)))
        ):
            return
        line: dict[str, Any] = {
            "attak": "record",
            "processor": self.processor,
            "trace": envelope["trace"] if envelope else None,
            "topic": envelope["topic"] if envelope else None,
            "sequence": record.sequence,
            "outcome": "error" if error else "ok",
            "emits": [e.topic for e in emits] if not error else [],
            "ms": round(seconds * 1000, 3),
        }
        if attempt is not None and attempt > 1:
            line["attempt"] = attempt
        if error is not None:
            line["error"] = f"{type(error).__name__}: {error}"
        self.write(line)

    def dead_lettered(self, count: int = 1) -> None:
        """Events this invocation wrote to the dead-letter queue itself."""
        self.dead_letters += count

    def summary(self, records: int, error: BaseException | None = None) -> dict[str, Any]:
        """The invocation's summary line: ``records`` Lambda delivered, and what became
        of them; ``error`` is what failed the invocation as a whole, if anything did."""
        line: dict[str, Any] = {
            "attak": "batch",
            "processor": self.processor,
            "records": records,
            "events": self.events,
            "errors": self.errors,
            "emits": self.emits,
        }
        if self.errors:
            self._count_failures(line)
        if error is not None:
            line["error"] = f"{type(error).__name__}: {error}"
        line["ms"] = round((self._clock() - self._started) * 1000, 3)
        if self.errors:
            line["_aws"] = self._metrics(line)
        return line

    def failed(self) -> int:
        """Events this invocation gave up on. ``Runner.process`` calls the handler again
        only after a failed call of the same event, and gives up on an event after its
        last failed call (dead-letters it, or stops there and hands it back to Lambda):
        so each failed call is either followed by a retry or is an event given up on."""
        return self.errors - self.retries

    def _count_failures(self, line: dict[str, Any]) -> None:
        """What became of the failed calls, each count when not zero; with the topology,
        the metrics' other dimension."""
        counts = (
            (METRIC_FAILED, self.failed()),
            (METRIC_RETRIES, self.retries),
            (METRIC_DEAD_LETTERS, self.dead_letters),
        )
        line.update((name, count) for name, count in counts if count)
        if self.topology:
            line["topology"] = self.topology

    def _metrics(self, line: dict[str, Any]) -> dict[str, Any]:
        """The Embedded Metric Format's ``_aws`` block for ``line``: its counts as
        metrics of its processor and topology (members of the line, as the specification
        asks, a dimension value being a non-empty string), at this time (milliseconds
        since the epoch)."""
        return {
            "Timestamp": int(self._now() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": METRICS_NAMESPACE,
                    "Dimensions": [[name for name in METRIC_DIMENSIONS if line.get(name)]],
                    "Metrics": [
                        {"Name": name, "Unit": "Count"} for name in _COUNTED if name in line
                    ],
                }
            ],
        }

    def end(self, records: int, error: BaseException | None = None) -> None:
        """Write the invocation's summary line."""
        self.write(self.summary(records, error))

    def write(self, line: dict[str, Any]) -> None:
        text = _line(line) + "\n"
        if self._write is not None:
            self._write(text)
        else:
            sys.stdout.write(text)


Handler = Callable[[Any, Any], Any]


def announced(handler: Handler, log: RecordLog) -> Handler:
    """``handler``, after ``log`` marks the start of a logged trace's record: what the
    handler then prints sits between that mark and the record's line, apart from what
    the records of other traces in the batch print."""

    def run(event: Any, context: Any) -> Any:
        log.before(context)
        return handler(event, context)

    run.__wrapped__ = handler  # type: ignore[attr-defined]
    run.__name__ = getattr(handler, "__name__", "handler")
    return run
