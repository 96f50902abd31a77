"""Every topology form the seed allowed loads into the same model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attak_cdk.errors import TopologyError
from attak_cdk.loader import find_topology_file, read_topology
from attak_cdk.project import load_topology
from tests.conftest import PASS_ON, REVERSE, SINK, WriteProject

HANDLERS = {"processors/spout.py": PASS_ON, "processors/reverse.py": REVERSE}


def test_yaml_with_every_processor_and_stream_shape(write_project: WriteProject) -> None:
    root = write_project(
        {
            **HANDLERS,
            "processors/extra.py": "def handler(event, context):\n    pass\n\n"
            "def other(event, context):\n    pass\n",
            "topology.yml": """
                name: shapes
                processors:
                  spout: ./processors/spout                 # extension optional
                  reverse:
                    handler: processors/reverse.py:handler
                    memory: 512
                    timeout: 30
                    environment: {GREETING: hi, COUNT: 3}
                  other: processors/extra.py:other          # another function name
                  extra: processors/extra.py
                streams:
                  - [spout, reverse]
                  - [spout, extra, greetings]
                  - {from: reverse, to: other, topic: reversed strings, shards: 2, batch_size: 10}
            """,
        }
    )
    topology = load_topology(root)
    assert topology.name == "shapes"
    assert list(topology.processors) == ["spout", "reverse", "other", "extra"]
    assert topology.processors["spout"].file == root / "processors/spout.py"
    reverse = topology.processors["reverse"]
    assert (reverse.memory, reverse.timeout) == (512, 30)
    assert reverse.environment == {"GREETING": "hi", "COUNT": "3"}
    assert topology.processors["other"].function == "other"
    first, second, third = topology.streams
    assert (first.source, first.target, first.topic) == ("spout", "reverse", None)
    assert second.topic == "greetings"
    assert (third.topic, third.settings.shards, third.settings.batch_size) == (
        "reversed strings",
        2,
        10,
    )
    assert third.where == "streams[2]"


def test_json_topology_loads_like_yaml(write_project: WriteProject) -> None:
    document = {
        "name": "as-json",
        "processors": {"spout": "processors/spout.py", "reverse": "processors/reverse.py"},
        "streams": [{"from": "spout", "to": "reverse"}],
    }
    root = write_project({**HANDLERS, "topology.json": json.dumps(document)})
    topology = load_topology(root)
    assert topology.file.name == "topology.json"
    assert [(s.source, s.target) for s in topology.streams] == [("spout", "reverse")]


def test_python_topology_as_dict_and_as_function(write_project: WriteProject) -> None:
    root = write_project(
        {
            **HANDLERS,
            "topology.py": """
                def topology():
                    # dynamic definitions: build the streams in code
                    names = ["spout", "reverse"]
                    return {
                        "name": "dynamic",
                        "processors": {n: f"processors/{n}.py" for n in names},
                        "streams": [names],
                    }
            """,
            "static/topology.py": """
                topology = {"name": "static", "processors": {"spout": "../processors/spout.py"}}
            """,
        }
    )
    assert load_topology(root).name == "dynamic"
    assert load_topology(root / "static").processors["spout"].file == root / "processors/spout.py"


def test_processor_folder_makes_one_processor_per_file(write_project: WriteProject) -> None:
    root = write_project(
        {
            **HANDLERS,
            "processors/_helpers.py": "X = 1\n",
            "processors/sink.py": SINK,
            "topology.yml": """
                name: folder
                processors: ./processors
                streams: [[spout, reverse], [reverse, sink]]
            """,
        }
    )
    topology = load_topology(root)
    assert sorted(topology.processors) == ["reverse", "sink", "spout"]  # _helpers is skipped


def test_defaults_apply_and_processor_settings_win(write_project: WriteProject) -> None:
    root = write_project(
        {
            **HANDLERS,
            "topology.yml": """
                name: defaults
                defaults: {memory: 1024, batch_size: 7, environment: {STAGE: dev, A: "1"}}
                processors:
                  spout: processors/spout.py
                  reverse: {handler: processors/reverse.py, memory: 128, environment: {A: "2"}}
                streams:
                  - [spout, reverse]
                  - {from: reverse, to: spout, batch_size: 3, shards: on-demand}
            """,
        }
    )
    topology = load_topology(root)
    assert topology.processors["spout"].memory == 1024
    assert topology.processors["reverse"].memory == 128
    assert topology.processors["reverse"].environment == {"STAGE": "dev", "A": "2"}
    assert [s.settings.batch_size for s in topology.streams] == [7, 3]
    assert topology.streams[1].settings.shards is None  # on-demand


def test_trace_sampling_and_system_log_level_are_read_with_their_defaults(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {
            **HANDLERS,
            "topology.yml": """
                name: logged
                trace_sampling: 1
                defaults: {system_log_level: INFO}
                processors:
                  spout: processors/spout.py
                  reverse: {handler: processors/reverse.py, system_log_level: DEBUG}
                streams:
                  - [spout, reverse]
            """,
        }
    )
    topology = load_topology(root)
    assert topology.trace_sampling == 1.0
    assert topology.processors["spout"].system_log_level == "INFO"
    assert topology.processors["reverse"].system_log_level == "DEBUG"
    bare = write_project(
        {**HANDLERS, "topology.yml": "name: b\nprocessors: {spout: processors/spout.py}\n"}
    )
    assert load_topology(bare).trace_sampling == 0.01
    assert load_topology(bare).processors["spout"].system_log_level == "WARN"


def test_folder_search_order_prefers_yml(write_project: WriteProject) -> None:
    root = write_project({"topology.json": "{}", "topology.yml": "name: x\n"})
    assert find_topology_file(root).name == "topology.yml"


def test_folder_without_topology_names_what_it_looked_for(tmp_path: Path) -> None:
    with pytest.raises(TopologyError) as caught:
        find_topology_file(tmp_path)
    assert "topology.yml, topology.yaml, topology.json, topology.py" in caught.value.message


def test_every_shape_problem_is_reported_together(write_project: WriteProject) -> None:
    root = write_project(
        {
            "topology.yml": """
                processors:
                  a: {handlr: a.py}
                streams:
                  - [a]
                  - {from: a, to: b, batch_size: 0}
            """,
        }
    )
    with pytest.raises(TopologyError) as caught:
        read_topology(root)
    paths = {issue.path for issue in caught.value.issues}
    assert {"name", "processors.a.handlr", "processors.a.handler", "streams[0]"} <= paths
    assert "streams[1].batch_size" in paths
    assert all(issue.file == str(root / "topology.yml") for issue in caught.value.issues)


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ('name: ""\nprocessors: {a: a.py}\n', "name"),
        ("name: n\nprocessors: {a: a.py}\nplan: {processors: []}\n", "plan.processors"),
        ("name: n\nprocessors: {a: a.py}\nplan: {processors: false}\n", "plan.processors"),
    ],
)
def test_an_empty_name_and_a_plan_processors_list_are_refused(
    write_project: WriteProject, document: str, path: str
) -> None:
    """An empty name can be no stack name; `plan: {processors: []}` names no processor's
    plan: both are refused where they are written (the topology schema refuses them too)."""
    root = write_project({"a.py": SINK, "topology.yml": document})
    with pytest.raises(TopologyError) as caught:
        load_topology(root)
    assert path in {issue.path for issue in caught.value.issues}


def test_a_name_with_a_trailing_newline_is_refused(write_project: WriteProject) -> None:
    """`name: |` keeps a newline a stack name cannot hold: names are matched whole."""
    root = write_project({"a.py": SINK, "topology.yml": "name: |\n  pipe\nprocessors: {a: a.py}\n"})
    with pytest.raises(TopologyError) as caught:
        load_topology(root)
    assert [issue.path for issue in caught.value.issues] == ["name"]
