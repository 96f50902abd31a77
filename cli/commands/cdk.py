"""Commands that build or change the CloudFormation stack: synth, deploy, diff, destroy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..options import (
    EndpointOption,
    JsonOption,
    PathArgument,
    ProfileOption,
    RegionOption,
    aws_connection,
    given_path,
)
from ..render.console import print_json, print_yaml
from ..render.deployment import layout_left_behind
from ..render.problems import issues
from ..render.review import environment_for_cdk, review, synthesized


def synth(
    path: PathArgument = Path(),
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", parser=given_path, help="Where to write the cloud assembly."
        ),
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
    from attak_cdk.output import check_writable_folder
    from attak_cdk.project import check_topology
    from attak_cdk.review import configured, granted, names, review_stacks

    topology, warnings = check_topology(path)
    check_writable_folder(
        output,
        "the cloud assembly folder (--output)",
        "pass a new or existing folder with -o, e.g. -o cdk.out",
    )
    issues(warnings)
    environment_for_cdk()
    from attak_cdk.cdk.app import synthesize  # imports aws_cdk: only this command pays for it

    # The topology loaded and validated above: its handlers are not imported again.
    templates = synthesize(topology, output, validation=validation)
    loaded = {stack: json.loads(file.read_text()) for stack, file in templates.items()}
    if print_template:
        print_yaml(loaded if len(loaded) > 1 else next(iter(loaded.values())))
        return
    reviews = review_stacks(loaded, granted(topology), configured(topology))
    if as_json:
        documents = [{**r.as_dict(), "template": str(templates[r.stack])} for r in reviews]
        print_json(documents[0] if len(documents) == 1 else {"stacks": documents})
        return
    for summary in reviews:
        review(summary, templates[summary.stack], names(topology))
    synthesized(reviews, output)


def _cdk(
    action: str,
    ctx: typer.Context,
    path: Path,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
) -> None:
    from attak_cdk.project import load_topology
    from attak_cdk.toolchain import names_stacks, run_cdk

    topology = load_topology(path)  # fail here, clearly, before the cdk CLI starts
    connection = aws_connection(region, profile, endpoint_url)
    run_cdk(action, topology.file, ctx.args, connection=connection)
    if action == "deploy" and not names_stacks(ctx.args):
        # A topology that grew past one stack, or shrank back into one, leaves its old
        # layout deployed beside the new: say so now, not at the next trigger.
        from attak_cdk.live.deployment import leftover_layout

        layout_left_behind(leftover_layout(connection, topology.name))


def deploy(
    ctx: typer.Context,
    path: PathArgument = Path(),
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Deploy the topology with `cdk deploy` (arguments after -- go to cdk).

    With --endpoint-url (a local emulator) the environment is bootstrapped if needed and
    nothing asks for approval.

    Example: attak deploy sample_topology -- --require-approval never
    """
    _cdk("deploy", ctx, path, region, profile, endpoint_url)


def diff(
    ctx: typer.Context,
    path: PathArgument = Path(),
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Compare the topology with what is deployed, with `cdk diff`.

    Example: attak diff sample_topology
    """
    _cdk("diff", ctx, path, region, profile, endpoint_url)


def destroy(
    ctx: typer.Context,
    path: PathArgument = Path(),
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Delete the deployed topology with `cdk destroy` (arguments after -- go to cdk).

    Example: attak destroy sample_topology -- --force
    """
    _cdk("destroy", ctx, path, region, profile, endpoint_url)
