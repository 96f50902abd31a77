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
        model, issues = inspect_topology(path)
        name = model.name if model is not None else None
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
    input: InputOption = None,
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
    engine: Annotated[
        str,
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
        ),
    ] = None,
) -> None:
    """Run the topology locally with the runtime Lambda runs.

    Exits 0 when every record was processed, 1 when a record ended as a dead letter or a
    loop hit max_hops.

    Example: attak simulate sample_topology --input events.jsonl --engine kinesis
    """
    import time
    from collections.abc import Callable
    from functools import partial

    from attak_cdk.errors import UsageError
    from attak_cdk.inputs import default_input, read_inputs
    from attak_cdk.loader import check_topology
    from attak_cdk.simulate.result import SimulationResult, document

    if engine not in ("memory", "kinesis"):
        raise UsageError(f"--engine must be memory or kinesis (given '{engine}')")
    if engine == "memory" and endpoint_url is not None:
        raise UsageError("--endpoint-url needs --engine kinesis (the memory engine has none)")
    run: Callable[..., SimulationResult]
    if engine == "kinesis":  # imports boto3: only this engine pays for it
        from attak_cdk.simulate import kinesis

        run = partial(kinesis.simulate, endpoint_url=endpoint_url)
    else:
        from attak_cdk.simulate import memory

        run = memory.simulate

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


def _connection(region: str | None, profile: str | None, endpoint_url: str | None) -> Any:
    from attak_cdk.live.connection import Connection

    return Connection(region=region, profile=profile, endpoint_url=endpoint_url)


def _cdk(
    action: str,
    ctx: typer.Context,
    path: Path,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
) -> None:
    from attak_cdk.loader import load_topology
    from attak_cdk.toolchain import run_cdk

    topology = load_topology(path)  # fail here, clearly, before the cdk CLI starts
    connection = _connection(region, profile, endpoint_url)
    run_cdk(action, topology.file, ctx.args, connection=connection)


@app.command(context_settings=_PASSTHROUGH)
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


@app.command(context_settings=_PASSTHROUGH)
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


@app.command(context_settings=_PASSTHROUGH)
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


TRIGGER_QUIET_SECONDS = 15.0
"""--follow after trigger stops once no new log line arrived for this long."""
CLOCK_SKEW_MS = 5_000
"""Log lines stamped this much before trigger started still count as its own."""


@app.command()
def trigger(
    path: PathArgument = Path(),
    input: InputOption = None,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", help="Invoke synchronously and show each handler's result or error."
        ),
    ] = False,
    follow: Annotated[
        bool | None,
        typer.Option(
            "--follow/--no-follow",
            help="Then show every processor's logs until they go quiet or Ctrl-C "
            "(default: when printing to a terminal).",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(min=1, help="Seconds to wait for each result (--wait) and to follow logs."),
    ] = 60.0,
    as_json: JsonOption = False,
    stack_name: StackNameOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Send input events to the deployed topology, each with a trace id.

    An event for a processor with an ingest stream (input: stream) is written into that
    stream; any other processor is invoked directly (asynchronously unless --wait).
    Exits 1 when an event was not sent (or, with --wait, failed).

    Example: attak trigger sample_topology --wait --follow
    """
    import time

    from attak_cdk.inputs import default_input, read_inputs
    from attak_cdk.live import logs as live_logs
    from attak_cdk.live import trigger as live_trigger
    from attak_cdk.live.deployment import differences, find_deployment
    from attak_cdk.loader import load_topology

    topology = load_topology(path)
    events = read_inputs(input or default_input(topology.file), topology.processors)
    connection = _connection(region, profile, endpoint_url)
    deployment = find_deployment(connection, topology.name, stack_name)
    render.deployment_differs(path, differences(topology, deployment))
    deliveries = live_trigger.plan(deployment, events)  # unknown processors fail before any send
    clients = (
        connection.client("kinesis"),
        # One attempt: a retried invoke could run the handler twice; throttling is
        # retried by attak, which knows the call did not run.
        connection.client("lambda", attempts=1, read_timeout=timeout if wait else 60),
    )
    started = time.time()
    if not as_json:
        render.trigger_header(topology.name, deployment.stacks, len(events), wait)
    with render.TriggerProgress(len(deliveries), show=not as_json) as progress:
        live_trigger.send(deliveries, *clients, wait=wait, on_delivery=progress)
    if as_json:
        render.print_json(render.trigger_document(topology.name, deployment.stacks, deliveries))
    else:
        render.trigger_summary(deliveries, time.time() - started, path)
    if follow if follow is not None else (render.out.is_terminal and not as_json):
        reader = live_logs.LogReader(connection.client("logs"), deployment)
        printer = render.LogPrinter(reader.processors, as_json=as_json)
        render.following(reader.processors, TRIGGER_QUIET_SECONDS)
        follower = live_logs.LogFollower(reader, start=int(started * 1000) - CLOCK_SKEW_MS)
        with connection.errors("reading the processors' logs"):
            reason = live_logs.follow(
                follower, printer, quiet=TRIGGER_QUIET_SECONDS, timeout=timeout
            )
        render.logs_end(printer.count, reason, None)
    if any(d.failed for d in deliveries):
        raise typer.Exit(1)


@app.command("logs")
def logs_command(
    path: PathArgument = Path(),
    processors: Annotated[
        list[str] | None,
        typer.Argument(help="Processors whose logs to show (default: all).", show_default=False),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep showing new lines until Ctrl-C.")
    ] = False,
    since: Annotated[
        str,
        typer.Option(help="From how long ago (30s, 10m, 2h, 1d) or from a time (ISO 8601)."),
    ] = "10m",
    trace: Annotated[
        str | None,
        typer.Option(
            help="Only one input event's path through every processor: the trace id "
            "`attak trigger` printed."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON document per line (JSON Lines).")
    ] = False,
    stack_name: StackNameOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Show the deployed processors' logs, interleaved, each line with its processor.

    Example: attak logs sample_topology reverse --since 1h --trace 1f2e3d4c5b6a7980
    """
    from attak_cdk.live import logs
    from attak_cdk.live.deployment import find_deployment
    from attak_cdk.loader import load_topology

    start = logs.parse_since(since)
    topology = load_topology(path)
    connection = _connection(region, profile, endpoint_url)
    deployment = find_deployment(connection, topology.name, stack_name)
    reader = logs.LogReader(connection.client("logs"), deployment, processors or ())
    printer = render.LogPrinter(reader.processors, as_json=as_json)
    only = logs.TraceFilter(trace) if trace else None
    with connection.errors("reading the processors' logs"):
        lines = reader.read(start)
        printer(only.feed(lines) if only else lines)
        if follow:
            newest = max((line.timestamp for line in lines), default=start)
            follower = logs.LogFollower(reader, start=newest, trace=only)
            follower.seen = {line.event_id: line.timestamp for line in lines}
            logs.follow(follower, printer)
    if not as_json:
        render.logs_end(printer.count, "done", trace)


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


@app.command()
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
    from attak_cdk.loader import check_topology_plan
    from attak_cdk.plan.assumptions import with_command_line
    from attak_cdk.plan.cost import plan_topology
    from attak_cdk.plan.prices import ARCHITECTURES, read_prices

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
    )
    result = plan_topology(
        planned.topology,
        assumptions,
        read_prices(prices),
        architecture=architecture,
        auto_streams=planned.auto_streams,
    )
    if as_json:
        render.print_json(result.as_dict())
        return
    render.issues(planned.warnings)
    render.plan(result)


@app.command()
def ui(
    path: PathArgument = Path(),
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port to serve on, on 127.0.0.1. Default: a free one."),
    ] = None,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the page in your web browser.")
    ] = True,
) -> None:
    """Debug a topology in your browser: its graph and issues, simulation runs, traces.

    Serves a page on 127.0.0.1 (this machine only) until Ctrl-C. Edit the input and press
    Run to simulate; click an invocation to see its data, logs, error and whole trace.

    Example: attak ui sample_topology --port 8484
    """
    from attak_cdk.ui.server import serve  # starlette and uvicorn: only this command needs them

    def announce(url: str) -> None:
        sys.stdout.write(f"attak ui: {url}  (Ctrl-C to stop)\n")
        sys.stdout.flush()

    serve(path, port=port, open_browser=open_browser, announce=announce)
    sys.stdout.write("attak ui stopped\n")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
