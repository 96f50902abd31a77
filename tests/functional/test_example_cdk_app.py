"""The example CDK app (``examples/cdk_app``) keeps working: its own tests pass, run as its
README says, and the real ``cdk synth`` synthesizes it from its folder.

The suite collects ``tests/`` only, so the example's tests run here, once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from attak_cdk import toolchain
from tests.conftest import REPO

EXAMPLE = REPO / "examples" / "cdk_app"


def test_the_example_apps_own_tests_pass() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE)],
        capture_output=True,
        text=True,
        cwd=REPO,  # this tree's attak, first on the path
        env={**os.environ, **toolchain.QUIET_ENVIRONMENT},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 passed" in done.stdout


@pytest.mark.cdk
@pytest.mark.slow
def test_cdk_synth_builds_the_example_app_from_its_folder(tmp_path: Path) -> None:
    output = tmp_path / "cdk.out"
    done = subprocess.run(
        [
            *toolchain.cdk_command(),
            "synth",
            "--quiet",
            "--no-notices",
            # cdk.json's `python3 app.py`, with this interpreter.
            "--app",
            f"{sys.executable} app.py",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        cwd=EXAMPLE,
        env={**os.environ, **toolchain.QUIET_ENVIRONMENT, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    template = json.loads((output / "Clicks.template.json").read_text(encoding="utf-8"))
    types = [r["Type"] for r in template["Resources"].values()]
    assert types.count("AWS::Lambda::Function") == 3
    assert types.count("AWS::S3::Bucket") == 1
    assert "ArchiveDeadLetters" in template["Outputs"]
