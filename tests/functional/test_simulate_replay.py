"""`attak simulate --dead-letters-out` then `--replay-dead-letters`: fix the handler, run the
failed events again, each back where it was read."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from tests.conftest import WriteProject

PROJECT = {
    "topology.yml": """
        name: replayed
        processors:
          orders: {handler: ./orders.py, input: stream}
          billing: ./billing.py
          audit: ./audit.py
        streams:
          - [orders, billing, billed]
        """,
    "orders.py": "def handler(event, context):\n    context.emit('billed', event)\n",
    "billing.py": """
        def handler(event, context):
            if event["order"] == 2:
                raise ValueError("bad order")
            print("billed", event["order"])
        """,
    "audit.py": """
        def handler(event, context):
            raise RuntimeError("audit down")
        """,
    "input.jsonl": """
        {"processor": "orders", "data": {"order": 1}}
        {"processor": "orders", "data": {"order": 2}}
        {"processor": "audit", "data": "daily check"}
        """,
}
FIXED = {
    "billing.py": "def handler(event, context):\n    print('billed', event['order'])\n",
    "audit.py": "def handler(event, context):\n    pass\n",
}


def simulate(folder: Path, *arguments: str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(app, ["simulate", str(folder), "--json", *arguments])
    return result.exit_code, json.loads(result.stdout) if result.stdout else {}


def test_failed_events_replayed_after_the_fix_go_back_where_they_were_read(
    write_project: WriteProject, tmp_path: Path
) -> None:
    folder = write_project(PROJECT)
    letters = tmp_path / "letters.json"
    code, first = simulate(
        folder, "--input", str(folder / "input.jsonl"), "--dead-letters-out", str(letters)
    )
    assert code == 1
    written = json.loads(letters.read_text())
    assert written["dead_letters"] == first["dead_letters"]
    assert sorted((d["processor"], d["source"]) for d in written["dead_letters"]) == [
        ("audit", "input"),
        ("billing", "orders->billing[billed]"),
    ]
    write_project(FIXED)
    code, second = simulate(folder, "--replay-dead-letters", str(letters))
    assert code == 0, second
    calls = [(i["processor"], i["source"], i["event"], i["trace"]) for i in second["invocations"]]  # type: ignore[union-attr]
    billed = next(d for d in written["dead_letters"] if d["processor"] == "billing")
    # Only billing read the replayed letter, from its stream, with its trace: orders did
    # not run again, and order 1 was not billed twice.
    assert ("billing", "orders->billing[billed]", {"order": 2}, billed["trace"]) in calls
    assert [c[0] for c in calls].count("billing") == 1
    assert "orders" not in [c[0] for c in calls]
    assert ("audit", "input", "daily check") in [c[:3] for c in calls]
    (billing,) = [i for i in second["invocations"] if i["processor"] == "billing"]  # type: ignore[union-attr]
    assert billing["from"] == "orders"


def test_replaying_a_file_that_is_not_one_names_it(
    write_project: WriteProject, tmp_path: Path
) -> None:
    folder = write_project(PROJECT)
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"orders": 1}')
    result = CliRunner().invoke(app, ["simulate", str(folder), "--replay-dead-letters", str(wrong)])
    assert result.exit_code == 1
    assert f"{wrong}: not a dead-letters file" in result.stderr


def test_a_letter_of_a_stream_no_longer_in_the_topology_is_named(
    write_project: WriteProject, tmp_path: Path
) -> None:
    folder = write_project(PROJECT)
    letters = tmp_path / "letters.json"
    letter = {"processor": "billing", "source": "gone->billing", "event": 1, "trace": "t",
              "topic": "x", "sender": "gone", "hops": 1}  # fmt: skip
    letters.write_text(json.dumps({"dead_letters": [letter]}))
    result = CliRunner().invoke(
        app, ["simulate", str(folder), "--replay-dead-letters", str(letters)]
    )
    assert result.exit_code == 1
    assert (
        "dead_letters[0]: stream 'gone->billing' into 'billing' is not in the topology"
        in result.stderr
    )


def test_input_and_replay_together_is_a_usage_error(
    write_project: WriteProject, tmp_path: Path
) -> None:
    folder = write_project(PROJECT)
    result = CliRunner().invoke(
        app, ["simulate", str(folder), "--input", "x.json", "--replay-dead-letters", "y.json"]
    )
    assert result.exit_code == 2
    assert "give one of --input and --replay-dead-letters" in result.stderr
