"""Which node or edge of the UI's graph a validation issue is shown on."""

from __future__ import annotations

from pathlib import Path

import pytest

from attak_cdk.model import Processor, Stream, Topology
from attak_cdk.ui.view import issue_target, node_width

TOPOLOGY = Topology(
    name="t",
    processors={
        "spout": Processor("spout", Path("/p/spout.py"), where="processors.spout"),
        "reverse": Processor("reverse", Path("/p/reverse.py"), where="processors.reverse.handler"),
        "from_folder": Processor("from_folder", Path("/p/f.py"), where="processors"),
    },
    streams=(
        Stream("spout", "reverse", where="streams[0]"),
        Stream("reverse", "revers", where="streams[1]"),
    ),
)


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("processors.spout", ("node", "spout")),
        ("processors.reverse.handler", ("node", "reverse")),
        ("processors.reverse.memory", ("node", "reverse")),
        ("processors.reverse.environment.AWS_REGION", ("node", "reverse")),
        ("processors (from_folder)", ("node", "from_folder")),
        ("streams[1]", ("edge", "streams[1]")),
        ("streams[1].to", ("edge", "streams[1]")),
        ("streams[0].topic", ("edge", "streams[0]")),
        ("streams[7].to", None),  # a stream the loader could not read: the topology's
        ("name", None),
        ("processors", None),
        ("defaults.memory", None),
        ("processors.spoutx", None),
    ],
)
def test_issue_paths_map_to_the_node_or_edge_they_concern(
    path: str, target: tuple[str, str] | None
) -> None:
    assert issue_target(TOPOLOGY, path) == target


def test_node_width_fits_the_name_within_bounds() -> None:
    assert node_width("a") == node_width("reverse")  # the narrowest still holds the counters
    assert node_width("a_rather_long_processor_name") > node_width("reverse")
    assert node_width("x" * 500) == node_width("y" * 400)
