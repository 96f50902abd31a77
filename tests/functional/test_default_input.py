"""Which input file `attak simulate`, `trigger`, the UI and `run_topology` read by default."""

from __future__ import annotations

from pathlib import Path

from attak_cdk.inputs import default_input


def test_input_json_beside_the_topology_is_the_default(tmp_path: Path) -> None:
    (tmp_path / "input.json").write_text("{}")
    (tmp_path / "input.jsonl").write_text("")
    assert default_input(tmp_path / "topology.yml") == tmp_path / "input.json"


def test_input_jsonl_is_read_when_there_is_no_input_json(tmp_path: Path) -> None:
    (tmp_path / "input.jsonl").write_text("")
    assert default_input(tmp_path / "topology.yml") == tmp_path / "input.jsonl"


def test_with_neither_the_missing_input_json_is_named(tmp_path: Path) -> None:
    # The message for a missing file names input.json, the form most topologies start with.
    assert default_input(tmp_path / "topology.yml") == tmp_path / "input.json"
