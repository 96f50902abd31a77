"""``attak plan`` prices schedules: a scheduled processor's rate is its schedule's (a rate
expression's period, a cron expression's firings in 30 days), whatever rate the plan
gives, and EventBridge's own line says what its rules cost (nothing)."""

from __future__ import annotations

import json
from decimal import Decimal

from typer.testing import CliRunner

from cli.main import app
from tests.conftest import PASS_ON, WriteProject

TOPOLOGY = """
name: ticking
processors:
  rollup: {handler: p/a.py, schedule: rate(5 minutes)}
  report: {handler: p/a.py, schedule: "cron(0 8 ? * MON-FRI *)"}
  sink: p/a.py
streams:
  - [rollup, sink]
plan: {rate: 1000/s}
"""


def test_scheduled_invocations_are_priced_at_their_schedules_rate(
    write_project: WriteProject,
) -> None:
    root = write_project({"topology.yml": TOPOLOGY, "p/a.py": PASS_ON})
    result = CliRunner().invoke(app, ["plan", str(root), "--json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    processors = {p["name"]: p for p in doc["processors"]}
    # Every 5 minutes, not the plan's 1000/s: the schedule is what invokes it.
    assert processors["rollup"]["invocations_per_second"] == round(1 / 300, 3)
    assert processors["sink"]["events_per_second"] == round(1 / 300, 3)
    assumed = "\n".join(doc["assumptions"])
    assert "rollup: scheduled every 5 minutes, 8,640 times in 30 days" in assumed
    assert "report: scheduled on cron(0 8 ? * MON-FRI *) (UTC), 22 times in 30 days" in assumed
    (line,) = [x for x in doc["monthly"]["lines"] if x["item"] == "EventBridge schedules"]
    assert Decimal(line["at_load"]) == 0
    # 8,640 + 22 firings in 30 days, over the plan's month of 730 hours.
    assert line["detail"].startswith(f"2 scheduled rules, {round(8662 * 730 / 720):,} invocations")


def test_a_topology_without_schedules_has_no_eventbridge_line(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {"topology.yml": "name: plain\nprocessors:\n  a: p/a.py\n", "p/a.py": PASS_ON}
    )
    result = CliRunner().invoke(app, ["plan", str(root), "--json", "--rate", "1/s"])
    assert result.exit_code == 0, result.stderr
    items = [x["item"] for x in json.loads(result.stdout)["monthly"]["lines"]]
    assert "EventBridge schedules" not in items
