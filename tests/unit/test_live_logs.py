"""logs: --since, reading pages by time, following, and one trace's lines."""

from __future__ import annotations

import json
from typing import Any

import pytest

from attak_cdk.errors import UsageError
from attak_cdk.live.deployment import DeployedProcessor, Deployment
from attak_cdk.live.logs import LogFollower, LogLine, LogReader, TraceFilter, follow, parse_since

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
    from attak_cdk.live.logs import record_of

    return LogLine(processor, 0, message, stream, message, record_of(message))


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
