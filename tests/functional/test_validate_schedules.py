"""``schedule:`` on a processor: every expression EventBridge would refuse, and a schedule
on a processor that streams feed, reported with the file and the path, all at once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from attak_cdk.errors import TopologyError
from attak_cdk.loader import read_topology
from attak_cdk.project import check_topology
from attak_cdk.schedules import expression_problems, fire_times, fires_per_second
from cli.main import app
from tests.conftest import PASS_ON, SINK, WriteProject

HANDLERS = {"processors/spout.py": PASS_ON, "processors/sink.py": SINK}

BAD = """
name: scheduled
processors:
  fast: {handler: processors/spout.py, schedule: rate(30 seconds)}
  plural: {handler: processors/spout.py, schedule: rate(1 minutes)}
  cron: {handler: processors/spout.py, schedule: "cron(0 8 * * * *)"}
  ranges: {handler: processors/spout.py, schedule: {every: "cron(0 24 ? * MON *)", evnt: 1}}
  fed: {handler: processors/sink.py, schedule: rate(1 hour)}
streams:
  - [fast, fed]
"""


def test_every_bad_schedule_is_reported_at_its_path(write_project: WriteProject) -> None:
    root = write_project({**HANDLERS, "topology.yml": BAD})
    with pytest.raises(TopologyError) as caught:
        read_topology(root)
    found = {issue.path: issue.message for issue in caught.value.issues}
    assert all(issue.file.endswith("topology.yml") for issue in caught.value.issues)
    assert "nothing shorter than a minute" in found["processors.fast.schedule"]
    assert "write rate(1 minute)" in found["processors.plural.schedule"]
    assert "one of day-of-month and day-of-week must be '?'" in found["processors.cron.schedule"]
    assert "hours: 24 is outside 0-23" in found["processors.ranges.schedule.every"]
    assert "unknown key 'evnt' (did you mean 'event'?)" in found["processors.ranges.schedule.evnt"]
    assert len(found) == 5


def test_a_schedule_on_a_processor_streams_feed_is_refused(write_project: WriteProject) -> None:
    text = BAD.split("  fast:")[0] + (
        "  start: {handler: processors/spout.py, schedule: rate(5 minutes)}\n"
        "  fed: {handler: processors/sink.py, schedule: rate(1 hour)}\n"
        "streams:\n  - [start, fed]\n"
    )
    root = write_project({**HANDLERS, "topology.yml": text})
    with pytest.raises(TopologyError) as caught:
        check_topology(root)
    (issue,) = [i for i in caught.value.issues if i.severity == "error"]
    assert (issue.code, issue.path) == ("schedule-not-entry", "processors.fed.schedule")
    assert "fed by streams (from start)" in issue.message


def test_the_cli_reports_all_schedule_problems_and_exits_1(write_project: WriteProject) -> None:
    root = write_project({**HANDLERS, "topology.yml": BAD})
    result = CliRunner().invoke(app, ["validate", str(root)])
    code, err = result.exit_code, result.stderr
    assert code == 1
    assert "processors.fast.schedule" in err and "processors.cron.schedule" in err


def test_a_constant_event_and_a_plain_expression_are_read(write_project: WriteProject) -> None:
    text = (
        "name: s\nprocessors:\n"
        "  report: {handler: processors/spout.py, schedule: {every: 'cron(0 8 ? * MON-FRI *)', "
        "event: {kind: daily}}}\n"
        "  rollup: {handler: processors/sink.py, schedule: rate(5 minutes)}\n"
    )
    topology = read_topology(write_project({**HANDLERS, "topology.yml": text}))
    report, rollup = topology.processors["report"].schedule, topology.processors["rollup"].schedule
    assert report is not None and rollup is not None
    when = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    assert report.event_at(when) == {"kind": "daily"}
    assert rollup.event_at(when) == {"time": "2026-12-03T08:00:00Z", "schedule": "rate(5 minutes)"}


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 day)",
        "cron(0 12 * * ? *)",
        "cron(0/15 * ? * MON-FRI *)",
        "cron(0 8 L * ? *)",
        "cron(0 8 15W * ? *)",
        "cron(0 8 ? * 3#2 *)",
        "cron(0 8 ? * 6L 2027-2030)",
        "cron(30 6 1,15 JAN-MAR ? *)",
    ],
)
def test_expressions_eventbridge_takes_are_valid(expression: str) -> None:
    assert expression_problems(expression) == []


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("rate(0 minutes)", "a whole number from 1"),
        ("rate(5 hour)", "write rate(5 hours)"),
        ("rate(5  minutes)", "with one space"),
        ("cron(0 8 * * ?)", "has 6 fields"),
        ("cron(0 8 ? * ? *)", "must be '?'"),
        ("cron(0 8 32 * ? *)", "day-of-month: 32 is outside 1-31"),
        ("cron(0 8 ? * FRI-MON *)", "runs backwards"),
        ("cron(0 8 ? * 3#1,6#3 *)", "'#' takes one day"),
        ("cron(0 8 ? * 3W *)", "day-of-week: '3W' is not a value"),
        ("cron(0 8 ? * MON 2200)", "year: 2200 is outside 1970-2199"),
        ("every day", "is not a schedule"),
    ],
)
def test_expressions_eventbridge_refuses_say_why(expression: str, problem: str) -> None:
    (message,) = expression_problems(expression)
    assert problem in message


def test_fire_times_follow_the_expression() -> None:
    start = datetime(2026, 12, 3, 17, 5, 30, tzinfo=UTC)  # a Thursday
    assert fire_times("rate(5 minutes)", start, 2) == [
        datetime(2026, 12, 3, 17, 10, tzinfo=UTC),
        datetime(2026, 12, 3, 17, 15, tzinfo=UTC),
    ]
    weekdays = fire_times("cron(0 8 ? * MON-FRI *)", start, 3)
    assert [t.day for t in weekdays] == [4, 7, 8]  # Friday, then Monday and Tuesday
    assert [t.day for t in fire_times("cron(0 8 ? * 3#2 *)", start, 2)] == [8, 12]
    assert fire_times("cron(0 8 1 1 ? 2026)", start, 1) == []  # its only year is over


def test_fires_per_second_counts_a_month_of_firings() -> None:
    month = 30 * 86400
    assert round(fires_per_second("rate(5 minutes)") * month) == 8640
    assert round(fires_per_second("cron(0 8 ? * MON-FRI *)") * month) == 22
