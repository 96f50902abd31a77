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
    """Each processor with its entry tags, the streams leaving it, its sinks; then loops.
    An existing stream at an edge is named with its kind: ``← clicks (external kinesis)``."""
    routes = topology_graph.routes(topology)
    entries = set(topology_graph.entries(topology))
    loops = topology_graph.cycles(topology)
    external = topology.external
    out.print(f"[bold]{escape(topology.name)}[/]")
    for name, processor in topology.processors.items():
        tags = []
        if name in entries:
            tags.append("entry" if processor.input == "direct" else "entry, ingest stream")
        suffix = f" [dim]({', '.join(tags)})[/]" if tags else ""
        out.print(f"  [cyan]{escape(name)}[/]{suffix}")
        for stream in topology.streams:
            if stream.target == name and stream.source in external:
                source = external[stream.source]
                out.print(f"    ← {escape(source.name)}  [dim](external {source.kind})[/]")
        for route in routes[name]:
            topic = f"'{route.topic}'" if route.topic else "any topic"
            edge = external.get(route.target)
            kind = f" (external {edge.kind})" if edge is not None else ""
            out.print(f"    → {escape(route.target)}{kind}  [dim]{escape(topic)}[/]")
        for topic in sink_topics(topology, name):
            out.print(f"    ⇥ sink  [dim]'{escape(topic)}'[/]")
    for loop in loops:
        out.print(f"  [yellow]loop:[/] {escape(' → '.join([*loop, loop[0]]))}")


def _node_ids(topology: Topology) -> dict[str, str]:
    ids = {name: f"p{i}" for i, name in enumerate(topology.processors)}
    ids.update({name: f"x{i}" for i, name in enumerate(topology.external)})
    return ids


def _in_loops(topology: Topology) -> set[tuple[str, str]]:
    """Every (source, target) pair of a stream on a loop: drawn dashed, as in the UI."""
    pairs: set[tuple[str, str]] = set()
    for loop in topology_graph.cycles(topology):
        pairs.update(zip(loop, [*loop[1:], loop[0]], strict=True))
    return pairs


def _mermaid_text(text: str) -> str:
    """Text inside a Mermaid quoted label: quotes as the entity Mermaid reads."""
    return text.replace('"', "#quot;")


def graph_mermaid(topology: Topology) -> None:
    """A Mermaid flowchart: one node per processor (entries with a double border), one
    labelled edge per stream (dashed on a loop), and each processor's sink topics as
    dotted edges into a sink node of its own. An existing stream at an edge is a
    cylinder labelled with its kind."""
    ids = _node_ids(topology)
    entries = set(topology_graph.entries(topology))
    loops = _in_loops(topology)
    lines = ["flowchart LR"]
    for name in topology.processors:
        shape = ('[["', '"]]') if name in entries else ('["', '"]')
        lines.append(f"  {ids[name]}{shape[0]}{_mermaid_text(name)}{shape[1]}")
    for name, edge in topology.external.items():
        lines.append(f'  {ids[name]}[("{_mermaid_text(name)} ({edge.kind})")]')
    for stream in topology.streams:
        label = f'|"{_mermaid_text(stream.topic)}"|' if stream.topic else ""
        arrow = "-.->" if (stream.source, stream.target) in loops else "-->"
        lines.append(f"  {ids[stream.source]} {arrow}{label} {ids[stream.target]}")
    for name in topology.processors:
        node = ids[name]
        topics = sink_topics(topology, name)
        if topics:
            lines.append(f'  {node}_sink(["sink"])')
            for topic in topics:
                lines.append(f'  {node} -.->|"{_mermaid_text(topic)}"| {node}_sink')
    sys.stdout.write("\n".join(lines) + "\n")


def graph_dot(topology: Topology) -> None:
    """A Graphviz digraph: one box per processor (entries doubled), one labelled edge per
    stream (dashed on a loop), and each processor's sink topics as dotted edges into a
    sink node of its own. An existing stream at an edge is a cylinder labelled with its
    kind."""

    def quote(text: str) -> str:
        return json.dumps(text)

    entries = set(topology_graph.entries(topology))
    loops = _in_loops(topology)
    lines = [f"digraph {quote(topology.name)} {{", "  rankdir=LR;", "  node [shape=box];"]
    for name in topology.processors:
        entry = " [peripheries=2]" if name in entries else ""
        lines.append(f"  {quote(name)}{entry};")
    for name, edge in topology.external.items():
        label = quote(f"{name} ({edge.kind})")
        lines.append(f"  {quote(name)} [label={label}, shape=cylinder];")
    for stream in topology.streams:
        attributes = [f"label={quote(stream.topic)}"] if stream.topic else []
        if (stream.source, stream.target) in loops:
            attributes.append("style=dashed")
        listed = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"  {quote(stream.source)} -> {quote(stream.target)}{listed};")
    for name in topology.processors:
        topics = sink_topics(topology, name)
        if topics:
            sink = quote(f"{name} sink")
            lines.append(f'  {sink} [label="sink", shape=plaintext];')
            for topic in topics:
                lines.append(f"  {quote(name)} -> {sink} [label={quote(topic)}, style=dotted];")
    lines.append("}")
    sys.stdout.write("\n".join(lines) + "\n")
