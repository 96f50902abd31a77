"""Head-based trace sampling (runtime/logs.py) and the envelope's always-log mark: which
traces' records are logged, the same in every processor, at no cost in envelope bytes."""

from __future__ import annotations

import random

from attak_cdk.runtime.envelope import decode, encode, encode_input, header
from attak_cdk.runtime.logs import RecordLog, sampled


def trace_ids(count: int, seed: int = 7) -> list[str]:
    """Trace ids as ``new_id`` draws them (16 hex digits), reproducible."""
    rng = random.Random(seed)
    return [f"{rng.getrandbits(64):016x}" for _ in range(count)]


def test_the_same_trace_gets_the_same_answer_in_every_processor() -> None:
    spout, sink = RecordLog("spout", 0.3), RecordLog("sink", 0.3)
    for trace in trace_ids(500):
        assert spout.logs(trace) == sink.logs(trace) == sampled(trace, 0.3)


def test_the_rate_is_the_share_of_traces_logged() -> None:
    traces = trace_ids(20_000)
    share = sum(sampled(t, 0.01) for t in traces) / len(traces)
    assert 0.008 < share < 0.012
    assert not any(sampled(t, 0.0) for t in traces)
    assert all(sampled(t, 1.0) for t in traces)


def test_a_higher_rate_logs_every_trace_a_lower_one_does() -> None:
    # Raising the rate adds traces without dropping any: a trace's hash is compared
    # with a bound that grows with the rate.
    traces = trace_ids(2_000)
    low = {t for t in traces if sampled(t, 0.05)}
    high = {t for t in traces if sampled(t, 0.2)}
    assert low < high


def test_a_marked_trace_is_logged_whatever_the_rate() -> None:
    assert RecordLog("p", 0.0).logs("any", marked=True)


def test_a_trace_id_that_is_not_valid_utf8_text_is_still_sampled() -> None:
    assert sampled("\ud800 lone surrogate", 1.0)


def test_the_mark_costs_no_bytes_when_absent() -> None:
    assert encode_input("x", "t") == '{"v":1,"trace":"t","hops":0,"data":"x"}'
    assert header("p", "t", 1) == '{"v":1,"from":"p","trace":"t","hops":1,'
    assert "log" not in decode(encode("x", topic="a", source="p", trace="t", hops=1), "")


def test_the_mark_is_read_back_from_input_and_from_emitted_records() -> None:
    assert decode(encode_input("x", "t", logged=True), "")["log"] == 1
    emitted = encode("x", topic="a", source="p", trace="t", hops=2, logged=True)
    assert decode(emitted, "")["log"] == 1
