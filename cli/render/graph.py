"""``attak graph``: how processors connect, as text, Mermaid (for Markdown) or Graphviz dot.

Mermaid and dot are written as plain text, not through rich, so the document is exactly
what those tools read.
"""

from __future__ import annotations

import json
import sys

from rich.markup import escape

from attak_cdk import graph as topology_graph
from attak_cdk.model import Topology
from attak_cdk.validate import sink_topics

from .console import out


def graph_text(topology: Topology) -> None:
    """Each processor with its entry tags, the streams leaving it, its sinks; then loops."""
    routes = topology_graph.routes(topology)
    entries = set(topology_graph.entries(topology))
    loops = topology_graph.cycles(topology)
    out.print(f"[bold]{escape(topology.name)}[/]")
    for name, processor in topology.processors.items():
        tags = []
        if name in entries:
            tags.append("entry" if processor.input == "direct" else "entry, ingest stream")
        suffix = f" [dim]({', '.join(tags)})[/]" if tags else ""
        out.print(f"  [cyan]{escape(name)}[/]{suffix}")
        for route in routes[name]:
            topic = f"'{route.topic}'" if route.topic else "any topic"
            out.print(f"    → {escape(route.target)}  [dim]{escape(topic)}[/]")
        for topic in sink_topics(topology, name):
            out.print(f"    ⇥ sink  [dim]'{escape(topic)}'[/]")
    for loop in loops:
        out.print(f"  [yellow]loop:[/] {escape(' → '.join([*loop, loop[0]]))}")


def _node_ids(topology: Topology) -> dict[str, str]:
    return {name: f"p{i}" for i, name in enumerate(topology.processors)}


def graph_mermaid(topology: Topology) -> None:
    """A Mermaid flowchart: one node per processor, one labelled edge per stream."""
    ids = _node_ids(topology)
    lines = ["flowchart LR"]
    for name, node in ids.items():
        lines.append(f'  {node}["{name}"]')
    for stream in topology.streams:
        label = f"|{stream.topic}|" if stream.topic else ""
        lines.append(f"  {ids[stream.source]} -->{label} {ids[stream.target]}")
    sys.stdout.write("\n".join(lines) + "\n")


def graph_dot(topology: Topology) -> None:
    """A Graphviz digraph: one box per processor, one labelled edge per stream."""

    def quote(text: str) -> str:
        return json.dumps(text)

    lines = [f"digraph {quote(topology.name)} {{", "  rankdir=LR;", "  node [shape=box];"]
    for name in topology.processors:
        lines.append(f"  {quote(name)};")
    for stream in topology.streams:
        label = f" [label={quote(stream.topic)}]" if stream.topic else ""
        lines.append(f"  {quote(stream.source)} -> {quote(stream.target)}{label};")
    lines.append("}")
    sys.stdout.write("\n".join(lines) + "\n")
