"""What the plan says one event costs on a stream and in the log, from the runtime's code."""

from __future__ import annotations

from decimal import Decimal

from attak_cdk.plan.wire import (
    average_flush,
    dead_letter_bytes,
    flush_figures,
    input_emit,
    log_lines,
    synthetic_emit,
)
from attak_cdk.runtime.records import AGGREGATE_BYTES


def test_a_lone_emit_is_one_record_of_its_envelope_and_key() -> None:
    emit = synthetic_emit("spout", "words", Decimal(1024), 1)
    figures = flush_figures([emit], 1, Decimal(1))
    assert figures.records == 1
    assert figures.bytes == len(emit.payload) + 16  # the random partition key
    assert figures.billed_bytes == 2048  # 1 KB of data and its envelope bills 2 KB


def test_a_flush_packs_64_kib_aggregates_and_rounds_each_record() -> None:
    emit = synthetic_emit("parse", "clicks", Decimal(1024), 1)
    figures = flush_figures([emit], 500, Decimal(1))
    per_record = AGGREGATE_BYTES // (len(emit.payload) + 40)
    assert 1 / figures.records < per_record + 2
    assert 1 / figures.records > per_record - 8
    assert figures.payload_units > figures.records * 2  # a 64 KiB record is 3 units


def test_an_assumed_ratio_shrinks_only_what_the_runtime_compresses() -> None:
    small = synthetic_emit("a", "t", Decimal(100), 1)
    assert (
        flush_figures([small], 1, Decimal(4)).bytes == flush_figures([small], 1, Decimal(1)).bytes
    )
    large = input_emit(Decimal(1024))
    plain, packed = flush_figures([large], 500, Decimal(1)), flush_figures([large], 500, Decimal(4))
    assert packed.bytes < plain.bytes / Decimal("3.9")
    assert packed.raw_bytes == plain.raw_bytes
    assert packed.compression > Decimal("3.9")


def test_measured_data_is_compressed_by_zlib_itself() -> None:
    emit = synthetic_emit("a", "t", Decimal(4096), 1)  # filler compresses very well
    assert flush_figures([emit], 100).compression > 20


def test_flushes_are_the_invocations_emits_500_at_a_time() -> None:
    assert average_flush(Decimal(1)) == 1
    assert average_flush(Decimal(500)) == 500
    assert average_flush(Decimal(700)) == 350  # 500, then the 200 left at its end
    assert average_flush(Decimal(0)) == 0


def test_log_lines_are_the_runtimes_own_sizes() -> None:
    lines = log_lines("reverse", {"reversed": 1}, 3000, 100, direct=False)
    assert 90 < lines.summary < 160
    assert 35 < lines.start < 60
    assert 170 < lines.record < 260
    assert lines.error > lines.record  # it says why


def test_an_invocation_with_a_dead_letter_adds_its_counts_and_metric_block() -> None:
    lines = log_lines("reverse", {"reversed": 1}, 3000, 100, direct=False, topology="pipeline")
    # "failed":1,"dead_letters":1,"topology":"pipeline" and the _aws block with two metrics
    assert 230 < lines.metrics < 330


def test_a_dead_letter_carries_the_events_data() -> None:
    small, large = (
        dead_letter_bytes("p", "a->p", Decimal(10)),
        dead_letter_bytes("p", "a->p", Decimal(10_000)),
    )
    assert large - small == 10_000 - 10
    assert 300 < small < 1200
