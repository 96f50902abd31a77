"""The topology as the page draws it: placed nodes and edges, each with its own issues.

``topology_view`` reads the topology file afresh (an edit shows on reload), runs every
validation rule, and returns one JSON-ready document: processors, the sinks they emit
into, processors that streams name but the topology lacks, the streams between them,
and every issue attached to the node or edge it concerns. A topology that cannot even
be parsed is a document with no nodes and its issues, never an error.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .. import graph
from ..errors import Issue, TopologyError, display_path
from ..inputs import default_input
from ..loader import find_topology_file
from ..model import Topology
from ..project import inspect_topology
from ..validate import sink_topics
from .layout import Layout, layered_layout

_STREAM_PATH = re.compile(r"^streams\[(\d+)\]")
# A node is wide enough for its name in the page's 13px font, within reason: longer
# names are cut short on the node and shown whole in its tooltip and the side panel.
# The narrowest still holds a run's counters ("12 inv · 0 err · 12 out").
_CHAR_WIDTH = 7.6
_MIN_WIDTH, _MAX_WIDTH = 190.0, 260.0


def node_width(label: str) -> float:
    """The width of a node showing ``label``."""
    return min(_MAX_WIDTH, max(_MIN_WIDTH, len(label) * _CHAR_WIDTH + 40))


def sink_id(processor: str, topic: str) -> str:
    """The node id of a topic a processor emits that no stream carries."""
    return f"sink:{processor}:{topic}"


def topology_view(path: str | Path) -> dict[str, Any]:
    """The page's document for the topology at ``path`` (a file, or its folder)."""
    file = find_topology_file(path)
    try:
        topology, issues = inspect_topology(file)
    except TopologyError as exc:  # not even parseable: nothing to draw, only issues
        topology, issues = None, list(exc.issues)
    document = _document(topology, issues) if topology is not None else _unreadable(issues)
    document["file"] = display_path(file)
    document["input"] = _input_text(file, topology)
    return document


def issue_target(topology: Topology, path: str) -> tuple[str, str] | None:
    """The node or edge an issue path concerns: ``("node", id)``, ``("edge", id)``, or
    ``None`` for the topology as a whole (its name, its defaults, a clash of names).

    ``processors.reverse``, ``processors.reverse.memory`` and ``processors (reverse)``
    are the processor ``reverse``; ``streams[1]`` and ``streams[1].to`` the second stream.
    """
    found = _STREAM_PATH.match(path)
    if found:
        edge = f"streams[{found.group(1)}]"
        return ("edge", edge) if any(s.where == edge for s in topology.streams) else None
    # Longest names first: `processors.a.b` belongs to `a.b` before `a` if both exist.
    # (A processor read from a folder is at `processors` itself, which names no one.)
    for name in sorted(topology.processors, key=len, reverse=True):
        where = f"processors.{name}"
        if path in (where, f"processors ({name})") or path.startswith(f"{where}."):
            return ("node", name)
    return None


def _document(topology: Topology, issues: list[Issue]) -> dict[str, Any]:
    entries = set(graph.entries(topology))
    reached = graph.reachable(topology)
    nodes: dict[str, dict[str, Any]] = {}
    for name, processor in topology.processors.items():
        nodes[name] = {
            "id": name,
            "kind": "processor",
            "label": name,
            "entry": name in entries,
            "input": processor.input,
            "reachable": name in reached,
            "handler": processor.handler_spec or display_path(processor.file),
            "memory": processor.memory,
            "timeout": processor.timeout,
            "schedule": processor.schedule.expression if processor.schedule else None,
            "issues": [],
        }
    for name, edge in topology.external.items():  # an existing stream at an edge
        nodes.setdefault(
            name,
            {
                "id": name,
                "kind": "external",
                "label": name,
                "external": edge.kind,
                "arn": edge.arn,
                "issues": [],
            },
        )
    edges: list[dict[str, Any]] = []
    on_loop = _loop_pairs(topology)
    for stream in topology.streams:
        for end in (stream.source, stream.target):
            if end not in nodes:  # named by a stream, defined nowhere: drawn as a ghost
                nodes[end] = {"id": end, "kind": "missing", "label": end, "issues": []}
        edges.append(
            {
                "id": stream.where,
                "kind": "stream",
                "stream": graph.stream_name(stream),
                "source": stream.source,
                "target": stream.target,
                "topic": stream.topic,
                "shards": stream.settings.shards,
                "batch_size": stream.settings.batch_size,
                "retry_attempts": stream.settings.retry_attempts,
                "on_loop": (stream.source, stream.target) in on_loop,
                "issues": [],
            }
        )
    for name in topology.processors:
        for topic in sink_topics(topology, name):
            node = sink_id(name, topic)
            nodes[node] = {
                "id": node,
                "kind": "sink",
                "label": topic,
                "processor": name,
                "topic": topic,
                "issues": [],
            }
            edges.append(
                {
                    "id": f"{node}:edge",
                    "kind": "sink",
                    "stream": None,
                    "source": name,
                    "target": node,
                    "topic": topic,
                    "issues": [],
                }
            )
    unplaced = []
    edge_by_id = {e["id"]: e for e in edges}
    for issue in issues:
        target = issue_target(topology, issue.path)
        item = issue.as_dict()
        if target is None:
            unplaced.append(item)
        elif target[0] == "node":
            nodes[target[1]]["issues"].append(item)
        else:
            edge_by_id[target[1]]["issues"].append(item)
    layout = layered_layout(
        {n: node_width(node["label"]) for n, node in nodes.items()},
        [(e["source"], e["target"]) for e in edges],
    )
    _place(nodes, edges, layout)
    errors = sum(1 for i in issues if i.severity == "error")
    return {
        "topology": topology.name,
        "ok": errors == 0,
        "errors": errors,
        "warnings": len(issues) - errors,
        "issues": [i.as_dict() for i in issues],
        "topology_issues": unplaced,
        "nodes": list(nodes.values()),
        "edges": edges,
        "loops": graph.cycles(topology),
        "width": round(layout.width, 1),
        "height": round(layout.height, 1),
    }


def _loop_pairs(topology: Topology) -> set[tuple[str, str]]:
    """Every (source, target) pair of a stream on a loop: drawn dashed, as ``attak graph``
    draws them in Mermaid and dot (a self-loop is a loop of one)."""
    pairs: set[tuple[str, str]] = set()
    for loop in graph.cycles(topology):
        pairs.update(zip(loop, [*loop[1:], loop[0]], strict=True))
    return pairs


def _place(nodes: dict[str, dict[str, Any]], edges: list[dict[str, Any]], layout: Layout) -> None:
    for name, node in nodes.items():
        box = layout.boxes[name]
        node.update(
            x=round(box.x, 1),
            y=round(box.y, 1),
            width=round(box.width, 1),
            height=box.height,
            rank=box.rank,
        )
    for edge, route in zip(edges, layout.routes, strict=True):
        points = [[round(x, 1), round(y, 1)] for x, y in route.points]
        edge.update(points=points, back=route.back, loop=route.self_loop)


def _unreadable(issues: list[Issue]) -> dict[str, Any]:
    return {
        "topology": None,
        "ok": False,
        "errors": sum(1 for i in issues if i.severity == "error"),
        "warnings": sum(1 for i in issues if i.severity == "warning"),
        "issues": [i.as_dict() for i in issues],
        "topology_issues": [i.as_dict() for i in issues],
        "nodes": [],
        "edges": [],
        "loops": [],
        "width": 0,
        "height": 0,
    }


def _input_text(file: Path, topology: Topology | None) -> str:
    """What the input editor starts with: input.json beside the topology, or an event
    for each entry processor to fill in."""
    given = default_input(file)
    try:
        return given.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pass
    names = graph.entries(topology) if topology is not None else []
    return json.dumps(dict.fromkeys(names, "your event here"), indent=2) + "\n"
