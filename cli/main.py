"""The ``attak`` command: registers the subcommands (``cli.commands``) and is the one
place errors become exit codes.

Commands load and validate the topology, call the library, and hand results to
``cli.render``. An ``AttakError`` anywhere is printed on stderr (no traceback) and exits 1;
usage errors exit 2 (click's convention): those click's parser finds (an unknown option, a
value outside an option's choices or form) and attak's ``UsageError`` (options that cannot
work together, a value that can never work, whatever the files and services named).
``aws_cdk`` is imported only by the commands that synthesize, so ``attak --help`` and
``attak simulate`` stay fast.
"""

from __future__ import annotations

import sys

import typer

from .commands import cdk, dead_letters, live, plan, project, simulate, ui
from .group import AttakGroup
from .options import PASSTHROUGH, PassthroughCommand

app = typer.Typer(
    cls=AttakGroup,
    help="attak: streaming pipelines of Python processors joined by streams.\n\n"
    "Validate a topology, simulate it locally, and deploy it as AWS Lambda + Kinesis.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(asked: bool) -> None:
    if asked:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("attak-cdk")
        except PackageNotFoundError:  # run from a checkout that was never installed
            number = "unknown (not installed)"
        typer.echo(f"attak {number}")
        raise typer.Exit(0)


@app.callback()
def _attak(
    show_version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print attak's version."
    ),
) -> None:
    """attak: streaming pipelines of Python processors joined by streams.

    Validate a topology, simulate it locally, and deploy it as AWS Lambda + Kinesis."""


app.command()(project.init)
app.command()(project.validate)
app.command()(project.graph)
app.command()(project.schema)
app.command()(simulate.simulate)
app.command()(cdk.synth)
app.command(cls=PassthroughCommand, context_settings=PASSTHROUGH)(cdk.deploy)
app.command(cls=PassthroughCommand, context_settings=PASSTHROUGH)(cdk.diff)
app.command(cls=PassthroughCommand, context_settings=PASSTHROUGH)(cdk.destroy)
app.command()(live.trigger)
app.command("logs")(live.logs_command)
app.add_typer(dead_letters.app, name="dead-letters")
app.command()(plan.plan)
app.command()(ui.ui)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
