"""logs: --since, reading pages by time, following, one trace's lines, and the runtime's
record, summary and start lines in Lambda's text and JSON log formats."""

from __future__ import annotations

import json
from typing import Any

import pytest

from attak_cdk.errors import UsageError
from attak_cdk.live.deployment import DeployedProcessor, Deployment
from attak_cdk.live.logs import (
    LogFollower,
    LogLine,
    LogReader,
    TraceFilter,
    follow,
    is_lambda_line,
    log_line,
    parse_since,
)

DEPLOYMENT = Deployment(
    topology="t",
    stacks=("t",),
    processors={
        "spout": DeployedProcessor("spout", "f1", "group-spout"),
        "sink": DeployedProcessor("sink", "f2", "group-sink"),
    },
)


def record(trace: str, outcome: str = "ok") -> str:
    return json.dumps({"attak": "record", "processor": "p", "trace": trace, "outcome": outcome})


class FakeLogs:
    """Serves {group: [(timestamp, message, stream)]} two events a page."""

    def __init__(self, groups: dict[str, list[tuple[int, str, str]]]) -> None:
        self.groups = groups
        self.calls = 0

    def filter_log_events(self, **request: Any) -> dict[str, Any]:
        self.calls += 1
        events = [
            {
                "timestamp": t,
                "message": m,
                "logStreamName": s,
                "eventId": f"{request['logGroupName']}-{t}",
            }
            for t, m, s in self.groups.get(request["logGroupName"], [])
            if t >= request["startTime"]
        ]
        start = int(request.get("nextToken", 0))
        page: dict[str, Any] = {"events": events[start : start + 2]}
        if start + 2 < len(events):
            page["nextToken"] = str(start + 2)
        return page


def line(message: str, stream: str = "s", processor: str = "p") -> LogLine:
    return log_line(processor, 0, message, stream, message)


def start(trace: str) -> str:
    """The runtime's line before a logged record's handler runs (compact, as it writes)."""
    return json.dumps({"attak": "start", "trace": trace}, separators=(",", ":"))


def batch(**fields: Any) -> str:
    """The runtime's summary line of an invocation."""
    summary = {"attak": "batch", "processor": "p", "records": 2, "events": 2, "errors": 0}
    return json.dumps({**summary, "emits": {}, **fields, "ms": 3.5}, separators=(",", ":"))


# Lambda's own lines in the JSON log format (the stack's): platform events by type.
# https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html
JSON_START = (
    '{"time":"2026-01-01T00:00:00.000Z","type":"platform.start","record":{"requestId":"r"}}'
)
JSON_REPORT = (
    '{"time":"2026-01-01T00:00:01.000Z","type":"platform.report","record":{"status":"error"}}'
)
JSON_ERROR = (
    '{"timestamp":"2026-01-01T00:00:00Z","level":"ERROR","message":{"errorMessage":"boom",'
    '"errorType":"ValueError","stackTrace":[]},"requestId":"r"}'
)


def test_since_reads_durations_and_times() -> None:
    assert parse_since("10m", now=1000.0) == 400_000
    assert parse_since("2h", now=10_000.0) == 2_800_000
    assert parse_since("2024-01-01T00:00:00+00:00") == 1_704_067_200_000
    with pytest.raises(
        UsageError, match=r"--since must be a duration such as 30s.*\(given 'soon'\)"
    ):
        parse_since("soon")


def test_lines_of_every_processor_are_merged_by_time_across_pages() -> None:
    fake = FakeLogs(
        {
            "group-spout": [(1, "a", "s"), (3, "c", "s"), (5, "e", "s")],
            "group-sink": [(2, "b", "s"), (4, "d", "s")],
        }
    )
    lines = LogReader(fake, DEPLOYMENT).read(0)
    assert [(ln.processor, ln.message) for ln in lines] == [
        ("spout", "a"), ("sink", "b"), ("spout", "c"), ("sink", "d"), ("spout", "e"),
    ]  # fmt: skip
    assert fake.calls == 3  # spout needed two pages
    assert [ln.message for ln in LogReader(fake, DEPLOYMENT, ["sink"]).read(3)] == ["d"]


def test_a_follower_shows_each_line_once() -> None:
    groups: dict[str, list[tuple[int, str, str]]] = {"group-spout": [(1, "a", "s")]}
    follower = LogFollower(LogReader(FakeLogs(groups), DEPLOYMENT), start=0)
    assert [ln.message for ln in follower.poll()] == ["a"]
    groups["group-spout"].append((2, "b", "s"))
    assert [ln.message for ln in follower.poll()] == ["b"]
    assert follower.poll() == []


def test_following_stops_when_quiet_or_at_the_timeout() -> None:
    groups: dict[str, list[tuple[int, str, str]]] = {"group-spout": [(1, "a", "s")]}
    follower = LogFollower(LogReader(FakeLogs(groups), DEPLOYMENT), start=0)
    now = [0.0]

    def tick(seconds: float) -> None:
        now[0] += seconds

    shown: list[str] = []
    reason = follow(
        follower,
        lambda ls: shown.extend(ln.message for ln in ls),
        quiet=3,
        timeout=60,
        sleep=tick,
        clock=lambda: now[0],
    )
    assert (reason, shown, now[0]) == ("quiet", ["a"], 3.0)
    empty = LogFollower(LogReader(FakeLogs({}), DEPLOYMENT), start=0)
    now[0] = 0.0
    assert follow(empty, print, quiet=3, timeout=10, sleep=tick, clock=lambda: now[0]) == "timeout"


def test_a_trace_keeps_its_records_with_what_the_handler_printed() -> None:
    lines = [
        line("START RequestId: 1"), line("printed for one"), line(record("one")),
        line("printed for two"), line(record("two", "error")), line("[ERROR] boom"),
        line("END RequestId: 1"), line("later"),
        line("other stream", stream="x"), line(record("two"), stream="x"),
    ]  # fmt: skip
    kept = TraceFilter("two").feed(lines)
    assert [ln.message for ln in kept] == [
        "printed for two", record("two", "error"), "[ERROR] boom", "other stream", record("two"),
    ]  # fmt: skip


def test_a_trace_filter_carries_its_state_across_polls() -> None:
    only = TraceFilter("one")
    assert only.feed([line("printed")]) == []
    assert [ln.message for ln in only.feed([line(record("one"))])] == ["printed", record("one")]


def test_lines_that_look_like_records_but_are_not_stay_plain() -> None:
    assert line('{"attak": "other"}').record is None
    assert line('{"attak": broken').record is None
    assert line(record("x")).record == {
        "attak": "record",
        "processor": "p",
        "trace": "x",
        "outcome": "ok",
    }


def test_the_runtimes_summary_and_start_lines_are_read_apart_from_record_lines() -> None:
    summary = line(batch(errors=1, emits={"out": 1}))
    assert summary.summary is not None and summary.summary["emits"] == {"out": 1}
    assert (summary.record, summary.start) == (None, None)
    marker = line(start("t-1"))
    assert (marker.start, marker.record, marker.summary) == ("t-1", None, None)
    assert line(record("t-1")).summary is None
    assert line(batch()).as_dict()["summary"]["records"] == 2


def test_lambdas_own_lines_are_known_in_the_text_and_the_json_log_formats() -> None:
    assert is_lambda_line("START RequestId: 1 Version: $LATEST")
    assert is_lambda_line(JSON_START) and is_lambda_line(JSON_REPORT)
    assert not is_lambda_line(JSON_ERROR)
    assert not is_lambda_line('{"msg": "platform.start of my own"}')
    assert not is_lambda_line(batch())


def test_a_sampled_trace_keeps_only_its_own_handler_output_in_a_batch_of_others() -> None:
    # Records of traces that are not sampled write no line: what their handlers print
    # is not the followed trace's, even when it comes just before its record line.
    lines = [
        line("printed by an unsampled record"),
        line(start("two")), line("printed for two"), line(record("two")),
        line("printed by another unsampled record"),
        line(batch()),
    ]  # fmt: skip
    kept = TraceFilter("two").feed(lines)
    assert [ln.message for ln in kept] == ["printed for two", record("two")]


def test_a_failed_direct_invocation_keeps_lambdas_json_error_after_the_summary_line() -> None:
    lines = [
        line(start("one")), line("about to fail"), line(record("one", "error")),
        line(batch(records=1, events=1, errors=1, error="ValueError: boom")),
        line(JSON_ERROR), line(JSON_REPORT), line("next invocation's output"),
    ]  # fmt: skip
    kept = TraceFilter("one").feed(lines)
    assert [ln.message for ln in kept] == ["about to fail", record("one", "error"), JSON_ERROR]


def test_a_failed_record_in_a_batch_stops_capturing_at_its_summary_line() -> None:
    # The batch answered with its failed record: Lambda writes no error after it.
    lines = [
        line(record("one", "error")), line(batch(errors=1)), line("printed later"),
    ]  # fmt: skip
    assert [ln.message for ln in TraceFilter("one").feed(lines)] == [record("one", "error")]


def test_a_follower_never_shows_the_runtimes_start_lines() -> None:
    groups: dict[str, list[tuple[int, str, str]]] = {
        "group-spout": [(1, start("t"), "s"), (2, "printed", "s"), (3, record("t"), "s")]
    }
    follower = LogFollower(LogReader(FakeLogs(groups), DEPLOYMENT), start=0)
    assert [ln.message for ln in follower.poll()] == ["printed", record("t")]
