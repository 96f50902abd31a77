"""attak's synthesis time against a hand-written CDK app building the same resources.

Topologies are chains s0 -> s1 -> ... -> s(n-1) whose processors share one handler file.
attak's side is what ``attak synth`` runs: ``build_app(topology, outdir).synth()``, that is
loading and validating the topology file, importing the handler, staging the asset,
building the constructs and synthesizing. The plain side uses aws-cdk-lib's L2 constructs
directly (no attak module) to create the same resources, split over the same stacks, from
a Lambda asset folder prepared once beforehand. Each pair of assemblies is checked to hold
the same stacks, resource types and counts, and outputs.

    python bench/synth_scaling.py [--sizes 10 50 150] [--rounds 2] [--profile 50]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from attak_cdk.cdk.app import build_app

HERE = Path(__file__).resolve().parent
RUNTIME_SOURCE = HERE.parent / "attak_cdk" / "runtime"  # copied as files, never imported
HANDLER = "def handler(event, context):\n    context.emit('next', event)\n"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")

# The layout attak's build_stacks uses, restated: one stack while the planned resources fit
# 450, else streams in stacks of 60 and processors in stacks of at most 40 (or 450 planned
# resources: 12 per processor plus one per incoming stream, one for the dashboard).
PROCESSOR_RESOURCES = 12
RESOURCE_BUDGET = 450
MAX_PROCESSORS_PER_STACK = 40
MAX_STREAMS_PER_STACK = 60
MAX_CREATING_STREAMS = 5

Assembly = Any  # cx_api.CloudAssembly


# --- the topology attak reads, and the asset folder the plain app uses -------------------


def write_topology(root: Path, size: int) -> Path:
    folder = root / f"chain-{size}"
    (folder / "p").mkdir(parents=True)
    (folder / "p" / "step.py").write_text(HANDLER)
    lines = [f"name: chain-{size}", "processors:"]
    lines += [f"  s{i}: p/step.py" for i in range(size)]
    lines += ["streams:"] + [f"  - [s{i}, s{i + 1}]" for i in range(size - 1)]
    (folder / "topology.yml").write_text("\n".join(lines) + "\n")
    return folder


def prepare_asset(root: Path) -> Path:
    """The handler's folder plus the runtime as ``attak_runtime/``: what attak stages."""
    asset = root / "plain-asset"
    asset.mkdir()
    (asset / "step.py").write_text(HANDLER)
    shutil.copytree(RUNTIME_SOURCE, asset / "attak_runtime", ignore=IGNORED)
    return asset


# --- the plain CDK app ------------------------------------------------------------------


def environment() -> cdk.Environment | None:
    account, region = os.environ.get("CDK_DEFAULT_ACCOUNT"), os.environ.get("CDK_DEFAULT_REGION")
    return cdk.Environment(account=account, region=region) if account and region else None


def layout(size: int) -> tuple[list[int], list[int]]:
    """Streams per stream stack and processors per processor stack ([], [size] if one)."""
    streams = size - 1
    if PROCESSOR_RESOURCES * size + 2 * streams + 1 <= RESOURCE_BUDGET:
        return [], [size]
    stream_stacks = [
        min(MAX_STREAMS_PER_STACK, streams - start)
        for start in range(0, streams, MAX_STREAMS_PER_STACK)
    ]
    processor_stacks: list[int] = []
    used = 0
    for index in range(size):
        cost = PROCESSOR_RESOURCES + (index > 0)  # every processor but s0 reads one stream
        if (
            not processor_stacks
            or used + cost > RESOURCE_BUDGET
            or (processor_stacks[-1] >= MAX_PROCESSORS_PER_STACK)
        ):
            processor_stacks.append(0)
            used = 1  # the stack's dashboard
        processor_stacks[-1] += 1
        used += cost
    return stream_stacks, processor_stacks


class Processor:
    """One processor's resources, written as a CDK user would: log group, queue, function,
    async-invoke config and five alarms."""

    def __init__(self, scope: Construct, name: str, topology: str, asset: Path) -> None:
        self.name, self.id = name, name.capitalize()
        minute = Duration.minutes(1)
        self.log_group = logs.LogGroup(
            scope,
            f"{self.id}LogGroup",
            retention=logs.RetentionDays.TWO_WEEKS,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.queue = sqs.Queue(
            scope,
            f"{self.id}DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        self.function = lambda_.Function(
            scope,
            f"{self.id}Function",
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            code=lambda_.Code.from_asset(str(asset)),
            handler="attak_runtime.handler.lambda_handler",
            memory_size=256,
            timeout=Duration.seconds(60),
            log_group=self.log_group,
            description=f"attak processor '{name}' of topology '{topology}'",
            environment={
                "ATTAK_HANDLER": "step:handler",
                "ATTAK_PROCESSOR": name,
                "ATTAK_TOPOLOGY": topology,
                "ATTAK_MAX_HOPS": "16",
            },
        )
        self.function.configure_async_invoke(
            retry_attempts=2, on_failure=destinations.SqsDestination(self.queue)
        )
        at_least = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        not_breaching = cloudwatch.TreatMissingData.NOT_BREACHING
        cloudwatch.Alarm(
            scope,
            f"{self.id}ErrorsAlarm",
            metric=self.function.metric_errors(period=minute, statistic="Sum"),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=at_least,
            treat_missing_data=not_breaching,
            alarm_description=f"processor '{name}' raised errors",
        )
        cloudwatch.Alarm(
            scope,
            f"{self.id}IteratorAgeAlarm",
            metric=self.function.metric("IteratorAge", period=minute, statistic="Maximum"),
            threshold=60_000,
            evaluation_periods=5,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=not_breaching,
            alarm_description=f"processor '{name}' is falling behind its streams",
        )
        cloudwatch.Alarm(
            scope,
            f"{self.id}DeadLettersAlarm",
            metric=self.queue.metric_approximate_number_of_messages_visible(
                period=minute, statistic="Maximum"
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=at_least,
            treat_missing_data=not_breaching,
            alarm_description=f"records of processor '{name}' were dead-lettered",
        )

        for metric, what in (("failed", "FailedEvents"), ("dead_letters", "DeadLetteredEvents")):
            cloudwatch.Alarm(
                scope,
                f"{self.id}{what}Alarm",
                metric=cloudwatch.Metric(
                    namespace="attak",
                    metric_name=metric,
                    dimensions_map={"topology": topology, "processor": name},
                    period=minute,
                    statistic="Sum",
                ),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=at_least,
                treat_missing_data=not_breaching,
                alarm_description=f"processor '{name}': {what}",
            )

    def read_from(self, stream: kinesis.Stream, stream_id: str) -> None:
        stream.grant_read(self.function)
        self.function.add_event_source_mapping(
            f"From{stream_id}",
            event_source_arn=stream.stream_arn,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=100,
            max_batching_window=Duration.seconds(0),
            parallelization_factor=1,
            retry_attempts=10,
            bisect_batch_on_error=True,
            report_batch_item_failures=True,
            on_failure=sources.SqsDlq(self.queue),
        )


def plain_app(size: int, asset: Path, outdir: Path) -> cdk.App:
    name, env = f"chain-{size}", environment()
    app = cdk.App(outdir=str(outdir), builtin_cloud_formation_validation=False)
    stream_stacks, processor_stacks = layout(size)
    if not stream_stacks:
        stack = cdk.Stack(app, name, env=env, description=f"attak topology '{name}'")
        stream_scopes = [stack] * (size - 1)
        processor_scopes = [stack] * size
    else:

        def part(stack_name: str) -> cdk.Stack:
            description = f"attak topology '{name}' (part {stack_name})"
            return cdk.Stack(app, stack_name, env=env, description=description)

        stream_scopes = [
            stack
            for index, count in enumerate(stream_stacks, 1)
            for stack in [part(f"{name}-streams-{index}")] * count
        ]
        processor_scopes = [
            stack
            for index, count in enumerate(processor_stacks, 1)
            for stack in [part(f"{name}-{index}")] * count
        ]
    names = [f"s{i}" for i in range(size)]
    processors = [
        Processor(scope, n, name, asset) for scope, n in zip(processor_scopes, names, strict=True)
    ]
    streams: list[kinesis.Stream] = []
    for index, scope in enumerate(stream_scopes):
        source, target = processors[index], processors[index + 1]
        stream_id = f"{source.id}To{target.id}Stream"
        stream = kinesis.Stream(
            scope,
            stream_id,
            stream_name=f"{name}-{stream_id}",  # fixed at synth, as attak names streams
            encryption=kinesis.StreamEncryption.MANAGED,
            stream_mode=kinesis.StreamMode.ON_DEMAND,
            retention_period=Duration.hours(24),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        streams.append(stream)
        target.read_from(stream, stream_id)
        stream.grant(source.function, "kinesis:PutRecords")
        cdk.CfnOutput(
            scope,
            f"{stream_id}Name",
            value=f"{name}-{stream_id}",
            description=f"Kinesis stream {source.name}->{target.name}",
        )
    for index in range(MAX_CREATING_STREAMS, len(streams)):  # at most five CREATING at once
        streams[index].node.default_child.node.add_dependency(  # type: ignore[union-attr]
            streams[index - MAX_CREATING_STREAMS].node.default_child
        )
    # The routes are in each processor's asset (attak_routes.json), not its environment.
    for index, processor in enumerate(processors):
        cdk.CfnOutput(
            processor_scopes[index],
            f"{processor.id}FunctionName",
            value=processor.function.function_name,
            description=f"Lambda function of processor '{processor.name}'",
        )
    dashboards: dict[str, cloudwatch.Dashboard] = {}
    for scope, processor in zip(processor_scopes, processors, strict=True):
        dashboard = dashboards.get(scope.node.path)
        if dashboard is None:
            dashboard = dashboards[scope.node.path] = cloudwatch.Dashboard(scope, "Dashboard")
        function = processor.function
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title=f"{processor.name}: invocations and errors",
                left=[function.metric_invocations(), function.metric_errors()],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title=f"{processor.name}: iterator age (ms) and dead letters",
                left=[function.metric("IteratorAge", statistic="Maximum")],
                right=[processor.queue.metric_approximate_number_of_messages_visible()],
                width=12,
            ),
        )
    # One manifest per processor stack, listing its processors and the streams they use.
    local = [f"s{i}->s{i + 1}" for i in range(size - 1)]
    parts: dict[str, list[int]] = {}
    for index, scope in enumerate(processor_scopes):
        parts.setdefault(scope.node.path, []).append(index)
    for number, members in enumerate(parts.values(), 1):
        scope = processor_scopes[members[0]]
        used = {n for i in members for n in [*(local[i - 1 : i] if i else []), *local[i : i + 1]]}
        numbered = {"part": number, "parts": len(parts)} if len(parts) > 1 else {}
        manifest = {
            "version": 1,
            "topology": name,
            **numbered,
            "processors": {
                processors[i].name: {
                    "function": processors[i].function.function_name,
                    "log_group": processors[i].log_group.log_group_name,
                    "dead_letter_queue": processors[i].queue.queue_url,
                    "ingest_stream": None,
                    "inputs": local[i - 1 : i] if i else [],
                    "outputs": local[i : i + 1],
                }
                for i in members
            },
            "streams": {
                n: f"{name}-{s.node.id}" for n, s in zip(local, streams, strict=True) if n in used
            },
        }
        of = f" (part {number} of {len(parts)})" if numbered else ""
        cdk.CfnOutput(
            scope,
            "Manifest",
            value=scope.to_json_string(manifest),
            description="attak manifest: how `attak trigger` and `attak logs` find this "
            f"topology{of}",
        )
    return app


# --- timing -----------------------------------------------------------------------------


def attak_synth(topology: Path, asset: Path, outdir: Path) -> Assembly:
    return build_app(topology, outdir).synth()


def plain_synth(topology: Path, asset: Path, outdir: Path) -> Assembly:
    size = int(topology.name.rsplit("-", 1)[1])
    return plain_app(size, asset, outdir).synth()


def timed(
    synth: Callable[[Path, Path, Path], Assembly], topology: Path, asset: Path
) -> tuple[float, dict[str, Any]]:
    outdir = Path(tempfile.mkdtemp(prefix="synth-scaling-out-"))
    try:
        started = time.perf_counter()
        assembly = synth(topology, asset, outdir)
        elapsed = time.perf_counter() - started
        return elapsed, shape(assembly)
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


def shape(assembly: Assembly) -> dict[str, Any]:
    """What the assembly holds: its stacks, resources by type, and outputs."""
    directory = Path(assembly.directory)
    resources: Counter[str] = Counter()
    outputs = 0
    for stack in assembly.stacks:
        template = json.loads((directory / stack.template_file).read_text())
        resources.update(r["Type"] for r in template["Resources"].values())
        outputs += len(template.get("Outputs", {}))
    return {"stacks": len(assembly.stacks), "resources": dict(resources), "outputs": outputs}


def check_same(size: int, attak: dict[str, Any], plain: dict[str, Any]) -> None:
    if attak != plain:
        print(f"size {size}: the assemblies differ")
        for key in ("stacks", "outputs"):
            print(f"  {key}: attak {attak[key]}, plain {plain[key]}")
        for kind in sorted(set(attak["resources"]) | set(plain["resources"])):
            a, p = attak["resources"].get(kind, 0), plain["resources"].get(kind, 0)
            print(f"  {kind}: attak {a}, plain {p}{'' if a == p else '  <--'}")
        raise SystemExit(1)


def profile(topology: Path, asset: Path, top: int = 25) -> None:
    """cProfile one attak synthesis: attak's own functions, then everything by own time."""
    profiler = cProfile.Profile()
    outdir = Path(tempfile.mkdtemp(prefix="synth-scaling-out-"))
    try:
        profiler.enable()
        attak_synth(topology, asset, outdir)
        profiler.disable()
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
    for title, sort, restriction in (
        ("attak's functions, cumulative", "cumulative", ("attak_cdk", top)),
        ("all functions, own time", "tottime", (top,)),
    ):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(*restriction)
        print(f"--- {title} ({topology.name}) ---")
        print(out.getvalue().rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 150])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", type=int, metavar="SIZE", help="cProfile attak at SIZE")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="synth-scaling-"))
    try:
        asset = prepare_asset(root)
        warm = write_topology(root, 3)  # loads every CDK module both sides use, untimed
        timed(attak_synth, warm, asset)
        timed(plain_synth, warm, asset)
        if args.profile:
            profile(write_topology(root, args.profile), asset)
            return
        rows = []
        for size in args.sizes:
            topology = write_topology(root, size)
            best = {attak_synth: float("inf"), plain_synth: float("inf")}
            shapes: dict[Callable[..., Assembly], dict[str, Any]] = {}
            for round_ in range(args.rounds):  # interleaved, alternating who goes first
                order = [attak_synth, plain_synth]
                for synth in order[:: 1 if round_ % 2 == 0 else -1]:
                    elapsed, shapes[synth] = timed(synth, topology, asset)
                    best[synth] = min(best[synth], elapsed)
            check_same(size, shapes[attak_synth], shapes[plain_synth])
            found = shapes[attak_synth]
            print(
                f"size {size}: {found['stacks']} stacks, "
                f"{sum(found['resources'].values())} resources, {found['outputs']} outputs, "
                f"attak {best[attak_synth]:.2f} s, plain {best[plain_synth]:.2f} s",
                flush=True,
            )
            rows.append((size, best[attak_synth], best[plain_synth]))
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print(f"\nbest of {args.rounds} rounds, interleaved")
    print("processors   attak s   plain s   ratio   attak ms/proc   plain ms/proc")
    for size, attak, plain in rows:
        print(
            f"{size:>10}   {attak:7.2f}   {plain:7.2f}   {attak / plain:5.2f}x"
            f"   {1000 * attak / size:13.1f}   {1000 * plain / size:13.1f}"
        )
    print("target: attak <= 1.15x plain CDK, ms/processor flat across sizes")


if __name__ == "__main__":
    main()
