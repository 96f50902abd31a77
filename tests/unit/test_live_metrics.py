"""metrics: the window and period CloudWatch can answer, the queries, pages and splits."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from attak_cdk.errors import UsageError
from attak_cdk.live.deployment import DeployedProcessor, Deployment
from attak_cdk.live.metrics import TopologyMetrics, align_window, read_metrics

MINUTE = 60_000
DAY = 86_400_000
NOW = 1_800_000_000_000  # a whole hour, in epoch ms
START = NOW - 15 * MINUTE


def deployment(*processors: DeployedProcessor) -> Deployment:
    return Deployment("t", ("t",), {p.name: p for p in processors})


def read(cloudwatch: Any, *processors: DeployedProcessor, sqs: Any = None) -> TopologyMetrics:
    """The metrics of a 15-minute window ending ``NOW``."""
    sqs = FakeSqs({}) if sqs is None else sqs
    return read_metrics(cloudwatch, sqs, deployment(*processors), start=START, end=NOW, now=NOW)


def at(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


class FakeCloudWatch:
    """Answers each query with the points stored for (function, metric), ``per_page``
    points of every query a page, and records the queries of each call."""

    def __init__(self, points: dict[tuple[str, str], list[tuple[int, float]]], per_page: int = 2):
        self.points = points
        self.per_page = per_page
        self.calls: list[list[dict[str, Any]]] = []
        self.fail: list[str] = []
        """Error codes to raise, one per call, before answering."""

    def get_metric_data(self, **request: Any) -> dict[str, Any]:
        if self.fail:
            code = self.fail.pop(0)
            raise ClientError({"Error": {"Code": code, "Message": "slow down"}}, "GetMetricData")
        assert len(request["MetricDataQueries"]) <= 500
        self.calls.append(request["MetricDataQueries"])
        page = int(request.get("NextToken", 0))
        results, more = [], False
        for query in request["MetricDataQueries"]:
            metric = query["MetricStat"]["Metric"]
            key = (metric["Dimensions"][0]["Value"], metric["MetricName"])
            points = self.points.get(key, [])
            shown = points[page * self.per_page : (page + 1) * self.per_page]
            more = more or len(points) > (page + 1) * self.per_page
            results.append(
                {
                    "Id": query["Id"],
                    "Timestamps": [at(t) for t, _ in shown],
                    "Values": [v for _, v in shown],
                    "StatusCode": "PartialData" if more else "Complete",
                }
            )
        return {"MetricDataResults": results, **({"NextToken": str(page + 1)} if more else {})}


class FakeSqs:
    def __init__(self, queues: dict[str, dict[str, str]], error: str = "") -> None:
        self.queues = queues
        self.error = error

    def get_queue_attributes(self, QueueUrl: str, AttributeNames: list[str]) -> dict[str, Any]:
        if self.error or QueueUrl not in self.queues:
            code = self.error or "AWS.SimpleQueueService.NonExistentQueue"
            raise ClientError({"Error": {"Code": code, "Message": "no"}}, "GetQueueAttributes")
        return {
            "Attributes": {k: v for k, v in self.queues[QueueUrl].items() if k in AttributeNames}
        }


class Untouchable:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{name} was called for a window that was refused")


def test_window_is_rounded_out_to_whole_periods() -> None:
    assert align_window(START + 10_000, NOW - 20_000, 60, now=NOW) == (START, NOW)
    assert align_window(START + 10_000, NOW - 20_000, 300, now=NOW) == (START, NOW)
    assert align_window(START, NOW, 3600, now=NOW) == (NOW - 60 * MINUTE, NOW)


@pytest.mark.parametrize("period", [0, 1, 30, 59, 90, -60, 60.0])
def test_period_that_is_not_a_whole_minute_is_refused_naming_the_value(period: Any) -> None:
    with pytest.raises(
        UsageError, match=rf"multiple of 60 seconds such as 60, 300 or 3600 \(given {period!r}\)"
    ):
        align_window(START, NOW, period, now=NOW)


@pytest.mark.parametrize("end", [START, START - MINUTE])
def test_window_that_does_not_end_after_it_starts_is_refused_showing_both_times(end: int) -> None:
    with pytest.raises(UsageError) as error:
        align_window(START, end, 60, now=NOW)
    assert "must end after it starts" in error.value.message
    assert f"start 2027-01-15T07:45:00+00:00 ({START} ms)" in error.value.message
    assert f"({end} ms)" in error.value.message


@pytest.mark.parametrize(
    ("days_ago", "period", "needed"), [(20, 60, 300), (20, 420, 300), (70, 300, 3600)]
)
def test_old_window_needs_the_coarser_period_cloudwatch_still_keeps(
    days_ago: int, period: int, needed: int
) -> None:
    suggested = -(-period // needed) * needed
    with pytest.raises(UsageError) as error:
        align_window(NOW - days_ago * DAY, NOW, period, now=NOW)
    assert f"a multiple of {needed}" in error.value.message
    assert f"(given {period}); pass {suggested}, or start later" in error.value.message
    assert align_window(NOW - days_ago * DAY, NOW, suggested, now=NOW)[1] == NOW


def test_refused_window_asks_nothing_of_aws() -> None:
    with pytest.raises(UsageError):
        read_metrics(Untouchable(), Untouchable(), deployment(), start=NOW, end=START, now=NOW)


def test_query_ids_come_from_positions_and_the_dimension_is_the_function_name() -> None:
    cloudwatch = FakeCloudWatch({})
    odd = DeployedProcessor("Orders-2.0 ünï", "stack-Orders20-AbC123", "g", inputs=("a->b",))
    read(cloudwatch, odd)
    [queries] = cloudwatch.calls
    assert all(re.fullmatch(r"[a-z][a-zA-Z0-9_]*", q["Id"]) for q in queries)
    assert {q["MetricStat"]["Metric"]["MetricName"] for q in queries} == {
        "Invocations", "Errors", "Throttles", "Duration", "IteratorAge"
    }  # fmt: skip
    assert {q["MetricStat"]["Metric"]["Namespace"] for q in queries} == {"AWS/Lambda"}
    assert {json.dumps(q["MetricStat"]["Metric"]["Dimensions"]) for q in queries} == {
        json.dumps([{"Name": "FunctionName", "Value": "stack-Orders20-AbC123"}])
    }


def test_directly_invoked_processor_has_no_iterator_age_and_is_not_asked_for_one() -> None:
    cloudwatch = FakeCloudWatch({("fn", "IteratorAge"): [(START, 5.0)]})
    direct = DeployedProcessor("direct", "fn", "g")
    found = read(cloudwatch, direct)
    assert found.processors["direct"].iterator_age_ms is None
    assert "IteratorAge" not in {
        q["MetricStat"]["Metric"]["MetricName"] for q in cloudwatch.calls[0]
    }


def test_points_of_one_query_spread_over_pages_are_joined_in_time_order() -> None:
    invocations = [(START + i * MINUTE, float(i + 1)) for i in range(5)]
    ages = [(START + i * MINUTE, 100.0 * (5 - i)) for i in range(5)]
    cloudwatch = FakeCloudWatch({("fn", "Invocations"): invocations, ("fn", "IteratorAge"): ages})
    reader = DeployedProcessor("p", "fn", "g", ingest_stream="in")
    found = read(cloudwatch, reader)
    assert len(cloudwatch.calls) == 3  # 2 + 2 + 1 points a query: two NextTokens followed
    metrics = found.processors["p"]
    assert metrics.invocations == 15
    assert metrics.iterator_age_ms == 100.0  # the last period's, not the largest
    assert metrics.series["invocations"][:6] == [[START + i * MINUTE, i + 1] for i in range(5)] + [
        [START + 5 * MINUTE, 0.0]
    ]
    assert len(metrics.series["errors"]) == 15
    assert all(value == 0.0 for _, value in metrics.series["errors"])


def test_more_than_500_queries_are_split_over_calls_and_every_processor_is_read() -> None:
    processors = [DeployedProcessor(f"p{i}", f"fn{i}", "g", inputs=("s",)) for i in range(120)]
    cloudwatch = FakeCloudWatch({(f"fn{i}", "Errors"): [(START, float(i))] for i in range(120)})
    found = read(cloudwatch, *processors)
    assert [len(queries) for queries in cloudwatch.calls] == [500, 100]
    assert [m.errors for m in found.processors.values()] == list(range(120))


def test_throttled_metrics_call_is_retried() -> None:
    cloudwatch = FakeCloudWatch({("fn", "Invocations"): [(START, 7.0)]})
    cloudwatch.fail = ["Throttling", "ThrottlingException"]
    found = read(cloudwatch, DeployedProcessor("p", "fn", "g"))
    assert found.processors["p"].invocations == 7


def test_dead_letters_count_visible_and_in_flight_messages_and_a_gone_queue_is_none() -> None:
    sqs = FakeSqs(
        {"q1": {"ApproximateNumberOfMessages": "2", "ApproximateNumberOfMessagesNotVisible": "1",
                "ApproximateNumberOfMessagesDelayed": "9"}}
    )  # fmt: skip
    found = read(
        FakeCloudWatch({}),
        DeployedProcessor("a", "f1", "g", dead_letter_queue="q1"),
        DeployedProcessor("b", "f2", "g", dead_letter_queue="gone"),
        DeployedProcessor("c", "f3", "g"),
        sqs=sqs,
    )
    assert {n: m.dead_letters for n, m in found.processors.items()} == {
        "a": 3,
        "b": None,
        "c": None,
    }


def test_dead_letter_queue_that_cannot_be_read_for_another_reason_fails_the_read() -> None:
    with pytest.raises(ClientError, match="AccessDenied"):
        read(
            FakeCloudWatch({}),
            DeployedProcessor("a", "f1", "g", dead_letter_queue="q1"),
            sqs=FakeSqs({}, error="AccessDenied"),
        )


def test_as_dict_is_plain_json() -> None:
    cloudwatch = FakeCloudWatch({("fn", "Duration"): [(START, 12.5)]})
    found = read(cloudwatch, DeployedProcessor("p", "fn", "g"))
    document = json.loads(json.dumps(found.as_dict()))
    assert document["start"] == START and document["end"] == NOW and document["period"] == 60
    assert document["processors"]["p"]["duration_ms"] == 12.5
    assert document["processors"]["p"]["series"]["invocations"][0] == [START, 0.0]
