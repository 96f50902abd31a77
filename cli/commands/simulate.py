"""``attak simulate``: run the topology locally with either engine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from attak_cdk.settings import DEFAULT_MAX_HOPS
from attak_cdk.simulate.interrupts import second_interrupt_ends_the_process

from ..options import (
    EnvFileOption,
    InputOption,
    JsonOption,
    PathArgument,
    given_path,
)
from ..options import endpoint_url as check_endpoint_url
from ..render.console import print_json
from ..render.problems import issues
from ..render.simulate import TracePrinter, simulation_header, simulation_summary

Engine = Literal["memory", "kinesis"]


def simulate(
    path: PathArgument = Path(),
    input: InputOption = None,
    as_json: JsonOption = False,
    max_hops: Annotated[
        int | None,
        typer.Option(
            "--max-hops",
            min=1,
            help="Stop a trace after this many stream hops (default: the topology's "
            f"max_hops, {DEFAULT_MAX_HOPS} unless set).",
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
    engine: Annotated[
        Engine,
        typer.Option(
            help="memory: in-process (fast, the default); kinesis: records travel through a "
            "Kinesis API, read by Lambda's event-source-mapping rules.",
        ),
    ] = "memory",
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            help="With --engine kinesis: a Kinesis endpoint you run (kinesalite, moto server, "
            "LocalStack). Default: attak starts kinesalite on 127.0.0.1 for the run.",
            callback=check_endpoint_url,
        ),
    ] = None,
    dead_letters_out: Annotated[
        Path | None,
        typer.Option(
            "--dead-letters-out",
            help="Write the run's dead letters to this file (JSON), to replay them later.",
            parser=given_path,
        ),
    ] = None,
    replay_dead_letters: Annotated[
        Path | None,
        typer.Option(
            "--replay-dead-letters",
            help="Run a file of dead letters (--dead-letters-out, or a --json document) "
            "instead of the input: each goes back into the stream it was read from.",
            parser=given_path,
        ),
    ] = None,
    schedule_ticks: Annotated[
        int,
        typer.Option(
            "--schedule-ticks",
            min=0,
            help="Fire each scheduled processor's schedule this many times, after the input "
            "(its next firings from now, with its constant event or the scheduled time). "
            "When every entry is scheduled, no input file is needed.",
        ),
    ] = 0,
    timeouts: Annotated[
        bool,
        typer.Option(
            "--timeouts/--no-timeouts",
            help="Stop an invocation that runs past its processor's timeout, as Lambda "
            "does. --no-timeouts lets handlers run as long as they take (pdb is recognized "
            "either way; use it for other debuggers or profiling).",
        ),
    ] = True,
    env_file: EnvFileOption = None,
) -> None:
    """Run the topology locally with the runtime Lambda runs.

    Each invocation runs under its processor's timeout, as in Lambda. Exits 0 when every
    record was processed, 1 when a record ended as a dead letter or a loop hit max_hops.

    Fix a handler and run its failed events again: --dead-letters-out letters.json,
    then --replay-dead-letters letters.json.

    Run a schedule: --schedule-ticks 3 fires each scheduled processor three times.

    Example: attak simulate sample_topology --input events.jsonl --engine kinesis
    """
    import time
    from collections.abc import Callable
    from functools import partial

    from attak_cdk.errors import UsageError
    from attak_cdk.inputs import (
        default_input,
        only_scheduled_entries,
        read_inputs,
        scheduled_events,
    )
    from attak_cdk.project import check_topology
    from attak_cdk.simulate.configuration import local_environments
    from attak_cdk.simulate.result import SimulationResult, document
    from attak_cdk.validate import NEEDS_CONFIGURATION

    if engine == "memory" and endpoint_url is not None:
        raise UsageError("--endpoint-url needs --engine kinesis (the memory engine has none)")
    run: Callable[..., SimulationResult]
    if engine == "kinesis":  # imports boto3: only this engine pays for it
        from attak_cdk.simulate import kinesis

        run = partial(kinesis.simulate, endpoint_url=endpoint_url)
    else:
        from attak_cdk.simulate import memory

        run = memory.simulate

    if input is not None and replay_dead_letters is not None:
        raise UsageError(
            "--replay-dead-letters runs the letters instead of the input: give one of "
            "--input and --replay-dead-letters"
        )
    topology, warnings = check_topology(path)
    # Values kept in SSM or Secrets Manager, from here: a missing one stops the run now.
    environments = local_environments(topology, env_file)
    run = partial(run, environments=environments)
    # With the values known, the engine imports each handler again (and says if it fails).
    warnings = [w for w in warnings if w.code != NEEDS_CONFIGURATION]
    if replay_dead_letters is not None:
        from attak_cdk.simulate.replay import read_dead_letters

        events = read_dead_letters(replay_dead_letters, tuple(topology.processors))
    else:
        file = input or default_input(topology.file)
        ticks_only = input is None and schedule_ticks and only_scheduled_entries(topology)
        events = [] if ticks_only and not file.exists() else read_inputs(file, topology.processors)
    events += scheduled_events(topology, schedule_ticks)
    started = time.perf_counter()
    if as_json:
        with second_interrupt_ends_the_process():
            result = run(topology, events, max_hops=max_hops, seed=seed, timeouts=timeouts)
        print_json(document(result))
    else:
        issues(warnings)
        trace = TracePrinter(topology, show=show, quiet=quiet)
        simulation_header(topology, len(events))
        with second_interrupt_ends_the_process():  # at the terminal: see interrupts.py
            result = run(
                topology,
                events,
                max_hops=max_hops,
                seed=seed,
                on_invocation=trace,
                timeouts=timeouts,
            )
        trace.finish()
        simulation_summary(
            result,
            time.perf_counter() - started,
            topology,
            path=str(path),
            warnings=[w for w in warnings if w.severity == "warning"],
        )
    if dead_letters_out is not None:
        from attak_cdk.simulate.replay import write_dead_letters

        write_dead_letters(dead_letters_out, result)
    if not result.ok:
        raise typer.Exit(1)
