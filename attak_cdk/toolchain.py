"""Runs the real ``cdk`` CLI (npm package ``aws-cdk``) on a topology's app.

``attak deploy | diff | destroy`` are the cdk commands of the same name, pointed at attak's
app entry with the topology passed as context. The CLI is the version pinned in the
repository's ``package.json``: its ``node_modules/.bin/cdk`` when present, else a ``cdk``
on PATH, else ``npx`` fetching that exact version. Notices, telemetry and the version
check are off, so nothing waits on the network but the deployment itself.

With an endpoint (a local AWS emulator such as moto server), ``run_cdk`` also sets what
the cdk CLI needs there: the endpoint (on ``localhost``), a region, placeholder
credentials when there are none, a bootstrapped environment, and direct deployments
without change sets' previous parameters, which moto does not keep. Against AWS itself
none of this is added.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .cdk_output import run_summarised
from .errors import NO_CREDENTIALS, AttakError

if TYPE_CHECKING:
    from .live.connection import Connection

REPO_ROOT = Path(__file__).resolve().parent.parent
CDK_CLI_VERSION = "2.1148.1"
"""Kept equal to package.json's pin (a test checks)."""
QUIET_ENVIRONMENT = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED": "true",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "CDK_DISABLE_VERSION_CHECK": "1",
}
BOOTSTRAP_STACK = "CDKToolkit"
EMULATOR_OPTIONS = {
    "deploy": ("--method=direct", "--previous-parameters=false", "--require-approval=never"),
    "diff": ("--change-set=false",),
}
"""What the cdk CLI needs against moto: no change sets (moto's are slow to answer and
report changes that are not there), nothing to approve."""


class ToolchainError(AttakError):
    """Node, npm or the cdk CLI is missing, or a cdk command failed."""


def cdk_command(repo_root: Path = REPO_ROOT, search_path: str | None = None) -> list[str]:
    """How to start the pinned cdk CLI on this machine (``search_path``: PATH to search)."""
    local = repo_root / "node_modules" / ".bin" / "cdk"
    if local.is_file():
        return [str(local)]
    on_path = shutil.which("cdk", path=search_path)
    if on_path:
        return [on_path]
    npx = shutil.which("npx", path=search_path)
    if npx:
        return [npx, "--yes", f"aws-cdk@{CDK_CLI_VERSION}"]
    raise ToolchainError(
        "the AWS CDK CLI needs Node.js and npm, and neither `cdk` nor `npx` was found on "
        "PATH: install Node.js 20 or newer (it brings npm), then run `npm install` in the "
        "attak repository or `npm install -g aws-cdk`"
    )


def app_command() -> str:
    """The ``--app`` the cdk CLI runs: this Python's attak CDK app entry."""
    return f"{sys.executable} -m attak_cdk.cdk.app"


def has_credentials(profile: str | None = None) -> bool:
    """Whether boto3's standard chain finds AWS credentials (env, profile, SSO, role)."""
    import boto3

    try:
        return boto3.Session(profile_name=profile).get_credentials() is not None
    except Exception:  # a broken profile is as good as none
        return False


def run_cdk(
    action: str,
    topology_file: Path,
    extra: Sequence[str] = (),
    *,
    needs_credentials: bool = True,
    connection: Connection | None = None,
) -> None:
    """Run ``cdk <action>`` for the topology, streaming its output; raise if it fails.

    ``connection`` carries ``--region``, ``--profile`` and ``--endpoint-url``.
    """
    profile = connection.profile if connection else None
    local = connection is not None and connection.endpoint_url is not None
    if needs_credentials and not local and not has_credentials(profile):
        raise ToolchainError(f"`attak {action}` talks to AWS, and {NO_CREDENTIALS}")
    environment = {**os.environ, **QUIET_ENVIRONMENT}
    options: list[str] = []
    if connection is not None:
        environment.update(cdk_environment(connection))
        if profile:
            options += ["--profile", profile]
        if local and action == "deploy":
            ensure_bootstrapped(connection, environment)
        if local:
            options += [o for o in EMULATOR_OPTIONS.get(action, ()) if _unset(o, extra)]
    if action in ("deploy", "destroy") and not names_stacks(extra):
        # A large topology is several stacks; the app holds only this topology's.
        options.append("--all")
    _run(
        action,
        [
            action,
            "--app",
            app_command(),
            "--context",
            f"topology={topology_file}",
            "--no-notices",
            *options,
            *extra,
        ],
        environment,
    )


def names_stacks(extra: Sequence[str]) -> bool:
    """Whether the cdk arguments name stacks (any word that is not an option): without
    them a command is for every stack of the topology's app."""
    return any(not a.startswith("-") for a in extra)


def _unset(option: str, extra: Sequence[str]) -> bool:
    """Whether the user left ``option`` (``--name=value``) to attak."""
    name = option.split("=")[0]
    return not any(a == name or a.startswith(name + "=") for a in extra)


def _run(
    action: str, arguments: list[str], environment: dict[str, str], cwd: str | None = None
) -> None:
    command = [*cdk_command(), *arguments]
    try:
        if action == "deploy":  # its outputs include the manifest: shown summarised
            returncode = run_summarised(command, environment)
        else:
            returncode = subprocess.run(command, env=environment, check=False, cwd=cwd).returncode
    except OSError as exc:
        raise ToolchainError(f"could not start the cdk CLI ({command[0]}): {exc}") from exc
    if returncode != 0:
        raise ToolchainError(
            f"`cdk {action}` failed with exit code {returncode}; its output is above"
        )


def cdk_environment(connection: Connection) -> dict[str, str]:
    """Environment variables that point the cdk CLI where ``connection`` points boto3."""
    from .live.connection import PLACEHOLDER_CREDENTIALS, emulator_endpoint

    environment: dict[str, str] = {}
    if connection.region:
        environment["AWS_REGION"] = environment["AWS_DEFAULT_REGION"] = connection.region
    if connection.endpoint_url is None:
        return environment
    environment["AWS_ENDPOINT_URL"] = emulator_endpoint(connection.endpoint_url)
    region = connection.region_name  # the emulator's default when none is configured
    environment["AWS_REGION"] = environment["AWS_DEFAULT_REGION"] = region
    if not has_credentials(connection.profile):
        environment.update(PLACEHOLDER_CREDENTIALS)
    return environment


def ensure_bootstrapped(connection: Connection, environment: dict[str, str]) -> None:
    """Run ``cdk bootstrap`` once in an emulator that has no CDKToolkit stack yet."""
    from .live.connection import EMULATOR_ACCOUNT
    from .live.deployment import stack_exists

    if stack_exists(connection, BOOTSTRAP_STACK):
        return
    with connection.errors("asking the emulator which account it simulates"):
        identity = connection.client("sts").get_caller_identity()
    account = str(identity.get("Account") or EMULATOR_ACCOUNT)
    target = f"aws://{account}/{connection.region_name}"
    # From a folder of its own: bootstrapping needs no app, and the cdk CLI would
    # otherwise read the cdk.json where attak runs and lock its cdk.out.
    with tempfile.TemporaryDirectory(prefix="attak-bootstrap-") as folder:
        _run("bootstrap", ["bootstrap", target, "--no-notices"], environment, cwd=folder)


def pinned_version(package_json: Path = REPO_ROOT / "package.json") -> str | None:
    """The aws-cdk version package.json pins, if the repository's file is there."""
    if not package_json.is_file():
        return None
    document = json.loads(package_json.read_text())
    version = document.get("devDependencies", {}).get("aws-cdk")
    return str(version) if version else None
