"""The summary line's failure counts, and the CloudWatch Embedded Metric Format block that
makes them metrics without an API call (``runtime/logs.py``)."""

from __future__ import annotations

import json
from typing import Any

from attak_cdk.runtime.handler import Runner
from attak_cdk.runtime.logs import RecordLog
from tests.unit.test_runtime_process import (
    ROUTES,
    Clock,
    Letters,
    ListTransport,
    RecordingHandler,
    records,
)

NOW = 1_760_000_000.25


class Flaky(RecordingHandler):
    """Fails the first call of each event in ``once``, and every call of ``fail_on``."""

    def __init__(self, once: tuple[Any, ...] = (), fail_on: tuple[Any, ...] = ()) -> None:
        super().__init__(fail_on=fail_on)
        self.once = set(once)

    def __call__(self, event: Any, context: Any) -> None:
        if event in self.once:
            self.once.discard(event)
            self.seen.append(event)
            raise RuntimeError(f"not yet {event}")
        super().__call__(event, context)


def summary_of(handler: Any, *events: Any, letters: Letters | None = None) -> dict[str, Any]:
    """The summary line one invocation over ``events`` writes, as JSON parsed back."""
    lines: list[str] = []
    log = RecordLog("proc", 0.0, topology="topo", write=lines.append, now=lambda: NOW)
    clock = Clock(60)
    runner = Runner(
        handler=handler,
        processor="proc",
        topology="topo",
        routes=ROUTES,
        transport=ListTransport(),
        max_hops=16,
        observer=log,
        retries={"in": 2} if letters is not None else None,
        dead_letters=letters,
        sleep=clock.sleep,
    )
    log.begin()
    runner.process(records(*events), clock, source="in")
    log.end(len(events))
    summaries = [json.loads(line) for line in lines if '"attak":"batch"' in line]
    assert len(summaries) == 1 and lines[-1].endswith("\n") and lines[-1].count("\n") == 1
    return dict(summaries[0])


def test_a_healthy_invocation_writes_no_failure_counts_and_no_metrics() -> None:
    summary = summary_of(RecordingHandler(), 1, 2, 3, letters=Letters())

    assert (summary["events"], summary["errors"]) == (3, 0)
    assert not {"failed", "retries", "dead_letters", "topology", "_aws"} & summary.keys()


def test_retried_and_dead_lettered_events_are_counted_as_metrics_of_the_processor() -> None:
    # 2 fails once then succeeds; 3 fails its 3 attempts and is dead-lettered.
    summary = summary_of(Flaky(once=(2,), fail_on=(3,)), 1, 2, 3, 4, letters=Letters())

    assert (summary["events"], summary["errors"]) == (7, 4)
    assert (summary["failed"], summary["retries"]) == (1, 3)
    assert summary["topology"] == "topo" and summary["processor"] == "proc"
    block = summary["_aws"]
    assert block["Timestamp"] == int(NOW * 1000)  # milliseconds since the epoch
    (directive,) = block["CloudWatchMetrics"]
    assert directive["Namespace"] == "attak"
    assert directive["Dimensions"] == [["topology", "processor"]]
    assert directive["Metrics"] == [
        {"Name": "failed", "Unit": "Count"},
        {"Name": "retries", "Unit": "Count"},
    ]
    # The EMF rule: every metric and dimension named is a member of the line itself.
    for metric in directive["Metrics"]:
        assert isinstance(summary[metric["Name"]], int)
    for dimension in directive["Dimensions"][0]:
        assert isinstance(summary[dimension], str) and summary[dimension]


def test_dead_letters_the_runtime_wrote_are_a_metric_when_counted() -> None:
    lines: list[str] = []
    log = RecordLog("proc", 0.0, topology="topo", write=lines.append, now=lambda: NOW)
    log.begin()
    log(records(1)[0], None, [], RuntimeError("boom"), 0.001, 1)
    log.dead_lettered()
    log.end(1)

    summary = json.loads(lines[-1])
    assert (summary["failed"], summary["dead_letters"]) == (1, 1)
    assert "retries" not in summary
    names = [m["Name"] for m in summary["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert names == ["failed", "dead_letters"]


def test_an_event_handed_back_to_lambda_is_a_failed_event() -> None:
    # No dead-letter queue: the failing record stops the batch and Lambda retries it.
    summary = summary_of(RecordingHandler(fail_on=(2,)), 1, 2, 3)

    assert (summary["events"], summary["errors"], summary["failed"]) == (2, 1, 1)
    assert "retries" not in summary and "dead_letters" not in summary


def test_counts_start_again_with_each_invocation() -> None:
    lines: list[str] = []
    log = RecordLog("proc", 0.0, topology="topo", write=lines.append, now=lambda: NOW)
    log.begin()
    log(records(1)[0], None, [], RuntimeError("boom"), 0.001, 2)
    log.end(1)
    log.begin()
    log(records(1)[0], None, [], None, 0.001, 1)
    log.end(1)

    first, second = (json.loads(line) for line in lines if '"attak":"batch"' in line)
    assert "_aws" in first
    assert not {"failed", "retries", "_aws"} & second.keys()


def test_without_a_topology_the_metrics_are_per_processor_only() -> None:
    lines: list[str] = []
    log = RecordLog("proc", 0.0, write=lines.append, now=lambda: NOW)
    log.begin()
    log(records(1)[0], None, [], RuntimeError("boom"), 0.001, 1)
    log.end(1)

    summary = json.loads(lines[-1])
    assert "topology" not in summary
    assert summary["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["processor"]]
