"""How a topology is spread over CloudFormation stacks: which processors share a stack.

A topology past CloudFormation's 500 resources per stack is split (``cdk/stack.py``
builds it): its streams in ``<name>-streams-N`` stacks, its processors in ``<name>-N``
stacks, each processor stack with a dashboard of its own. The layout is decided here,
without the CDK, so ``attak plan`` prices the dashboards the stacks really get and
``attak simulate`` never starts jsii.
"""

from __future__ import annotations

from . import graph
from .model import Processor, Topology

PROCESSOR_RESOURCES = 12
"""Function, role, policy, log group, queue, queue policy, invoke config, five alarms."""
ALARMS_PER_PROCESSOR = 5
"""Errors, failed events, dead-lettered events, iterator age and dead-letter queue depth
(``cdk/processor.py``)."""
SCHEDULE_RESOURCES = 2
"""A scheduled processor's EventBridge rule and the permission letting it invoke the
function (its dead-letter queue's policy exists already)."""
ALERT_RESOURCES = 3
"""A processor stack's alerts topic when ``alerts:`` is set (``cdk/alerts.py``): its key,
the topic and its policy, plus one subscription per email address."""
RESOURCE_BUDGET = 450
"""Resources planned per stack, below 500 to leave room for what the CDK adds."""
PUBLIC_URL_PERMISSIONS = 2
"""A public function URL's resource-policy permissions: InvokeFunctionUrl and
InvokeFunction (``cdk/nag.py``)."""
MAX_PROCESSORS_PER_STACK = 40
"""Bounds a processor stack's manifest part (about 250 characters a processor once
resolved) and its outputs (one per processor, and the manifest). Changing it moves
processors between stacks, which replaces them."""
MAX_STREAMS_PER_STACK = 60
"""Each stream exports its ARN (its name is fixed at synth, so never exported) and outputs
its name: 120 outputs at most. Changing it moves streams between stacks, which replaces them."""


def estimate_resources(topology: Topology) -> int:
    """How many CloudFormation resources the topology needs (what sizes the split)."""
    streams = len(graph.resolve(topology).streams)
    mappings = streams  # one event-source mapping per stream
    fixed = 1 + alert_resources(topology)  # the dashboard, and the alerts topic if any
    extra = sum(own_resources(p) for p in topology.processors.values())
    return PROCESSOR_RESOURCES * len(topology.processors) + extra + streams + mappings + fixed


def own_resources(processor: Processor) -> int:
    """What a processor's own settings add to ``PROCESSOR_RESOURCES``: a policy for its
    grants, its function URL with, for a public one, its permissions, and its
    schedule's rule and permission."""
    endpoint = 0
    if processor.http is not None:
        endpoint = 1 + (PUBLIC_URL_PERMISSIONS if processor.http.public else 0)
    scheduled = SCHEDULE_RESOURCES if processor.schedule is not None else 0
    return bool(processor.grants) + endpoint + scheduled


def alert_resources(topology: Topology) -> int:
    """Resources each processor stack spends on telling people of its alarms."""
    if not topology.alerts:
        return 0
    return ALERT_RESOURCES + len(topology.alerts.emails)


def fits_one_stack(topology: Topology) -> bool:
    """Whether the whole topology is built into one stack."""
    return estimate_resources(topology) <= RESOURCE_BUDGET


def processor_stacks(topology: Topology) -> list[list[str]]:
    """The processors of each processor stack, in part order (one list when the topology
    fits one stack): processors fill a stack in order until its resources or its count
    would pass the budget."""
    resolved = graph.resolve(topology)
    if fits_one_stack(topology):
        return [list(resolved.processors)]
    parts: list[list[str]] = []
    used = count = 0
    for name, processor in resolved.processors.items():
        # Its resources, a mapping per stream it reads, and those its settings add.
        cost = PROCESSOR_RESOURCES + len(processor.reads) + own_resources(topology.processors[name])
        if not parts or used + cost > RESOURCE_BUDGET or count >= MAX_PROCESSORS_PER_STACK:
            parts.append([])
            used, count = 1 + alert_resources(topology), 0  # its dashboard and alerts
        parts[-1].append(name)
        used, count = used + cost, count + 1
    return parts


def stream_stacks(topology: Topology) -> list[list[str]]:
    """The local stream names of each stream stack of a split topology, in part order."""
    streams = list(graph.resolve(topology).streams)
    step = MAX_STREAMS_PER_STACK
    return [streams[start : start + step] for start in range(0, len(streams), step)]
