"""``attak plan``: capacity and cost of a topology."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..options import (
    JsonOption,
    PathArgument,
)
from ..render.console import print_json
from ..render.plan import plan_report
from ..render.problems import issues


def plan(
    path: PathArgument = Path(),
    rate: Annotated[
        list[str] | None,
        typer.Option(
            help="Input rate into every entry processor, or PROCESSOR=RATE: 1000/s, "
            "5 MB/s, 1 TB/day. Default: the topology's plan: rate (none: idle).",
        ),
    ] = None,
    size: Annotated[
        list[str] | None,
        typer.Option(help="Input event size, or PROCESSOR=SIZE: 512 B, 1 KB. Default: 1 KB."),
    ] = None,
    emits: Annotated[
        list[str] | None,
        typer.Option(
            "--emits",
            "--fanout",
            help="PROCESSOR=N: records it emits into each outgoing stream per event. Default: 1.",
        ),
    ] = None,
    duration: Annotated[
        list[str] | None,
        typer.Option(help="Handler time per event, or PROCESSOR=TIME: 20 ms. Default: 10 ms."),
    ] = None,
    compression: Annotated[
        str | None,
        typer.Option(
            help="How many times smaller zlib makes the runtime's records: 4x, 1x (none). "
            "Default: the topology's plan: compression, else 4x (assumed).",
        ),
    ] = None,
    region: Annotated[
        str | None, typer.Option(help="AWS region to price in. Default: us-east-1.")
    ] = None,
    architecture: Annotated[
        str,
        typer.Option(help="Lambda architecture to price: arm64 (what attak deploys) or x86_64."),
    ] = "arm64",
    prices: Annotated[
        Path | None,
        typer.Option(help="A price table (JSON) to use instead of the one shipped with attak."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Capacity and monthly cost of the topology at a load: shards, Lambda, the bill.

    Example: attak plan sample_topology --rate "1 TB/day" --size 1KB --duration 1ms
    """
    from attak_cdk.errors import UsageError
    from attak_cdk.plan.assumptions import with_command_line
    from attak_cdk.plan.cost import plan_topology
    from attak_cdk.plan.prices import ARCHITECTURES, read_prices
    from attak_cdk.project import check_topology_plan

    if architecture not in ARCHITECTURES:
        raise UsageError(
            f"--architecture must be one of {', '.join(ARCHITECTURES)} (given '{architecture}')"
        )
    planned = check_topology_plan(path)
    assumptions = with_command_line(
        planned.assumptions,
        planned.topology.processors,
        rates=rate or [],
        sizes=size or [],
        durations=duration or [],
        emits=emits or [],
        region=region,
        compression=compression,
    )
    result = plan_topology(
        planned.topology,
        assumptions,
        read_prices(prices),
        architecture=architecture,
        auto_streams=planned.auto_streams,
    )
    if as_json:
        print_json(result.as_dict())
        return
    issues(planned.warnings)
    plan_report(result)
