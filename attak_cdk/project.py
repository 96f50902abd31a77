"""A topology as the commands use it: read, its ``plan:`` applied, and validated.

Three layers each do one part: ``loader`` reads the file into the model (``shards: auto``
and the ``plan:`` section as written), ``plan`` reads the section's quantities and sizes
the ``auto`` streams from them, ``validate`` runs the cross-element rules. This module runs
them in that order and collects every issue at once. The ``attak`` commands, ``cdk.json``'s
app, the UI and ``attak_cdk.testing`` load topologies here, and so should your own CDK
app::

    from attak_cdk.project import load_topology

    Topology(stack, "Pipeline", topology=load_topology("pipeline/"))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import Issue, TopologyError
from .loader import read_topology_leniently
from .model import Topology
from .plan.assumptions import Assumptions, plan_assumptions
from .plan.shards import (
    auto_needs_plan,
    auto_stream_names,
    resolve_auto_shards,
    shards_below_plan,
)
from .validate import RULES, validate


def load_topology(path: str | Path) -> Topology:
    """Read and fully validate a topology; raise ``TopologyError`` listing every error.

    Warnings are not raised; see ``check_topology``.
    """
    topology, _ = check_topology(path)
    return topology


def check_topology(path: str | Path) -> tuple[Topology, list[Issue]]:
    """Read and validate a topology; return it with its warnings, or raise on any error."""
    topology, issues = inspect_topology(path)
    if topology is None or any(i.severity == "error" for i in issues):
        raise TopologyError(issues)
    return topology, issues


def inspect_topology(path: str | Path) -> tuple[Topology | None, list[Issue]]:
    """Every issue of a topology, errors first, and the model as far as it could be read.

    The cross-element rules run even when the file has shape problems (on what could be
    read), so one run reports everything there is to fix. A file that cannot be parsed at
    all still raises ``TopologyError``.
    """
    topology, issues, _ = _inspect(path)
    return topology, issues


@dataclass(frozen=True)
class PlannedTopology:
    """A validated topology with its ``plan:`` section, for ``attak plan``."""

    topology: Topology
    assumptions: Assumptions
    auto_streams: frozenset[str]
    """Local names of the streams declared ``shards: auto``."""
    warnings: list[Issue]


def check_topology_plan(path: str | Path) -> PlannedTopology:
    """Like ``check_topology``, with the topology's ``plan:`` section and its auto streams."""
    topology, issues, assumptions = _inspect(path)
    if topology is None or any(i.severity == "error" for i in issues):
        raise TopologyError(issues)
    return PlannedTopology(topology, assumptions, auto_stream_names(topology), issues)


def _inspect(path: str | Path) -> tuple[Topology | None, list[Issue], Assumptions]:
    topology, issues = read_topology_leniently(path)
    if topology is None:
        return None, issues, Assumptions()
    assumptions, problems = plan_assumptions(topology)
    issues = [*issues, *problems]
    if not issues:  # shards: auto needs the whole file read, and the plan with it
        issues.extend(auto_needs_plan(topology, assumptions))
    # With a planned rate, a stream declaring fewer shards than it needs is worth a word.
    rules = (*RULES, shards_below_plan(assumptions)) if assumptions.has_rate else RULES
    issues.extend(validate(topology, rules))
    if not any(i.severity == "error" for i in issues):
        # Sized last: the planned load flows along the streams, so they must lead somewhere.
        topology = resolve_auto_shards(topology, assumptions)
    return topology, sorted(issues, key=lambda i: i.severity != "error"), assumptions
