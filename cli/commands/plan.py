"""``attak plan``: capacity and cost of a topology."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..options import (
    InputOption,
    JsonOption,
    PathArgument,
)
from ..render.console import print_json
from ..render.plan import plan_report
from ..render.problems import issues

if TYPE_CHECKING:
    from attak_cdk.model import Topology
    from attak_cdk.plan.assumptions import Assumptions


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
        typer.Option(
            help="Lambda architecture to price: arm64 (what attak deploys) or x86_64; a "
            "processor's own architecture: setting wins."
        ),
    ] = "arm64",
    prices: Annotated[
        Path | None,
        typer.Option(help="A price table (JSON) to use instead of the one shipped with attak."),
    ] = None,
    measure: Annotated[
        bool,
        typer.Option(
            "--measure",
            help="Run the topology locally on --input first and plan with what the run "
            "measured: emits per event and topic, event sizes on the wire, handler time, "
            "errors. Figures under plan: and options still win.",
        ),
    ] = False,
    input: InputOption = None,
    as_json: JsonOption = False,
) -> None:
    """Capacity and monthly cost of the topology at a load: shards, Lambda, the bill.

    Example: attak plan sample_topology --rate "1 TB/day" --size 1KB --duration 1ms
    Example: attak plan sample_topology --rate "1 TB/day" --measure --input events.jsonl
    """
    from attak_cdk.errors import UsageError
    from attak_cdk.plan.assumptions import with_command_line
    from attak_cdk.plan.cost import plan_topology
    from attak_cdk.plan.prices import ARCHITECTURES, read_prices
    from attak_cdk.plan.shards import resolve_auto_shards
    from attak_cdk.project import check_topology_plan

    if architecture not in ARCHITECTURES:
        raise UsageError(
            f"--architecture must be one of {', '.join(ARCHITECTURES)} (given '{architecture}')"
        )
    if input is not None and not measure:
        raise UsageError("--input is read by --measure: add --measure to plan from a run")
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
    if measure:  # plans even from a failing run, saying so; the exit code says it too
        assumptions = _measured(planned.topology, assumptions, input)
    # shards: auto was sized for the plan: section's load; options and a run change it.
    topology = resolve_auto_shards(planned.topology, assumptions)
    result = plan_topology(
        topology,
        assumptions,
        read_prices(prices),
        architecture=architecture,
        auto_streams=planned.auto_streams,
    )
    if as_json:
        print_json(result.as_dict())
    else:
        issues(planned.warnings)
        plan_report(result)
    if assumptions.run_problems:
        raise typer.Exit(1)


def _measured(topology: Topology, given: Assumptions, input: Path | None) -> Assumptions:
    """``given`` laid over what a local run of ``input`` measured (the memory engine:
    in-process, so the figures are the handlers' own, not a local server's)."""
    from attak_cdk.errors import display_path
    from attak_cdk.inputs import default_input, read_inputs
    from attak_cdk.plan.measure import MeasureError, beneath, measured
    from attak_cdk.simulate import memory

    file = input or default_input(topology.file)
    events = read_inputs(file, topology.processors)
    if not events:
        raise MeasureError(f"{display_path(file)} holds no events: --measure has nothing to run")
    run = memory.simulate(topology, events)
    count = f"{len(events)} event{'s' if len(events) != 1 else ''}"
    found = replace(measured(topology, run), measured_from=f"{count} of {display_path(file)}")
    return beneath(found, given, dead_letters_given=topology.plan.dead_letters is not None)
