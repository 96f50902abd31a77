"""Firing schedules locally: ``attak simulate --schedule-ticks N`` and ``run_topology``'s
``schedule_ticks`` send each scheduled processor the events EventBridge would, N times."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attak_cdk.errors import InputError
from attak_cdk.testing import run_topology
from cli.main import app
from tests.conftest import PASS_ON, WriteProject

TOPOLOGY = """
name: ticking
processors:
  rollup: {handler: p/rollup.py, schedule: rate(5 minutes)}
  report: {handler: p/rollup.py, schedule: {every: "cron(0 8 ? * MON-FRI *)", event: {kind: daily}}}
  sink: p/sink.py
streams:
  - [rollup, sink]
  - [report, sink]
"""
SINK = "def handler(event, context):\n    print(event)\n"


@pytest.fixture
def project(write_project: WriteProject) -> Path:
    return write_project({"topology.yml": TOPOLOGY, "p/rollup.py": PASS_ON, "p/sink.py": SINK})


def simulate(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["simulate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_ticks_need_no_input_file_when_every_entry_is_scheduled(project: Path) -> None:
    code, out, err = simulate(str(project), "--schedule-ticks", "2", "--json")
    assert code == 0, err
    document = json.loads(out)
    sent = [i["event"] for i in document["invocations"] if i["processor"] != "sink"]
    rollups = [e for e in sent if e != {"kind": "daily"}]
    assert sent.count({"kind": "daily"}) == 2
    assert [e["schedule"] for e in rollups] == ["rate(5 minutes)"] * 2
    first, second = (datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%SZ") for e in rollups)
    assert (second - first).total_seconds() == 300
    assert len(document["emitted"]["rollup"]["out"]) == 2  # sink got what rollup emitted


def test_ticks_come_after_the_input_file_when_one_is_given(project: Path) -> None:
    (project / "input.json").write_text('{"rollup": "by hand"}')
    code, out, err = simulate(str(project), "--schedule-ticks", "1", "--json")
    assert code == 0, err
    sent = [i["event"] for i in json.loads(out)["invocations"] if i["parent"] is None]
    assert sent[0] == "by hand" and len(sent) == 3


def test_without_ticks_the_input_file_is_still_required(project: Path) -> None:
    code, _, err = simulate(str(project))
    assert code == 1
    assert "input file not found" in err


def test_ticks_on_a_topology_with_no_schedule_say_so(write_project: WriteProject) -> None:
    root = write_project(
        {"topology.yml": "name: plain\nprocessors:\n  a: p/a.py\n", "p/a.py": PASS_ON}
    )
    (root / "input.json").write_text('{"a": 1}')
    code, _, err = simulate(str(root), "--schedule-ticks", "1")
    assert code == 1
    assert "no processor has a schedule to fire" in err


def test_run_topology_fires_schedules_from_a_given_start(project: Path) -> None:
    start = datetime(2026, 12, 4, 7, 58, tzinfo=UTC)  # a Friday, two minutes before 8:00
    result = run_topology(project, schedule_ticks=2, schedule_start=start)
    result.assert_ok()
    sent = [(i.processor, i.event) for i in result.invocations if i.processor != "sink"]
    assert sent == [
        ("report", {"kind": "daily"}),  # 08:00 that Friday
        ("rollup", {"time": "2026-12-04T08:03:00Z", "schedule": "rate(5 minutes)"}),
        ("rollup", {"time": "2026-12-04T08:08:00Z", "schedule": "rate(5 minutes)"}),
        ("report", {"kind": "daily"}),  # 08:00 on Monday
    ]


def test_run_topology_refuses_ticks_without_a_schedule(write_project: WriteProject) -> None:
    root = write_project(
        {"topology.yml": "name: plain\nprocessors:\n  a: p/a.py\n", "p/a.py": PASS_ON}
    )
    with pytest.raises(InputError, match="no processor has a schedule"):
        run_topology(root, {"a": 1}, schedule_ticks=1)
