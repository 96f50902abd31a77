"""Builds each processor's Lambda asset: its folder, attak's runtime, and its requirements.

The asset is a plain folder staged on disk: the processor's folder (the one holding its
handler file) copied as it is, ``attak_runtime/`` beside it (the Lambda entry point), and,
when the folder has a ``requirements.txt``, those packages installed with the local pip
for the Lambda platform (wheels only, never Docker). Same inputs, same files: the CDK's
content hash of the folder, and so the template, stay identical between runs.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..errors import AttakError
from ..model import Processor

RUNTIME_PACKAGE = "attak_runtime"
"""The name attak's runtime has inside every asset."""
LAMBDA_ENTRY = f"{RUNTIME_PACKAGE}.handler.lambda_handler"
RUNTIME_SOURCE = Path(__file__).resolve().parent.parent / "runtime"
_IGNORED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", ".venv", "venv", "node_modules", "cdk.out", ".git", ".pytest_cache"
)
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}


class BundlingError(AttakError):
    """A processor's requirements could not be installed for the Lambda platform."""


def handler_module(processor: Processor) -> str:
    """The handler as Lambda's asset sees it: ``module:function`` relative to the folder."""
    file = processor.file
    module = file.parent.name if file.name == "__init__.py" else file.stem
    return f"{module}:{processor.function}"


def source_folder(processor: Processor) -> Path:
    """The folder whose contents become the asset (a package's parent for __init__.py)."""
    file = processor.file
    return file.parent.parent if file.name == "__init__.py" else file.parent


class AssetStager:
    """Stages one folder per distinct processor folder, in a temporary directory that lives
    as long as the synthesis (the CDK copies it into cdk.out by content hash)."""

    def __init__(self, architecture: str = "arm64", python_version: str = "3.13") -> None:
        self.architecture = architecture
        self.python_version = python_version
        self._root = Path(tempfile.mkdtemp(prefix="attak-assets-"))
        self._staged: dict[Path, Path] = {}

    def stage(self, processor: Processor) -> Path:
        folder = source_folder(processor)
        staged = self._staged.get(folder)
        if staged is None:
            digest = hashlib.sha256(str(folder).encode()).hexdigest()[:12]
            staged = self._root / digest
            shutil.copytree(folder, staged, ignore=_IGNORED)
            shutil.copytree(RUNTIME_SOURCE, staged / RUNTIME_PACKAGE, ignore=_IGNORED)
            requirements = folder / "requirements.txt"
            if requirements.is_file():
                self._install(requirements, staged)
            self._staged[folder] = staged
        return staged

    def _install(self, requirements: Path, target: Path) -> None:
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--requirement", str(requirements), "--target", str(target),
            "--platform", PLATFORMS[self.architecture], "--implementation", "cp",
            "--python-version", self.python_version, "--only-binary=:all:", "--no-compile",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise BundlingError(
                f"{requirements}: installing the requirements for Lambda "
                f"({PLATFORMS[self.architecture]}, Python {self.python_version}) failed: "
                + " / ".join(detail)
                + "; every package needs a wheel for that platform (no source builds)"
            )

    def cleanup(self) -> None:
        shutil.rmtree(self._root, ignore_errors=True)
