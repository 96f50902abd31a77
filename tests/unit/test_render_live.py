"""What trigger and logs print: one line per event sent, one per log line, the verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from attak_cdk.inputs import InputEvent
from attak_cdk.live.logs import LogLine
from attak_cdk.live.trigger import Delivery
from cli.render.logs import LogPrinter
from cli.render.trigger import TriggerProgress, trigger_summary


def delivery(trace: str, *, sent: bool = True, error: str | None = None) -> Delivery:
    event = InputEvent(processor="spout", data={"word": "hi"})
    return Delivery(event=event, trace=trace, via="invoke", target="f", sent=sent, error=error)


def test_each_event_sent_says_what_became_of_it(capsys: pytest.CaptureFixture[str]) -> None:
    with TriggerProgress(3) as progress:
        progress(delivery("t1"))
        progress(delivery("t2", sent=False, error="throttled [again]"))
        progress(delivery("t3", error="ValueError: boom"))
    assert capsys.readouterr().out.splitlines() == [
        '● spout ← {"word":"hi"}  trace t1  invoked',
        '✗ spout ← {"word":"hi"}  trace t2  not sent: throttled [again]',
        '✗ spout ← {"word":"hi"}  trace t3  ValueError: boom',
    ]


def test_the_summary_counts_unsent_events_and_names_a_trace_to_follow(
    capsys: pytest.CaptureFixture[str],
) -> None:
    trigger_summary([delivery("t1", sent=False), delivery("t2")], 1.0, Path("topo"))
    assert capsys.readouterr().out.splitlines()[1:] == [
        "✗ 1 of 2 events not sent; 1 event sent (1 invoked, 0 into ingest streams) in 1.00 s",
        "  one event's path: attak logs topo --trace t2",
    ]


def test_record_lines_are_summarised_and_other_lines_kept(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ok = {"outcome": "ok", "topic": "words", "trace": "abc", "emits": ["shout"], "ms": 2}
    failed = {"outcome": "error", "trace": "abd", "error": "ValueError: boom"}
    printer = LogPrinter(["spout", "reverse"])
    printer(
        [
            LogLine("spout", 0, "hello [world]", "s", "e1"),
            LogLine("reverse", 0, "{...}", "s", "e2", ok),
            LogLine("reverse", 0, "{...}", "s", "e3", failed),
        ]
    )
    lines = [line.split(maxsplit=2)[2] for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        "hello [world]",
        "● record ← 'words'  trace abc  → shout  2 ms",
        "✗ record ← input  trace abd  ValueError: boom",
    ]
    assert printer.count == 3


def test_summary_lines_say_what_an_invocation_did(capsys: pytest.CaptureFixture[str]) -> None:
    quiet = {"records": 100, "events": 100, "errors": 0, "emits": {"out": 99}, "ms": 12.5}
    failed = {**quiet, "records": 1, "events": 1, "errors": 1, "emits": {}, "dead_letters": 1}
    printer = LogPrinter(["reverse"])
    printer(
        [
            LogLine("reverse", 0, "{...}", "s", "e1", summary=quiet),
            LogLine("reverse", 0, "{...}", "s", "e2", summary={**failed, "error": "E: x"}),
        ]
    )
    lines = [line.split(maxsplit=2)[2] for line in capsys.readouterr().out.splitlines()]
    assert lines == [
        "▤ 100 records, 100 events  → 99 'out'  12.5 ms",
        "▤ 1 record, 1 event, 1 error  1 dead letter  E: x  12.5 ms",
    ]
