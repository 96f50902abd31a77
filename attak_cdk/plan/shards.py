"""Shards from the plan: ``shards: auto`` sized, and declared shards checked against the load.

The loader records ``shards: auto`` as written (``StreamSettings.auto_shards``) and leaves
the count unset; ``resolve_auto_shards`` gives each such stream the shards its planned load
needs, from the topology's ``plan:`` section. Without a rate to plan for there is nothing
to size, and ``auto_needs_plan`` says so, naming where ``auto`` was written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from .. import graph
from ..errors import Issue, display_path
from ..model import StreamSettings, Topology
from ..validate import Rule
from .assumptions import Assumptions
from .load import planned_shards, propagate, stream_shard_needs


def auto_stream_names(topology: Topology) -> frozenset[str]:
    """Local names of the streams declared ``shards: auto``, ingest streams included."""
    streams = graph.resolve(topology).streams
    return frozenset(name for name, stream in streams.items() if stream.settings.auto_shards)


def auto_needs_plan(topology: Topology, assumptions: Assumptions) -> list[Issue]:
    """An ``auto-needs-plan`` error for each place ``auto`` was written, without a rate."""
    if assumptions.has_rate:
        return []
    return [
        Issue(
            "auto-needs-plan",
            where,
            "shards: auto provisions what the planned load needs, so the topology "
            "needs a rate to plan for: add e.g. `plan: {rate: 1000/s, size: 1 KB}`, "
            "or give a number of shards",
            display_path(topology.file),
        )
        for where in sorted(_auto_written(topology))
    ]


def resolve_auto_shards(topology: Topology, assumptions: Assumptions) -> Topology:
    """The topology with each ``shards: auto`` stream given the shards its planned load needs.

    The topology must be valid (the load flows along its streams) and, if it has ``auto``
    streams, ``assumptions`` must have a rate (see ``auto_needs_plan``).
    """
    if not _auto_written(topology):
        return topology
    planned = planned_shards(topology, assumptions)
    streams = tuple(
        replace(s, settings=_sized(s.settings, planned[graph.stream_name(s)]))
        if s.settings.auto_shards
        else s
        for s in topology.streams
    )
    ingest_settings = topology.ingest_settings
    ingest = [planned[stream.name] for stream in _ingest_streams(topology)]
    if ingest_settings.auto_shards and ingest:
        # Ingest streams share the topology's defaults: each gets the largest count.
        ingest_settings = _sized(ingest_settings, max(ingest))
    return replace(topology, streams=streams, ingest_settings=ingest_settings)


def _sized(settings: StreamSettings, shards: int) -> StreamSettings:
    return replace(settings, shards=shards)


def _ingest_streams(topology: Topology) -> list[graph.ResolvedStream]:
    return [stream for stream in graph.resolve(topology).streams.values() if stream.ingest]


def _auto_written(topology: Topology) -> set[str]:
    """Where ``shards: auto`` was written for a stream the topology has."""
    written = {s.settings.auto_shards for s in topology.streams if s.settings.auto_shards}
    if topology.ingest_settings.auto_shards and _ingest_streams(topology):
        written.add(topology.ingest_settings.auto_shards)
    return written


def shards_below_plan(assumptions: Assumptions) -> Rule:
    """A rule for a topology with a planned rate: warn where declared shards fall short.

    A provisioned stream with fewer shards than its planned load needs throttles its
    writers or lets its consumer fall behind; the plan says how many it needs and why.
    """

    def shards_below_plan(topology: Topology) -> Iterable[Issue]:
        ends = {end for s in topology.streams for end in (s.source, s.target)}
        if not ends <= topology.processors.keys():
            return  # no load flows to an unknown processor: validate's stream_ends says so
        load = propagate(topology, assumptions)
        needs = stream_shard_needs(load, assumptions)
        for stream in load.streams:
            declared, need = stream.settings.shards, needs[stream.name]
            if declared is not None and declared < need.shards:
                yield Issue(
                    "shards-below-plan",
                    f"{stream.where}.shards" if stream.source else stream.where,
                    f"stream {stream.name} declares {declared} shard(s) but the planned load "
                    f"needs {need.shards} ({need.limit}); raise shards, or write shards: auto "
                    "(see attak plan)",
                    display_path(topology.file),
                    "warning",
                )

    return shards_below_plan
