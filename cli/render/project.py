"""What ``validate`` and ``init`` print: a valid topology's outline, the files created."""

from __future__ import annotations

import shlex
from pathlib import Path

from rich.markup import escape

from attak_cdk import graph as topology_graph
from attak_cdk.errors import Issue
from attak_cdk.model import Topology

from .console import out, plural
from .problems import issues


def validated(topology: Topology, warnings: list[Issue]) -> None:
    """A valid topology in one line (its processors, streams, external streams and entries),
    then its warnings."""
    entries = topology_graph.entries(topology)
    external = f", {plural(len(topology.external), 'external stream')}" if topology.external else ""
    out.print(
        f"[green]✓[/] {escape(topology.name)}: {plural(len(topology.processors), 'processor')}, "
        f"{plural(len(topology.streams), 'stream')}{external}, "
        f"entries: {escape(', '.join(entries))}"
    )
    issues(warnings)


def schema_written(file: Path, modeline: str) -> None:
    """Where ``attak schema -o`` wrote the schema, and the line that points a topology at it."""
    out.print(f"[green]✓[/] wrote {escape(str(file))}")
    out.print(
        "A topology.yml beside it names it in its first lines, for yaml-language-server "
        f"(VS Code's YAML extension):\n  {escape(modeline)}"
    )


def scaffolded(directory: Path, created: list[Path]) -> None:
    """The files ``init`` created, and what to run next."""
    for file in created:
        out.print(f"  [green]created[/] {escape(str(file))}")
    # Quoted as a shell needs it, so the line can be pasted as it is ("My Pipe").
    folder = escape(shlex.quote(str(directory)))
    out.print(f"\nNext: [bold]attak simulate {folder}[/] and [bold]pytest {folder}[/]")
