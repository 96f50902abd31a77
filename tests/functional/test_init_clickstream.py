"""`attak init --template clickstream`: a real pipeline that simulates and tests green.

The template (``cli/templates/clickstream/``) has an ingest stream, keyed streams, an S3
archive with its grant and a schedule; it is synthesized through cdk-nag and cfn-lint in
``test_synth_compliance.py`` and deployed into the moto server in
``tests/integration/test_live_clickstream.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attak_cdk.project import load_topology
from cli.commands.project import Template
from cli.main import app
from cli.scaffold import TEMPLATE_FOLDER, TEMPLATE_NAME, TEMPLATES


def attak(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(arguments))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("init") / "shop clicks"
    code, out = attak("init", str(folder), "--template", "clickstream")
    assert code == 0, out
    return folder


def test_the_cli_offers_every_template_scaffold_knows() -> None:
    assert typing.get_args(Template) == TEMPLATES


def test_the_project_carries_its_own_name_everywhere_the_template_had_one(
    project: Path,
) -> None:
    text = (project / "topology.yml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=topology.schema.json\n")
    assert TEMPLATE_NAME not in text
    topology = load_topology(project)
    assert topology.name == "shop-clicks"
    archive = topology.processors["archive"]
    assert archive.environment["ARCHIVE_BUCKET"] == "shop-clicks-archive"
    assert "shop-clicks-archive" in archive.grants[0].words
    written = {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}
    shipped = {
        p.relative_to(TEMPLATE_FOLDER / "clickstream").as_posix()
        for p in (TEMPLATE_FOLDER / "clickstream").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert written == shipped | {"topology.schema.json"}


def test_it_simulates_with_its_input_and_archives_closed_minutes(project: Path) -> None:
    code, out = attak("simulate", str(project), "--json")
    assert code == 0, out
    run = json.loads(out)
    assert run["ok"] is True
    archived = run["emitted"]["archive"]["archived"]
    assert {item["key"].split("/")[1] for item in archived} == {"shoes", "hats"}
    # The bot's click (Googlebot) stopped at filter_bots: 9 clicks parsed, 8 passed on.
    assert run["summary"]["parse"]["invocations"] == 9
    assert run["summary"]["sessionize"]["invocations"] == 8


def test_its_own_tests_pass(project: Path) -> None:
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project / "tests")],
        capture_output=True,
        text=True,
        cwd=project.parent,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert " passed" in tests.stdout and "failed" not in tests.stdout
