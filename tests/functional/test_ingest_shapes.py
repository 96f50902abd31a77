"""The memory engine reads what real producers write into an ingest stream.

Every case of ``tests/ingest_scenarios.py`` runs here on the memory engine (the same
table runs on the Kinesis engine in ``tests/integration/test_kinesis_ingest.py``), then
what only this engine's callers see: the ``--json`` document and the UI's stream carry a
binary event, and raw data needs an ingest stream.
"""

from __future__ import annotations

import base64
import json

import pytest

from attak_cdk.errors import InputError
from attak_cdk.inputs import InputEvent
from attak_cdk.simulate.result import document, invocation_document
from attak_cdk.testing import raw_record, run_topology
from attak_cdk.ui import worker
from tests.conftest import PASS_ON, WriteProject
from tests.delivery_scenarios import Scenario
from tests.ingest_scenarios import HANDLERS, INGEST_SCENARIOS, TOPOLOGY, bad_checksum


@pytest.mark.parametrize("scenario", INGEST_SCENARIOS, ids=lambda scenario: scenario.name)
def test_ingest_scenario(scenario: Scenario, write_project: WriteProject) -> None:
    root = write_project(scenario.files())
    scenario.expect(run_topology(root, scenario.inputs))


def test_the_json_document_carries_a_binary_event_and_dead_letter_as_base64(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {**{f"p/{n}.py": s for n, s in HANDLERS.items()}, "topology.yml": TOPOLOGY}
    )
    corrupt = bad_checksum(b"\xf3\x89\x9a\xc2" + bytes(16))
    result = run_topology(root, [raw_record("reader", b"\xff\x00"), raw_record("reader", corrupt)])

    text = json.dumps(document(result))  # no bytes left in it

    parsed = json.loads(text)
    assert parsed["invocations"][0]["event"] == {"base64": base64.b64encode(b"\xff\x00").decode()}
    [letter] = parsed["dead_letters"]
    assert letter["event"] == {"base64": base64.b64encode(corrupt).decode()}


def test_raw_record_data_for_a_processor_without_an_ingest_stream_says_how_to_fix_it(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {"p/pass.py": PASS_ON, "topology.yml": "name: d\nprocessors: {a: p/pass.py}\n"}
    )
    with pytest.raises(InputError, match="'a' has none; give it `input: stream`"):
        run_topology(root, [raw_record("a", b"{}")])


def test_the_ui_stream_carries_a_binary_event(write_project: WriteProject) -> None:
    root = write_project(
        {**{f"p/{n}.py": s for n, s in HANDLERS.items()}, "topology.yml": TOPOLOGY}
    )
    result = run_topology(root, [raw_record("reader", b"\x80\x81")])

    line = worker.server_sent_event(
        "invocation", invocation_document(result, result.invocations[0])
    )

    sent = json.loads(line.split("data: ", 1)[1])
    assert sent["event"] == {"base64": base64.b64encode(b"\x80\x81").decode()}


@pytest.mark.parametrize(
    "event",
    [
        raw_record("reader", b"x" * (1024 * 1024)),
        InputEvent("reader", "x" * (1024 * 1024), "input.json: reader"),
    ],
    ids=["raw-record", "json-event"],
)
def test_input_over_kinesis_record_limit_is_refused_before_anything_runs(
    write_project: WriteProject, event: InputEvent
) -> None:
    root = write_project(
        {**{f"p/{n}.py": s for n, s in HANDLERS.items()}, "topology.yml": TOPOLOGY}
    )
    with pytest.raises(InputError, match=r"over .*1048576.* \(1 MiB\)"):
        run_topology(root, [event])
