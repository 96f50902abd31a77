"""The model's defaults are the settings' defaults: what a topology leaves out is what the
settings table (the loader, the README, ``attak init``) says it is, for every setting."""

from __future__ import annotations

from dataclasses import MISSING, fields

import pytest

from attak_cdk.model import Processor, StreamSettings, Topology
from attak_cdk.runtime.config import DEFAULT_MAX_HOPS, DEFAULT_TRACE_SAMPLING
from attak_cdk.settings import (
    MAX_HOPS,
    PROCESSOR_SETTINGS,
    STREAM_SETTINGS,
    TRACE_SAMPLING,
    Setting,
)


def model_defaults(model: type) -> dict[str, object]:
    """Each field's default with its type (so ``True`` and ``1`` differ); a field without
    one is ``MISSING``."""
    return {f.name: (f.default, type(f.default)) for f in fields(model)}


def setting_defaults(table: dict[str, Setting]) -> dict[str, object]:
    return {name: (s.default, type(s.default)) for name, s in table.items()}


@pytest.mark.parametrize(
    ("model", "table"),
    [(Processor, PROCESSOR_SETTINGS), (StreamSettings, STREAM_SETTINGS)],
    ids=["processor", "stream"],
)
def test_every_setting_is_a_model_field_with_the_settings_default(
    model: type, table: dict[str, Setting]
) -> None:
    defaults = model_defaults(model)
    assert {name: defaults.get(name, MISSING) for name in table} == setting_defaults(table)


def test_every_stream_settings_field_is_a_setting() -> None:
    # auto_shards is no setting of its own: it records where ``shards: auto`` was written.
    settings = [f.name for f in fields(StreamSettings) if f.name != "auto_shards"]
    assert settings == list(STREAM_SETTINGS)


def test_topology_max_hops_default_is_the_setting_and_the_runtimes() -> None:
    assert model_defaults(Topology)["max_hops"] == (MAX_HOPS.default, int)
    assert MAX_HOPS.default == DEFAULT_MAX_HOPS


def test_topology_trace_sampling_default_is_the_setting_and_the_runtimes() -> None:
    assert model_defaults(Topology)["trace_sampling"] == (TRACE_SAMPLING.default, float)
    assert TRACE_SAMPLING.default == DEFAULT_TRACE_SAMPLING == 0.01
