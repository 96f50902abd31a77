"""``attak init``: writes a small, working project a user can simulate and test at once.

Two templates: ``hello`` (the seed's two processors, written from the strings below) and
``clickstream`` (a real pipeline: an ingest stream, keyed streams, an S3 archive with its
grant, a schedule; its files live in ``cli/templates/clickstream/`` and attak's own tests
simulate, synthesize and deploy that folder as it is).
"""

from __future__ import annotations

import re
from pathlib import Path

from attak_cdk.errors import OutputError, UsageError
from attak_cdk.output import check_writable_folder
from attak_cdk.schema import SCHEMA_FILENAME, modeline, schema_text
from attak_cdk.validate import STACK_NAME

# Editors read the schema beside the topology: offline, and wherever the project moves
# (a file:// path or the installed package's path would not survive a move or another
# machine). `attak schema -o topology.schema.json` refreshes it after an upgrade.
TOPOLOGY = """\
{modeline}
# {name}: the topology. Processors are Python files; streams connect them.
name: {name}
processors:
  hello_world_spout: ./processors/hello_world.py
  reverse: ./processors/reverse.py
streams:
  - [hello_world_spout, reverse]
"""

HELLO_WORLD = '''\
"""Entry processor: receives input events and passes them on."""


def handler(event, context):
    context.emit("greetings", event)
'''

REVERSE = '''\
"""Reverses the text it receives and emits it on the "reversed strings" topic."""


def handler(event, context):
    context.emit("reversed strings", event[::-1])
'''

INPUT = """\
{"hello_world_spout": "hello world"}
"""

TEST = '''\
"""Runs the topology in-process, the way `attak simulate` does."""

from pathlib import Path

from attak_cdk.testing import run_topology

HERE = Path(__file__).resolve().parent.parent


def test_reverse_reverses_greetings():
    result = run_topology(HERE, {"hello_world_spout": "hello world"})
    assert result.ok
    assert result.emitted["reverse"]["reversed strings"] == ["dlrow olleh"]
'''


TEMPLATES = ("hello", "clickstream")
"""What ``attak init --template`` accepts; the first is the default."""

TEMPLATE_FOLDER = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "clickstream-example"
"""The name a template folder's topology (and the names built from it, such as its
bucket) carries; ``init`` writes the project's own name in its place."""


def scaffold(
    directory: Path, *, name: str | None = None, force: bool = False, template: str = "hello"
) -> list[Path]:
    """Create the project files in ``directory``; refuse to overwrite unless ``force``."""
    if template not in TEMPLATES:  # typer checks the choice; this guards other callers
        raise UsageError(f"unknown template {template!r}; choose one of {', '.join(TEMPLATES)}")
    name = name or _name_from(directory)
    if not STACK_NAME.fullmatch(name):
        raise UsageError(
            f"'{name}' cannot be a topology name: use a letter first, then letters, digits "
            "and hyphens (pass --name my-pipeline)"
        )
    files = _hello(name) if template == "hello" else _from_folder(TEMPLATE_FOLDER / template, name)
    files[SCHEMA_FILENAME] = schema_text()
    _check_target(directory, list(files), force=force)
    created = []
    try:
        for relative, text in files.items():
            path = directory / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            created.append(path)
    except OSError as exc:  # checked above: only a race or a full disk gets here
        raise OutputError(f"{exc.filename or directory}: cannot write the project: {exc}") from None
    return created


def _hello(name: str) -> dict[str, str]:
    return {
        "topology.yml": TOPOLOGY.format(name=name, modeline=modeline(SCHEMA_FILENAME)),
        "processors/hello_world.py": HELLO_WORLD,
        "processors/reverse.py": REVERSE,
        "input.json": INPUT,
        "tests/test_topology.py": TEST,
    }


def _from_folder(folder: Path, name: str) -> dict[str, str]:
    """A template folder's files, relative path -> text; its topology gets the project's
    name and the editor's schema line."""
    files = {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
    topology = files["topology.yml"].replace(TEMPLATE_NAME, name)
    files["topology.yml"] = f"{modeline(SCHEMA_FILENAME)}\n{topology}"
    return files


def _check_target(directory: Path, files: list[str], *, force: bool) -> None:
    """Refuse, before writing anything, a target that is a file, is not empty (unless
    ``force``), or where a project file cannot be written even with ``force``."""
    fix = "choose a new or empty folder"
    check_writable_folder(directory, "the project folder", fix)
    existing = [directory / f for f in files if (directory / f).exists()]
    if existing and not force:
        raise OutputError(
            f"{existing[0]} already exists; choose an empty folder or pass --force to overwrite"
        )
    if directory.is_dir() and not force:
        present = sorted(p.name for p in directory.iterdir())
        if present:
            shown = ", ".join(present[:3]) + (", ..." if len(present) > 3 else "")
            raise OutputError(
                f"{directory} is not empty (it holds {shown}); {fix}, or pass --force "
                "to add the project's files to it"
            )
    for relative in files:
        target = directory / relative
        blocking = [p for p in (target, *target.parents) if p.is_relative_to(directory)]
        for place in blocking:
            if place == target and place.is_dir():
                raise OutputError(f"{place} is a folder, where attak init writes a file; {fix}")
            if place != target and place.exists() and not place.is_dir():
                raise OutputError(f"{place} is a file, where attak init makes a folder; {fix}")


def _name_from(directory: Path) -> str:
    words = re.findall(r"[A-Za-z0-9]+", directory.resolve().name)
    name = "-".join(words).lower()
    return name if name[:1].isalpha() else f"attak-{name}" if name else "attak-pipeline"
