"""Commands on a deployed topology: trigger and logs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..options import (
    EndpointOption,
    InputOption,
    JsonOption,
    PathArgument,
    ProfileOption,
    RegionOption,
    StackNameOption,
    aws_connection,
)
from ..render.console import out, print_json
from ..render.deployment import deployment_differs
from ..render.logs import LogPrinter, following, logs_end
from ..render.trigger import TriggerProgress, trigger_document, trigger_header, trigger_summary

TRIGGER_QUIET_SECONDS = 15.0
"""--follow after trigger stops once no new log line arrived for this long."""


CLOCK_SKEW_MS = 5_000
"""Log lines stamped this much before trigger started still count as its own."""


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
    http: Annotated[
        bool | None,
        typer.Option(
            "--http/--no-http",
            help="Send the events of a processor with an HTTPS endpoint (http:) to its "
            "function URL, signed with SigV4 (default when it has one); --no-http invokes "
            "it directly; --http refuses a processor without one.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    stack_name: StackNameOption = None,
    region: RegionOption = None,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
) -> None:
    """Send input events to the deployed topology, each with a trace id.

    An event for a processor with an HTTPS endpoint (http:) is posted to its function
    URL, signed with SigV4, and waits for its answer; one with an ingest stream (input:
    stream) is written into that stream; any other processor is invoked directly
    (asynchronously unless --wait). Exits 1 when an event was not sent (or failed).

    Example: attak trigger sample_topology --wait --follow
    """
    import time

    from attak_cdk.inputs import default_input, read_inputs
    from attak_cdk.live import logs as live_logs
    from attak_cdk.live import trigger as live_trigger
    from attak_cdk.live.deployment import differences, find_deployment
    from attak_cdk.project import load_topology

    topology = load_topology(path)
    events = read_inputs(input or default_input(topology.file), topology.processors)
    connection = aws_connection(region, profile, endpoint_url)
    deployment = find_deployment(connection, topology.name, stack_name)
    deployment_differs(path, differences(topology, deployment))
    # Unknown processors, and --http for one without a URL, fail before any send.
    deliveries = live_trigger.plan(deployment, events, http=http)
    clients = (
        # One attempt: the runtime's emitter retries PutRecords itself, record by record.
        connection.client("kinesis", attempts=1),
        # One attempt: a retried invoke could run the handler twice; throttling is
        # retried by attak, which knows the call did not run.
        connection.client("lambda", attempts=1, read_timeout=timeout if wait else 60),
    )
    started = time.time()
    if not as_json:
        trigger_header(topology.name, deployment.stacks, len(events), wait)
    urls = None
    if any(d.via == "url" for d in deliveries):
        from attak_cdk.live.url import UrlClient

        with connection.errors("signing the requests to the HTTPS endpoints"):
            credentials = connection.session.get_credentials()
            urls = UrlClient(credentials, connection.region_name, timeout=timeout)
    public = frozenset(
        p.url for p in deployment.processors.values() if p.url and p.url_auth == "none"
    )
    with TriggerProgress(len(deliveries), show=not as_json) as progress:
        live_trigger.send(
            deliveries,
            *clients,
            wait=wait,
            on_delivery=progress,
            urls=urls,
            public=public,
        )
    if as_json:
        print_json(trigger_document(topology.name, deployment.stacks, deliveries))
    else:
        trigger_summary(deliveries, time.time() - started, path)
    if follow if follow is not None else (out.is_terminal and not as_json):
        reader = live_logs.LogReader(connection.client("logs"), deployment)
        printer = LogPrinter(reader.processors, as_json=as_json)
        following(reader.processors, TRIGGER_QUIET_SECONDS)
        follower = live_logs.LogFollower(reader, start=int(started * 1000) - CLOCK_SKEW_MS)
        with connection.errors("reading the processors' logs"):
            reason = live_logs.follow(
                follower, printer, quiet=TRIGGER_QUIET_SECONDS, timeout=timeout
            )
        logs_end(printer.count, reason, None)
    if any(d.failed for d in deliveries):
        raise typer.Exit(1)


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
    from attak_cdk.project import load_topology

    start = logs.parse_since(since)
    topology = load_topology(path)
    connection = aws_connection(region, profile, endpoint_url)
    deployment = find_deployment(connection, topology.name, stack_name)
    reader = logs.LogReader(connection.client("logs"), deployment, processors or ())
    printer = LogPrinter(reader.processors, as_json=as_json)
    only = logs.TraceFilter(trace) if trace else None
    with connection.errors("reading the processors' logs"):
        lines = reader.read(start)
        printer(only.feed(lines) if only else logs.shown(lines))
        if follow:
            newest = max((line.timestamp for line in lines), default=start)
            follower = logs.LogFollower(reader, start=newest, trace=only)
            follower.seen = {line.event_id: line.timestamp for line in lines}
            logs.follow(follower, printer)
    if not as_json:
        logs_end(printer.count, "done", trace)
