"""`read_metrics` against a moto server: CloudWatch metric data and SQS dead-letter queues.

No stack is deployed: the tests build a `Deployment` by hand, put the Lambda metrics
into moto's CloudWatch themselves (moto accepts the `AWS/Lambda` namespace, which AWS
keeps for its own services) and fill real SQS queues. Each test uses its own function
and queue names, as the server is shared by the module.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from attak_cdk.live.deployment import DeployedProcessor, Deployment
from attak_cdk.live.metrics import read_metrics
from tests.integration.conftest_live import Client

pytestmark = [pytest.mark.live]
MINUTE = 60_000


@pytest.fixture
def start() -> int:
    """The start of a 15-minute window ending at the last whole minute (epoch ms)."""
    return int(time.time() * 1000) // MINUTE * MINUTE - 15 * MINUTE


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:8]


def put(cloudwatch: Any, function: str, metric: str, *points: tuple[int, float]) -> None:
    """Lambda's own metric ``metric`` of ``function``: (epoch ms, value) points."""
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": function}],
                "Timestamp": datetime.fromtimestamp(when / 1000, UTC),
                "Value": value,
            }
            for when, value in points
        ],
    )


@pytest.fixture
def requests(aws: Client) -> Iterator[tuple[Any, list[int]]]:
    """A CloudWatch client and the number of queries in each GetMetricData it sends."""
    cloudwatch = aws("cloudwatch")
    sizes: list[int] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sizes.append(len(params["MetricDataQueries"]))

    cloudwatch.meta.events.register("provide-client-params.cloudwatch.GetMetricData", record)
    yield cloudwatch, sizes


def test_metrics_sum_over_the_window_average_duration_and_take_the_latest_iterator_age(
    aws: Client, requests: tuple[Any, list[int]], start: int, unique: str
) -> None:
    cloudwatch, sizes = requests
    sqs = aws("sqs")
    orders, sink = f"fn-orders-{unique}", f"fn-sink-{unique}"
    first, third = start + 60_000, start + 3 * 60_000  # the 2nd and 4th periods
    put(cloudwatch, orders, "Invocations", (first + 1000, 3), (first + 20_000, 2), (third, 4))
    put(cloudwatch, orders, "Invocations", (start - 1000, 100), (start + 15 * MINUTE, 100))
    put(cloudwatch, orders, "Errors", (third + 5000, 1))
    put(cloudwatch, orders, "Throttles", (first, 2), (third, 1))
    # The true average is 300; an average of the two periods' averages would be 375.
    put(cloudwatch, orders, "Duration", (first, 100), (first + 1000, 200), (third, 600))
    put(cloudwatch, orders, "IteratorAge", (first, 9000), (first + 1, 5000))
    put(cloudwatch, orders, "IteratorAge", (third, 1200), (third + 1, 800))
    put(cloudwatch, sink, "Invocations", (third + 30_000, 7))
    queue = sqs.create_queue(QueueName=f"orders-dlq-{unique}")["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=f"dead letter {n}")
    sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, VisibilityTimeout=300)
    deployment = Deployment(
        topology="shop",
        stacks=("shop",),
        processors={
            "orders": DeployedProcessor(
                "orders", orders, "g1", dead_letter_queue=queue, ingest_stream="s-in"
            ),
            "sink": DeployedProcessor("sink", sink, "g2", inputs=("orders->sink",)),
        },
    )

    found = read_metrics(
        cloudwatch, sqs, deployment, start=start + 10_000, end=start + 15 * MINUTE - 5000
    )

    assert sizes == [10]  # both processors' metrics in one call
    assert (found.start, found.end, found.period) == (start, start + 15 * MINUTE, 60)
    assert list(found.processors) == ["orders", "sink"]
    metrics = found.processors["orders"]
    assert (metrics.invocations, metrics.errors, metrics.throttles) == (9, 1, 3)
    assert metrics.duration_ms == 300.0
    assert metrics.iterator_age_ms == 1200.0
    assert metrics.dead_letters == 3  # two waiting and one being looked at
    assert metrics.series["invocations"] == [
        [start + i * MINUTE, {1: 5.0, 3: 4.0}.get(i, 0.0)] for i in range(15)
    ]
    assert metrics.series["errors"] == [[start + i * MINUTE, float(i == 3)] for i in range(15)]
    other = found.processors["sink"]
    assert (other.invocations, other.errors, other.throttles) == (7, 0, 0)
    assert other.duration_ms is None and other.iterator_age_ms is None
    assert other.dead_letters is None
    assert other.series["invocations"][3] == [start + 3 * MINUTE, 7.0]
    assert found.as_dict()["processors"]["orders"]["dead_letters"] == 3


def test_a_deleted_dead_letter_queue_reads_as_none_and_the_rest_is_still_read(
    aws: Client, start: int, unique: str
) -> None:
    sqs, cloudwatch = aws("sqs"), aws("cloudwatch")
    queue = sqs.create_queue(QueueName=f"gone-dlq-{unique}")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="lost")
    sqs.delete_queue(QueueUrl=queue)
    put(cloudwatch, f"fn-{unique}", "Errors", (start, 2))
    deployment = Deployment(
        "t", ("t",), {"p": DeployedProcessor("p", f"fn-{unique}", "g", dead_letter_queue=queue)}
    )

    found = read_metrics(cloudwatch, sqs, deployment, start=start, end=start + 15 * MINUTE)

    assert found.processors["p"].dead_letters is None
    assert found.processors["p"].errors == 2


def test_600_queries_are_sent_in_calls_of_at_most_500_and_every_processor_is_read(
    aws: Client, requests: tuple[Any, list[int]], start: int, unique: str
) -> None:
    cloudwatch, sizes = requests
    functions = [f"fn-{unique}-{i}" for i in range(120)]
    for first in range(0, 120, 20):
        cloudwatch.put_metric_data(
            Namespace="AWS/Lambda",
            MetricData=[
                {
                    "MetricName": "Invocations",
                    "Dimensions": [{"Name": "FunctionName", "Value": function}],
                    "Timestamp": datetime.fromtimestamp((start + MINUTE) / 1000, UTC),
                    "Value": i + 1,
                }
                for i, function in enumerate(functions[first : first + 20], start=first)
            ],
        )
    deployment = Deployment(
        "big",
        ("big",),
        {
            f"p{i}": DeployedProcessor(f"p{i}", f, "g", inputs=("s",))
            for i, f in enumerate(functions)
        },
    )

    found = read_metrics(cloudwatch, aws("sqs"), deployment, start=start, end=start + 15 * MINUTE)

    assert sizes == [500, 100]
    assert len(found.processors) == 120
    assert [m.invocations for m in found.processors.values()] == list(range(1, 121))
    assert all(m.errors == 0 and m.iterator_age_ms is None for m in found.processors.values())
