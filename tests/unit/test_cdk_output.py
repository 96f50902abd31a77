"""`attak deploy` shows cdk's output as cdk wrote it, but attak's manifest as a summary."""

from __future__ import annotations

import json

from attak_cdk.cdk_output import LineFilter, summarise_line

MANIFEST = {
    "version": 1,
    "topology": "attak-example",
    "processors": {"spout": {"function": "f1"}, "reverse": {"function": "f2"}},
    "streams": {"spout->reverse": "attak-example-SpoutToReverse"},
}


def line(document: object, stack: str = "attak-example", end: bytes = b"\n") -> bytes:
    return f"{stack}.Manifest = {json.dumps(document)}".encode() + end


def test_the_manifest_line_becomes_a_summary_of_what_it_holds() -> None:
    assert summarise_line(line(MANIFEST)) == (
        b"attak-example.Manifest = attak's manifest: 2 processors, 1 stream "
        b"(read by attak trigger, logs and dead-letters)\n"
    )


def test_a_split_topologys_part_says_which_part() -> None:
    part = {**MANIFEST, "processors": {"spout": {}}, "part": 2, "parts": 3}
    summary = summarise_line(line(part, stack="big-2"))
    assert summary.startswith(
        b"big-2.Manifest = attak's manifest: 1 processor, 1 stream, part 2 of 3"
    )


def test_colours_and_a_terminals_line_end_are_kept() -> None:
    coloured = b"\x1b[1m" + line(MANIFEST, end=b"\r\n")
    summary = summarise_line(coloured)
    assert summary.startswith(b"\x1b[1mattak-example.Manifest = \x1b[0mattak's manifest: 2")
    assert summary.endswith(b"dead-letters)\r\n")
    assert b'"processors"' not in summary


def test_a_manifest_that_is_not_json_is_summarised_by_its_size() -> None:
    assert summarise_line(b"s.Manifest = {broken\n") == b"s.Manifest = attak's manifest (7 bytes)\n"


def test_every_other_line_passes_unchanged() -> None:
    for other in (
        b"attak-example.StreamName = attak-example-SpoutToReverse\n",
        b"Outputs:\n",
        b" \xe2\x9c\x85  attak-example\n",
        b'note: Manifest = {"a": 1}\n',
    ):
        assert summarise_line(other) == other


def test_a_partial_line_is_held_until_it_ends_or_cdk_pauses() -> None:
    written: list[bytes] = []
    lines = LineFilter(written.append)
    head, tail = line(MANIFEST)[:20], line(MANIFEST)[20:]
    lines.feed(b"Deploying...\n" + head)
    assert written == [b"Deploying...\n"]
    lines.feed(tail)
    assert written[1].startswith(b"attak-example.Manifest = attak's manifest: 2 processors")
    lines.feed(b"Do you wish to deploy these changes (y/n)? ")
    assert len(written) == 2
    lines.flush()  # a prompt waits for an answer: shown once cdk pauses
    assert written[2] == b"Do you wish to deploy these changes (y/n)? "
