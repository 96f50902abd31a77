"""``attak plan``'s report is read whole: no number or header is ever cut, a narrow
terminal gets a stacked layout, and the bill names its dominant line with what would
change it."""

from __future__ import annotations

import io
import json
import re

from rich.console import Console
from typer.testing import CliRunner

from attak_cdk.plan.assumptions import with_command_line
from attak_cdk.plan.cost import plan_topology
from attak_cdk.plan.prices import read_prices
from attak_cdk.plan.result import Plan
from attak_cdk.project import check_topology_plan
from cli.main import app
from cli.render.plan import plan_report
from tests.conftest import PASS_ON, SAMPLE, WriteProject

runner = CliRunner()

LONG = """
name: clickstream
processors:
  sessionize: {handler: p.py, input: stream}
  aggregate_sessions_by_region_and_hour: p.py
streams:
  - {from: sessionize, to: aggregate_sessions_by_region_and_hour, topic: session_event}
plan: {rate: 1 TB/day, duration: 3 ms}
"""


ON_DEMAND = """
name: od
processors:
  a: {handler: p.py, input: stream}
  b: p.py
streams: [[a, b]]
plan: {rate: 1 TB/day, duration: 0.01 ms, compression: 1x}
"""


def planned(root: object, *options: str) -> Plan:
    plan = check_topology_plan(root)  # type: ignore[arg-type]
    assumptions = with_command_line(
        plan.assumptions, plan.topology.processors, rates=[o for o in options if o]
    )
    return plan_topology(plan.topology, assumptions, read_prices())


def render(result: Plan, *, width: int, terminal: bool) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=terminal, no_color=True)
    plan_report(result, console=console, errors=console)
    return re.sub(r"\x1b\[[0-9;]*m", "", buffer.getvalue())


def figures(result: Plan) -> list[str]:
    """Every number the tables show, formatted as the report formats them."""
    shown = [f"{line.at_load:,.2f}" for line in result.lines]
    shown += [f"{p.gb_seconds_per_month:,.0f}" for p in result.processors]
    shown += [f"{s.bytes_per_second / 1024**2:,.2f}" for s in result.streams]
    return shown


def test_piped_output_is_as_wide_as_its_tables_with_every_name_and_number_whole(
    write_project: WriteProject,
) -> None:
    root = write_project({"p.py": "def handler(event, context):\n    pass\n", "topology.yml": LONG})
    result = planned(root)
    text = render(result, width=80, terminal=False)
    assert "sessionize->aggregate_sessions_by_region_and_hour[session_event]" in text
    for header in ("records/s", "provisioned", "invocations/s", "GB-s/month"):
        assert re.search(rf"(^|\s){re.escape(header)}(\s|$)", text, re.M), header
    for number in figures(result):
        assert re.search(rf"(^|\s){re.escape(number)}(\s|$)", text, re.M), number


def test_a_narrow_terminal_gets_each_row_stacked_with_every_figure_whole(
    write_project: WriteProject,
) -> None:
    root = write_project({"p.py": "def handler(event, context):\n    pass\n", "topology.yml": LONG})
    result = planned(root)
    text = render(result, width=70, terminal=True)
    lines = text.splitlines()
    # The stream table does not fit 70 columns: one block per stream, a line per figure.
    assert "sessionize->aggregate_sessions_by_region_and_hour[session_event]" in lines
    assert any(re.fullmatch(r"  records/s\s+[\d,.]+", line) for line in lines)
    assert any(re.fullmatch(r"  cheaper\s+(provisioned|on-demand)", line) for line in lines)
    for number in figures(result):
        assert re.search(rf"(^|\s){re.escape(number)}(\s|$)", text, re.M), number


def test_a_wide_terminal_gets_the_tables(write_project: WriteProject) -> None:
    root = write_project({"p.py": "def handler(event, context):\n    pass\n", "topology.yml": LONG})
    text = render(planned(root), width=200, terminal=True)
    assert re.search(r"^stream\s+records/s\s+MB/s\s+shards", text, re.M)


def test_the_bill_names_its_dominant_line_and_what_would_change_it(
    write_project: WriteProject,
) -> None:
    result = planned(SAMPLE, "1 TB/day")
    top = max(result.lines, key=lambda line: line.at_load)
    assert result.dominant.startswith(f"{top.item}, ${top.at_load:,.2f} of ${result.at_load:,.2f}")
    # The sample's spout is invoked once per event: its requests dominate.
    assert top.item == "Lambda requests"
    assert "hello_world_spout is invoked once per event" in result.dominant
    assert "input: stream" in result.dominant
    idle = planned(SAMPLE)
    assert idle.dominant.startswith("Kinesis streams, $10.95 of $14.95 idle")
    # Streams left on-demand at 1 TB/day: provisioned shards would cost far less.
    root = write_project({"p.py": PASS_ON, "topology.yml": ON_DEMAND})
    loaded = planned(root)
    assert loaded.dominant.startswith("Kinesis streams")
    assert re.search(
        r"stream a->b is on-demand at \$[\d,.]+; provisioned \(\d+ shards: shards: auto\)",
        loaded.dominant,
    )


def test_an_entry_invoked_directly_at_scale_is_told_what_an_ingest_stream_would_cost() -> None:
    result = planned(SAMPLE, "1 TB/day")
    warning = next(w for w in result.warnings if w.startswith("entry hello_world_spout"))
    cheaper = re.search(r"it would cost \$([\d,.]+)$", warning)
    assert cheaper is not None
    assert float(cheaper.group(1).replace(",", "")) < float(result.at_load) * 0.8
    # At a trickle, the ingest stream's hours would cost more than it saves: no warning.
    trickle = planned(SAMPLE, "1/s")
    assert not any(w.startswith("entry ") for w in trickle.warnings)


def test_plan_json_carries_the_dominant_line() -> None:
    result = runner.invoke(app, ["plan", str(SAMPLE), "--rate", "1 TB/day", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["dominant"].startswith("Lambda requests, $")
