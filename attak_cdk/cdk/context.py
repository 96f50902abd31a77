"""The context every attak CDK app is built with, however it is run, so that the template
reviewed (``attak synth``, in-process) is the template deployed (``attak deploy``, the cdk
CLI running the app), from the repository or from any other folder.

- ``FEATURE_FLAGS``: the recommended feature flags, as ``cdk init`` writes them into a new
  project's ``cdk.json`` for the pinned cdk CLI (``feature_flags.json`` is a copy of its
  ``lib/init-templates/.recommended-feature-flags.json``), but for ``NOT_RECOMMENDED``.
  The repository's ``cdk.json`` carries the same values (a test keeps them equal), but
  only the cdk CLI reads it, and only when run at the repository root: the app sets them
  itself. A value given with ``--context`` or in a ``cdk.json`` still wins over these.
- ``REPRODUCIBLE``: no construct-path metadata, no asset metadata and no ``CDKMetadata``
  resource in templates. The cdk CLI asks for all three unless its ``cdk.json`` says
  otherwise, and a synthesis without the CLI adds none: they are set after the CLI's
  context, so no caller can bring them back.
"""

from __future__ import annotations

import json
from importlib import resources

FEATURE_FLAGS_FILE = "feature_flags.json"

RECOMMENDED_FLAGS: dict[str, object] = json.loads(
    resources.files(__package__).joinpath(FEATURE_FLAGS_FILE).read_text(encoding="utf-8")
)
"""Flag name -> its recommended value, as ``cdk init`` writes it."""

NOT_RECOMMENDED: dict[str, object] = {
    # "weak" (recommended) reads a split topology's streams with Fn::GetStackOutput
    # instead of exports: a stream stack could then be deleted under the processor stacks
    # still reading it, a deployed split topology cannot switch in one deployment (its
    # exports are still imported; the flag's documentation asks for a "both" deployment
    # first), and local emulators (moto) do not implement Fn::GetStackOutput. "strong" is
    # what an unset flag does: exports and Fn::ImportValue, as attak has always deployed.
    "@aws-cdk/core:defaultCrossStackReferences": "strong",
}
"""The recommended flags attak sets otherwise, each with why."""

FEATURE_FLAGS: dict[str, object] = {**RECOMMENDED_FLAGS, **NOT_RECOMMENDED}
"""Flag name -> the value attak's apps are built with."""

REPRODUCIBLE: dict[str, object] = {
    "aws:cdk:enable-path-metadata": False,
    "aws:cdk:enable-asset-metadata": False,
    "aws:cdk:version-reporting": False,
}
"""aws-cdk-lib's context keys (``cx_api``'s ``PATH_METADATA_ENABLE_CONTEXT``,
``ASSET_RESOURCE_METADATA_ENABLED_CONTEXT``, ``ANALYTICS_REPORTING_ENABLED_CONTEXT``, not
exported to Python) for what would otherwise differ with how the app is run."""
