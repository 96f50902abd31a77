"""Runs the real ``cdk`` CLI (npm package ``aws-cdk``) on a topology's app.

``attak deploy | diff | destroy`` are the cdk commands of the same name, pointed at attak's
app entry with the topology passed as context. The CLI is the version pinned in the
repository's ``package.json``: its ``node_modules/.bin/cdk`` when present, else a ``cdk``
on PATH, else ``npx`` fetching that exact version. Notices, telemetry and the version
check are off, so nothing waits on the network but the deployment itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .errors import AttakError

REPO_ROOT = Path(__file__).resolve().parent.parent
CDK_CLI_VERSION = "2.1148.1"
"""Kept equal to package.json's pin (a test checks)."""
QUIET_ENVIRONMENT = {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED": "true",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "CDK_DISABLE_VERSION_CHECK": "1",
}


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


def has_credentials() -> bool:
    """Whether boto3's standard chain finds AWS credentials (env, profile, SSO, role)."""
    import boto3

    try:
        return boto3.Session().get_credentials() is not None
    except Exception:  # a broken profile is as good as none
        return False


def run_cdk(
    action: str,
    topology_file: Path,
    extra: Sequence[str] = (),
    *,
    needs_credentials: bool = True,
) -> None:
    """Run ``cdk <action>`` for the topology, streaming its output; raise if it fails."""
    if needs_credentials and not has_credentials():
        raise ToolchainError(
            f"`attak {action}` talks to AWS, and no AWS credentials were found: set "
            "AWS_PROFILE (after `aws configure` or `aws sso login`), or AWS_ACCESS_KEY_ID "
            "and AWS_SECRET_ACCESS_KEY, and AWS_REGION"
        )
    command = [
        *cdk_command(),
        action,
        "--app",
        app_command(),
        "--context",
        f"topology={topology_file}",
        "--no-notices",
        *extra,
    ]
    environment = {**os.environ, **QUIET_ENVIRONMENT}
    try:
        done = subprocess.run(command, env=environment, check=False)
    except OSError as exc:
        raise ToolchainError(f"could not start the cdk CLI ({command[0]}): {exc}") from exc
    if done.returncode != 0:
        raise ToolchainError(
            f"`cdk {action}` failed with exit code {done.returncode}; its output is above"
        )


def pinned_version(package_json: Path = REPO_ROOT / "package.json") -> str | None:
    """The aws-cdk version package.json pins, if the repository's file is there."""
    if not package_json.is_file():
        return None
    document = json.loads(package_json.read_text())
    version = document.get("devDependencies", {}).get("aws-cdk")
    return str(version) if version else None
