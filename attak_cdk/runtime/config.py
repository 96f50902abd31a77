"""What the stack and the runtime agree on: the environment attak gives every function, the
routes file in its asset, and the limits that hold the same in AWS and in the simulator.

The CDK stack writes these variables and the file, ``lambda_handler`` reads them; the
settings, the validation and the simulator take their numbers from here, so the two sides
cannot drift. Standard library only, like the rest of the runtime.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

ENV_PREFIX = "ATTAK_"
"""attak's own variables start with this; a topology may not set one."""
ENV_HANDLER = "ATTAK_HANDLER"
"""The user's handler as ``module:function`` inside the asset."""
ENV_PROCESSOR = "ATTAK_PROCESSOR"
"""The processor's name."""
ENV_TOPOLOGY = "ATTAK_TOPOLOGY"
"""The topology's name."""
ROUTES_FILE = "attak_routes.json"
"""The file at the root of a function's asset (Lambda's ``LAMBDA_TASK_ROOT``) saying where
the processor's emits go and how often an event it reads is retried:
``{"routes": [{"stream", "topic", "to"}, ...], "retries": {stream: retry_attempts}}``.
Written at synth, read once per container: the routes grow with the fan-out, and Lambda's
environment holds 4 KB in all, so they are not environment variables."""
ENV_DEAD_LETTERS = "ATTAK_DEAD_LETTERS"
"""The URL of the processor's dead-letter queue: where the runtime sends failed events."""
ENV_MAX_HOPS = "ATTAK_MAX_HOPS"
"""The stream hops a trace may take (``DEFAULT_MAX_HOPS`` when unset)."""
ENV_TRACE_SAMPLING = "ATTAK_TRACE_SAMPLING"
"""The share of traces whose records are logged one line each (``DEFAULT_TRACE_SAMPLING``
when unset: the stack sets it only when the topology's differs, as Lambda's environment
holds 4 KB in all, the user's variables included)."""
ENV_CONFIG = "ATTAK_CONFIG"
"""The user's environment values read from AWS at cold start (``configuration.py``), as
compact JSON: ``{"VARIABLE": {"ssm": NAME} | {"secret": NAME, "key": FIELD}}``, each NAME a
name or an ARN. Only these references are in the function's configuration, never the
values. Set only when the processor has one."""

# AWS Lambda stops a recursive chain after about 16 invocations (its "recursive loop
# detection"); a topology loop gets the same default bound.
DEFAULT_MAX_HOPS = 16
"""The stream hops a trace may take unless the topology sets ``max_hops``."""

# One log line per record costs more than the records themselves at scale; a percent of
# the traces, whole, is enough to see how events flow (see runtime/logs.py).
DEFAULT_TRACE_SAMPLING = 0.01
"""The share of traces logged record by record unless the topology sets ``trace_sampling``."""


def environment(
    *,
    handler: str,
    processor: str,
    topology: str,
    max_hops: int,
    dead_letters: str,
    trace_sampling: float,
    references: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, str]:
    """attak's variables for a processor's function, as the stack sets them and the
    validator weighs them against Lambda's 4 KB: the sampling rate only when it is not the
    default, and the configuration references (``ENV_CONFIG``) only when there are some,
    as every byte counts."""
    variables = {
        ENV_HANDLER: handler,
        ENV_PROCESSOR: processor,
        ENV_TOPOLOGY: topology,
        ENV_MAX_HOPS: str(max_hops),
        ENV_DEAD_LETTERS: dead_letters,
    }
    if trace_sampling != DEFAULT_TRACE_SAMPLING:
        variables[ENV_TRACE_SAMPLING] = repr(float(trace_sampling))
    if references:
        variables[ENV_CONFIG] = json.dumps(
            {name: dict(reference) for name, reference in sorted(references.items())},
            separators=(",", ":"),
        )
    return variables


DIRECT_RETRIES = 2
"""Lambda retries a failed asynchronous (direct) invocation twice before its on-failure
destination: the stack makes that explicit, the simulator does the same."""

EVENT_RETRY_BASE_DELAY = 0.1
"""Seconds before an event's first retry in place; doubled for each one after."""
EVENT_RETRY_MAX_DELAY = 1.0
"""The longest wait between two attempts of an event."""
EVENT_RETRY_RESERVE = 1.0
"""Seconds an invocation keeps after a retry's wait, to finish and send its emits: with
less left, the event is dead-lettered rather than retried into a timeout."""

# The counts an invocation's summary line carries as CloudWatch metrics (runtime/logs.py,
# in the Embedded Metric Format): the stack's alarms and dashboards read the same names.
METRICS_NAMESPACE = "attak"
"""The CloudWatch namespace of the runtime's metrics."""
METRIC_DIMENSIONS = ("topology", "processor")
"""Each metric is per processor of a topology: two topologies may share processor names."""
METRIC_FAILED = "failed"
"""Events an invocation gave up on: dead-lettered, or handed back to Lambda."""
METRIC_RETRIES = "retries"
"""Handler calls that retried an event in place."""
METRIC_DEAD_LETTERS = "dead_letters"
"""Events the runtime wrote to the processor's dead-letter queue."""
