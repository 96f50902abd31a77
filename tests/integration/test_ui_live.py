"""`attak ui`'s Live tab against a moto server: the sample deployed by the real cdk CLI.

moto cannot run Lambda code, so the activity a deployed topology would have is written
where AWS would put it: CloudWatch points under AWS/Lambda for each function, messages in
a processor's dead-letter queue, and log lines in its log group. The page's API and the
page itself (in Debian's Chromium) must then show exactly that.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from starlette.testclient import TestClient

from attak_cdk.live.connection import Connection
from attak_cdk.ui.app import create_app
from tests.conftest import REPO, SAMPLE, WriteProject
from tests.functional.test_ui_browser import page, served  # noqa: F401
from tests.integration.conftest_live import (
    Client,
    free_port,
    invocation_attempts,
    record_line,
    wait_for,
    write_log_lines,
)
from tests.integration.conftest_live import sample as sample  # the fixture, shared

pytestmark = [pytest.mark.live, pytest.mark.slow]
NO_DATA = "\N{EN DASH}"  # what the page shows for a metric with no points


@pytest.fixture(scope="module")
def moto_server(shared_moto_server: str) -> str:
    """The run's shared moto server, where the sample is deployed once for every module."""
    return shared_moto_server


@pytest.fixture(scope="module")
def activity(sample: dict[str, Any], aws: Client) -> int:
    """A few minutes of a deployment's life written where AWS keeps it; returns 'now'."""
    now = int(time.time() * 1000)
    spout, reverse = sample["processors"]["hello_world_spout"], sample["processors"]["reverse"]

    def point(function: str, metric: str, value: float, minutes_ago: int) -> dict[str, Any]:
        return {
            "MetricName": metric,
            "Dimensions": [{"Name": "FunctionName", "Value": function}],
            "Timestamp": (now - minutes_ago * 60_000) / 1000,
            "Value": value,
        }

    aws("cloudwatch").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            point(spout["function"], "Invocations", 3, 4),
            point(spout["function"], "Invocations", 2, 2),
            point(spout["function"], "Duration", 10, 2),
            point(spout["function"], "Duration", 20, 2),
            point(reverse["function"], "Invocations", 4, 2),
            point(reverse["function"], "Errors", 1, 2),
            point(reverse["function"], "IteratorAge", 800, 4),
            point(reverse["function"], "IteratorAge", 1500, 2),
            # Older than the 15 minutes the page asks for first: not counted.
            point(reverse["function"], "Invocations", 100, 40),
        ],
    )
    cloudwatch = aws("cloudwatch")
    alarms = [
        ("attak-example-ReverseErrorsAlarm-A1", reverse["function"], "Errors", "ALARM"),
        ("attak-example-HelloWorldSpoutErrorsAlarm-B2", spout["function"], "Errors", "OK"),
        # Another stack's alarm under the same prefix: not this topology's.
        ("attak-example-other-ErrorsAlarm-C3", "someone-elses-function", "Errors", "ALARM"),
    ]
    for name, function, metric, state in alarms:
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/Lambda",
            MetricName=metric,
            Dimensions=[{"Name": "FunctionName", "Value": function}],
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
        cloudwatch.set_alarm_state(
            AlarmName=name, StateValue=state, StateReason=f"{metric} is {state} in this test"
        )
    sqs = aws("sqs")
    for body in ("one", "two"):
        sqs.send_message(QueueUrl=reverse["dead_letter_queue"], MessageBody=body)

    lines = {
        spout["log_group"]: ["START RequestId: r1", "hello world", record_line("hello_world_spout", "trace-one", None),
                             "END RequestId: r1", "START RequestId: r2", "bonjour",
                             record_line("hello_world_spout", "trace-two", None), "END RequestId: r2"],
        reverse["log_group"]: [record_line("reverse", "trace-one", "greetings"), "about to fail",
                               record_line("reverse", "trace-two", "greetings", "error"), "[ERROR] ValueError: boom",
                               "END RequestId: r3"],
    }  # fmt: skip
    write_log_lines(aws, lines, now - 60_000)
    return now


@pytest.fixture(scope="module")
def client(moto_server: str, activity: int) -> Iterator[TestClient]:
    with TestClient(create_app(SAMPLE, Connection(endpoint_url=moto_server))) as test_client:
        yield test_client


def test_live_status_finds_the_deployed_sample(client: TestClient, sample: dict[str, Any]) -> None:
    status = client.get("/api/live").json()
    assert status["deployed"] is True
    assert status["stacks"] == ["attak-example"]
    assert status["where"].startswith("region us-east-1 at http://localhost:")
    assert status["differences"] == []
    reverse = status["processors"]["reverse"]
    assert reverse["function"] == sample["processors"]["reverse"]["function"]
    assert reverse["dead_letter_queue"] == sample["processors"]["reverse"]["dead_letter_queue"]


def test_live_metrics_are_each_processors_cloudwatch_points_and_dead_letters(
    client: TestClient,
) -> None:
    answer = client.get("/api/live/metrics", params={"minutes": 15})
    assert answer.status_code == 200, answer.text
    spout, reverse = (answer.json()["processors"][p] for p in ("hello_world_spout", "reverse"))
    assert (spout["invocations"], spout["errors"], spout["duration_ms"]) == (5, 0, 15.0)
    assert (reverse["invocations"], reverse["errors"]) == (4, 1)
    assert reverse["iterator_age_ms"] == 1500  # the latest minute's, not the window's worst
    assert spout["iterator_age_ms"] is None  # an entry processor reads no stream
    assert reverse["dead_letters"] == 2
    assert [(a["name"], a["state"]) for a in reverse["alarms"]] == [
        ("attak-example-ReverseErrorsAlarm-A1", "ALARM")
    ]
    assert reverse["alarms"][0]["reason"] == "Errors is ALARM in this test"
    assert [a["state"] for a in spout["alarms"]] == ["OK"]
    hour = client.get("/api/live/metrics", params={"minutes": 60}).json()
    assert hour["processors"]["reverse"]["invocations"] == 104


def test_live_logs_interleave_every_processor_and_follow_one_trace(
    client: TestClient, activity: int
) -> None:
    answer = client.get("/api/live/logs", params={"after": activity - 120_000}).json()
    ours = [line for line in answer["lines"] if line["timestamp"] >= activity - 60_000]
    assert [line["processor"] for line in ours] == ["hello_world_spout"] * 8 + ["reverse"] * 5
    assert len({line["id"] for line in ours}) == 13  # the page drops lines it has by id
    assert ours[2]["record"]["trace"] == "trace-one"
    # The next poll starts a little before the newest line: CloudWatch can be late.
    assert answer["next"] == max(line["timestamp"] for line in ours) - 30_000

    traced = client.get(
        "/api/live/logs", params={"after": activity - 120_000, "trace": "trace-two"}
    ).json()
    assert [(line["processor"], line["message"][:20]) for line in traced["lines"]] == [
        ("hello_world_spout", "bonjour"),
        ("hello_world_spout", '{"attak": "record", '),
        ("reverse", "about to fail"),
        ("reverse", '{"attak": "record", '),
        ("reverse", "[ERROR] ValueError: "),
    ]
    only = client.get(
        "/api/live/logs", params={"after": activity - 120_000, "processor": "reverse"}
    ).json()
    assert {line["processor"] for line in only["lines"]} == {"reverse"}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/live/metrics?minutes=0", "minutes must be from 1 to 1440 (given 0)"),
        ("/api/live/metrics?minutes=soon", "minutes must be a whole number (given 'soon')"),
        ("/api/live/logs?after=yesterday", "after must be a whole number (given 'yesterday')"),
    ],
)
def test_bad_live_parameters_are_a_400_saying_what_is_allowed(
    client: TestClient, url: str, message: str
) -> None:
    answer = client.get(url)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(message)


def test_an_unknown_processor_in_the_log_filter_is_named(client: TestClient) -> None:
    answer = client.get("/api/live/logs", params={"processor": "revrse"})
    assert answer.status_code == 502
    assert "processor 'revrse' is not in the deployed topology" in answer.json()["error"]
    assert "did you mean 'reverse'" in answer.json()["error"]


def test_a_topology_that_is_not_deployed_says_how_to_deploy_it(
    moto_server: str,
    sample: dict[str, Any],
    write_project: WriteProject,
) -> None:
    folder = write_project(
        {
            "topology.yml": "name: never-deployed\nprocessors:\n  a: ./a.py\n",
            "a.py": "def handler(event, context):\n    pass\n",
        }
    )
    with TestClient(create_app(folder, Connection(endpoint_url=moto_server))) as other:
        status = other.get("/api/live").json()
        assert status["deployed"] is False
        assert "topology 'never-deployed' is not deployed" in status["message"]
        assert "deploy it with `attak deploy`" in status["message"]
        metrics = other.get("/api/live/metrics")
        assert metrics.status_code == 502
        assert "is not deployed" in metrics.json()["error"]


def test_nothing_answering_at_the_endpoint_is_explained(aws_environment: None) -> None:
    nowhere = f"http://localhost:{free_port()}"
    with TestClient(create_app(SAMPLE, Connection(endpoint_url=nowhere))) as other:
        status = other.get("/api/live").json()
    assert status["deployed"] is False
    assert f"nothing answers at {nowhere}" in status["message"]


def test_the_editors_input_is_sent_to_the_deployment_each_event_with_its_trace(
    client: TestClient, sample: dict[str, Any], aws: Client
) -> None:
    spout = sample["processors"]["hello_world_spout"]["function"]
    before = invocation_attempts(aws, spout)
    answer = client.post(
        "/api/live/trigger", json={"input": '{"hello_world_spout": "hello world"}'}
    )
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert (document["stacks"], document["ok"]) == (["attak-example"], True)
    (event,) = document["events"]
    assert (event["processor"], event["data"]) == ("hello_world_spout", "hello world")
    assert (event["via"], event["target"], event["sent"]) == ("invoke", spout, True)
    assert re.fullmatch(r"[0-9a-f]{16}", event["trace"])
    assert wait_for(lambda: invocation_attempts(aws, spout) > before)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"input": '{"revrse": 1}'}, "input: revrse: unknown processor 'revrse'"),
        ({"input": "{"}, "input: invalid JSON at line 1"),
        ({"text": "{}"}, 'the request body must be JSON: {"input": "<input.json text>"}'),
    ],
)
def test_bad_input_to_send_is_a_400_and_nothing_is_sent(
    client: TestClient, sample: dict[str, Any], aws: Client, body: dict[str, Any], message: str
) -> None:
    functions = [p["function"] for p in sample["processors"].values()]
    before = [invocation_attempts(aws, f) for f in functions]
    answer = client.post("/api/live/trigger", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(message)
    time.sleep(0.5)
    assert [invocation_attempts(aws, f) for f in functions] == before


def test_the_live_tab_shows_metrics_on_the_graph_and_follows_a_trace(
    page: Page,  # noqa: F811
    moto_server: str,
    activity: int,
    tmp_path: Path,
) -> None:
    with served(str(SAMPLE), "--endpoint-url", moto_server) as url:
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(url)
        expect(page.locator("#status")).to_have_text("✓ valid")
        page.locator("#tab-live").click()
        expect(page.locator("#live-status")).to_contain_text("attak-example")
        alarming = re.compile(r"\balarming\b")
        expect(page.locator("g.node[data-node=reverse]")).to_have_class(alarming)
        expect(page.locator("g.node[data-node=hello_world_spout]")).not_to_have_class(alarming)
        reverse_node = page.locator("g.node[data-node=reverse] .counts")
        # A calm iterator age does not fit beside the rest: it is left to the table.
        expect(reverse_node).to_have_text("4 inv · 1 err · 2 dlq")
        row = page.locator("#live-metrics tr[data-processor=reverse]")
        expect(row.locator("td")).to_have_text(
            ["⚠ reverse", "", "4", "1", "0", NO_DATA, "1.5 s", "2"]
        )
        lines = page.locator("#log-lines li")
        expect(lines.filter(has_text="about to fail")).to_have_count(1)
        expect(lines.filter(has_text="bonjour")).to_have_count(1)

        # A trace id in a record line narrows the logs to that input's path.
        page.locator("#log-lines li", has_text="✗ record").locator(".trace-link").click()
        expect(page.locator("#trace-filter")).to_have_value("trace-two")
        expect(lines).to_have_count(5)
        expect(lines.nth(0)).to_contain_text("bonjour")
        expect(lines.nth(4)).to_contain_text("[ERROR] ValueError: boom")
        page.screenshot(path=tmp_path / "live.png")
        if os.environ.get("ATTAK_UPDATE_SCREENSHOT") == "1":  # refresh the README's picture
            page.screenshot(path=REPO / "docs" / "ui-live.png")

        # Clicking a processor keeps only its lines; Simulate brings the run view back.
        page.locator("#trace-filter").fill("")
        page.locator("#trace-filter").dispatch_event("change")
        page.locator("g.node[data-node=hello_world_spout]").click()
        expect(page.locator("#clear-log-processor")).to_have_text("only hello_world_spout ✕")
        expect(lines.filter(has_text="about to fail")).to_have_count(0)
        expect(lines.filter(has_text="bonjour")).to_have_count(1)
        # The editor's input sent from the Live tab: its trace is followed at once.
        page.locator("#run").click()
        expect(page.locator("#run-state")).to_contain_text("sent 1 of 1 event to attak-example")
        sent = page.locator("#sent li")
        expect(sent).to_contain_text('hello_world_spout ← "hello world" · invoked')
        trace = sent.get_attribute("data-trace")
        assert trace and re.fullmatch(r"[0-9a-f]{16}", trace)
        expect(page.locator("#trace-filter")).to_have_value(trace)

        page.locator("#tab-simulate").click()
        expect(page.locator("#run")).to_have_text("Run ▶")
        expect(page.locator("#logs-pane")).to_be_hidden()
        assert problems == []
