"""The ``attak`` command: every subcommand, and the one place errors become exit codes.

Commands load and validate the topology, call the library, and hand results to
``cli.render``. An ``AttakError`` anywhere is printed on stderr (no traceback) and exits 1;
usage errors exit 2 (click's convention). ``aws_cdk`` is imported only by the commands that
synthesize, so ``attak --help`` and ``attak simulate`` stay fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from attak_cdk.errors import AttakError, TopologyError

from . import render


class _AttakGroup(TyperGroup):
    """Turns attak's own errors into a message on stderr and exit code 1."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except AttakError as exc:
            render.error(exc)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_AttakGroup,
    help="attak: streaming pipelines of Python processors joined by streams.\n\n"
    "Validate a topology, simulate it locally, and deploy it as AWS Lambda + Kinesis.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

PathArgument = Annotated[
    Path,
    typer.Argument(
        help="The topology file, or a folder holding topology.yml/.yaml/.json/.py.",
        show_default=True,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON document instead.")]


@app.command()
def validate(path: PathArgument = Path(), as_json: JsonOption = False) -> None:
    """Check a topology and report every problem at once.

    Example: attak validate sample_topology
    """
    from attak_cdk.loader import check_topology, inspect_topology

    if not as_json:
        topology, warnings = check_topology(path)
        render.validated(topology, warnings)
        return
    try:
        topology, issues = inspect_topology(path)
        name = topology.name if topology is not None else None
    except TopologyError as exc:  # not even parseable
        issues, name = list(exc.issues), None
    ok = not any(i.severity == "error" for i in issues)
    render.print_json({"topology": name, "ok": ok, "issues": [i.as_dict() for i in issues]})
    if not ok:
        raise typer.Exit(1)


@app.command()
def graph(
    path: PathArgument = Path(),
    format: Annotated[
        str,
        typer.Option("--format", "-f", help="text, mermaid (for Markdown) or dot (for Graphviz)."),
    ] = "text",
) -> None:
    """Show how processors connect: streams, topics, entries and sinks.

    Example: attak graph sample_topology --format mermaid
    """
    from attak_cdk.errors import UsageError
    from attak_cdk.loader import load_topology

    formats = {"text": render.graph_text, "mermaid": render.graph_mermaid, "dot": render.graph_dot}
    if format not in formats:
        raise UsageError(f"--format must be one of {', '.join(formats)} (given '{format}')")
    formats[format](load_topology(path))


@app.command()
def simulate(
    path: PathArgument = Path(),
    input: Annotated[
        Path | None,
        typer.Option(
            "--input",
            "-i",
            help="Input events: input.json ({processor: data}) or JSON Lines "
            '({"processor": ..., "data": ...} per line, .jsonl). Default: input.json '
            "beside the topology.",
        ),
    ] = None,
    as_json: JsonOption = False,
    max_hops: Annotated[
        int | None,
        typer.Option(
            "--max-hops",
            min=1,
            help="Stop a trace after this many stream hops (default: the topology's "
            "max_hops, 16 unless set).",
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Seed for trace ids and partition keys (runs are repeatable).")
    ] = 0,
    show: Annotated[
        int,
        typer.Option(help="Invocations to show in the trace (0: all); failures always show."),
    ] = 100,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only the summary, no trace.")
    ] = False,
) -> None:
    """Run the topology locally, in-process, with the runtime Lambda runs.

    Exits 0 when every record was processed, 1 when a record ended as a dead letter or a
    loop hit max_hops.

    Example: attak simulate sample_topology --input events.jsonl
    """
    import time

    from attak_cdk.inputs import default_input, read_inputs
    from attak_cdk.loader import check_topology
    from attak_cdk.simulate.memory import simulate as run
    from attak_cdk.simulate.result import document

    topology, warnings = check_topology(path)
    events = read_inputs(input or default_input(topology.file), topology.processors)
    started = time.perf_counter()
    if as_json:
        result = run(topology, events, max_hops=max_hops, seed=seed)
        render.print_json(document(result))
    else:
        render.issues(warnings)
        trace = render.TracePrinter(topology, show=show, quiet=quiet)
        render.simulation_header(topology, len(events))
        result = run(topology, events, max_hops=max_hops, seed=seed, on_invocation=trace)
        trace.finish()
        render.simulation_summary(result, time.perf_counter() - started)
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def synth(
    path: PathArgument = Path(),
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write the cloud assembly.")
    ] = Path("cdk.out"),
    print_template: Annotated[
        bool, typer.Option("--print", help="Write the template to stdout as YAML.")
    ] = False,
    as_json: JsonOption = False,
    validation: Annotated[
        bool,
        typer.Option(help="Also run aws-cdk-lib's built-in CloudFormation validation (about 5 s)."),
    ] = False,
) -> None:
    """Build the topology's CloudFormation stack and print a review summary.

    Example: attak synth sample_topology -o cdk.out
    """
    from attak_cdk.loader import check_topology
    from attak_cdk.review import names, review

    topology, warnings = check_topology(path)
    render.issues(warnings)
    render.environment_for_cdk()
    from attak_cdk.cdk.app import synthesize  # imports aws_cdk: only this command pays for it

    templates = synthesize(topology.file, output, validation=validation)
    loaded = {stack: json.loads(file.read_text()) for stack, file in templates.items()}
    if print_template:
        render.print_yaml(loaded if len(loaded) > 1 else next(iter(loaded.values())))
        return
    reviews = [review(stack, template) for stack, template in loaded.items()]
    if as_json:
        documents = [{**r.as_dict(), "template": str(templates[r.stack])} for r in reviews]
        render.print_json(documents[0] if len(documents) == 1 else {"stacks": documents})
        return
    for summary in reviews:
        render.review(summary, templates[summary.stack], names(topology))
    render.synthesized(reviews, output)


_PASSTHROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


def _cdk(action: str, ctx: typer.Context, path: Path) -> None:
    from attak_cdk.loader import load_topology
    from attak_cdk.toolchain import run_cdk

    topology = load_topology(path)  # fail here, clearly, before the cdk CLI starts
    run_cdk(action, topology.file, ctx.args)


@app.command(context_settings=_PASSTHROUGH)
def deploy(ctx: typer.Context, path: PathArgument = Path()) -> None:
    """Deploy the topology with `cdk deploy` (arguments after -- go to cdk).

    Example: attak deploy sample_topology -- --require-approval never
    """
    _cdk("deploy", ctx, path)


@app.command(context_settings=_PASSTHROUGH)
def diff(ctx: typer.Context, path: PathArgument = Path()) -> None:
    """Compare the topology with what is deployed, with `cdk diff`.

    Example: attak diff sample_topology
    """
    _cdk("diff", ctx, path)


@app.command(context_settings=_PASSTHROUGH)
def destroy(ctx: typer.Context, path: PathArgument = Path()) -> None:
    """Delete the deployed topology with `cdk destroy` (arguments after -- go to cdk).

    Example: attak destroy sample_topology -- --force
    """
    _cdk("destroy", ctx, path)


@app.command()
def init(
    directory: Annotated[
        Path, typer.Argument(help="Where to create the project (created if missing).")
    ] = Path(),
    name: Annotated[
        str | None, typer.Option(help="Topology name (default: the folder's name).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite files that already exist.")] = False,
) -> None:
    """Create a working project: topology, processors, input.json and a test.

    Example: attak init my-pipeline && attak simulate my-pipeline
    """
    from .scaffold import scaffold

    created = scaffold(directory, name=name, force=force)
    render.scaffolded(directory, created)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
