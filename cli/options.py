"""Parameters several commands share, and the AWS connection they describe."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

PathArgument = Annotated[
    Path,
    typer.Argument(
        help="The topology file, or a folder holding topology.yml/.yaml/.json/.py.",
        show_default=True,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON document instead.")]
InputOption = Annotated[
    Path | None,
    typer.Option(
        "--input",
        "-i",
        help="Input events: input.json ({processor: data}) or JSON Lines "
        '({"processor": ..., "data": ...} per line, .jsonl). Default: input.json '
        "beside the topology.",
    ),
]
PASSTHROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}
RegionOption = Annotated[
    str | None, typer.Option("--region", help="AWS region (default: AWS_REGION or the profile's).")
]
ProfileOption = Annotated[
    str | None, typer.Option("--profile", help="AWS profile (default: AWS_PROFILE).")
]
EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="Send every AWS call here, e.g. a local emulator: http://localhost:5000. "
        "Credentials and region default to placeholders there.",
    ),
]
StackNameOption = Annotated[
    str | None,
    typer.Option(
        "--stack-name",
        help="The CloudFormation stack holding the topology (default: the topology's name; "
        "set it for a topology built into your own CDK app).",
    ),
]


def aws_connection(region: str | None, profile: str | None, endpoint_url: str | None) -> Any:
    """The AWS connection the options describe (boto3 and the cdk CLI share it)."""
    from attak_cdk.live.connection import Connection

    return Connection(region=region, profile=profile, endpoint_url=endpoint_url)
