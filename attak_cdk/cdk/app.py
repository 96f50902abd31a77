"""The CDK app entry (``cdk.json``'s ``app``) and the synthesis ``attak synth`` runs.

``cdk synth``/``deploy``/``diff`` at the repository root synthesize ``sample_topology``;
``-c topology=PATH`` picks another. ``attak synth`` builds the same app in-process, so
both produce the same template: the app brings its own feature flags and turns off the
metadata the cdk CLI would add (``context.py``), and its stacks are environment-agnostic
(the account and region the cdk CLI finds are not written into them), so the template is
byte for byte the same wherever and however it is synthesized.

aws-cdk-lib's built-in CloudFormation validation is off by default here: it costs about
five seconds a synthesis, and every template shape attak generates is checked with
cfn-lint and cdk-nag in attak's own test suite. ``-c validation=true`` (or
``attak synth --validation``) turns it back on.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk

from ..model import Topology
from ..project import load_topology
from .context import FEATURE_FLAGS, REPRODUCIBLE
from .stack import build_stacks

DEFAULT_TOPOLOGY = "sample_topology"


def build_app(
    topology: Topology | str | Path,
    outdir: str | Path | None = None,
    *,
    validation: bool = False,
) -> cdk.App:
    """An app holding the topology's stack (not yet synthesized): of a topology already
    loaded and validated, or of the one at a path (loaded here)."""
    app = cdk.App(
        # Absolute: jsii's Node process resolves a relative folder from its own working
        # folder, the one it started in, which a process that changed folder no longer has.
        outdir=str(Path(outdir).resolve()) if outdir is not None else None,
        builtin_cloud_formation_validation=validation,
        context=FEATURE_FLAGS,
        post_cli_context=REPRODUCIBLE,
    )
    model = topology if isinstance(topology, Topology) else load_topology(topology)
    build_stacks(app, model)
    return app


def synthesize(
    topology: Topology | str | Path, outdir: str | Path, *, validation: bool = False
) -> dict[str, Path]:
    """Synthesize into ``outdir``; return each stack's name and template file."""
    assembly = build_app(topology, outdir, validation=validation).synth()
    directory = Path(assembly.directory)
    return {stack.stack_name: directory / stack.template_file for stack in assembly.stacks}


def main() -> None:
    """``cdk.json`` runs this: the topology comes from ``-c topology=PATH``."""
    probe = cdk.App()  # only to read the context the cdk CLI passed
    path = probe.node.try_get_context("topology") or DEFAULT_TOPOLOGY
    validation = str(probe.node.try_get_context("validation")).lower() == "true"
    build_app(path, validation=validation).synth()


if __name__ == "__main__":
    main()
