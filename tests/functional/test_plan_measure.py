"""``attak plan --measure``: a local run's figures under the written ones.

What a run measures (emits per topic, sizes, handler time, failures) fills in what the
topology's ``plan:`` section and the options leave unsaid; what a person wrote wins; the
report says which figures were measured.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from attak_cdk.inputs import read_inputs
from attak_cdk.plan.assumptions import Assumptions, ProcessorAssumptions
from attak_cdk.plan.measure import beneath, measured
from attak_cdk.project import check_topology_plan
from attak_cdk.simulate import memory
from cli.main import app
from tests.conftest import SAMPLE, SINK, WriteProject

runner = CliRunner()

ROUTE = """
def handler(event, context):
    if event["kind"] == "bad":
        raise ValueError("cannot take a bad event")
    context.emit(event["kind"], event)
"""

TOPOLOGY = """
name: measured
processors:
  route: {handler: route.py, input: stream}
  clicks: sink.py
  views: sink.py
streams:
  - {from: route, to: clicks, topic: click}
  - {from: route, to: views, topic: view}
plan: {rate: 100/s}
"""


def project(write_project: WriteProject, *, plan: str = "plan: {rate: 100/s}") -> Path:
    kinds = ["click"] * 6 + ["view"] * 3 + ["bad"]
    lines = [
        json.dumps({"processor": "route", "data": {"kind": k, "pad": "x" * 200}}) for k in kinds
    ]
    return write_project(
        {
            "route.py": ROUTE,
            "sink.py": SINK,
            "topology.yml": TOPOLOGY.replace("plan: {rate: 100/s}", plan),
            "events.jsonl": "\n".join(lines) + "\n",
        }
    )


def measure(root: Path) -> Assumptions:
    planned = check_topology_plan(root)
    events = read_inputs(root / "events.jsonl", planned.topology.processors)
    return measured(planned.topology, memory.simulate(planned.topology, events))


def test_a_run_measures_emits_per_topic_sizes_failures_and_time(
    write_project: WriteProject,
) -> None:
    found = measure(project(write_project))
    route = found.of("route")
    # 10 events: 6 clicks and 3 views emitted, one event failed every attempt.
    assert route.emits == {"click": Decimal("0.6"), "view": Decimal("0.3")}
    assert found.dead_letter_share("route") == Decimal("0.1")
    assert found.error_share("route") > Decimal("0.1")  # its retries failed too
    assert route.duration is not None and found.p99["route"] >= route.duration
    assert found.sizes["route"] > 200  # the events' real JSON size
    assert found.is_measured("route", "emits") and found.is_measured("route", "input_size")


def test_written_figures_and_options_win_over_measured_ones(write_project: WriteProject) -> None:
    root = project(write_project)
    found = measure(root)
    given = Assumptions(
        size=Decimal(4096),
        duration=Decimal("0.02"),
        processors={"route": ProcessorAssumptions(emits={"click": Decimal(2)})},
    )
    laid = beneath(found, given, dead_letters_given=True)
    assert laid.entry_size("route") == 4096  # the written size for every entry
    assert laid.duration_of("route") == Decimal("0.02")  # for every processor
    assert laid.of("route").emits == {"click": Decimal(2)}
    assert laid.dead_letter_share("route") == 0  # a written share stands for all
    assert not any(laid.is_measured("route", f) for f in ("emits", "duration", "input_size"))
    # The ingest stream's measured events were 200-byte ones: a written size replaces them.
    assert "input->route" not in laid.samples
    # What was not written stays measured.
    assert laid.is_measured("route", "size") and laid.of("route").size == found.of("route").size


def test_plan_measure_prints_which_figures_a_run_measured(write_project: WriteProject) -> None:
    root = project(write_project)
    result = runner.invoke(
        app, ["plan", str(root), "--measure", "--input", str(root / "events.jsonl")]
    )
    # The run dead-lettered its bad event: the plan is printed, the warning names the
    # processor whose figures come from a failing run, and the exit code is 1.
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    warning = " ".join(result.stderr.split())
    assert "processor route: the measured run dead-lettered 1 of its 10 events" in warning
    assert "cannot take a bad event" in warning
    out = " ".join(result.stdout.split())
    assert "figures marked measured: a local run of 10 events of" in out
    assert "emits per event 'click': 0.6, 'view': 0.3 (measured)" in out
    # One bad event in ten, failing its first attempt and each retry in place.
    assert (
        "1.1 failed handler calls per event (retries included), 10% of events dead-lettered (measured)"
        in out
    )
    assert "on a 256 MB function (measured median" in out
    assert "ms on a full core, scaled to the function's share of a vCPU; p99" in out


def test_plan_measure_keeps_a_duration_given_as_an_option(write_project: WriteProject) -> None:
    root = project(write_project)
    (root / "good.jsonl").write_text(
        "".join(line + "\n" for line in (root / "events.jsonl").read_text().splitlines()[:-1])
    )
    result = runner.invoke(
        app,
        ["plan", str(root), "--measure", "-i", str(root / "good.jsonl"), "--duration", "7ms"],
    )
    assert result.exit_code == 0, result.stderr  # a run without failures
    assert "warning" not in result.stderr
    out = " ".join(result.stdout.split())
    assert "route: 7 ms per event;" in out


def test_plan_input_without_measure_is_a_usage_error(write_project: WriteProject) -> None:
    root = project(write_project)
    result = runner.invoke(app, ["plan", str(root), "--input", str(root / "events.jsonl")])
    assert result.exit_code == 2
    assert "--input is read by --measure" in result.stderr


def test_plan_measure_on_an_empty_input_says_so(write_project: WriteProject) -> None:
    root = project(write_project)
    (root / "empty.jsonl").write_text("\n")
    result = runner.invoke(app, ["plan", str(root), "--measure", "-i", str(root / "empty.jsonl")])
    assert result.exit_code == 1
    assert "holds no events: --measure has nothing to run" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_plan_measure_plans_from_a_run_that_stopped_early_and_says_so(
    write_project: WriteProject,
) -> None:
    doubling = (
        "def handler(event, context):\n    context.emit('x', event)\n    context.emit('x', event)\n"
    )
    root = write_project(
        {
            "double.py": doubling,
            "topology.yml": "name: boom\nprocessors: {a: double.py}\nstreams: [[a, a]]\n",
            "input.json": '{"a": 0}',
        }
    )
    result = runner.invoke(app, ["plan", str(root), "--measure", "--json"])
    assert result.exit_code == 1
    plan = json.loads(result.stdout)
    assert any("the measured run stopped before its end" in w for w in plan["warnings"])


def test_what_a_handler_prints_is_measured_as_its_log_per_event() -> None:
    planned = check_topology_plan(SAMPLE)
    events = read_inputs(SAMPLE / "input.json", planned.topology.processors)
    found = measured(planned.topology, memory.simulate(planned.topology, events))
    # The spout prints 'hello world' and a newline for its one event; reverse prints nothing.
    assert found.of("hello_world_spout").log == 12
    assert found.of("reverse").log == 0
    assert found.is_measured("hello_world_spout", "log")
    written = Assumptions(processors={"hello_world_spout": ProcessorAssumptions(log=Decimal(0))})
    assert beneath(found, written, dead_letters_given=False).of("hello_world_spout").log == 0
