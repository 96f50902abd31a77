"""Live metrics of a deployed topology, per processor, for the debugging UI.

For a window of time, each processor's Lambda function is read from CloudWatch
(``AWS/Lambda``, dimension ``FunctionName``): invocations, errors and throttles summed,
the average duration, and the iterator age (how far the consumer of its input stream is
behind) of the most recent period with data; the invocations and errors also per period,
for sparklines. Every processor's queries go in as few GetMetricData calls as the API
allows (500 queries a call), never one call per processor or per metric.

How many messages sit in a processor's dead-letter queue is asked of SQS itself
(GetQueueAttributes), not read from CloudWatch: SQS publishes its queue metrics 1 to 5
minutes late, and the UI wants the count as it is now.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from ..errors import UsageError
from ..manifest import DeployedProcessor
from .connection import error_code, with_backoff
from .deployment import Deployment

DEFAULT_WINDOW_MINUTES = 15
NAMESPACE = "AWS/Lambda"
QUERIES_PER_CALL = 500
"""GetMetricData's limit on queries in one request."""
DEPTH_ATTRIBUTES = ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
"""A dead letter being looked at (received, not yet deleted) is still a dead letter."""
QUEUE_GONE = frozenset({"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"})
QUEUE_READERS = 8
"""SQS has no batch read of queue attributes: this many queues are asked at once."""

_DAY_MS = 86_400_000
RESOLUTIONS = ((63 * _DAY_MS, 3600), (15 * _DAY_MS, 300))
"""(start older than, period multiple): CloudWatch keeps older data only at coarser
periods, and a finer period silently returns no data at all."""

_METRICS = (
    # (key, metric, statistic, one period spanning the whole window?)
    ("invocations", "Invocations", "Sum", False),
    ("errors", "Errors", "Sum", False),
    # Only the total is shown: one datapoint is enough.
    ("throttles", "Throttles", "Sum", True),
    # One period over the whole window is the true average; an average of per-period
    # averages would weigh a quiet minute like a busy one.
    ("duration", "Duration", "Average", True),
    ("iterator_age", "IteratorAge", "Maximum", False),
)

Points = list[tuple[int, float]]


@dataclass(frozen=True)
class ProcessorMetrics:
    """One processor's figures over the window."""

    processor: str
    invocations: int
    errors: int
    throttles: int
    duration_ms: float | None
    """Average duration over the window; None when it did not run."""
    iterator_age_ms: float | None
    """Maximum iterator age in the most recent period with data; None when there is none
    or the processor reads no stream (it is invoked directly)."""
    dead_letters: int | None
    """Messages in its dead-letter queue now; None when it has none or the queue is gone."""
    series: dict[str, list[list[float]]]
    """``invocations`` and ``errors`` -> ``[[epoch_ms, value], ...]``, one per period of
    the window, oldest first; a period without data is 0 (Lambda publishes nothing then)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "processor": self.processor,
            "invocations": self.invocations,
            "errors": self.errors,
            "throttles": self.throttles,
            "duration_ms": self.duration_ms,
            "iterator_age_ms": self.iterator_age_ms,
            "dead_letters": self.dead_letters,
            "series": {
                key: [list(point) for point in points] for key, points in self.series.items()
            },
        }


@dataclass(frozen=True)
class TopologyMetrics:
    """Every processor's figures over one window, in the deployment's processor order."""

    start: int
    """Epoch milliseconds, rounded down to a whole period."""
    end: int
    """Epoch milliseconds, rounded up to a whole period."""
    period: int
    """Seconds."""
    processors: dict[str, ProcessorMetrics]

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "period": self.period,
            "processors": {name: found.as_dict() for name, found in self.processors.items()},
        }


def align_window(start: int, end: int, period: int, *, now: int | None = None) -> tuple[int, int]:
    """``start`` rounded down and ``end`` rounded up to whole periods (epoch ms); a
    ``UsageError`` for a window or period CloudWatch cannot answer."""
    if isinstance(period, bool) or not isinstance(period, int) or period < 60 or period % 60:
        raise UsageError(
            f"the metrics period must be a whole number of minutes: a multiple of 60 seconds "
            f"such as 60, 300 or 3600 (given {period!r})"
        )
    if start >= end:
        raise UsageError(
            f"the metrics window must end after it starts (given start {_when(start)}, "
            f"end {_when(end)})"
        )
    now = int(time.time() * 1000) if now is None else now
    for older_than, multiple in RESOLUTIONS:
        if now - start > older_than and period % multiple:
            raise UsageError(
                f"CloudWatch keeps metrics older than {older_than // _DAY_MS} days only per "
                f"{multiple} seconds: the period must be a multiple of {multiple} for a window "
                f"starting {_when(start)} (given {period}); pass "
                f"{-(-period // multiple) * multiple}, or start later"
            )
    step = period * 1000
    return start // step * step, -(-end // step) * step


def read_metrics(
    cloudwatch: Any,
    sqs: Any,
    deployment: Deployment,
    *,
    start: int,
    end: int,
    period: int = 60,
    now: int | None = None,
) -> TopologyMetrics:
    """Every processor's metrics from ``start`` to ``end`` (epoch ms) per ``period`` seconds.

    ``cloudwatch`` and ``sqs`` are clients (tests pass any object with their calls);
    ``now`` (epoch ms, default the clock) decides which periods CloudWatch still keeps.
    """
    start, end = align_window(start, end, period, now=now)
    processors = list(deployment.processors.values())
    queries = [
        _query(f"p{index}_{key}", processor.function, metric, statistic, whole, period, end - start)
        for index, processor in enumerate(processors)
        for key, metric, statistic, whole in _METRICS
        if key != "iterator_age" or _reads_stream(processor)
    ]
    found = _metric_data(cloudwatch, queries, start, end)
    depths = _dead_letters(sqs, [p.dead_letter_queue for p in processors])
    grid = range(start, end, period * 1000)

    def of(index: int, key: str) -> Points:
        return found.get(f"p{index}_{key}", [])

    return TopologyMetrics(
        start=start,
        end=end,
        period=period,
        processors={
            processor.name: ProcessorMetrics(
                processor=processor.name,
                invocations=_total(of(index, "invocations")),
                errors=_total(of(index, "errors")),
                throttles=_total(of(index, "throttles")),
                duration_ms=_latest(of(index, "duration")),
                iterator_age_ms=_latest(of(index, "iterator_age")),
                dead_letters=depths.get(processor.dead_letter_queue or ""),
                series={key: _series(of(index, key), grid) for key in ("invocations", "errors")},
            )
            for index, processor in enumerate(processors)
        },
    )


def _reads_stream(processor: DeployedProcessor) -> bool:
    """Only a stream's consumer has an iterator age; a directly invoked function has none."""
    return bool(processor.inputs) or processor.ingest_stream is not None


def _query(
    query_id: str,
    function: str,
    metric: str,
    statistic: str,
    whole: bool,
    period: int,
    window_ms: int,
) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": NAMESPACE,
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": function}],
            },
            "Period": window_ms // 1000 if whole else period,
            "Stat": statistic,
        },
    }


def _metric_data(
    cloudwatch: Any, queries: Sequence[dict[str, Any]], start: int, end: int
) -> dict[str, Points]:
    """Query id -> its (epoch ms, value) points, oldest first."""
    found: dict[str, Points] = {query["Id"]: [] for query in queries}
    for first in range(0, len(queries), QUERIES_PER_CALL):
        request: dict[str, Any] = {
            "MetricDataQueries": list(queries[first : first + QUERIES_PER_CALL]),
            "StartTime": datetime.fromtimestamp(start / 1000, UTC),
            "EndTime": datetime.fromtimestamp(end / 1000, UTC),
            "ScanBy": "TimestampAscending",
        }
        while True:
            page = with_backoff(partial(cloudwatch.get_metric_data, **request))
            # A query's points may be spread over several pages: they are joined by id.
            for result in page.get("MetricDataResults", ()):
                found.setdefault(result["Id"], []).extend(
                    zip(
                        (_epoch_ms(at) for at in result.get("Timestamps", ())),
                        (float(value) for value in result.get("Values", ())),
                        strict=True,
                    )
                )
            token = page.get("NextToken")
            if not token or token == request.get("NextToken"):
                break
            request["NextToken"] = token
    return {id: sorted(points) for id, points in found.items()}


def _dead_letters(sqs: Any, queues: Sequence[str | None]) -> dict[str, int | None]:
    """Queue URL -> messages in it now (None for a queue that is gone)."""
    wanted = list(dict.fromkeys(queue for queue in queues if queue))
    if not wanted:
        return {}
    with ThreadPoolExecutor(max_workers=min(QUEUE_READERS, len(wanted))) as pool:
        return dict(zip(wanted, pool.map(partial(_queue_depth, sqs), wanted), strict=True))


def _queue_depth(sqs: Any, url: str) -> int | None:
    try:
        reply = with_backoff(
            partial(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=list(DEPTH_ATTRIBUTES))
        )
    except Exception as exc:
        # A queue deleted by hand (or with its stack) must not hide every other figure.
        if error_code(exc) in QUEUE_GONE:
            return None
        raise
    attributes = reply.get("Attributes", {})
    return sum(int(attributes.get(name, 0)) for name in DEPTH_ATTRIBUTES)


def _total(points: Points) -> int:
    return round(sum(value for _, value in points))


def _latest(points: Points) -> float | None:
    return points[-1][1] if points else None


def _series(points: Points, grid: range) -> list[list[float]]:
    values = dict.fromkeys(grid, 0.0)
    for at, value in points:
        values[at] = values.get(at, 0.0) + value
    return [[at, value] for at, value in sorted(values.items())]


def _epoch_ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


def _when(epoch_ms: int) -> str:
    try:
        moment = datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return f"{epoch_ms} ms"
    return f"{moment} ({epoch_ms} ms)"
