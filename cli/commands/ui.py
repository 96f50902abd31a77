"""``attak ui``: the local debugging UI."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..options import (
    EndpointOption,
    EnvFileOption,
    PathArgument,
    ProfileOption,
    RegionOption,
    StackNameOption,
    aws_connection,
)


def ui(
    path: PathArgument = Path(),
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port to serve on, on 127.0.0.1. Default: a free one."),
    ] = None,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the page in your web browser.")
    ] = True,
    stack_name: StackNameOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
    env_file: EnvFileOption = None,
) -> None:
    """Debug a topology in your browser: its graph and issues, simulation runs, traces.

    Serves a page on 127.0.0.1 (this machine only) until Ctrl-C. Edit the input and press
    Run to simulate; click an invocation to see its data, logs, error and whole trace.
    The Live tab shows the deployed topology: each processor's invocations, errors,
    iterator age and dead letters from CloudWatch, and its logs, filterable by trace id
    (the AWS options say where to look).

    Example: attak ui sample_topology --port 8484
    """
    from attak_cdk.ui.server import serve  # starlette and uvicorn: only this command needs them

    def announce(url: str) -> None:
        sys.stdout.write(f"attak ui: {url}  (Ctrl-C to stop)\n")
        sys.stdout.flush()

    serve(
        path,
        port=port,
        open_browser=open_browser,
        announce=announce,
        connection=aws_connection(region, profile, endpoint_url),
        stack_name=stack_name,
        env_file=env_file,
    )
    sys.stdout.write("attak ui stopped\n")
