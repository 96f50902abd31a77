"""attak installed from a wheel, as someone who does not clone the repository would have
it, works outside the repository: the package data it reads (the topology schema, the
price table, the CDK feature flags, the UI's files) is in the wheel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from attak_cdk.schema import schema_text
from tests.conftest import REPO, SAMPLE

SOURCES = ("pyproject.toml", "README.md", "attak_cdk", "cli")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """attak's wheel, built from a copy of the sources (a build in place would leave its
    build/ and egg-info folders in the repository) and installed into a folder of its own."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(REPO / name, source / name, ignore=ignore)
        else:
            shutil.copy(REPO / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    wheels = root / "wheels"
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", str(source), "-w", str(wheels)],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("attak_cdk-*.whl")
    site = root / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True)
    return site


def attak(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``attak`` run from the installed package alone (its dependencies from this Python)."""
    environment = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_installed_attak_simulates_plans_and_describes_a_project_outside_the_repo(
    installed: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project)
    where = subprocess.run(
        [sys.executable, "-c", "import attak_cdk, cli; print(attak_cdk.__file__, cli.__file__)"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(installed)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert all(path.startswith(str(installed)) for path in where.stdout.split())
    simulated = attak(installed, tmp_path, "simulate", "project")
    assert simulated.returncode == 0, simulated.stderr
    assert "every record processed" in simulated.stdout
    planned = attak(installed, tmp_path, "plan", "project", "--json")
    assert planned.returncode == 0, planned.stderr
    assert json.loads(planned.stdout)["monthly"]["idle"] == "14.95"  # the shipped prices
    schema = attak(installed, tmp_path, "schema")
    assert schema.stdout == schema_text()
    version = attak(installed, tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.strip()
