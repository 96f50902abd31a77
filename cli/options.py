"""Parameters several commands share, and the AWS connection they describe."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand


def given_path(value: str | Path) -> Path:
    """A path parameter's value: an empty one is a usage error (exit 2), not the current
    folder that ``Path("")`` silently means."""
    if isinstance(value, str) and not value:
        raise typer.BadParameter("is empty: give a file or folder path ('.' is the current folder)")
    return Path(value)


PathArgument = Annotated[
    Path,
    typer.Argument(
        help="The topology file, or a folder holding topology.yml/.yaml/.json/.py.",
        show_default=True,
        parser=given_path,
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
        parser=given_path,
    ),
]
EnvFileOption = Annotated[
    Path | None,
    typer.Option(
        "--env-file",
        help="A dotenv file (NAME=value lines) giving the values the topology keeps in SSM "
        "or Secrets Manager ({ssm: ...}, {secret: ...}); a variable set in the process "
        "environment wins. Default: .env beside the topology, if there is one.",
        parser=given_path,
    ),
]
PASSTHROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


class PassthroughCommand(TyperCommand):
    """A command whose arguments after ``--`` all go to the tool it runs (``cdk``).

    click would still fill the command's own arguments from them: ``attak deploy --
    --require-approval never`` would take ``--require-approval`` as the topology path.
    They are set aside before parsing and handed on untouched in ``ctx.args``.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if "--" not in args:
            return super().parse_args(ctx, args)
        split = args.index("--")
        super().parse_args(ctx, args[:split])
        passed_on: list[str] = [*ctx.args, *args[split + 1 :]]
        ctx.args = passed_on
        return passed_on


RegionOption = Annotated[
    str | None, typer.Option("--region", help="AWS region (default: AWS_REGION or the profile's).")
]
ProfileOption = Annotated[
    str | None, typer.Option("--profile", help="AWS profile (default: AWS_PROFILE).")
]


def endpoint_url(value: str | None) -> str | None:
    """``--endpoint-url``'s check: an http(s) URL with a host, or a usage error (exit 2)."""
    from attak_cdk.errors import endpoint_problem

    problem = value is not None and endpoint_problem(value)
    if problem:
        raise typer.BadParameter(f"{value!r} {problem}")
    return value


EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        help="Send every AWS call here, e.g. a local emulator: http://localhost:5000. "
        "Credentials and region default to placeholders there.",
        callback=endpoint_url,
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
