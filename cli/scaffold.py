"""``attak init``: writes a small, working project a user can simulate and test at once."""

from __future__ import annotations

import re
from pathlib import Path

from attak_cdk.errors import UsageError

TOPOLOGY = """\
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


def scaffold(directory: Path, *, name: str | None = None, force: bool = False) -> list[Path]:
    """Create the project files in ``directory``; refuse to overwrite unless ``force``."""
    name = name or _name_from(directory)
    if not re.match(r"^[A-Za-z][A-Za-z0-9-]{0,127}$", name):
        raise UsageError(
            f"'{name}' cannot be a topology name: use a letter first, then letters, digits "
            "and hyphens (pass --name my-pipeline)"
        )
    files = {
        "topology.yml": TOPOLOGY.format(name=name),
        "processors/hello_world.py": HELLO_WORLD,
        "processors/reverse.py": REVERSE,
        "input.json": INPUT,
        "tests/test_topology.py": TEST,
    }
    existing = [directory / f for f in files if (directory / f).exists()]
    if existing and not force:
        raise UsageError(
            f"{existing[0]} already exists; choose an empty folder or pass --force to overwrite"
        )
    created = []
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        created.append(path)
    return created


def _name_from(directory: Path) -> str:
    words = re.findall(r"[A-Za-z0-9]+", directory.resolve().name)
    name = "-".join(words).lower()
    return name if name[:1].isalpha() else f"attak-{name}" if name else "attak-pipeline"
