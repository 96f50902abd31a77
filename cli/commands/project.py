"""Commands about the topology itself: validate, graph, schema, init."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from attak_cdk.errors import TopologyError

from ..options import (
    JsonOption,
    PathArgument,
    given_path,
)
from ..render.console import print_json
from ..render.graph import graph_dot, graph_mermaid, graph_text
from ..render.project import scaffolded, schema_written, validated

GraphFormat = Literal["text", "mermaid", "dot"]
Template = Literal["hello", "clickstream"]
"""``attak init --template``'s choices (``scaffold.TEMPLATES``; a test keeps them equal)."""


def validate(path: PathArgument = Path(), as_json: JsonOption = False) -> None:
    """Check a topology and report every problem at once.

    Example: attak validate sample_topology
    """
    from attak_cdk.project import check_topology, inspect_topology

    if not as_json:
        topology, warnings = check_topology(path)
        validated(topology, warnings)
        return
    try:
        model, issues = inspect_topology(path)
        name = model.name if model is not None else None
    except TopologyError as exc:  # not even parseable
        issues, name = list(exc.issues), None
    ok = not any(i.severity == "error" for i in issues)
    print_json({"topology": name, "ok": ok, "issues": [i.as_dict() for i in issues]})
    if not ok:
        raise typer.Exit(1)


def graph(
    path: PathArgument = Path(),
    format: Annotated[
        GraphFormat,
        typer.Option(
            "--format",
            "-f",
            help="text, mermaid (for Markdown) or dot (for Graphviz).",
        ),
    ] = "text",
) -> None:
    """Show how processors connect: streams, topics, entries and sinks.

    Example: attak graph sample_topology --format mermaid
    """
    from attak_cdk.project import load_topology

    formats = {"text": graph_text, "mermaid": graph_mermaid, "dot": graph_dot}
    formats[format](load_topology(path))


def schema(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            parser=given_path,
            help="Write the schema to this file instead of stdout.",
        ),
    ] = None,
) -> None:
    """Print the topology file's JSON Schema, for editors to complete and check topologies.

    `attak init` writes it beside topology.yml; after upgrading attak, refresh that copy.

    Example: attak schema -o topology.schema.json
    """
    from attak_cdk.schema import modeline, schema_text, write_schema

    if output is None:
        sys.stdout.write(schema_text())
        return
    write_schema(output)
    schema_written(output, modeline(output.name))


def init(
    directory: Annotated[
        Path,
        typer.Argument(help="Where to create the project (created if missing).", parser=given_path),
    ] = Path(),
    name: Annotated[
        str | None, typer.Option(help="Topology name (default: the folder's name).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite files that already exist.")] = False,
    template: Annotated[
        Template,
        typer.Option(
            help="hello: two processors to start from; clickstream: a real pipeline "
            "(ingest stream, keyed streams, an S3 archive, a schedule)."
        ),
    ] = "hello",
) -> None:
    """Create a working project: topology, processors, input and a test.

    Example: attak init my-pipeline && attak simulate my-pipeline
    """
    from ..scaffold import scaffold

    created = scaffold(directory, name=name, force=force, template=template)
    scaffolded(directory, created)
