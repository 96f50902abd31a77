"""The template reviewed is the template deployed: the same bytes wherever it is built.

``attak synth`` synthesizes in-process; ``attak deploy`` has the cdk CLI run the app, from
whatever folder attak runs in. Both must produce one template: the same feature flags (the
recommended ones ``cdk init`` writes, carried by the app itself), no construct-path or
asset metadata, no ``CDKMetadata`` resource, and no account or region written in from the
shell. And the cdk CLI no longer warns about unconfigured feature flags.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from attak_cdk import toolchain
from attak_cdk.cdk.app import synthesize
from attak_cdk.cdk.context import FEATURE_FLAGS, NOT_RECOMMENDED, RECOMMENDED_FLAGS
from tests.conftest import REPO, SAMPLE

TEMPLATE = "attak-example.template.json"
CLI_RECOMMENDED_FLAGS = (
    REPO / "node_modules" / "aws-cdk" / "lib" / "init-templates" / ".recommended-feature-flags.json"
)
"""The list the pinned cdk CLI's ``cdk init`` writes into a new project's cdk.json."""
FLAGS_NOTICE = "feature flags are not configured"


def test_the_app_flags_are_the_ones_cdk_init_writes_for_the_pinned_cli() -> None:
    if not CLI_RECOMMENDED_FLAGS.is_file():
        pytest.skip("the pinned cdk CLI is not installed (npm ci)")
    assert json.loads(CLI_RECOMMENDED_FLAGS.read_text(encoding="utf-8")) == RECOMMENDED_FLAGS
    # Each flag set otherwise is a recommended one, set to another value on purpose.
    for flag, value in NOT_RECOMMENDED.items():
        assert flag in RECOMMENDED_FLAGS and RECOMMENDED_FLAGS[flag] != value, flag


def test_cdk_json_carries_the_same_flags_as_the_app() -> None:
    context = json.loads((REPO / "cdk.json").read_text(encoding="utf-8"))["context"]
    flags = {k: v for k, v in context.items() if k.startswith("@aws-cdk")}
    assert flags == FEATURE_FLAGS
    assert set(context) - set(flags) == {"topology"}


def attak_synth(cwd: Path, output: Path, environment: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli", "synth", str(SAMPLE), "-o", str(output), "--json"],
        cwd=cwd, env=environment, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.mark.cdk
@pytest.mark.slow
def test_synth_and_the_cdk_cli_build_the_same_bytes_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # This tree's attak, wherever the commands run (the cdk CLI starts the app from its
    # own working folder).
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    for key, value in toolchain.QUIET_ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    environment = dict(os.environ)
    attak_synth(REPO, tmp_path / "synth-in-repo", environment)
    # A shell with an AWS environment: it must not be written into the template.
    attak_synth(
        elsewhere,
        tmp_path / "synth-elsewhere",
        {**environment, "CDK_DEFAULT_ACCOUNT": "111122223333", "CDK_DEFAULT_REGION": "eu-west-1"},
    )
    # What `attak deploy` has the cdk CLI synthesize and send: the same call, as `synth`.
    for cwd, name in ((REPO, "cdk-in-repo"), (elsewhere, "cdk-elsewhere")):
        monkeypatch.chdir(cwd)
        toolchain.run_cdk(
            "synth",
            SAMPLE,
            ["--quiet", "--output", str(tmp_path / name)],
            needs_credentials=False,
        )
    printed = capfd.readouterr()
    assert FLAGS_NOTICE not in printed.out + printed.err
    builds = ("synth-in-repo", "synth-elsewhere", "cdk-in-repo", "cdk-elsewhere")
    templates = {name: (tmp_path / name / TEMPLATE).read_bytes() for name in builds}
    reference = templates["synth-in-repo"]
    for name, template in templates.items():
        assert template == reference, f"{name} differs from attak synth's template"
    text = reference.decode("utf-8")
    for added_by_the_cli in ("aws:cdk:path", "aws:asset:path", "CDKMetadata"):
        assert added_by_the_cli not in text
    for shell_environment in ("111122223333", "eu-west-1"):
        assert shell_environment not in text


def test_a_relative_output_folder_is_the_callers_after_a_change_of_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # jsii's Node process keeps the folder it started in: the CDK app gets the folder
    # made absolute, or a process that changed folder writes the assembly elsewhere.
    synthesize(SAMPLE, tmp_path / "warm-up")  # the Node process starts here, if not before
    monkeypatch.chdir(tmp_path)
    (template,) = synthesize(SAMPLE, "relative.out").values()
    assert template.is_file()
    assert (tmp_path / "relative.out" / template.name).is_file()
