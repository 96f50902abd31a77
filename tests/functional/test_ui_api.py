"""The UI's web API through starlette's TestClient: the topology view and the run stream."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from attak_cdk.errors import TopologyError
from attak_cdk.testing import run_topology
from attak_cdk.ui.app import STATIC, create_app
from tests.conftest import PASS_ON, REVERSE, SAMPLE, SINK, WriteProject
from tests.delivery_scenarios import SCENARIOS, Scenario

SAMPLE_INPUT = (SAMPLE / "input.json").read_text(encoding="utf-8")


def client(path: Path) -> TestClient:
    return TestClient(create_app(path))


def run_events(path: Path, body: dict[str, Any]) -> list[tuple[str, Any]]:
    """POST /api/run and read its server-sent events as (kind, data) pairs."""
    with client(path).stream("POST", "/api/run", json=body) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return parse_events("".join(response.iter_text()))


def parse_events(text: str) -> list[tuple[str, Any]]:
    """Server-sent events as (kind, data) pairs, each strictly one kind line, one data line."""
    events = []
    for block in text.split("\n\n"):
        if block.strip():
            kind, data = block.split("\n")
            events.append((kind.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


def test_the_page_and_its_assets_need_no_network() -> None:
    web = client(SAMPLE)
    page = web.get("/")
    assert page.status_code == 200
    assert '<svg id="graph"' in page.text
    assets = re.findall(r'"(/static/[\w.]+)"', page.text)
    assert {"/static/ui.js", "/static/ui.css", "/static/live.js"} <= set(assets)
    for asset in assets:
        assert web.get(asset).status_code == 200, asset
    for file in STATIC.iterdir():
        text = file.read_text(encoding="utf-8")
        # The one URL allowed is SVG's namespace name, which is never fetched.
        assert set(re.findall(r"https?://[^\s\"')]+", text)) <= {"http://www.w3.org/2000/svg"}


def test_topology_view_of_the_sample() -> None:
    view = client(SAMPLE).get("/api/topology").json()
    assert view["topology"] == "attak-example"
    assert view["ok"] and view["issues"] == []
    assert view["file"].endswith("topology.yml")
    assert json.loads(view["input"]) == {"hello_world_spout": "hello world"}
    nodes = {n["id"]: n for n in view["nodes"]}
    assert nodes["hello_world_spout"]["entry"] and not nodes["reverse"]["entry"]
    assert nodes["sink:reverse:reversed strings"]["kind"] == "sink"
    stream, sink = view["edges"]
    assert stream["stream"] == "hello_world_spout->reverse" and stream["topic"] is None
    assert (sink["source"], sink["topic"]) == ("reverse", "reversed strings")
    spout, reverse = nodes["hello_world_spout"], nodes["reverse"]
    assert spout["rank"] == 0 and reverse["rank"] == 1
    assert stream["points"][0] == [spout["x"] + spout["width"], spout["y"] + spout["height"] / 2]
    assert view["width"] >= reverse["x"] + reverse["width"]


def test_issues_are_shown_on_the_nodes_and_streams_they_concern(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {
            "p/spout.py": PASS_ON,
            "p/reverse.py": REVERSE,
            "topology.yml": """
                name: broken
                processors:
                  spout: p/spout.py
                  reverse: p/reverse.py
                  gone: p/gone.py
                streams:
                  - [spout, reverse, out]
                  - [reverse, revers]
            """,
        }
    )
    view = client(root).get("/api/topology").json()
    assert not view["ok"] and view["errors"] == 2
    nodes = {n["id"]: n for n in view["nodes"]}
    assert [i["code"] for i in nodes["gone"]["issues"]] == ["missing-handler"]
    assert nodes["revers"]["kind"] == "missing"  # named by a stream, drawn as a ghost
    edges = {e["id"]: e for e in view["edges"]}
    (unknown,) = edges["streams[1]"]["issues"]
    assert unknown["path"] == "streams[1].to"
    assert "did you mean 'reverse'" in unknown["message"]
    assert nodes["gone"]["x"] is not None and edges["streams[1]"]["points"]
    # gone is unreachable too: a warning, on the same node.
    assert {i["severity"] for i in nodes["gone"]["issues"]} == {"error"}
    assert {i["code"] for i in view["issues"]} >= {"missing-handler", "unknown-processor"}


def test_a_topology_that_cannot_be_parsed_is_shown_as_its_issues(
    write_project: WriteProject,
) -> None:
    root = write_project({"topology.yml": "name: [unclosed\n"})
    view = client(root).get("/api/topology").json()
    assert view["nodes"] == [] and not view["ok"]
    assert "invalid YAML" in view["topology_issues"][0]["message"]


def test_fifty_processors_are_laid_out_without_overlap(write_project: WriteProject) -> None:
    names = [f"step_{i:02d}" for i in range(50)]
    processors = "\n".join(f"  {n}: p/pass_on.py" for n in names)
    streams = "\n".join(
        f"  - [{names[i]}, {names[j]}]" for j in range(5, 50) for i in {j - 5, (j * 7) % j}
    )
    root = write_project(
        {
            "p/pass_on.py": PASS_ON,
            "topology.yml": f"name: fifty\nprocessors:\n{processors}\nstreams:\n{streams}\n",
        }
    )
    view = client(root).get("/api/topology").json()
    boxes = [n for n in view["nodes"] if n["kind"] == "processor"]
    assert len(boxes) == 50
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a["x"] + a["width"] <= b["x"]
                or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"]
                or b["y"] + b["height"] <= a["y"]
            )
            assert apart, (a["id"], b["id"])


def test_a_run_streams_every_invocation_then_the_summary() -> None:
    events = run_events(SAMPLE, {"input": SAMPLE_INPUT})
    kinds = [kind for kind, _ in events]
    assert kinds == ["start", "invocation", "invocation", "end"]
    assert events[0][1] == {"topology": "attak-example", "events": 1}
    spout, reverse = (data for kind, data in events if kind == "invocation")
    assert (spout["id"], spout["parent"], spout["processor"]) == (1, None, "hello_world_spout")
    assert spout["logs"] == "hello world\n"
    assert reverse["parent"] == 1 and reverse["trace"] == spout["trace"]
    assert reverse["source"] == "hello_world_spout->reverse"
    assert reverse["emits"] == [{"topic": "reversed strings", "data": "dlrow olleh", "to": []}]
    end = events[-1][1]
    assert end["ok"] and end["invocations"] == end["shown"] == 2
    assert end["summary"]["reverse"]["invocations"] == 1
    assert end["emitted"]["reverse"] == {"reversed strings": ["dlrow olleh"]}


def test_a_failing_record_streams_its_traceback_and_dead_letter(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {
            "p/spout.py": PASS_ON,
            "p/bad.py": "def handler(event, context):\n    raise ValueError('no ' + event)\n",
            "p/sink.py": SINK,
            "topology.yml": """
                name: failing
                processors: {spout: p/spout.py, bad: p/bad.py}
                streams: [{from: spout, to: bad, retry_attempts: 1}]
            """,
        }
    )
    events = run_events(root, {"input": '{"spout": "x"}'})
    failures = [data for kind, data in events if kind == "invocation" and data["error"]]
    assert [f["attempt"] for f in failures] == [1, 2]
    assert failures[0]["error"]["message"] == "ValueError: no x"
    assert 'p/bad.py", line 2' in failures[0]["error"]["traceback"]
    assert "attak_cdk" not in failures[0]["error"]["traceback"]
    end = events[-1][1]
    assert not end["ok"]
    (letter,) = end["dead_letters"]
    assert (letter["processor"], letter["event"], letter["attempts"]) == ("bad", "x", 2)


def test_what_handlers_write_outside_an_invocation_stays_out_of_the_stream(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {
            "p/noisy.py": """
                import os
                print("importing noisy")  # at import time: the init log, in Lambda
                os.write(1, b"junk from the module\\n")

                def handler(event, context):
                    print("handled", event)
                    os.write(1, b"junk from the handler\\n")
                    os.system("echo hi from a subprocess")
                    context.emit("out", event)
            """,
            "p/sink.py": SINK,
            "topology.yml": """
                name: noisy
                processors: {noisy: p/noisy.py, sink: p/sink.py}
                streams: [[noisy, sink]]
            """,
        }
    )
    events = run_events(root, {"input": '{"noisy": 1}'})  # parses every event strictly
    assert [kind for kind, _ in events] == ["start", "invocation", "invocation", "end"]
    # what the module printed as it was imported opens its first invocation's log
    assert events[1][1]["logs"] == "importing noisy\nhandled 1\n"
    assert events[-1][1]["ok"]


def test_a_run_uses_the_handler_as_edited_since_the_last_run(write_project: WriteProject) -> None:
    root = write_project(
        {
            "p/say.py": "def handler(event, context):\n    print('one')\n",
            "topology.yml": "name: edited\nprocessors: {say: p/say.py}\n",
        }
    )
    web = client(root)

    def logs() -> str:
        with web.stream("POST", "/api/run", json={"input": '{"say": 1}'}) as response:
            events = parse_events("".join(response.iter_text()))
        return str(events[1][1]["logs"])

    assert logs() == "one\n"
    # The same size, likely saved within the same second: a bytecode cache would miss it.
    (root / "p/say.py").write_text("def handler(event, context):\n    print('two')\n")
    assert logs() == "two\n"


def test_a_breakpoint_left_in_a_handler_does_not_stop_a_run_from_the_page(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {
            "p/stop.py": "def handler(event, context):\n    breakpoint()\n    print('after')\n",
            "topology.yml": "name: stops\nprocessors: {stop: p/stop.py}\n",
        }
    )
    with client(root).stream("POST", "/api/run", json={"input": '{"stop": 1}'}) as response:
        events = parse_events("".join(response.iter_text()))
    invocation = dict(events)["invocation"]
    assert (invocation["error"], invocation["logs"]) == (None, "after\n")
    assert dict(events)["end"]["ok"] is True


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"input": "{not json"}, "input: invalid JSON at line 1, column 2"),
        ({"input": '{"hello_world_spou": 1}'}, "did you mean 'hello_world_spout'?"),
        ({"input": "[1, 2]"}, "input must be a JSON object mapping processor names"),
        ({"input": "{}"}, "no events to send"),
        ({"input": '{"reverse": NaN}'}, "NaN is not JSON data"),
        ({"text": "{}"}, 'the request body must be JSON: {"input"'),
        ({"input": "{}", "max_hops": 0}, "max_hops must be a whole number from 1"),
    ],
)
def test_bad_input_is_a_400_with_a_clear_message(body: dict[str, Any], message: str) -> None:
    response = client(SAMPLE).post("/api/run", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_a_body_that_is_not_json_is_a_400() -> None:
    response = client(SAMPLE).post("/api/run", content=b"hello")
    assert response.status_code == 400
    assert "must be JSON" in response.json()["error"]


def test_a_topology_with_errors_does_not_run(write_project: WriteProject) -> None:
    root = write_project({"topology.yml": "name: t\nprocessors: {a: missing.py}\n"})
    response = client(root).post("/api/run", json={"input": '{"a": 1}'})
    assert response.status_code == 400
    assert "the topology has 1 problem" in response.json()["error"]
    assert "handler file not found" in response.json()["error"]


def test_a_path_with_no_topology_is_an_error_at_once(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="no topology file in this folder"):
        create_app(tmp_path)


MISBEHAVING = [
    scenario
    for scenario in SCENARIOS
    if scenario.name
    in {
        "a_handler_that_ends_the_process_fails_its_invocation_as_lambda_does",
        "a_runaway_recursion_is_an_event_failure_with_its_traceback_folded",
        "an_async_handler_runs_to_its_end",
        "logging_and_import_output_reach_the_invocations_log",
        "an_emit_reports_what_was_sent_not_what_the_object_became",
        "max_hops_counts_stream_hops_not_emits_to_a_sink",
    }
]


@pytest.mark.parametrize("scenario", MISBEHAVING, ids=lambda scenario: scenario.name)
def test_handlers_that_misbehave_end_in_the_ui_worker_as_in_simulate(
    scenario: Scenario, write_project: WriteProject
) -> None:
    root = write_project(scenario.files())
    expected = run_topology(root, scenario.inputs)
    lines = "".join(
        json.dumps({"processor": processor, "data": data}) + "\n"
        for processor, data in scenario.inputs
    )
    events = run_events(root, {"input": lines})
    end = events[-1][1]
    assert events[-1][0] == "end", events[-1]
    assert end["ok"] == expected.ok
    assert [(d["processor"], d["error"]) for d in end["dead_letters"]] == [
        (d.processor, d.error) for d in expected.dead_letters
    ]
    streamed = [data for kind, data in events if kind == "invocation"]
    assert [i["logs"] for i in streamed] == [i.logs for i in expected.invocations]


def test_replay_dead_letters_runs_the_last_run_s_letters_back_into_their_streams(
    write_project: WriteProject,
) -> None:
    from tests.functional.test_simulate_replay import FIXED, PROJECT

    folder = write_project(PROJECT)
    first = dict(run_events(folder, {"input": (folder / "input.jsonl").read_text()}))
    letters = first["end"]["dead_letters"]
    assert sorted(d["processor"] for d in letters) == ["audit", "billing"]
    write_project(FIXED)
    events = run_events(folder, {"dead_letters": letters})
    end = dict(events)["end"]
    assert end["ok"] and end["dead_letters"] == []
    calls = [(d["processor"], d["source"], d["event"]) for k, d in events if k == "invocation"]
    # billing read its letter from its stream (orders did not run again); audit, directly.
    assert sorted(calls, key=str) == sorted(
        [("audit", "input", "daily check"), ("billing", "orders->billing[billed]", {"order": 2})],
        key=str,
    )


def test_replaying_letters_of_a_processor_not_in_the_topology_is_a_400(
    write_project: WriteProject,
) -> None:
    from tests.functional.test_simulate_replay import PROJECT

    folder = write_project(PROJECT)
    response = client(folder).post("/api/run", json={"dead_letters": [{"processor": "gone"}]})
    assert response.status_code == 400
    assert "replay: dead_letters[0]: unknown processor 'gone'" in response.json()["error"]


SCHEDULED = """
name: ticking
processors:
  report: {handler: p/a.py, schedule: {every: rate(1 hour), event: {kind: hourly}}}
  plain: p/a.py
"""


def test_a_schedule_is_fired_from_the_page_with_its_event(write_project: WriteProject) -> None:
    root = write_project({"topology.yml": SCHEDULED, "p/a.py": PASS_ON})
    view = client(root).get("/api/topology").json()
    schedules = {n["id"]: n["schedule"] for n in view["nodes"] if n["kind"] == "processor"}
    assert schedules == {"report": "rate(1 hour)", "plain": None}  # the page's buttons
    with client(root).stream(
        "POST", "/api/schedule", json={"processor": "report", "ticks": 2}
    ) as r:
        assert r.status_code == 200, r.read()
        events = parse_events("".join(r.iter_text()))
    invoked = [(d["processor"], d["event"]) for kind, d in events if kind == "invocation"]
    assert invoked == [("report", {"kind": "hourly"})] * 2
    assert events[-1][1]["ok"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"processor": "plain"}, "processor 'plain' has no schedule to fire"),
        ({"processor": "report", "ticks": 0}, "ticks must be a whole number from 1 to 100"),
        ({"ticks": 1}, '{"processor": name, "ticks"?: 1}'),
    ],
)
def test_firing_what_cannot_be_fired_is_a_400(
    write_project: WriteProject, body: dict[str, Any], message: str
) -> None:
    root = write_project({"topology.yml": SCHEDULED, "p/a.py": PASS_ON})
    response = client(root).post("/api/schedule", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]
