"""`attak deploy` runs cdk with its stderr filtered: the manifest summarised, the rest as
cdk wrote it, promptly (a prompt is shown though its line has not ended), its exit code
kept; into a pseudo-terminal when attak's own stderr is a terminal, so cdk keeps its
progress bar and colours."""

from __future__ import annotations

import io
import json
import os
import pty
import sys

from attak_cdk.cdk_output import run_summarised

MANIFEST = json.dumps({"version": 1, "topology": "t", "processors": {"a": {}}, "streams": {}})
FAKE_CDK = f"""
import sys, time
print("terminal" if sys.stderr.isatty() else "pipe", file=sys.stderr)
print("Outputs:", file=sys.stderr)
print('t.Manifest = {MANIFEST}', file=sys.stderr)
print("t.Other = value", file=sys.stderr)
sys.stderr.write("Continue (y/n)? ")
sys.stderr.flush()
time.sleep(0.5)
sys.exit(3)
"""
SUMMARY = b"t.Manifest = attak's manifest: 1 processor, 0 streams"


def test_through_a_pipe_the_manifest_is_summarised_and_the_exit_code_kept() -> None:
    target = io.BytesIO()
    code = run_summarised([sys.executable, "-c", FAKE_CDK], dict(os.environ), target)
    assert code == 3
    shown = target.getvalue()
    assert shown.startswith(b"pipe\nOutputs:\n")
    assert SUMMARY in shown
    assert b"t.Other = value\n" in shown
    assert shown.endswith(b"Continue (y/n)? ")
    assert MANIFEST.encode() not in shown


def test_to_a_terminal_cdk_writes_into_a_terminal_and_the_prompt_shows_while_it_waits() -> None:
    reading, writing = pty.openpty()
    with os.fdopen(writing, "wb", buffering=0) as target:
        code = run_summarised([sys.executable, "-c", FAKE_CDK], dict(os.environ), target)
    assert code == 3
    shown = b""
    while True:
        try:
            chunk = os.read(reading, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
        if shown.rstrip().endswith(b"(y/n)?"):
            break
    os.close(reading)
    assert shown.startswith(b"terminal")
    assert SUMMARY in shown
    assert MANIFEST.encode() not in shown
